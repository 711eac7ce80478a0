//! What the GM decides: approval while away and back, rejection, the
//! rules and assistant GMs, who may start a session, expiry, and the end
//! of the session. (About 500 lines: the end-of-session test alone checks
//! every part of the table written back.)

use super::*;

/// The seed's second test: a request that needs the GM waits while the GM
/// is away, is presented when the GM comes back, and applies on approval.
#[sqlx::test(migrations = "../migrations")]
async fn a_request_waits_for_an_absent_gm_and_applies_on_approval(db: PgPool) {
    let table = table(db.clone()).await;
    let (mut alice, alice_store) = join(&table, &table.alice.cookie).await;
    let actor = table.alice.actor;
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
    let (mut gm, mut gm_store) = join_at(other, table.session, &table.gm.cookie).await;
    let queue = gm
        .until(|m| match m {
            ServerMessage::Queue { pending } => Some(pending.clone()),
            _ => None,
        })
        .await;
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].request.id, asked);
    assert_eq!(queue[0].from.user, table.alice.user.id);

    gm.send(&ClientMessage::Decide(GmDecision {
        action: asked,
        verdict: Verdict::Approve,
    }))
    .await;
    gm.follow(&mut gm_store, 0, 1).await;
    assert_eq!(gm_store.actor(actor).unwrap().hp.unwrap().current, 15);
    // Alice, back, finds it applied.
    let (_, alice_now) = join_at(other, table.session, &table.alice.cookie).await;
    assert_eq!(alice_now.actor(actor).unwrap().hp.unwrap().current, 15);
    assert_eq!(
        alice_store.actor(actor).unwrap().hp.unwrap().current,
        20,
        "her old copy, before"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn the_gm_rejects_with_a_reason_and_nothing_changes(db: PgPool) {
    let table = table(db.clone()).await;
    let (mut gm, _) = join(&table, &table.gm.cookie).await;
    let (mut alice, _) = join(&table, &table.alice.cookie).await;
    // Far beyond a speed of 30 ft: waits for the GM.
    let far = alice.request(move_to(table.alice.token, 5000.0)).await;
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
    let (_, fresh) = join(&table, &table.alice.cookie).await;
    assert_eq!(fresh.token(table.alice.token).unwrap().position.x, 100.0);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_gm_sets_the_rules_and_makes_an_assistant(db: PgPool) {
    use shared::{action::ActionKind, rules::AutoApprove};
    let table = table(db.clone()).await;
    let (mut gm, _) = join(&table, &table.gm.cookie).await;
    let (mut alice, _) = join(&table, &table.alice.cookie).await;
    let (mut bruno, _) = join(&table, &table.bruno.cookie).await;
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
            actor: table.alice.actor,
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
            user: table.bruno.user.id,
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
        user: table.alice.user.id,
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
        server::campaign::role_of(&db, stored.campaign, table.alice.user.id)
            .await
            .unwrap(),
        Role::AssistantGm
    );
    let prone = bruno
        .request(Action::AddCondition {
            token: table.bruno.token,
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
        user: table.alice.user.id,
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
    let router = server::router(engine_state(db.clone(), Default::default()).await);
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
            &table.alice.cookie,
            json!({"encounter": table.encounter}),
        ))
        .await
        .unwrap();
    assert_eq!(status(player), StatusCode::FORBIDDEN);
    let elsewhere = router
        .clone()
        .oneshot(start(
            &table.gm.cookie,
            json!({"encounter": Uuid::new_v4()}),
        ))
        .await
        .unwrap();
    assert_eq!(status(elsewhere), StatusCode::BAD_REQUEST);
    // A session runs on the encounter already: starting again joins it.
    let again = router
        .clone()
        .oneshot(start(
            &table.gm.cookie,
            json!({"encounter": table.encounter}),
        ))
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
        .oneshot(start(
            &table.gm.cookie,
            json!({"encounter": table.encounter}),
        ))
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
async fn requests_nobody_decides_expire(db: PgPool) {
    let table = table(db.clone()).await;
    let state = engine_state(
        db.clone(),
        server::live::Tuning {
            request_ttl: Duration::from_millis(500),
            ..Default::default()
        },
    )
    .await;
    let (addr, _server) = spawn_server_with(state).await;
    let (mut alice, _) = join_at(addr, table.session, &table.alice.cookie).await;
    let asked = alice
        .request(Action::AdjustHp {
            actor: table.alice.actor,
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
    let (mut gm, _) = join_at(addr, table.session, &table.gm.cookie).await;
    let queue = gm
        .until(|m| match m {
            ServerMessage::Queue { pending } => Some(pending.len()),
            _ => None,
        })
        .await;
    assert_eq!(queue, 0);
}

/// Ending a session writes what the table ended with back to the campaign
/// (tokens, conditions, hit points, turn order), refuses what still waits
/// for the GM, tells everyone, closes the sockets and takes nothing more;
/// the next session on the encounter starts from there.
#[sqlx::test(migrations = "../migrations")]
async fn ending_a_session_keeps_the_table_in_the_campaign_and_takes_nothing_more(db: PgPool) {
    let table = table(db.clone()).await;
    let (mut gm, _) = join(&table, &table.gm.cookie).await;
    let (mut alice, _) = join(&table, &table.alice.cookie).await;
    let (alice_actor, alice_token) = (table.alice.actor, table.alice.token);
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
            tokens: vec![alice_token, table.bruno.token],
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
                ServerMessage::Ended { by, next: None } => Some(*by),
                _ => None,
            })
            .await;
        assert_eq!(by, table.gm.user.id);
        closed(client).await;
    }

    let campaign: Uuid = sqlx::query_scalar("select campaign_id from play_sessions where id = $1")
        .bind(table.session.0)
        .fetch_one(&db)
        .await
        .unwrap();
    let campaign = CampaignId(campaign);
    let encounter::Loaded {
        encounter: kept,
        tokens,
        ..
    } = encounter::load(&db, campaign, table.encounter)
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
    assert!(
        open(table.addr, table.session, &table.gm.cookie)
            .await
            .is_err()
    );
    // The next session starts where this one stopped.
    let next = event_log::start_session(
        &db,
        campaign,
        Some(table.encounter),
        table.gm.user.id,
        &ApprovalPolicy::default(),
    )
    .await
    .unwrap();
    let (_, resumed) = join_at(table.addr, next, &table.alice.cookie).await;
    assert_eq!(resumed.token(alice_token).unwrap().position.x, 150.0);
    assert!(
        resumed
            .token(alice_token)
            .unwrap()
            .conditions
            .contains("prone")
    );
    assert_eq!(resumed.actor(alice_actor).unwrap().hp.unwrap().current, 13);
    assert!(
        resumed.token(table.hidden).is_none(),
        "still hidden from her"
    );
}

/// The GM moves the table to another encounter of the campaign without
/// ending the evening: the session ends written back, one starts on the
/// other encounter with the same rules, every socket is told where, and
/// the characters arrive there as they left (hit points). A player may not
/// move it; the encounter on the table and another campaign's are refused,
/// and the table plays on.
#[sqlx::test(migrations = "../migrations")]
async fn the_gm_moves_the_table_to_another_encounter_and_everyone_follows(db: PgPool) {
    use shared::{action::ActionKind, rules::AutoApprove};
    let table = table(db.clone()).await;
    let (mut gm, _) = join(&table, &table.gm.cookie).await;
    let (mut alice, _) = join(&table, &table.alice.cookie).await;
    let new_encounter = |campaign: CampaignId, name: &str| encounter::NewEncounter {
        campaign,
        name: name.into(),
        map: None,
        settings: shared::encounter::MapSettings {
            grid_size: 50.0,
            ..Default::default()
        },
    };
    let cave = encounter::create(&db, &new_encounter(table.campaign, "Cave"))
        .await
        .unwrap();
    let in_the_cave = support::table::place(
        &db,
        table.campaign,
        cave,
        Some(table.alice.actor),
        300.0,
        Visibility::Visible,
    )
    .await;
    let elsewhere = server::campaign::create(
        &db,
        table.gm.user.id,
        &shared::campaign::NewCampaign::parse("Elsewhere", "dnd5e").unwrap(),
    )
    .await
    .unwrap()
    .id;
    let foreign = encounter::create(&db, &new_encounter(elsewhere, "Not yours"))
        .await
        .unwrap();
    let mut policy = ApprovalPolicy::default();
    policy
        .rules
        .insert(ActionKind::AdjustHp, AutoApprove::Always);
    gm.send(&ClientMessage::SetRules {
        policy: policy.clone(),
    })
    .await;
    let hurt = gm
        .request(Action::AdjustHp {
            actor: table.alice.actor,
            delta: -4,
        })
        .await;
    assert!(matches!(
        gm.status(hurt).await,
        Ok(RequestStatus::Applied { .. })
    ));

    async fn refusal(client: &mut Client, message: ClientMessage) -> shared::Error {
        client.send(&message).await;
        client
            .until(|m| match m {
                ServerMessage::Error {
                    action: None,
                    error,
                } => Some(error.clone()),
                _ => None,
            })
            .await
    }
    let to = |encounter| ClientMessage::MoveTable { encounter };
    let refused = refusal(&mut alice, to(cave)).await;
    assert!(
        matches!(refused, shared::Error::Forbidden(_)),
        "{refused:?}"
    );
    let refused = refusal(&mut gm, to(table.encounter)).await;
    assert!(
        matches!(refused, shared::Error::InvalidAction(_)),
        "{refused:?}"
    );
    let refused = refusal(&mut gm, to(foreign)).await;
    assert!(
        matches!(refused, shared::Error::UnknownEntity { .. }),
        "{refused:?}"
    );
    // Still playing after the refusals.
    let moved = alice.request(move_to(table.alice.token, 150.0)).await;
    assert!(matches!(
        alice.status(moved).await,
        Ok(RequestStatus::Applied { .. })
    ));

    gm.send(&to(cave)).await;
    let mut told = Vec::new();
    for client in [&mut alice, &mut gm] {
        let (by, next) = client
            .until(|m| match m {
                ServerMessage::Ended { by, next } => Some((*by, *next)),
                _ => None,
            })
            .await;
        assert_eq!(by, table.gm.user.id);
        told.push(next.expect("told where the table went"));
        closed(client).await;
    }
    assert_eq!(told[0], told[1]);
    let next = told[0];
    let (running_on, kept_rules): (Option<Uuid>, serde_json::Value) = sqlx::query_as(
        "select encounter_id, approval_policy from play_sessions where id = $1 and ended_at is null",
    )
    .bind(next.0)
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(running_on, Some(cave.0));
    assert_eq!(
        serde_json::from_value::<ApprovalPolicy>(kept_rules).unwrap(),
        policy
    );
    assert!(
        open(table.addr, table.session, &table.gm.cookie)
            .await
            .is_err(),
        "the old table is closed"
    );

    let (_, there) = join_at(table.addr, next, &table.alice.cookie).await;
    assert!(there.encounter(cave).is_some());
    assert!(there.encounter(table.encounter).is_none());
    assert!(there.token(in_the_cave).is_some());
    assert!(
        there.token(table.alice.token).is_none(),
        "the crossroads' tokens stayed there"
    );
    assert_eq!(
        there.actor(table.alice.actor).unwrap().hp.unwrap().current,
        16,
        "20 - 4, carried over"
    );
}
