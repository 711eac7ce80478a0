use std::collections::VecDeque;

use proptest::prelude::*;
use serde_json::json;
use uuid::Uuid;

use super::*;
use crate::{authority::Authority, testing::*};

fn action(n: u128) -> ActionId {
    ActionId(Uuid::from_u128(0xAC00 + n))
}

fn moved(token: u128, x: f64) -> Vec<Change> {
    vec![set(
        &format!("tokens/{}/position", tid(token)),
        json!({"x": x, "y": 0.0}),
    )]
}

fn commit(version: Version, action: Option<ActionId>, changes: Vec<Change>) -> Commit {
    Commit {
        version,
        action,
        changes,
    }
}

#[test]
fn a_proposal_shows_at_once_and_its_commit_confirms_it() {
    let mut client = Optimistic::new(sample(), 3);
    client.propose(action(1), moved(1, 100.0)).unwrap();
    assert_eq!(client.view().token(tid(1)).unwrap().position.x, 100.0);
    assert_eq!(client.confirmed(), sample());

    // The GM modified the move; the commit's changes win over my guess.
    let outcome = client
        .commit(&commit(4, Some(action(1)), moved(1, 80.0)))
        .unwrap();
    assert_eq!(outcome.confirmed, Some(action(1)));
    assert!(client.pending().is_empty());
    assert_eq!(client.view().token(tid(1)).unwrap().position.x, 80.0);
    assert_eq!(client.version(), 4);
}

#[test]
fn a_rejection_rolls_back_exactly_and_keeps_later_actions() {
    let mut client = Optimistic::new(sample(), 0);
    let before = exact(client.view());
    client.propose(action(1), moved(1, 100.0)).unwrap();
    client.propose(action(2), moved(2, 7.0)).unwrap();
    client.reject(action(1)).unwrap();
    assert_eq!(client.view().token(tid(1)).unwrap().position.x, 0.0);
    assert_eq!(client.view().token(tid(2)).unwrap().position.x, 7.0);
    client.reject(action(2)).unwrap();
    assert_eq!(exact(client.view()), before);
    assert!(matches!(
        client.reject(action(2)),
        Err(Error::UnknownAction(_))
    ));
}

#[test]
fn foreign_commits_apply_underneath_my_pending_actions() {
    let mut client = Optimistic::new(sample(), 0);
    client.propose(action(1), moved(1, 100.0)).unwrap();
    // Someone else renames my token and moves another.
    let theirs = vec![
        set(&format!("tokens/{}/name", tid(1)), json!("Renamed")),
        moved(2, 9.0).remove(0),
    ];
    let outcome = client.commit(&commit(1, Some(action(9)), theirs)).unwrap();
    assert_eq!(outcome, CommitOutcome::default());
    let token = client.view().token(tid(1)).unwrap();
    assert_eq!((token.name.as_str(), token.position.x), ("Renamed", 100.0));
    assert_eq!(client.confirmed().token(tid(1)).unwrap().position.x, 0.0);
    assert_eq!(client.pending()[0].status, PendingStatus::Shown);
}

#[test]
fn deletions_drop_and_overlaps_conflict() {
    let mut client = Optimistic::new(sample(), 0);
    client.propose(action(1), moved(3, 50.0)).unwrap();
    client
        .propose(
            action(2),
            vec![Change::increment(
                path(&format!("tokens/{}/position/x", tid(1))),
                5,
            )],
        )
        .unwrap();
    let theirs = vec![
        Change::delete(path(&format!("tokens/{}", tid(3)))),
        set(&format!("tokens/{}/position/x", tid(1)), json!(40.0)),
    ];
    let outcome = client.commit(&commit(1, None, theirs)).unwrap();
    // The move of the deleted token dropped out; the increment overlaps a
    // set, so the GM decides, but it is still shown.
    assert_eq!(
        outcome.disturbed,
        vec![(action(2), PendingStatus::Conflicted)]
    );
    assert!(client.pending()[0].changes.is_empty());
    assert_eq!(client.view().token(tid(1)).unwrap().position.x, 45.0);
}

#[test]
fn an_action_that_no_longer_applies_is_hidden() {
    let mut client = Optimistic::new(sample(), 0);
    let speed = path(&format!("actors/{}/speed", aid(1)));
    client
        .propose(action(1), vec![Change::increment(speed.clone(), -30)])
        .unwrap();
    assert_eq!(client.view().actor(aid(1)).unwrap().speed, 0);
    // The GM sets the speed to 10: my -30 would now go below zero.
    let outcome = client
        .commit(&commit(1, None, vec![Change::set(speed, 10)]))
        .unwrap();
    assert_eq!(
        outcome.disturbed,
        vec![(action(1), PendingStatus::Invalidated)]
    );
    assert_eq!(client.view().actor(aid(1)).unwrap().speed, 10);
    // Its rejection then changes nothing further.
    client.reject(action(1)).unwrap();
    assert_eq!(client.view(), &client.confirmed());
}

#[test]
fn gaps_and_duplicates() {
    let mut client = Optimistic::new(sample(), 5);
    assert_eq!(
        client.commit(&commit(7, None, vec![])),
        Err(Error::VersionGap {
            expected: 6,
            got: 7
        })
    );
    assert_eq!(
        client.commit(&commit(5, None, moved(1, 1.0))).unwrap(),
        CommitOutcome::default()
    );
    assert_eq!(client.view(), &sample());
    client.commit(&commit(6, None, vec![])).unwrap();
    assert_eq!(client.version(), 6);
}

#[test]
fn a_commit_that_does_not_apply_changes_nothing() {
    let mut client = Optimistic::new(sample(), 0);
    client.propose(action(1), moved(1, 100.0)).unwrap();
    let before = client.view().clone();
    assert!(client.commit(&commit(1, None, moved(42, 1.0))).is_err());
    assert_eq!(client.view(), &before);
    assert_eq!(client.version(), 0);
}

#[test]
fn a_snapshot_resets_the_confirmed_state_and_keeps_pending() {
    let mut client = Optimistic::new(sample(), 0);
    client.propose(action(1), moved(1, 100.0)).unwrap();
    let mut snapshot = sample();
    snapshot
        .apply(&set(&format!("tokens/{}/name", tid(2)), json!("Snap")))
        .unwrap();
    client.reset(snapshot.clone(), 10);
    assert_eq!(client.version(), 10);
    assert_eq!(client.confirmed(), snapshot);
    assert_eq!(client.view().token(tid(1)).unwrap().position.x, 100.0);
}

#[test]
fn duplicate_proposals_and_invalid_ones_are_refused() {
    let mut client = Optimistic::new(sample(), 0);
    client.propose(action(1), moved(1, 1.0)).unwrap();
    assert!(client.propose(action(1), moved(1, 2.0)).is_err());
    let before = client.view().clone();
    assert!(
        client
            .propose(
                action(2),
                vec![moved(1, 3.0).remove(0), moved(99, 1.0).remove(0)]
            )
            .is_err()
    );
    assert_eq!(client.view(), &before);
    assert_eq!(client.pending().len(), 1);
}

// ---------------------------------------------------------------------------
// Convergence: clients with random optimistic actions, a server with random
// approvals, rejections and order, and in-order delivery per client.

enum ToClient {
    Commit(Commit),
    Rejected(ActionId),
}

struct Request {
    from: usize,
    id: ActionId,
    changes: Vec<Change>,
    base: Version,
}

/// A small deterministic generator, so the whole run follows from a seed.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        // SplitMix64.
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn simulate(seed: u64, clients: usize, steps: usize) -> std::result::Result<(), String> {
    let mut dice = Dice(seed);
    let mut server = Authority::new(sample(), 0);
    let mut views: Vec<Optimistic> = (0..clients).map(|_| Optimistic::new(sample(), 0)).collect();
    let mut inboxes: Vec<VecDeque<ToClient>> = (0..clients).map(|_| VecDeque::new()).collect();
    let mut requests: Vec<Request> = Vec::new();
    let mut next_action = 0u128;

    let serve = |server: &mut Authority,
                 request: Request,
                 dice: &mut Dice,
                 inboxes: &mut Vec<VecDeque<ToClient>>| {
        let rebased = server.rebase(&request.changes, request.base);
        // The GM approves most requests, rejects some; conflicts are the
        // GM's to settle, approved or rejected like the rest.
        let approved = dice.below(4) != 0;
        let outcome = match rebased {
            Ok(rebased) if approved => server.commit(Some(request.id), rebased.kept).ok(),
            _ => None,
        };
        match outcome {
            Some((commit, _undo)) => {
                for inbox in inboxes.iter_mut() {
                    inbox.push_back(ToClient::Commit(commit.clone()));
                }
            }
            None => inboxes[request.from].push_back(ToClient::Rejected(request.id)),
        }
    };

    for _ in 0..steps {
        match dice.below(3) {
            0 => {
                let from = dice.below(clients as u64) as usize;
                let changes: Vec<Change> = (0..1 + dice.below(3))
                    .map(|_| random_change(dice.next()))
                    .collect();
                next_action += 1;
                let id = action(next_action);
                if views[from].propose(id, changes.clone()).is_ok() {
                    requests.push(Request {
                        from,
                        id,
                        changes,
                        base: views[from].version(),
                    });
                }
            }
            1 if !requests.is_empty() => {
                let request = requests.remove(dice.below(requests.len() as u64) as usize);
                serve(&mut server, request, &mut dice, &mut inboxes);
            }
            _ => {
                let to = dice.below(clients as u64) as usize;
                deliver(&mut views[to], &mut inboxes[to])?;
            }
        }
    }
    while !requests.is_empty() {
        let request = requests.remove(0);
        serve(&mut server, request, &mut dice, &mut inboxes);
    }
    for (view, inbox) in views.iter_mut().zip(inboxes.iter_mut()) {
        while !inbox.is_empty() {
            deliver(view, inbox)?;
        }
    }
    for (n, view) in views.iter().enumerate() {
        if !view.pending().is_empty() {
            return Err(format!(
                "client {n} still has {} pending actions",
                view.pending().len()
            ));
        }
        if view.version() != server.version() {
            return Err(format!(
                "client {n} is at version {}, the server at {}",
                view.version(),
                server.version()
            ));
        }
        if view.view() != server.store() || exact(view.view()) != exact(server.store()) {
            return Err(format!("client {n} diverged from the server"));
        }
        if !view.view().indices_are_consistent() {
            return Err(format!("client {n} has inconsistent indices"));
        }
    }
    Ok(())
}

fn deliver(
    view: &mut Optimistic,
    inbox: &mut VecDeque<ToClient>,
) -> std::result::Result<(), String> {
    match inbox.pop_front() {
        Some(ToClient::Commit(commit)) => {
            // With in-order delivery a commit always applies: the confirmed
            // state is the server's at the previous version.
            view.commit(&commit)
                .map_err(|error| format!("commit {} did not apply: {error}", commit.version))?;
        }
        Some(ToClient::Rejected(id)) => {
            // The action may already have been dropped locally.
            let _ = view.reject(id);
        }
        None => {}
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Every client ends equal to the server, with nothing pending.
    #[test]
    fn clients_converge_to_the_server(seed in any::<u64>(), clients in 1usize..5, steps in 1usize..300) {
        if let Err(problem) = simulate(seed, clients, steps) {
            prop_assert!(false, "seed {seed}, {clients} clients, {steps} steps: {problem}");
        }
    }
}
