//! The campaign's tools: search across its actors, media and compendium;
//! its numbers and its export (the GM's); importing a campaign document;
//! the encounter builder's suggestions for the party.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use shared::{
    encounter::LogKind,
    id::CampaignId,
    report::{CampaignAnalytics, ChatLine, HitKind, SearchHit, Suggestion},
};

use crate::AppError;

/// The longest search text, in characters.
pub const MAX_SEARCH_CHARS: usize = 200;

/// Searches the campaign's actors and media and its game system's
/// compendium at once, as the caller may see them (members).
#[server(endpoint = "campaigns/search", input = Json)]
pub async fn search_campaign(
    campaign: CampaignId,
    text: String,
) -> Result<Vec<SearchHit>, AppError> {
    crate::backend::as_user(|backend, user| async move {
        backend.campaign_search(&user, campaign, text).await
    })
    .await
}

/// The chat and dice of the campaign's sessions, newest first, a page
/// before the line `before` (every member).
#[server(endpoint = "campaigns/chat", input = Json)]
pub async fn chat_history(
    campaign: CampaignId,
    before: Option<i64>,
) -> Result<Vec<ChatLine>, AppError> {
    crate::backend::as_user(|backend, user| async move {
        backend.chat_history(&user, campaign, before).await
    })
    .await
}

/// The chat and dice of past sessions, kept with the campaign: a page at a
/// time, loaded when asked for (it can be long).
#[component]
pub fn ChatHistory(campaign: CampaignId) -> impl IntoView {
    let lines = RwSignal::new(Vec::<ChatLine>::new());
    let more = RwSignal::new(true);
    let load = Action::new(move |before: &Option<i64>| {
        let before = *before;
        async move {
            let page = chat_history(campaign, before).await?;
            // A page holds whole commits, so it may hold more lines than that.
            more.set(page.len() >= shared::report::CHAT_PAGE);
            lines.update(|all| all.extend(page));
            Ok::<_, AppError>(())
        }
    });
    let older = move |_| {
        let before = lines.with_untracked(|all| all.last().map(|l| l.id));
        load.dispatch(before);
    };
    view! {
        <section class="card chat-history" aria-labelledby="chat-history-heading" data-test="chat-history">
            <h2 id="chat-history-heading">"Chat and dice of past sessions"</h2>
            <Show
                when=move || { load.version().get() > 0 }
                fallback=move || view! {
                    <button type="button" data-test="show-chat" on:click=older>"Show the chat"</button>
                }
            >
                {move || match load.value().get() {
                    Some(Err(error)) => Some(view! { <p role="alert" class="error">{error.to_string()}</p> }.into_any()),
                    _ => None,
                }}
                {move || (lines.with(Vec::is_empty) && load.value().with(|v| matches!(v, Some(Ok(()))))).then(|| view! {
                    <p class="muted">"Nothing said yet: the chat and rolls of each session are kept here."</p>
                })}
                <ol class="history-lines" data-test="chat-lines">
                    // Keyed by place: lines are only ever added at the end,
                    // and the lines of one commit share its id.
                    <For each=move || lines.get().into_iter().enumerate() key=|(n, _)| *n let:entry>
                        {
                            let (_, line) = entry;
                            view! {
                                <li class=format!("log-{}{}", match line.kind {
                                    LogKind::Chat => "chat",
                                    LogKind::Roll => "roll",
                                    LogKind::Event => "event",
                                    LogKind::Handout => "handout",
                                }, if line.private { " private" } else { "" })>
                                    <span class="muted">{format!("{} ", line.at)}</span>
                                    {line.by.map(|by| view! { <strong>{format!("{by}: ")}</strong> })}
                                    {line.private.then(|| view! { <em class="private-mark">"(private) "</em> })}
                                    {line.text}
                                </li>
                            }
                        }
                    </For>
                </ol>
                <Show when=move || more.get() && !lines.with(Vec::is_empty)>
                    <button type="button" class="small" data-test="older-chat" on:click=older>"Older lines"</button>
                </Show>
            </Show>
        </section>
    }
}

/// The campaign's content in numbers (GM and assistant GMs).
#[server(endpoint = "campaigns/stats", input = Json)]
pub async fn campaign_stats(campaign: CampaignId) -> Result<CampaignAnalytics, AppError> {
    crate::backend::as_user(
        |backend, user| async move { backend.campaign_stats(&user, campaign).await },
    )
    .await
}

/// Monsters for the party's level, with difficulty and loot (GM and
/// assistant GMs).
#[server(endpoint = "encounters/builder", input = Json)]
pub async fn encounter_suggestions(campaign: CampaignId) -> Result<Vec<Suggestion>, AppError> {
    crate::backend::as_user(|backend, user| async move {
        backend.encounter_suggestions(&user, campaign).await
    })
    .await
}

/// Search across the campaign, for every member.
#[component]
pub fn CampaignSearch(campaign: CampaignId) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let search = Action::new(move |text: &String| search_campaign(campaign, text.clone()));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = text.get_untracked().trim().to_owned();
        if !text.is_empty() {
            search.dispatch(text);
        }
    };
    let hit = move |hit: SearchHit| {
        let (kind, href) = match hit.kind {
            HitKind::Actor => (
                "Actor",
                Some(format!("/campaigns/{campaign}/actors/{}", hit.id)),
            ),
            HitKind::Media => ("File", Some(format!("/media/{}", hit.id))),
            HitKind::Compendium => ("Compendium", None),
        };
        let subtitle = hit.subtitle.clone().unwrap_or_default().replace('_', " ");
        view! {
            <li>
                <span class="chip">{kind}</span>
                {match href {
                    Some(href) => view! { <a href=href>{hit.name.clone()}</a> }.into_any(),
                    None => view! { <strong>{hit.name.clone()}</strong> }.into_any(),
                }}
                <span class="muted">{subtitle}</span>
            </li>
        }
    };
    view! {
        <section class="card" aria-labelledby="search-heading" data-test="campaign-search">
            <h2 id="search-heading">"Search the campaign"</h2>
            <form class="inline-form" on:submit=submit role="search">
                <label>"Find " <input type="search" bind:value=text maxlength=MAX_SEARCH_CHARS placeholder="dragon" data-test="campaign-search-text" /></label>
                <button type="submit" disabled=move || search.pending().get()>"Search"</button>
            </form>
            {move || search.value().get().map(|answer| match answer {
                Ok(hits) if hits.is_empty() => view! { <p class="muted">"Nothing found."</p> }.into_any(),
                Ok(hits) => view! {
                    <ul class="search-hits" data-test="search-hits">{hits.into_iter().map(hit).collect_view()}</ul>
                }.into_any(),
                Err(error) => view! { <p role="alert" class="error">{error.to_string()}</p> }.into_any(),
            })}
        </section>
    }
    .into_any()
}

/// The campaign's numbers and its export, for the GM.
#[component]
pub fn CampaignNumbers(campaign: CampaignId) -> impl IntoView {
    let stats = Resource::new(|| (), move |()| campaign_stats(campaign));
    let number = |label: &'static str, value: i64| {
        view! { <div><dt>{label}</dt><dd>{value}</dd></div> }
    };
    view! {
        <section class="card" aria-labelledby="numbers-heading" data-test="campaign-numbers">
            <h2 id="numbers-heading">"The campaign in numbers"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Counting…"</p> }>
                {move || Suspend::new(async move {
                    match stats.await {
                        Ok(s) => view! {
                            <dl class="numbers">
                                {number("Characters", s.characters)}
                                {number("NPCs", s.npcs)}
                                {number("Monsters", s.monsters)}
                                {number("Items", s.items)}
                                {number("Encounters", s.encounters)}
                                {number("Files", s.media_files)}
                                <div><dt>"Stored"</dt><dd>{format!("{:.1} MB", s.media_bytes as f64 / 1_000_000.0)}</dd></div>
                            </dl>
                        }.into_any(),
                        Err(error) => view! { <p role="alert" class="error">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <p>
                <a class="button" href=format!("/api/campaigns/{campaign}/export") download data-test="export-campaign">
                    "Export the campaign (JSON)"
                </a>
                <span class="muted">" Actors, items, encounters, files' records and sessions; import it on the campaigns page."</span>
            </p>
        </section>
    }
    .into_any()
}

/// Importing a campaign document: the caller becomes its GM.
#[component]
pub fn ImportCampaign() -> impl IntoView {
    let input = NodeRef::<leptos::html::Input>::new();
    let progress = RwSignal::new(None::<f64>);
    let outcome = RwSignal::new(None::<Result<CampaignId, String>>);
    let start = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let Some(file) = crate::media::upload::chosen(input) else {
                outcome.set(Some(Err("choose a campaign file first".into())));
                return;
            };
            progress.set(Some(0.0));
            outcome.set(None);
            crate::media::upload::send(
                "/api/campaigns/import".into(),
                file,
                progress,
                move |done: Result<CampaignId, String>| {
                    progress.set(None);
                    if done.is_ok() {
                        crate::storage::QueryCache::get()
                            .invalidate(crate::campaign::CAMPAIGNS_KEY);
                    }
                    outcome.set(Some(done));
                },
            );
        }
        let _ = input;
    };
    view! {
        <section class="card" aria-labelledby="import-heading" data-test="import-campaign">
            <h2 id="import-heading">"Import a campaign"</h2>
            <p class="muted">"A file exported from a campaign's page. You become its GM."</p>
            <div class="inline-form">
                <input type="file" accept="application/json,.json" node_ref=input aria-label="Campaign file" data-test="import-file" />
                <button type="button" on:click=start disabled=move || progress.get().is_some()>"Import"</button>
            </div>
            {move || progress.get().map(|p| view! {
                <progress max="1" value=p aria-label="Import progress"></progress>
            })}
            {move || outcome.get().map(|done| match done {
                Ok(id) => view! {
                    <p role="status" data-test="imported">"Imported. "<a href=format!("/campaigns/{id}")>"Open the campaign"</a></p>
                }.into_any(),
                Err(error) => view! { <p role="alert" class="error" data-test="import-error">{error}</p> }.into_any(),
            })}
        </section>
    }
    .into_any()
}
