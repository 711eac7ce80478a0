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
            if path.is_dir() {
                // Another target's findings (`regressions/visibility/`).
                continue;
            }
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

/// The visibility target's findings, if any, and a few thousand rooms
/// from a fixed sequence of bytes: every vertex in the room and seen from
/// the eye, and an eye clear of the walls sees a polygon.
#[test]
fn visibility_regressions_and_generated_rooms_hold() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions/visibility");
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| shared::check::visibility(&data));
            assert!(outcome.is_ok(), "{} breaks an invariant", path.display());
        }
    }
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut byte = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 24) as u8
    };
    for n in 0..3_000 {
        // From an empty room to 40 walls; every third room snaps its
        // coordinates to a 32 px grid, where ends meet and walls cross
        // at their ends.
        let len = 2 + 4 * (n % 41);
        let data: Vec<u8> = (0..len)
            .map(|_| if n % 3 == 0 { byte() & !7 } else { byte() })
            .collect();
        let outcome = std::panic::catch_unwind(|| shared::check::visibility(&data));
        assert!(outcome.is_ok(), "room {n} ({data:?}) breaks an invariant");
    }
}
