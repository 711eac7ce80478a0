//! Load generator for live sessions.
//!
//! Creates N sessions, each with a GM and M players (accounts, campaign,
//! encounter, tokens: written straight to the database at
//! `DATABASE_URL`), connects every client to the running server over
//! WebSockets, and sends a realistic mix at a fixed total rate: token moves,
//! chat and dice (auto-approved), HP changes, conditions and effects (which
//! wait for the GM; the GM client approves what it is shown). It measures,
//! for every applied action, the time from sending the request to the
//! last client of its session receiving the commit, and at the end checks
//! that every client's copy equals what the server sends a fresh client.
//! In the same run it measures the machine's floor: one durable one-row
//! commit.
//!
//! Run against a started release server:
//! `cargo run --release -p loadgen -- --url http://127.0.0.1:3000 --sessions 100 --players 5 --rate 500 --seconds 20`

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use clap::Parser;
use futures_util::{SinkExt, StreamExt, stream::SplitSink};
use hdrhistogram::Histogram;
use server::{
    encounter::{NewEncounter, NewToken},
    event_log,
};
use shared::{
    account::{DisplayName, LoginName, Password},
    action::Action,
    actor::ActorKind,
    campaign::NewCampaign,
    encounter::MapSettings,
    geometry::Point,
    id::{ActionId, ActorId, EncounterId, SessionId, TokenId},
    protocol::{
        ActionRequest, ClientMessage, Encoding, GmDecision, RequestContext, ServerMessage, Verdict,
    },
    rules::{ApprovalPolicy, Role},
    store::{Entities, Store},
    token::Visibility,
};
use sqlx::PgPool;
use tokio::net::TcpStream;
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};
use uuid::Uuid;

// The live session allocates and frees small buffers on every frame;
// mimalloc costs less per call than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The load to generate.
#[derive(Debug, Parser)]
#[command(name = "loadgen", about = "Drives live sessions and reports latency.")]
struct Args {
    /// The running server; several, comma-separated, for nodes on the
    /// Redis engine: each session's GM connects to the first (which so
    /// owns the session) and its players to each in turn.
    #[arg(long, default_value = "http://127.0.0.1:3000", value_delimiter = ',')]
    url: Vec<String>,
    /// The server's database (fixtures are written to it).
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// Sessions.
    #[arg(long, default_value_t = 10)]
    sessions: usize,
    /// Players per session (each session also has a GM).
    #[arg(long, default_value_t = 5)]
    players: usize,
    /// Actions per second, over all sessions.
    #[arg(long, default_value_t = 100.0)]
    rate: f64,
    /// How long to send.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Frames of the measured clients: `json` or `msgpack`.
    #[arg(long, default_value = "json")]
    encoding: String,
    /// Instead of actions: one session, the GM dragging a token (previews
    /// never touch the database), with this many players watching.
    #[arg(long)]
    previews: Option<usize>,
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Clients acknowledge every this many versions.
const ACK_EVERY: u64 = 32;
type Sink = SplitSink<Socket, Message>;

/// What one session's clients share: when each action was sent and how
/// many of its clients still have to receive it.
#[derive(Default)]
struct Tracker {
    /// Sent when, clients left, and whether it waits for the GM.
    in_flight: HashMap<ActionId, (Instant, usize, bool)>,
    /// Auto-approved actions.
    latency: Option<Histogram<u64>>,
    /// Actions the GM client approved.
    gm_latency: Option<Histogram<u64>>,
    commit_bytes: u64,
    commit_frames: u64,
}

struct Player {
    cookie: String,
    actor: ActorId,
    token: TokenId,
}

struct Fixture {
    session: SessionId,
    encounter: EncounterId,
    gm_cookie: String,
    players: Vec<Player>,
}

#[tokio::main]
async fn main() {
    server::telemetry::init();
    let args = Args::parse();
    if let Err(error) = run(args).await {
        tracing::error!("{error}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<(), String> {
    let db = PgPool::connect(&args.database_url)
        .await
        .map_err(|e| format!("DATABASE_URL: {e}"))?;
    let chosen = match args.encoding.as_str() {
        "json" => Encoding::Json,
        "msgpack" => Encoding::MessagePack,
        other => return Err(format!("--encoding {other:?}: use json or msgpack")),
    };
    let _ = ENCODING.set(chosen);
    if let Some(watchers) = args.previews {
        return previews(&db, &args, watchers).await;
    }
    let floor = commit_floor(&db).await?;
    tracing::info!(
        sessions = args.sessions,
        players = args.players,
        "creating fixtures"
    );
    let mut fixtures = Vec::new();
    for n in 0..args.sessions {
        fixtures.push(fixture(&db, n, args.players).await?);
    }
    let hosts = hosts(&args);
    let host = &hosts[0];
    let tracker = Arc::new(Mutex::new(Tracker {
        latency: Some(Histogram::new(3).map_err(|e| e.to_string())?),
        gm_latency: Some(Histogram::new(3).map_err(|e| e.to_string())?),
        ..Tracker::default()
    }));
    let clients_per_session = args.players + 1;

    // Connect everyone; each client runs a reader that applies commits to
    // its own copy and records arrivals.
    let mut senders: Vec<(Vec<Arc<tokio::sync::Mutex<Sink>>>, &Fixture)> = Vec::new();
    let mut readers = Vec::new();
    for fixture in &fixtures {
        let mut sinks = Vec::new();
        let cookies = std::iter::once((&fixture.gm_cookie, true))
            .chain(fixture.players.iter().map(|p| (&p.cookie, false)));
        for (n, (cookie, is_gm)) in cookies.enumerate() {
            let (sink, reader) = connect(
                &hosts[n % hosts.len()],
                fixture.session,
                cookie,
                is_gm,
                tracker.clone(),
            )
            .await?;
            sinks.push(sink);
            readers.push(reader);
        }
        senders.push((sinks, fixture));
    }
    tracing::info!(clients = readers.len(), "connected; sending");

    let interval = Duration::from_secs_f64(1.0 / args.rate.max(0.1));
    let started = Instant::now();
    let mut sent = 0u64;
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    while started.elapsed() < Duration::from_secs(args.seconds) {
        ticker.tick().await;
        let (sinks, fixture) = &senders[(sent as usize) % senders.len()];
        let which = (sent as usize / senders.len()) % fixture.players.len();
        let player = &fixture.players[which];
        let action = pick_action(sent, player, fixture.encounter);
        let needs_gm = matches!(
            action,
            Action::AdjustHp { .. } | Action::AddCondition { .. } | Action::ApplyEffect { .. }
        );
        let id = ActionId(Uuid::new_v4());
        let request = ClientMessage::Request(ActionRequest {
            id,
            action,
            context: RequestContext {
                encounter: Some(fixture.encounter),
                ..Default::default()
            },
            base_version: 0,
        });
        if let Ok(mut tracker) = tracker.lock() {
            tracker
                .in_flight
                .insert(id, (Instant::now(), clients_per_session, needs_gm));
        }
        let mut sink = sinks[which + 1].lock().await;
        send(&mut sink, &request).await?;
        sent += 1;
    }
    let sending = started.elapsed();
    // Let the last commits arrive.
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let left = tracker.lock().map(|t| t.in_flight.len()).unwrap_or(0);
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for (sinks, _) in &senders {
        for sink in sinks {
            let _ = sink.lock().await.close().await;
        }
    }
    let mut copies = Vec::new();
    for reader in readers {
        copies.push(reader.await.map_err(|e| e.to_string())??);
    }

    // Every client's copy against what a fresh client is sent now.
    let mut mismatches = 0;
    let mut index = 0;
    for fixture in &fixtures {
        let cookies =
            std::iter::once(&fixture.gm_cookie).chain(fixture.players.iter().map(|p| &p.cookie));
        for cookie in cookies {
            let fresh = snapshot(host, fixture.session, cookie).await?;
            if *copies[index].entities() != fresh {
                mismatches += 1;
            }
            index += 1;
        }
    }

    let tracker = tracker
        .lock()
        .map_err(|_| "a client thread panicked".to_owned())?;
    let latency = tracker.latency.as_ref().ok_or("no histogram")?;
    let gm_latency = tracker.gm_latency.as_ref().ok_or("no histogram")?;
    let ms = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "load: {} sessions x {} clients, {sent} actions in {:.1} s ({:.0} actions/s sent)",
        args.sessions,
        clients_per_session,
        sending.as_secs_f64(),
        sent as f64 / sending.as_secs_f64()
    );
    println!(
        "auto-approved, request -> last client of the session: n={} p50={:.2} ms p99={:.2} ms p99.9={:.2} ms max={:.2} ms",
        latency.len(),
        ms(latency, 0.5),
        ms(latency, 0.99),
        ms(latency, 0.999),
        latency.max() as f64 / 1000.0,
    );
    println!(
        "approved by the GM client (two round trips): n={} p50={:.2} ms p99={:.2} ms; {} never completed",
        gm_latency.len(),
        ms(gm_latency, 0.5),
        ms(gm_latency, 0.99),
        tracker.in_flight.len()
    );
    println!(
        "machine floor, one durable one-row commit: p50={:.2} ms p99={:.2} ms",
        ms(&floor, 0.5),
        ms(&floor, 0.99)
    );
    if tracker.commit_frames > 0 {
        println!(
            "wire: {:.0} bytes per commit frame ({:?}, uncompressed)",
            tracker.commit_bytes as f64 / tracker.commit_frames as f64,
            encoding()
        );
    }
    println!(
        "convergence: {mismatches} of {} clients differ from the server",
        copies.len()
    );
    if mismatches > 0 || !tracker.in_flight.is_empty() {
        return Err("the run did not converge".into());
    }
    Ok(())
}

/// Moves (most), chat, dice, HP changes, conditions and effects (these
/// three wait for the GM).
fn pick_action(n: u64, player: &Player, encounter: EncounterId) -> Action {
    match n % 10 {
        4 if n % 20 == 4 => Action::ApplyEffect {
            effect: shared::effect::Effect {
                id: shared::id::EffectId(Uuid::new_v4()),
                name: "Bless".into(),
                targets: [player.token].into(),
                remaining_rounds: Some(10),
                source: Some(player.token),
                properties: Default::default(),
            },
        },
        0 => Action::AdjustHp {
            actor: player.actor,
            delta: if n.is_multiple_of(20) { -1 } else { 1 },
        },
        1 => Action::AddCondition {
            token: player.token,
            condition: format!("blessed-{}", n % 3),
        },
        2 => Action::Chat {
            encounter,
            text: format!("message {n}"),
        },
        3 => Action::Roll {
            encounter,
            dice: "1d20 + 5".into(),
            roll: None,
        },
        _ => Action::MoveToken {
            token: player.token,
            to: Point {
                x: 100.0 + (n % 4) as f64 * 50.0,
                y: 100.0,
            },
        },
    }
}

/// The encoding of the measured clients (`--encoding`).
static ENCODING: std::sync::OnceLock<Encoding> = std::sync::OnceLock::new();

fn encoding() -> Encoding {
    ENCODING.get().copied().unwrap_or_default()
}

async fn send(sink: &mut Sink, message: &ClientMessage) -> Result<(), String> {
    let frame = match encoding() {
        Encoding::Json => {
            Message::text(String::from_utf8(message.encode()).map_err(|e| e.to_string())?)
        }
        Encoding::MessagePack => Message::binary(message.encode_with(Encoding::MessagePack)),
    };
    sink.send(frame).await.map_err(|e| e.to_string())
}

async fn open(host: &str, session: SessionId, cookie: &str) -> Result<Socket, String> {
    open_with(host, session, cookie, Encoding::Json).await
}

async fn open_with(
    host: &str,
    session: SessionId,
    cookie: &str,
    encoding: Encoding,
) -> Result<Socket, String> {
    let query = match encoding {
        Encoding::Json => "",
        Encoding::MessagePack => "?encoding=msgpack",
    };
    let mut request = format!("ws://{host}/ws/sessions/{session}{query}")
        .into_client_request()
        .map_err(|e| e.to_string())?;
    request.headers_mut().insert(
        "cookie",
        HeaderValue::from_str(cookie).map_err(|e| e.to_string())?,
    );
    let (socket, _) = tokio_tungstenite::connect_async_with_config(request, None, true)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    Ok(socket)
}

/// What a fresh client is sent now.
async fn snapshot(host: &str, session: SessionId, cookie: &str) -> Result<Entities, String> {
    let mut socket = open(host, session, cookie).await?;
    let hello = String::from_utf8(ClientMessage::Hello { resume_from: None }.encode())
        .map_err(|e| e.to_string())?;
    socket
        .send(Message::text(hello))
        .await
        .map_err(|e| e.to_string())?;
    while let Some(frame) = socket.next().await {
        if let Ok(Message::Text(text)) = frame
            && let Ok(ServerMessage::Snapshot { entities, .. }) =
                ServerMessage::decode(text.as_bytes())
        {
            let _ = socket.close(None).await;
            return Ok(entities);
        }
    }
    Err("no snapshot".into())
}

/// Connects a client; its reader keeps a copy of the state and, for the
/// GM, approves every queued request.
async fn connect(
    host: &str,
    session: SessionId,
    cookie: &str,
    is_gm: bool,
    tracker: Arc<Mutex<Tracker>>,
) -> Result<
    (
        Arc<tokio::sync::Mutex<Sink>>,
        tokio::task::JoinHandle<Result<Store, String>>,
    ),
    String,
> {
    let socket = open_with(host, session, cookie, encoding()).await?;
    let (sink, mut stream) = socket.split();
    let sink = Arc::new(tokio::sync::Mutex::new(sink));
    send(
        &mut *sink.lock().await,
        &ClientMessage::Hello { resume_from: None },
    )
    .await?;
    let gm_sink = sink.clone();
    let ack_sink = sink.clone();
    let reader = tokio::spawn(async move {
        let mut store = Store::new();
        let mut decided = std::collections::HashSet::new();
        while let Some(frame) = stream.next().await {
            let (size, decoded) = match frame {
                Ok(Message::Text(text)) => (text.len(), ServerMessage::decode(text.as_bytes())),
                Ok(Message::Binary(bytes)) => (
                    bytes.len(),
                    ServerMessage::decode_with(&bytes, Encoding::MessagePack),
                ),
                _ => continue,
            };
            let Ok(message) = decoded else {
                continue;
            };
            match message {
                ServerMessage::Snapshot { entities, .. } => {
                    store = Store::from_entities(entities).map_err(|e| e.to_string())?;
                }
                ServerMessage::Commit(commit) => {
                    store
                        .apply_all(&commit.changes)
                        .map_err(|e| e.to_string())?;
                    // Acknowledge as a browser does, now and then.
                    if commit.version.is_multiple_of(ACK_EVERY) {
                        let ack = ClientMessage::Ack {
                            version: commit.version,
                        };
                        send(&mut *ack_sink.lock().await, &ack).await?;
                    }
                    if let (Some(action), Ok(mut tracker)) = (commit.action, tracker.lock()) {
                        tracker.commit_bytes += size as u64;
                        tracker.commit_frames += 1;
                        let done = match tracker.in_flight.get_mut(&action) {
                            Some((sent, left, needs_gm)) => {
                                *left -= 1;
                                (*left == 0).then_some((*sent, *needs_gm))
                            }
                            None => None,
                        };
                        if let Some((sent, needs_gm)) = done {
                            tracker.in_flight.remove(&action);
                            let micros = sent.elapsed().as_micros() as u64;
                            let histogram = if needs_gm {
                                tracker.gm_latency.as_mut()
                            } else {
                                tracker.latency.as_mut()
                            };
                            if let Some(histogram) = histogram {
                                let _ = histogram.record(micros.max(1));
                            }
                        }
                    }
                }
                message @ (ServerMessage::Queue { .. } | ServerMessage::Queued { .. }) if is_gm => {
                    let pending = match message {
                        ServerMessage::Queue { pending } => pending,
                        ServerMessage::Queued { pending } => vec![pending],
                        _ => Vec::new(),
                    };
                    for queued in pending {
                        if decided.insert(queued.request.id) {
                            let approve = ClientMessage::Decide(GmDecision {
                                action: queued.request.id,
                                verdict: Verdict::Approve,
                            });
                            send(&mut *gm_sink.lock().await, &approve).await?;
                        }
                    }
                }
                ServerMessage::Rejected { action, reason, .. } => {
                    tracing::warn!(%action, %reason, "a request was rejected");
                    if let Ok(mut tracker) = tracker.lock() {
                        tracker.in_flight.remove(&action);
                    }
                }
                _ => {}
            }
        }
        Ok(store)
    });
    Ok((sink, reader))
}

/// One session's accounts, campaign, encounter and tokens.
async fn fixture(db: &PgPool, n: usize, players: usize) -> Result<Fixture, String> {
    let err = |e: server::Error| e.to_string();
    let run = Uuid::new_v4().simple().to_string();
    let gate = server::account::Gate::default();
    let account = async |name: String| -> Result<(shared::account::User, String), String> {
        let login = LoginName::parse(&name).map_err(|e| e.to_string())?;
        let display = DisplayName::parse(&name).map_err(|e| e.to_string())?;
        let password = Password::parse("load generator password").map_err(|e| e.to_string())?;
        let user = server::account::sign_up(db, &gate, &login, &display, &password)
            .await
            .map_err(err)?;
        let token = server::account::start_login(db, user.id)
            .await
            .map_err(err)?;
        Ok((
            user,
            format!("{}={}", app::account::SESSION_COOKIE, token.as_str()),
        ))
    };
    let (gm, gm_cookie) = account(format!("gm{n}-{}", &run[..8])).await?;
    let campaign = server::campaign::create(
        db,
        gm.id,
        &NewCampaign::parse(&format!("Load {n}"), "dnd5e").map_err(|e| e.to_string())?,
    )
    .await
    .map_err(err)?
    .id;
    let encounter = server::encounter::create(
        db,
        &NewEncounter {
            campaign,
            name: "Arena".into(),
            map: None,
            settings: MapSettings::default(),
        },
    )
    .await
    .map_err(err)?;
    let mut seats = Vec::new();
    for p in 0..players {
        let (user, cookie) = account(format!("p{n}x{p}-{}", &run[..8])).await?;
        let invitation = server::membership::invite(db, campaign, gm.id, Role::Player)
            .await
            .map_err(err)?;
        server::membership::accept(db, user.id, &invitation.token)
            .await
            .map_err(err)?;
        let actor = server::actor::create_custom(
            db,
            &server::actor::NewActor {
                campaign,
                name: None,
                actor_type: ActorKind::Character.slug().into(),
                level: Some(1),
                character_class: None,
                owner: Some(user.id),
                created_by: gm.id,
            },
            &format!("Hero {p}"),
            &serde_json::json!({"hit_points": 1000}),
        )
        .await
        .map_err(err)?;
        let token = server::encounter::place_token(
            db,
            campaign,
            encounter,
            &NewToken {
                actor: Some(actor),
                name: format!("Hero {p}"),
                position: Point { x: 100.0, y: 100.0 },
                visibility: Visibility::Visible,
                scale: 1.0,
            },
        )
        .await
        .map_err(err)?;
        seats.push(Player {
            cookie,
            actor,
            token,
        });
    }
    let session = event_log::start_session(
        db,
        campaign,
        Some(encounter),
        gm.id,
        &ApprovalPolicy::default(),
    )
    .await
    .map_err(err)?;
    Ok(Fixture {
        session,
        encounter,
        gm_cookie,
        players: seats,
    })
}

/// The machine's floor: 500 durable single-row commits, one at a time, into
/// a logged table (temporary tables skip the WAL and would flatter it).
async fn commit_floor(db: &PgPool) -> Result<Histogram<u64>, String> {
    let e = |e: sqlx::Error| e.to_string();
    sqlx::query("create table if not exists loadgen_floor (n bigint)")
        .execute(db)
        .await
        .map_err(e)?;
    let mut histogram = Histogram::<u64>::new(3).map_err(|e| e.to_string())?;
    for n in 0..500i64 {
        let started = Instant::now();
        sqlx::query("insert into loadgen_floor values ($1)")
            .bind(n)
            .execute(db)
            .await
            .map_err(e)?;
        histogram
            .record((started.elapsed().as_micros() as u64).max(1))
            .map_err(|e| e.to_string())?;
    }
    sqlx::query("drop table loadgen_floor")
        .execute(db)
        .await
        .map_err(e)?;
    Ok(histogram)
}

/// The servers' `host:port`s, from `--url`.
fn hosts(args: &Args) -> Vec<String> {
    args.url
        .iter()
        .map(|url| {
            url.trim_start_matches("http://")
                .trim_end_matches('/')
                .to_owned()
        })
        .collect()
}

/// Drag previews: the GM drags a visible token at 50 frames per second;
/// each preview carries its sequence number in its position, and its
/// latency is from sending to the last watcher receiving it.
async fn previews(db: &PgPool, args: &Args, watchers: usize) -> Result<(), String> {
    let fixture = fixture(db, 0, watchers).await?;
    let hosts = hosts(args);
    let host = &hosts[0];
    let in_flight: Arc<Mutex<HashMap<u64, (Instant, usize)>>> = Arc::default();
    let histogram = Arc::new(Mutex::new(
        Histogram::<u64>::new(3).map_err(|e| e.to_string())?,
    ));
    let mut readers = Vec::new();
    for player in &fixture.players {
        let mut socket = open(host, fixture.session, &player.cookie).await?;
        let hello = String::from_utf8(ClientMessage::Hello { resume_from: None }.encode())
            .map_err(|e| e.to_string())?;
        socket
            .send(Message::text(hello))
            .await
            .map_err(|e| e.to_string())?;
        let (in_flight, histogram) = (in_flight.clone(), histogram.clone());
        readers.push(tokio::spawn(async move {
            while let Some(Ok(frame)) = socket.next().await {
                let Message::Text(text) = frame else { continue };
                if let Ok(ServerMessage::DragPreview { position, .. }) =
                    ServerMessage::decode(text.as_bytes())
                {
                    let sequence = position.x as u64;
                    let (Ok(mut in_flight), Ok(mut histogram)) =
                        (in_flight.lock(), histogram.lock())
                    else {
                        break;
                    };
                    if let Some((sent, left)) = in_flight.get_mut(&sequence) {
                        *left -= 1;
                        if *left == 0 {
                            let _ = histogram.record((sent.elapsed().as_micros() as u64).max(1));
                            in_flight.remove(&sequence);
                        }
                    }
                }
            }
        }));
    }
    let mut gm = open(host, fixture.session, &fixture.gm_cookie).await?;
    let hello = String::from_utf8(ClientMessage::Hello { resume_from: None }.encode())
        .map_err(|e| e.to_string())?;
    gm.send(Message::text(hello))
        .await
        .map_err(|e| e.to_string())?;
    // Let every watcher's snapshot arrive first.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let token = fixture.players[0].token;
    let mut ticker = tokio::time::interval(Duration::from_millis(20));
    let started = Instant::now();
    let mut sequence = 0u64;
    while started.elapsed() < Duration::from_secs(args.seconds) {
        ticker.tick().await;
        sequence += 1;
        if let Ok(mut in_flight) = in_flight.lock() {
            in_flight.insert(sequence, (Instant::now(), watchers));
        }
        let preview = ClientMessage::DragPreview {
            token,
            position: Point {
                x: sequence as f64,
                y: 0.0,
            },
        };
        let text = String::from_utf8(preview.encode()).map_err(|e| e.to_string())?;
        gm.send(Message::text(text))
            .await
            .map_err(|e| e.to_string())?;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let histogram = histogram
        .lock()
        .map_err(|_| "a reader panicked".to_owned())?;
    let lost = in_flight.lock().map(|m| m.len()).unwrap_or(0);
    let ms = |q: f64| histogram.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "drag previews to {watchers} watchers: n={} p50={:.2} ms p99={:.2} ms max={:.2} ms; {lost} not received by everyone",
        histogram.len(),
        ms(0.5),
        ms(0.99),
        histogram.max() as f64 / 1000.0
    );
    for reader in readers {
        reader.abort();
    }
    Ok(())
}
