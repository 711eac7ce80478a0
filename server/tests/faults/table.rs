//! The people at the table while faults happen: each seat is the browser's
//! own session logic ([`shared::client::Client`]: the outbox, resends with
//! the same ids, resume from the last version) over a real WebSocket, asking
//! for moves on a schedule, reconnecting whenever its socket breaks, and
//! writing down everything the server acknowledged.

use std::{
    collections::{BTreeMap, BTreeSet},
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use futures_util::{SinkExt, StreamExt};
use shared::{
    action::Action,
    change::Version,
    client::{Client, Link},
    geometry::Point,
    id::{ActionId, SessionId},
    protocol::{ClientMessage, GmDecision, RequestContext, RequestStatus, ServerMessage, Verdict},
};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use crate::support::{process::Member, ws};

/// What a seat does.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Moves of its token it asks for.
    pub moves: u32,
    /// Time between two of them.
    pub every: Duration,
    /// For a GM: approve whatever waits in the queue.
    pub approves: bool,
}

/// What a seat saw.
#[derive(Debug, Default)]
pub struct Record {
    /// Every request it asked for, in order.
    pub asked: Vec<ActionId>,
    /// Each of its requests the server said was committed, at which version
    /// (a `Received` with `Applied`, or a commit naming it).
    pub acked: BTreeMap<ActionId, Version>,
    /// Its requests the server answered with a failure, and why.
    pub failed: BTreeMap<ActionId, String>,
    /// Its requests refused (by the rules or the GM), and why.
    pub rejected: BTreeMap<ActionId, String>,
    /// Requests it sent again, after a welcome, that it had sent before.
    pub resent: usize,
    /// Requests asked while its socket was down (sent after a welcome).
    pub asked_offline: usize,
    /// Sockets it opened (1 when nothing ever broke).
    pub connections: u32,
    /// Approvals it sent (a GM).
    pub approvals: usize,
}

/// Someone at the table.
pub struct Seat {
    pub name: String,
    pub member: Member,
    /// Where it connects; after a broken socket it tries the next one.
    pub addrs: Vec<SocketAddr>,
    pub plan: Plan,
    pub client: Client,
    pub record: Record,
}

/// What all seats share while they play: how many acknowledgements
/// arrived so far (so a fault can wait for the stream to be under way),
/// how many seats have settled everything they asked, and the version the
/// test wants every seat to reach before it stops.
#[derive(Clone, Default)]
pub struct Progress {
    pub acks: Arc<AtomicU64>,
    pub settled: Arc<AtomicUsize>,
    pub until: Arc<watch::Sender<Option<Version>>>,
}

impl Progress {
    /// Waits until `n` acknowledgements arrived, in all.
    pub async fn acks_reach(&self, n: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while self.acks.load(Ordering::SeqCst) < n {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the stream stalled at {} acknowledgements",
                self.acks.load(Ordering::SeqCst)
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Seat {
    pub fn new(
        name: &str,
        member: &Member,
        session: SessionId,
        addrs: Vec<SocketAddr>,
        plan: Plan,
    ) -> Self {
        Self {
            name: name.into(),
            member: member.clone(),
            addrs,
            plan,
            client: Client::new(session),
            record: Record::default(),
        }
    }

    fn asked_all(&self) -> bool {
        self.record.asked.len() >= self.plan.moves as usize
    }

    /// Plays its plan through whatever happens to the network and the
    /// servers; returns once everything it asked is settled and its view
    /// reached the version the test names.
    pub async fn play(mut self, progress: Progress) -> Self {
        let mut until = progress.until.subscribe();
        let mut tick = tokio::time::interval(self.plan.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut sent: BTreeSet<ActionId> = BTreeSet::new();
        let mut settled = false;
        let mut next = 0;
        loop {
            // Connects, trying the next address after a failure, and goes
            // on asking meanwhile (the outbox keeps what it asks offline).
            let socket = loop {
                let addr = self.addrs[next % self.addrs.len()];
                let (session, cookie) = (self.client.session(), self.member.cookie.clone());
                // A paused server accepts the connection but never answers.
                let attempt = tokio::time::timeout(Duration::from_secs(2), async move {
                    ws::open(addr, session, &cookie).await
                });
                tokio::pin!(attempt);
                let opened = loop {
                    tokio::select! {
                        opened = &mut attempt => break opened,
                        _ = tick.tick(), if !self.asked_all() && self.client.view().is_some() => {
                            let _ = self.ask();
                        }
                    }
                };
                match opened {
                    Ok(Ok(client)) => break client,
                    _ => {
                        next += 1;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            };
            let mut socket = socket.ws;
            self.record.connections += 1;
            let mut out: Vec<ClientMessage> = self.client.connected();
            'open: loop {
                for message in out.drain(..) {
                    if let ClientMessage::Request(request) = &message
                        && !sent.insert(request.id)
                    {
                        self.record.resent += 1;
                    }
                    let text = String::from_utf8(message.encode()).unwrap();
                    if socket.send(Message::text(text)).await.is_err() {
                        break 'open;
                    }
                }
                if !settled && self.asked_all() && self.client.outbox().is_empty() {
                    settled = true;
                    progress.settled.fetch_add(1, Ordering::SeqCst);
                }
                let target = *until.borrow();
                if let Some(target) = target
                    && settled
                    && self.client.version().is_some_and(|v| v >= target)
                {
                    let _ = socket.close(None).await;
                    return self;
                }
                tokio::select! {
                    frame = socket.next() => match frame {
                        Some(Ok(Message::Text(text))) => {
                            let message = ServerMessage::decode(text.as_bytes())
                                .expect("the server sends only what the client decodes");
                            out = self.receive(message, &progress);
                        }
                        Some(Ok(_)) => {}
                        None | Some(Err(_)) => break 'open,
                    },
                    _ = tick.tick(), if !self.asked_all() && self.client.view().is_some() => {
                        out.extend(self.ask());
                    }
                    _ = until.changed() => {}
                }
            }
            self.client.disconnected();
            next += 1;
        }
    }

    /// Asks for the next move of its token; what to send now (nothing
    /// while offline: the outbox keeps it).
    fn ask(&mut self) -> Option<ClientMessage> {
        let view = self.client.view()?;
        let token = view.token(self.member.token)?;
        let to = Point {
            x: token.position.x + 1.0,
            y: token.position.y,
        };
        let id = ActionId(uuid::Uuid::new_v4());
        let action = Action::MoveToken {
            token: self.member.token,
            to,
        };
        let (_, send) = self
            .client
            .request(id, action, RequestContext::default())
            .unwrap_or_else(|error| {
                panic!("{}: the client refused its own move: {error}", self.name)
            });
        self.record.asked.push(id);
        if self.client.link() != Link::Live {
            self.record.asked_offline += 1;
        }
        send
    }

    /// Takes in one server message; what to send back.
    fn receive(&mut self, message: ServerMessage, progress: &Progress) -> Vec<ClientMessage> {
        match &message {
            ServerMessage::Received {
                action,
                status: RequestStatus::Applied { version },
            } if self.mine(action) => self.acked(*action, *version, progress),
            ServerMessage::Commit(commit) => {
                if let Some(action) = commit.action.filter(|a| self.mine(a)) {
                    self.acked(action, commit.version, progress);
                }
            }
            ServerMessage::Error {
                action: Some(action),
                error,
            } if self.mine(action) => {
                self.record.failed.insert(*action, error.to_string());
            }
            ServerMessage::Rejected { action, reason, .. } if self.mine(action) => {
                self.record.rejected.insert(*action, reason.clone());
            }
            _ => {}
        }
        let changed = self.client.receive(message);
        let mut out = changed.send;
        if self.plan.approves {
            let waiting: Vec<ActionId> = self.client.queue().iter().map(|q| q.request.id).collect();
            for action in waiting {
                if let Some(decide) = self.client.decide(GmDecision {
                    action,
                    verdict: Verdict::Approve,
                }) {
                    self.record.approvals += 1;
                    out.push(decide);
                }
            }
        }
        out.extend(self.client.acknowledge());
        out
    }

    fn mine(&self, action: &ActionId) -> bool {
        self.record.asked.contains(action)
    }

    fn acked(&mut self, action: ActionId, version: Version, progress: &Progress) {
        let first = self.record.acked.insert(action, version);
        assert!(
            first.is_none_or(|v| v == version),
            "{}: {action} acknowledged at {first:?} and at {version}",
            self.name
        );
        if first.is_none() {
            progress.acks.fetch_add(1, Ordering::SeqCst);
        }
    }
}
