//! The session record in Redis: `session:{id}` (the braces make the id a
//! Redis Cluster hash tag), a hash of the session's campaign, encounter,
//! version (at most a second behind) and epoch, and one `participant:{user}` field per member who
//! joined, with role, connection status and last seen time. It expires 24
//! hours after the last activity.
//!
//! Beside it, `encounter:{id}` holds the hot copy of the state (version and
//! the whole `Entities` as JSON), rewritten at most once a second while the
//! session changes.
//!
//! Redis is a hot copy, never the source of truth: the session actor sends
//! updates to one writer task (so they land in order) and never waits for
//! Redis; if Redis is down or flushed, the session goes on and the record
//! is rewritten by the next updates.

use redis::aio::ConnectionManager;
use serde_json::json;
use shared::{
    change::Version,
    id::{CampaignId, EncounterId, SessionId},
    rules::Participant,
};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};
use tokio::sync::mpsc;

/// How long a session record lives after its last update.
pub const SESSION_TTL_SECONDS: i64 = 24 * 3600;

/// How often, at most, a changing version is written to the record.
const VERSION_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Updates waiting for the writer before new ones are dropped (the record
/// is a hot copy; the next update rewrites what matters).
const BACKLOG: usize = 1024;

/// The Redis key of a session.
pub fn session_key(session: SessionId) -> String {
    format!("session:{{{session}}}")
}

/// One change to the record.
#[derive(Debug)]
enum Update {
    Started {
        campaign: CampaignId,
        encounter: Option<EncounterId>,
        version: Version,
        epoch: i64,
    },
    Presence {
        who: Participant,
        connected: bool,
    },
    Version(Version),
    Encounter {
        encounter: EncounterId,
        version: Version,
        state: String,
    },
}

/// The actor's side: cheap, never blocks.
#[derive(Debug, Clone)]
pub struct Mirror {
    updates: Option<mpsc::Sender<Update>>,
}

impl Mirror {
    /// Writes the record of `session` to Redis, if there is one.
    pub fn start(redis: Option<ConnectionManager>, session: SessionId) -> Self {
        let updates = redis.map(|redis| {
            let (updates, pending) = mpsc::channel(BACKLOG);
            tokio::spawn(write(redis, session, pending));
            updates
        });
        Self { updates }
    }

    fn send(&self, update: Update) {
        if let Some(updates) = &self.updates
            && updates.try_send(update).is_err()
        {
            tracing::debug!("session record update dropped: Redis is behind");
        }
    }

    /// The session was taken over here.
    pub fn started(
        &self,
        campaign: CampaignId,
        encounter: Option<EncounterId>,
        version: Version,
        epoch: i64,
    ) {
        self.send(Update::Started {
            campaign,
            encounter,
            version,
            epoch,
        });
    }

    /// Someone connected or left.
    pub fn presence(&self, who: Participant, connected: bool) {
        self.send(Update::Presence { who, connected });
    }

    /// A commit was made.
    pub fn version(&self, version: Version) {
        self.send(Update::Version(version));
    }

    /// Whether a Redis is there to write to (the caller can skip the work
    /// of serializing state for nobody).
    pub fn enabled(&self) -> bool {
        self.updates.is_some()
    }

    /// The whole state at `version` (`shared::store::Entities` as JSON), as
    /// the hot copy `encounter:{id}`.
    pub fn encounter(&self, encounter: EncounterId, version: Version, state: String) {
        self.send(Update::Encounter {
            encounter,
            version,
            state,
        });
    }
}

/// Sets `version` and `state` of a hash unless it holds a newer version.
static NEWER_ONLY: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| {
    redis::Script::new(
        r"local current = redis.call('HGET', KEYS[1], 'version')
          if not current or tonumber(current) < tonumber(ARGV[1]) then
            redis.call('HSET', KEYS[1], 'version', ARGV[1], 'state', ARGV[2])
          end
          redis.call('EXPIRE', KEYS[1], ARGV[3])",
    )
});

/// The Redis key of an encounter's hot copy.
pub fn encounter_key(encounter: EncounterId) -> String {
    format!("encounter:{{{encounter}}}")
}

async fn write(
    mut redis: ConnectionManager,
    session: SessionId,
    mut pending: mpsc::Receiver<Update>,
) {
    let key = session_key(session);
    // The version changes with every commit; writing it each time would
    // cost a Redis round trip per commit for a field nobody reads that
    // often. The latest one is written at most once a second.
    let mut unwritten: Option<Version> = None;
    let mut tick = tokio::time::interval(VERSION_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let update = tokio::select! {
            update = pending.recv() => match update {
                Some(Update::Version(version)) => {
                    unwritten = Some(version);
                    continue;
                }
                Some(update) => update,
                None => match unwritten.take() {
                    Some(version) => Update::Version(version),
                    None => break,
                },
            },
            _ = tick.tick(), if unwritten.is_some() => match unwritten.take() {
                Some(version) => Update::Version(version),
                None => continue,
            },
        };
        let now = OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .unwrap_or_default();
        let mut pipe = redis::pipe();
        match update {
            Update::Started {
                campaign,
                encounter,
                version,
                epoch,
            } => {
                pipe.hset_multiple(
                    &key,
                    &[
                        ("campaign", campaign.to_string()),
                        (
                            "encounter",
                            encounter.map(|e| e.to_string()).unwrap_or_default(),
                        ),
                        ("version", version.to_string()),
                        ("epoch", epoch.to_string()),
                        ("last_activity", now),
                    ],
                );
            }
            Update::Presence { who, connected } => {
                let record = json!({"role": who.role, "connected": connected, "last_seen": now});
                pipe.hset(
                    &key,
                    format!("participant:{}", who.user),
                    record.to_string(),
                )
                .hset(&key, "last_activity", now);
            }
            Update::Version(version) => {
                pipe.hset(&key, "version", version.to_string())
                    .hset(&key, "last_activity", now);
            }
            Update::Encounter {
                encounter,
                version,
                state,
            } => {
                // Only ever forward: a node that lost the session (and does
                // not know yet) must not overwrite a newer copy.
                let written = NEWER_ONLY
                    .key(encounter_key(encounter))
                    .arg(version)
                    .arg(state)
                    .arg(SESSION_TTL_SECONDS)
                    .invoke_async::<()>(&mut redis)
                    .await;
                if let Err(error) = written {
                    tracing::warn!(%session, %error, "cannot write the encounter's hot copy");
                }
                continue;
            }
        }
        pipe.expire(&key, SESSION_TTL_SECONDS);
        if let Err(error) = pipe.query_async::<()>(&mut redis).await {
            tracing::warn!(%session, %error, "cannot update the session record in Redis");
        }
    }
}
