//! Live sessions over real WebSockets, against a server bound to a port
//! and a real PostgreSQL: identity on the socket, the action flow, GM
//! approval, per-recipient filtering, idempotency, bad frames, resume and
//! recovery on the in-process engine; then several nodes sharing sessions
//! through a real Redis on the Redis engine.

mod support;

use support::table::{
    http_get, http_get_as, join, spawn_node, spawn_server, spawn_server_with, table,
};
use support::ws::{Client, closed, join_at, move_to, open, request, resume};

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;
use server::{encounter, event_log};
use shared::{
    action::Action,
    change::Version,
    geometry::Point,
    id::{ActionId, CampaignId, EncounterId, SessionId, TokenId},
    protocol::{ClientMessage, GmDecision, RequestStatus, ServerMessage, Verdict},
    rules::{ApprovalPolicy, Role},
    store::Store,
    token::Visibility,
};
use sqlx::PgPool;
use tokio_tungstenite::tungstenite::{self, Message};
use uuid::Uuid;

async fn applied_events(db: &PgPool, session: SessionId) -> i64 {
    sqlx::query_scalar(
        "select count(*) from event_log where session_id = $1 and status = 'applied'",
    )
    .bind(session.0)
    .fetch_one(db)
    .await
    .unwrap()
}

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
        status(open(table.addr, SessionId(Uuid::new_v4()), &table.gm.1).await),
        403
    );
}

/// The seed's first test: three moves at once end consistent everywhere,
/// with three events logged.
#[sqlx::test(migrations = "../migrations")]
async fn three_concurrent_moves_end_consistent_and_logged(db: PgPool) {
    let table = table(db.clone()).await;
    let (mut gm, mut gm_store) = join(&table, &table.gm.1).await;
    let (mut alice, mut alice_store) = join(&table, &table.players[0].1).await;
    let (mut bruno, mut bruno_store) = join(&table, &table.players[1].1).await;
    let (alice_token, bruno_token) = (table.players[0].3, table.players[1].3);
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

/// The seed's second test: a request that needs the GM waits while the GM
/// is away, is presented when the GM comes back, and applies on approval.
#[sqlx::test(migrations = "../migrations")]
async fn a_request_waits_for_an_absent_gm_and_applies_on_approval(db: PgPool) {
    let table = table(db.clone()).await;
    let (mut alice, alice_store) = join(&table, &table.players[0].1).await;
    let actor = table.players[0].2;
    let asked = alice.request(Action::AdjustHp { actor, delta: -5 }).await;
    match alice.status(asked).await {
        Ok(RequestStatus::WaitingForGm { reason }) => {
            assert!(reason.contains("no GM is connected"), "{reason}")
        }
        other => panic!("{other:?}"),
    }

    // Another server, with nothing in memory, serves the GM: the queue
    // must come from the log.
    drop(alice);
    let (other, _other_server) = spawn_server(db.clone()).await;
    let (mut gm, mut gm_store) = join_at(other, table.session, &table.gm.1).await;
    let queue = gm
        .until(|m| match m {
            ServerMessage::Queue { pending } => Some(pending.clone()),
            _ => None,
        })
        .await;
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].request.id, asked);
    assert_eq!(queue[0].from.user, table.players[0].0.id);

    gm.send(&ClientMessage::Decide(GmDecision {
        action: asked,
        verdict: Verdict::Approve,
    }))
    .await;
    gm.follow(&mut gm_store, 0, 1).await;
    assert_eq!(gm_store.actor(actor).unwrap().hp.current, 15);
    // Alice, back, finds it applied.
    let (_, alice_now) = join_at(other, table.session, &table.players[0].1).await;
    assert_eq!(alice_now.actor(actor).unwrap().hp.current, 15);
    assert_eq!(
        alice_store.actor(actor).unwrap().hp.current,
        20,
        "her old copy, before"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_players_socket_never_carries_a_hidden_token(db: PgPool) {
    let table = table(db.clone()).await;
    let (mut gm, mut gm_store) = join(&table, &table.gm.1).await;
    let (mut alice, mut alice_store) = join(&table, &table.players[0].1).await;
    let hidden = table.hidden.to_string();

    // The GM moves it, marks it, then moves a visible token.
    let first = gm.request(move_to(table.hidden, 800.0)).await;
    let second = gm
        .request(Action::AddCondition {
            token: table.hidden,
            condition: "invisible".into(),
        })
        .await;
    let third = gm.request(move_to(table.players[1].3, 300.0)).await;
    for id in [first, second, third] {
        assert!(matches!(
            gm.status(id).await,
            Ok(RequestStatus::Applied { .. })
        ));
    }
    gm.follow(&mut gm_store, 0, 3).await;
    alice.follow(&mut alice_store, 0, 3).await;
    assert!(
        gm.raw.iter().any(|frame| frame.contains(&hidden)),
        "the GM sees it"
    );
    assert!(
        alice.raw.iter().all(|frame| !frame.contains(&hidden)),
        "not one byte of the hidden token reaches a player"
    );
    assert_eq!(
        alice_store.token(table.players[1].3).unwrap().position.x,
        300.0
    );

    // A player naming it is refused exactly as for a token that does not exist.
    let probe = alice.request(move_to(table.hidden, 0.0)).await;
    let nowhere = TokenId(Uuid::new_v4());
    let unknown = alice.request(move_to(nowhere, 0.0)).await;
    let refused_hidden = alice.status(probe).await.unwrap_err();
    let refused_unknown = alice.status(unknown).await.unwrap_err();
    assert!(refused_hidden.starts_with("no token"), "{refused_hidden}");
    assert_eq!(
        refused_hidden.replace(&hidden, "?"),
        refused_unknown.replace(&nowhere.to_string(), "?")
    );

    // Revealed, it arrives whole.
    let reveal = gm
        .request(Action::SetVisibility {
            token: table.hidden,
            visibility: Visibility::Visible,
        })
        .await;
    assert!(matches!(
        gm.status(reveal).await,
        Ok(RequestStatus::Applied { version: 4 })
    ));
    alice.follow(&mut alice_store, 3, 4).await;
    assert_eq!(alice_store.token(table.hidden).unwrap().position.x, 800.0);
}

#[sqlx::test(migrations = "../migrations")]
async fn fog_of_war_keeps_what_it_covers_off_a_players_socket(db: PgPool) {
    let table = table(db.clone()).await;
    let (mut gm, mut gm_store) = join(&table, &table.gm.1).await;
    let (mut alice, mut alice_store) = join(&table, &table.players[0].1).await;
    let (mut bruno, mut bruno_store) = join(&table, &table.players[1].1).await;
    let bruno_token = table.players[1].3;
    let alice_token = table.players[0].3;
    let fog = |field: &str| {
        shared::path::Path::parse(&format!("encounters/{}/fog/{field}", table.encounter)).unwrap()
    };
    // Fog over the map; alice's cell (2, 2) is lit, bruno's (4, 2) is not.
    let dark = gm
        .request(Action::Edit {
            changes: vec![
                shared::change::Change::set(fog("enabled"), json!(true)),
                shared::change::Change::append(fog("revealed"), json!([[2, 2]])),
            ],
        })
        .await;
    assert!(matches!(
        gm.status(dark).await,
        Ok(RequestStatus::Applied { version: 1 })
    ));
    for (client, store) in [
        (&mut gm, &mut gm_store),
        (&mut alice, &mut alice_store),
        (&mut bruno, &mut bruno_store),
    ] {
        client.follow(store, 0, 1).await;
    }
    assert!(
        alice_store.token(bruno_token).is_none(),
        "bruno is in the dark"
    );
    assert!(
        bruno_store.token(bruno_token).is_some(),
        "bruno knows where he is"
    );
    assert!(
        bruno_store.token(alice_token).is_some(),
        "alice stands in the light"
    );

    // Bruno walks in the dark: alice hears nothing of where to, not even
    // the drag.
    alice.raw.clear();
    bruno
        .send(&ClientMessage::DragPreview {
            token: bruno_token,
            position: Point {
                x: 311.75,
                y: 100.0,
            },
        })
        .await;
    let walk = bruno.request(move_to(bruno_token, 357.25)).await;
    assert!(matches!(
        bruno.status(walk).await,
        Ok(RequestStatus::Applied { version: 2 })
    ));
    gm.until(|m| matches!(m, ServerMessage::DragPreview { .. }).then_some(()))
        .await;
    alice.follow(&mut alice_store, 1, 2).await;
    assert!(
        alice
            .raw
            .iter()
            .all(|frame| !frame.contains("357.25") && !frame.contains("311.75")),
        "no position from the dark: {:?}",
        alice.raw
    );
    // A player naming it is told it does not exist.
    let probe = alice
        .request(Action::AddCondition {
            token: bruno_token,
            condition: "prone".into(),
        })
        .await;
    assert!(
        alice
            .status(probe)
            .await
            .unwrap_err()
            .starts_with("no token")
    );
    // A fresh snapshot of alice's has no trace of it.
    let (_, fresh) = join(&table, &table.players[0].1).await;
    assert!(fresh.token(bruno_token).is_none());
    assert!(
        fresh.actor(table.players[1].2).is_none(),
        "nor of his sheet"
    );

    // The GM lights his cell: he arrives whole, where he is.
    let light = gm
        .request(Action::RevealFog {
            encounter: table.encounter,
            cells: vec![shared::geometry::Cell(7, 2)],
        })
        .await;
    assert!(matches!(
        gm.status(light).await,
        Ok(RequestStatus::Applied { version: 3 })
    ));
    alice.follow(&mut alice_store, 2, 3).await;
    assert_eq!(alice_store.token(bruno_token).unwrap().position.x, 357.25);
    assert_eq!(
        alice_store
            .actor(table.players[1].2)
            .map(|a| a.name.as_str()),
        Some("bruno")
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn the_gm_sets_the_rules_and_makes_an_assistant(db: PgPool) {
    use shared::{action::ActionKind, rules::AutoApprove};
    let table = table(db.clone()).await;
    let (mut gm, _) = join(&table, &table.gm.1).await;
    let (mut alice, _) = join(&table, &table.players[0].1).await;
    let (mut bruno, _) = join(&table, &table.players[1].1).await;
    async fn rules(client: &mut Client) -> ApprovalPolicy {
        client
            .until(|m| match m {
                ServerMessage::Rules { policy } => Some(policy.clone()),
                _ => None,
            })
            .await
    }
    // (Joining waits for the rules, which close the welcome.)

    // Hit points apply at once from now on, for everyone, and the rule is
    // kept with the session.
    let mut policy = ApprovalPolicy::default();
    policy
        .rules
        .insert(ActionKind::AdjustHp, AutoApprove::Always);
    gm.send(&ClientMessage::SetRules {
        policy: policy.clone(),
    })
    .await;
    assert_eq!(rules(&mut alice).await, policy);
    assert_eq!(rules(&mut bruno).await, policy);
    let healed = alice
        .request(Action::AdjustHp {
            actor: table.players[0].2,
            delta: 2,
        })
        .await;
    assert!(matches!(
        alice.status(healed).await,
        Ok(RequestStatus::Applied { .. })
    ));
    let stored = event_log::session_info(&db, table.session)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.policy, policy);

    // A player can do neither.
    bruno
        .send(&ClientMessage::SetRules {
            policy: ApprovalPolicy::default(),
        })
        .await;
    bruno
        .send(&ClientMessage::Delegate {
            user: table.players[1].0.id,
            role: Role::AssistantGm,
        })
        .await;
    for _ in 0..2 {
        let refused = bruno
            .until(|m| match m {
                ServerMessage::Error { error, .. } => Some(error.clone()),
                _ => None,
            })
            .await;
        assert!(
            matches!(refused, shared::Error::Forbidden(_)),
            "{refused:?}"
        );
    }
    assert_eq!(
        event_log::session_info(&db, table.session)
            .await
            .unwrap()
            .unwrap()
            .policy,
        policy
    );

    // Alice becomes an assistant GM: welcomed again, she now sees the
    // hidden token and the queue, and decides.
    gm.send(&ClientMessage::Delegate {
        user: table.players[0].0.id,
        role: Role::AssistantGm,
    })
    .await;
    let you = alice
        .until(|m| match m {
            ServerMessage::Welcome { you, .. } => Some(*you),
            _ => None,
        })
        .await;
    assert_eq!(you.role, Role::AssistantGm);
    let seen = alice
        .until(|m| match m {
            ServerMessage::Snapshot { entities, .. } => Some(entities.clone()),
            _ => None,
        })
        .await;
    assert!(seen.tokens.contains_key(&table.hidden));
    assert_eq!(
        server::campaign::role_of(&db, stored.campaign, table.players[0].0.id)
            .await
            .unwrap(),
        Role::AssistantGm
    );
    let prone = bruno
        .request(Action::AddCondition {
            token: table.players[1].3,
            condition: "prone".into(),
        })
        .await;
    assert!(matches!(
        bruno.status(prone).await,
        Ok(RequestStatus::WaitingForGm { .. })
    ));
    alice
        .send(&ClientMessage::Decide(GmDecision {
            action: prone,
            verdict: Verdict::Approve,
        }))
        .await;
    assert!(matches!(
        bruno.status(prone).await,
        Ok(RequestStatus::Applied { .. })
    ));

    // And back: the hidden token is gone from her view again.
    gm.send(&ClientMessage::Delegate {
        user: table.players[0].0.id,
        role: Role::Player,
    })
    .await;
    let seen = alice
        .until(|m| match m {
            ServerMessage::Snapshot { entities, .. } => Some(entities.clone()),
            _ => None,
        })
        .await;
    assert!(!seen.tokens.contains_key(&table.hidden));
}

#[sqlx::test(migrations = "../migrations")]
async fn a_repeated_action_id_is_applied_once(db: PgPool) {
    let table = table(db.clone()).await;
    let (mut alice, _) = join(&table, &table.players[0].1).await;
    let id = ActionId(Uuid::new_v4());
    let ask = ClientMessage::Request(request(id, move_to(table.players[0].3, 160.0)));
    alice.send(&ask).await;
    let first = alice.status(id).await;
    alice.send(&ask).await;
    let again = alice.status(id).await;
    assert_eq!(first, Ok(RequestStatus::Applied { version: 1 }));
    assert_eq!(again, first);
    // Also across a reconnect, to another server.
    let (other, _other_server) = spawn_server(db.clone()).await;
    let (mut elsewhere, _) = join_at(other, table.session, &table.players[0].1).await;
    elsewhere.send(&ask).await;
    assert_eq!(elsewhere.status(id).await, first);
    assert_eq!(applied_events(&db, table.session).await, 1);
}

/// Every request, decision and applied change is in the log, with who
/// decided, when, and whether a rule did; replaying the log from the first
/// snapshot gives exactly the state the session holds.
#[sqlx::test(migrations = "../migrations")]
async fn the_log_is_an_audit_trail_that_replays_to_the_same_state(db: PgPool) {
    let table = table(db.clone()).await;
    let (mut gm, mut gm_store) = join(&table, &table.gm.1).await;
    let (mut alice, _) = join(&table, &table.players[0].1).await;
    let (alice_user, alice_actor, alice_token) = (
        table.players[0].0.id,
        table.players[0].2,
        table.players[0].3,
    );
    let gm_user = table.gm.0.id;
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
    let (_, fresh) = join(&table, &table.gm.1).await;
    assert_eq!(replayed.entities(), fresh.entities());
    let restrained = replayed.token(alice_token).unwrap();
    assert!(
        restrained.conditions.contains("restrained") && !restrained.conditions.contains("prone")
    );
    assert_eq!(replayed.actor(alice_actor).unwrap().hp.current, 16);
}

/// The server rolls the dice: a roll a client sends is replaced, the
/// result goes to everyone's log, and every face is on its die.
#[sqlx::test(migrations = "../migrations")]
async fn dice_are_rolled_by_the_server(db: PgPool) {
    use shared::dice::{Die, Roll};
    let table = table(db.clone()).await;
    let (mut gm, mut gm_store) = join(&table, &table.gm.1).await;
    let (mut alice, mut alice_store) = join(&table, &table.players[0].1).await;
    let cheat = Roll {
        expression: "3d6".into(),
        dice: vec![Die { sides: 6, face: 6 }; 3],
        total: 18,
    };
    let mut totals = Vec::new();
    for version in 1..=20 {
        let id = alice
            .request(Action::Roll {
                encounter: table.encounter,
                dice: "3d6".into(),
                roll: Some(cheat.clone()),
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
        assert_eq!(entry.by, Some(table.players[0].0.id));
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
        })
        .await;
    assert!(alice.status(nonsense).await.is_err());
}

#[sqlx::test(migrations = "../migrations")]
async fn the_gm_rejects_with_a_reason_and_nothing_changes(db: PgPool) {
    let table = table(db.clone()).await;
    let (mut gm, _) = join(&table, &table.gm.1).await;
    let (mut alice, _) = join(&table, &table.players[0].1).await;
    // Far beyond a speed of 30 ft: waits for the GM.
    let far = alice.request(move_to(table.players[0].3, 5000.0)).await;
    match alice.status(far).await {
        Ok(RequestStatus::WaitingForGm { reason }) => {
            assert!(!reason.contains("no GM"), "the GM is here: {reason}")
        }
        other => panic!("{other:?}"),
    }
    let queued = gm
        .until(|m| match m {
            // The GM joined first: the request arrives on its own, not
            // with the whole queue.
            ServerMessage::Queued { pending } => Some(pending.request.id),
            _ => None,
        })
        .await;
    assert_eq!(queued, far);
    // A player cannot decide.
    alice
        .send(&ClientMessage::Decide(GmDecision {
            action: far,
            verdict: Verdict::Approve,
        }))
        .await;
    let refused = alice
        .until(|m| match m {
            ServerMessage::Error {
                action: Some(a),
                error,
            } if *a == far => Some(error.clone()),
            _ => None,
        })
        .await;
    assert!(matches!(refused, shared::Error::Forbidden(_)));
    gm.send(&ClientMessage::Decide(GmDecision {
        action: far,
        verdict: Verdict::Reject {
            reason: "the river is in the way".into(),
            alternative: None,
        },
    }))
    .await;
    assert_eq!(
        alice.status(far).await,
        Err("the river is in the way".into())
    );
    assert_eq!(applied_events(&db, table.session).await, 0);
    let status: String = sqlx::query_scalar("select status from event_log where action_id = $1")
        .bind(far.0)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(status, "rejected");
    let (_, fresh) = join(&table, &table.players[0].1).await;
    assert_eq!(fresh.token(table.players[0].3).unwrap().position.x, 100.0);
}

#[sqlx::test(migrations = "../migrations")]
async fn malformed_frames_get_an_error_and_oversize_ones_close_cleanly(db: PgPool) {
    let table = table(db.clone()).await;
    let (mut alice, _) = join(&table, &table.players[0].1).await;
    alice.send_text("{not json".into()).await;
    assert!(matches!(
        alice.next().await,
        ServerMessage::Error {
            error: shared::Error::MalformedMessage(_),
            ..
        }
    ));
    alice
        .send_text(r#"{"v":9,"msg":{"type":"ping","nonce":1}}"#.into())
        .await;
    assert!(matches!(
        alice.next().await,
        ServerMessage::Error {
            error: shared::Error::UnsupportedProtocol { .. },
            ..
        }
    ));
    // Still usable.
    alice.send(&ClientMessage::Ping { nonce: 42 }).await;
    assert_eq!(alice.next().await, ServerMessage::Pong { nonce: 42 });

    // Over the frame limit: the server closes the socket; it does not crash.
    alice
        .send_text("x".repeat(shared::protocol::MAX_CLIENT_FRAME + 1))
        .await;
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match alice.ws.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the socket closes");
    // And the server keeps serving.
    let (mut again, _) = join(&table, &table.players[0].1).await;
    again.send(&ClientMessage::Ping { nonce: 7 }).await;
    assert_eq!(again.next().await, ServerMessage::Pong { nonce: 7 });
}

#[sqlx::test(migrations = "../migrations")]
async fn a_client_that_reconnects_catches_up(db: PgPool) {
    let table = table(db.clone()).await;
    let (mut gm, _) = join(&table, &table.gm.1).await;
    let (alice, alice_store) = join(&table, &table.players[0].1).await;
    drop(alice);
    for x in [110.0, 120.0, 130.0] {
        let id = gm.request(move_to(table.players[0].3, x)).await;
        assert!(matches!(
            gm.status(id).await,
            Ok(RequestStatus::Applied { .. })
        ));
    }
    assert_eq!(
        alice_store.token(table.players[0].3).unwrap().position.x,
        100.0
    );
    let mut back = open(table.addr, table.session, &table.players[0].1)
        .await
        .unwrap();
    back.send(&ClientMessage::Hello {
        resume_from: Some(0),
    })
    .await;
    assert!(matches!(
        back.next().await,
        ServerMessage::Welcome { version: 3, .. }
    ));
    let caught_up = back
        .until(|m| match m {
            ServerMessage::Snapshot { version, entities } => Some((*version, entities.clone())),
            _ => None,
        })
        .await;
    assert_eq!(caught_up.0, 3);
    assert_eq!(caught_up.1.tokens[&table.players[0].3].position.x, 130.0);

    // The GM, resuming, gets exactly the commits it missed.
    let mut gm_again = open(table.addr, table.session, &table.gm.1).await.unwrap();
    gm_again
        .send(&ClientMessage::Hello {
            resume_from: Some(1),
        })
        .await;
    assert!(matches!(
        gm_again.next().await,
        ServerMessage::Welcome { version: 3, .. }
    ));
    let versions: Vec<Version> = [gm_again.next().await, gm_again.next().await]
        .into_iter()
        .map(|m| match m {
            ServerMessage::Commit(c) => c.version,
            other => panic!("expected a commit, got {other:?}"),
        })
        .collect();
    assert_eq!(versions, [2, 3]);
}

#[sqlx::test(migrations = "../migrations")]
async fn only_gms_start_sessions_and_only_on_their_encounters(db: PgPool) {
    use axum::{
        body::Body,
        http::{Request, StatusCode, header},
    };
    use tower::ServiceExt;
    let table = table(db.clone()).await;
    let campaign: CampaignId =
        sqlx::query_scalar("select campaign_id from play_sessions where id = $1")
            .bind(table.session.0)
            .fetch_one(&db)
            .await
            .map(CampaignId)
            .unwrap();
    let router = server::router(support::state(db.clone()));
    let start = |cookie: &str, body: serde_json::Value| {
        Request::post(format!("/api/campaigns/{campaign}/sessions"))
            .header(header::COOKIE, cookie)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let status = |response: axum::response::Response| response.status();
    let player = router
        .clone()
        .oneshot(start(
            &table.players[0].1,
            json!({"encounter": table.encounter}),
        ))
        .await
        .unwrap();
    assert_eq!(status(player), StatusCode::FORBIDDEN);
    let elsewhere = router
        .clone()
        .oneshot(start(&table.gm.1, json!({"encounter": Uuid::new_v4()})))
        .await
        .unwrap();
    assert_eq!(status(elsewhere), StatusCode::BAD_REQUEST);
    // A session runs on the encounter already: starting again joins it.
    let again = router
        .clone()
        .oneshot(start(&table.gm.1, json!({"encounter": table.encounter})))
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    let body = axum::body::to_bytes(again.into_body(), 1 << 16)
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<SessionId>(&body).unwrap(),
        table.session
    );
    // Once it ended, a new one starts.
    sqlx::query("update play_sessions set ended_at = now() where id = $1")
        .bind(table.session.0)
        .execute(&db)
        .await
        .unwrap();
    let started = router
        .clone()
        .oneshot(start(&table.gm.1, json!({"encounter": table.encounter})))
        .await
        .unwrap();
    assert_eq!(status(started), StatusCode::CREATED);
    let sessions: i64 = sqlx::query_scalar("select count(*) from play_sessions")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(sessions, 2);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_socket_that_stops_acknowledging_is_held_back_then_caught_up(db: PgPool) {
    let table = table(db.clone()).await;
    let mut state = support::state(db.clone());
    state.hub = state.hub.with_tuning(server::live::Tuning {
        unacked_window: 3,
        ..Default::default()
    });
    let (addr, _server) = spawn_server_with(state).await;
    let (mut gm, mut gm_store) = join_at(addr, table.session, &table.gm.1).await;
    let (mut alice, _) = join_at(addr, table.session, &table.players[0].1).await;
    // The actor answers pings in order with everything else: once the pong
    // is back, what was sent before it was handled.
    async fn settled(client: &mut Client, nonce: u64) -> Vec<ServerMessage> {
        client.send(&ClientMessage::Ping { nonce }).await;
        let mut before = Vec::new();
        loop {
            match client.next().await {
                ServerMessage::Pong { nonce: n } if n == nonce => return before,
                other => before.push(other),
            }
        }
    }
    alice.send(&ClientMessage::Ack { version: 0 }).await;
    settled(&mut alice, 1).await;
    let bruno_token = table.players[1].3;
    for step in 1..=6u64 {
        let id = gm
            .request(move_to(bruno_token, 100.0 + step as f64 * 10.0))
            .await;
        assert_eq!(
            gm.status(id).await,
            Ok(RequestStatus::Applied { version: step })
        );
    }
    gm.follow(&mut gm_store, 0, 6).await;
    // Alice acknowledged nothing past 0: she got three commits, then was
    // held back.
    let received: Vec<Version> = settled(&mut alice, 2)
        .await
        .into_iter()
        .filter_map(|m| match m {
            ServerMessage::Commit(c) => Some(c.version),
            _ => None,
        })
        .collect();
    assert_eq!(received, [1, 2, 3]);
    // Once she acknowledges what she was sent, one snapshot brings her up.
    alice.send(&ClientMessage::Ack { version: 3 }).await;
    match alice.next().await {
        ServerMessage::Snapshot { version, entities } => {
            assert_eq!(version, 6);
            assert_eq!(entities.tokens[&bruno_token].position.x, 160.0);
        }
        other => panic!("expected a snapshot, got {other:?}"),
    }
    // And commits flow again.
    let id = gm.request(move_to(bruno_token, 170.0)).await;
    assert_eq!(
        gm.status(id).await,
        Ok(RequestStatus::Applied { version: 7 })
    );
    let next = alice
        .until(|m| match m {
            ServerMessage::Commit(c) => Some(c.version),
            _ => None,
        })
        .await;
    assert_eq!(next, 7);
}

#[sqlx::test(migrations = "../migrations")]
async fn requests_nobody_decides_expire(db: PgPool) {
    let table = table(db.clone()).await;
    let mut state = support::state(db.clone());
    state.hub = state.hub.with_tuning(server::live::Tuning {
        request_ttl: Duration::from_millis(500),
        ..Default::default()
    });
    let (addr, _server) = spawn_server_with(state).await;
    let (mut alice, _) = join_at(addr, table.session, &table.players[0].1).await;
    let asked = alice
        .request(Action::AdjustHp {
            actor: table.players[0].2,
            delta: 3,
        })
        .await;
    assert!(matches!(
        alice.status(asked).await,
        Ok(RequestStatus::WaitingForGm { .. })
    ));
    let ended = alice.status(asked).await.unwrap_err();
    assert!(ended.contains("did not answer in time"), "{ended}");
    let status: String = sqlx::query_scalar("select status from event_log where action_id = $1")
        .bind(asked.0)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(status, "expired");
    let (mut gm, _) = join_at(addr, table.session, &table.gm.1).await;
    let queue = gm
        .until(|m| match m {
            ServerMessage::Queue { pending } => Some(pending.len()),
            _ => None,
        })
        .await;
    assert_eq!(queue, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn state_since_a_version_over_http(db: PgPool) {
    use axum::{
        body::Body,
        http::{Request, StatusCode, header},
    };
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let table = table(db.clone()).await;
    let router = server::router(support::state(db.clone()));
    let (mut gm, _) = join(&table, &table.gm.1).await;
    for x in [710.0, 720.0] {
        let id = gm.request(move_to(table.hidden, x)).await;
        assert!(matches!(
            gm.status(id).await,
            Ok(RequestStatus::Applied { .. })
        ));
    }
    let get = |cookie: &str, since: &str| {
        Request::get(format!("/api/sessions/{}/state{since}", table.session))
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap()
    };
    let fetch = async |cookie: &str, since: &str| {
        let response = router.clone().oneshot(get(cookie, since)).await.unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(body.to_vec()).unwrap())
    };
    let (status, _) = fetch(&table.gm.1, "?since=2").await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    let (status, body) = fetch(&table.gm.1, "?since=1").await;
    assert_eq!(status, StatusCode::OK);
    let messages: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["msg"]["type"], "commit");
    assert_eq!(messages[0]["msg"]["version"], 2);
    let (status, body) = fetch(&table.players[0].1, "?since=0").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("\"snapshot\""), "{body}");
    assert!(!body.contains(&table.hidden.to_string()));
    let (_, stranger) = support::signed_in(&db, "stranger").await;
    let (status, _) = fetch(&stranger, "?since=0").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[sqlx::test(migrations = "../migrations")]
async fn metrics_count_sockets_sessions_commits_and_waiting_requests(db: PgPool) {
    let table = table(db.clone()).await;
    let (mut alice, _) = join(&table, &table.players[0].1).await;
    let moved = alice.request(move_to(table.players[0].3, 140.0)).await;
    assert!(matches!(
        alice.status(moved).await,
        Ok(RequestStatus::Applied { .. })
    ));
    let asked = alice
        .request(Action::AdjustHp {
            actor: table.players[0].2,
            delta: 1,
        })
        .await;
    assert!(matches!(
        alice.status(asked).await,
        Ok(RequestStatus::WaitingForGm { .. })
    ));
    // Metrics are not served on the public address (tests/http.rs serves
    // them on their own).
    let public = http_get(table.addr, "/metrics").await;
    assert!(public.starts_with("HTTP/1.1 404"), "{public}");
    let text = table.metrics.render().unwrap();
    for line in [
        "tabletop_sockets 1",
        "tabletop_live_sessions 1",
        "tabletop_pending_requests 1",
        "tabletop_commits_total 1",
        "tabletop_commit_seconds_count 1",
        "tabletop_requests_total{outcome=\"applied\"} 1",
        "tabletop_requests_total{outcome=\"queued\"} 1",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
}

/// A server whose sessions keep their record in the Redis the test command
/// starts.
async fn spawn_server_with_redis(
    db: PgPool,
) -> (
    std::net::SocketAddr,
    tokio::task::JoinHandle<()>,
    redis::aio::ConnectionManager,
) {
    let info =
        redis::IntoConnectionInfo::into_connection_info(support::redis_url().as_str()).unwrap();
    let redis = server::cache::connect(&info).await.unwrap();
    let mut state = support::state(db.clone());
    state.redis = Some(redis.clone());
    state.hub = server::live::Hub::new(db, Some(redis.clone()), state.metrics.clone());
    let (addr, server) = spawn_server_with(state).await;
    (addr, server, redis)
}

/// Polls a participant's record until `check` holds (the record is
/// written behind the actor's back, so it lags by a moment).
async fn participant(
    redis: &mut redis::aio::ConnectionManager,
    session: SessionId,
    user: shared::id::UserId,
    check: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let key = server::live::mirror::session_key(session);
    for _ in 0..100 {
        let field: Option<String> = redis::cmd("HGET")
            .arg(&key)
            .arg(format!("participant:{user}"))
            .query_async(redis)
            .await
            .unwrap();
        if let Some(value) = field.map(|f| serde_json::from_str(&f).unwrap())
            && check(&value)
        {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the participant record never matched");
}

#[sqlx::test(migrations = "../migrations")]
async fn the_session_record_lives_in_redis_and_is_rebuilt_when_lost(db: PgPool) {
    let table = table(db.clone()).await;
    let (addr, _server, mut redis) = spawn_server_with_redis(db.clone()).await;
    let key = server::live::mirror::session_key(table.session);
    let alice = &table.players[0];
    let (client, _) = join_at(addr, table.session, &alice.1).await;
    let record = participant(&mut redis, table.session, alice.0.id, |v| {
        v["connected"] == true
    })
    .await;
    assert_eq!(record["role"], "player");
    let ttl: i64 = redis::cmd("TTL")
        .arg(&key)
        .query_async(&mut redis)
        .await
        .unwrap();
    assert!(
        ttl > 0 && ttl <= server::live::mirror::SESSION_TTL_SECONDS,
        "{ttl}"
    );
    drop(client);
    participant(&mut redis, table.session, alice.0.id, |v| {
        v["connected"] == false
    })
    .await;

    // Redis loses everything: the session goes on from PostgreSQL, and its
    // record comes back.
    let _: () = redis::cmd("DEL")
        .arg(&key)
        .query_async(&mut redis)
        .await
        .unwrap();
    let (other, _other_server, _) = spawn_server_with_redis(db.clone()).await;
    let (mut gm, gm_store) = join_at(other, table.session, &table.gm.1).await;
    assert_eq!(gm_store.token(table.hidden).unwrap().position.x, 900.0);
    let moved = gm.request(move_to(table.hidden, 950.0)).await;
    assert!(matches!(
        gm.status(moved).await,
        Ok(RequestStatus::Applied { version: 1 })
    ));
    participant(&mut redis, table.session, table.gm.0.id, |v| {
        v["connected"] == true
    })
    .await;
    let version: Option<String> = redis::cmd("HGET")
        .arg(&key)
        .arg("version")
        .query_async(&mut redis)
        .await
        .unwrap();
    assert!(version.is_some());
    // The encounter's hot copy follows within about a second.
    let hot = server::live::mirror::encounter_key(table.encounter);
    let mut copied = None;
    for _ in 0..60 {
        let (version, state): (Option<String>, Option<String>) = redis::cmd("HMGET")
            .arg(&hot)
            .arg("version")
            .arg("state")
            .query_async(&mut redis)
            .await
            .unwrap();
        if version.as_deref() == Some("1") {
            copied = state;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let entities: shared::store::Entities =
        serde_json::from_str(&copied.expect("a hot copy at version 1")).unwrap();
    assert_eq!(entities.tokens[&table.hidden].position.x, 950.0);
}

/// Requests that arrive together are written together: fewer transactions
/// than commits, and every request still gets its own version.
#[sqlx::test(migrations = "../migrations")]
async fn requests_arriving_together_share_one_write(db: PgPool) {
    let table = table(db.clone()).await;
    let (mut alice, mut store) = join(&table, &table.players[0].1).await;
    let token = table.players[0].3;
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

/// The same action id three times back to back (a client resending in a
/// hurry): one commit, three identical answers.
#[sqlx::test(migrations = "../migrations")]
async fn a_burst_of_one_action_id_is_applied_once(db: PgPool) {
    let table = table(db.clone()).await;
    let (mut alice, _) = join(&table, &table.players[0].1).await;
    let id = ActionId(Uuid::new_v4());
    let ask = ClientMessage::Request(request(id, move_to(table.players[0].3, 170.0)));
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

/// A node that lost a session and does not know it yet cannot move the
/// encounter's hot copy backwards.
#[tokio::test]
async fn the_hot_copy_only_moves_forward() {
    use server::live::mirror::{Mirror, encounter_key};
    let info =
        redis::IntoConnectionInfo::into_connection_info(support::redis_url().as_str()).unwrap();
    let mut redis = server::cache::connect(&info).await.unwrap();
    let encounter = EncounterId(Uuid::new_v4());
    let newer = Mirror::start(Some(redis.clone()), SessionId(Uuid::new_v4()));
    let stale = Mirror::start(Some(redis.clone()), SessionId(Uuid::new_v4()));
    newer.encounter(encounter, 7, "{\"at\":7}".into());
    let read = async |redis: &mut redis::aio::ConnectionManager| -> Option<String> {
        redis::cmd("HGET")
            .arg(encounter_key(encounter))
            .arg("version")
            .query_async(redis)
            .await
            .unwrap()
    };
    for _ in 0..50 {
        if read(&mut redis).await.as_deref() == Some("7") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    newer.encounter(encounter, 8, "{\"at\":8}".into());
    for _ in 0..50 {
        if read(&mut redis).await.as_deref() == Some("8") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The stale node writes after the newer copy landed.
    stale.encounter(encounter, 3, "{\"at\":3}".into());
    // Give the stale write every chance to land.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(read(&mut redis).await.as_deref(), Some("8"));
    let _: () = redis::cmd("DEL")
        .arg(encounter_key(encounter))
        .query_async(&mut redis)
        .await
        .unwrap();
}

/// A client may ask for MessagePack frames: the same messages, smaller.
#[sqlx::test(migrations = "../migrations")]
async fn message_pack_sockets_get_the_same_messages_smaller(db: PgPool) {
    use futures_util::SinkExt;
    use shared::protocol::Encoding;
    use tokio_tungstenite::tungstenite::{client::IntoClientRequest, http::HeaderValue};
    let table = table(db.clone()).await;
    let (mut json_gm, _) = join(&table, &table.gm.1).await;
    let mut request = format!(
        "ws://{}/ws/sessions/{}?encoding=msgpack",
        table.addr, table.session
    )
    .into_client_request()
    .unwrap();
    request.headers_mut().insert(
        "cookie",
        HeaderValue::from_str(&table.players[0].1).unwrap(),
    );
    let (mut packed, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let send = |message: ClientMessage| Message::binary(message.encode_with(Encoding::MessagePack));
    packed
        .send(send(ClientMessage::Hello { resume_from: None }))
        .await
        .unwrap();
    assert!(matches!(
        next_packed(&mut packed).await.1,
        ServerMessage::Welcome { version: 0, .. }
    ));
    assert!(matches!(
        next_packed(&mut packed).await.1,
        ServerMessage::Snapshot { .. }
    ));
    let id = ActionId(Uuid::new_v4());
    packed
        .send(send(ClientMessage::Request(request_for(
            id,
            move_to(table.players[0].3, 130.0),
        ))))
        .await
        .unwrap();
    let (packed_size, commit) = loop {
        if let (size, ServerMessage::Commit(commit)) = next_packed(&mut packed).await {
            break (size, commit);
        }
    };
    assert_eq!(commit.version, 1);
    assert_eq!(commit.action, Some(id));
    let json_commit = json_gm
        .until(|m| match m {
            ServerMessage::Commit(c) => Some(c.clone()),
            _ => None,
        })
        .await;
    assert_eq!(json_commit, commit);
    let json_size = json_gm
        .raw
        .iter()
        .find(|f| f.contains("\"commit\""))
        .unwrap()
        .len();
    assert!(
        packed_size < json_size,
        "{packed_size} bytes packed vs {json_size} as JSON"
    );
}

fn request_for(id: ActionId, action: Action) -> shared::protocol::ActionRequest {
    request(id, action)
}

/// The next MessagePack frame's size and message.
async fn next_packed<S>(socket: &mut S) -> (usize, ServerMessage)
where
    S: futures_util::Stream<Item = Result<Message, tungstenite::Error>> + Unpin,
{
    loop {
        match socket.next().await.unwrap().unwrap() {
            Message::Binary(bytes) => {
                let message =
                    ServerMessage::decode_with(&bytes, shared::protocol::Encoding::MessagePack)
                        .unwrap();
                return (bytes.len(), message);
            }
            Message::Text(text) => panic!("a text frame on a MessagePack socket: {text}"),
            _ => {}
        }
    }
}

/// A session nobody is connected to stops (freeing its memory) and starts
/// again, from the log, for the next socket.
#[sqlx::test(migrations = "../migrations")]
async fn idle_sessions_stop_are_forgotten_and_come_back(db: PgPool) {
    let table = table(db.clone()).await;
    let mut state = support::state(db.clone());
    state.hub = state.hub.with_tuning(server::live::Tuning {
        idle_stop: Duration::from_millis(1500),
        ..Default::default()
    });
    let hub = state.hub.clone();
    let (addr, _server) = spawn_server_with(state).await;
    let (mut alice, _) = join_at(addr, table.session, &table.players[0].1).await;
    let moved = alice.request(move_to(table.players[0].3, 160.0)).await;
    assert!(matches!(
        alice.status(moved).await,
        Ok(RequestStatus::Applied { version: 1 })
    ));
    assert_eq!(hub.running().await, 1);
    drop(alice);
    let stopped = eventually(|| async { hub.running().await == 0 }).await;
    assert!(stopped, "the idle session never stopped");
    // The hub keeps nothing for a stopped session: its maps hold only the
    // sessions in play, however many have come and gone.
    let forgotten = eventually(|| async { hub.tracked().await == 0 }).await;
    assert!(forgotten, "the hub still tracks a stopped session");
    let (_, store) = join_at(addr, table.session, &table.players[0].1).await;
    assert_eq!(store.token(table.players[0].3).unwrap().position.x, 160.0);
    assert_eq!(hub.running().await, 1);
    assert_eq!(hub.tracked().await, 1);
}

/// Whether `holds` comes true within five seconds (asked every 50 ms).
async fn eventually<F: Future<Output = bool>>(holds: impl Fn() -> F) -> bool {
    for _ in 0..100 {
        if holds().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

// The Redis engine: several nodes, one session.

async fn applied_versions(db: &PgPool, session: SessionId) -> Vec<i64> {
    sqlx::query_scalar(
        "select version from event_log where session_id = $1 and status = 'applied' order by version",
    )
    .bind(session.0)
    .fetch_all(db)
    .await
    .unwrap()
}

/// Two nodes serve one session: the first node asked owns it, a client on
/// the other is served through it, commits made through either reach
/// everyone in one order, and filtering holds across nodes.
#[sqlx::test(migrations = "../migrations")]
async fn two_nodes_serve_one_session(db: PgPool) {
    let table = table(db.clone()).await;
    let lease = Duration::from_secs(2);
    let (a, _a_server, hub_a) = spawn_node(db.clone(), lease).await;
    let (b, _b_server, hub_b) = spawn_node(db.clone(), lease).await;
    let alice = &table.players[0];

    let (mut gm, mut gm_store) = join_at(a, table.session, &table.gm.1).await;
    let (mut player, mut player_store) = join_at(b, table.session, &alice.1).await;
    assert_eq!((hub_a.running().await, hub_b.running().await), (1, 0));
    assert!(
        player_store.token(table.hidden).is_none(),
        "the owner filters what it sends through the other node"
    );

    // Both sides at once: one order, no version twice.
    let mut gm_ids = Vec::new();
    let mut player_ids = Vec::new();
    for step in 0..10 {
        let (g, p) = tokio::join!(
            gm.request(move_to(table.hidden, 500.0 + f64::from(step))),
            player.request(move_to(alice.3, 100.0 + f64::from(step))),
        );
        gm_ids.push(g);
        player_ids.push(p);
    }
    for id in player_ids {
        assert!(matches!(
            player.status(id).await,
            Ok(RequestStatus::Applied { .. })
        ));
    }
    for id in gm_ids {
        assert!(matches!(
            gm.status(id).await,
            Ok(RequestStatus::Applied { .. })
        ));
    }
    assert_eq!(
        applied_versions(&db, table.session).await,
        (1..=20).collect::<Vec<_>>()
    );
    gm.follow(&mut gm_store, 0, 20).await;
    // The player hears of its own ten moves as commits; the GM's moves of
    // the hidden token reach it as nothing at all.
    let mut at = 0;
    while player_store.token(alice.3).map(|t| t.position.x) != Some(109.0) {
        let commit = player
            .until(|m| match m {
                ServerMessage::Commit(c) => Some(c.clone()),
                _ => None,
            })
            .await;
        assert!(commit.version > at, "in order");
        at = commit.version;
        player_store.apply_all(&commit.changes).unwrap();
    }
    assert_eq!(gm_store.token(alice.3).map(|t| t.position.x), Some(109.0));
    assert_eq!(
        gm_store.token(table.hidden).map(|t| t.position.x),
        Some(509.0)
    );
    let hidden = table.hidden.to_string();
    assert!(
        player.raw.iter().all(|frame| !frame.contains(&hidden)),
        "a player's socket on another node never carries the hidden token"
    );

    // HTTP sync through the node that does not own the session: answered
    // by the owner, filtered for the asker.
    let path = |since: u64| format!("/api/sessions/{}/state?since={since}", table.session);
    let current = http_get_as(b, &path(20), &table.gm.1).await;
    assert!(current.starts_with("HTTP/1.1 304"), "{current}");
    let behind = http_get_as(b, &path(19), &table.gm.1).await;
    assert!(behind.starts_with("HTTP/1.1 200"), "{behind}");
    assert!(behind.contains("\"version\":20"), "{behind}");
    let fresh = http_get_as(b, &path(0), &alice.1).await;
    assert!(fresh.contains("\"snapshot\""), "{fresh}");
    assert!(!fresh.contains(&hidden), "{fresh}");

    // Leaving through the other node reaches the owner: the GM sees it.
    drop(player);
    gm.until(|m| match m {
        ServerMessage::Presence {
            user,
            connected: false,
        } if *user == alice.0.id => Some(()),
        _ => None,
    })
    .await;
}

/// The owner loses the session (its lease is gone, as when Redis is
/// flushed): it stops, its sockets and those forwarded to it close, and
/// the session comes back from PostgreSQL on whichever node is asked next,
/// with every commit and a new fencing epoch.
#[sqlx::test(migrations = "../migrations")]
async fn a_lost_lease_moves_the_session_to_another_node(db: PgPool) {
    let table = table(db.clone()).await;
    let lease = Duration::from_millis(600);
    let (a, _a_server, hub_a) = spawn_node(db.clone(), lease).await;
    let (b, _b_server, hub_b) = spawn_node(db.clone(), lease).await;
    let alice = &table.players[0];
    let (mut gm, mut gm_store) = join_at(a, table.session, &table.gm.1).await;
    let (mut player, _) = join_at(b, table.session, &alice.1).await;
    let moved = player.request(move_to(alice.3, 130.0)).await;
    assert!(matches!(
        player.status(moved).await,
        Ok(RequestStatus::Applied { version: 1 })
    ));
    gm.follow(&mut gm_store, 0, 1).await;
    let epoch = |db: PgPool| async move {
        sqlx::query_scalar::<_, i64>("select epoch from play_sessions where id = $1")
            .bind(table.session.0)
            .fetch_one(&db)
            .await
            .unwrap()
    };
    let before = epoch(db.clone()).await;

    let mut redis = server::cache::connect(
        &redis::IntoConnectionInfo::into_connection_info(support::redis_url().as_str()).unwrap(),
    )
    .await
    .unwrap();
    let _: () = redis::cmd("DEL")
        .arg(server::live::lease::owner_key(table.session))
        .query_async(&mut redis)
        .await
        .unwrap();
    closed(&mut gm).await;
    closed(&mut player).await;

    // The player comes back first, on B: B owns the session now.
    let (mut player, version) = resume(b, table.session, &alice.1, 1).await;
    assert_eq!(version, 1);
    assert_eq!((hub_a.running().await, hub_b.running().await), (0, 1));
    assert!(
        epoch(db.clone()).await > before,
        "the takeover fenced A out"
    );
    let (mut gm, version) = resume(a, table.session, &table.gm.1, 1).await;
    assert_eq!(version, 1);
    let moved = gm.request(move_to(table.hidden, 990.0)).await;
    assert!(matches!(
        gm.status(moved).await,
        Ok(RequestStatus::Applied { version: 2 })
    ));
    let moved = player.request(move_to(alice.3, 140.0)).await;
    assert!(matches!(
        player.status(moved).await,
        Ok(RequestStatus::Applied { version: 3 })
    ));
    gm.follow(&mut gm_store, 1, 3).await;
    assert_eq!(gm_store.token(alice.3).map(|t| t.position.x), Some(140.0));
    assert_eq!(applied_versions(&db, table.session).await, [1, 2, 3]);
}

/// Ending a session writes what the table ended with back to the campaign
/// (tokens, conditions, hit points, turn order), refuses what still waits
/// for the GM, tells everyone, closes the sockets and takes nothing more;
/// the next session on the encounter starts from there.
#[sqlx::test(migrations = "../migrations")]
async fn ending_a_session_keeps_the_table_in_the_campaign_and_takes_nothing_more(db: PgPool) {
    let table = table(db.clone()).await;
    let (mut gm, _) = join(&table, &table.gm.1).await;
    let (mut alice, _) = join(&table, &table.players[0].1).await;
    let (alice_actor, alice_token) = (table.players[0].2, table.players[0].3);
    let applied = |status: Result<RequestStatus, String>| {
        assert!(
            matches!(status, Ok(RequestStatus::Applied { .. })),
            "{status:?}"
        )
    };
    let moved = alice.request(move_to(alice_token, 150.0)).await;
    applied(alice.status(moved).await);
    for action in [
        Action::AdjustHp {
            actor: alice_actor,
            delta: -7,
        },
        Action::AddCondition {
            token: alice_token,
            condition: "prone".into(),
        },
        move_to(table.hidden, 700.0),
        Action::RollInitiative {
            encounter: table.encounter,
            tokens: vec![alice_token, table.players[1].3],
            rolls: None,
        },
    ] {
        let asked = gm.request(action).await;
        applied(gm.status(asked).await);
    }
    let waits = alice
        .request(Action::AdjustHp {
            actor: alice_actor,
            delta: 3,
        })
        .await;
    assert!(matches!(
        alice.status(waits).await,
        Ok(RequestStatus::WaitingForGm { .. })
    ));

    // A player may not end it.
    alice.send(&ClientMessage::EndSession).await;
    let refused = alice
        .until(|m| match m {
            ServerMessage::Error {
                action: None,
                error,
            } => Some(error.clone()),
            _ => None,
        })
        .await;
    assert!(
        matches!(refused, shared::Error::Forbidden(_)),
        "{refused:?}"
    );

    gm.send(&ClientMessage::EndSession).await;
    assert_eq!(
        alice.status(waits).await,
        Err("the GM ended the session".into()),
        "what waited is refused"
    );
    for client in [&mut alice, &mut gm] {
        let by = client
            .until(|m| match m {
                ServerMessage::Ended { by } => Some(*by),
                _ => None,
            })
            .await;
        assert_eq!(by, table.gm.0.id);
        closed(client).await;
    }

    let campaign: Uuid = sqlx::query_scalar("select campaign_id from play_sessions where id = $1")
        .bind(table.session.0)
        .fetch_one(&db)
        .await
        .unwrap();
    let campaign = CampaignId(campaign);
    let (kept, tokens) = encounter::load(&db, campaign, table.encounter)
        .await
        .unwrap();
    let token = |id: TokenId| tokens.iter().find(|t| t.id == id).unwrap();
    assert_eq!(token(alice_token).position.x, 150.0);
    assert!(token(alice_token).conditions.contains("prone"));
    assert_eq!(token(table.hidden).position.x, 700.0);
    assert_eq!(token(table.hidden).visibility, Visibility::Hidden);
    assert_eq!(kept.initiative.round, 1);
    assert_eq!(kept.initiative.order.len(), 2);
    let stats: serde_json::Value =
        sqlx::query_scalar("select current_stats from actors where id = $1")
            .bind(alice_actor.0)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(
        stats["hp"],
        json!(13),
        "20 - 7; the refused heal is not in it"
    );
    assert_eq!(stats["conditions"], json!(["prone"]), "her only token's");
    let ended: bool =
        sqlx::query_scalar("select ended_at is not null from play_sessions where id = $1")
            .bind(table.session.0)
            .fetch_one(&db)
            .await
            .unwrap();
    assert!(ended);

    // Nothing more: no socket opens on it.
    assert!(open(table.addr, table.session, &table.gm.1).await.is_err());
    // The next session starts where this one stopped.
    let next = event_log::start_session(
        &db,
        campaign,
        Some(table.encounter),
        table.gm.0.id,
        &ApprovalPolicy::default(),
    )
    .await
    .unwrap();
    let (_, resumed) = join_at(table.addr, next, &table.players[0].1).await;
    assert_eq!(resumed.token(alice_token).unwrap().position.x, 150.0);
    assert!(
        resumed
            .token(alice_token)
            .unwrap()
            .conditions
            .contains("prone")
    );
    assert_eq!(resumed.actor(alice_actor).unwrap().hp.current, 13);
    assert!(
        resumed.token(table.hidden).is_none(),
        "still hidden from her"
    );
}
