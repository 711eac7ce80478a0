use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::{store::Store, testing::*};

fn conflict(result: &Transformed) -> bool {
    matches!(result, Transformed::Conflict { .. })
}

#[test]
fn unrelated_paths_keep() {
    let mine = set(
        &format!("tokens/{}/position", tid(1)),
        json!({"x": 1.0, "y": 1.0}),
    );
    let theirs = set(
        &format!("tokens/{}/position", tid(2)),
        json!({"x": 2.0, "y": 2.0}),
    );
    assert_eq!(transform(&mine, &theirs), Transformed::Keep);
    // A string prefix is not a path prefix.
    let mine = set("tokens/a/name", json!("x"));
    let theirs = Change::delete(path("tokens/ab"));
    assert_eq!(transform(&mine, &theirs), Transformed::Keep);
}

#[test]
fn the_three_mergeable_pairs_keep() {
    let p = format!("tokens/{}/position", tid(1));
    assert_eq!(
        transform(&set(&p, json!(1)), &set(&p, json!(2))),
        Transformed::Keep
    );
    let hp = path(&format!("actors/{}/hp/current", aid(1)));
    assert_eq!(
        transform(
            &Change::increment(hp.clone(), 1),
            &Change::increment(hp, -3)
        ),
        Transformed::Keep
    );
    let log = path(&format!("encounters/{}/log", eid(1)));
    assert_eq!(
        transform(
            &Change::append(log.clone(), json!(1)),
            &Change::append(log, json!(2))
        ),
        Transformed::Keep
    );
}

#[test]
fn changes_under_a_deleted_entity_are_dropped() {
    let deleted = Change::delete(path(&format!("tokens/{}", tid(1))));
    for mine in [
        set(
            &format!("tokens/{}/position", tid(1)),
            json!({"x": 1.0, "y": 1.0}),
        ),
        Change::append(path(&format!("tokens/{}/conditions", tid(1))), "prone"),
        Change::delete(path(&format!("tokens/{}", tid(1)))),
        Change::merge(path(&format!("tokens/{}", tid(1))), json!({"name": "x"})),
    ] {
        assert_eq!(transform(&mine, &deleted), Transformed::Drop, "{mine:?}");
    }
    // Setting the deleted entity again would resurrect it: the GM decides.
    let recreate = set(&format!("tokens/{}", tid(1)), token_json(1, 1, 0.0, 0.0));
    assert!(conflict(&transform(&recreate, &deleted)));
}

#[test]
fn everything_else_goes_to_the_gm() {
    let token = format!("tokens/{}", tid(1));
    // Mine deletes what they changed.
    assert!(conflict(&transform(
        &Change::delete(path(&token)),
        &set(&format!("{token}/name"), json!("x"))
    )));
    // Set against increment.
    let x = path(&format!("{token}/position/x"));
    assert!(conflict(&transform(
        &Change::set(x.clone(), 3.0),
        &Change::increment(x.clone(), 1)
    )));
    // A write to a parent against a write to a child, both ways.
    let position = format!("{token}/position");
    assert!(conflict(&transform(
        &set(&position, json!({"x": 0, "y": 0})),
        &Change::set(x.clone(), 1.0)
    )));
    assert!(conflict(&transform(
        &Change::set(x, 1.0),
        &set(&position, json!({"x": 0, "y": 0}))
    )));
}

#[test]
fn merges_compare_field_by_field() {
    let token = format!("tokens/{}", tid(1));
    let theirs = Change::merge(path(&token), json!({"name": "Orc"}));
    assert_eq!(
        transform(&set(&format!("{token}/rotation"), json!(90.0)), &theirs),
        Transformed::Keep
    );
    assert_eq!(
        transform(&set(&format!("{token}/name"), json!("Elf")), &theirs),
        Transformed::Keep
    );
    let mine = Change::merge(path(&token), json!({"rotation": 45.0}));
    assert!(conflict(&transform(
        &mine,
        &Change::increment(path(&format!("{token}/rotation")), 5)
    )));
}

#[test]
fn rebase_sorts_each_change() {
    let token = format!("tokens/{}", tid(1));
    let mine = vec![
        set(&format!("{token}/name"), json!("kept")),
        set(&format!("tokens/{}/name", tid(2)), json!("dropped")),
        Change::increment(path(&format!("{token}/rotation")), 1),
    ];
    let theirs = [
        Change::delete(path(&format!("tokens/{}", tid(2)))),
        set(&format!("{token}/rotation"), json!(0.0)),
    ];
    let rebased = rebase(&mine, &theirs);
    assert_eq!(rebased.kept, vec![mine[0].clone(), mine[2].clone()]);
    assert_eq!(rebased.dropped, 1);
    assert_eq!(rebased.conflicts.len(), 1);
}

/// Applies `first` then `second` to a copy of `base`, if both apply.
fn both(base: &Store, first: &Change, second: &Change) -> Option<Store> {
    let mut store = base.clone();
    store.apply(first).ok()?;
    store.apply(second).ok()?;
    Some(store)
}

fn base_from(entropy: &[u64]) -> Store {
    let mut store = sample();
    for r in entropy {
        let _ = store.apply(&random_change(*r));
    }
    store
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Kept changes on unrelated paths commute: server order does not matter.
    #[test]
    fn unrelated_changes_commute(setup in prop::collection::vec(any::<u64>(), 0..40), a in any::<u64>(), b in any::<u64>()) {
        let base = base_from(&setup);
        let (mine, theirs) = (random_change(a), random_change(b));
        prop_assume!(!mine.path.conflicts_with(&theirs.path));
        prop_assert_eq!(transform(&mine, &theirs), Transformed::Keep);
        if let (Some(x), Some(y)) = (both(&base, &theirs, &mine), both(&base, &mine, &theirs)) {
            // Entity-level writes may still interact through references
            // (a token and its encounter); plain field writes never do.
            if mine.path.segments().len() > 2 && theirs.path.segments().len() > 2 {
                prop_assert_eq!(x, y);
            }
        }
    }

    /// Two increments on one path combine: both orders, and the sum.
    #[test]
    fn increments_combine(setup in prop::collection::vec(any::<u64>(), 0..20), a in -50i64..50, b in -50i64..50) {
        let base = base_from(&setup);
        let hp = path(&format!("actors/{}/hp/current", aid(1)));
        let (mine, theirs) = (Change::increment(hp.clone(), a), Change::increment(hp, b));
        prop_assert_eq!(transform(&mine, &theirs), Transformed::Keep);
        if let Some(start) = base.actor(aid(1)).map(|actor| actor.hp.unwrap().current) {
            let x = both(&base, &theirs, &mine).unwrap();
            let y = both(&base, &mine, &theirs).unwrap();
            prop_assert_eq!(x.actor(aid(1)).unwrap().hp.unwrap().current, start + a + b);
            prop_assert_eq!(x, y);
        }
    }

    /// Set after set: the later in server order wins.
    #[test]
    fn later_set_wins(x1 in -1e4f64..1e4, x2 in -1e4f64..1e4) {
        let base = sample();
        let p = format!("tokens/{}/position/x", tid(1));
        let (mine, theirs) = (set(&p, json!(x1)), set(&p, json!(x2)));
        prop_assert_eq!(transform(&mine, &theirs), Transformed::Keep);
        let after = both(&base, &theirs, &mine).unwrap();
        prop_assert_eq!(after.token(tid(1)).unwrap().position.x, x1);
    }

    /// Append after append keeps both, in server order.
    #[test]
    fn appends_keep_both_in_server_order(a in "[a-z]{1,8}", b in "[a-z]{1,8}") {
        let base = sample();
        let log = path(&format!("encounters/{}/log", eid(1)));
        let line = |text: &str| json!({"kind": "chat", "text": text});
        let (mine, theirs) = (Change::append(log.clone(), line(&a)), Change::append(log, line(&b)));
        prop_assert_eq!(transform(&mine, &theirs), Transformed::Keep);
        let after = both(&base, &theirs, &mine).unwrap();
        let texts: Vec<&str> = after.encounter(eid(1)).unwrap().log.iter().map(|l| l.text.as_str()).collect();
        prop_assert_eq!(texts, vec![b.as_str(), a.as_str()]);
    }

    /// Whatever is dropped could not have applied after the delete anyway.
    #[test]
    fn dropped_changes_had_no_target(setup in prop::collection::vec(any::<u64>(), 0..40), a in any::<u64>(), b in any::<u64>()) {
        let base = base_from(&setup);
        let (mine, theirs) = (random_change(a), random_change(b));
        if transform(&mine, &theirs) == Transformed::Drop {
            let mut store = base.clone();
            if store.apply(&theirs).is_ok() {
                prop_assert!(store.apply(&mine).is_err(), "{:?} still applied after {:?}", mine, theirs);
            }
        }
    }
}
