//! The tabletop's user interface, rendered on the server and hydrated in the
//! browser, and the server functions it calls.
//!
//! Only this crate has the `ssr` and `hydrate` features: `server` turns on
//! `ssr`, `frontend` turns on `hydrate`.
//!
//! # Layout
//! - [`account`]: sign-up, log-in and log-out pages, their server
//!   functions, and the login cookie.
//! - [`campaign`]: the campaign list page and its server functions.
//! - [`compendium`]: compendium search.
//! - [`membership`]: members, invitations and roles.
//! - [`content`]: a campaign's actors, items and inventories.
//! - [`sheet`]: an actor's sheet and inventory.
//! - [`preferences`]: the preferences page (theme, map keys, layout).
//! - [`storage`]: what the browser keeps: preferences, per-tab data, the
//!   compendium in IndexedDB, and the query cache.
//! - [`virtual_list`]: a list that renders only the rows in view.
//! - [`settle`]: acting on a value once it stops changing.
//! - [`media`]: the media list (uploads stream through the server's
//!   `/api/campaigns/{id}/media` endpoint).
//! - [`encounter`]: encounters and their tokens, the GM's encounter editor.
//! - [`play`]: a campaign's sessions: join the table, start one.
//! - [`table`]: the live session page: battle map, GM panel, initiative,
//!   chat and dice, over the session's WebSocket.
//! - [`error`]: [`AppError`], the one error type that crosses to the browser.
//! - `backend` (`ssr` only): the [`Backend`] port through which server
//!   functions reach storage. The `server` crate implements it, which keeps
//!   database code out of this crate and out of the wasm bundle.

// The hydrated pages nest deeply (a page of sections, each a `Show` of a
// `For` of elements), and the release build of the wasm computes the
// layout of their hydration futures past the default depth of 128.
#![recursion_limit = "256"]

pub mod account;
pub mod campaign;
pub mod character;
pub mod compendium;
pub mod content;
pub mod debounce;
pub mod encounter;
pub mod error;
pub mod fair;
pub mod media;
pub mod membership;
pub mod play;
pub mod preferences;
pub mod sheet;
pub mod storage;
pub mod table;
pub mod tools;
pub mod virtual_list;

#[cfg(feature = "ssr")]
mod backend;

#[cfg(feature = "ssr")]
pub use backend::Backend;
pub use error::AppError;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    StaticSegment,
    components::{A, Route, Router, Routes},
    path,
};

/// The HTML document around the app, rendered once per page load on the
/// server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <script>{storage::THEME_SCRIPT}</script>
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The application: routes and the frame around every page.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // One preferences signal and one query cache for every page.
    let prefs = storage::use_prefs();
    provide_context(storage::QueryCache::default());
    Effect::new(move |_| {
        let kept = storage::Prefs::load();
        kept.apply();
        prefs.set(kept);
    });

    view! {
        <Stylesheet id="leptos" href="/pkg/tabletop.css" />
        <Title formatter=|page: String| format!("{page} · Tabletop") />
        <Router>
            <header class="site-header">
                <A href="/" attr:class="brand">
                    "Tabletop"
                </A>
                <nav class="site-nav" aria-label="Main">
                    <A href="/">"Campaigns"</A>
                    <A href="/compendium">"Compendium"</A>
                    <A href="/preferences">"Preferences"</A>
                </nav>
                <ThemeToggle />
                <account::AccountMenu />
            </header>
            <main>
                <Routes fallback=NotFound>
                    <Route path=StaticSegment("") view=campaign::CampaignsPage />
                    <Route path=StaticSegment("login") view=account::LoginPage />
                    <Route path=StaticSegment("signup") view=account::SignupPage />
                    <Route path=StaticSegment("account") view=account::AccountPage />
                    <Route path=path!("/sessions/:id") view=table::SessionPage />
                    <Route path=path!("/sessions/:id/replay") view=table::ReplayPage />
                    <Route path=path!("/campaigns/:id") view=campaign::CampaignPage />
                    <Route path=path!("/campaigns/:id/actors/:actor") view=sheet::ActorSheetPage />
                    <Route path=path!("/campaigns/:id/characters/new") view=character::NewCharacterPage />
                    <Route path=path!("/campaigns/:id/encounters/:encounter") view=encounter::EncounterEditorPage />
                    <Route path=path!("/compendium") view=compendium::CompendiumPage />
                    <Route path=path!("/join/:token") view=membership::JoinPage />
                    <Route path=StaticSegment("preferences") view=preferences::PreferencesPage />
                    <Route path=path!("/bench/map") view=table::bench::MapBenchPage />
                </Routes>
            </main>
        </Router>
    }
}

/// Light, dark, or as the system says; kept on this device.
#[component]
fn ThemeToggle() -> impl IntoView {
    let prefs = storage::use_prefs();
    let change = move |e: leptos::ev::Event| {
        let chosen = event_target_value(&e);
        storage::update_prefs(prefs, |p| p.theme = chosen);
    };
    view! {
        <label class="theme">
            <span class="visually-hidden">"Theme"</span>
            <select on:change=change prop:value=move || prefs.with(|p| p.theme.clone()) aria-label="Theme">
                <option value="system">"System theme"</option>
                <option value="light">"Light"</option>
                <option value="dark">"Dark"</option>
            </select>
        </label>
    }
}

/// Shown for any path no route matches.
#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found" />
        <h1>"Page not found"</h1>
        <p>
            <A href="/">"Back to your campaigns"</A>
        </p>
    }
}
