//! The session page: the route, the table's layout (map, GM panel,
//! sidebar), the connection indicator and the end-of-session control.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use shared::{
    client::{Client, Link},
    id::SessionId,
};

use super::{Table, describe, handout, map, panel, sheet, sidebar, toast::Toasts};

/// `/sessions/:id`: the live table.
#[component]
pub fn SessionPage() -> impl IntoView {
    for_session(|session| view! { <LiveTable session /> }.into_any())
}

/// The page of the session the route's `:id` names, or why there is none.
pub(super) fn for_session(
    page: impl Fn(SessionId) -> AnyView + Send + Sync + 'static,
) -> impl IntoView {
    let params = use_params_map();
    let session = move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<uuid::Uuid>().ok())
            .map(SessionId)
    };
    move || match session() {
        Some(session) => page(session),
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
    let members = load_names(table);
    // A visitor who may not sit at this table (logged out, not a member,
    // or the session is gone) is told so, and no socket is opened for them
    // to retry forever. Effects run after hydration, so the server's HTML
    // and the first client render agree.
    let refused = RwSignal::new(None::<crate::AppError>);
    Effect::new(move |_| {
        if let Some(Err(error @ (crate::AppError::Unauthorized | crate::AppError::Forbidden))) =
            members.get()
        {
            refused.set(Some(error));
        }
    });
    #[cfg(feature = "hydrate")]
    Effect::new(move |started: Option<bool>| {
        if started == Some(true) {
            return true;
        }
        match members.get() {
            None | Some(Err(crate::AppError::Unauthorized | crate::AppError::Forbidden)) => false,
            Some(_) => {
                // What this tab asked before a reload and the server may
                // not have answered: shown again once the table loads, sent
                // with the same ids (the server applies each once).
                if let Some(kept) = crate::storage::session_get::<
                    Vec<shared::protocol::ActionRequest>,
                >(&super::outbox_key(session))
                {
                    table.client.update_value(|c| {
                        c.adopt(kept);
                    });
                }
                super::socket::run(table);
                true
            }
        }
    });
    let prefs = crate::storage::use_prefs();

    view! {
        <Title text="Table" />
        {move || refused.get().map(|error| {
            let (what, login) = match error {
                crate::AppError::Unauthorized => ("Log in to sit at this table.", true),
                _ => ("You are not at this table: it is not a session of a campaign you are in, or it has ended.", false),
            };
            view! {
                <div class="card refused" role="alert" data-test="table-refused">
                    <p><strong>{what}</strong></p>
                    <p>
                        {login.then(|| view! { <leptos_router::components::A href="/login">"Log in"</leptos_router::components::A>" · " })}
                        <leptos_router::components::A href="/">"Your campaigns"</leptos_router::components::A>
                    </p>
                </div>
            }
        })}
        <div class="table-page" data-link=move || link_name(table.link.get()) hidden=move || refused.get().is_some()>
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
                {move || {
                    // Read again on each welcome: `me` changes with it.
                    table.me.get()?;
                    let hash = table.client.with_value(Client::dice_commitment)?.to_string();
                    Some(view! {
                        <span class="dice-seal" data-test="dice-seal"
                            title=format!("This session's dice come from a secret seed whose SHA-256 hash is {hash}. It is revealed when the session ends: then every roll can be checked on the campaign page, under Fair dice.")>
                            {format!("\u{1f3b2} Dice sealed {}\u{2026}", &hash[..hash.len().min(8)])}
                        </span>
                    })
                }}
                <button type="button" class="small tools-toggle" data-test="tools-toggle"
                    aria-pressed=move || prefs.with(|p| p.tools_hidden).to_string()
                    title="Put the tools away and give the map the whole width, or bring them back"
                    on:click=move |_| crate::storage::update_prefs(prefs, |p| p.tools_hidden = !p.tools_hidden)>
                    {move || if prefs.with(|p| p.tools_hidden) { "\u{25e7} Show tools" } else { "\u{25e8} Hide tools" }}
                </button>
                <Show when=move || table.is_gm_or_assistant() && table.link.get() == Link::Live>
                    <UndoButtons />
                    <a href=format!("/sessions/{}/replay", table.session) target="_blank" rel="noopener"
                        class="small" data-test="replay-link" title="Scrub through the evening so far, in a new tab">
                        "Replay"
                    </a>
                    <MoveTable />
                    <EndSession />
                </Show>
            </header>
            <Show when=move || table.link.get() == Link::Ended>
                <div class="ended card" role="alert" data-test="session-ended">
                    {move || match table.moved_to() {
                        Some(next) => view! {
                            <strong>"The GM moved the table to another encounter."</strong>
                            " What happened here is kept in the campaign. "
                            <a href=format!("/sessions/{next}") data-test="follow-table">"Go to the table"</a>
                        }.into_any(),
                        None => view! {
                            <strong>"The GM ended this session."</strong>
                            " What the table did is kept in the campaign: where the tokens stand, the fog, the turn order and hit points. "
                            "Its dice can now be checked on the campaign page, under Fair dice. "
                            <a href=format!("/sessions/{}/replay", table.session) data-test="replay-link">"Replay the evening"</a>
                            " \u{b7} "
                            <leptos_router::components::A href="/">"Back to your campaigns"</leptos_router::components::A>
                        }.into_any(),
                    }}
                </div>
            </Show>
            <div class=move || prefs.with(|p| match (p.side, p.tools_hidden) {
                (_, true) => "table-layout tools-hidden",
                (crate::storage::Side::Right, false) => "table-layout",
                (crate::storage::Side::Left, false) => "table-layout side-left",
            })>
                <map::BattleMap />
                <aside class="table-side" aria-label="Table tools">
                    <Show when=move || table.is_gm_or_assistant()>
                        <panel::GmPanel />
                    </Show>
                    <sidebar::Initiative />
                    <sidebar::Log />
                    <handout::Handouts />
                    <sidebar::SelectedToken />
                    <Show when=move || table.is_gm_or_assistant()>
                        <super::place::PlaceOnMap />
                    </Show>
                    <sheet::TableSheet />
                </aside>
            </div>
            <handout::HandoutViewer />
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
pub(super) fn load_names(
    table: Table,
) -> Resource<Result<Vec<shared::membership::Member>, crate::AppError>> {
    use crate::storage::{QueryCache, Staleness};
    let cache = QueryCache::get();
    let session = table.session;
    let members = cache.resource(
        format!("session/{session}/members"),
        Staleness::Session,
        || 0,
        move || crate::play::session_members(session),
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
    members
}

fn link_name(link: Link) -> &'static str {
    match link {
        Link::Offline => "offline",
        Link::Joining => "joining",
        Link::Live => "live",
        Link::Ended => "ended",
    }
}

/// The GM's "move the table" control: the campaign's other encounters,
/// and one click moves every browser there without ending the evening.
#[component]
fn MoveTable() -> impl IntoView {
    let table = expect_context::<Table>();
    let asking = RwSignal::new(false);
    let picked = RwSignal::new(String::new());
    let session = table.session;
    // Fetched when the GM opens the control, so a table nobody moves
    // costs nothing, and an encounter made since is listed.
    let encounters = LocalResource::new(move || {
        let open = asking.get();
        async move {
            if open {
                Some(crate::play::session_encounters(session).await)
            } else {
                None
            }
        }
    });
    let go = move |_| match picked.get_untracked().parse::<uuid::Uuid>() {
        Ok(id) => table.move_table(shared::id::EncounterId(id)),
        Err(_) => table.toast(super::Tone::Bad, "Pick the encounter to move to".into()),
    };
    view! {
        <span class="move-table">
            <Show
                when=move || asking.get()
                fallback=move || view! {
                    <button type="button" class="small" data-test="move-table"
                        title="Take everyone to another encounter of the campaign; this one is kept as it stands"
                        on:click=move |_| asking.set(true)>
                        "\u{21e2} Move the table…"
                    </button>
                }
            >
                <span role="group" aria-label="Move the table to another encounter">
                    <label>
                        "To "
                        <select data-test="move-table-to" on:change=move |e| picked.set(event_target_value(&e))>
                            <option value="">"Pick an encounter…"</option>
                            {move || {
                                let here = table.encounter();
                                match encounters.get() {
                                    Some(Some(Ok(list))) => list
                                        .into_iter()
                                        .filter(|e| Some(e.id) != here)
                                        .map(|e| view! { <option value=e.id.to_string()>{e.name}</option> })
                                        .collect_view()
                                        .into_any(),
                                    Some(Some(Err(error))) => view! { <option value="" disabled=true>{error.to_string()}</option> }.into_any(),
                                    _ => view! { <option value="" disabled=true>"Loading…"</option> }.into_any(),
                                }
                            }}
                        </select>
                    </label>
                    " "
                    <button type="button" class="small" data-test="confirm-move-table" on:click=go>
                        "Move everyone"
                    </button>
                    <button type="button" class="small" on:click=move |_| asking.set(false)>"Stay"</button>
                </span>
            </Show>
        </span>
    }
    .into_any()
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

/// The GM's undo and redo: buttons in the table bar, and Ctrl+Z and
/// Ctrl+Shift+Z (⌘ on a Mac) anywhere on the table but in a text field.
#[component]
fn UndoButtons() -> impl IntoView {
    let table = expect_context::<Table>();
    let keys = window_event_listener(leptos::ev::keydown, move |e| {
        if (e.ctrl_key() || e.meta_key()) && e.key().eq_ignore_ascii_case("z") && !typing(&e) {
            e.prevent_default();
            table.undo(e.shift_key());
        }
    });
    on_cleanup(move || keys.remove());
    let button = move |redo: bool| {
        let (test, title, label) = if redo {
            (
                "redo",
                "Put back what you took back (Ctrl+Shift+Z)",
                "\u{21b7} Redo",
            )
        } else {
            (
                "undo",
                "Take back your latest change, for everyone (Ctrl+Z)",
                "\u{21b6} Undo",
            )
        };
        let enabled = move || {
            let (can_undo, can_redo) = table.can_undo.get();
            if redo { can_redo } else { can_undo }
        };
        view! {
            <button type="button" class="small" data-test=test title=title
                disabled=move || !enabled()
                on:click=move |_| table.undo(redo)>
                {label}
            </button>
        }
    };
    view! { {button(false)} {button(true)} }
}

/// Whether a key goes to a text field (where Ctrl+Z is the field's own).
fn typing(e: &leptos::ev::KeyboardEvent) -> bool {
    use wasm_bindgen::JsCast;
    e.target()
        .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|element| {
            matches!(element.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
        })
}
