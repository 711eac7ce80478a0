//! The Redis engine: several server processes share one PostgreSQL and one
//! Redis and serve the same sessions (ARCHITECTURE.md, "Multi-node").
//!
//! Each session still has exactly one writer, the session actor on the node
//! holding the session's [lease](super::lease). A socket that lands on any
//! other node is served there by a *proxy*: its messages are forwarded to
//! the owner, and the owner sends it the frames it may see, already
//! filtered for it by the actor, exactly as for a socket of its own. So
//! per-recipient filtering, ordering and idempotency have one
//! implementation, whichever node a client reaches.
//!
//! Nodes talk over Redis pub/sub, one channel per node. Pub/sub is
//! at-most-once, so nothing depends on it for safety: commits are in the
//! event log before they are sent, clients resume from their last version
//! after any gap or reconnection, and a message that reaches nobody (the
//! publisher learns how many subscribers got it) means the other node is
//! gone, which ends the forwarding on both sides and closes the affected
//! sockets so their clients resume.
//!
//! When an owner dies its lease expires; the next node asked for the
//! session takes it over from the event log (bumping the fencing epoch),
//! and the proxies that were forwarding to the dead node close their
//! sockets so that clients reconnect and resume against the new owner.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use bytes::Bytes;
use futures_util::StreamExt;
use redis::{ConnectionInfo, aio::ConnectionManager};
use serde::{Deserialize, Serialize};
use shared::{change::Version, id::SessionId, protocol::ClientMessage, rules::Participant};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::{
    Budget, Command, ConnId, Hub, Lane, Mailbox,
    lease::{self, Claim},
    mailbox::{Inbox, Letter, Refused, WeakMailbox},
};
use crate::{Error, Result, metrics::Metrics};

mod owner;
mod proxy;

/// Frames queued on the owner for a socket on another node.
const FORWARD_QUEUE: usize = 1024;

/// The most frames sent to another node in one message.
const FORWARD_BATCH: usize = 256;

/// How long an HTTP sync request waits for the owner's answer.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a reconnecting subscriber waits between attempts.
const RESUBSCRIBE: Duration = Duration::from_millis(500);

/// What nodes send each other.
#[derive(Debug, Serialize, Deserialize)]
enum Envelope {
    /// To the owner: a socket on node `from` said hello.
    Join {
        session: SessionId,
        from: Uuid,
        conn: ConnId,
        who: Participant,
        resume_from: Option<Version>,
    },
    /// To the owner: a message from a socket that joined.
    Message {
        session: SessionId,
        from: Uuid,
        conn: ConnId,
        message: Box<ClientMessage>,
    },
    /// To the owner: a socket's user has another role now.
    Rejoin {
        session: SessionId,
        conn: ConnId,
        who: Participant,
    },
    /// To the owner: a socket closed.
    Leave { session: SessionId, conn: ConnId },
    /// To the owner: differential sync over HTTP, answered with `Reply`.
    StateSince {
        session: SessionId,
        from: Uuid,
        reply: Uuid,
        who: Participant,
        since: Option<Version>,
    },
    /// To a socket's node: frames for the socket, in order.
    Frames {
        session: SessionId,
        from: Uuid,
        conn: ConnId,
        frames: Vec<Bytes>,
    },
    /// To a socket's node: the owner dropped the socket; close it.
    Kick { conn: ConnId },
    /// To an HTTP request's node: the answer (`None`: not the owner).
    Reply {
        reply: Uuid,
        frames: Option<Vec<Bytes>>,
    },
}

impl Envelope {
    fn encode(&self) -> Result<Vec<u8>> {
        rmp_serde::to_vec_named(self).map_err(Error::failed("encoding a node message"))
    }
}

/// A socket on this node whose session another node owns.
struct RemoteSocket {
    out: mpsc::Sender<Bytes>,
    /// Dropped to close the socket.
    _kick: Option<oneshot::Sender<()>>,
}

/// This node's part of the cluster. Cloning is cheap.
#[derive(Clone)]
pub struct Cluster {
    inner: Arc<Inner>,
}

struct Inner {
    node: Uuid,
    metrics: Metrics,
    redis: ConnectionManager,
    lease_ttl: Duration,
    /// Sockets here that a proxy serves, by connection.
    remote: Mutex<HashMap<ConnId, RemoteSocket>>,
    /// HTTP sync requests waiting for another node's answer.
    replies: Mutex<HashMap<Uuid, oneshot::Sender<Vec<Bytes>>>>,
    /// What other nodes sent for sessions this node is starting, in order.
    held: Mutex<HashMap<SessionId, Vec<Envelope>>>,
    /// The room in this node's session mailboxes of each socket on another
    /// node (see [`super::mailbox`]). Delivery never waits for it: it
    /// serves every session, so a socket that outruns it is closed and
    /// resumes, as a socket too slow to read is.
    budgets: Mutex<HashMap<ConnId, Budget>>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("node", &self.inner.node)
            .finish_non_exhaustive()
    }
}

fn channel(node: Uuid) -> String {
    format!("tabletop:node:{node}")
}

fn locked<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The maps stay consistent whatever panicked while holding them.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Cluster {
    pub(super) fn new(redis: ConnectionManager, lease_ttl: Duration, metrics: Metrics) -> Self {
        Self {
            inner: Arc::new(Inner {
                node: Uuid::new_v4(),
                metrics,
                redis,
                lease_ttl,
                remote: Mutex::default(),
                replies: Mutex::default(),
                held: Mutex::default(),
                budgets: Mutex::default(),
            }),
        }
    }

    /// This node's id.
    pub fn node(&self) -> Uuid {
        self.inner.node
    }

    pub(super) fn redis(&self) -> &ConnectionManager {
        &self.inner.redis
    }

    /// Takes `session` for this node, or names the node that has it. A
    /// lease left by a node that no longer listens (it died) is waited out
    /// rather than proxied to, so that clients reconnecting after an owner
    /// died wait a moment instead of being turned away until it expires.
    pub(super) async fn claim(&self, session: SessionId) -> Result<Claim> {
        let deadline = tokio::time::Instant::now() + self.inner.lease_ttl + Duration::from_secs(1);
        loop {
            let claim = lease::claim(
                &self.inner.redis,
                session,
                self.inner.node,
                self.inner.lease_ttl,
            )
            .await?;
            match claim {
                Claim::Theirs(owner)
                    if tokio::time::Instant::now() < deadline && !self.listening(owner).await? =>
                {
                    tokio::time::sleep(self.inner.lease_ttl / 10).await;
                }
                claim => return Ok(claim),
            }
        }
    }

    /// Whether `node` is subscribed to its channel (alive, as far as Redis
    /// can tell).
    async fn listening(&self, node: Uuid) -> Result<bool> {
        let (_, subscribers): (String, usize) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(channel(node))
            .query_async(&mut self.inner.redis.clone())
            .await?;
        Ok(subscribers > 0)
    }

    /// Sends to another node; how many subscribers received it (0: that
    /// node is gone).
    async fn publish(&self, node: Uuid, envelope: &Envelope) -> Result<usize> {
        let payload = envelope.encode()?;
        let received: usize = redis::cmd("PUBLISH")
            .arg(channel(node))
            .arg(payload)
            .query_async(&mut self.inner.redis.clone())
            .await?;
        Ok(received)
    }

    /// Subscribes to this node's channel, then hands what arrives to the
    /// hub's session actors and sockets, resubscribing after Redis drops
    /// the connection. Returns once the first subscription holds, so no
    /// answer to this node is published before it listens.
    pub(super) async fn listen(&self, info: &ConnectionInfo, hub: Hub) -> Result<()> {
        let client = redis::Client::open(info.clone())?;
        let first = subscribe(&client, self.inner.node).await?;
        let cluster = self.clone();
        tokio::spawn(async move {
            let mut subscription = Some(first);
            loop {
                let pubsub = match subscription.take() {
                    Some(pubsub) => pubsub,
                    None => match subscribe(&client, cluster.inner.node).await {
                        Ok(pubsub) => pubsub,
                        Err(error) => {
                            tracing::warn!(%error, "cannot subscribe to this node's channel; retrying");
                            tokio::time::sleep(RESUBSCRIBE).await;
                            continue;
                        }
                    },
                };
                let mut messages = pubsub.into_on_message();
                while let Some(message) = messages.next().await {
                    if message.get_channel_name() == super::recheck::CHANNEL {
                        match std::str::from_utf8(message.get_payload_bytes())
                            .ok()
                            .and_then(|user| user.parse::<uuid::Uuid>().ok())
                        {
                            Some(user) => hub.sockets().recheck(shared::id::UserId(user)),
                            None => tracing::error!("undecodable recheck message dropped"),
                        }
                        continue;
                    }
                    match rmp_serde::from_slice::<Envelope>(message.get_payload_bytes()) {
                        Ok(envelope) => cluster.dispatch(&hub, envelope).await,
                        Err(error) => tracing::error!(%error, "undecodable node message dropped"),
                    }
                }
                // Frames may have been missed: close the sockets served from
                // elsewhere so their clients resume.
                tracing::warn!("lost this node's Redis subscription; resubscribing");
                locked(&cluster.inner.remote).clear();
                tokio::time::sleep(RESUBSCRIBE).await;
            }
        });
        Ok(())
    }

    async fn dispatch(&self, hub: &Hub, envelope: Envelope) {
        match envelope {
            Envelope::Frames {
                session,
                from,
                conn,
                frames,
            } => {
                let known = {
                    let mut remote = locked(&self.inner.remote);
                    match remote.get(&conn) {
                        Some(socket) => {
                            // A socket that cannot keep up is closed, as on
                            // the owner (its proxy then says it left).
                            if frames
                                .into_iter()
                                .any(|frame| socket.out.try_send(frame).is_err())
                            {
                                remote.remove(&conn);
                            }
                            true
                        }
                        None => false,
                    }
                };
                // Closed here while its leave was lost (its proxy had just
                // stopped): the owner would send to it forever.
                if !known {
                    let leave = Envelope::Leave { session, conn };
                    if let Err(error) = self.publish(from, &leave).await {
                        tracing::warn!(%error, "cannot tell the owner a socket left");
                    }
                }
            }
            Envelope::Kick { conn } => {
                locked(&self.inner.remote).remove(&conn);
            }
            Envelope::Reply { reply, frames } => {
                let waiting = locked(&self.inner.replies).remove(&reply);
                if let (Some(waiting), Some(frames)) = (waiting, frames) {
                    let _ = waiting.send(frames);
                }
            }
            Envelope::Join { session, .. }
            | Envelope::Message { session, .. }
            | Envelope::Leave { session, .. }
            | Envelope::Rejoin { session, .. }
            | Envelope::StateSince { session, .. } => {
                self.to_owner(hub, session, envelope).await;
            }
        }
    }
}

async fn subscribe(client: &redis::Client, node: Uuid) -> Result<redis::aio::PubSub> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(channel(node)).await?;
    pubsub.subscribe(super::recheck::CHANNEL).await?;
    Ok(pubsub)
}
