//! The event-log repository against a real PostgreSQL: pending requests
//! that wait for the GM, batched commits with gap-free versions, fencing,
//! idempotency, refusals, replay and snapshots.
//!
//! Longer than 500 lines on purpose: every file under `tests/` is its own
//! test binary linking the whole server, so one subject stays one file.

mod support;

use serde_json::json;
use server::event_log::{self, Ending, NewCommit};
use shared::{
    campaign::NewCampaign,
    id::{ActionId, SessionId},
    rules::ApprovalPolicy,
};
use sqlx::PgPool;
use uuid::Uuid;

async fn session(db: &PgPool) -> (SessionId, shared::account::User) {
    let (gm, _) = support::signed_in(db, "gamemaster").await;
    let campaign =
        server::campaign::create(db, gm.id, &NewCampaign::parse("Log", "dnd5e").unwrap())
            .await
            .unwrap();
    let session =
        event_log::start_session(db, campaign.id, None, gm.id, &ApprovalPolicy::default())
            .await
            .unwrap();
    (session, gm)
}

/// action id, status, decided by, version, reason.
type TrailRow = (
    Option<Uuid>,
    String,
    Option<Uuid>,
    Option<i64>,
    Option<String>,
);

fn change(n: u64) -> NewCommit {
    NewCommit {
        action: ActionId(Uuid::new_v4()),
        initiated_by: None,
        decided_by: None,
        auto_approved: true,
        event_type: "move_token".into(),
        event_data: event_log::json(&json!({"n": n})).unwrap(),
        state_changes: event_log::json(&json!({"changes": [{"op": "set", "n": n}]})).unwrap(),
        encounter: None,
        outcome: event_log::json(&json!({"applied": n})).unwrap(),
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn commits_get_gap_free_versions_and_replay_in_order(db: PgPool) {
    let (session, _) = session(&db).await;
    let epoch = event_log::take_ownership(&db, session).await.unwrap();
    let first = event_log::commit(&db, session, epoch, &[change(1), change(2), change(3)])
        .await
        .unwrap();
    let second = event_log::commit(&db, session, epoch, &[change(4)])
        .await
        .unwrap();
    assert_eq!(first, [1, 2, 3]);
    assert_eq!(second, [4]);
    assert_eq!(event_log::position(&db, session).await.unwrap(), (4, epoch));

    let replayed = event_log::replay(&db, session, 1).await.unwrap();
    let versions: Vec<u64> = replayed.iter().map(|(v, _)| *v).collect();
    assert_eq!(versions, [2, 3, 4]);
    assert_eq!(replayed[0].1, json!({"changes": [{"op": "set", "n": 2}]}));
    assert!(
        event_log::commit(&db, session, epoch, &[])
            .await
            .unwrap()
            .is_empty()
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_node_that_lost_the_session_writes_nothing(db: PgPool) {
    let (session, _) = session(&db).await;
    let old = event_log::take_ownership(&db, session).await.unwrap();
    event_log::commit(&db, session, old, &[change(1)])
        .await
        .unwrap();
    let new = event_log::take_ownership(&db, session).await.unwrap();
    assert!(new > old);

    let stale = event_log::commit(&db, session, old, &[change(2)]).await;
    assert!(
        matches!(stale, Err(server::Error::Fenced { .. })),
        "{stale:?}"
    );
    assert_eq!(event_log::position(&db, session).await.unwrap().0, 1);
    assert_eq!(event_log::replay(&db, session, 0).await.unwrap().len(), 1);
    assert_eq!(
        event_log::commit(&db, session, new, &[change(2)])
            .await
            .unwrap(),
        [2]
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn an_action_is_committed_once_and_its_outcome_remembered(db: PgPool) {
    let (session, _) = session(&db).await;
    let epoch = event_log::take_ownership(&db, session).await.unwrap();
    let once = change(1);
    event_log::commit(&db, session, epoch, std::slice::from_ref(&once))
        .await
        .unwrap();

    // A resend in a later batch fails the whole batch: nothing of it lands.
    let again = event_log::commit(&db, session, epoch, &[change(2), once.clone()]).await;
    assert!(matches!(again, Err(server::Error::Refused(_))), "{again:?}");
    assert_eq!(event_log::position(&db, session).await.unwrap().0, 1);
    assert_eq!(
        event_log::outcome(&db, session, once.action)
            .await
            .unwrap()
            .map(|(outcome, _)| outcome),
        Some(json!({"applied": 1}))
    );
    assert_eq!(
        event_log::outcome(&db, session, ActionId(Uuid::new_v4()))
            .await
            .unwrap(),
        None
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn pending_requests_wait_for_the_gm_then_are_approved_or_rejected(db: PgPool) {
    let (session, gm) = session(&db).await;
    let (player, _) = support::signed_in(&db, "player").await;
    let epoch = event_log::take_ownership(&db, session).await.unwrap();
    let approve_me = ActionId(Uuid::new_v4());
    let reject_me = ActionId(Uuid::new_v4());
    for action in [approve_me, reject_me] {
        event_log::record_pending(
            &db,
            session,
            action,
            player.id,
            "move_token",
            &json!({"to": [3, 4]}),
            None,
        )
        .await
        .unwrap();
    }
    // What a GM who reconnects is shown: both, oldest first.
    let waiting = event_log::pending(&db, session).await.unwrap();
    assert_eq!(
        waiting.iter().map(|p| p.action).collect::<Vec<_>>(),
        [approve_me, reject_me]
    );
    assert_eq!(waiting[0].initiated_by, Some(player.id));
    assert_eq!(waiting[0].event_data, json!({"to": [3, 4]}));

    let approved = NewCommit {
        action: approve_me,
        initiated_by: Some(player.id),
        decided_by: Some(gm.id),
        auto_approved: false,
        ..change(1)
    };
    event_log::commit(&db, session, epoch, &[approved])
        .await
        .unwrap();
    event_log::refuse(
        &db,
        session,
        reject_me,
        Ending::Rejected,
        Some(gm.id),
        "too far",
        &json!({"rejected": "too far"}),
    )
    .await
    .unwrap();
    assert!(event_log::pending(&db, session).await.unwrap().is_empty());

    // The audit trail: the approved request, its applied change, the
    // rejected request with its reason.
    let trail: Vec<TrailRow> = sqlx::query_as(
        "select action_id, status, decided_by, version, reason from event_log where session_id = $1 order by id",
    )
    .bind(session.0)
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(
        trail,
        [
            (
                Some(approve_me.0),
                "approved".into(),
                Some(gm.id.0),
                None,
                None
            ),
            (
                Some(reject_me.0),
                "rejected".into(),
                Some(gm.id.0),
                None,
                Some("too far".into())
            ),
            (
                Some(approve_me.0),
                "applied".into(),
                Some(gm.id.0),
                Some(1),
                None
            ),
        ]
    );
    assert_eq!(
        event_log::outcome(&db, session, reject_me).await.unwrap(),
        Some((json!({"rejected": "too far"}), Some(player.id)))
    );
    // Refusing twice is refused: the first outcome stands.
    assert!(
        event_log::refuse(
            &db,
            session,
            reject_me,
            Ending::Expired,
            None,
            "late",
            &json!({})
        )
        .await
        .is_err()
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn the_latest_snapshot_is_found(db: PgPool) {
    let (session, _) = session(&db).await;
    assert_eq!(
        event_log::latest_snapshot(&db, session).await.unwrap(),
        None
    );
    event_log::save_snapshot(&db, session, 100, None, &json!({"v": 100}))
        .await
        .unwrap();
    event_log::save_snapshot(&db, session, 200, None, &json!({"v": 200}))
        .await
        .unwrap();
    assert_eq!(
        event_log::latest_snapshot(&db, session).await.unwrap(),
        Some((200, json!({"v": 200})))
    );
}

/// Another session of the same campaign.
async fn sibling(db: &PgPool, of: SessionId, gm: &shared::account::User) -> SessionId {
    let campaign: Uuid = sqlx::query_scalar("select campaign_id from play_sessions where id = $1")
        .bind(of.0)
        .fetch_one(db)
        .await
        .unwrap();
    event_log::start_session(
        db,
        shared::id::CampaignId(campaign),
        None,
        gm.id,
        &ApprovalPolicy::default(),
    )
    .await
    .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn several_sessions_commit_in_one_statement_and_fencing_stays_per_session(db: PgPool) {
    use event_log::SessionBatch;
    let (a, gm) = session(&db).await;
    let b = sibling(&db, a, &gm).await;
    let c = sibling(&db, a, &gm).await;
    let (epoch_a, epoch_b) = (
        event_log::take_ownership(&db, a).await.unwrap(),
        event_log::take_ownership(&db, b).await.unwrap(),
    );
    let stale_c = event_log::take_ownership(&db, c).await.unwrap();
    let d = sibling(&db, a, &gm).await;
    let epoch_d = event_log::take_ownership(&db, d).await.unwrap();
    event_log::commit(&db, a, epoch_a, &[change(1)])
        .await
        .unwrap();
    event_log::take_ownership(&db, c).await.unwrap();

    let (for_a, for_b, for_c) = ([change(2), change(3)], [change(1)], [change(1)]);
    let outcomes = event_log::commit_many(
        &db,
        &[
            SessionBatch {
                session: a,
                epoch: epoch_a,
                commits: &for_a,
                pending: &[],
                refusals: &[],
                policy: None,
            },
            SessionBatch {
                session: b,
                epoch: epoch_b,
                commits: &for_b,
                pending: &[queued(&gm, 1), queued(&gm, 2)],
                refusals: &[],
                policy: None,
            },
            SessionBatch {
                session: c,
                epoch: stale_c,
                commits: &for_c,
                pending: &[queued(&gm, 3)],
                refusals: &[],
                policy: None,
            },
            // A session that only queues.
            SessionBatch {
                session: d,
                epoch: epoch_d,
                commits: &[],
                pending: &[queued(&gm, 4)],
                refusals: &[],
                policy: None,
            },
        ],
    )
    .await
    .unwrap();
    assert_eq!(outcomes[0].as_ref().unwrap(), &[2, 3]);
    assert_eq!(outcomes[1].as_ref().unwrap(), &[1]);
    assert!(matches!(outcomes[2], Err(server::Error::Fenced { .. })));
    assert_eq!(outcomes[3].as_ref().unwrap(), &[] as &[u64]);
    // Queued requests are written for their sessions, in order; the
    // fenced session queues nothing.
    let waiting = |session| {
        let db = db.clone();
        async move {
            event_log::pending(&db, session)
                .await
                .unwrap()
                .into_iter()
                .map(|p| p.event_data)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(waiting(b).await, [json!({"n": 1}), json!({"n": 2})]);
    assert!(waiting(c).await.is_empty());
    assert_eq!(waiting(d).await, [json!({"n": 4})]);
    let replayed: Vec<u64> = event_log::replay(&db, a, 0)
        .await
        .unwrap()
        .iter()
        .map(|(v, _)| *v)
        .collect();
    assert_eq!(replayed, [1, 2, 3]);
    assert_eq!(event_log::position(&db, b).await.unwrap().0, 1);
    assert_eq!(event_log::position(&db, c).await.unwrap().0, 0);
    assert!(event_log::replay(&db, c, 0).await.unwrap().is_empty());
}

/// A request queued for the GM, told apart by `n`.
fn queued(gm: &shared::account::User, n: u64) -> event_log::NewPending {
    event_log::NewPending {
        action: ActionId(Uuid::new_v4()),
        initiated_by: gm.id,
        event_type: "adjust_hp".into(),
        event_data: event_log::json(&json!({"n": n})).unwrap(),
        encounter: None,
    }
}

/// The node's writer: many sessions at once, one of them resending an
/// action id. Whether their batches share a statement or not, each gets
/// its own outcome, and the resend spoils nobody else's.
#[sqlx::test(migrations = "../migrations")]
async fn the_shared_writer_gives_each_session_its_own_outcome(db: PgPool) {
    let (first, gm) = session(&db).await;
    let mut sessions = vec![first];
    for _ in 0..39 {
        sessions.push(sibling(&db, first, &gm).await);
    }
    let mut epochs = Vec::new();
    for session in &sessions {
        epochs.push(event_log::take_ownership(&db, *session).await.unwrap());
    }
    let resent = change(1);
    event_log::commit(&db, sessions[7], epochs[7], std::slice::from_ref(&resent))
        .await
        .unwrap();
    let writer = server::live::committer::Committer::start(db.clone());
    let mut writes = tokio::task::JoinSet::new();
    for (n, (session, epoch)) in sessions.iter().copied().zip(epochs).enumerate() {
        let writer = writer.clone();
        let commits = if n == 7 {
            vec![change(2), resent.clone()]
        } else {
            vec![change(1), change(2)]
        };
        let batch = server::live::committer::Batch {
            commits,
            ..Default::default()
        };
        writes.spawn(async move { (n, writer.commit(session, epoch, batch).await.0) });
    }
    while let Some(joined) = writes.join_next().await {
        let (n, outcome) = joined.unwrap();
        if n == 7 {
            assert!(
                matches!(outcome, Err(server::Error::Refused(_))),
                "{outcome:?}"
            );
        } else {
            assert_eq!(outcome.unwrap(), [1, 2], "session {n}");
        }
    }
    assert_eq!(event_log::position(&db, sessions[7]).await.unwrap().0, 1);
    for session in &sessions {
        let expected = if *session == sessions[7] { 1 } else { 2 };
        assert_eq!(
            event_log::replay(&db, *session, 0).await.unwrap().len(),
            expected
        );
    }
}

/// Rejections, expiries and new rules are written in a session's batch,
/// in the same transaction as its commits, and fenced like them: a session
/// taken over since writes none of them.
#[sqlx::test(migrations = "../migrations")]
async fn refusals_and_rules_go_in_the_batch_and_are_fenced_with_it(db: PgPool) {
    use event_log::{NewRefusal, SessionBatch};
    let (a, gm) = session(&db).await;
    let b = sibling(&db, a, &gm).await;
    let epoch_a = event_log::take_ownership(&db, a).await.unwrap();
    let stale_b = event_log::take_ownership(&db, b).await.unwrap();
    event_log::take_ownership(&db, b).await.unwrap();
    // A request waiting for the GM, in a batch of its own.
    let waiting = queued(&gm, 1);
    let first = event_log::commit_many(
        &db,
        &[SessionBatch {
            pending: std::slice::from_ref(&waiting),
            ..SessionBatch::commits(a, epoch_a, &[])
        }],
    )
    .await
    .unwrap();
    assert!(first[0].is_ok());

    let refusal = |action, ending, reason: &str| NewRefusal {
        action,
        ending,
        decided_by: Some(gm.id),
        reason: reason.into(),
        outcome: json!({ "rejected": reason }),
    };
    let rejected = refusal(waiting.action, Ending::Rejected, "too far");
    let at_once = refusal(ActionId(Uuid::new_v4()), Ending::Rejected, "not yours");
    let fenced = refusal(ActionId(Uuid::new_v4()), Ending::Expired, "late");
    let strict = json!({ "rules": {} });
    let (commits, for_a, for_b) = (
        [change(1)],
        [rejected.clone(), at_once.clone()],
        [fenced.clone()],
    );
    let outcomes = event_log::commit_many(
        &db,
        &[
            SessionBatch {
                refusals: &for_a,
                policy: Some(&strict),
                ..SessionBatch::commits(a, epoch_a, &commits)
            },
            SessionBatch {
                refusals: &for_b,
                policy: Some(&strict),
                ..SessionBatch::commits(b, stale_b, &[])
            },
        ],
    )
    .await
    .unwrap();
    assert_eq!(outcomes[0].as_ref().unwrap(), &[1]);
    assert!(matches!(outcomes[1], Err(server::Error::Fenced { .. })));

    assert!(event_log::pending(&db, a).await.unwrap().is_empty());
    for refused in [&rejected, &at_once] {
        assert_eq!(
            event_log::outcome(&db, a, refused.action)
                .await
                .unwrap()
                .map(|(o, _)| o),
            Some(refused.outcome.clone())
        );
    }
    let info = |session| {
        let db = db.clone();
        async move {
            event_log::session_info(&db, session)
                .await
                .unwrap()
                .unwrap()
        }
    };
    assert!(info(a).await.policy.rules.is_empty());
    assert_eq!(info(b).await.policy, ApprovalPolicy::default());
    assert_eq!(
        event_log::outcome(&db, b, fenced.action).await.unwrap(),
        None
    );
    let statuses: Vec<(Uuid, String)> = sqlx::query_as(
        "select action_id, status from event_log where session_id = $1 and status <> 'applied' order by id",
    )
    .bind(a.0)
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(
        statuses,
        [
            (rejected.action.0, "rejected".into()),
            (at_once.action.0, "rejected".into())
        ]
    );
}
