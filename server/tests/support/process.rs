//! The server binary as an operator runs it, for the tests that start real
//! processes: the command, ports, health, signals, and the table they play
//! on.

use std::{
    net::TcpListener,
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use shared::id::{SessionId, TokenId};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const SERVER: &str = env!("CARGO_BIN_EXE_server");

/// The binary with no inherited settings but PATH, so the test decides
/// every variable (and a developer's `.env` is not read: the working
/// directory is a temporary one). Its output is piped.
pub fn server_command(vars: &[(&str, &str)]) -> Command {
    let mut command = Command::new(SERVER);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "info")
        // Several servers run at once here: none takes the default metrics
        // port unless a test gives it one.
        .env("METRICS_ADDR", "")
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in vars {
        command.env(key, value);
    }
    command
}

/// A server process that runs for a while: its log goes to `log` (a pipe
/// nobody reads would fill and stop it), appended across restarts.
pub fn spawn_server(vars: &[(&str, &str)], log: &Path) -> std::process::Child {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    server_command(vars)
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .spawn()
        .unwrap()
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub async fn http_get(port: u16, path: &str) -> std::io::Result<String> {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    Ok(response)
}

pub async fn wait_healthy(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match http_get(port, "/healthz").await {
            Ok(response) if response.starts_with("HTTP/1.1 200") => return,
            _ if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(100)).await,
            other => panic!("the server never became healthy: {other:?}"),
        }
    }
}

/// Sends `signal` (`-KILL`, `-STOP`, …) to a process.
pub fn signal(signal: &str, pid: u32) {
    assert!(
        Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .unwrap()
            .success(),
        "kill {signal} {pid}"
    );
}

/// Sends `signal` and waits for the process to end.
pub fn kill(signal_name: &str, child: &mut std::process::Child) {
    signal(signal_name, child.id());
    let _ = child.wait();
}

/// Someone at the table: the `Cookie` header that signs them in, and the
/// token they move (a player's own; for the GM, one of the GM's).
#[derive(Debug, Clone)]
pub struct Member {
    pub user: shared::id::UserId,
    pub cookie: String,
    pub token: TokenId,
}

/// What the tests with real server processes play with.
#[derive(Debug, Clone)]
pub struct Scene {
    pub gm: Member,
    pub players: Vec<Member>,
    pub session: SessionId,
}

/// A campaign with a GM and `players` players, a token for each of them on
/// one encounter (the players' owned by them), and a session on it with
/// the rules `policy`.
pub async fn scene(
    pool: &sqlx::PgPool,
    players: usize,
    policy: &shared::rules::ApprovalPolicy,
) -> Scene {
    use shared::{
        actor::ActorKind, campaign::NewCampaign, encounter::MapSettings, geometry::Point,
        rules::Role, token::Visibility,
    };
    let (gm, gm_cookie) = super::signed_in(pool, "gamemaster").await;
    let campaign =
        server::campaign::create(pool, gm.id, &NewCampaign::parse("Crash", "dnd5e").unwrap())
            .await
            .unwrap()
            .id;
    let encounter = server::encounter::create(
        pool,
        &server::encounter::NewEncounter {
            campaign,
            name: "Bridge".into(),
            map: None,
            settings: MapSettings::default(),
        },
    )
    .await
    .unwrap();
    let place = |name: String, owner: Option<shared::id::UserId>, row: usize| {
        let gm = gm.id;
        async move {
            let actor = server::actor::create_custom(
                pool,
                &server::actor::NewActor {
                    campaign,
                    name: None,
                    actor_type: ActorKind::Character.slug().into(),
                    level: Some(1),
                    character_class: None,
                    owner,
                    created_by: gm,
                },
                &name,
                &serde_json::json!({}),
            )
            .await
            .unwrap();
            server::encounter::place_token(
                pool,
                campaign,
                encounter,
                &server::encounter::NewToken {
                    actor: Some(actor),
                    name,
                    position: Point {
                        x: 0.0,
                        y: 100.0 * (row + 1) as f64,
                    },
                    visibility: Visibility::Visible,
                    scale: 1.0,
                },
            )
            .await
            .unwrap()
        }
    };
    let mut members = Vec::new();
    for n in 0..players {
        let (player, cookie) = super::signed_in(pool, &format!("player{n}")).await;
        let invitation = server::membership::invite(pool, campaign, gm.id, Role::Player)
            .await
            .unwrap();
        server::membership::accept(pool, player.id, &invitation.token)
            .await
            .unwrap();
        let token = place(format!("Runner {n}"), Some(player.id), n).await;
        members.push(Member {
            user: player.id,
            cookie,
            token,
        });
    }
    let gm_token = place("Warden".into(), None, players).await;
    let session = server::event_log::start_session(pool, campaign, Some(encounter), gm.id, policy)
        .await
        .unwrap();
    Scene {
        gm: Member {
            user: gm.id,
            cookie: gm_cookie,
            token: gm_token,
        },
        players: members,
        session,
    }
}

/// The versions in the session's log, in order.
pub async fn applied_versions(pool: &sqlx::PgPool, session: SessionId) -> Vec<i64> {
    sqlx::query_scalar(
        "select version from event_log where session_id = $1 and status = 'applied' order by version",
    )
    .bind(session.0)
    .fetch_all(pool)
    .await
    .unwrap()
}
