use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::{
    authority::Authority,
    change::Change,
    rules::Role,
    testing::{self, *},
};

fn player() -> Participant {
    Participant {
        user: testing::player(),
        role: Role::Player,
    }
}

fn gm() -> Participant {
    Participant {
        user: UserId(uuid::Uuid::from_u128(1)),
        role: Role::Gm,
    }
}

/// One of the changes that move things into and out of a player's sight:
/// tokens hidden, shown, moved under and out of the fog, the fog turned
/// on and off and lifted, hit points and who reads them.
fn sight_change(r: u64) -> Change {
    let token = u128::from((r >> 8) % 5 + 1);
    let cell = |shift: u32| ((r >> shift) % 6) as i64;
    match r % 8 {
        0 => set(
            &format!("tokens/{}/visibility", tid(token)),
            json!("hidden"),
        ),
        1 => set(
            &format!("tokens/{}/visibility", tid(token)),
            json!("visible"),
        ),
        2 => set(
            &format!("tokens/{}/visibility", tid(token)),
            json!("gm_only"),
        ),
        3 => set(
            &format!("tokens/{}/position", tid(token)),
            json!({"x": cell(16) as f64 * 50.0, "y": cell(24) as f64 * 50.0}),
        ),
        4 => set(
            &format!("encounters/{}/fog/enabled", eid(1)),
            json!(r >> 16 & 1 == 1),
        ),
        5 => Change::append(
            path(&format!("encounters/{}/fog/revealed", eid(1))),
            json!([[cell(16), cell(24)]]),
        ),
        6 => Change::increment(
            path(&format!(
                "actors/{}/hp/current",
                aid(if r >> 16 & 1 == 1 { 1 } else { 2 })
            )),
            -1,
        ),
        _ => set(
            &format!("tokens/{}/hp_shown", tid(token)),
            json!(["everyone", "owner", "gm"][((r >> 16) % 3) as usize]),
        ),
    }
}

/// Commits `changes` one per version on `authority`.
fn history(authority: &mut Authority, changes: Vec<Change>) -> Vec<Commit> {
    changes
        .into_iter()
        .filter_map(|change| authority.commit(None, vec![change]).ok().map(|(c, _)| c))
        .collect()
}

#[test]
fn a_replay_refuses_a_log_with_a_gap() {
    let start = testing::table().entities().clone();
    let mut authority = Authority::new(testing::table(), 0);
    let mut commits = history(&mut authority, (0..3).map(sight_change).collect());
    commits.remove(1);
    let error = as_seen_by(&gm(), start, commits).unwrap_err();
    assert!(matches!(
        error,
        crate::Error::VersionGap {
            expected: 2,
            got: 3
        }
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// At every version, the player's replay (the start and the commits
    /// as filtered for them, applied in order) is exactly the state the
    /// live filter gives them at that version, and a token they see
    /// neither before nor after a commit is not named in that commit's
    /// bytes. The GM's replay is the whole state.
    #[test]
    fn a_replay_shows_each_reader_what_they_saw_at_every_version(
        seeds in prop::collection::vec(any::<u64>(), 1..40)
    ) {
        let start = testing::table();
        let mut authority = Authority::new(start.clone(), 0);
        let mut states = vec![start.clone()];
        let mut commits = Vec::new();
        for seed in seeds {
            if let Ok((commit, _)) = authority.commit(None, vec![sight_change(seed)]) {
                commits.push(commit);
                states.push(authority.store().clone());
            }
        }
        let (first, seen) = as_seen_by(&player(), start.entities().clone(), commits.clone()).unwrap();
        let mut mine = Store::from_entities(first).unwrap();
        prop_assert_eq!(mine.entities(), &entities_for(&player(), &states[0]));
        for (at, commit) in seen.iter().enumerate() {
            let unseen: Vec<String> = (1..=5)
                .map(tid)
                .filter(|t| {
                    !crate::sight::token_seen(&states[at], testing::player(), *t)
                        && !crate::sight::token_seen(&states[at + 1], testing::player(), *t)
                })
                .map(|t| t.to_string())
                .collect();
            let bytes = serde_json::to_string(commit).unwrap();
            for token in &unseen {
                prop_assert!(!bytes.contains(token.as_str()), "{token} in {bytes}");
            }
            mine.apply_all(&commit.changes).unwrap();
            prop_assert_eq!(mine.entities(), &entities_for(&player(), &states[at + 1]));
        }
        let (whole, all) = as_seen_by(&gm(), start.entities().clone(), commits.clone()).unwrap();
        prop_assert_eq!(&whole, start.entities());
        prop_assert_eq!(all, commits);
    }
}
