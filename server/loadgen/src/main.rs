//! Load generator for live sessions.
//!
//! Creates N sessions, each with a GM and M players (accounts, campaign,
//! encounter, tokens: written straight to the database at
//! `DATABASE_URL`), connects every client to the running server over
//! WebSockets, and sends a realistic mix at a fixed total rate: token moves,
//! chat and dice (auto-approved), HP changes, conditions and effects (which
//! wait for the GM; the GM client approves what it is shown). It measures,
//! for every applied action, the time from sending the request to the
//! last client of its session receiving the commit, counted from the time
//! the schedule gave the request (so a server that holds the sender up is
//! not hidden: no coordinated omission), reports GM-approved latency beside
//! auto-approved, the achieved rate and how far sending fell behind, and at
//! the end checks that every client's copy equals what the server sends a
//! fresh client. In the same run it measures the machine's floor, one
//! durable one-row commit, before the load and during it.
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

mod fixture;
mod previews;
mod wire;

use fixture::{commit_floor, fixture};
use previews::previews;
use wire::*;

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
    /// Walls in each session's encounter (short walls scattered in a cave
    /// beside the players' tokens), with walls hiding what is behind them:
    /// every commit is then filtered by each player's line of sight.
    #[arg(long, default_value_t = 0)]
    walls: usize,
    /// The GM's monsters in each encounter, scattered over the cave (seen
    /// or not by each player, once walls hide).
    #[arg(long, default_value_t = 0)]
    monsters: usize,
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
    let floor = commit_floor(&db, "loadgen_floor", None).await?;
    tracing::info!(
        sessions = args.sessions,
        players = args.players,
        "creating fixtures"
    );
    let mut fixtures = Vec::new();
    for n in 0..args.sessions {
        fixtures.push(fixture(&db, n, args.players, args.walls, args.monsters).await?);
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
    let load_ends = started + Duration::from_secs(args.seconds);
    // The floor again, while the server is under load, on the same disk.
    let floor_under_load = tokio::spawn({
        let db = db.clone();
        async move { commit_floor(&db, "loadgen_floor_under_load", Some(load_ends)).await }
    });
    let mut sent = 0u64;
    // How far behind its schedule a request went out (the backlog, in time).
    let mut lag = Histogram::<u64>::new(3).map_err(|e| e.to_string())?;
    while Instant::now() < load_ends {
        // Each request has its time in the schedule, and its latency counts
        // from then: a server that holds the sender up (a slow socket, a
        // full buffer) shows in the latency, not in fewer, later samples
        // (no coordinated omission).
        let scheduled = started + interval.mul_f64(sent as f64);
        tokio::time::sleep_until(scheduled.into()).await;
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
                .insert(id, (scheduled, clients_per_session, needs_gm));
        }
        let mut sink = sinks[which + 1].lock().await;
        send(&mut sink, &request).await?;
        lag.saturating_record(scheduled.elapsed().as_micros() as u64);
        sent += 1;
    }
    let sending = started.elapsed();
    let floor_under_load = floor_under_load.await.map_err(|e| e.to_string())??;
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
        "load: {} sessions x {} clients, {sent} actions in {:.1} s: {:.0} actions/s achieved of {:.0} asked",
        args.sessions,
        clients_per_session,
        sending.as_secs_f64(),
        sent as f64 / sending.as_secs_f64(),
        args.rate
    );
    println!(
        "backlog, how late requests went out against their schedule: p50={:.2} ms p99={:.2} ms max={:.2} ms (latencies count from the schedule)",
        ms(&lag, 0.5),
        ms(&lag, 0.99),
        lag.max() as f64 / 1000.0
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
        "machine floor, one durable one-row commit: before the load p50={:.2} ms p99={:.2} ms; during it p50={:.2} ms p99={:.2} ms (n={})",
        ms(&floor, 0.5),
        ms(&floor, 0.99),
        ms(&floor_under_load, 0.5),
        ms(&floor_under_load, 0.99),
        floor_under_load.len()
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
            to: None,
            rolls: Vec::new(),
        },
        3 => Action::Roll {
            encounter,
            dice: "1d20 + 5".into(),
            roll: None,
            secrecy: shared::action::Secrecy::Open,
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
