//! Session ownership under the Redis engine: a lease in Redis names the one
//! node whose session actor may write a session.
//!
//! The lease is the key `session:{id}:owner` (same hash tag as the session
//! record) holding `"<node> <claim>"`, set with `NX` and a time to live, and
//! renewed by the owner at a third of that. A node that stops renewing (it
//! died, or lost Redis) loses the session when the key expires, and the next
//! node to be asked for the session takes it over.
//!
//! The lease alone cannot prevent two writers: a paused owner may wake up
//! after its lease expired. So taking a session over also bumps the fencing
//! epoch on the session's row in PostgreSQL ([`crate::event_log::take_ownership`]),
//! and every commit checks it: a node that lost its lease can never commit.

use std::{sync::LazyLock, time::Duration};

use redis::{Script, aio::ConnectionManager};
use shared::id::SessionId;
use tokio::{sync::oneshot, task::JoinHandle, time::Instant};
use uuid::Uuid;

use crate::{Error, Result};

/// Extends the lease only if it is still ours.
static RENEW: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "if redis.call('get', KEYS[1]) == ARGV[1] then \
           return redis.call('pexpire', KEYS[1], ARGV[2]) \
         else return 0 end",
    )
});

/// Deletes the lease only if it is still ours.
static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        "if redis.call('get', KEYS[1]) == ARGV[1] then \
           return redis.call('del', KEYS[1]) \
         else return 0 end",
    )
});

/// How often a node waiting for its own stopping actor to let go looks again.
const RETRY: Duration = Duration::from_millis(25);

/// The Redis key of a session's lease.
pub fn owner_key(session: SessionId) -> String {
    format!("session:{{{session}}}:owner")
}

/// Who owns a session, as found when asking for it.
#[derive(Debug)]
pub enum Claim {
    /// This node does now.
    Ours(Lease),
    /// Another node does.
    Theirs(Uuid),
}

/// Takes the lease of `session` for `node` unless another node holds it.
///
/// If this node holds it already, an actor of this node is stopping and
/// about to let go: the claim waits for that (or for the lease to expire,
/// should the actor have died without letting go).
pub async fn claim(
    redis: &ConnectionManager,
    session: SessionId,
    node: Uuid,
    ttl: Duration,
) -> Result<Claim> {
    let key = owner_key(session);
    let value = format!("{node} {}", Uuid::new_v4());
    let mut conn = redis.clone();
    let deadline = Instant::now() + ttl + Duration::from_secs(1);
    loop {
        let taken: Option<String> = redis::cmd("SET")
            .arg(&key)
            .arg(&value)
            .arg("NX")
            .arg("PX")
            .arg(millis(ttl))
            .query_async(&mut conn)
            .await?;
        if taken.is_some() {
            return Ok(Claim::Ours(Lease::keep(redis.clone(), key, value, ttl)));
        }
        match owner(redis, session).await? {
            Some(owner) if owner != node => return Ok(Claim::Theirs(owner)),
            // Expired between the two commands: try again at once.
            None => continue,
            Some(_) if Instant::now() < deadline => tokio::time::sleep(RETRY).await,
            Some(_) => {
                return Err(Error::Internal(format!(
                    "this node's lease on session {session} was never released"
                )));
            }
        }
    }
}

/// The node holding the lease of `session`, if any.
pub async fn owner(redis: &ConnectionManager, session: SessionId) -> Result<Option<Uuid>> {
    let value: Option<String> = redis::cmd("GET")
        .arg(owner_key(session))
        .query_async(&mut redis.clone())
        .await?;
    Ok(value.and_then(|value| {
        value
            .split_once(' ')
            .and_then(|(node, _)| node.parse().ok())
    }))
}

/// A held lease, renewed in the background until released or lost.
#[derive(Debug)]
pub struct Lease {
    redis: ConnectionManager,
    key: String,
    value: String,
    keeper: JoinHandle<()>,
    lost: Option<oneshot::Receiver<()>>,
}

impl Lease {
    fn keep(redis: ConnectionManager, key: String, value: String, ttl: Duration) -> Self {
        let (lost_tx, lost) = oneshot::channel();
        let keeper = tokio::spawn(renew(
            redis.clone(),
            key.clone(),
            value.clone(),
            ttl,
            lost_tx,
        ));
        Self {
            redis,
            key,
            value,
            keeper,
            lost: Some(lost),
        }
    }

    /// Resolves once the lease is lost (taken by another node, or not
    /// renewed for its whole time to live). Only the first call gets it.
    pub fn lost(&mut self) -> Option<oneshot::Receiver<()>> {
        self.lost.take()
    }

    /// Stops renewing and lets go, so another node may take the session at
    /// once instead of after the time to live.
    pub async fn release(self) {
        self.keeper.abort();
        let released: redis::RedisResult<i64> = RELEASE
            .key(&self.key)
            .arg(&self.value)
            .invoke_async(&mut self.redis.clone())
            .await;
        if let Err(error) = released {
            tracing::warn!(key = %self.key, %error, "releasing a session lease failed; it expires by itself");
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.keeper.abort();
    }
}

async fn renew(
    mut redis: ConnectionManager,
    key: String,
    value: String,
    ttl: Duration,
    lost: oneshot::Sender<()>,
) {
    let mut renewed = Instant::now();
    let mut tick = tokio::time::interval(ttl / 3);
    tick.tick().await;
    loop {
        tick.tick().await;
        let result: redis::RedisResult<i64> = RENEW
            .key(&key)
            .arg(&value)
            .arg(millis(ttl))
            .invoke_async(&mut redis)
            .await;
        match result {
            Ok(1) => renewed = Instant::now(),
            Ok(_) => {
                tracing::warn!(%key, "session lease taken by another node");
                break;
            }
            Err(error) if renewed.elapsed() >= ttl => {
                tracing::warn!(%key, %error, "session lease not renewed in time; giving the session up");
                break;
            }
            Err(error) => {
                tracing::debug!(%key, %error, "renewing a session lease failed; retrying")
            }
        }
    }
    let _ = lost.send(());
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
