//! The connection itself: bad frames, reconnecting and catching up, the
//! window of unacknowledged commits, sync over HTTP, metrics, MessagePack
//! frames, and sessions that stop when idle.

use super::*;

#[sqlx::test(migrations = "../migrations")]
async fn malformed_frames_get_an_error_and_oversize_ones_close_with_1009(db: PgPool) {
    let table = table(db.clone()).await;
    let (mut alice, _) = join(&table, &table.alice.cookie).await;
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

    // Over the frame limit: the server closes the socket saying why (1009,
    // "message too big"), not by dropping the connection; it does not crash.
    alice
        .send_text("x".repeat(shared::protocol::MAX_CLIENT_FRAME + 1))
        .await;
    let said = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match alice.ws.next().await {
                Some(Ok(Message::Close(frame))) => break frame.map(|f| u16::from(f.code)),
                None | Some(Err(_)) => break None,
                Some(Ok(_)) => {}
            }
        }
    })
    .await
    .expect("the socket closes");
    assert_eq!(
        said,
        Some(1009),
        "closed with a close frame saying the frame is too big"
    );
    // And the server keeps serving.
    let (mut again, _) = join(&table, &table.alice.cookie).await;
    again.send(&ClientMessage::Ping { nonce: 7 }).await;
    assert_eq!(again.next().await, ServerMessage::Pong { nonce: 7 });
}

#[sqlx::test(migrations = "../migrations")]
async fn a_client_that_reconnects_catches_up(db: PgPool) {
    let table = table(db.clone()).await;
    let (mut gm, _) = join(&table, &table.gm.cookie).await;
    let (alice, alice_store) = join(&table, &table.alice.cookie).await;
    drop(alice);
    for x in [110.0, 120.0, 130.0] {
        let id = gm.request(move_to(table.alice.token, x)).await;
        assert!(matches!(
            gm.status(id).await,
            Ok(RequestStatus::Applied { .. })
        ));
    }
    assert_eq!(
        alice_store.token(table.alice.token).unwrap().position.x,
        100.0
    );
    let mut back = open(table.addr, table.session, &table.alice.cookie)
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
    assert_eq!(caught_up.1.tokens[&table.alice.token].position.x, 130.0);

    // The GM, resuming, gets exactly the commits it missed.
    let mut gm_again = open(table.addr, table.session, &table.gm.cookie)
        .await
        .unwrap();
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
async fn a_socket_that_stops_acknowledging_is_held_back_then_caught_up(db: PgPool) {
    let table = table(db.clone()).await;
    let state = engine_state(
        db.clone(),
        server::live::Tuning {
            unacked_window: 3,
            ..Default::default()
        },
    )
    .await;
    let (addr, _server) = spawn_server_with(state).await;
    let (mut gm, mut gm_store) = join_at(addr, table.session, &table.gm.cookie).await;
    let (mut alice, _) = join_at(addr, table.session, &table.alice.cookie).await;
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
    let bruno_token = table.bruno.token;
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
async fn state_since_a_version_over_http(db: PgPool) {
    use axum::{
        body::Body,
        http::{Request, StatusCode, header},
    };
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let table = table(db.clone()).await;
    let router = server::router(engine_state(db.clone(), Default::default()).await);
    let (mut gm, _) = join(&table, &table.gm.cookie).await;
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
    let (status, _) = fetch(&table.gm.cookie, "?since=2").await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    let (status, body) = fetch(&table.gm.cookie, "?since=1").await;
    assert_eq!(status, StatusCode::OK);
    let messages: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["msg"]["type"], "commit");
    assert_eq!(messages[0]["msg"]["version"], 2);
    let (status, body) = fetch(&table.alice.cookie, "?since=0").await;
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
    let (mut alice, _) = join(&table, &table.alice.cookie).await;
    let moved = alice.request(move_to(table.alice.token, 140.0)).await;
    assert!(matches!(
        alice.status(moved).await,
        Ok(RequestStatus::Applied { .. })
    ));
    let asked = alice
        .request(Action::AdjustHp {
            actor: table.alice.actor,
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

/// A client may ask for MessagePack frames: the same messages, smaller.
#[sqlx::test(migrations = "../migrations")]
async fn message_pack_sockets_get_the_same_messages_smaller(db: PgPool) {
    use futures_util::SinkExt;
    use shared::protocol::Encoding;
    use tokio_tungstenite::tungstenite::{client::IntoClientRequest, http::HeaderValue};
    let table = table(db.clone()).await;
    let (mut json_gm, _) = join(&table, &table.gm.cookie).await;
    let mut request = format!(
        "ws://{}/ws/sessions/{}?encoding=msgpack",
        table.addr, table.session
    )
    .into_client_request()
    .unwrap();
    request.headers_mut().insert(
        "cookie",
        HeaderValue::from_str(&table.alice.cookie).unwrap(),
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
            move_to(table.alice.token, 130.0),
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
    let state = engine_state(
        db.clone(),
        server::live::Tuning {
            idle_stop: Duration::from_millis(1500),
            ..Default::default()
        },
    )
    .await;
    let hub = state.hub.clone();
    let (addr, _server) = spawn_server_with(state).await;
    let (mut alice, _) = join_at(addr, table.session, &table.alice.cookie).await;
    let moved = alice.request(move_to(table.alice.token, 160.0)).await;
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
    let (_, store) = join_at(addr, table.session, &table.alice.cookie).await;
    assert_eq!(store.token(table.alice.token).unwrap().position.x, 160.0);
    assert_eq!(hub.running().await, 1);
    assert_eq!(hub.tracked().await, 1);
}

/// The per-socket rate limit refuses what comes too fast with the action's
/// id, so that the client takes back the change it showed, and changes
/// nothing; acknowledgements, which a browser sends as commits arrive, do
/// not use it up.
#[sqlx::test(migrations = "../migrations")]
async fn the_rate_limit_refuses_with_the_action_id_and_spares_acknowledgements(db: PgPool) {
    let table = table(db.clone()).await;
    let (mut alice, _) = join(&table, &table.alice.cookie).await;
    // Twice the burst of acknowledgements, at once: none is refused.
    for _ in 0..240 {
        alice.send(&ClientMessage::Ack { version: 0 }).await;
    }
    let first = alice.request(move_to(table.alice.token, 150.0)).await;
    let answer = alice
        .until(|m| match m {
            ServerMessage::Error { error, .. } => Some(Err(error.to_string())),
            ServerMessage::Received { action, .. } | ServerMessage::Rejected { action, .. }
                if *action == first =>
            {
                Some(Ok(()))
            }
            _ => None,
        })
        .await;
    assert_eq!(answer, Ok(()), "an acknowledgement was refused");
    // Requests far past the burst, at once: those refused are named.
    let sent: Vec<ActionId> = {
        let mut sent = Vec::new();
        for n in 0..250 {
            let x = 150.0 + f64::from(n % 2) * 70.0;
            sent.push(alice.request(move_to(table.alice.token, x)).await);
        }
        sent
    };
    let mut refused = Vec::new();
    let mut acted_on = 0;
    for &id in &sent {
        let outcome = alice
            .until(|m| match m {
                ServerMessage::Error {
                    action: Some(a),
                    error,
                } if *a == id => Some(Err(error.to_string())),
                ServerMessage::Received { action, .. } | ServerMessage::Rejected { action, .. }
                    if *action == id =>
                {
                    Some(Ok(()))
                }
                _ => None,
            })
            .await;
        match outcome {
            Ok(()) => acted_on += 1,
            Err(error) => {
                assert!(error.contains("too many"), "{error}");
                refused.push(id);
            }
        }
    }
    assert!(refused.len() >= 50, "{} refused of 250", refused.len());
    assert!(acted_on >= 100, "{acted_on} acted on of 250");
    // Nothing refused reached the log.
    let logged: i64 =
        sqlx::query_scalar("SELECT (SELECT count(*) FROM event_log WHERE action_id = ANY($1)) + (SELECT count(*) FROM session_actions WHERE action_id = ANY($1))")
            .bind(refused.iter().map(|a| a.0).collect::<Vec<_>>())
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(logged, 0);
}
