//! Redis underneath: the session record and the hot copy, then several
//! nodes serving one session on the Redis engine.

use super::*;

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
    let redis = server::redis_conn::connect(&info).await.unwrap();
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
    let alice = &table.alice;
    let (client, _) = join_at(addr, table.session, &alice.cookie).await;
    let record = participant(&mut redis, table.session, alice.user.id, |v| {
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
    participant(&mut redis, table.session, alice.user.id, |v| {
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
    let (mut gm, gm_store) = join_at(other, table.session, &table.gm.cookie).await;
    assert_eq!(gm_store.token(table.hidden).unwrap().position.x, 900.0);
    let moved = gm.request(move_to(table.hidden, 950.0)).await;
    assert!(matches!(
        gm.status(moved).await,
        Ok(RequestStatus::Applied { version: 1 })
    ));
    participant(&mut redis, table.session, table.gm.user.id, |v| {
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

/// A node that lost a session and does not know it yet cannot move the
/// encounter's hot copy backwards.
#[tokio::test]
async fn the_hot_copy_only_moves_forward() {
    use server::live::mirror::{Mirror, encounter_key};
    let info =
        redis::IntoConnectionInfo::into_connection_info(support::redis_url().as_str()).unwrap();
    let mut redis = server::redis_conn::connect(&info).await.unwrap();
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
    let alice = &table.alice;

    let (mut gm, mut gm_store) = join_at(a, table.session, &table.gm.cookie).await;
    let (mut player, mut player_store) = join_at(b, table.session, &alice.cookie).await;
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
            player.request(move_to(alice.token, 100.0 + f64::from(step))),
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
    while player_store.token(alice.token).map(|t| t.position.x) != Some(109.0) {
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
    assert_eq!(
        gm_store.token(alice.token).map(|t| t.position.x),
        Some(109.0)
    );
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
    let current = http_get_as(b, &path(20), &table.gm.cookie).await;
    assert!(current.starts_with("HTTP/1.1 304"), "{current}");
    let behind = http_get_as(b, &path(19), &table.gm.cookie).await;
    assert!(behind.starts_with("HTTP/1.1 200"), "{behind}");
    assert!(behind.contains("\"version\":20"), "{behind}");
    let fresh = http_get_as(b, &path(0), &alice.cookie).await;
    assert!(fresh.contains("\"snapshot\""), "{fresh}");
    assert!(!fresh.contains(&hidden), "{fresh}");

    // Leaving through the other node reaches the owner: the GM sees it.
    drop(player);
    gm.until(|m| match m {
        ServerMessage::Presence {
            user,
            connected: false,
        } if *user == alice.user.id => Some(()),
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
    let alice = &table.alice;
    let (mut gm, mut gm_store) = join_at(a, table.session, &table.gm.cookie).await;
    let (mut player, _) = join_at(b, table.session, &alice.cookie).await;
    let moved = player.request(move_to(alice.token, 130.0)).await;
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

    let mut redis = server::redis_conn::connect(
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
    let (mut player, version) = resume(b, table.session, &alice.cookie, 1).await;
    assert_eq!(version, 1);
    assert_eq!((hub_a.running().await, hub_b.running().await), (0, 1));
    assert!(
        epoch(db.clone()).await > before,
        "the takeover fenced A out"
    );
    let (mut gm, version) = resume(a, table.session, &table.gm.cookie, 1).await;
    assert_eq!(version, 1);
    let moved = gm.request(move_to(table.hidden, 990.0)).await;
    assert!(matches!(
        gm.status(moved).await,
        Ok(RequestStatus::Applied { version: 2 })
    ));
    let moved = player.request(move_to(alice.token, 140.0)).await;
    assert!(matches!(
        player.status(moved).await,
        Ok(RequestStatus::Applied { version: 3 })
    ));
    gm.follow(&mut gm_store, 1, 3).await;
    assert_eq!(
        gm_store.token(alice.token).map(|t| t.position.x),
        Some(140.0)
    );
    assert_eq!(applied_versions(&db, table.session).await, [1, 2, 3]);
}
