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

    /// Hands what another node forwarded to the session's actor here. A
    /// session this node is still starting (it took the lease, and the
    /// other node's client arrived while the log is read) gets it once
    /// started, in the order it came: a waiting task delivers everything
    /// held for the session, and anything arriving meanwhile joins it.
    async fn to_owner(&self, hub: &Hub, session: SessionId, envelope: Envelope) {
        {
            let mut held = locked(&self.inner.held);
            if let Some(queue) = held.get_mut(&session) {
                queue.push(envelope);
                return;
            }
            if hub.owned(session).is_none() && hub.starting(session) {
                held.insert(session, vec![envelope]);
                let (cluster, hub) = (self.clone(), hub.clone());
                tokio::spawn(async move {
                    let actor = hub.started(session).await;
                    loop {
                        let batch = {
                            let mut held = locked(&cluster.inner.held);
                            match held.get_mut(&session) {
                                Some(queue) if !queue.is_empty() => std::mem::take(queue),
                                _ => {
                                    held.remove(&session);
                                    break;
                                }
                            }
                        };
                        for envelope in batch {
                            cluster.deliver(actor.as_ref(), envelope).await;
                        }
                    }
                });
                return;
            }
        }
        self.deliver(hub.owned(session).as_ref(), envelope).await;
    }

    /// Delivers to the session's actor, or, with none here, tells the
    /// sender that this node does not serve the session.
    async fn deliver(&self, actor: Option<&Mailbox>, envelope: Envelope) {
        match envelope {
            Envelope::Join {
                session,
                from,
                conn,
                who,
                resume_from,
            } => {
                let (out, frames) = mpsc::channel(FORWARD_QUEUE);
                let join = Command::Join {
                    conn,
                    who,
                    resume_from,
                    out,
                    kick: None,
                };
                let budget = Budget::for_role(who.role);
                match actor {
                    Some(actor) if actor.try_send(join, &budget).is_ok() => {
                        let (weak, lane) = (actor.downgrade(), budget.lane());
                        locked(&self.inner.budgets).insert(conn, budget);
                        tokio::spawn(
                            self.clone()
                                .forward(session, from, conn, frames, weak, lane),
                        );
                    }
                    _ => self.kick(from, conn).await,
                }
            }
            Envelope::Message {
                session,
                from,
                conn,
                message,
            } => {
                let message = Command::Message {
                    conn,
                    message: *message,
                };
                let budget = locked(&self.inner.budgets).get(&conn).cloned();
                let kick = match (actor, budget) {
                    (Some(actor), Some(budget)) => match actor.try_send(message, &budget) {
                        Ok(()) => false,
                        Err(Refused::Full) => {
                            tracing::warn!(%session, %conn, "a socket on another node outran its room in the mailbox; closing it");
                            // What it sends until the kick lands is dropped
                            // (it has no budget now), and the actor lets it go.
                            locked(&self.inner.budgets).remove(&conn);
                            let _ = actor.post(Command::Leave { conn }, budget.lane());
                            true
                        }
                        Err(Refused::Closed) => true,
                    },
                    // Closed here already: its kick is on its way.
                    (Some(_), None) => false,
                    (None, _) => true,
                };
                if kick {
                    self.kick(from, conn).await;
                }
            }
            Envelope::Leave { conn, .. } => {
                let budget = locked(&self.inner.budgets).remove(&conn);
                if let Some(actor) = actor {
                    let lane = budget.map_or(Lane::Table, |budget| budget.lane());
                    let _ = actor.post(Command::Leave { conn }, lane);
                }
            }
            Envelope::Rejoin { conn, who, .. } => {
                let budget = locked(&self.inner.budgets).get(&conn).cloned();
                if let (Some(actor), Some(budget)) = (actor, budget) {
                    let _ = actor.post(Command::Rejoin { conn, who }, budget.lane());
                }
            }
            Envelope::StateSince {
                from,
                reply,
                who,
                since,
                ..
            } => {
                let actor = actor.cloned();
                let cluster = self.clone();
                // Answered on its own task: the actor may be busy writing.
                tokio::spawn(async move {
                    let mut frames = None;
                    if let Some(actor) = actor {
                        let (answer, answered) = oneshot::channel();
                        let budget = Budget::for_role(who.role);
                        let asked = Command::StateSince {
                            who,
                            since,
                            reply: answer,
                        };
                        if actor.send(asked, &budget).await.is_ok() {
                            frames = answered.await.ok();
                        }
                    }
                    let envelope = Envelope::Reply { reply, frames };
                    if let Err(error) = cluster.publish(from, &envelope).await {
                        tracing::warn!(%error, "cannot answer another node's sync request");
                    }
                });
            }
            Envelope::Frames { .. } | Envelope::Kick { .. } | Envelope::Reply { .. } => {}
        }
    }

    async fn kick(&self, node: Uuid, conn: ConnId) {
        if let Err(error) = self.publish(node, &Envelope::Kick { conn }).await {
            tracing::warn!(%error, "cannot tell another node to close a socket");
        }
    }

    /// On the owner: sends what the actor queues for a socket on `node`
    /// there, batching what queued meanwhile.
    async fn forward(
        self,
        session: SessionId,
        node: Uuid,
        conn: ConnId,
        mut frames: mpsc::Receiver<Bytes>,
        actor: WeakMailbox,
        lane: Lane,
    ) {
        while let Some(first) = frames.recv().await {
            let mut batch = vec![first];
            while batch.len() < FORWARD_BATCH {
                match frames.try_recv() {
                    Ok(frame) => batch.push(frame),
                    Err(_) => break,
                }
            }
            let gone = match self
                .publish(
                    node,
                    &Envelope::Frames {
                        session,
                        from: self.inner.node,
                        conn,
                        frames: batch,
                    },
                )
                .await
            {
                Ok(received) => received == 0,
                Err(error) => {
                    tracing::warn!(%error, %node, "cannot forward frames; dropping the socket");
                    true
                }
            };
            if gone {
                locked(&self.inner.budgets).remove(&conn);
                if let Some(actor) = actor.upgrade() {
                    let _ = actor.post(Command::Leave { conn }, lane);
                }
                return;
            }
        }
        // The actor dropped the socket: too slow, or the session stopped.
        locked(&self.inner.budgets).remove(&conn);
        self.kick(node, conn).await;
    }

    /// On a node that does not own `session`: serves its sockets and HTTP
    /// requests by forwarding to `owner`, until the owner lets the session
    /// go (it stopped, idle, or died) or the hub stops it. Sockets still
    /// open then are closed and resume wherever the session is owned next.
    /// It does not stop when its last socket leaves: a socket may be
    /// joining through it at that moment, and the owner stops (and lets
    /// go) by itself once nobody is connected anywhere.
    pub(super) async fn proxy(
        self,
        session: SessionId,
        owner: Uuid,
        mut inbox: Inbox,
        stop: Arc<tokio::sync::Notify>,
    ) {
        tracing::debug!(%session, %owner, "serving a session owned by another node");
        self.inner.metrics.proxied.inc();
        let mut conns = HashSet::new();
        let mut check = tokio::time::interval(self.inner.lease_ttl / 3);
        check.tick().await;
        loop {
            let command = tokio::select! {
                () = stop.notified() => break,
                command = inbox.recv() => command,
                _ = check.tick() => {
                    match lease::owner(&self.inner.redis, session).await {
                        Ok(Some(now)) if now == owner => {}
                        Ok(_) => {
                            tracing::info!(%session, %owner, "the owner let the session go; closing its sockets here");
                            break;
                        }
                        Err(error) => tracing::warn!(%session, %error, "cannot check the session's owner"),
                    }
                    continue;
                }
            };
            // The socket's room here is given back once it is forwarded.
            let Some(Letter {
                command,
                held: _held,
            }) = command
            else {
                break;
            };
            let envelope = match command {
                Command::Join {
                    conn,
                    who,
                    resume_from,
                    out,
                    kick,
                } => {
                    locked(&self.inner.remote).insert(conn, RemoteSocket { out, _kick: kick });
                    conns.insert(conn);
                    Envelope::Join {
                        session,
                        from: self.inner.node,
                        conn,
                        who,
                        resume_from,
                    }
                }
                Command::Message { conn, message } => Envelope::Message {
                    session,
                    from: self.inner.node,
                    conn,
                    message: Box::new(message),
                },
                Command::Leave { conn } => {
                    locked(&self.inner.remote).remove(&conn);
                    conns.remove(&conn);
                    Envelope::Leave { session, conn }
                }
                Command::Rejoin { conn, who } => Envelope::Rejoin { session, conn, who },
                Command::StateSince { who, since, reply } => {
                    let id = Uuid::new_v4();
                    locked(&self.inner.replies).insert(id, reply);
                    let cluster = self.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(REPLY_TIMEOUT).await;
                        // Unanswered: dropping the sender fails the request.
                        locked(&cluster.inner.replies).remove(&id);
                    });
                    Envelope::StateSince {
                        session,
                        from: self.inner.node,
                        reply: id,
                        who,
                        since,
                    }
                }
            };
            match self.publish(owner, &envelope).await {
                Ok(0) => {
                    tracing::info!(%session, %owner, "the owning node is gone; closing its sockets here");
                    break;
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%session, %error, "cannot forward to the owning node");
                    break;
                }
            }
        }
        inbox.close();
        self.inner.metrics.proxied.dec();
        let mut remote = locked(&self.inner.remote);
        for conn in conns {
            remote.remove(&conn);
        }
    }
}

async fn subscribe(client: &redis::Client, node: Uuid) -> Result<redis::aio::PubSub> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(channel(node)).await?;
    pubsub.subscribe(super::recheck::CHANNEL).await?;
    Ok(pubsub)
}
