//! A browser's side of a live session, without the socket: what to send
//! when, and what each message from the server changes.
//!
//! The browser owns the socket and the screen; this owns the rest. It keeps
//! the view ([`crate::optimistic`]: the confirmed state plus my pending
//! actions), the requests not yet answered (resent, with the same ids, on
//! every reconnect, so nothing asked while offline is lost and nothing is
//! applied twice), the GM's queue, who is connected, and how far the
//! server's commits are acknowledged. Every server message goes through
//! [`Client::receive`], which answers with what changed (so the page
//! redraws only that), what to tell the user, and what to send back (a
//! resume after a gap, the resends after a welcome).
//!
//! ```
//! use shared::{client::{Client, Link}, id::{ActionId, SessionId}};
//! let mut client = Client::new(SessionId(uuid::Uuid::from_u128(1)));
//! assert_eq!(client.link(), Link::Offline);
//! let hello = client.connected();
//! assert_eq!(hello.len(), 1, "a hello, asking for a snapshot");
//! assert_eq!(client.link(), Link::Joining);
//! ```

use std::collections::{BTreeMap, BTreeSet};

use crate::{
    Error, Result,
    action::Action,
    change::{Change, Version},
    geometry::Point,
    id::{
        ActionId, ActorId, DrawingId, EffectId, EncounterId, ItemId, SessionId, TokenId, UserId,
        WallId,
    },
    optimistic::{Optimistic, PendingStatus},
    path::Entity,
    protocol::{
        ActionRequest, ClientMessage, GmDecision, QueuedRequest, RequestContext, RequestStatus,
        ServerMessage,
    },
    rules::{self, ApprovalPolicy, Participant},
    store::Store,
};

/// Where the connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// No socket: requests wait in the outbox.
    Offline,
    /// A socket is open; the welcome has not come yet.
    Joining,
    /// Welcomed: requests go out at once.
    Live,
    /// The GM ended the session: nothing more is sent, and there is no
    /// reconnecting.
    Ended,
}

/// Something to tell the user about one of their requests, or the session.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// Committed.
    Applied {
        /// The request.
        action: ActionId,
    },
    /// A request that waited for the GM was approved and committed.
    Approved {
        /// The request.
        action: ActionId,
        /// What was asked, when this client still holds it.
        asked: Option<Action>,
        /// Whether the GM changed it before approving (what was committed
        /// differs from what was asked).
        modified: bool,
    },
    /// Waiting for the GM.
    Waiting {
        /// The request.
        action: ActionId,
        /// Why it waits (and whether a GM is there).
        reason: String,
    },
    /// Refused, by the GM or the rules; its effect was taken back.
    Rejected {
        /// The request.
        action: ActionId,
        /// Why.
        reason: String,
        /// What the GM would accept instead.
        alternative: Option<Action>,
    },
    /// The server could not process something.
    Failed {
        /// The request it concerns, if any.
        action: Option<ActionId>,
        /// What went wrong.
        message: String,
    },
    /// Someone else's commit overlaps a pending request of mine: the GM
    /// will settle it.
    Conflicted {
        /// The request.
        action: ActionId,
    },
    /// A pending request of mine no longer applies (what it acted on
    /// changed or went away); the server will answer it.
    Invalidated {
        /// The request.
        action: ActionId,
    },
}

/// The entities a message changed, by kind, for the page to redraw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Touched {
    /// Tokens.
    pub tokens: BTreeSet<TokenId>,
    /// Actors.
    pub actors: BTreeSet<ActorId>,
    /// Items.
    pub items: BTreeSet<ItemId>,
    /// Encounters (initiative, fog, log, map).
    pub encounters: BTreeSet<EncounterId>,
    /// Effects.
    pub effects: BTreeSet<EffectId>,
    /// Drawings.
    pub drawings: BTreeSet<DrawingId>,
    /// Walls.
    pub walls: BTreeSet<WallId>,
}

impl Touched {
    /// Adds what the changes' paths name.
    pub fn add(&mut self, changes: &[Change]) {
        for change in changes {
            let Some(entity) = change.path.entity() else {
                continue;
            };
            match entity {
                Entity::Token(id) => self.tokens.insert(id),
                Entity::Actor(id) => self.actors.insert(id),
                Entity::Item(id) => self.items.insert(id),
                Entity::Encounter(id) => self.encounters.insert(id),
                Entity::Effect(id) => self.effects.insert(id),
                Entity::Drawing(id) => self.drawings.insert(id),
                Entity::Wall(id) => self.walls.insert(id),
            };
        }
    }

    /// Adds what another set touched.
    pub fn add_all(&mut self, other: Touched) {
        self.tokens.extend(other.tokens);
        self.actors.extend(other.actors);
        self.items.extend(other.items);
        self.encounters.extend(other.encounters);
        self.effects.extend(other.effects);
        self.drawings.extend(other.drawings);
        self.walls.extend(other.walls);
    }

    /// True when nothing was touched.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
            && self.actors.is_empty()
            && self.items.is_empty()
            && self.encounters.is_empty()
            && self.effects.is_empty()
            && self.drawings.is_empty()
            && self.walls.is_empty()
    }
}

/// What one event changed, and what to do about it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changed {
    /// The whole view was replaced (a snapshot): redraw everything.
    pub everything: bool,
    /// Otherwise, what to redraw.
    pub touched: Touched,
    /// The GM's queue changed.
    pub queue: bool,
    /// Who is connected changed.
    pub presence: bool,
    /// Someone drags a token: where it is now, and who drags it.
    pub preview: Option<(TokenId, Point, UserId)>,
    /// Someone pointed at a place of the map: where, and who.
    pub pointed: Option<(Point, UserId)>,
    /// Someone's ruler now (no points: gone), and whose.
    pub measured: Option<(Vec<Point>, UserId)>,
    /// Someone's area template now (none: gone), and whose.
    pub template: Option<(Option<crate::template::Template>, UserId)>,
    /// Handouts someone else just showed me, to open in the viewer.
    pub handouts: Vec<crate::media::Handout>,
    /// The auto-approval rules changed.
    pub rules: bool,
    /// What I explored of a map changed ([`Client::explored`]).
    pub explored: bool,
    /// The GM ended the session.
    pub ended: bool,
    /// What to tell the user.
    pub notices: Vec<Notice>,
    /// What to send to the server now, in order.
    pub send: Vec<ClientMessage>,
}

/// One browser's live session.
#[derive(Debug, Clone)]
pub struct Client {
    session: SessionId,
    me: Option<Participant>,
    /// `None` until the first snapshot.
    state: Option<Optimistic>,
    /// Requests not settled yet (sent or not, waiting for the GM or not),
    /// oldest first: all go out again after every welcome, and the server
    /// answers each it already has with where it stands.
    outbox: Vec<ActionRequest>,
    /// Requests waiting for the GM, with the reason.
    waiting: BTreeMap<ActionId, String>,
    /// For the GM: what waits for a decision.
    queue: Vec<QueuedRequest>,
    /// Who is connected, as far as presence messages told.
    online: BTreeSet<UserId>,
    /// The session's auto-approval rules, once told.
    rules: Option<ApprovalPolicy>,
    link: Link,
    /// Where the GM moved the table, once this session ended that way.
    moved_to: Option<SessionId>,
    /// The newest version acknowledged to the server.
    acked: Version,
    /// The hash of the session's dice seed, once welcomed.
    dice: Option<crate::fair::Commitment>,
    /// For the GM: the latest commits of anyone's actions, oldest first,
    /// to take back by choice.
    recent: std::collections::VecDeque<RecentChange>,
    /// For a player: the cells of each map I have explored, as the server
    /// told after the welcome, with what this browser saw since. For a GM
    /// previewing a player: hers, as the server tells them.
    explored: BTreeMap<EncounterId, BTreeSet<crate::geometry::Cell>>,
    /// For a GM: the player whose view is previewed, asked for again
    /// after each welcome (a new socket previews nobody).
    previewing: Option<UserId>,
}

/// The most cells one [`ClientMessage::Explore`] carries: at most 18
/// bytes each in JSON, well within [`crate::protocol::MAX_CLIENT_FRAME`].
pub const EXPLORE_CELLS_PER_MESSAGE: usize = 10_000;

/// How many of the latest commits the GM's list offers to take back.
pub const RECENT_CHANGES: usize = 20;

/// A commit the GM may take back from the list of recent changes.
#[derive(Debug, Clone, PartialEq)]
pub struct RecentChange {
    /// The version it made.
    pub version: Version,
    /// The action it came from (what an undo names).
    pub action: ActionId,
    /// What it changed, to say what it was.
    pub changes: Vec<Change>,
}

impl Client {
    /// A client of `session` with nothing yet.
    pub fn new(session: SessionId) -> Self {
        Self {
            session,
            me: None,
            state: None,
            outbox: Vec::new(),
            waiting: BTreeMap::new(),
            queue: Vec::new(),
            online: BTreeSet::new(),
            rules: None,
            link: Link::Offline,
            moved_to: None,
            acked: 0,
            dice: None,
            recent: std::collections::VecDeque::new(),
            explored: BTreeMap::new(),
            previewing: None,
        }
    }

    /// The session.
    pub fn session(&self) -> SessionId {
        self.session
    }

    /// Who the server takes me for, once welcomed.
    pub fn me(&self) -> Option<Participant> {
        self.me
    }

    /// The hash of the secret the session's dice come from, published
    /// before its first roll (none when its dice cannot be checked).
    pub fn dice_commitment(&self) -> Option<crate::fair::Commitment> {
        self.dice
    }

    /// What to render: the confirmed state plus my pending requests.
    pub fn view(&self) -> Option<&Store> {
        self.state.as_ref().map(Optimistic::view)
    }

    /// The version of the confirmed state.
    pub fn version(&self) -> Option<Version> {
        self.state.as_ref().map(Optimistic::version)
    }

    /// Where the connection stands.
    pub fn link(&self) -> Link {
        self.link
    }

    /// The session the GM moved the table to, once this one ended so.
    pub fn moved_to(&self) -> Option<SessionId> {
        self.moved_to
    }

    /// Requests not settled yet (they go out, or out again, when live).
    pub fn outbox(&self) -> &[ActionRequest] {
        &self.outbox
    }

    /// How many requests the server has not acknowledged at all yet
    /// (neither applied nor waiting for the GM).
    pub fn unsent(&self) -> usize {
        self.outbox
            .iter()
            .filter(|r| !self.waiting.contains_key(&r.id))
            .count()
    }

    /// My requests waiting for the GM, with the reason.
    pub fn waiting(&self) -> &BTreeMap<ActionId, String> {
        &self.waiting
    }

    /// For the GM: the requests waiting for a decision, oldest first.
    pub fn queue(&self) -> &[QueuedRequest] {
        &self.queue
    }

    /// For the GM: the latest commits of actions (anyone's), newest
    /// first, each of which an [`Action::Undo`] may take back.
    pub fn recent(&self) -> impl Iterator<Item = &RecentChange> {
        self.recent.iter().rev()
    }

    /// Who is connected.
    pub fn online(&self) -> &BTreeSet<UserId> {
        &self.online
    }

    /// The session's auto-approval rules, once the server told them.
    pub fn rules(&self) -> Option<&ApprovalPolicy> {
        self.rules.as_ref()
    }

    /// For the GM: new auto-approval rules to send, or `None` while not
    /// live or not a GM.
    pub fn set_rules(&mut self, policy: ApprovalPolicy) -> Option<ClientMessage> {
        let gm = self.me.is_some_and(|me| me.role.is_gm_or_assistant());
        (gm && self.link == Link::Live).then_some(ClientMessage::SetRules { policy })
    }

    /// For a GM: previews `player`'s view (or nobody's). What this client
    /// held of anyone's explored cells goes; the message asks the server
    /// for hers, or is `None` while not live (the welcome asks then), not
    /// a GM, or when the choice did not change.
    pub fn preview_explored(&mut self, player: Option<UserId>) -> Option<ClientMessage> {
        if !self.me.is_some_and(|me| me.role.is_gm_or_assistant()) || self.previewing == player {
            return None;
        }
        self.previewing = player;
        self.explored.clear();
        (self.link == Link::Live).then_some(ClientMessage::PreviewExplored { player })
    }

    /// The cells of `encounter`'s map I have explored (or, for a GM
    /// previewing a player, that she has).
    pub fn explored(&self, encounter: EncounterId) -> Option<&BTreeSet<crate::geometry::Cell>> {
        self.explored.get(&encounter)
    }

    /// For a player, live: adds the cells of `seen` ([`crate::sight::explored`])
    /// I had not explored, and returns the messages that tell the server
    /// (at most [`EXPLORE_CELLS_PER_MESSAGE`] cells each, so that each
    /// fits a client frame); none when no cell is new, or when the whole
    /// would pass the limit (the server would refuse it). While not live
    /// nothing is added: the welcome brings what the server kept, and the
    /// caller offers what it sees again then.
    pub fn explore(
        &mut self,
        encounter: EncounterId,
        seen: BTreeSet<crate::geometry::Cell>,
    ) -> Vec<ClientMessage> {
        let player = self.me.is_some_and(|me| !me.role.is_gm_or_assistant());
        if !player || self.link != Link::Live {
            return Vec::new();
        }
        let known = self.explored.entry(encounter).or_default();
        let new: Vec<_> = seen.difference(known).copied().collect();
        if new.is_empty() || known.len() + new.len() > crate::limits::MAX_EXPLORED_CELLS {
            return Vec::new();
        }
        known.extend(new.iter().copied());
        new.chunks(EXPLORE_CELLS_PER_MESSAGE)
            .map(|cells| ClientMessage::Explore {
                encounter,
                cells: cells.iter().copied().collect(),
            })
            .collect()
    }

    /// For the GM: the message that makes every player forget what they
    /// explored of the table's map, or `None` while not live or not a GM.
    pub fn forget_explored(&self) -> Option<ClientMessage> {
        self.end_session().map(|_| ClientMessage::ForgetExplored)
    }

    /// How a pending request of mine stands in the view, if it is pending.
    pub fn pending_status(&self, action: ActionId) -> Option<PendingStatus> {
        self.state
            .as_ref()?
            .pending()
            .iter()
            .find(|p| p.id == action)
            .map(|p| p.status)
    }

    /// A socket opened: the hello to send, resuming from my version if I
    /// have a state.
    pub fn connected(&mut self) -> Vec<ClientMessage> {
        if self.link == Link::Ended {
            return Vec::new();
        }
        self.link = Link::Joining;
        vec![ClientMessage::Hello {
            resume_from: self.version(),
        }]
    }

    /// The socket closed: requests from now on wait in the outbox.
    pub fn disconnected(&mut self) {
        if self.link != Link::Ended {
            self.link = Link::Offline;
        }
        self.online.clear();
    }

    /// For the GM: the message that ends the session, or `None` while not
    /// live or not a GM.
    pub fn end_session(&self) -> Option<ClientMessage> {
        let gm = self.me.is_some_and(|me| me.role.is_gm_or_assistant());
        (gm && self.link == Link::Live).then_some(ClientMessage::EndSession)
    }

    /// For the GM: the message that moves the table to `encounter`, or
    /// `None` while not live, not a GM, or when the table is there already.
    pub fn move_table(&self, encounter: EncounterId) -> Option<ClientMessage> {
        let here = self
            .view()
            .is_some_and(|view| view.encounter(encounter).is_some());
        self.end_session()
            .filter(|_| !here)
            .map(|_| ClientMessage::MoveTable { encounter })
    }

    /// Asks for `action` under the id `id` (chosen by the caller, unique):
    /// shows it at once (unless the server must settle it first, as for
    /// dice), and returns the message to send now, or `None` while
    /// offline (it goes out on reconnect). Refused here, with nothing
    /// changed, when the rules already say no or it does not apply to
    /// what I see.
    pub fn request(
        &mut self,
        id: ActionId,
        action: Action,
        context: RequestContext,
    ) -> Result<(Touched, Option<ClientMessage>)> {
        if self.link == Link::Ended {
            return Err(Error::InvalidAction("the session has ended".into()));
        }
        let me = self
            .me
            .ok_or_else(|| Error::InvalidAction("not joined to the session yet".into()))?;
        let state = self
            .state
            .as_mut()
            .ok_or_else(|| Error::InvalidAction("the table has not loaded yet".into()))?;
        rules::authorize(&me, &action, state.view())?;
        let mut touched = Touched::default();
        if !action.rolled_by_server() {
            let changes = action.changes(state.view(), me.user)?;
            touched.add(&changes);
            state.propose(id, changes)?;
        }
        let request = ActionRequest {
            id,
            action,
            context,
            base_version: state.version(),
        };
        self.outbox.push(request.clone());
        let send = (self.link == Link::Live).then_some(ClientMessage::Request(request));
        Ok((touched, send))
    }

    /// Takes back requests an earlier page of this browser tab asked and
    /// the server may not have answered (kept across a reload): they join
    /// the outbox (an id already there is skipped), go out with their ids
    /// after the next welcome (the server applies each once), and show in
    /// the view as soon as it loads. Returns what that touched.
    pub fn adopt(&mut self, requests: Vec<ActionRequest>) -> Touched {
        for request in requests {
            if !self.outbox.iter().any(|r| r.id == request.id) {
                self.outbox.push(request);
            }
        }
        self.show_outbox()
    }

    /// Shows every request of the outbox that the view does not show yet
    /// (adopted ones, once there is a view and I am known). One that no
    /// longer applies stays unshown: the server answers it all the same.
    fn show_outbox(&mut self) -> Touched {
        let mut touched = Touched::default();
        let (Some(me), Some(state)) = (self.me, self.state.as_mut()) else {
            return touched;
        };
        for request in &self.outbox {
            let shown = state.pending().iter().any(|p| p.id == request.id);
            if shown || request.action.rolled_by_server() {
                continue;
            }
            if let Ok(changes) = request.action.changes(state.view(), me.user) {
                touched.add(&changes);
                let _ = state.propose(request.id, changes);
            }
        }
        touched
    }

    /// The GM decides on a waiting request: the message to send, or
    /// `None` while not live (a decision is not queued: the queue may have
    /// changed by the time the socket is back).
    pub fn decide(&mut self, decision: GmDecision) -> Option<ClientMessage> {
        if self.link != Link::Live {
            return None;
        }
        self.queue.retain(|q| q.request.id != decision.action);
        Some(ClientMessage::Decide(decision))
    }

    /// An acknowledgement to send if commits arrived since the last one.
    pub fn acknowledge(&mut self) -> Option<ClientMessage> {
        let version = self.version()?;
        if self.link != Link::Live || version <= self.acked {
            return None;
        }
        self.acked = version;
        Some(ClientMessage::Ack { version })
    }
}

mod receive;
#[cfg(test)]
mod tests;
pub mod undo;
