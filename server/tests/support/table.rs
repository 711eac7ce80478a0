//! The live-session fixture: a table (a GM, two players, a hidden
//! monster, an encounter, a session) served by a real server on a port.

use std::time::Duration;

use serde_json::json;
use server::{
    encounter::{self, NewEncounter, NewToken},
    event_log,
};
use shared::{
    account::User,
    actor::ActorKind,
    campaign::NewCampaign,
    encounter::MapSettings,
    geometry::Point,
    id::{ActorId, CampaignId, EncounterId, SessionId, TokenId},
    rules::{ApprovalPolicy, Role},
    store::Store,
    token::Visibility,
};
use sqlx::PgPool;

use super::ws::{Client, join_at};

/// A table: a GM, two players with a character and a token each, a monster
/// with a hidden token, an encounter, a session.
pub struct Table {
    pub campaign: CampaignId,
    pub addr: std::net::SocketAddr,
    pub session: SessionId,
    pub encounter: EncounterId,
    pub gm: Gm,
    /// The first player, with a character and its token at x = 100.
    pub alice: Player,
    /// The second player, with a character and its token at x = 200.
    pub bruno: Player,
    pub hidden: TokenId,
    pub server: tokio::task::JoinHandle<()>,
    /// The server's metrics (served on their own address, not `addr`).
    pub metrics: server::metrics::Metrics,
}

/// The table's GM: the account and its login cookie.
#[derive(Clone)]
pub struct Gm {
    pub user: User,
    pub cookie: String,
}

/// A player at the table: the account, its login cookie, its character
/// and the character's token.
#[derive(Clone)]
pub struct Player {
    pub user: User,
    pub cookie: String,
    pub actor: ActorId,
    pub token: TokenId,
}

impl Table {
    /// Both players, Alice first.
    pub fn players(&self) -> [&Player; 2] {
        [&self.alice, &self.bruno]
    }
}

impl Drop for Table {
    fn drop(&mut self) {
        self.server.abort();
    }
}

pub async fn table(db: PgPool) -> Table {
    let (gm, gm_cookie) = super::signed_in(&db, "gamemaster").await;
    let campaign =
        server::campaign::create(&db, gm.id, &NewCampaign::parse("Live", "dnd5e").unwrap())
            .await
            .unwrap()
            .id;
    let encounter = encounter::create(
        &db,
        &NewEncounter {
            campaign,
            name: "Crossroads".into(),
            map: None,
            settings: MapSettings {
                grid_size: 50.0,
                ..MapSettings::default()
            },
        },
    )
    .await
    .unwrap();
    let mut players = Vec::new();
    for (n, login) in ["alice", "bruno"].into_iter().enumerate() {
        let (user, cookie) = super::signed_in(&db, login).await;
        let invitation = server::membership::invite(&db, campaign, gm.id, Role::Player)
            .await
            .unwrap();
        server::membership::accept(&db, user.id, &invitation.token)
            .await
            .unwrap();
        let actor = actor(
            &db,
            campaign,
            &gm,
            login,
            ActorKind::Character,
            Some(user.id),
        )
        .await;
        let token = place(
            &db,
            campaign,
            encounter,
            Some(actor),
            100.0 * (n as f64 + 1.0),
            Visibility::Visible,
        )
        .await;
        players.push(Player {
            user,
            cookie,
            actor,
            token,
        });
    }
    let monster = actor(&db, campaign, &gm, "Lurker", ActorKind::Monster, None).await;
    let hidden = place(
        &db,
        campaign,
        encounter,
        Some(monster),
        900.0,
        Visibility::Hidden,
    )
    .await;
    let session = event_log::start_session(
        &db,
        campaign,
        Some(encounter),
        gm.id,
        &ApprovalPolicy::default(),
    )
    .await
    .unwrap();
    let (addr, server, metrics) = spawn_server_metered(db.clone()).await;
    let [alice, bruno]: [Player; 2] = players
        .try_into()
        .unwrap_or_else(|_| unreachable!("two players were seated"));
    Table {
        campaign,
        addr,
        session,
        encounter,
        gm: Gm {
            user: gm,
            cookie: gm_cookie,
        },
        alice,
        bruno,
        hidden,
        server,
        metrics,
    }
}

/// A server process of its own (its own hub, so its own session actors)
/// over the same database, on a free port. On the in-process engine,
/// unless `LIVE_ENGINE=redis` asks for the whole suite to run on the Redis
/// engine (the test command runs it both ways).
pub async fn spawn_server(db: PgPool) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let (addr, server, _) = spawn_server_metered(db).await;
    (addr, server)
}

/// The same, with the server's metrics.
pub async fn spawn_server_metered(
    db: PgPool,
) -> (
    std::net::SocketAddr,
    tokio::task::JoinHandle<()>,
    server::metrics::Metrics,
) {
    let state = engine_state(db, server::live::Tuning::default()).await;
    let metrics = state.metrics.clone();
    let (addr, server) = spawn_server_with(state).await;
    (addr, server, metrics)
}

pub async fn spawn_server_with(
    state: server::AppState,
) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        server::serve(listener, state, std::future::pending())
            .await
            .unwrap();
    });
    (addr, server)
}

pub async fn actor(
    db: &PgPool,
    campaign: CampaignId,
    gm: &User,
    name: &str,
    kind: ActorKind,
    owner: Option<shared::id::UserId>,
) -> ActorId {
    server::actor::create_custom(
        db,
        &server::actor::NewActor {
            campaign,
            name: None,
            actor_type: kind.slug().into(),
            level: Some(3),
            character_class: None,
            owner,
            created_by: gm.id,
        },
        name,
        &json!({"hit_points": 20, "speed": {"walk": 30}}),
    )
    .await
    .unwrap()
}

pub async fn place(
    db: &PgPool,
    campaign: CampaignId,
    encounter: EncounterId,
    actor: Option<ActorId>,
    x: f64,
    visibility: Visibility,
) -> TokenId {
    encounter::place_token(
        db,
        campaign,
        encounter,
        &NewToken {
            actor,
            name: "T".into(),
            position: Point { x, y: 100.0 },
            visibility,
            scale: 1.0,
        },
    )
    .await
    .unwrap()
}

/// Connects and says hello; returns the client and the state it was sent
/// (a snapshot, or the commits after `resume_from`), at the welcome's
/// version.
pub async fn join(table: &Table, cookie: &str) -> (Client, Store) {
    join_at(table.addr, table.session, cookie).await
}

/// A node on the Redis engine, sharing the database and the Redis with
/// every other node a test starts.
pub async fn spawn_node(
    db: PgPool,
    lease: Duration,
) -> (
    std::net::SocketAddr,
    tokio::task::JoinHandle<()>,
    server::live::Hub,
) {
    let state = node_state(db, lease).await;
    let hub = state.hub.clone();
    let (addr, server) = spawn_server_with(state).await;
    (addr, server, hub)
}

/// The state of a node on the Redis engine.
async fn node_state(db: PgPool, lease: Duration) -> server::AppState {
    tuned_node_state(db, lease, server::live::Tuning::default()).await
}

async fn tuned_node_state(
    db: PgPool,
    lease: Duration,
    tuning: server::live::Tuning,
) -> server::AppState {
    let info =
        redis::IntoConnectionInfo::into_connection_info(super::redis_url().as_str()).unwrap();
    let redis = server::redis_conn::connect(&info).await.unwrap();
    let mut state = super::state(db.clone());
    state.redis = Some(redis.clone());
    // Tuned before it joins the cluster: the hub it listens with is a copy.
    state.hub = server::live::Hub::new(db, Some(redis), state.metrics.clone())
        .with_tuning(tuning)
        .clustered(&info, lease)
        .await
        .unwrap();
    state
}

/// Whether the suite runs on the Redis engine (`LIVE_ENGINE=redis`).
pub fn on_redis_engine() -> bool {
    std::env::var("LIVE_ENGINE").is_ok_and(|engine| engine == "redis")
}

/// A server's state on the engine the suite runs on, with `tuning`: every
/// live test that needs a server of its own takes it from here, so that
/// the Redis run covers it too.
pub async fn engine_state(db: PgPool, tuning: server::live::Tuning) -> server::AppState {
    if on_redis_engine() {
        tuned_node_state(db, Duration::from_secs(5), tuning).await
    } else {
        let mut state = super::state(db);
        state.hub = state.hub.with_tuning(tuning);
        state
    }
}

/// A plain HTTP GET over a socket (the test server speaks HTTP/1.1).
pub async fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    http_get_as(addr, path, "").await
}

/// The same, sending a login cookie (if not empty).
pub async fn http_get_as(addr: std::net::SocketAddr, path: &str, cookie: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let cookie = if cookie.is_empty() {
        String::new()
    } else {
        format!("Cookie: {cookie}\r\n")
    };
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{cookie}Connection: close\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

/// Whether `GET path` answers 200.
pub async fn http_ok(addr: std::net::SocketAddr, path: &str) -> bool {
    http_get(addr, path).await.starts_with("HTTP/1.1 200")
}
