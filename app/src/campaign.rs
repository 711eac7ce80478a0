//! The campaign list: every campaign, and a form that creates one.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
#[cfg(feature = "ssr")]
use shared::campaign::NewCampaign;
use shared::campaign::{Campaign, CampaignName, GameSystem};
use time::macros::format_description;

use crate::AppError;

/// Lists every campaign, newest first.
#[server(endpoint = "campaigns/list")]
pub async fn list_campaigns() -> Result<Vec<Campaign>, AppError> {
    crate::backend::as_user(|backend, user| async move { backend.list_campaigns(&user).await })
        .await
}

/// Creates a campaign from the raw form fields.
///
/// The fields are validated here with the same rules the page uses for its
/// hints, so a request that skips the page gets the same clear errors.
#[server(endpoint = "campaigns/create")]
pub async fn create_campaign(
    // A missing field is an empty one, so it gets the same clear message
    // (and a 400) instead of a decoding failure.
    #[server(default)] name: String,
    #[server(default)] game_system: String,
) -> Result<Campaign, AppError> {
    crate::backend::as_user(|backend, user| async move {
        let campaign = NewCampaign::parse(&name, &game_system)?;
        backend.create_campaign(&user, campaign).await
    })
    .await
}

/// The query cache's key for the campaign list.
pub const CAMPAIGNS_KEY: &str = "campaigns";

/// The home page: the campaign list and the creation form.
#[component]
pub fn CampaignsPage() -> impl IntoView {
    let create = ServerAction::<CreateCampaign>::new();
    // Refetch the list after each successful creation (a refused one
    // changes nothing worth a round trip).
    let created = RwSignal::new(0u32);
    let cache = crate::storage::QueryCache::get();
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_))) {
            cache.invalidate(CAMPAIGNS_KEY);
            created.update(|n| *n += 1);
        }
    });
    let campaigns = cache.resource(
        CAMPAIGNS_KEY.into(),
        crate::storage::Staleness::Campaign,
        move || created.get(),
        list_campaigns,
    );

    view! {
        <Title text="Campaigns" />
        <h1>"Campaigns"</h1>
        <CreateCampaignForm create />
        <crate::tools::ImportCampaign />
        <section aria-labelledby="campaign-list-heading">
            <h2 id="campaign-list-heading">"Your campaigns"</h2>
            // A transition keeps the current list on screen while it refetches,
            // instead of flashing the loading text after every creation.
            <Transition fallback=|| view! { <p class="muted">"Loading campaigns…"</p> }>
                {move || Suspend::new(async move {
                    match campaigns.await {
                        Ok(list) => view! { <CampaignList list /> }.into_any(),
                        Err(AppError::Unauthorized) => {
                            view! {
                                <p class="muted" data-test="log-in-prompt">
                                    <A href="/login">"Log in"</A>
                                    " or "
                                    <A href="/signup">"create an account"</A>
                                    " to see your campaigns."
                                </p>
                            }
                                .into_any()
                        }
                        Err(error) => {
                            view! {
                                <p role="alert" class="error">
                                    {format!("Could not load campaigns: {error}")}
                                </p>
                            }
                                .into_any()
                        }
                    }
                })}
            </Transition>
        </section>
    }
}

/// The creation form. It works without JavaScript (a plain POST); once
/// hydrated it submits in the background and the list refreshes in place.
#[component]
fn CreateCampaignForm(create: ServerAction<CreateCampaign>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let hint = move || {
        let typed = name.read();
        match CampaignName::parse(&typed) {
            Err(shared::Error::CampaignNameTooLong { len, max }) => {
                format!("{len} of {max} characters: too long")
            }
            _ => format!(
                "{} of {} characters",
                typed.trim().chars().count(),
                CampaignName::MAX_CHARS
            ),
        }
    };
    let error = move || {
        create
            .value()
            .get()
            .and_then(Result::err)
            .map(|error| view! { <p role="alert" class="error" data-test="create-error">{error.to_string()}</p> })
    };
    // Clear the name once the campaign exists, ready for the next one.
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(_))) {
            name.set(String::new());
        }
    });

    view! {
        <ActionForm action=create attr:class="card create-campaign">
            <h2>"New campaign"</h2>
            <div class="field">
                <label for="campaign-name">"Name"</label>
                <input
                    id="campaign-name"
                    name="name"
                    autocomplete="off"
                    placeholder="The Lost Mine"
                    aria-describedby="campaign-name-hint"
                    bind:value=name
                />
                <small id="campaign-name-hint" class="muted">
                    {hint}
                </small>
            </div>
            <div class="field">
                <label for="campaign-system">"Game system"</label>
                <select id="campaign-system" name="game_system">
                    {GameSystem::ALL
                        .into_iter()
                        .map(|system| view! { <option value=system.slug()>{system.label()}</option> })
                        .collect_view()}
                </select>
            </div>
            <button type="submit" disabled=move || create.pending().get()>
                {move || if create.pending().get() { "Creating…" } else { "Create campaign" }}
            </button>
            {error}
        </ActionForm>
    }
}

#[component]
fn CampaignList(list: Vec<Campaign>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="muted">"No campaigns yet. Create the first one above."</p> }
            .into_any();
    }
    let date = format_description!("[year]-[month]-[day]");
    view! {
        <ul class="campaign-list">
            {list
                .into_iter()
                .map(|campaign| {
                    let created = campaign.created_at.format(&date).unwrap_or_default();
                    view! {
                        <li class="card" data-campaign-id=campaign.id.to_string()>
                            <A href=format!("/campaigns/{}", campaign.id) attr:class="campaign-name">
                                {campaign.name.to_string()}
                            </A>
                            <span class="campaign-system">{campaign.game_system.label()}</span>
                            <time datetime=created.clone()>{created.clone()}</time>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}

/// The campaign of a `/campaigns/:id/...` page, if its id is one.
pub fn campaign_param() -> impl Fn() -> Option<shared::id::CampaignId> + Copy + Send + Sync {
    let params = leptos_router::hooks::use_params_map();
    move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<uuid::Uuid>().ok())
            .map(shared::id::CampaignId)
    }
}

/// `/campaigns/:id`: one campaign: play (sessions), encounters, actors,
/// items, media and members.
#[component]
pub fn CampaignPage() -> impl IntoView {
    let campaign = campaign_param();
    let cache = crate::storage::QueryCache::get();
    let overview = Resource::new(campaign, move |campaign| async move {
        match campaign {
            Some(campaign) => {
                cache
                    .fetch(
                        crate::storage::QueryCache::key(campaign, "overview"),
                        crate::storage::Staleness::Campaign,
                        crate::play::campaign_overview(campaign),
                    )
                    .await
            }
            None => Err(AppError::Forbidden),
        }
    });
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading the campaign…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(overview) => {
                        let id = overview.campaign.id;
                        let gm = overview.role.is_gm_or_assistant();
                        view! {
                            <Title text=overview.campaign.name.to_string() />
                            <h1>{overview.campaign.name.to_string()}</h1>
                            <p class="muted">
                                {format!("{} · you are {}", overview.campaign.game_system.label(), crate::table::describe::role(overview.role))}
                            </p>
                            <div class="campaign-sections">
                                <crate::play::PlaySection campaign=id gm />
                                <crate::encounter::EncountersSection campaign=id gm />
                                <crate::content::ActorsSection campaign=id />
                                <crate::content::ItemsSection campaign=id />
                                <crate::media::MediaSection campaign=id gm />
                                <crate::media::HandoutsSection campaign=id />
                                <crate::membership::MembersSection campaign=id role=overview.role />
                                <crate::tools::CampaignSearch campaign=id />
                                <crate::tools::ChatHistory campaign=id />
                                <crate::fair::FairDice campaign=id />
                                {gm.then(|| view! { <crate::tools::CampaignNumbers campaign=id /> })}
                            </div>
                        }
                        .into_any()
                    }
                    Err(AppError::Unauthorized) => view! {
                        <p class="muted"><A href="/login">"Log in"</A>" to see this campaign."</p>
                    }
                    .into_any(),
                    Err(error) => view! { <p role="alert" class="error">{error.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
    .into_any()
}
