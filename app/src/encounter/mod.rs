//! A campaign's encounters: the server functions that list, create and
//! change them and their tokens (the GM's encounter editor), the list on
//! the campaign page, and the editor's page; the editor itself is
//! [`editor`].

mod builder;
mod editor;

use editor::Editor;
pub(crate) use editor::typed_cell;

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use shared::{
    encounter::{EncounterSummary, MapSettings, NewToken},
    id::{CampaignId, EncounterId, MediaId, TokenId},
    token::Token,
};

use crate::AppError;

/// The encounters of a campaign, for its members.
#[server(endpoint = "encounters/list", input = Json)]
pub async fn list_encounters(campaign: CampaignId) -> Result<Vec<EncounterSummary>, AppError> {
    crate::backend::as_user(|backend, user| async move {
        backend.list_encounters(&user, campaign).await
    })
    .await
}

/// Creates an encounter on a map of the campaign (GM and assistant GMs).
#[server(endpoint = "encounters/create", input = Json)]
pub async fn create_encounter(
    campaign: CampaignId,
    name: String,
    map: MapSettings,
    image: Option<MediaId>,
) -> Result<EncounterId, AppError> {
    crate::backend::as_user(|backend, user| async move {
        backend
            .create_encounter(&user, campaign, name, map, image)
            .await
    })
    .await
}

/// Creates the sample encounter (a grid, three SRD goblins, one hidden,
/// and the campaign's characters), for a GM who wants a table on screen
/// now (GM and assistant GMs).
#[server(endpoint = "encounters/sample", input = Json)]
pub async fn create_sample_encounter(campaign: CampaignId) -> Result<EncounterId, AppError> {
    crate::backend::as_user(|backend, user| async move {
        backend.create_sample_encounter(&user, campaign).await
    })
    .await
}

/// Every token of an encounter, hidden ones included (GM and assistant GMs).
#[server(endpoint = "encounters/tokens", input = Json)]
pub async fn encounter_tokens(
    campaign: CampaignId,
    encounter: EncounterId,
) -> Result<Vec<Token>, AppError> {
    crate::backend::as_user(|backend, user| async move {
        backend.encounter_tokens(&user, campaign, encounter).await
    })
    .await
}

/// Places a token on an encounter (GM and assistant GMs).
#[server(endpoint = "encounters/place_token", input = Json)]
pub async fn place_token(
    campaign: CampaignId,
    encounter: EncounterId,
    token: NewToken,
) -> Result<TokenId, AppError> {
    crate::backend::as_user(|backend, user| async move {
        backend.place_token(&user, campaign, encounter, token).await
    })
    .await
}

/// Renames an encounter and changes its map: grid, offset, image (GM and
/// assistant GMs). A session already running keeps what it started from.
#[server(endpoint = "encounters/update", input = Json)]
pub async fn update_encounter(
    campaign: CampaignId,
    encounter: EncounterId,
    name: String,
    map: MapSettings,
) -> Result<(), AppError> {
    crate::backend::as_user(|backend, user| async move {
        backend
            .update_encounter(&user, campaign, encounter, name, map)
            .await
    })
    .await
}

/// Changes a placed token: label, actor, place, size, who sees it (GM and
/// assistant GMs).
#[server(endpoint = "encounters/update_token", input = Json)]
pub async fn update_token(
    campaign: CampaignId,
    encounter: EncounterId,
    token: TokenId,
    setup: NewToken,
) -> Result<(), AppError> {
    crate::backend::as_user(|backend, user| async move {
        backend
            .update_token(&user, campaign, encounter, token, setup)
            .await
    })
    .await
}

/// Takes a token off an encounter (GM and assistant GMs).
#[server(endpoint = "encounters/remove_token", input = Json)]
pub async fn remove_token(
    campaign: CampaignId,
    encounter: EncounterId,
    token: TokenId,
) -> Result<(), AppError> {
    crate::backend::as_user(|backend, user| async move {
        backend
            .remove_token(&user, campaign, encounter, token)
            .await
    })
    .await
}

/// The campaign's encounters; the GM creates one on a map.
#[component]
pub fn EncountersSection(campaign: CampaignId, gm: bool) -> impl IntoView {
    use crate::storage::{QueryCache, Staleness};
    use leptos_router::components::A;
    let cache = QueryCache::get();
    let created = RwSignal::new(0u32);
    let encounters = cache.resource(
        QueryCache::key(campaign, "encounters"),
        Staleness::Campaign,
        move || created.get(),
        move || list_encounters(campaign),
    );
    let name = RwSignal::new(String::new());
    let grid = RwSignal::new("70".to_owned());
    let image = RwSignal::new(String::new());
    let create = Action::new(
        move |(name, grid, image): &(String, f64, Option<MediaId>)| {
            let (name, grid, image) = (name.clone(), *grid, *image);
            async move {
                let map = MapSettings {
                    grid_size: grid,
                    ..MapSettings::default()
                };
                let made = create_encounter(campaign, name, map, image).await;
                if made.is_ok() {
                    cache.invalidate(&QueryCache::key(campaign, "encounters"));
                    created.update(|n| *n += 1);
                }
                made
            }
        },
    );
    let submit = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        let grid = grid.get_untracked().trim().parse::<f64>().unwrap_or(70.0);
        let image = image
            .get_untracked()
            .parse::<uuid::Uuid>()
            .ok()
            .map(MediaId);
        create.dispatch((name.get_untracked(), grid, image));
    };
    view! {
        <section class="card encounters" aria-labelledby="encounters-heading">
            <h2 id="encounters-heading">"Encounters"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading encounters…"</p> }>
                {move || Suspend::new(async move {
                    match encounters.await {
                        Ok(list) if list.is_empty() && gm => view! { <SampleOffer campaign /> }.into_any(),
                        Ok(list) if list.is_empty() => view! { <p class="muted">"No encounter yet: the GM prepares them."</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="encounter-list">
                                {list.into_iter().map(|e| view! {
                                    <li>
                                        {if gm {
                                            view! { <A href=format!("/campaigns/{campaign}/encounters/{}", e.id)>{e.name.clone()}</A> }.into_any()
                                        } else {
                                            view! { <span>{e.name.clone()}</span> }.into_any()
                                        }}
                                        <span class="muted">{format!(" · {} tokens · {} {} px", e.tokens, if e.map.grid.is_hex() { "hexagons" } else { "grid" }, e.map.grid_size)}</span>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(error) => view! { <p role="alert" class="error">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            <Show when=move || gm>
                <form class="create-encounter" on:submit=submit>
                    <h3>"New encounter"</h3>
                    <label>"Name " <input type="text" bind:value=name placeholder="Goblin ambush" /></label>
                    <label>"Grid (px per cell) " <input type="number" min="10" max="400" bind:value=grid /></label>
                    <label>"Map image "
                        <select bind:value=image>
                            <option value="">"None"</option>
                            <crate::media::ImageOptions campaign />
                        </select>
                    </label>
                    <button type="submit" disabled=move || create.pending().get()>"Create encounter"</button>
                    {move || create.value().get().and_then(Result::err).map(|e| view! { <p role="alert" class="error">{e.to_string()}</p> })}
                </form>
            </Show>
        </section>
    }
    .into_any()
}

/// A new GM's empty campaign: what to do next, and a sample encounter to
/// play at once (created, then a session started on it and the table
/// opened).
#[component]
fn SampleOffer(campaign: CampaignId) -> impl IntoView {
    use crate::storage::QueryCache;
    let cache = QueryCache::get();
    let navigate = leptos_router::hooks::use_navigate();
    let play = Action::new(move |()| async move {
        let encounter = create_sample_encounter(campaign).await?;
        cache.invalidate(&QueryCache::key(campaign, "encounters"));
        crate::play::start_session(campaign, encounter).await
    });
    Effect::new(move |_| {
        if let Some(Ok(session)) = play.value().get() {
            cache.invalidate(&QueryCache::key(campaign, "sessions"));
            navigate(&format!("/sessions/{session}"), Default::default());
        }
    });
    view! {
        <div class="empty-state" data-test="no-encounters">
            <p>"No encounter yet. Create one below on a map you upload, or try the table now with a sample: a grid, three goblins from the SRD (one hidden in ambush) and your party's characters."</p>
            <button type="button" data-test="sample-encounter" disabled=move || play.pending().get()
                on:click=move |_| { play.dispatch(()); }>
                {move || if play.pending().get() { "Setting the table…" } else { "Play a sample encounter" }}
            </button>
            {move || play.value().get().and_then(Result::err).map(|e| view! { <p role="alert" class="error">{e.to_string()}</p> })}
        </div>
    }
    .into_any()
}

/// `/campaigns/:id/encounters/:encounter`: the GM's encounter editor: the
/// map (name, grid, offset, feet per cell, image) with a preview, tokens
/// placed from the campaign's actors on the cell clicked in the preview,
/// and every placed token moved, resized, shown or hidden, or removed.
/// What it changes is what the next session starts from.
#[component]
pub fn EncounterEditorPage() -> impl IntoView {
    use crate::storage::{QueryCache, Staleness};
    use leptos_router::components::A;
    let params = leptos_router::hooks::use_params_map();
    let ids = move || {
        let read = params.read();
        let campaign = read.get("id")?.parse::<uuid::Uuid>().ok()?;
        let encounter = read.get("encounter")?.parse::<uuid::Uuid>().ok()?;
        Some((CampaignId(campaign), EncounterId(encounter)))
    };
    let cache = QueryCache::get();
    let changed = RwSignal::new(0u32);
    // Outlives the editor, which is drawn again after every change.
    let saved = RwSignal::new(false);
    let summary = Resource::new(
        move || (ids(), changed.get()),
        move |(ids, _)| async move {
            let (campaign, encounter) = ids.ok_or(AppError::Forbidden)?;
            let all = cache
                .fetch(
                    QueryCache::key(campaign, "encounters"),
                    Staleness::Campaign,
                    list_encounters(campaign),
                )
                .await?;
            all.into_iter()
                .find(|e| e.id == encounter)
                .ok_or(AppError::Forbidden)
        },
    );
    let tokens = Resource::new(
        move || (ids(), changed.get()),
        |(ids, _)| async move {
            let (campaign, encounter) = ids.ok_or(AppError::Forbidden)?;
            encounter_tokens(campaign, encounter).await
        },
    );
    view! {
        <leptos_meta::Title text="Encounter editor" />
        {move || ids().map(|(campaign, _)| view! {
            <p><A href=format!("/campaigns/{campaign}")>"← Campaign"</A></p>
        })}
        <h1>"Encounter editor"</h1>
        <Suspense fallback=|| view! { <p class="muted">"Loading the encounter…"</p> }>
            {move || Suspend::new(async move {
                let (Some((campaign, _)), Ok(summary), Ok(tokens)) = (ids(), summary.await, tokens.await) else {
                    return view! { <p role="alert" class="error">"This encounter cannot be opened."</p> }.into_any();
                };
                view! { <Editor campaign summary tokens changed saved /> }.into_any()
            })}
        </Suspense>
        {move || ids().map(|(campaign, encounter)| view! {
            <builder::EncounterBuilder campaign encounter changed />
        })}
    }
    .into_any()
}
