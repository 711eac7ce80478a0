//! Authority is checked when it is used, not only when a socket opened.
//!
//! Every open socket is registered under its user. When something changes
//! what a user may do or see (a role change, removal from a campaign,
//! log-out, a password change), [`Sockets::recheck`] wakes each of that
//! user's sockets, which reads the login and the role again: the same role
//! goes on, a new role is told and reconnects (its new view arrives with
//! the new welcome), and a user who lost access is told why and closed.
//! On the Redis engine the user is also published on [`CHANNEL`], so the
//! sockets on every node are woken; each socket also rechecks every
//! [`RECHECK_EVERY`] in case a message was lost.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use redis::aio::ConnectionManager;
use shared::id::UserId;
use tokio::sync::Notify;

/// The Redis channel every node listens on for users to recheck.
pub const CHANNEL: &str = "tabletop:recheck";

/// How often an open socket rechecks its user even if nobody asked.
pub const RECHECK_EVERY: Duration = Duration::from_secs(60);

/// Asks every socket of a user, on every node, to check the user again.
/// Cloning is cheap.
#[derive(Clone, Default)]
pub struct Rechecker {
    sockets: Sockets,
    /// The Redis engine's connection: other nodes hear of it there.
    redis: Option<ConnectionManager>,
}

impl std::fmt::Debug for Rechecker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rechecker")
            .field("clustered", &self.redis.is_some())
            .finish_non_exhaustive()
    }
}

impl Rechecker {
    /// Rechecks on this node's `sockets`, and on every node when `redis`
    /// is the cluster's connection.
    pub fn new(sockets: Sockets, redis: Option<ConnectionManager>) -> Self {
        Self { sockets, redis }
    }

    /// The sockets of this node.
    pub fn sockets(&self) -> &Sockets {
        &self.sockets
    }

    /// Wakes every socket of `user` to check the user's login and role
    /// again. Call it after anything that changes what the user may do or
    /// see.
    pub async fn user(&self, user: UserId) {
        self.sockets.recheck(user);
        if let Some(redis) = &self.redis {
            let published: redis::RedisResult<usize> = redis::cmd("PUBLISH")
                .arg(CHANNEL)
                .arg(user.to_string())
                .query_async(&mut redis.clone())
                .await;
            if let Err(error) = published {
                // Each socket still rechecks on its own within a minute.
                tracing::warn!(%error, %user, "cannot ask the other nodes to recheck a user");
            }
        }
    }
}

/// The open sockets of this node, by user. Cloning is cheap.
#[derive(Debug, Clone, Default)]
pub struct Sockets {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    by_user: Mutex<HashMap<UserId, HashMap<u64, Arc<Notify>>>>,
    next: AtomicU64,
}

/// One socket's place in [`Sockets`]; dropping it takes the socket out.
#[derive(Debug)]
pub struct Registration {
    sockets: Sockets,
    user: UserId,
    id: u64,
    /// Woken when the socket must recheck its user. It starts with one
    /// permit: what changed between the socket's first check and its
    /// registration is not missed.
    pub wake: Arc<Notify>,
}

impl Sockets {
    /// Registers a socket of `user`, unless the user already has `max`
    /// open here.
    pub fn register(&self, user: UserId, max: usize) -> Option<Registration> {
        let wake = Arc::new(Notify::new());
        let id = self.inner.next.fetch_add(1, Ordering::Relaxed);
        {
            let mut by_user = self.locked();
            let mine = by_user.entry(user).or_default();
            if mine.len() >= max {
                return None;
            }
            mine.insert(id, wake.clone());
        }
        wake.notify_one();
        Some(Registration {
            sockets: self.clone(),
            user,
            id,
            wake,
        })
    }

    /// Wakes every socket of `user` on this node to check it again.
    pub fn recheck(&self, user: UserId) {
        if let Some(mine) = self.locked().get(&user) {
            for wake in mine.values() {
                wake.notify_one();
            }
        }
    }

    /// Sockets open here for `user`.
    pub fn count(&self, user: UserId) -> usize {
        self.locked().get(&user).map_or(0, HashMap::len)
    }

    fn locked(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, HashMap<u64, Arc<Notify>>>> {
        // The map stays consistent whatever panicked while holding it.
        self.inner
            .by_user
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut by_user = self.sockets.locked();
        if let Some(mine) = by_user.get_mut(&self.user) {
            mine.remove(&self.id);
            if mine.is_empty() {
                by_user.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_recheck_wakes_every_socket_of_the_user_and_no_other() {
        let sockets = Sockets::default();
        let alice = UserId(uuid::Uuid::from_u128(1));
        let bob = UserId(uuid::Uuid::from_u128(2));
        let first = sockets.register(alice, 8).unwrap();
        let second = sockets.register(alice, 8).unwrap();
        let other = sockets.register(bob, 8).unwrap();
        // The permit each starts with.
        for registration in [&first, &second, &other] {
            registration.wake.notified().await;
        }
        sockets.recheck(alice);
        first.wake.notified().await;
        second.wake.notified().await;
        let woken = tokio::time::timeout(Duration::from_millis(50), other.wake.notified()).await;
        assert!(woken.is_err(), "bob's socket was woken for alice");
        drop(first);
        assert_eq!(sockets.count(alice), 1);
        drop(second);
        assert_eq!(sockets.count(alice), 0);
        assert!(
            sockets.locked().get(&alice).is_none(),
            "emptied users are pruned"
        );
    }

    #[test]
    fn a_user_has_at_most_max_sockets() {
        let sockets = Sockets::default();
        let alice = UserId(uuid::Uuid::from_u128(1));
        let open: Vec<_> = (0..3)
            .map(|_| sockets.register(alice, 3).unwrap())
            .collect();
        assert!(sockets.register(alice, 3).is_none());
        drop(open);
        assert!(sockets.register(alice, 3).is_some());
    }
}
