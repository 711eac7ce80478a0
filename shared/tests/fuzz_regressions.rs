//! Replays every input the fuzzer ever flagged, plus the seed corpus,
//! through the fuzz target's checks.

use std::path::Path;

#[test]
fn fuzz_regressions_and_seeds_hold() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut replayed = 0;
    for dir in ["regressions", "seeds"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            if dir == "seeds" {
                // Seeds are valid frames, so the checks past decoding run.
                assert!(
                    shared::protocol::ClientMessage::decode(&data).is_ok(),
                    "{} does not decode",
                    path.display()
                );
            }
            let outcome = std::panic::catch_unwind(|| shared::check::decode_validate_apply(&data));
            assert!(outcome.is_ok(), "{} breaks an invariant", path.display());
            replayed += 1;
        }
    }
    assert!(replayed > 0, "no seeds found under {}", root.display());
}
