//! The session actor: the one writer of a session's state.
//!
//! It receives commands from sockets in order and, for each request:
//! validates it with `shared::rules`; answers a repeated action id with its
//! first outcome; applies the approval policy; queues it for the GM
//! (persisted as pending) or commits it. A commit is written to the event
//! log (version bumped under the fencing epoch) before anyone hears of it,
//! then sent to every connection filtered by `shared::view`. If writing
//! fails the in-memory state is reverted, so nothing a client saw is
//! missing from the log.

use std::{
    borrow::Cow,
    collections::{HashMap, HashSet},
    time::Duration,
};

use bytes::Bytes;
use rand::Rng;
use shared::{
    Error as Refusal,
    action::Action,
    authority::Authority,
    change::{Change, Commit, Undo, Version},
    id::{ActionId, SessionId, UserId},
    protocol::{
        ActionRequest, ClientMessage, GmDecision, QueuedRequest, RequestStatus, ServerMessage,
        Verdict,
    },
    rules::{Approval, ApprovalPolicy, Participant, Role, may_decide, owns_token},
    store::{Entities, Store},
    view::{CommitView, SeenBefore, entities_for, preview_seen},
};
use sqlx::PgPool;
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::{
    Error, Result,
    campaign::role_of,
    event_log::{self, NewCommit, NewPending, Refusal as Ending},
    metrics::Metrics,
};

use super::{
    committer::Committer,
    lease::Lease,
    load,
    mailbox::{Inbox, Letter},
    mirror::Mirror,
};

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

/// The most commits written in one transaction.
const MAX_BATCH: usize = 256;

/// The most often the Redis hot copy of an encounter is rewritten.
const HOT_COPY_EVERY: Duration = Duration::from_secs(1);

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
        /// What it sent.
        message: ClientMessage,
    },
}

struct Conn {
    who: Participant,
    out: mpsc::Sender<Bytes>,
    /// The newest version queued for it (commit or snapshot).
    sent: Version,
    /// Where its window of unacknowledged commits starts: the newest
    /// version it acknowledged, or its last catch-up. `None` until its
    /// first acknowledgement (a client that never acknowledges is bounded
    /// by its send queue alone).
    acked: Option<Version>,
    /// More than the window behind: commits are held back until it
    /// acknowledges what it was sent; then it catches up in one go.
    held: bool,
    /// Held only to be dropped with the connection.
    _kick: Option<oneshot::Sender<()>>,
}

impl Conn {
    /// Whether a commit should go to this socket now; holds it back when
    /// it falls `window` commits behind what it acknowledged.
    fn takes(&mut self, version: Version, window: u64) -> bool {
        if self.held {
            return false;
        }
        if self
            .acked
            .is_some_and(|acked| version.saturating_sub(acked) > window)
        {
            self.held = true;
            return false;
        }
        self.sent = version;
        true
    }
}

/// A request waiting for the GM.
struct Waiting {
    request: ActionRequest,
    from: Participant,
    reason: String,
    requested_at: OffsetDateTime,
}

/// The state and connections of one session.
pub struct SessionActor {
    id: SessionId,
    /// The campaign played (its members' roles are the session's).
    campaign: shared::id::CampaignId,
    db: PgPool,
    /// Writes commit batches, together with other sessions' batches.
    committer: Committer,
    epoch: i64,
    authority: Authority,
    policy: ApprovalPolicy,
    conns: HashMap<ConnId, Conn>,
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
    /// Asks the sockets of a user whose role changed here to check again.
    rechecker: super::recheck::Rechecker,
}

/// A request queued for the GM, waiting for its batch to be written.
struct Queued {
    conn: ConnId,
    record: NewPending,
    received: ServerMessage,
}

/// A commit applied to the state, waiting for its batch to be written.
struct Staged {
    requester: Participant,
    action: ActionId,
    encounter: Option<shared::id::EncounterId>,
    commit: Commit,
    undo: Undo,
    before: SeenBefore,
    /// What the log gets; taken when the batch is written.
    record: Option<NewCommit>,
    applied: ServerMessage,
}

impl SessionActor {
    /// Takes the session over and rebuilds its state: the latest snapshot
    /// plus the commits after it (or, for a new session, the campaign's
    /// actors and the encounter, saved as the snapshot at version 0), and
    /// the requests still waiting for the GM.
    pub async fn recover(
        db: PgPool,
        committer: Committer,
        id: SessionId,
        tuning: Tuning,
        metrics: Metrics,
        mirror: Mirror,
    ) -> Result<Self> {
        let info = event_log::session_info(&db, id)
            .await?
            .ok_or(Error::NotMember)?;
        if info.ended {
            return Err(Error::Refused(Refusal::InvalidAction(
                "this session has ended".into(),
            )));
        }
        let epoch = event_log::take_ownership(&db, id).await?;
        let (store, version) = match event_log::latest_snapshot(&db, id).await? {
            Some((version, state)) => {
                let entities: Entities = serde_json::from_value(state).map_err(corrupt)?;
                (
                    Store::from_entities(entities).map_err(Error::CorruptRow)?,
                    version,
                )
            }
            None => {
                let entities = load::starting_state(&db, info.campaign, info.encounter).await?;
                let state = serde_json::to_value(&entities).map_err(corrupt)?;
                event_log::save_snapshot(&db, id, 0, info.encounter, &state).await?;
                (
                    Store::from_entities(entities).map_err(Error::CorruptRow)?,
                    0,
                )
            }
        };
        // Replayed through the authority, so the commits since the snapshot
        // are in its history again for clients that resume.
        let mut authority = Authority::new(store, version);
        for (at, changes) in event_log::replay(&db, id, version).await? {
            let commit: Commit = serde_json::from_value(changes).map_err(corrupt)?;
            let (replayed, _) = authority
                .commit(commit.action, commit.changes)
                .map_err(Error::CorruptRow)?;
            if replayed.version != at {
                return Err(Error::CorruptRow(Refusal::VersionGap {
                    expected: replayed.version,
                    got: at,
                }));
            }
        }
        let version = authority.version();
        let recorded = event_log::action_ids(&db, id).await?;
        let mut waiting = Vec::new();
        for pending in event_log::pending(&db, id).await? {
            let request: ActionRequest =
                serde_json::from_value(pending.event_data).map_err(corrupt)?;
            let Some(user) = pending.initiated_by else {
                continue;
            };
            let Ok(role) = role_of(&db, info.campaign, user).await else {
                continue;
            };
            waiting.push(Waiting {
                request,
                from: Participant { user, role },
                reason: "waiting for the GM".into(),
                requested_at: pending.requested_at,
            });
        }
        tracing::info!(session = %id, version, epoch, waiting = waiting.len(), "session recovered");
        mirror.started(info.campaign, info.encounter, version, epoch);
        Ok(Self {
            id,
            campaign: info.campaign,
            db,
            committer,
            epoch,
            authority,
            policy: info.policy,
            conns: HashMap::new(),
            waiting,
            request_ttl: time::Duration::try_from(tuning.request_ttl)
                .unwrap_or(time::Duration::MAX),
            idle_stop: tuning.idle_stop,
            unacked_window: tuning.unacked_window,
            idle_since: Some(std::time::Instant::now()),
            metrics,
            mirror,
            batch: Vec::new(),
            queued: Vec::new(),
            recorded,
            encounter: info.encounter,
            hot_copy: (u64::MAX, std::time::Instant::now()),
            lease: None,
            ended: false,
            rechecker: super::recheck::Rechecker::default(),
        })
    }

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
                    if let Err(error) = self.expire().await {
                        tracing::error!(session = %self.id, %error, "expiring requests failed");
                    }
                    self.write_hot_copy();
                    if !self.conns.is_empty() {
                        self.idle_since = None;
                    } else if self.idle_since.is_none() {
                        self.idle_since = Some(std::time::Instant::now());
                    }
                    if self.batch.is_empty()
                        && self.idle_since.is_some_and(|since| since.elapsed() >= self.idle_stop)
                    {
                        // Frees the memory of sessions nobody plays; commands
                        // already queued find the mailbox closed and the hub
                        // starts the session again.
                        tracing::info!(session = %self.id, "session idle; stopping");
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

    /// Whether a command's answer could show what the batch being formed
    /// changed, so the batch must be written first: anything that sends
    /// state (a join, a catch-up, a sync) or acts on it (a GM's decision).
    /// Requests join the batch; pings, drag previews, acknowledgements
    /// that release nothing and departures show nothing of it.
    fn sees_the_batch(&self, command: &Command) -> bool {
        match command {
            Command::Message { conn, message } => match message {
                ClientMessage::Request(_)
                | ClientMessage::Ping { .. }
                | ClientMessage::DragPreview { .. } => false,
                ClientMessage::Ack { .. } => self.conns.get(conn).is_some_and(|c| c.held),
                ClientMessage::SetRules { .. } => false,
                ClientMessage::Hello { .. }
                | ClientMessage::Resume { .. }
                | ClientMessage::Decide(_)
                | ClientMessage::Delegate { .. }
                | ClientMessage::EndSession => true,
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
                let theirs = self
                    .conns
                    .values()
                    .filter(|c| c.who.user == who.user)
                    .count();
                let full = shared::limits::count(
                    "one member's sockets in a session",
                    theirs + 1,
                    shared::limits::MAX_SOCKETS_PER_MEMBER,
                )
                .and_then(|()| {
                    shared::limits::count(
                        "a session's sockets",
                        self.conns.len() + 1,
                        shared::limits::MAX_SOCKETS_PER_SESSION,
                    )
                });
                if let Err(error) = full {
                    // Told why, then closed: dropping `kick` ends the socket.
                    let _ = out.try_send(frame(&ServerMessage::Error {
                        action: None,
                        error,
                    }));
                    return Ok(());
                }
                self.conns.insert(
                    conn,
                    Conn {
                        who,
                        out,
                        sent: 0,
                        acked: None,
                        held: false,
                        _kick: kick,
                    },
                );
                self.join(conn, who, resume_from);
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
            Command::Message { conn, message } => self.message(conn, message).await,
            Command::StateSince { who, since, reply } => {
                let _ = reply.send(self.since(who, since));
                Ok(())
            }
        }
    }

    fn join(&mut self, conn: ConnId, who: Participant, resume_from: Option<Version>) {
        self.send(
            conn,
            &ServerMessage::Welcome {
                session: self.id,
                you: who,
                version: self.authority.version(),
            },
        );
        self.catch_up(conn, resume_from);
        if who.role.is_gm() {
            self.send(conn, &self.queue());
        }
        self.send(
            conn,
            &ServerMessage::Rules {
                policy: self.policy.clone(),
            },
        );
        self.mirror.presence(who, true);
        let first = self
            .conns
            .values()
            .filter(|c| c.who.user == who.user)
            .count()
            == 1;
        if first {
            self.broadcast_except(
                conn,
                &ServerMessage::Presence {
                    user: who.user,
                    connected: true,
                },
            );
        }
    }

    fn leave(&mut self, conn: ConnId) {
        if let Some(gone) = self.conns.remove(&conn)
            && !self.conns.values().any(|c| c.who.user == gone.who.user)
        {
            self.mirror.presence(gone.who, false);
            self.broadcast_except(
                conn,
                &ServerMessage::Presence {
                    user: gone.who.user,
                    connected: false,
                },
            );
        }
    }

    /// Brings a socket to the current version.
    fn catch_up(&mut self, conn: ConnId, from: Option<Version>) {
        let version = self.authority.version();
        let Some(target) = self.conns.get_mut(&conn) else {
            return;
        };
        target.sent = version;
        target.held = false;
        // The window starts afresh from what it is sent now.
        if let Some(acked) = &mut target.acked {
            *acked = version;
        }
        let who = target.who;
        for bytes in self.since(who, from) {
            self.push(conn, bytes);
        }
    }

    /// A socket applied everything up to `version`. One that was held back
    /// and has now applied all it was sent catches up in one go.
    fn acknowledged(&mut self, conn: ConnId, version: Version) {
        let Some(target) = self.conns.get_mut(&conn) else {
            return;
        };
        // Nobody can have applied what was never sent.
        let version = version.min(target.sent);
        let acked = target.acked.map_or(version, |acked| acked.max(version));
        target.acked = Some(acked);
        if target.held && acked >= target.sent {
            self.metrics.request("caught_up");
            self.catch_up(conn, Some(acked));
        }
    }

    /// What brings `who` from `from` to the current version: nothing when
    /// current; the commits missed when they may be sent unfiltered (the
    /// GM) and are still in memory; else a snapshot of what `who` may see.
    fn since(&self, who: Participant, from: Option<Version>) -> Vec<Bytes> {
        if from == Some(self.authority.version()) {
            return Vec::new();
        }
        let missed = from.filter(|_| who.role.is_gm()).and_then(|from| {
            self.authority.commits_since(from).map(|missed| {
                missed
                    .map(|c| frame(&ServerMessage::Commit(c.clone())))
                    .collect()
            })
        });
        missed.unwrap_or_else(|| {
            vec![frame(&ServerMessage::Snapshot {
                version: self.authority.version(),
                entities: entities_for(&who, self.authority.store()),
            })]
        })
    }

    /// Rewrites the Redis hot copy of the encounter if the state changed
    /// since the last write and that was at least a second ago (serializing
    /// the whole state on every commit would cost more than the commit).
    fn write_hot_copy(&mut self) {
        let (written, at) = self.hot_copy;
        let version = self.authority.version();
        let Some(encounter) = self.encounter else {
            return;
        };
        if !self.mirror.enabled() || written == version || at.elapsed() < HOT_COPY_EVERY {
            return;
        }
        match serde_json::to_string(self.authority.store().entities()) {
            Ok(state) => {
                self.mirror.encounter(encounter, version, state);
                self.hot_copy = (version, std::time::Instant::now());
            }
            Err(error) => {
                tracing::error!(session = %self.id, %error, "cannot serialize the hot copy")
            }
        }
    }

    /// Ends requests nobody decided on in time: the player hears that it
    /// expired, the GM's queue drops it.
    async fn expire(&mut self) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        let ttl = self.request_ttl;
        let (expired, kept): (Vec<Waiting>, Vec<Waiting>) = std::mem::take(&mut self.waiting)
            .into_iter()
            .partition(|w| now - w.requested_at >= ttl);
        self.waiting = kept;
        if expired.is_empty() {
            return Ok(());
        }
        self.metrics.pending.dec_by(expired.len() as i64);
        for waiting in &expired {
            self.dequeued(waiting.request.id);
        }
        for waiting in expired {
            let action = waiting.request.id;
            let reason = "the GM did not answer in time; ask again";
            let message = ServerMessage::Rejected {
                action,
                reason: reason.into(),
                alternative: None,
            };
            let outcome = serde_json::to_value(&message).map_err(corrupt)?;
            self.recorded.insert(action);
            event_log::refuse(
                &self.db,
                self.id,
                action,
                Ending::Expired,
                None,
                reason,
                &outcome,
            )
            .await?;
            self.metrics.request("expired");
            self.send_to_user(waiting.from.user, &message);
        }
        Ok(())
    }

    fn send_to_user(&mut self, user: UserId, message: &ServerMessage) {
        self.push_where(&frame(message), |_, c| c.who.user == user);
    }

    async fn message(&mut self, conn: ConnId, message: ClientMessage) -> Result<()> {
        let Some(who) = self.conns.get(&conn).map(|c| c.who) else {
            return Ok(());
        };
        match message {
            ClientMessage::Hello { resume_from } => self.catch_up(conn, resume_from),
            ClientMessage::Resume { from } => self.catch_up(conn, Some(from)),
            ClientMessage::Ack { version } => self.acknowledged(conn, version),
            ClientMessage::Ping { nonce } => self.send(conn, &ServerMessage::Pong { nonce }),
            ClientMessage::DragPreview { token, position } => {
                let store = self.authority.store();
                if who.role.is_gm() || owns_token(store, who.user, token) {
                    let bytes = frame(&ServerMessage::DragPreview {
                        token,
                        position,
                        by: who.user,
                    });
                    // Players watch only what they would see at the drop.
                    let watchers: Vec<ConnId> = self
                        .conns
                        .iter()
                        .filter(|(id, c)| {
                            **id != conn
                                && (c.who.role.is_gm()
                                    || preview_seen(store, c.who.user, token, position))
                        })
                        .map(|(id, _)| *id)
                        .collect();
                    for watcher in watchers {
                        self.push(watcher, bytes.clone());
                    }
                }
            }
            ClientMessage::Request(request) => self.request(conn, who, request).await?,
            ClientMessage::Decide(decision) => self.decide(conn, who, decision).await?,
            ClientMessage::SetRules { policy } => self.set_rules(conn, who, policy).await?,
            ClientMessage::Delegate { user, role } => self.delegate(conn, who, user, role).await?,
            ClientMessage::EndSession => self.end(conn, who).await?,
        }
        Ok(())
    }

    async fn request(
        &mut self,
        conn: ConnId,
        who: Participant,
        request: ActionRequest,
    ) -> Result<()> {
        let action = request.id;
        // A resend: the first outcome, never a second application.
        if let Some(waiting) = self.waiting.iter().find(|w| w.request.id == action)
            && waiting.from.user != who.user
        {
            self.send(
                conn,
                &ServerMessage::Error {
                    action: Some(action),
                    error: Refusal::InvalidAction(
                        "this action id is taken; send the request with a new one".into(),
                    ),
                },
            );
            return Ok(());
        }
        if self.waiting.iter().any(|w| w.request.id == action) {
            self.send(
                conn,
                &ServerMessage::Received {
                    action,
                    status: RequestStatus::WaitingForGm {
                        reason: "waiting for the GM".into(),
                    },
                },
            );
            return Ok(());
        }
        let in_batch = self.batch.iter().any(|staged| staged.action == action);
        if in_batch {
            // Repeated within the batch being formed: answer once it is written.
            self.flush().await?;
        }
        let recorded = if in_batch || self.recorded.contains(&action) {
            event_log::outcome(&self.db, self.id, action).await?
        } else {
            None
        };
        if let Some((outcome, sender)) = recorded {
            if sender.is_some_and(|sender| sender != who.user) {
                // Another member's action id (ids travel in commits): its
                // outcome is theirs, and this request is not processed.
                self.metrics.request("refused");
                self.send(
                    conn,
                    &ServerMessage::Error {
                        action: Some(action),
                        error: Refusal::InvalidAction(
                            "this action id is taken; send the request with a new one".into(),
                        ),
                    },
                );
                return Ok(());
            }
            self.metrics.request("repeated");
            let message: ServerMessage = serde_json::from_value(outcome).map_err(corrupt)?;
            self.send(conn, &message);
            return Ok(());
        }
        let mut request = request;
        // The server's dice, whatever the client sent; rolled once, when
        // the request first arrives, so a GM decides on what was rolled.
        request
            .action
            .settle(|sides| rand::rng().random_range(1..=sides.max(1)));
        let store = self.authority.store();
        let checked = shared::rules::authorize(&who, &request.action, store)
            .and_then(|()| request.action.changes(store, who.user));
        let changes = match checked {
            Ok(changes) => changes,
            Err(refusal) => {
                return self
                    .reject(who.user, action, None, &refusal.to_string(), None)
                    .await;
            }
        };
        match self.policy.decide(&who, &request.action, store) {
            Approval::Auto => {
                self.commit(who, None, true, &request, changes).await?;
            }
            Approval::Gm { reason } => {
                let theirs = self
                    .waiting
                    .iter()
                    .filter(|w| w.from.user == who.user)
                    .count();
                let room = shared::limits::count(
                    "your requests waiting for the GM",
                    theirs + 1,
                    shared::limits::MAX_QUEUED_PER_MEMBER,
                )
                .and_then(|()| {
                    shared::limits::count(
                        "requests waiting for the GM in this session",
                        self.waiting.len() + 1,
                        shared::limits::MAX_QUEUED_PER_SESSION,
                    )
                });
                if let Err(error) = room {
                    // Not recorded: the same request may be sent again once
                    // the GM has caught up.
                    self.metrics.request("refused");
                    self.send(
                        conn,
                        &ServerMessage::Error {
                            action: Some(action),
                            error,
                        },
                    );
                    return Ok(());
                }
                let record = NewPending {
                    action,
                    initiated_by: who.user,
                    event_type: kind_name(&request.action).into(),
                    event_data: event_log::json(&request)?,
                    // The session's encounter, never one a client names.
                    encounter: self.encounter,
                };
                // The player should know whether anyone is there to answer.
                let shown = if self.conns.values().any(|c| c.who.role.is_gm()) {
                    reason.clone()
                } else {
                    format!("{reason}; no GM is connected, so it waits until one returns")
                };
                // Waiting at once (a resend in this round is told so), but
                // nobody hears of it before the batch is written.
                self.queued.push(Queued {
                    conn,
                    record,
                    received: ServerMessage::Received {
                        action,
                        status: RequestStatus::WaitingForGm { reason: shown },
                    },
                });
                self.waiting.push(Waiting {
                    request,
                    from: who,
                    reason,
                    requested_at: OffsetDateTime::now_utc(),
                });
            }
        }
        Ok(())
    }

    /// The GM changes the auto-approval rules: kept with the session,
    /// told to everyone. Requests already waiting keep waiting.
    async fn set_rules(
        &mut self,
        conn: ConnId,
        who: Participant,
        policy: ApprovalPolicy,
    ) -> Result<()> {
        if !who.role.is_gm() {
            self.send(
                conn,
                &ServerMessage::Error {
                    action: None,
                    error: Refusal::Forbidden("only the GM sets the rules".into()),
                },
            );
            return Ok(());
        }
        event_log::set_policy(&self.db, self.id, &policy).await?;
        tracing::info!(session = %self.id, by = %who.user, "approval rules changed");
        self.policy = policy;
        let rules = frame(&ServerMessage::Rules {
            policy: self.policy.clone(),
        });
        self.push_where(&rules, |_, _| true);
        Ok(())
    }

    /// The GM makes a player an assistant GM or back: the campaign's
    /// membership changes (under its rules: only the GM, never a second
    /// GM), and the member's sockets are welcomed again under the new role
    /// with what it may see.
    async fn delegate(
        &mut self,
        conn: ConnId,
        who: Participant,
        user: UserId,
        role: Role,
    ) -> Result<()> {
        let refused = |reason: String| ServerMessage::Error {
            action: None,
            error: Refusal::Forbidden(reason),
        };
        if who.role != Role::Gm || !matches!(role, Role::AssistantGm | Role::Player) {
            self.send(
                conn,
                &refused("only the GM makes assistant GMs, and only of players".into()),
            );
            return Ok(());
        }
        match crate::membership::change_role(&self.db, self.campaign, who.user, user, role).await {
            Ok(()) => {}
            Err(Error::Refused(refusal)) => {
                self.send(conn, &refused(refusal.to_string()));
                return Ok(());
            }
            Err(error) => return Err(error),
        }
        // Every socket of the member, in every session and on every node,
        // reads the role again and is welcomed under it.
        self.rechecker.user(user).await;
        Ok(())
    }

    /// Welcomes a socket again under its user's new role, with what that
    /// role may see from scratch.
    fn rejoin(&mut self, conn: ConnId, you: Participant) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.who = you;
        self.send(
            conn,
            &ServerMessage::Welcome {
                session: self.id,
                you,
                version: self.authority.version(),
            },
        );
        self.catch_up(conn, None);
        if you.role.is_gm() {
            self.send(conn, &self.queue());
        }
    }

    async fn decide(&mut self, conn: ConnId, who: Participant, decision: GmDecision) -> Result<()> {
        if let Err(refusal) = may_decide(&who) {
            self.send(
                conn,
                &ServerMessage::Error {
                    action: Some(decision.action),
                    error: refusal,
                },
            );
            return Ok(());
        }
        let Some(index) = self
            .waiting
            .iter()
            .position(|w| w.request.id == decision.action)
        else {
            self.send(
                conn,
                &ServerMessage::Error {
                    action: Some(decision.action),
                    error: Refusal::UnknownAction(decision.action.to_string()),
                },
            );
            return Ok(());
        };
        let waiting = self.waiting.remove(index);
        self.metrics.pending.dec();
        self.dequeued(waiting.request.id);
        // Authority is checked when it is used: the requester's role now,
        // not when they asked (they may have been demoted or removed since).
        let requester = match role_of(&self.db, self.campaign, waiting.from.user).await {
            Ok(role) => Participant {
                user: waiting.from.user,
                role,
            },
            Err(Error::NotMember) => {
                self.reject(
                    waiting.from.user,
                    waiting.request.id,
                    Some(who.user),
                    "the requester is no longer a member of this campaign",
                    None,
                )
                .await?;
                return Ok(());
            }
            Err(error) => return Err(error),
        };
        match decision.verdict {
            Verdict::Reject {
                reason,
                alternative,
            } => {
                self.reject(
                    requester.user,
                    waiting.request.id,
                    Some(who.user),
                    &reason,
                    alternative,
                )
                .await?;
            }
            verdict => {
                let changes = match verdict {
                    Verdict::Modify { changes, .. } => Ok(changes),
                    // Re-derived and re-authorized against the state as it
                    // is now, which may differ from when the player asked.
                    _ => shared::rules::authorize(
                        &requester,
                        &waiting.request.action,
                        self.authority.store(),
                    )
                    .and_then(|()| {
                        waiting
                            .request
                            .action
                            .changes(self.authority.store(), requester.user)
                    }),
                };
                let committed = match changes {
                    Ok(changes) => {
                        self.commit(requester, Some(who.user), false, &waiting.request, changes)
                            .await
                    }
                    Err(refusal) => Err(Error::Refused(refusal)),
                };
                if let Err(error) = committed {
                    let reason = match &error {
                        Error::Refused(refusal) => refusal.to_string(),
                        _ => "the change could not be saved; ask again".into(),
                    };
                    if let Error::Fenced { .. } = error {
                        return Err(error);
                    }
                    self.reject(
                        requester.user,
                        waiting.request.id,
                        Some(who.user),
                        &reason,
                        None,
                    )
                    .await?;
                }
            }
        }
        Ok(())
    }

    /// The GM (or an assistant GM) ends the session. In one transaction,
    /// under this node's epoch: the session is marked ended, the requests
    /// still waiting are refused, and the state is written back to the
    /// campaign (`encounter::write_back`). Then the requesters hear the
    /// refusals, everyone hears that it ended, and the actor stops; a
    /// session that has ended is never started again. The batch being
    /// formed was written before this ran (`sees_the_batch`).
    async fn end(&mut self, conn: ConnId, who: Participant) -> Result<()> {
        if may_decide(&who).is_err() {
            self.send(
                conn,
                &ServerMessage::Error {
                    action: None,
                    error: Refusal::Forbidden("only the GM ends the session".into()),
                },
            );
            return Ok(());
        }
        let reason = "the GM ended the session";
        let refused = |action| ServerMessage::Rejected {
            action,
            reason: reason.into(),
            alternative: None,
        };
        let outcomes = self
            .waiting
            .iter()
            .map(|w| {
                let outcome = serde_json::to_value(refused(w.request.id)).map_err(corrupt)?;
                Ok((w.request.id, outcome))
            })
            .collect::<Result<Vec<_>>>()?;
        match self.close(who.user, &outcomes, reason).await {
            Ok(()) => {}
            Err(error @ Error::Fenced { .. }) => return Err(error),
            Err(error) => {
                tracing::error!(session = %self.id, %error, "ending the session failed");
                self.send(
                    conn,
                    &ServerMessage::Error {
                        action: None,
                        error: Refusal::InvalidAction(
                            "the session could not be ended; try again".into(),
                        ),
                    },
                );
                return Ok(());
            }
        }
        self.metrics.pending.dec_by(self.waiting.len() as i64);
        for waiting in std::mem::take(&mut self.waiting) {
            let action = waiting.request.id;
            self.recorded.insert(action);
            self.send_to_user(waiting.from.user, &refused(action));
        }
        self.push_where(&frame(&ServerMessage::Ended { by: who.user }), |_, _| true);
        tracing::info!(session = %self.id, by = %who.user, version = self.authority.version(), "session ended; the table is written back to the campaign");
        self.ended = true;
        Ok(())
    }

    /// The transaction of [`Self::end`].
    async fn close(
        &self,
        by: UserId,
        refused: &[(ActionId, serde_json::Value)],
        reason: &str,
    ) -> Result<()> {
        let mut tx = self.db.begin().await?;
        event_log::end_in(&mut tx, self.id, self.epoch, by, refused, reason).await?;
        crate::encounter::write_back(
            &mut tx,
            self.campaign,
            self.encounter,
            self.authority.store().entities(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Applies a change to the state and stages it for the next batch
    /// write. Nobody hears of it before [`Self::flush`] has written it.
    async fn commit(
        &mut self,
        requester: Participant,
        decided_by: Option<UserId>,
        auto_approved: bool,
        request: &ActionRequest,
        changes: Vec<Change>,
    ) -> Result<()> {
        let before = SeenBefore::new(self.authority.store(), &changes);
        let (commit, undo) = match self.authority.commit(Some(request.id), changes) {
            Ok(done) => done,
            Err(refusal) => {
                return self
                    .reject(
                        requester.user,
                        request.id,
                        decided_by,
                        &refusal.to_string(),
                        None,
                    )
                    .await;
            }
        };
        let applied = ServerMessage::Received {
            action: request.id,
            status: RequestStatus::Applied {
                version: commit.version,
            },
        };
        let record = NewCommit {
            action: request.id,
            initiated_by: Some(requester.user),
            decided_by,
            auto_approved,
            event_type: kind_name(&request.action).into(),
            event_data: event_log::json(request)?,
            state_changes: event_log::json(&commit)?,
            encounter: self.encounter,
            outcome: event_log::json(&applied)?,
        };
        self.batch.push(Staged {
            requester,
            action: request.id,
            encounter: self.encounter,
            commit,
            undo,
            before,
            record: Some(record),
            applied,
        });
        Ok(())
    }

    /// Writes every staged commit in one transaction (one fsync however
    /// many), then tells everyone, in version order. If the write fails
    /// the state is reverted and the requesters are told to ask again.
    async fn flush(&mut self) -> Result<()> {
        if self.batch.is_empty() && self.queued.is_empty() {
            return Ok(());
        }
        let mut batch = std::mem::take(&mut self.batch);
        let queued = std::mem::take(&mut self.queued);
        // Written or not (a failed write may still have committed), a
        // resend of these is looked up.
        self.recorded
            .extend(batch.iter().map(|staged| staged.action));
        let records: Vec<NewCommit> = batch.iter_mut().filter_map(|s| s.record.take()).collect();
        let pending: Vec<NewPending> = queued.iter().map(|q| q.record.clone()).collect();
        let started = std::time::Instant::now();
        let (written, records) = self
            .committer
            .commit(self.id, self.epoch, records, pending)
            .await;
        if !batch.is_empty() {
            self.metrics
                .commit_seconds
                .observe(started.elapsed().as_secs_f64());
        }
        if let Err(error) = &written
            && batch.len() + queued.len() > 1
            && records.len() == batch.len()
            && !matches!(error, Error::Fenced { .. })
        {
            // One bad row fails the whole statement: write each request
            // alone, so that only a bad one's requester hears of it.
            tracing::warn!(session = %self.id, %error, requests = batch.len() + queued.len(), "a batch could not be written; writing each request alone");
            for staged in batch.iter().rev() {
                if let Err(revert) = self.authority.revert(&staged.commit, staged.undo.clone()) {
                    tracing::error!(session = %self.id, %revert, "cannot revert an unsaved commit");
                    return written.map(drop);
                }
            }
            return self.isolate(batch, records, queued).await;
        }
        if written.is_err() {
            for unsaved in &queued {
                self.waiting
                    .retain(|w| w.request.id != unsaved.record.action);
                self.send(
                    unsaved.conn,
                    &ServerMessage::Error {
                        action: Some(unsaved.record.action),
                        error: Refusal::InvalidAction(
                            "the request could not be saved; ask again".into(),
                        ),
                    },
                );
            }
        } else {
            for saved in &queued {
                self.send(saved.conn, &saved.received);
                self.metrics.request("queued");
                self.metrics.pending.inc();
                let action = saved.record.action;
                if let Some(waiting) = self.waiting.iter().find(|w| w.request.id == action) {
                    let queued = ServerMessage::Queued {
                        pending: QueuedRequest {
                            request: waiting.request.clone(),
                            from: waiting.from,
                            reason: waiting.reason.clone(),
                        },
                    };
                    self.push_where(&frame(&queued), |_, c| c.who.role.is_gm());
                }
            }
        }
        if batch.is_empty() {
            return written.map(drop);
        }
        if let Err(error) = written {
            for staged in batch.into_iter().rev() {
                if let Err(revert) = self.authority.revert(&staged.commit, staged.undo) {
                    tracing::error!(session = %self.id, %revert, "cannot revert an unsaved commit");
                }
                self.send_to_user(
                    staged.requester.user,
                    &ServerMessage::Error {
                        action: Some(staged.action),
                        error: Refusal::InvalidAction(
                            "the change could not be saved; ask again".into(),
                        ),
                    },
                );
            }
            return Err(error);
        }
        let first = batch[0].commit.version;
        let last = self.authority.version();
        self.metrics.commits.inc_by(batch.len() as u64);
        self.mirror.version(last);
        let store = self.authority.store();
        let mut frames: Vec<(ConnId, Bytes)> = Vec::new();
        for staged in &batch {
            self.metrics.request("applied");
            let applied = frame(&staged.applied);
            let view = CommitView::new(&staged.commit, &staged.before, store);
            // Recipients who see the same thing share one encoding: every
            // GM, and players whom the commit shows the same.
            let mut encoded: Vec<(Cow<'_, Commit>, Bytes)> = Vec::new();
            let window = self.unacked_window;
            for (id, conn) in &mut self.conns {
                if conn.takes(staged.commit.version, window) {
                    let seen = view.for_participant(&conn.who);
                    let known = encoded.iter().find(|(commit, _)| same(commit, &seen));
                    let bytes = match known {
                        Some((_, bytes)) => bytes.clone(),
                        None => {
                            let bytes = commit_frame(&seen);
                            encoded.push((seen, bytes.clone()));
                            bytes
                        }
                    };
                    frames.push((*id, bytes));
                }
                if conn.who.user == staged.requester.user {
                    frames.push((*id, applied.clone()));
                }
            }
        }
        for (conn, bytes) in frames {
            self.push(conn, bytes);
        }
        let deepest = self
            .conns
            .values()
            .map(|c| c.out.max_capacity() - c.out.capacity())
            .max()
            .unwrap_or(0);
        self.metrics.send_queue_depth.set(deepest as i64);
        if last / SNAPSHOT_EVERY > (first - 1) / SNAPSHOT_EVERY {
            let state = serde_json::to_value(self.authority.store().entities()).map_err(corrupt)?;
            let encounter = batch.last().and_then(|s| s.encounter);
            event_log::save_snapshot(&self.db, self.id, last, encounter, &state).await?;
        }
        Ok(())
    }

    /// Writes a failed batch again one request at a time, in the order they
    /// came: each commit is applied again to the state as it now stands
    /// (an earlier one may have failed) and written alone.
    async fn isolate(
        &mut self,
        batch: Vec<Staged>,
        records: Vec<NewCommit>,
        queued: Vec<Queued>,
    ) -> Result<()> {
        for one in queued {
            self.queued.push(one);
            self.flush_alone().await?;
        }
        for (staged, record) in batch.into_iter().zip(records) {
            let request: ActionRequest =
                serde_json::from_str(record.event_data.get()).map_err(corrupt)?;
            self.commit(
                staged.requester,
                record.decided_by,
                record.auto_approved,
                &request,
                staged.commit.changes,
            )
            .await?;
            self.flush_alone().await?;
        }
        Ok(())
    }

    /// [`Self::flush`] of a single request: its failure was told to its
    /// requester alone and stops nothing else, unless the session was lost.
    async fn flush_alone(&mut self) -> Result<()> {
        self.metrics.written_alone.inc();
        match Box::pin(self.flush()).await {
            Err(error @ Error::Fenced { .. }) => Err(error),
            Err(error) => {
                tracing::warn!(session = %self.id, %error, "a request could not be saved; only its requester was told");
                Ok(())
            }
            Ok(()) => Ok(()),
        }
    }

    async fn reject(
        &mut self,
        requester: UserId,
        action: ActionId,
        decided_by: Option<UserId>,
        reason: &str,
        alternative: Option<Action>,
    ) -> Result<()> {
        let message = ServerMessage::Rejected {
            action,
            reason: reason.into(),
            alternative,
        };
        let outcome = serde_json::to_value(&message).map_err(corrupt)?;
        self.recorded.insert(action);
        event_log::refuse(
            &self.db,
            self.id,
            action,
            Ending::Rejected,
            decided_by,
            reason,
            &outcome,
        )
        .await?;
        self.metrics.request("rejected");
        self.send_to_user(requester, &message);
        Ok(())
    }

    fn queue(&self) -> ServerMessage {
        ServerMessage::Queue {
            pending: self
                .waiting
                .iter()
                .map(|w| QueuedRequest {
                    request: w.request.clone(),
                    from: w.from,
                    reason: w.reason.clone(),
                })
                .collect(),
        }
    }

    /// Tells the GMs that a request no longer waits.
    fn dequeued(&mut self, action: ActionId) {
        self.push_where(&frame(&ServerMessage::Dequeued { action }), |_, c| {
            c.who.role.is_gm()
        });
    }

    fn send(&mut self, conn: ConnId, message: &ServerMessage) {
        self.push(conn, frame(message));
    }

    fn broadcast_except(&mut self, except: ConnId, message: &ServerMessage) {
        self.push_where(&frame(message), |id, _| id != except);
    }

    /// Queues the same frame for every socket `pick` chooses.
    fn push_where(&mut self, bytes: &Bytes, pick: impl Fn(ConnId, &Conn) -> bool) {
        let targets: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(id, c)| pick(**id, c))
            .map(|(id, _)| *id)
            .collect();
        for conn in targets {
            self.push(conn, bytes.clone());
        }
    }

    /// Queues a frame for a socket. A socket whose queue is full cannot
    /// keep up: it is dropped (its socket closes) rather than buffered
    /// without bound, and it resumes from its last version on reconnect.
    fn push(&mut self, conn: ConnId, bytes: Bytes) {
        let Some(target) = self.conns.get(&conn) else {
            return;
        };
        if target.out.try_send(bytes).is_err() {
            tracing::warn!(session = %self.id, %conn, "socket too slow or gone; dropping it");
            self.conns.remove(&conn);
        }
    }
}

fn frame(message: &ServerMessage) -> Bytes {
    Bytes::from(message.encode())
}

/// A commit's frame, encoded without copying the commit.
fn commit_frame(commit: &Commit) -> Bytes {
    Bytes::from(shared::protocol::encode_commit(commit))
}

/// Whether two views of a commit are the same: the very commit (a view
/// passed whole), or equal.
fn same(a: &Commit, b: &Commit) -> bool {
    std::ptr::eq(a, b) || a == b
}

fn kind_name(action: &Action) -> &'static str {
    match action {
        Action::MoveToken { .. } => "move_token",
        Action::AdjustHp { .. } => "adjust_hp",
        Action::AddCondition { .. } => "add_condition",
        Action::RemoveCondition { .. } => "remove_condition",
        Action::ApplyEffect { .. } => "apply_effect",
        Action::EndEffect { .. } => "end_effect",
        Action::SetVisibility { .. } => "set_visibility",
        Action::RevealFog { .. } => "reveal_fog",
        Action::HideFog { .. } => "hide_fog",
        Action::StartCombat { .. } => "start_combat",
        Action::RollInitiative { .. } => "roll_initiative",
        Action::NextTurn { .. } => "next_turn",
        Action::Chat { .. } => "chat",
        Action::Roll { .. } => "roll",
        Action::Edit { .. } => "edit",
    }
}

fn corrupt(error: impl std::fmt::Display) -> Error {
    Error::Internal(format!("session data: {error}"))
}
