//! The server binary as an operator runs it: start-up errors, health over a
//! real socket, and graceful shutdown on SIGTERM.
//!
//! Longer than 500 lines on purpose: every file under `tests/` is its own
//! test binary linking the whole server, so one subject stays one file.

mod support;

use std::{
    process::{Command, Output},
    time::{Duration, Instant},
};

use sqlx::{Connection, PgConnection};
use support::process::{
    applied_versions, free_port, http_get, kill, scene, server_command, wait_healthy,
};

/// Runs the binary to completion, failing the test if it hangs.
fn run_to_exit(vars: &[(&str, &str)]) -> Output {
    let child = server_command(vars).spawn().unwrap();
    let start = Instant::now();
    let output = child.wait_with_output().unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "start-up errors must come quickly"
    );
    output
}

fn assert_one_clear_error(output: &Output, must_contain: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "must exit non-zero: {stderr}");
    assert!(!stderr.contains("panicked"), "must not panic: {stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains("ERROR"))
        .collect();
    assert_eq!(errors.len(), 1, "exactly one error line: {stderr}");
    for needle in must_contain {
        assert!(
            errors[0].contains(needle),
            "{needle:?} missing from: {}",
            errors[0]
        );
    }
}

/// A database of its own for one server process, dropped at the end.
struct TempDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl TempDatabase {
    async fn create() -> Self {
        let admin_url = support::database_url();
        let name = format!("tabletop_process_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&admin_url).await.unwrap();
        sqlx::query(&format!("create database {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        let url = format!("{}/{name}", admin_url.rsplit_once('/').unwrap().0);
        Self {
            admin_url,
            name,
            url,
        }
    }

    async fn drop_now(self) {
        let mut admin = PgConnection::connect(&self.admin_url).await.unwrap();
        sqlx::query(&format!("drop database {} with (force)", self.name))
            .execute(&mut admin)
            .await
            .unwrap();
    }
}

#[test]
fn unreachable_postgres_is_one_clear_error_without_the_password() {
    let port = free_port().to_string();
    let url = format!("postgres://someone:s3cret@127.0.0.1:{port}/nowhere");
    let output = run_to_exit(&[("DATABASE_URL", &url)]);
    assert_one_clear_error(
        &output,
        &[
            &format!("cannot connect to PostgreSQL at 127.0.0.1:{port}/nowhere"),
            "DATABASE_URL",
        ],
    );
    assert!(!String::from_utf8_lossy(&output.stderr).contains("s3cret"));
}

#[test]
fn a_missing_database_is_named_with_the_reason() {
    let url = format!(
        "{}/tabletop_no_such_database",
        support::database_url().rsplit_once('/').unwrap().0
    );
    let output = run_to_exit(&[("DATABASE_URL", &url)]);
    assert_one_clear_error(
        &output,
        &[
            "tabletop_no_such_database",
            "does not exist",
            "DATABASE_URL",
        ],
    );
}

#[test]
fn malformed_settings_are_one_clear_error_naming_the_variable() {
    for (key, value) in [
        ("DATABASE_MAX_CONNECTIONS", "lots"),
        ("DATABASE_URL", "not a url"),
        ("REDIS_URL", "ftp://x"),
        ("LEPTOS_SITE_ADDR", "localhost"),
        ("METRICS_ADDR", "localhost"),
        ("ALLOWED_ORIGINS", "evil.example"),
    ] {
        let output = run_to_exit(&[(key, value)]);
        assert_one_clear_error(&output, &[key]);
    }
}

#[tokio::test]
async fn unreachable_redis_is_one_clear_error() {
    let db = TempDatabase::create().await;
    let redis = format!("redis://127.0.0.1:{}", free_port());
    let output = run_to_exit(&[("DATABASE_URL", &db.url), ("REDIS_URL", &redis)]);
    assert_one_clear_error(&output, &["cannot connect to Redis", "REDIS_URL"]);
    db.drop_now().await;
}

#[tokio::test]
async fn serves_health_then_shuts_down_cleanly_on_sigterm() {
    let db = TempDatabase::create().await;
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let metrics_port = free_port();
    let metrics_addr = format!("127.0.0.1:{metrics_port}");
    let redis = support::redis_url();
    let child = server_command(&[
        ("DATABASE_URL", &db.url),
        ("REDIS_URL", &redis),
        ("LEPTOS_SITE_ADDR", &addr),
        ("METRICS_ADDR", &metrics_addr),
    ])
    .spawn()
    .unwrap();

    let deadline = Instant::now() + Duration::from_secs(30);
    let response = loop {
        match http_get(port, "/healthz").await {
            Ok(response) => break response,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(error) => panic!("the server never answered: {error}"),
        }
    };
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response.contains(r#""database":{"status":"ok""#),
        "{response}"
    );
    assert!(response.contains(r#""redis":{"status":"ok""#), "{response}");
    // Metrics on their own address only.
    let metrics = http_get(metrics_port, "/metrics").await.unwrap();
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    assert!(metrics.contains("tabletop_sockets"), "{metrics}");
    let public = http_get(port, "/metrics").await.unwrap();
    assert!(public.starts_with("HTTP/1.1 404"), "{public}");

    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("SIGTERM received, shutting down"),
        "{stderr}"
    );
    assert!(stderr.contains("shut down cleanly"), "{stderr}");

    // Migrations were applied to the fresh database at start.
    let mut conn = PgConnection::connect(&db.url).await.unwrap();
    let applied: i64 = sqlx::query_scalar("select count(*) from _sqlx_migrations where success")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(applied >= 1);
    drop(conn);
    db.drop_now().await;
}

/// Moves the token to x = each step; each move applies as that version.
async fn moves(
    client: &mut support::ws::Client,
    token: shared::id::TokenId,
    steps: std::ops::RangeInclusive<u64>,
) {
    for step in steps {
        let id = client
            .request(support::ws::move_to(token, step as f64))
            .await;
        assert_eq!(
            client.status(id).await,
            Ok(shared::protocol::RequestStatus::Applied { version: step })
        );
    }
}

/// Two server processes on the Redis engine share one session. Killing the
/// owner (-9): the other node takes the session over once the lease
/// expires, and clients resume there with nothing lost. Killing a node that
/// only forwards: the owner drops its sockets and goes on.
#[tokio::test]
async fn two_nodes_survive_either_being_killed() {
    use shared::store::Store;
    use support::ws::{closed, join_at, resume};

    let db = TempDatabase::create().await;
    let redis = support::redis_url();
    let media =
        std::env::temp_dir().join(format!("tabletop-nodes-{}", uuid::Uuid::new_v4().simple()));
    let node = |port: u16| -> Vec<(&'static str, String)> {
        vec![
            ("DATABASE_URL", db.url.clone()),
            ("REDIS_URL", redis.clone()),
            ("LIVE_ENGINE", "redis".into()),
            ("SESSION_LEASE_MS", "1000".into()),
            ("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}")),
            ("MEDIA_DIR", media.to_str().unwrap().into()),
        ]
    };
    let start = |vars: &[(&'static str, String)]| {
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        server_command(&vars).spawn().unwrap()
    };
    let (port_a, port_b) = (free_port(), free_port());
    let (a, b): (std::net::SocketAddr, std::net::SocketAddr) = (
        format!("127.0.0.1:{port_a}").parse().unwrap(),
        format!("127.0.0.1:{port_b}").parse().unwrap(),
    );
    let mut node_a = start(&node(port_a));
    wait_healthy(port_a).await;
    let mut node_b = start(&node(port_b));
    wait_healthy(port_b).await;

    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let scene = scene(&pool, 1, &Default::default()).await;
    let session = scene.session;
    let (gm_cookie, player_cookie, token) = (
        scene.gm.cookie.as_str(),
        scene.players[0].cookie.as_str(),
        scene.players[0].token,
    );
    let x = |store: &Store| store.token(token).map(|t| t.position.x);

    // The GM arrives first, on A, which so owns the session; the player is
    // on B and served through A.
    let (mut gm, mut gm_view) = join_at(a, session, gm_cookie).await;
    let (mut player, mut player_view) = join_at(b, session, player_cookie).await;
    moves(&mut player, token, 1..=10).await;
    gm.follow(&mut gm_view, 0, 10).await;
    player.follow(&mut player_view, 0, 10).await;

    // The owner dies. B's forwarding stops once A's lease expires; the
    // player resumes on B, which takes the session over from the log.
    kill("-KILL", &mut node_a);
    closed(&mut player).await;
    let (mut player, now) = resume(b, session, player_cookie, 10).await;
    assert_eq!(now, 10);
    let (mut gm, now) = resume(b, session, gm_cookie, 10).await;
    assert_eq!(now, 10);
    moves(&mut gm, token, 11..=15).await;
    player.follow(&mut player_view, 10, 15).await;
    gm.follow(&mut gm_view, 10, 15).await;

    // A comes back and serves the GM, forwarding to B, the owner now; then
    // A dies again, owning nothing: B goes on, the GM returns to B.
    let mut node_a = start(&node(port_a));
    wait_healthy(port_a).await;
    drop(gm);
    let (mut gm, now) = resume(a, session, gm_cookie, 15).await;
    assert_eq!(now, 15);
    moves(&mut gm, token, 16..=16).await;
    gm.follow(&mut gm_view, 15, 16).await;
    kill("-KILL", &mut node_a);
    let (mut gm, now) = resume(b, session, gm_cookie, 16).await;
    assert_eq!(now, 16);
    moves(&mut player, token, 17..=17).await;
    player.follow(&mut player_view, 15, 17).await;
    gm.follow(&mut gm_view, 16, 17).await;

    assert_eq!(x(&gm_view), Some(17.0));
    assert_eq!(x(&player_view), x(&gm_view));
    let logged = applied_versions(&pool, session).await;
    assert_eq!(logged, (1..=17).collect::<Vec<_>>());

    kill("-TERM", &mut node_b);
    pool.close().await;
    db.drop_now().await;
    let _ = std::fs::remove_dir_all(media);
}
