//! The session actor: the one writer of a session's state.
//!
//! It receives commands from sockets in order and, for each request:
//! validates it with `shared::rules`; answers a repeated action id with its
//! first outcome; applies the approval policy; queues it for the GM
//! (persisted as pending) or commits it. A commit is written to the event
//! log (version bumped under the fencing epoch) before anyone hears of it,
//! then sent to every connection filtered by `shared::sight`. If writing
//! fails the in-memory state is reverted, so nothing a client saw is
//! missing from the log.
//!
//! One concept per file:
//! - this file: the commands, the actor's state and its loop (group
//!   commit: a round of the mailbox is handled, then written at once);
//! - [`recover`]: taking a session over and rebuilding its state;
//! - [`conns`]: the sockets, their flow control and what they are sent;
//! - [`admit`]: a player's request, from arrival to committed or queued;
//! - [`gm`]: what the GM decides (approvals, rejections, rules, roles,
//!   the end of the session) and expiry;
//! - [`batch`]: what a round stages, written in one transaction by the
//!   shared [`Committer`], and told once written;
//! - [`fanout`]: a written batch's commits, filtered per recipient.

mod admit;
mod batch;
mod conns;
mod explored;
mod fanout;
mod gm;
mod recover;
mod undo;

use std::{collections::HashSet, time::Duration};

use bytes::Bytes;
use shared::{
    authority::Authority,
    change::Version,
    id::{ActionId, SessionId},
    protocol::ClientMessage,
    rules::{ApprovalPolicy, Participant},
};
use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::{Error, Result, metrics::Metrics};

use super::{
    committer::Committer,
    lease::Lease,
    mailbox::{Inbox, Letter},
    mirror::Mirror,
};

use batch::{Queued, Refused, RulesChange, Staged};
use conns::Conn;
use gm::Waiting;

/// Identifies one socket.
pub type ConnId = Uuid;

/// Commits between two snapshots: recovery replays at most this many.
pub const SNAPSHOT_EVERY: u64 = 100;

/// How long things wait in a session, and how far a socket may fall behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tuning {
    /// A request nobody decides on expires after this.
    pub request_ttl: Duration,
    /// A session with no socket stops after this (its state is in the log;
    /// the next socket starts it again).
    pub idle_stop: Duration,
    /// Commits sent to a socket that acknowledges and not yet acknowledged
    /// before it is held back: it then gets no more commits until it
    /// acknowledges what it was sent, and then one snapshot.
    pub unacked_window: u64,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            request_ttl: Duration::from_secs(10 * 60),
            idle_stop: Duration::from_secs(5 * 60),
            unacked_window: 256,
        }
    }
}

/// The most commands handled in one round (so written in one batch).
const MAX_BATCH: usize = 256;

/// How often waiting requests are checked for expiry.
const EXPIRY_SWEEP: Duration = Duration::from_secs(1);

/// What sockets ask of a session actor.
#[derive(Debug)]
pub enum Command {
    /// A socket said hello.
    Join {
        /// The socket.
        conn: ConnId,
        /// Who it is (checked by the socket against the login and the
        /// campaign's members).
        who: Participant,
        /// The last version it applied, if it is resuming.
        resume_from: Option<Version>,
        /// Where its frames go. Bounded: a socket that cannot keep up is
        /// dropped and resumes when it reconnects.
        out: mpsc::Sender<Bytes>,
        /// Dropped when the actor drops the socket, which closes it.
        kick: Option<oneshot::Sender<()>>,
    },
    /// A socket's user has another role now (see [`super::recheck`]): it
    /// is welcomed again with what the new role may see.
    Rejoin {
        /// The socket.
        conn: ConnId,
        /// Who it is now.
        who: Participant,
    },
    /// A socket closed.
    Leave {
        /// The socket.
        conn: ConnId,
    },
    /// What brings `who` from version `since` to now (differential sync
    /// over HTTP): encoded server messages, none when current.
    StateSince {
        /// Who asks (checked by the caller).
        who: Participant,
        /// Their version, if any.
        since: Option<Version>,
        /// Where the answer goes.
        reply: oneshot::Sender<Vec<Bytes>>,
    },
    /// A message from a socket that joined.
    Message {
        /// The socket.
        conn: ConnId,
        /// What it sent (boxed: an action is large, and most commands
        /// are not messages).
        message: Box<ClientMessage>,
    },
}

/// The state and connections of one session.
pub struct SessionActor {
    id: SessionId,
    /// The campaign played (its members' roles are the session's).
    campaign: shared::id::CampaignId,
    db: PgPool,
    /// Writes batches, together with other sessions' batches.
    committer: Committer,
    epoch: i64,
    authority: Authority,
    policy: ApprovalPolicy,
    conns: std::collections::HashMap<ConnId, Conn>,
    waiting: Vec<Waiting>,
    request_ttl: time::Duration,
    idle_stop: Duration,
    unacked_window: u64,
    /// Since when no socket is connected.
    idle_since: Option<std::time::Instant>,
    metrics: Metrics,
    mirror: Mirror,
    /// Commits applied here and not yet written.
    batch: Vec<Staged>,
    /// Requests queued for the GM and not yet written.
    queued: Vec<Queued>,
    /// Requests rejected or expired and not yet written.
    refused: Vec<Refused>,
    /// New rules in force and not yet written.
    rules: Option<RulesChange>,
    /// Action ids that may have a recorded outcome: every id recorded
    /// when the session started, and each one processed or whose write
    /// failed since. An id not here is new, so a request costs no lookup;
    /// one here is looked up (a resend). The log's primary key is the last
    /// guard.
    recorded: HashSet<ActionId>,
    /// The encounter on the table, for the Redis hot copy.
    encounter: Option<shared::id::EncounterId>,
    /// The version last written as the hot copy, and when.
    hot_copy: (Version, std::time::Instant),
    /// The Redis engine's lease on the session (none in-process).
    lease: Option<Lease>,
    /// The GM ended the session: the actor stops after this command.
    ended: bool,
    /// The secret the session's dice come from (shared::fair); none for a
    /// session started before dice could be checked.
    dice: Option<shared::fair::Seed>,
    /// The latest commits' exact undo, for the GM's Ctrl+Z.
    undoable: undo::UndoHistory,
    /// Asks the sockets of a user whose role changed here to check again.
    rechecker: super::recheck::Rechecker,
    /// What each player has explored of the table's map.
    explored: std::collections::HashMap<shared::id::UserId, crate::encounter::explored::Cells>,
    /// The players whose explored area grew since it was last written.
    explored_changed: std::collections::BTreeSet<shared::id::UserId>,
}

impl SessionActor {
    /// The same actor, asking `rechecker` to recheck users whose role it
    /// changes.
    pub fn with_rechecker(self, rechecker: super::recheck::Rechecker) -> Self {
        Self { rechecker, ..self }
    }

    /// The same actor, holding the session under `lease` (Redis engine):
    /// it stops when the lease is lost and lets go when it stops.
    pub fn with_lease(self, lease: Option<Lease>) -> Self {
        Self { lease, ..self }
    }

    /// Processes commands until every sender is gone or the session is
    /// lost to another node.
    pub async fn run(mut self, mut inbox: Inbox) {
        self.metrics.sessions.inc();
        self.metrics.pending.inc_by(self.waiting.len() as i64);
        let lost = self.lease.as_mut().and_then(Lease::lost);
        self.serve(&mut inbox, lost).await;
        // Senders now fail at once and ask the hub again, which waits for
        // the lease below to be let go before starting the session anew.
        inbox.close();
        self.conns.clear();
        self.metrics.sessions.dec();
        self.metrics.pending.dec_by(self.waiting.len() as i64);
        if let Some(lease) = self.lease.take() {
            lease.release().await;
        }
    }

    async fn serve(&mut self, inbox: &mut Inbox, lost: Option<oneshot::Receiver<()>>) {
        let mut sweep = tokio::time::interval(EXPIRY_SWEEP);
        let lost = async move {
            match lost {
                Some(lost) => {
                    let _ = lost.await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::pin!(lost);
        loop {
            let command = tokio::select! {
                () = &mut lost => {
                    tracing::warn!(session = %self.id, "lost the session's lease; stopping here");
                    return;
                }
                command = inbox.recv() => command,
                _ = sweep.tick() => {
                    if self.swept().await {
                        return;
                    }
                    continue;
                }
            };
            let Some(first) = command else { break };
            // Group commit: what is already waiting joins this round, its
            // requests are written in one transaction; anything else first
            // sees the batch written.
            let mut round = vec![first];
            while round.len() < MAX_BATCH {
                match inbox.try_recv() {
                    Some(next) => round.push(next),
                    None => break,
                }
            }
            // A command keeps its sender's room until it has been handled.
            for Letter {
                command,
                held: _held,
            } in round
            {
                let mut outcome = if self.sees_the_batch(&command) {
                    self.flush().await
                } else {
                    Ok(())
                };
                if outcome.is_ok() {
                    outcome = self.handle(command).await;
                }
                if self.stopped(outcome) || self.ended {
                    return;
                }
            }
            let outcome = self.flush().await;
            if self.stopped(outcome) {
                return;
            }
        }
        tracing::info!(session = %self.id, "session actor stopped: no more sockets");
    }

    /// The once-a-second chores between rounds: expiry, the hot copy, the
    /// idle clock. True when the actor should stop (idle, or lost).
    async fn swept(&mut self) -> bool {
        let outcome = self.expire().await;
        if self.stopped(outcome) {
            return true;
        }
        self.keep_explored_now().await;
        self.write_hot_copy();
        if !self.conns.is_empty() {
            self.idle_since = None;
        } else if self.idle_since.is_none() {
            self.idle_since = Some(std::time::Instant::now());
        }
        if self.batch.is_empty()
            && self
                .idle_since
                .is_some_and(|since| since.elapsed() >= self.idle_stop)
        {
            // Frees the memory of sessions nobody plays; commands already
            // queued find the mailbox closed and the hub starts the session
            // again.
            tracing::info!(session = %self.id, "session idle; stopping");
            return true;
        }
        false
    }

    /// Whether a command's answer could show what the batch being formed
    /// changed, so the batch must be written first: anything that sends
    /// state (a join, a catch-up, a sync) or acts on it (a GM's decision).
    /// Requests join the batch; pings, drag previews, acknowledgements
    /// that release nothing and departures show nothing of it. New rules
    /// are in force at once and written with the batch.
    fn sees_the_batch(&self, command: &Command) -> bool {
        match command {
            Command::Message { conn, message } => match &**message {
                ClientMessage::Request(_)
                | ClientMessage::Ping { .. }
                | ClientMessage::DragPreview { .. }
                | ClientMessage::PointAt { .. }
                | ClientMessage::Measure { .. }
                | ClientMessage::ShowTemplate { .. }
                | ClientMessage::Explore { .. }
                | ClientMessage::ForgetExplored
                | ClientMessage::PreviewExplored { .. } => false,
                ClientMessage::Ack { .. } => self.conns.get(conn).is_some_and(|c| c.held),
                ClientMessage::SetRules { .. } => false,
                ClientMessage::Hello { .. }
                | ClientMessage::Resume { .. }
                | ClientMessage::Decide(_)
                | ClientMessage::Delegate { .. }
                | ClientMessage::EndSession
                | ClientMessage::MoveTable { .. } => true,
            },
            Command::Leave { .. } => false,
            Command::Join { .. } | Command::Rejoin { .. } | Command::StateSince { .. } => true,
        }
    }

    /// Logs a failed command; true when the session was lost to another
    /// node and the actor must stop.
    fn stopped(&self, outcome: Result<()>) -> bool {
        match outcome {
            Ok(()) => false,
            Err(Error::Fenced { .. }) => {
                tracing::warn!(session = %self.id, "another node owns the session now; stopping here");
                true
            }
            Err(error) => {
                tracing::error!(session = %self.id, %error, "session command failed");
                false
            }
        }
    }

    async fn handle(&mut self, command: Command) -> Result<()> {
        match command {
            Command::Join {
                conn,
                who,
                resume_from,
                out,
                kick,
            } => {
                self.open(conn, who, resume_from, out, kick);
                Ok(())
            }
            Command::Rejoin { conn, who } => {
                self.rejoin(conn, who);
                Ok(())
            }
            Command::Leave { conn } => {
                self.leave(conn);
                Ok(())
            }
            Command::Message { conn, message } => self.message(conn, *message).await,
            Command::StateSince { who, since, reply } => {
                let _ = reply.send(self.since(who, since));
                Ok(())
            }
        }
    }

    async fn message(&mut self, conn: ConnId, message: ClientMessage) -> Result<()> {
        let Some(who) = self.conns.get(&conn).map(|c| c.who) else {
            return Ok(());
        };
        match message {
            ClientMessage::Hello { resume_from } => self.catch_up(conn, resume_from),
            ClientMessage::Resume { from } => self.catch_up(conn, Some(from)),
            ClientMessage::Ack { version } => self.acknowledged(conn, version),
            ClientMessage::Ping { nonce } => {
                self.send(conn, &shared::protocol::ServerMessage::Pong { nonce })
            }
            ClientMessage::DragPreview { token, position } => {
                self.drag_preview(conn, who, token, position)
            }
            ClientMessage::PointAt { encounter, at } => self.point_at(conn, who, encounter, at),
            ClientMessage::Measure { encounter, path } => self.measure(conn, who, encounter, path),
            ClientMessage::ShowTemplate {
                encounter,
                template,
            } => self.show_template(conn, who, encounter, template),
            ClientMessage::Explore { encounter, cells } => {
                self.explore(conn, who, encounter, cells)
            }
            ClientMessage::ForgetExplored => self.forget_explored(conn, who).await?,
            ClientMessage::PreviewExplored { player } => self.preview_explored(conn, who, player),
            ClientMessage::Request(request) => self.request(conn, who, request).await?,
            ClientMessage::Decide(decision) => self.decide(conn, who, decision).await?,
            ClientMessage::SetRules { policy } => self.set_rules(conn, who, policy)?,
            ClientMessage::Delegate { user, role } => self.delegate(conn, who, user, role).await?,
            ClientMessage::EndSession => self.end(conn, who, None).await?,
            ClientMessage::MoveTable { encounter } => self.end(conn, who, Some(encounter)).await?,
        }
        Ok(())
    }
}
