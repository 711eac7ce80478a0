//! Server functions for encounters and live sessions: list and create
//! encounters, place tokens (the GM's encounter editor), start a session,
//! and who sits at a session's table.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use shared::{
    campaign::SessionSummary,
    encounter::{EncounterSummary, MapSettings, NewToken},
    id::{CampaignId, EncounterId, MediaId, SessionId, TokenId},
    membership::Member,
    token::Token,
};

use crate::AppError;

/// A campaign and the caller's role in it, for its members.
#[server(endpoint = "campaigns/overview", input = Json)]
pub async fn campaign_overview(
    campaign: CampaignId,
) -> Result<shared::campaign::CampaignOverview, AppError> {
    crate::backend::answer(async move {
        let (backend, user) = crate::account::session::require_user().await?;
        backend.campaign_overview(&user, campaign).await
    })
    .await
}

/// The encounters of a campaign, for its members.
#[server(endpoint = "encounters/list", input = Json)]
pub async fn list_encounters(campaign: CampaignId) -> Result<Vec<EncounterSummary>, AppError> {
    crate::backend::answer(async move {
        let (backend, user) = crate::account::session::require_user().await?;
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
    crate::backend::answer(async move {
        let (backend, user) = crate::account::session::require_user().await?;
        backend
            .create_encounter(&user, campaign, name, map, image)
            .await
    })
    .await
}

/// Every token of an encounter, hidden ones included (GM and assistant GMs).
#[server(endpoint = "encounters/tokens", input = Json)]
pub async fn encounter_tokens(
    campaign: CampaignId,
    encounter: EncounterId,
) -> Result<Vec<Token>, AppError> {
    crate::backend::answer(async move {
        let (backend, user) = crate::account::session::require_user().await?;
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
    crate::backend::answer(async move {
        let (backend, user) = crate::account::session::require_user().await?;
        backend.place_token(&user, campaign, encounter, token).await
    })
    .await
}

/// The sessions of a campaign still being played, newest first.
#[server(endpoint = "sessions/list", input = Json)]
pub async fn list_sessions(campaign: CampaignId) -> Result<Vec<SessionSummary>, AppError> {
    crate::backend::answer(async move {
        let (backend, user) = crate::account::session::require_user().await?;
        backend.list_sessions(&user, campaign).await
    })
    .await
}

/// Starts a live session on an encounter (GM and assistant GMs).
#[server(endpoint = "sessions/start", input = Json)]
pub async fn start_session(
    campaign: CampaignId,
    encounter: EncounterId,
) -> Result<SessionId, AppError> {
    crate::backend::answer(async move {
        let (backend, user) = crate::account::session::require_user().await?;
        backend.start_session(&user, campaign, encounter).await
    })
    .await
}

/// The members of a session's campaign, for those at its table.
#[server(endpoint = "sessions/members", input = Json)]
pub async fn session_members(session: SessionId) -> Result<Vec<Member>, AppError> {
    crate::backend::answer(async move {
        let (backend, user) = crate::account::session::require_user().await?;
        backend.session_members(&user, session).await
    })
    .await
}

/// The campaign's live sessions (join the table), and for the GM, a
/// session started on an encounter.
#[component]
pub fn PlaySection(campaign: CampaignId, gm: bool) -> impl IntoView {
    use leptos_router::components::A;
    let started = RwSignal::new(0u32);
    let sessions = Resource::new(move || started.get(), move |_| list_sessions(campaign));
    let encounters = Resource::new(|| (), move |_| list_encounters(campaign));
    let chosen = RwSignal::new(String::new());
    let navigate = leptos_router::hooks::use_navigate();
    let start = Action::new(move |encounter: &EncounterId| start_session(campaign, *encounter));
    Effect::new(move |_| {
        if let Some(Ok(session)) = start.value().get() {
            started.update(|n| *n += 1);
            navigate(&format!("/sessions/{session}"), Default::default());
        }
    });
    view! {
        <section class="card play" aria-labelledby="play-heading">
            <h2 id="play-heading">"Play"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading sessions…"</p> }>
                {move || Suspend::new(async move {
                    match sessions.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted">"No session is running."</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="session-list">
                                {list.into_iter().map(|s| view! {
                                    <li>
                                        <A href=format!("/sessions/{}", s.id) attr:data-test="join-session">"Join the table"</A>
                                        <span class="muted">{format!(" · {} changes so far", s.version)}</span>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(error) => view! { <p role="alert" class="error">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            <Show when=move || gm>
                <div class="start-session">
                    <label for="start-encounter">"Encounter "</label>
                    <select id="start-encounter" bind:value=chosen>
                        <option value="">"Choose"</option>
                        <Suspense fallback=|| ()>
                            {move || Suspend::new(async move {
                                encounters.await.unwrap_or_default().into_iter().map(|e| view! {
                                    <option value=e.id.to_string()>{e.name}</option>
                                }).collect_view()
                            })}
                        </Suspense>
                    </select>
                    <button
                        type="button"
                        on:click=move |_| {
                            if let Ok(id) = chosen.get_untracked().parse::<uuid::Uuid>() {
                                start.dispatch(EncounterId(id));
                            }
                        }
                        disabled=move || chosen.get().is_empty() || start.pending().get()
                    >
                        "Start a session"
                    </button>
                    {move || start.value().get().and_then(Result::err).map(|e| view! { <p role="alert" class="error">{e.to_string()}</p> })}
                </div>
            </Show>
        </section>
    }
    .into_any()
}

/// The campaign's encounters; the GM creates one on a map.
#[component]
pub fn EncountersSection(campaign: CampaignId, gm: bool) -> impl IntoView {
    use leptos_router::components::A;
    let created = RwSignal::new(0u32);
    let encounters = Resource::new(move || created.get(), move |_| list_encounters(campaign));
    let media = Resource::new(|| (), move |_| crate::media::list_media(campaign));
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
                        Ok(list) if list.is_empty() => view! { <p class="muted">"No encounter yet."</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="encounter-list">
                                {list.into_iter().map(|e| view! {
                                    <li>
                                        {if gm {
                                            view! { <A href=format!("/campaigns/{campaign}/encounters/{}", e.id)>{e.name.clone()}</A> }.into_any()
                                        } else {
                                            view! { <span>{e.name.clone()}</span> }.into_any()
                                        }}
                                        <span class="muted">{format!(" · {} tokens · grid {} px", e.tokens, e.map.grid_size)}</span>
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
                            <Suspense fallback=|| ()>
                                {move || Suspend::new(async move {
                                    media.await.unwrap_or_default().into_iter().filter(|m| m.mime_type.starts_with("image/")).map(|m| view! {
                                        <option value=m.id.to_string()>{m.name.as_str().to_owned()}</option>
                                    }).collect_view()
                                })}
                            </Suspense>
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

/// `/campaigns/:id/encounters/:encounter`: the GM's encounter editor:
/// tokens placed from the campaign's actors, each visible, GM-only or
/// hidden.
#[component]
pub fn EncounterEditorPage() -> impl IntoView {
    use leptos_router::components::A;
    use shared::{geometry::Point, token::Visibility};
    let params = leptos_router::hooks::use_params_map();
    let ids = move || {
        let read = params.read();
        let campaign = read.get("id")?.parse::<uuid::Uuid>().ok()?;
        let encounter = read.get("encounter")?.parse::<uuid::Uuid>().ok()?;
        Some((CampaignId(campaign), EncounterId(encounter)))
    };
    let placed = RwSignal::new(0u32);
    let tokens = Resource::new(
        move || (ids(), placed.get()),
        |(ids, _)| async move {
            let (campaign, encounter) = ids.ok_or(AppError::Forbidden)?;
            encounter_tokens(campaign, encounter).await
        },
    );
    let actors = Resource::new(ids, |ids| async move {
        let (campaign, _) = ids.ok_or(AppError::Forbidden)?;
        crate::content::list_actors(campaign).await
    });
    let actor = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let column = RwSignal::new("1".to_owned());
    let row = RwSignal::new("1".to_owned());
    let visibility = RwSignal::new("visible".to_owned());
    let place = Action::new(move |token: &NewToken| {
        let token = token.clone();
        async move {
            let (campaign, encounter) = ids().ok_or(AppError::Forbidden)?;
            let done = place_token(campaign, encounter, token).await;
            if done.is_ok() {
                placed.update(|n| *n += 1);
            }
            done
        }
    });
    let submit = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        let grid = 70.0;
        let cell = |raw: String| raw.trim().parse::<f64>().unwrap_or(1.0).max(1.0) - 1.0;
        let actor_id = actor
            .get_untracked()
            .parse::<uuid::Uuid>()
            .ok()
            .map(shared::id::ActorId);
        let label = {
            let typed = name.get_untracked();
            if typed.trim().is_empty() {
                actors
                    .get_untracked()
                    .and_then(Result::ok)
                    .and_then(|all| {
                        all.into_iter()
                            .find(|a| Some(a.id) == actor_id)
                            .map(|a| a.name)
                    })
                    .unwrap_or_else(|| "Token".into())
            } else {
                typed.trim().to_owned()
            }
        };
        let visibility = match visibility.get_untracked().as_str() {
            "gm_only" => Visibility::GmOnly,
            "hidden" => Visibility::Hidden,
            _ => Visibility::Visible,
        };
        place.dispatch(NewToken {
            actor: actor_id,
            name: label,
            position: Point::new(
                cell(column.get_untracked()) * grid,
                cell(row.get_untracked()) * grid,
            ),
            visibility,
            scale: 1.0,
        });
    };
    view! {
        <leptos_meta::Title text="Encounter editor" />
        {move || ids().map(|(campaign, _)| view! {
            <p><A href=format!("/campaigns/{campaign}")>"← Campaign"</A></p>
        })}
        <h1>"Encounter editor"</h1>
        <form class="card place-token" on:submit=submit>
            <h2>"Place a token"</h2>
            <label>"Actor "
                <select bind:value=actor>
                    <option value="">"Scenery (no actor)"</option>
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            actors.await.unwrap_or_default().into_iter().map(|a| view! {
                                <option value=a.id.to_string()>{a.name}</option>
                            }).collect_view()
                        })}
                    </Suspense>
                </select>
            </label>
            <label>"Label " <input type="text" bind:value=name placeholder="the actor's name" /></label>
            <label>"Column " <input type="number" min="1" bind:value=column /></label>
            <label>"Row " <input type="number" min="1" bind:value=row /></label>
            <label>"Seen by "
                <select bind:value=visibility>
                    <option value="visible">"Everyone"</option>
                    <option value="gm_only">"The GM only"</option>
                    <option value="hidden">"Nobody yet (hidden)"</option>
                </select>
            </label>
            <button type="submit">"Place"</button>
            {move || place.value().get().and_then(Result::err).map(|e| view! { <p role="alert" class="error">{e.to_string()}</p> })}
        </form>
        <section class="card">
            <h2>"Tokens"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading tokens…"</p> }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted">"No token yet."</p> }.into_any(),
                        Ok(list) => view! {
                            <ul>
                                {list.into_iter().map(|t| view! {
                                    <li>
                                        {t.name.clone()}
                                        <span class="muted">{format!(" · {:?}", t.visibility).to_lowercase()}</span>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(error) => view! { <p role="alert" class="error">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
    .into_any()
}
