//! The live session in the browser: the battle map, the GM panel, the
//! initiative tracker, the chat and dice log, and the socket under them.
//!
//! - [`shared::client::Client`] decides (the view, the outbox resent on
//!   reconnect, the queue), a [`Table`] holds it and its reactive copy
//!   ([`board::Board`]) and is shared through context;
//! - `socket` (browser only) keeps the WebSocket up: reconnects with
//!   backoff, resumes from the last version, acknowledges;
//! - [`map`] draws the battle map, [`panel`] the GM's queue and rules,
//!   [`sidebar`] initiative, the selected token and the log; [`sheet`] the
//!   sheet to roll from.

pub mod bench;
pub mod board;
pub mod describe;
mod drawing;
mod fold;
pub(crate) mod handout;
pub mod map;
pub mod panel;
pub use replay::ReplayPage;
mod place;
mod sheet;
pub mod sidebar;
#[cfg(feature = "hydrate")]
mod socket;

mod inbound;
mod page;
mod ping;
mod preview;
mod replay;
mod ruler;
mod sight;
mod template;
mod toast;
mod walls;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use leptos::prelude::*;
use reactive_stores::Store;
use shared::{
    action::Action,
    actor::Actor,
    client::{Client, Link},
    encounter::Encounter,
    id::{ActionId, ActorId, EncounterId, SessionId, TokenId, UserId},
    protocol::{ClientMessage, GmDecision, QueuedRequest, RequestContext},
    rules::{ApprovalPolicy, Participant},
    token::Token,
};

use board::{Board, BoardStoreFields};
pub use page::{Members, SessionPage};
use preview::Preview;
pub use toast::{Toast, Tone};

/// Everything the session page shares: cheap to copy, provided through
/// context.
#[derive(Clone, Copy)]
pub struct Table {
    /// The session.
    pub session: SessionId,
    /// A replay of the session (`replay.rs`): read only, no socket,
    /// nothing asked or kept for later.
    pub replaying: bool,
    /// The client's logic and state (not reactive).
    client: StoredValue<Client>,
    /// The reactive copy of the view.
    pub board: Store<Board>,
    /// The connection.
    pub link: RwSignal<Link>,
    /// Who I am here, once welcomed.
    pub me: RwSignal<Option<Participant>>,
    /// For the GM: what waits for a decision.
    pub queue: RwSignal<Vec<QueuedRequest>>,
    /// My requests waiting for the GM.
    pub waiting: RwSignal<BTreeMap<ActionId, String>>,
    /// Requests not yet answered (sent on reconnect).
    pub unsent: RwSignal<usize>,
    /// Who is connected.
    pub online: RwSignal<BTreeSet<UserId>>,
    /// Toasts on screen.
    pub toasts: RwSignal<Vec<Toast>>,
    /// The handout open in the viewer.
    pub viewing: RwSignal<Option<shared::media::Handout>>,
    /// Pings on the map now.
    pub pings: RwSignal<Vec<ping::Ping>>,
    next_ping: StoredValue<u64>,
    /// What my Ctrl+Z and Ctrl+Shift+Z take back (the GM's).
    undo: StoredValue<shared::client::undo::UndoHistory>,
    /// Whether there is something to undo, and to redo (for the buttons).
    pub can_undo: RwSignal<(bool, bool)>,
    /// Rulers on the map now, mine among them, by whose they are.
    pub rulers: RwSignal<BTreeMap<UserId, Vec<shared::geometry::Point>>>,
    /// Area templates on the map now, mine among them, by whose they are.
    pub templates: RwSignal<BTreeMap<UserId, shared::template::Template>>,
    /// What a press on the map does (a spell on a sheet picks the
    /// template tool).
    pub tool: RwSignal<map::Tool>,
    /// The shape the template tool places.
    pub template_shape: RwSignal<shared::template::Shape>,
    /// The spell it is for, when a sheet's spell chose it.
    pub template_name: RwSignal<Option<String>>,
    /// The pen's shape, colour and width.
    pub draw_style: RwSignal<drawing::DrawStyle>,
    /// The stroke I am drawing, in map pixels, before it is asked for.
    pub sketch: RwSignal<Vec<shared::geometry::Point>>,
    /// The drawings my eraser passed over, before the erase is asked for.
    pub erasing: RwSignal<BTreeSet<shared::id::DrawingId>>,
    /// What the GM's wall tool builds.
    pub wall_kind: RwSignal<shared::wall::WallKind>,
    /// The wall the GM is drawing, its two ends in map pixels.
    pub wall_sketch: RwSignal<Option<(shared::geometry::Point, shared::geometry::Point)>>,
    /// Tokens others are dragging, where they are now: one signal per
    /// token, so a drag redraws that token alone.
    previews: StoredValue<HashMap<TokenId, Preview>>,
    /// The ids of the requests last kept in sessionStorage (so the outbox
    /// is written only when it changed, not after every message).
    kept: StoredValue<Vec<ActionId>>,
    /// Bumped when tokens appear, go away or move: the map culls again.
    pub layout: RwSignal<u64>,
    /// Bumped whenever the view changed at all, for the few things that
    /// describe the table as a whole (the GM's queue).
    pub revision: RwSignal<u64>,
    /// The token selected on the map.
    pub selected: RwSignal<Option<TokenId>>,
    /// Tokens shift-clicked together: dragging one of them moves them all,
    /// in one request.
    pub group: RwSignal<BTreeSet<TokenId>>,
    /// The map point at the middle of the view, where the GM's new tokens
    /// go (kept by the map, read when placing).
    pub view_center: StoredValue<shared::geometry::Point>,
    /// Display names of the campaign's members.
    pub names: RwSignal<HashMap<UserId, String>>,
    /// Whose sight the GM previews on a map where walls hide (`None`: see
    /// everything).
    pub sight_as: RwSignal<Option<UserId>>,
    /// Bumped when what I explored of the map changes (the cells are the
    /// client's: [`Client::explored`]).
    pub explored: RwSignal<u64>,
    /// The session's auto-approval rules, once told.
    pub rules: RwSignal<Option<ApprovalPolicy>>,
    /// Sends to the socket, while there is one.
    outgoing: StoredValue<Option<futures::channel::mpsc::UnboundedSender<ClientMessage>>>,
    next_toast: StoredValue<u64>,
}

impl Table {
    /// A table for `session`, with nothing loaded.
    pub fn new(session: SessionId) -> Self {
        Self {
            session,
            replaying: false,
            client: StoredValue::new(Client::new(session)),
            board: Store::new(Board::default()),
            link: RwSignal::new(Link::Offline),
            me: RwSignal::new(None),
            queue: RwSignal::new(Vec::new()),
            waiting: RwSignal::new(BTreeMap::new()),
            unsent: RwSignal::new(0),
            online: RwSignal::new(BTreeSet::new()),
            toasts: RwSignal::new(Vec::new()),
            viewing: RwSignal::new(None),
            pings: RwSignal::new(Vec::new()),
            next_ping: StoredValue::new(0),
            rulers: RwSignal::new(BTreeMap::new()),
            templates: RwSignal::new(BTreeMap::new()),
            tool: RwSignal::new(map::Tool::Move),
            template_shape: RwSignal::new(shared::template::Shape::Circle { radius: 20 }),
            template_name: RwSignal::new(None),
            draw_style: RwSignal::new(drawing::DrawStyle::default()),
            sketch: RwSignal::new(Vec::new()),
            erasing: RwSignal::new(BTreeSet::new()),
            wall_kind: RwSignal::new(shared::wall::WallKind::Wall),
            wall_sketch: RwSignal::new(None),
            undo: StoredValue::new(Default::default()),
            can_undo: RwSignal::new((false, false)),
            previews: StoredValue::new(HashMap::new()),
            kept: StoredValue::new(Vec::new()),
            layout: RwSignal::new(0),
            revision: RwSignal::new(0),
            selected: RwSignal::new(None),
            group: RwSignal::new(BTreeSet::new()),
            view_center: StoredValue::new(shared::geometry::Point::new(0.0, 0.0)),
            names: RwSignal::new(HashMap::new()),
            sight_as: RwSignal::new(None),
            explored: RwSignal::new(0),
            rules: RwSignal::new(None),
            outgoing: StoredValue::new(None),
            next_toast: StoredValue::new(0),
        }
    }

    /// Reads the client's state.
    pub fn with_client<T>(&self, read: impl FnOnce(&Client) -> T) -> T {
        self.client.with_value(read)
    }

    /// Whether I am the GM or an assistant GM.
    pub fn is_gm_or_assistant(&self) -> bool {
        self.me.get().is_some_and(|me| me.role.is_gm_or_assistant())
    }

    /// The encounter on the table (a session plays one at a time).
    /// Tracks which encounters exist, not what they hold.
    pub fn encounter(&self) -> Option<EncounterId> {
        self.board.encounters().read().keys().next().copied()
    }

    /// Reads the encounter on the table, waking the reader when that
    /// encounter changes. (Reading the whole collection would not: the
    /// board wakes each changed entry's readers, not the collection's.)
    pub fn with_encounter<T>(&self, read: impl FnOnce(&Encounter) -> T) -> Option<T> {
        let id = self.encounter()?;
        self.board.encounters().at_key(id).try_with(read)
    }

    /// Reads one token, waking the reader when that token changes.
    pub fn with_token<T>(&self, token: TokenId, read: impl FnOnce(&Token) -> T) -> Option<T> {
        if !self.board.tokens().read().contains_key(&token) {
            return None;
        }
        self.board.tokens().at_key(token).try_with(read)
    }

    /// Reads one actor, waking the reader when that actor changes.
    pub fn with_actor<T>(&self, actor: ActorId, read: impl FnOnce(&Actor) -> T) -> Option<T> {
        if !self.board.actors().read().contains_key(&actor) {
            return None;
        }
        self.board.actors().at_key(actor).try_with(read)
    }

    /// Asks for an action: shown at once, sent now or when the socket is
    /// back. A refusal the rules already know is a toast, and nothing
    /// changes.
    pub fn ask(&self, action: Action) {
        self.ask_as(new_action_id(), action);
    }

    /// Takes back my latest change (Ctrl+Z), or my latest undo when
    /// `redo` (Ctrl+Shift+Z): the GM's. The server refuses, with the
    /// reason, what it can no longer take back.
    pub fn undo(&self, redo: bool) {
        let id = new_action_id();
        let asked = self.undo.try_update_value(|history| {
            if redo {
                history.redo(id)
            } else {
                history.undo(id)
            }
        });
        match asked.flatten() {
            Some(action) => self.ask_as(id, action),
            None => self.toast(
                Tone::Info,
                if redo {
                    "Nothing to redo"
                } else {
                    "Nothing to undo"
                }
                .into(),
            ),
        }
        self.refresh_undo();
    }

    fn refresh_undo(&self) {
        let now = self
            .undo
            .with_value(|history| (history.can_undo(), history.can_redo()));
        if self.can_undo.get_untracked() != now {
            self.can_undo.set(now);
        }
    }

    fn ask_as(&self, id: ActionId, action: Action) {
        if self.replaying {
            self.toast(
                Tone::Info,
                "This is a replay: open the table to play.".into(),
            );
            return;
        }
        let context = RequestContext {
            encounter: self.encounter(),
            ..RequestContext::default()
        };
        let board = self.board;
        let outcome = self
            .client
            .try_update_value(|client| {
                let (touched, send) = client.request(id, action, context)?;
                // Synced while the view is borrowed: no copy of the store.
                let moved = client
                    .view()
                    .is_some_and(|view| board::sync(board, view, Some(&touched)));
                Ok((moved, send))
            })
            .unwrap_or_else(|| Err(shared::Error::InvalidAction("the table is gone".into())));
        match outcome {
            Ok((moved, send)) => {
                if moved {
                    self.layout.update(|n| *n += 1);
                }
                self.revision.update(|n| *n += 1);
                self.send_all(send);
                self.refresh_counts();
            }
            Err(refusal) => self.toast(Tone::Bad, refusal.to_string()),
        }
    }

    /// The GM decides on a request.
    pub fn decide(&self, decision: GmDecision) {
        let message = self.client.try_update_value(|client| {
            let message = client.decide(decision);
            (message, client.queue().to_vec())
        });
        match message {
            Some((Some(message), queue)) => {
                self.queue.set(queue);
                self.send_all([message]);
            }
            _ => self.toast(
                Tone::Bad,
                "not connected: decide again once the table is back".into(),
            ),
        }
    }

    /// The GM changes the auto-approval rules.
    pub fn send_rules(&self, policy: ApprovalPolicy) {
        match self
            .client
            .try_update_value(|client| client.set_rules(policy))
            .flatten()
        {
            Some(message) => self.send_all([message]),
            None => self.toast(
                Tone::Bad,
                "not connected: the rules were not changed".into(),
            ),
        }
    }

    /// The GM ends the session for everyone.
    pub fn end_session(&self) {
        match self.client.with_value(Client::end_session) {
            Some(message) => self.send_all([message]),
            None => self.toast(Tone::Bad, "not connected: the session was not ended".into()),
        }
    }

    /// For the GM: moves everyone at the table to `encounter`.
    pub fn move_table(&self, encounter: EncounterId) {
        match self.client.with_value(|c| c.move_table(encounter)) {
            Some(message) => self.send_all([message]),
            None => self.toast(Tone::Bad, "not connected: the table did not move".into()),
        }
    }

    /// Where the GM moved the table, once this session ended so.
    pub fn moved_to(&self) -> Option<SessionId> {
        self.client.try_with_value(Client::moved_to).flatten()
    }

    pub(crate) fn send_all(&self, messages: impl IntoIterator<Item = ClientMessage>) {
        if self.replaying {
            return;
        }
        // `try_`: a timer may still fire after the page is gone.
        self.outgoing.try_with_value(|outgoing| {
            if let Some(outgoing) = outgoing {
                for message in messages {
                    let _ = outgoing.unbounded_send(message);
                }
            }
        });
    }
}

/// Where a tab keeps a session's unsettled requests.
fn outbox_key(session: SessionId) -> String {
    format!("tabletop.outbox.{session}")
}

/// A fresh action id, from the browser's cryptographic random source
/// (the idempotency key must not collide across clients).
fn new_action_id() -> ActionId {
    #[cfg(feature = "hydrate")]
    {
        let mut bytes = [0u8; 16];
        let filled = web_sys::window()
            .and_then(|w| w.crypto().ok())
            .and_then(|c| c.get_random_values_with_u8_array(&mut bytes).ok());
        if filled.is_some() {
            return ActionId(uuid::Builder::from_random_bytes(bytes).into_uuid());
        }
    }
    // Not in a browser (server rendering never asks): unique in this
    // process, which is all a test needs.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    ActionId(uuid::Uuid::from_u128(u128::from(n)))
}
