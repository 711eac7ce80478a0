//! "Nothing acknowledged is ever lost", under real faults while actions are
//! in flight. Each test starts real processes ([`harness`]: a PostgreSQL
//! and a Redis of its own, server nodes, TCP proxies), seats players whose
//! browsers' session logic plays a stream of moves against them
//! ([`table`]), does something bad to one part mid-stream, and then checks,
//! against PostgreSQL ([`verify`]):
//! - versions are contiguous from 1;
//! - each action is in the log at most once;
//! - every acknowledgement a client received names the version the log has
//!   for that action;
//! - every action a client asked for is in the log, unless the server told
//!   that client it failed or was refused (and then it is not in the log);
//! - every client's state equals what the server now gives that member
//!   (its state filtered for them), at the same version.
//!
//! Each fault test runs alone (they time leases and pauses), and each
//! scenario that applies to both engines runs on both.

#[path = "../support/mod.rs"]
mod support;

mod harness;
mod table;

use std::{collections::BTreeMap, net::SocketAddr, sync::atomic::Ordering, time::Duration};

use harness::{Node, Postgres, Proxy, Redis, Scratch};
use shared::{id::ActionId, rules::ApprovalPolicy};
use sqlx::PgPool;
use support::process::{Scene, scene};
use table::{Plan, Progress, Seat};

mod network;
mod nodes;
mod stores;

/// One fault test at a time: each runs several servers, a PostgreSQL and a
/// Redis, and their timing (leases, pauses) must not compete with another's.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How long a node's ownership of a session lasts without renewal.
const LEASE_MS: u64 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Engine {
    /// One node, sessions in process, no Redis.
    Local,
    /// Sessions owned by one node at a time under a lease in Redis.
    Redis,
}

/// The processes of one test and the table they serve.
struct Cluster {
    engine: Engine,
    database: String,
    pool: PgPool,
    scene: Scene,
    redis: Option<Redis>,
    postgres: Postgres,
    /// Last: the processes above stop before their files go.
    scratch: Scratch,
}

impl Cluster {
    /// A PostgreSQL (and, for the Redis engine, a Redis) of the test's own,
    /// a table of a GM and `players` players with `policy`. No node yet.
    async fn start(engine: Engine, players: usize, policy: &ApprovalPolicy) -> Self {
        let scratch = Scratch::new();
        let postgres = Postgres::start(&scratch);
        let database = postgres.database("tabletop_faults").await;
        server::db::migrate(&connect(&database).await)
            .await
            .expect("migrations");
        let pool = connect(&database).await;
        let scene = scene(&pool, players, policy).await;
        let redis = match engine {
            Engine::Local => None,
            Engine::Redis => Some(Redis::start().await),
        };
        Self {
            engine,
            database,
            pool,
            scene,
            redis,
            postgres,
            scratch,
        }
    }

    /// A node on this cluster's engine, with Redis at `redis` (the
    /// cluster's own Redis, or a proxy in front of it).
    async fn node_with_redis(&self, name: &str, redis: Option<String>) -> Node {
        let mut vars = vec![
            ("DATABASE_URL".to_owned(), self.database.clone()),
            ("REDIS_URL".to_owned(), redis.unwrap_or_default()),
            ("SESSION_LEASE_MS".to_owned(), LEASE_MS.to_string()),
        ];
        if self.engine == Engine::Redis {
            vars.push(("LIVE_ENGINE".to_owned(), "redis".to_owned()));
        }
        Node::start(name, &self.scratch, vars).await
    }

    async fn node(&self, name: &str) -> Node {
        let redis = self.redis.as_ref().map(Redis::url);
        self.node_with_redis(name, redis).await
    }

    /// The GM and every player, each connecting to the addresses given
    /// (one list per seat, GM first), each asking for `moves` moves.
    fn seats(&self, addrs: &[Vec<SocketAddr>], plan: Plan) -> Vec<Seat> {
        let session = self.scene.session;
        std::iter::once(("gm".to_owned(), &self.scene.gm))
            .chain(
                self.scene
                    .players
                    .iter()
                    .enumerate()
                    .map(|(n, p)| (format!("player{n}"), p)),
            )
            .zip(addrs)
            .map(|((name, member), addrs)| Seat::new(&name, member, session, addrs.clone(), plan))
            .collect()
    }

    async fn version(&self) -> u64 {
        let version: i64 = sqlx::query_scalar("select version from play_sessions where id = $1")
            .bind(self.scene.session.0)
            .fetch_one(&self.pool)
            .await
            .unwrap();
        version as u64
    }
}

async fn connect(url: &str) -> PgPool {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect(url)
        .await
        .unwrap()
}

/// The seats at play, each on a task of its own.
struct Play {
    progress: Progress,
    seats: Vec<tokio::task::JoinHandle<Seat>>,
}

impl Play {
    fn start(seats: Vec<Seat>) -> Self {
        let progress = Progress::default();
        let seats = seats
            .into_iter()
            .map(|seat| tokio::spawn(seat.play(progress.clone())))
            .collect();
        Self { progress, seats }
    }

    /// Waits until every seat settled everything it asked, then until each
    /// reached the session's final version; returns them.
    async fn settle(self, cluster: &Cluster) -> Vec<Seat> {
        let count = self.seats.len();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
        while self.progress.settled.load(Ordering::SeqCst) < count {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} of {count} seats settled what they asked within 90 s",
                self.progress.settled.load(Ordering::SeqCst)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let version = cluster.version().await;
        self.progress.until.send_replace(Some(version));
        let mut seats = Vec::new();
        for seat in self.seats {
            let seat = tokio::time::timeout(Duration::from_secs(30), seat)
                .await
                .expect("each seat reaches the final version within 30 s")
                .expect("a seat's task");
            seats.push(seat);
        }
        seats
    }
}

/// What the checks found, for the scenarios' own assertions.
#[derive(Debug)]
struct Verified {
    /// Commits in the log.
    versions: u64,
    /// Requests sent again after a reconnect, by all seats.
    resent: usize,
    /// Requests answered with a failure, by all seats.
    failed: usize,
}

/// The checks every fault test ends with (see the top of this file).
async fn verify(cluster: &Cluster, seats: &[Seat], alive: SocketAddr) -> Verified {
    let log: Vec<(i64, Option<uuid::Uuid>)> = sqlx::query_as(
        "select version, action_id from event_log
          where session_id = $1 and status = 'applied' order by version",
    )
    .bind(cluster.scene.session.0)
    .fetch_all(&cluster.pool)
    .await
    .unwrap();
    let versions: Vec<i64> = log.iter().map(|(v, _)| *v).collect();
    assert!(
        versions.iter().zip(1..).all(|(v, n)| *v == n),
        "versions are contiguous from 1: {versions:?}"
    );
    let mut applied: BTreeMap<ActionId, u64> = BTreeMap::new();
    for (version, action) in &log {
        if let Some(action) = action {
            let twice = applied.insert(ActionId(*action), *version as u64);
            assert!(
                twice.is_none(),
                "{action} applied twice: at {twice:?} and {version}"
            );
        }
    }
    for seat in seats {
        let record = &seat.record;
        for (action, version) in &record.acked {
            assert_eq!(
                applied.get(action),
                Some(version),
                "{}: {action} was acknowledged at {version}; the log disagrees",
                seat.name
            );
        }
        for action in &record.asked {
            let told = record
                .failed
                .get(action)
                .or_else(|| record.rejected.get(action));
            match (applied.contains_key(action), told) {
                (true, None) | (false, Some(_)) => {}
                (true, Some(reason)) => panic!(
                    "{}: {action} was committed, yet the client was told {reason:?}",
                    seat.name
                ),
                (false, None) => panic!(
                    "{}: {action} was asked, never refused, and is not in the log",
                    seat.name
                ),
            }
        }
    }
    for seat in seats {
        let (_, fresh) =
            support::ws::join_at(alive, cluster.scene.session, &seat.member.cookie).await;
        assert_eq!(
            seat.client.version(),
            Some(log.len() as u64),
            "{} reached the last version",
            seat.name
        );
        assert!(
            seat.client.view() == Some(&fresh),
            "{}'s state equals the server's, filtered for them",
            seat.name
        );
    }
    let verified = Verified {
        versions: log.len() as u64,
        resent: seats.iter().map(|s| s.record.resent).sum(),
        failed: seats.iter().map(|s| s.record.failed.len()).sum(),
    };
    report(cluster, seats, &verified);
    verified
}

/// What happened, on the test's output (shown when it fails).
fn report(cluster: &Cluster, seats: &[Seat], verified: &Verified) {
    eprintln!("{:?} engine: {verified:?}", cluster.engine);
    for seat in seats {
        let r = &seat.record;
        eprintln!(
            "  {}: asked {} ({} offline), acknowledged {}, failed {}, rejected {}, resent {}, sockets {}, approvals {}",
            seat.name,
            r.asked.len(),
            r.asked_offline,
            r.acked.len(),
            r.failed.len(),
            r.rejected.len(),
            r.resent,
            r.connections,
            r.approvals
        );
        for (action, reason) in r.failed.iter().take(3) {
            eprintln!("    failed {action}: {reason}");
        }
    }
}

/// A steady stream: each seat asks for a move every 40 ms (25 a second,
/// under the per-socket rate limit), 60 in all.
fn stream() -> Plan {
    Plan {
        moves: 60,
        every: Duration::from_millis(40),
        approves: false,
    }
}
