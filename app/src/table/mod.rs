//! The live session in the browser: the battle map, the GM panel, the
//! initiative tracker, the chat and dice log, and the socket under them.
//!
//! - [`shared::client::Client`] decides (the view, the outbox resent on
//!   reconnect, the queue), a [`Table`] holds it and its reactive copy
//!   ([`board::Board`]) and is shared through context;
//! - `socket` (browser only) keeps the WebSocket up: reconnects with
//!   backoff, resumes from the last version, acknowledges;
//! - [`map`] draws the battle map, [`panel`] the GM's queue and rules,
//!   [`sidebar`] initiative, the selected token and the log.

pub mod bench;
pub mod board;
pub mod describe;
pub mod map;
pub mod panel;
pub mod sidebar;
#[cfg(feature = "hydrate")]
mod socket;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use reactive_stores::Store;
use shared::{
    action::Action,
    actor::Actor,
    client::{Changed, Client, Link, Notice},
    encounter::Encounter,
    geometry::Point,
    id::{ActionId, ActorId, EncounterId, SessionId, TokenId, UserId},
    protocol::{ClientMessage, GmDecision, QueuedRequest, RequestContext},
    rules::{ApprovalPolicy, Participant},
    token::Token,
};

use board::{Board, BoardStoreFields};

/// A message for the user, shown for a few seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    /// Tells toasts apart.
    pub id: u64,
    /// How it reads.
    pub tone: Tone,
    /// What it says.
    pub text: String,
}

/// How a toast reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Done.
    Good,
    /// Waiting or for information.
    Info,
    /// Refused or failed.
    Bad,
}

impl Tone {
    fn class(self) -> &'static str {
        match self {
            Tone::Good => "toast good",
            Tone::Info => "toast info",
            Tone::Bad => "toast bad",
        }
    }
}

/// Everything the session page shares: cheap to copy, provided through
/// context.
#[derive(Clone, Copy)]
pub struct Table {
    /// The session.
    pub session: SessionId,
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
    /// Display names of the campaign's members.
    pub names: RwSignal<HashMap<UserId, String>>,
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
            client: StoredValue::new(Client::new(session)),
            board: Store::new(Board::default()),
            link: RwSignal::new(Link::Offline),
            me: RwSignal::new(None),
            queue: RwSignal::new(Vec::new()),
            waiting: RwSignal::new(BTreeMap::new()),
            unsent: RwSignal::new(0),
            online: RwSignal::new(BTreeSet::new()),
            toasts: RwSignal::new(Vec::new()),
            previews: StoredValue::new(HashMap::new()),
            kept: StoredValue::new(Vec::new()),
            layout: RwSignal::new(0),
            revision: RwSignal::new(0),
            selected: RwSignal::new(None),
            names: RwSignal::new(HashMap::new()),
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
    pub fn is_gm(&self) -> bool {
        self.me.get().is_some_and(|me| me.role.is_gm())
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
        let id = new_action_id();
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

    /// The GM sets one field of the encounter on the table
    /// (`fog/enabled`, `initiative/phase`), as a raw edit.
    pub fn set_encounter_field(&self, field: &str, value: serde_json::Value) {
        let Some(encounter) = self.encounter() else {
            return;
        };
        match shared::path::Path::parse(&format!("encounters/{encounter}/{field}")) {
            Ok(path) => self.ask(Action::Edit {
                changes: vec![shared::change::Change::set(path, value)],
            }),
            Err(error) => self.toast(Tone::Bad, error.to_string()),
        }
    }

    /// The GM ends the session for everyone.
    pub fn end_session(&self) {
        match self.client.with_value(Client::end_session) {
            Some(message) => self.send_all([message]),
            None => self.toast(Tone::Bad, "not connected: the session was not ended".into()),
        }
    }

    /// Where someone else drags `token` now, if anyone does.
    pub fn preview(&self, token: TokenId) -> ArcRwSignal<Option<Point>> {
        if let Some(found) = self
            .previews
            .with_value(|p| p.get(&token).map(|p| p.at.clone()))
        {
            return found;
        }
        let preview = Preview::default();
        let at = preview.at.clone();
        self.previews.update_value(|p| {
            p.insert(token, preview);
        });
        at
    }

    /// Shows someone's drag of `token` at `position`; it ends
    /// [`PREVIEW_LINGERS`] from now unless another one comes first.
    fn show_preview(&self, token: TokenId, position: Point) {
        self.preview(token).set(Some(position));
        let ticket = self
            .previews
            .try_update_value(|p| {
                let heard = &mut p.entry(token).or_default().heard;
                *heard += 1;
                *heard
            })
            .unwrap_or_default();
        #[cfg(feature = "hydrate")]
        {
            let previews = self.previews;
            set_timeout(
                move || {
                    let ended = previews
                        .try_with_value(|p| p.get(&token).filter(|p| p.heard == ticket).cloned())
                        .flatten();
                    if let Some(preview) = ended {
                        preview.end();
                    }
                },
                PREVIEW_LINGERS,
            );
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ticket;
    }

    /// Tells the others where a token I drag is now (not stored).
    pub fn drag_preview(&self, token: TokenId, position: Point) {
        if self.link.get_untracked() == Link::Live {
            self.send_all([ClientMessage::DragPreview { token, position }]);
        }
    }

    /// Takes in what a server message (or a connection event) changed.
    fn apply(&self, changed: Changed) {
        if changed.everything || !changed.touched.is_empty() {
            let touched = (!changed.everything).then_some(&changed.touched);
            let board = self.board;
            // Synced while the view is borrowed: no copy of the store.
            let moved = self.client.with_value(|c| {
                c.view()
                    .is_some_and(|view| board::sync(board, view, touched))
            });
            if moved {
                self.layout.update(|n| *n += 1);
            }
            self.revision.update(|n| *n += 1);
        }
        // A commit for a dragged token ends its preview (a snapshot ends
        // them all).
        self.previews.with_value(|previews| {
            if changed.everything {
                previews.values().for_each(Preview::end);
            } else {
                for preview in changed
                    .touched
                    .tokens
                    .iter()
                    .filter_map(|t| previews.get(t))
                {
                    preview.end();
                }
            }
        });
        if let Some((token, position, by)) = changed.preview
            && Some(by) != self.me.get_untracked().map(|me| me.user)
        {
            self.show_preview(token, position);
        }
        let (me, queue, waiting, online, link) = self.client.with_value(|c| {
            (
                c.me(),
                c.queue().to_vec(),
                c.waiting().clone(),
                c.online().clone(),
                c.link(),
            )
        });
        if self.me.get_untracked() != me {
            self.me.set(me);
        }
        if changed.queue {
            self.queue.set(queue);
        }
        if self.waiting.get_untracked() != waiting {
            self.waiting.set(waiting);
        }
        if changed.presence {
            self.online.set(online);
        }
        if changed.rules {
            self.rules
                .set(self.client.with_value(|c| c.rules().cloned()));
        }
        if self.link.get_untracked() != link {
            self.link.set(link);
        }
        self.refresh_counts();
        for notice in changed.notices {
            self.announce(notice);
        }
        if changed.ended {
            self.toast(Tone::Info, "The GM ended the session".into());
        }
        self.send_all(changed.send);
    }

    fn refresh_counts(&self) {
        let unsent = self.client.with_value(Client::unsent);
        if self.unsent.get_untracked() != unsent {
            self.unsent.set(unsent);
        }
        self.keep_outbox();
    }

    /// Keeps the requests not settled yet in this tab's sessionStorage, so
    /// that a reload (or a crash of the page) while offline loses none of
    /// them: the next page adopts them and sends them with the same ids.
    fn keep_outbox(&self) {
        let session = self.session;
        let kept = self.kept;
        self.client.with_value(|c| {
            let ids: Vec<ActionId> = c.outbox().iter().map(|r| r.id).collect();
            if kept.with_value(|kept| *kept == ids) {
                return;
            }
            let key = outbox_key(session);
            if ids.is_empty() {
                crate::storage::session_remove(&key);
            } else {
                crate::storage::session_set(&key, &c.outbox());
            }
            kept.set_value(ids);
        });
    }

    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn announce(&self, notice: Notice) {
        let describe = |action: ActionId| {
            self.client
                .with_value(|c| {
                    c.outbox()
                        .iter()
                        .find(|r| r.id == action)
                        .map(|r| describe::action(&r.action, c.view()))
                })
                .unwrap_or_else(|| "your request".into())
        };
        match notice {
            // A commit speaks for itself; no toast for each move the
            // rules let through.
            Notice::Applied { .. } => {}
            Notice::Approved {
                asked, modified, ..
            } => {
                let what = asked
                    .map(|a| self.client.with_value(|c| describe::action(&a, c.view())))
                    .unwrap_or_else(|| "your request".into());
                if modified {
                    self.toast(
                        Tone::Info,
                        format!("The GM changed \u{201c}{what}\u{201d} before approving it"),
                    )
                } else {
                    self.toast(Tone::Good, format!("Approved: {what}"))
                }
            }
            Notice::Waiting { action, reason } => self.toast(
                Tone::Info,
                format!("{}: {reason}", capitalized(&describe(action))),
            ),
            Notice::Rejected {
                reason,
                alternative,
                ..
            } => {
                let mut text = format!("Rejected: {reason}");
                if let Some(alternative) = alternative {
                    let suggested = self
                        .client
                        .with_value(|c| describe::action(&alternative, c.view()));
                    text.push_str(&format!(" (the GM suggests: {suggested})"));
                }
                self.toast(Tone::Bad, text)
            }
            Notice::Failed { message, .. } => self.toast(Tone::Bad, capitalized(&message)),
            Notice::Conflicted { .. } => self.toast(
                Tone::Info,
                "Someone else changed what your request touches; the GM will settle it".into(),
            ),
            Notice::Invalidated { .. } => self.toast(
                Tone::Info,
                "Your request no longer applies to the table; the GM will answer it".into(),
            ),
        }
    }

    /// Shows a toast for five seconds.
    pub fn toast(&self, tone: Tone, text: String) {
        let id = self.next_toast.get_value();
        self.next_toast.set_value(id + 1);
        self.toasts.update(|toasts| {
            toasts.push(Toast { id, tone, text });
            // A burst of refusals should not bury the table.
            let excess = toasts.len().saturating_sub(5);
            toasts.drain(..excess);
        });
        #[cfg(feature = "hydrate")]
        {
            let toasts = self.toasts;
            set_timeout(
                move || toasts.update(|t| t.retain(|toast| toast.id != id)),
                std::time::Duration::from_secs(5),
            );
        }
    }

    pub(crate) fn send_all(&self, messages: impl IntoIterator<Item = ClientMessage>) {
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

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Someone else's drag of a token, as the token draws it.
#[derive(Clone, Default)]
struct Preview {
    /// Where it is dragged now; `None` when nobody drags it.
    at: ArcRwSignal<Option<Point>>,
    /// Counts the previews heard: a timer ends the preview only if none
    /// came after the one that set it.
    heard: u64,
}

impl Preview {
    fn end(&self) {
        if self.at.with_untracked(Option::is_some) {
            self.at.set(None);
        }
    }
}

/// How long a drag preview nobody renews stays on screen. Previews come
/// up to 30 times a second while a token moves; a pointer held still for
/// this long shows the token where it stands until it moves again.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const PREVIEW_LINGERS: std::time::Duration = std::time::Duration::from_millis(1500);

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

/// `/sessions/:id`: the live table.
#[component]
pub fn SessionPage() -> impl IntoView {
    let params = use_params_map();
    let session = move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<uuid::Uuid>().ok())
            .map(SessionId)
    };
    move || match session() {
        Some(session) => view! { <LiveTable session /> }.into_any(),
        None => view! {
            <Title text="No such session" />
            <p role="alert" class="error">"That is not a session link."</p>
        }
        .into_any(),
    }
}

/// The table of one session: connects once hydrated.
#[component]
fn LiveTable(session: SessionId) -> impl IntoView {
    let table = Table::new(session);
    provide_context(table);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        // What this tab asked before a reload and the server may not have
        // answered: shown again once the table loads, sent with the same
        // ids (the server applies each once).
        if let Some(kept) = crate::storage::session_get::<Vec<shared::protocol::ActionRequest>>(
            &outbox_key(session),
        ) {
            table.client.update_value(|c| {
                c.adopt(kept);
            });
        }
        socket::run(table);
    });
    load_names(table);
    let prefs = crate::storage::use_prefs();

    view! {
        <Title text="Table" />
        <div class="table-page" data-link=move || link_name(table.link.get())>
            <header class="table-bar">
                <ConnectionIndicator />
                <span class="you">
                    {move || {
                        table
                            .me
                            .get()
                            .map(|me| format!("You are {}", describe::role(me.role)))
                            .unwrap_or_default()
                    }}
                </span>
                <Show when=move || table.is_gm() && table.link.get() == Link::Live>
                    <EndSession />
                </Show>
            </header>
            <Show when=move || table.link.get() == Link::Ended>
                <div class="ended card" role="alert" data-test="session-ended">
                    <strong>"The GM ended this session."</strong>
                    " What the table did is kept in the campaign: where the tokens stand, the fog, the turn order and hit points. "
                    <leptos_router::components::A href="/">"Back to your campaigns"</leptos_router::components::A>
                </div>
            </Show>
            <div class=move || match prefs.with(|p| p.side) {
                crate::storage::Side::Right => "table-layout",
                crate::storage::Side::Left => "table-layout side-left",
            }>
                <map::BattleMap />
                <aside class="table-side" aria-label="Table tools">
                    <Show when=move || table.is_gm()>
                        <panel::GmPanel />
                    </Show>
                    <sidebar::Initiative />
                    <sidebar::SelectedToken />
                    <sidebar::Log />
                </aside>
            </div>
            <Toasts />
        </div>
    }
    .into_any()
}

/// The campaign's members, fetched once per table for the names in the
/// queue and the log and the GM panel's list.
#[derive(Clone, Copy)]
pub struct Members(pub Resource<Result<Vec<shared::membership::Member>, crate::AppError>>);

/// Fetches the members once (the query cache keeps them a few seconds
/// across pages), shares them, and keeps the display names.
fn load_names(table: Table) {
    use crate::storage::{QueryCache, Staleness};
    let cache = QueryCache::get();
    let session = table.session;
    let members = cache.resource(
        format!("session/{session}/members"),
        Staleness::Session,
        || 0,
        move || crate::session::session_members(session),
    );
    provide_context(Members(members));
    Effect::new(move |_| {
        if let Some(Ok(members)) = members.get() {
            table.names.set(
                members
                    .into_iter()
                    .map(|m| (m.user, m.display_name))
                    .collect(),
            );
        }
    });
}

fn link_name(link: Link) -> &'static str {
    match link {
        Link::Offline => "offline",
        Link::Joining => "joining",
        Link::Live => "live",
        Link::Ended => "ended",
    }
}

/// The GM's "end the session" button, which asks once more.
#[component]
fn EndSession() -> impl IntoView {
    let table = expect_context::<Table>();
    let asking = RwSignal::new(false);
    view! {
        <span class="end-session">
            <Show
                when=move || asking.get()
                fallback=move || view! {
                    <button type="button" class="small" on:click=move |_| asking.set(true) data-test="end-session">
                        "End the session…"
                    </button>
                }
            >
                <span role="group" aria-label="End the session for everyone?">
                    "End it for everyone? "
                    <button type="button" class="small reject" on:click=move |_| table.end_session() data-test="confirm-end-session">
                        "End the session"
                    </button>
                    <button type="button" class="small" on:click=move |_| asking.set(false)>"Keep playing"</button>
                </span>
            </Show>
        </span>
    }
    .into_any()
}

/// Live, reconnecting, or offline with what waits to be sent.
#[component]
fn ConnectionIndicator() -> impl IntoView {
    let table = expect_context::<Table>();
    let text = move || {
        let unsent = table.unsent.get();
        let waiting = table.waiting.with(BTreeMap::len);
        let mut text = match (table.link.get(), unsent) {
            (Link::Live, 0) => "Connected".to_owned(),
            (Link::Live, n) => format!("Connected, sending {n}"),
            (Link::Joining, _) => "Connecting…".to_owned(),
            (Link::Ended, _) => "Session ended".to_owned(),
            (Link::Offline, 0) => "Offline: reconnecting".to_owned(),
            (Link::Offline, 1) => {
                "Offline: 1 request will be sent when the table is back".to_owned()
            }
            (Link::Offline, n) => {
                format!("Offline: {n} requests will be sent when the table is back")
            }
        };
        match waiting {
            0 => {}
            1 => text.push_str(" · 1 request waits for the GM"),
            n => text.push_str(&format!(" · {n} requests wait for the GM")),
        }
        text
    };
    view! {
        <span
            class=move || format!("link link-{}", link_name(table.link.get()))
            role="status"
            aria-live="polite"
            data-test="connection"
        >
            {text}
        </span>
    }
    .into_any()
}

/// The toasts, newest last, announced to screen readers.
#[component]
fn Toasts() -> impl IntoView {
    let table = expect_context::<Table>();
    view! {
        <div class="toasts" role="status" aria-live="polite">
            <For each=move || table.toasts.get() key=|toast| toast.id let:toast>
                <div class=toast.tone.class() data-test="toast">
                    {toast.text}
                </div>
            </For>
        </div>
    }
    .into_any()
}
