//! The unit tests of the store, one module's worth: longer than 500 lines
//! because they are every case of one state machine, grouped by section.

use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::id::EntityKind;
use crate::{geometry::Point, limits, testing::*, token::Visibility};

#[track_caller]
fn assert_refused(store: &mut Store, change: Change, check: impl Fn(&Error) -> bool) {
    let before = store.clone();
    let error = store.apply(&change).unwrap_err();
    assert!(check(&error), "unexpected error for {change:?}: {error:?}");
    assert_eq!(
        *store, before,
        "a refused change must leave the store untouched"
    );
}

#[test]
fn setting_a_position_moves_the_token_in_every_index() {
    let mut store = sample();
    let viewport = Rect::from_origin(Point::new(400.0, 400.0), 200.0, 200.0);
    assert_eq!(store.tokens_in_rect(eid(1), &viewport), vec![tid(2)]);
    store
        .apply(&set(
            &format!("tokens/{}/position", tid(1)),
            json!({"x": 450.0, "y": 450.0}),
        ))
        .unwrap();
    let mut found = store.tokens_in_rect(eid(1), &viewport);
    found.sort();
    assert_eq!(found, vec![tid(1), tid(2)]);
    assert_eq!(
        store.token(tid(1)).unwrap().position,
        Point::new(450.0, 450.0)
    );
    assert!(store.indices_are_consistent());
}

#[test]
fn undo_restores_the_state_exactly() {
    let mut store = sample();
    let before = exact(&store);
    let changes = [
        Change::increment(
            path(&format!("tokens/{}/position/x", tid(1))),
            serde_json::Number::from_f64(0.1).unwrap(),
        ),
        Change::increment(path(&format!("actors/{}/hp/current", aid(1))), -8),
        Change::append(path(&format!("tokens/{}/conditions", tid(1))), "prone"),
        Change::merge(
            path(&format!("tokens/{}", tid(2))),
            json!({"name": "Renamed", "rotation": 90.0}),
        ),
        Change::append(
            path(&format!("encounters/{}/log", eid(1))),
            json!({"kind": "chat", "text": "hi"}),
        ),
        Change::append(
            path(&format!("encounters/{}/fog/revealed", eid(1))),
            json!([[1, 2], [3, 4]]),
        ),
        Change::delete(path(&format!("tokens/{}", tid(3)))),
        set(&format!("encounters/{}/map/grid_size", eid(1)), json!(70.0)),
    ];
    let undo = store.apply_all(&changes).unwrap();
    assert_ne!(exact(&store), before);
    store.undo(undo);
    assert_eq!(exact(&store), before);
    assert_eq!(store, sample());
}

#[test]
fn numbers_increment_and_refuse_overflow() {
    let mut store = sample();
    store
        .apply(&Change::increment(
            path(&format!("actors/{}/hp/current", aid(1))),
            -15,
        ))
        .unwrap();
    assert_eq!(store.actor(aid(1)).unwrap().hp.unwrap().current, -5);
    store
        .apply(&set(
            &format!("actors/{}/stats/ac", aid(1)),
            json!(i64::MAX),
        ))
        .unwrap();
    assert_refused(
        &mut store,
        Change::increment(path(&format!("actors/{}/stats/ac", aid(1))), 1),
        |e| matches!(e, Error::InvalidChange { .. }),
    );
    // A fractional increment on a whole-number field.
    assert_refused(
        &mut store,
        Change::increment(
            path(&format!("actors/{}/hp/max", aid(1))),
            serde_json::Number::from_f64(0.5).unwrap(),
        ),
        |e| matches!(e, Error::InvalidChange { .. }),
    );
    // Speed cannot go negative.
    assert_refused(
        &mut store,
        Change::increment(path(&format!("actors/{}/speed", aid(1))), -31),
        |e| matches!(e, Error::InvalidChange { .. }),
    );
    // Floats stay finite, and within the map's bounds.
    assert_refused(
        &mut store,
        Change::increment(
            path(&format!("tokens/{}/position/x", tid(1))),
            serde_json::Number::from_f64(f64::MAX).unwrap(),
        ),
        |e| matches!(e, Error::OutOfRange { .. }),
    );
}

#[test]
fn bad_paths_are_refused() {
    let mut store = sample();
    for bad in [
        "tokens".to_owned(),
        format!("dragons/{}", tid(1)),
        "tokens/not-a-uuid/position".to_owned(),
        format!("tokens/{}/wings", tid(1)),
        format!("tokens/{}/position/z", tid(1)),
        format!("actors/{}/hp/current/extra", aid(1)),
        format!("encounters/{}/fog/revealed/nope", eid(1)),
    ] {
        let op = if bad.ends_with("nope") {
            Change::delete(path(&bad))
        } else {
            set(&bad, json!(1))
        };
        assert_refused(&mut store, op, |e| matches!(e, Error::BadPath { .. }));
    }
}

#[test]
fn unknown_entities_are_refused() {
    let mut store = sample();
    assert_refused(
        &mut store,
        set(&format!("tokens/{}/position/x", tid(99)), json!(1.0)),
        |e| {
            matches!(
                e,
                Error::UnknownEntity {
                    kind: EntityKind::Token,
                    ..
                }
            )
        },
    );
    assert_refused(
        &mut store,
        Change::delete(path(&format!("actors/{}", aid(99)))),
        |e| {
            matches!(
                e,
                Error::UnknownEntity {
                    kind: EntityKind::Actor,
                    ..
                }
            )
        },
    );
    assert_refused(
        &mut store,
        Change::merge(path(&format!("items/{}", iid(1))), json!({"name": "x"})),
        |e| {
            matches!(
                e,
                Error::UnknownEntity {
                    kind: EntityKind::Item,
                    ..
                }
            )
        },
    );
}

#[test]
fn wrong_types_and_unsupported_operations_are_refused() {
    let mut store = sample();
    assert_refused(
        &mut store,
        set(&format!("tokens/{}/position", tid(1)), json!("north")),
        |e| matches!(e, Error::WrongType { .. }),
    );
    assert_refused(
        &mut store,
        set(&format!("tokens/{}/visibility", tid(1)), json!("invisible")),
        |e| matches!(e, Error::WrongType { .. }),
    );
    assert_refused(
        &mut store,
        Change::increment(path(&format!("tokens/{}/name", tid(1))), 1),
        |e| matches!(e, Error::UnsupportedOperation { op, .. } if op == "increment"),
    );
    assert_refused(
        &mut store,
        Change::append(path(&format!("tokens/{}/rotation", tid(1))), 1),
        |e| matches!(e, Error::UnsupportedOperation { op, .. } if op == "append"),
    );
    assert_refused(
        &mut store,
        Change::merge(path(&format!("tokens/{}", tid(1))), json!([1])),
        |e| matches!(e, Error::WrongType { .. }),
    );
    assert_refused(
        &mut store,
        set(&format!("tokens/{}/name", tid(1)), json!("   ")),
        |e| matches!(e, Error::InvalidChange { .. }),
    );
}

#[test]
fn references_and_ids_are_checked() {
    let mut store = sample();
    // A token on an encounter that does not exist.
    assert_refused(
        &mut store,
        set(&format!("tokens/{}", tid(9)), token_json(9, 7, 0.0, 0.0)),
        |e| matches!(e, Error::InvalidChange { .. }),
    );
    assert_refused(
        &mut store,
        set(&format!("tokens/{}/encounter", tid(1)), json!(eid(7))),
        |e| matches!(e, Error::InvalidChange { .. }),
    );
    // The id inside the value must be the id in the path.
    assert_refused(
        &mut store,
        set(&format!("tokens/{}", tid(9)), token_json(8, 1, 0.0, 0.0)),
        |e| matches!(e, Error::InvalidChange { .. }),
    );
    // An encounter with tokens cannot be deleted.
    assert_refused(
        &mut store,
        Change::delete(path(&format!("encounters/{}", eid(1)))),
        |e| matches!(e, Error::InvalidChange { .. }),
    );
    // A merge that fails half-way changes nothing.
    assert_refused(
        &mut store,
        Change::merge(
            path(&format!("tokens/{}", tid(1))),
            json!({"name": "Ok", "scale": -1.0}),
        ),
        |e| matches!(e, Error::InvalidChange { .. }),
    );
}

#[test]
fn moving_a_token_between_encounters_updates_both_indices() {
    let mut store = sample();
    store
        .apply(&set(&format!("tokens/{}/encounter", tid(1)), json!(eid(2))))
        .unwrap();
    assert_eq!(
        store.tokens_in(eid(1)).map(|t| t.id).collect::<Vec<_>>(),
        vec![tid(2)]
    );
    assert_eq!(store.tokens_in(eid(2)).count(), 2);
    let everywhere = Rect::from_origin(Point::new(-1e6, -1e6), 2e6, 2e6);
    assert_eq!(store.tokens_in_rect(eid(1), &everywhere), vec![tid(2)]);
    assert!(store.indices_are_consistent());
}

#[test]
fn batch_is_all_or_nothing() {
    let mut store = sample();
    let before = store.clone();
    let error = store
        .apply_all(&[
            set(&format!("tokens/{}/name", tid(1)), json!("First")),
            Change::delete(path(&format!("actors/{}", aid(1)))),
            set(&format!("tokens/{}/position", tid(2)), json!(null)),
        ])
        .unwrap_err();
    assert!(matches!(error, Error::WrongType { .. }));
    assert_eq!(store, before);
}

#[test]
fn sets_lists_and_fog() {
    let mut store = sample();
    let conditions = format!("tokens/{}/conditions", tid(1));
    store
        .apply(&Change::append(path(&conditions), "prone"))
        .unwrap();
    // Appending a member already there changes nothing and undoes to nothing.
    assert!(
        store
            .apply(&Change::append(path(&conditions), "prone"))
            .unwrap()
            .is_empty()
    );
    store
        .apply(&Change::delete(path(&format!("{conditions}/prone"))))
        .unwrap();
    assert_refused(
        &mut store,
        Change::delete(path(&format!("{conditions}/prone"))),
        |e| matches!(e, Error::InvalidChange { .. }),
    );

    let order = format!("encounters/{}/initiative/order", eid(1));
    store
        .apply(&Change::append(path(&order), json!(tid(1))))
        .unwrap();
    store
        .apply(&Change::append(path(&order), json!(tid(2))))
        .unwrap();
    let undo = store
        .apply(&Change::delete(path(&format!("{order}/0"))))
        .unwrap();
    assert_eq!(
        store.encounter(eid(1)).unwrap().initiative.order,
        vec![tid(2)]
    );
    store.undo(undo);
    assert_eq!(
        store.encounter(eid(1)).unwrap().initiative.order,
        vec![tid(1), tid(2)]
    );
    assert_refused(
        &mut store,
        Change::delete(path(&format!("{order}/5"))),
        |e| matches!(e, Error::InvalidChange { .. }),
    );

    let fog = format!("encounters/{}/fog/revealed", eid(1));
    let undo = store
        .apply(&Change::append(path(&fog), json!([[0, 0], [0, 1]])))
        .unwrap();
    assert_eq!(store.encounter(eid(1)).unwrap().fog.revealed.len(), 2);
    store
        .apply(&Change::delete(path(&format!("{fog}/0,1"))))
        .unwrap();
    assert_eq!(store.encounter(eid(1)).unwrap().fog.revealed.len(), 1);
    assert_refused(
        &mut store,
        Change::append(path(&fog), json!([[0, "x"]])),
        |e| matches!(e, Error::WrongType { .. }),
    );
    drop(undo);
}

#[test]
fn effects_are_indexed_by_target_and_count_down() {
    let mut store = sample();
    let effect =
        json!({"id": fid(1), "name": "Bless", "targets": [tid(1), tid(2)], "remaining_rounds": 1});
    store
        .apply(&set(&format!("effects/{}", fid(1)), effect))
        .unwrap();
    assert_eq!(store.effects_on(tid(2)).count(), 1);
    store
        .apply(&Change::delete(path(&format!(
            "effects/{}/targets/{}",
            fid(1),
            tid(2)
        ))))
        .unwrap();
    assert_eq!(store.effects_on(tid(2)).count(), 0);
    store
        .apply(&Change::increment(
            path(&format!("effects/{}/remaining_rounds", fid(1))),
            -1,
        ))
        .unwrap();
    assert_refused(
        &mut store,
        Change::increment(path(&format!("effects/{}/remaining_rounds", fid(1))), -1),
        |e| matches!(e, Error::InvalidChange { .. }),
    );
    assert!(store.indices_are_consistent());
}

#[test]
fn actors_are_indexed_by_kind_and_items_by_owner() {
    let mut store = sample();
    assert_eq!(
        store
            .actors_of_kind(ActorKind::Monster)
            .map(|a| a.id)
            .collect::<Vec<_>>(),
        vec![aid(2)]
    );
    store
        .apply(&set(&format!("actors/{}/kind", aid(1)), json!("monster")))
        .unwrap();
    assert_eq!(store.actors_of_kind(ActorKind::Monster).count(), 2);
    assert_eq!(store.actors_of_kind(ActorKind::Character).count(), 0);
    store
        .apply(&set(
            &format!("items/{}", iid(1)),
            json!({"id": iid(1), "name": "Rope", "owner": aid(1)}),
        ))
        .unwrap();
    assert_eq!(
        store
            .items_of(aid(1))
            .map(|i| i.name.as_str())
            .collect::<Vec<_>>(),
        vec!["Rope"]
    );
    store
        .apply(&set(&format!("items/{}/owner", iid(1)), json!(aid(2))))
        .unwrap();
    assert_eq!(store.items_of(aid(1)).count(), 0);
    assert_eq!(store.items_of(aid(2)).count(), 1);
    assert!(store.indices_are_consistent());
}

#[test]
fn snapshots_round_trip_and_are_validated() {
    let store = sample();
    let json = serde_json::to_string(store.entities()).unwrap();
    let restored = Store::from_entities(serde_json::from_str(&json).unwrap()).unwrap();
    assert_eq!(restored, store);
    let mut broken = store.entities().clone();
    broken.encounters.remove(&eid(2));
    assert!(Store::from_entities(broken).is_err());
}

#[test]
fn changing_the_grid_rebuilds_the_spatial_index() {
    let mut store = sample();
    // Token 2 sits at (500, 500); with 50 px cells it covers up to 550.
    let probe = Rect::from_origin(Point::new(560.0, 560.0), 10.0, 10.0);
    assert!(store.tokens_in_rect(eid(1), &probe).is_empty());
    store
        .apply(&set(
            &format!("encounters/{}/map/grid_size", eid(1)),
            json!(100.0),
        ))
        .unwrap();
    assert_eq!(store.tokens_in_rect(eid(1), &probe), vec![tid(2)]);
    assert!(store.indices_are_consistent());
}

#[test]
fn visibility_is_a_closed_set() {
    let mut store = sample();
    store
        .apply(&set(
            &format!("tokens/{}/visibility", tid(1)),
            json!("gm_only"),
        ))
        .unwrap();
    assert_eq!(store.token(tid(1)).unwrap().visibility, Visibility::GmOnly);
}

// ---------------------------------------------------------------------------
// Properties over random writes.

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// After any sequence of writes, accepted or refused, the indices equal
    /// a rebuild; a refused write changes nothing; an accepted write undoes
    /// to the exact prior state (bit for bit, through its serialization).
    #[test]
    fn writes_keep_indices_exact_and_undo_exactly(entropy in proptest::collection::vec(any::<u64>(), 1..120)) {
        let mut store = Store::new();
        for r in entropy {
            let change = random_change(r);
            let before = store.clone();
            let before_exact = exact(&store);
            match store.apply(&change) {
                Ok(undo) => {
                    let after = store.clone();
                    store.undo(undo);
                    prop_assert_eq!(exact(&store), before_exact.clone());
                    prop_assert_eq!(&store, &before);
                    // Re-applying lands on the same state again.
                    store.apply(&change).unwrap();
                    prop_assert_eq!(&store, &after);
                }
                Err(_) => prop_assert_eq!(&store, &before),
            }
            prop_assert!(store.indices_are_consistent(), "indices diverged after {:?}", change);
        }
    }

    /// A batch applies whole or not at all.
    #[test]
    fn batches_are_atomic(entropy in proptest::collection::vec(any::<u64>(), 1..60), split in 0usize..60) {
        let mut store = Store::new();
        let changes: Vec<Change> = entropy.iter().copied().map(random_change).collect();
        let (setup, batch) = changes.split_at(split.min(changes.len()));
        for change in setup {
            let _ = store.apply(change);
        }
        let before = store.clone();
        match store.apply_all(batch) {
            Ok(undo) => {
                store.undo(undo);
                prop_assert_eq!(&store, &before);
            }
            Err(_) => prop_assert_eq!(&store, &before),
        }
        prop_assert!(store.indices_are_consistent());
    }
}

/// A store as a live session holds it: loaded from a snapshot.
fn live() -> Store {
    Store::from_entities(sample().entities().clone()).unwrap()
}

#[test]
fn a_live_store_keeps_its_encounters() {
    let mut store = live();
    // Another encounter (of this campaign or any other) cannot be made or
    // named, so no token can be put on one.
    assert_refused(
        &mut store,
        set(&format!("encounters/{}", eid(9)), encounter_json(9)),
        |e| matches!(e, Error::InvalidChange { reason, .. } if reason.contains("cannot add encounters")),
    );
    assert_refused(
        &mut store,
        set(&format!("tokens/{}", tid(9)), token_json(9, 9, 0.0, 0.0)),
        |e| matches!(e, Error::InvalidChange { reason, .. } if reason.contains("encounter does not exist")),
    );
    let tokens: Vec<TokenId> = store.tokens_in(eid(1)).map(|t| t.id).collect();
    for token in tokens {
        store
            .apply(&Change::delete(path(&format!("tokens/{token}"))))
            .unwrap();
    }
    assert_refused(
        &mut store,
        Change::delete(path(&format!("encounters/{}", eid(1)))),
        |e| matches!(e, Error::InvalidChange { reason, .. } if reason.contains("cannot delete")),
    );
    // A store built change by change (the editor's) may still add them.
    let mut built = sample();
    built
        .apply(&set(&format!("encounters/{}", eid(9)), encounter_json(9)))
        .unwrap();
}

#[test]
fn live_edits_obey_the_field_limits_at_the_limit_and_past_it() {
    let mut store = live();
    let token = |field: &str| format!("tokens/{}/{field}", tid(1));
    // At each limit: accepted.
    for (field, value) in [
        ("scale", json!(limits::MAX_SCALE)),
        ("scale", json!(limits::MIN_SCALE)),
        ("rotation", json!(-limits::MAX_ROTATION)),
        ("name", json!("n".repeat(limits::MAX_NAME_CHARS))),
        (
            "position",
            json!({"x": limits::MAX_COORDINATE, "y": -limits::MAX_COORDINATE}),
        ),
    ] {
        store.apply(&set(&token(field), value)).unwrap();
    }
    // One past: refused, naming the limit, and nothing changes.
    for (field, value) in [
        ("scale", json!(2000.0)),
        ("scale", json!(0.05)),
        ("rotation", json!(limits::MAX_ROTATION + 1.0)),
        (
            "position",
            json!({"x": limits::MAX_COORDINATE + 1.0, "y": 0.0}),
        ),
    ] {
        assert_refused(&mut store, set(&token(field), value), |e| {
            matches!(e, Error::OutOfRange { .. })
        });
    }
    assert_refused(
        &mut store,
        set(
            &token("name"),
            json!("n".repeat(limits::MAX_NAME_CHARS + 1)),
        ),
        |e| e.to_string() == "a token's name (characters) can have at most 100",
    );
    assert_refused(
        &mut store,
        Change::increment(path(&token("scale")), 99),
        |e| matches!(e, Error::OutOfRange { .. }),
    );
    assert_refused(
        &mut store,
        set(
            &format!("actors/{}/name", aid(1)),
            json!("x".repeat(1_500_000)),
        ),
        |e| matches!(e, Error::OverLimit { .. }),
    );
    assert_refused(
        &mut store,
        set(&format!("actors/{}/name", aid(1)), json!("a\u{0}b")),
        |e| matches!(e, Error::UnstorableText { .. }),
    );
    for n in 0..limits::MAX_CONDITIONS {
        store
            .apply(&Change::append(
                path(&token("conditions")),
                json!(format!("c{n}")),
            ))
            .unwrap();
    }
    assert_refused(
        &mut store,
        Change::append(path(&token("conditions")), json!("one too many")),
        |e| matches!(e, Error::OverLimit { max, .. } if *max == limits::MAX_CONDITIONS),
    );
    assert!(store.indices_are_consistent());
}

#[test]
fn an_encounters_tokens_are_counted() {
    let mut store = live();
    let on_map = store.tokens_in(eid(1)).count();
    let mut n = 1_000u128;
    for _ in on_map..limits::MAX_TOKENS_PER_ENCOUNTER {
        store
            .apply(&set(
                &format!("tokens/{}", tid(n)),
                token_json(n, 1, 0.0, 0.0),
            ))
            .unwrap();
        n += 1;
    }
    assert_refused(
        &mut store,
        set(&format!("tokens/{}", tid(n)), token_json(n, 1, 0.0, 0.0)),
        |e| matches!(e, Error::OverLimit { max, .. } if *max == limits::MAX_TOKENS_PER_ENCOUNTER),
    );
    // Replacing one that exists is not growth.
    store
        .apply(&set(
            &format!("tokens/{}", tid(1000)),
            token_json(1000, 1, 5.0, 5.0),
        ))
        .unwrap();
}

#[test]
fn the_log_keeps_its_newest_lines_and_undo_restores_the_oldest() {
    let mut store = live();
    let log = path(&format!("encounters/{}/log", eid(1)));
    let line = |n: usize| json!({"kind": "chat", "text": format!("line {n}")});
    for n in 0..limits::MAX_LOG_LINES {
        store.apply(&Change::append(log.clone(), line(n))).unwrap();
    }
    let full = store.clone();
    let undo = store
        .apply(&Change::append(log.clone(), line(limits::MAX_LOG_LINES)))
        .unwrap();
    let lines = &store.encounter(eid(1)).unwrap().log;
    assert_eq!(lines.len(), limits::MAX_LOG_LINES);
    assert_eq!(lines[0].text, "line 1");
    assert_eq!(lines[limits::MAX_LOG_LINES - 1].text, "line 200");
    store.undo(undo);
    assert_eq!(store, full);
    assert_refused(
        &mut store,
        Change::append(
            log.clone(),
            json!({"kind": "chat", "text": "x".repeat(limits::MAX_LOG_LINE_CHARS + 1)}),
        ),
        |e| matches!(e, Error::OverLimit { .. }),
    );
}
