//! Replays every input the fuzzer ever flagged, plus the seed corpus,
//! through the fuzz target's checks. `regressions/` holds what
//! `scripts/fuzz.sh` flagged (it copies each finding there) and the hostile
//! inputs written by hand: infinities, integers past every width, paths that
//! climb or are empty, nesting 5,000 deep, invalid UTF-8, a token touched
//! after its deletion.

use std::path::Path;

#[test]
fn fuzz_regressions_and_seeds_hold() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut replayed = [0, 0];
    for (n, dir) in ["regressions", "seeds"].into_iter().enumerate() {
        let entries = std::fs::read_dir(root.join(dir)).unwrap_or_else(|error| {
            panic!("{dir}: {error} (the folder is kept in the repository)")
        });
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
            replayed[n] += 1;
        }
    }
    assert!(
        replayed.iter().all(|&count| count > 0),
        "regressions and seeds replayed: {replayed:?} under {}",
        root.display()
    );
}
