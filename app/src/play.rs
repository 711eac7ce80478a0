//! Playing a campaign: its overview, the sessions being played (join the
//! table), starting one on an encounter, and who sits at a session's table.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use shared::{
    campaign::SessionSummary,
    id::{CampaignId, EncounterId, SessionId},
    membership::Member,
};

use crate::{AppError, encounter::list_encounters};

/// A campaign and the caller's role in it, for its members.
#[server(endpoint = "campaigns/overview", input = Json)]
pub async fn campaign_overview(
    campaign: CampaignId,
) -> Result<shared::campaign::CampaignOverview, AppError> {
    crate::backend::as_user(|backend, user| async move {
        backend.campaign_overview(&user, campaign).await
    })
    .await
}

/// The sessions of a campaign still being played, newest first.
#[server(endpoint = "sessions/list", input = Json)]
pub async fn list_sessions(campaign: CampaignId) -> Result<Vec<SessionSummary>, AppError> {
    crate::backend::as_user(
        |backend, user| async move { backend.list_sessions(&user, campaign).await },
    )
    .await
}

/// Starts a live session on an encounter (GM and assistant GMs).
#[server(endpoint = "sessions/start", input = Json)]
pub async fn start_session(
    campaign: CampaignId,
    encounter: EncounterId,
) -> Result<SessionId, AppError> {
    crate::backend::as_user(|backend, user| async move {
        backend.start_session(&user, campaign, encounter).await
    })
    .await
}

/// The members of a session's campaign, for those at its table.
#[server(endpoint = "sessions/members", input = Json)]
pub async fn session_members(session: SessionId) -> Result<Vec<Member>, AppError> {
    crate::backend::as_user(
        |backend, user| async move { backend.session_members(&user, session).await },
    )
    .await
}

/// The encounters of a session's campaign, for its GM: where the table
/// may move.
#[server(endpoint = "sessions/encounters", input = Json)]
pub async fn session_encounters(
    session: SessionId,
) -> Result<Vec<shared::encounter::EncounterSummary>, AppError> {
    crate::backend::as_user(|backend, user| async move {
        backend.session_encounters(&user, session).await
    })
    .await
}

/// The campaign's live sessions (join the table), and for the GM, a
/// session started on an encounter.
#[component]
pub fn PlaySection(campaign: CampaignId, gm: bool) -> impl IntoView {
    use crate::storage::{QueryCache, Staleness};
    use leptos_router::components::A;
    let cache = QueryCache::get();
    let started = RwSignal::new(0u32);
    let sessions = cache.resource(
        QueryCache::key(campaign, "sessions"),
        Staleness::Session,
        move || started.get(),
        move || list_sessions(campaign),
    );
    let encounters = cache.resource(
        QueryCache::key(campaign, "encounters"),
        Staleness::Campaign,
        || 0,
        move || list_encounters(campaign),
    );
    let chosen = RwSignal::new(String::new());
    let navigate = leptos_router::hooks::use_navigate();
    let start = Action::new(move |encounter: &EncounterId| start_session(campaign, *encounter));
    Effect::new(move |_| {
        if let Some(Ok(session)) = start.value().get() {
            cache.invalidate(&QueryCache::key(campaign, "sessions"));
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
                        Ok(list) if list.is_empty() && gm => view! { <p class="muted">"No session is running. Choose an encounter and start one; your players join from this page."</p> }.into_any(),
                        Ok(list) if list.is_empty() => view! { <p class="muted">"No session is running. When the GM starts one, join the table from here."</p> }.into_any(),
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
