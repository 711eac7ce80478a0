//! Requests from the table: identity on the socket, concurrent moves, the
//! server's dice, repeated action ids, group commit, and the event log as
//! an audit trail that replays to the same state.

use super::*;

#[sqlx::test(migrations = "../migrations")]
async fn no_login_or_no_membership_gets_no_socket(db: PgPool) {
    let table = table(db.clone()).await;
    let (_, stranger) = support::signed_in(&db, "stranger").await;
    let status = |result: Result<Client, tungstenite::Error>| match result {
        Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("the socket opened"),
    };
    assert_eq!(status(open(table.addr, table.session, "").await), 401);
    assert_eq!(
        status(open(table.addr, table.session, &stranger).await),
        403
    );
    assert_eq!(
        status(open(table.addr, SessionId(Uuid::new_v4()), &table.gm.cookie).await),
        403
    );
}

/// The seed's first test: three moves at once end consistent everywhere,
/// with three events logged.
#[sqlx::test(migrations = "../migrations")]
async fn three_concurrent_moves_end_consistent_and_logged(db: PgPool) {
    let table = table(db.clone()).await;
    let (mut gm, mut gm_store) = join(&table, &table.gm.cookie).await;
    let (mut alice, mut alice_store) = join(&table, &table.alice.cookie).await;
    let (mut bruno, mut bruno_store) = join(&table, &table.bruno.cookie).await;
    let (alice_token, bruno_token) = (table.alice.token, table.bruno.token);
    let (a, b, g) = tokio::join!(
        alice.request(move_to(alice_token, 150.0)),
        bruno.request(move_to(bruno_token, 250.0)),
        gm.request(move_to(table.hidden, 700.0)),
    );
    assert!(matches!(
        alice.status(a).await,
        Ok(RequestStatus::Applied { .. })
    ));
    assert!(matches!(
        bruno.status(b).await,
        Ok(RequestStatus::Applied { .. })
    ));
    assert!(matches!(
        gm.status(g).await,
        Ok(RequestStatus::Applied { .. })
    ));
    gm.follow(&mut gm_store, 0, 3).await;
    alice.follow(&mut alice_store, 0, 3).await;
    bruno.follow(&mut bruno_store, 0, 3).await;

    let position = |store: &Store, token| store.token(token).map(|t| t.position.x);
    for store in [&gm_store, &alice_store, &bruno_store] {
        assert_eq!(position(store, alice_token), Some(150.0));
        assert_eq!(position(store, bruno_token), Some(250.0));
    }
    assert_eq!(position(&gm_store, table.hidden), Some(700.0));
    assert_eq!(
        position(&alice_store, table.hidden),
        None,
        "players never hold the hidden token"
    );
    assert_eq!(applied_events(&db, table.session).await, 3);
    let versions: Vec<i64> = sqlx::query_scalar(
        "select version from event_log where session_id = $1 and status = 'applied' order by version",
    )
    .bind(table.session.0)
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(versions, [1, 2, 3]);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_repeated_action_id_is_applied_once(db: PgPool) {
    let table = table(db.clone()).await;
    let (mut alice, _) = join(&table, &table.alice.cookie).await;
    let id = ActionId(Uuid::new_v4());
    let ask = ClientMessage::Request(request(id, move_to(table.alice.token, 160.0)));
    alice.send(&ask).await;
    let first = alice.status(id).await;
    alice.send(&ask).await;
    let again = alice.status(id).await;
    assert_eq!(first, Ok(RequestStatus::Applied { version: 1 }));
    assert_eq!(again, first);
    // Also across a reconnect, to another server.
    let (other, _other_server) = spawn_server(db.clone()).await;
    let (mut elsewhere, _) = join_at(other, table.session, &table.alice.cookie).await;
    elsewhere.send(&ask).await;
    assert_eq!(elsewhere.status(id).await, first);
    assert_eq!(applied_events(&db, table.session).await, 1);
}

/// The same action id three times back to back (a client resending in a
/// hurry): one commit, three identical answers.
#[sqlx::test(migrations = "../migrations")]
async fn a_burst_of_one_action_id_is_applied_once(db: PgPool) {
    let table = table(db.clone()).await;
    let (mut alice, _) = join(&table, &table.alice.cookie).await;
    let id = ActionId(Uuid::new_v4());
    let ask = ClientMessage::Request(request(id, move_to(table.alice.token, 170.0)));
    for _ in 0..3 {
        alice.send(&ask).await;
    }
    for _ in 0..3 {
        assert_eq!(
            alice.status(id).await,
            Ok(RequestStatus::Applied { version: 1 })
        );
    }
    assert_eq!(applied_events(&db, table.session).await, 1);
}

/// Requests that arrive together are written together: fewer transactions
/// than commits, and every request still gets its own version.
#[sqlx::test(migrations = "../migrations")]
async fn requests_arriving_together_share_one_write(db: PgPool) {
    let table = table(db.clone()).await;
    let (mut alice, mut store) = join(&table, &table.alice.cookie).await;
    let token = table.alice.token;
    let mut ids = Vec::new();
    for n in 0..50 {
        ids.push(
            alice
                .request(move_to(token, 100.0 + f64::from(n % 2) * 10.0))
                .await,
        );
    }
    let mut versions = Vec::new();
    for id in ids {
        match alice.status(id).await {
            Ok(RequestStatus::Applied { version }) => versions.push(version),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(versions, (1..=50).collect::<Vec<_>>());
    alice.follow(&mut store, 0, 50).await;
    assert_eq!(store.token(token).unwrap().position.x, 110.0);
    let text = table.metrics.render().unwrap();
    let writes: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("tabletop_commit_seconds_count "))
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(
        text.lines().any(|l| l == "tabletop_commits_total 50"),
        "{text}"
    );
    assert!(writes < 50, "{writes} writes for 50 commits: no batching");
    assert_eq!(applied_events(&db, table.session).await, 50);
}

/// The server rolls the dice: a roll a client sends is replaced, the
/// result goes to everyone's log, and every face is on its die.
#[sqlx::test(migrations = "../migrations")]
async fn dice_are_rolled_by_the_server(db: PgPool) {
    use shared::action::Secrecy;
    use shared::dice::{Die, Roll};
    let table = table(db.clone()).await;
    let (mut gm, mut gm_store) = join(&table, &table.gm.cookie).await;
    let (mut alice, mut alice_store) = join(&table, &table.alice.cookie).await;
    let cheat = Roll {
        expression: "3d6".into(),
        dice: vec![
            Die {
                sides: 6,
                face: 6,
                dropped: false,
            };
            3
        ],
        total: 18,
        totals: Vec::new(),
    };
    let mut totals = Vec::new();
    for version in 1..=20 {
        let id = alice
            .request(Action::Roll {
                encounter: table.encounter,
                dice: "3d6".into(),
                roll: Some(cheat.clone()),
                secrecy: Secrecy::Open,
            })
            .await;
        assert_eq!(
            alice.status(id).await,
            Ok(RequestStatus::Applied { version })
        );
        alice.follow(&mut alice_store, version - 1, version).await;
        let entry = alice_store
            .encounter(table.encounter)
            .and_then(|e| e.log.last().cloned())
            .unwrap();
        assert_eq!(entry.kind, shared::encounter::LogKind::Roll);
        assert_eq!(entry.by, Some(table.alice.user.id));
        let (faces, total) = entry
            .text
            .strip_prefix("3d6: ")
            .and_then(|rest| rest.split_once(" → "))
            .unwrap();
        let faces: Vec<i64> = faces.split(", ").map(|f| f.parse().unwrap()).collect();
        let total: i64 = total.parse().unwrap();
        assert_eq!(faces.len(), 3);
        assert!(faces.iter().all(|f| (1..=6).contains(f)), "{faces:?}");
        assert_eq!(faces.iter().sum::<i64>(), total);
        totals.push(total);
    }
    assert!(
        totals.iter().any(|t| *t != 18),
        "twenty sixes-only rolls: the client's roll was kept"
    );
    gm.follow(&mut gm_store, 0, 20).await;
    assert_eq!(
        gm_store.encounter(table.encounter).unwrap().log,
        alice_store.encounter(table.encounter).unwrap().log
    );
    let nonsense = alice
        .request(Action::Roll {
            encounter: table.encounter,
            dice: "3d".into(),
            roll: None,
            secrecy: shared::action::Secrecy::Open,
        })
        .await;
    assert!(alice.status(nonsense).await.is_err());
}

/// Every request, decision and applied change is in the log, with who
/// decided, when, and whether a rule did; replaying the log from the first
/// snapshot gives exactly the state the session holds.
#[sqlx::test(migrations = "../migrations")]
async fn the_log_is_an_audit_trail_that_replays_to_the_same_state(db: PgPool) {
    let table = table(db.clone()).await;
    let (mut gm, mut gm_store) = join(&table, &table.gm.cookie).await;
    let (mut alice, _) = join(&table, &table.alice.cookie).await;
    let (alice_user, alice_actor, alice_token) =
        (table.alice.user.id, table.alice.actor, table.alice.token);
    let gm_user = table.gm.user.id;
    let decide = |action, verdict| ClientMessage::Decide(GmDecision { action, verdict });

    let moved = alice.request(move_to(alice_token, 150.0)).await;
    assert!(matches!(
        alice.status(moved).await,
        Ok(RequestStatus::Applied { .. })
    ));
    let hurt = alice
        .request(Action::AdjustHp {
            actor: alice_actor,
            delta: -4,
        })
        .await;
    assert!(matches!(
        alice.status(hurt).await,
        Ok(RequestStatus::WaitingForGm { .. })
    ));
    gm.send(&decide(hurt, Verdict::Approve)).await;
    assert!(matches!(
        alice.status(hurt).await,
        Ok(RequestStatus::Applied { .. })
    ));
    let prone = alice
        .request(Action::AddCondition {
            token: alice_token,
            condition: "prone".into(),
        })
        .await;
    assert!(matches!(
        alice.status(prone).await,
        Ok(RequestStatus::WaitingForGm { .. })
    ));
    let conditions =
        shared::path::Path::parse(&format!("tokens/{alice_token}/conditions")).unwrap();
    gm.send(&decide(
        prone,
        Verdict::Modify {
            changes: vec![shared::change::Change::set(
                conditions,
                json!(["restrained"]),
            )],
            note: Some("the net holds you".into()),
        },
    ))
    .await;
    assert!(matches!(
        alice.status(prone).await,
        Ok(RequestStatus::Applied { .. })
    ));
    let greedy = alice
        .request(Action::AdjustHp {
            actor: alice_actor,
            delta: 100,
        })
        .await;
    assert!(matches!(
        alice.status(greedy).await,
        Ok(RequestStatus::WaitingForGm { .. })
    ));
    gm.send(&decide(
        greedy,
        Verdict::Reject {
            reason: "nice try".into(),
            alternative: None,
        },
    ))
    .await;
    assert_eq!(alice.status(greedy).await, Err("nice try".into()));
    let roll = alice
        .request(Action::Roll {
            encounter: table.encounter,
            dice: "1d20+3".into(),
            roll: None,
            secrecy: shared::action::Secrecy::Open,
        })
        .await;
    assert!(matches!(
        alice.status(roll).await,
        Ok(RequestStatus::Applied { .. })
    ));
    let lurk = gm.request(move_to(table.hidden, 640.0)).await;
    assert!(matches!(
        gm.status(lurk).await,
        Ok(RequestStatus::Applied { version: 5 })
    ));
    gm.follow(&mut gm_store, 0, 5).await;

    // Who asked, who decided, how, and when, for each request.
    #[derive(Debug, PartialEq)]
    struct Row {
        status: String,
        initiated_by: Option<Uuid>,
        decided_by: Option<Uuid>,
        auto_approved: bool,
        decided: bool,
        applied: bool,
        reason: Option<String>,
    }
    let rows = |action: ActionId| {
        let db = db.clone();
        async move {
            sqlx::query_as::<
                _,
                (
                    String,
                    Option<Uuid>,
                    Option<Uuid>,
                    bool,
                    bool,
                    bool,
                    Option<String>,
                ),
            >(
                "select status, initiated_by, decided_by, auto_approved,
                        decided_at >= requested_at, applied_at is not null, reason
                   from event_log where action_id = $1 order by id",
            )
            .bind(action.0)
            .fetch_all(&db)
            .await
            .unwrap()
            .into_iter()
            .map(
                |(status, initiated_by, decided_by, auto_approved, decided, applied, reason)| Row {
                    status,
                    initiated_by,
                    decided_by,
                    auto_approved,
                    decided,
                    applied,
                    reason,
                },
            )
            .collect::<Vec<_>>()
        }
    };
    let row =
        |status: &str, by: Option<Uuid>, auto: bool, applied: bool, reason: Option<&str>| Row {
            status: status.into(),
            initiated_by: Some(alice_user.0),
            decided_by: by,
            auto_approved: auto,
            decided: true,
            applied,
            reason: reason.map(Into::into),
        };
    let gm_id = Some(gm_user.0);
    assert_eq!(rows(moved).await, [row("applied", None, true, true, None)]);
    for manual in [hurt, prone] {
        assert_eq!(
            rows(manual).await,
            [
                row("approved", gm_id, false, false, None),
                row("applied", gm_id, false, true, None),
            ]
        );
    }
    assert_eq!(
        rows(greedy).await,
        [row("rejected", gm_id, false, false, Some("nice try"))]
    );
    assert_eq!(rows(roll).await, [row("applied", None, true, true, None)]);

    // The first snapshot plus every applied change, in version order, is
    // the state the session holds.
    let (first, state) = sqlx::query_as::<_, (i64, serde_json::Value)>(
        "select version, state from encounter_snapshots where session_id = $1 order by version limit 1",
    )
    .bind(table.session.0)
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(first, 0);
    let mut replayed = Store::from_entities(serde_json::from_value(state).unwrap()).unwrap();
    let log = event_log::replay(&db, table.session, 0).await.unwrap();
    assert_eq!(
        log.iter().map(|(v, _)| *v).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    for (_, commit) in log {
        let commit: shared::change::Commit = serde_json::from_value(commit).unwrap();
        replayed.apply_all(&commit.changes).unwrap();
    }
    assert_eq!(replayed.entities(), gm_store.entities());
    let (_, fresh) = join(&table, &table.gm.cookie).await;
    assert_eq!(replayed.entities(), fresh.entities());
    let restrained = replayed.token(alice_token).unwrap();
    assert!(
        restrained.conditions.contains("restrained") && !restrained.conditions.contains("prone")
    );
    assert_eq!(replayed.actor(alice_actor).unwrap().hp.unwrap().current, 16);
}
