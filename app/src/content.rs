//! Server functions for a campaign's actors, items and inventories.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};
use shared::{
    actor::{ActorKind, ActorRecord},
    id::{ActorId, CampaignId, ItemId, UserId},
    item::ItemRecord,
};

use crate::AppError;

/// What a member asks for to create an actor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewActorRequest {
    /// The compendium entry to copy (a monster's statblock); `None` for a
    /// blank actor.
    pub compendium_ref: Option<String>,
    /// Its name; defaults to the entry's.
    pub name: Option<String>,
    /// Character, NPC or monster.
    pub kind: ActorKind,
    /// Character level.
    pub level: Option<i32>,
    /// Character class.
    pub character_class: Option<String>,
    /// The player who plays it.
    pub owner: Option<UserId>,
}

/// What a GM asks for to create an item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewItemRequest {
    /// The compendium entry to copy.
    pub compendium_ref: String,
    /// The actor to give it to.
    pub owner: Option<ActorId>,
    /// The container to put it in.
    pub container: Option<ItemId>,
    /// How many.
    pub quantity: u32,
}

/// The actors of a campaign the caller may see.
#[server(endpoint = "actors/list", input = Json)]
pub async fn list_actors(campaign: CampaignId) -> Result<Vec<ActorRecord>, AppError> {
    crate::backend::answer(async move {
        let (backend, user) = crate::account::session::require_user().await?;
        backend.list_actors(&user, campaign).await
    })
    .await
}

/// Creates an actor: GMs create any; players only characters they own.
#[server(endpoint = "actors/create", input = Json)]
pub async fn create_actor(
    campaign: CampaignId,
    actor: NewActorRequest,
) -> Result<ActorId, AppError> {
    crate::backend::answer(async move {
        let (backend, user) = crate::account::session::require_user().await?;
        backend.create_actor(&user, campaign, actor).await
    })
    .await
}

/// The items of a campaign the caller may see.
#[server(endpoint = "items/list", input = Json)]
pub async fn list_items(campaign: CampaignId) -> Result<Vec<ItemRecord>, AppError> {
    crate::backend::answer(async move {
        let (backend, user) = crate::account::session::require_user().await?;
        backend.list_items(&user, campaign).await
    })
    .await
}

/// Creates an item from a compendium entry (GMs only).
#[server(endpoint = "items/create", input = Json)]
pub async fn create_item(
    campaign: CampaignId,
    item: NewItemRequest,
) -> Result<ItemRecord, AppError> {
    crate::backend::answer(async move {
        let (backend, user) = crate::account::session::require_user().await?;
        backend.create_item(&user, campaign, item).await
    })
    .await
}

/// Moves an item to an actor, into a container, or to the stash. GMs move
/// anything; a player moves items between the actors they play.
#[server(endpoint = "items/move", input = Json)]
pub async fn move_item(
    campaign: CampaignId,
    item: ItemId,
    owner: Option<ActorId>,
    container: Option<ItemId>,
) -> Result<(), AppError> {
    crate::backend::answer(async move {
        let (backend, user) = crate::account::session::require_user().await?;
        backend
            .move_item(&user, campaign, item, owner, container)
            .await
    })
    .await
}

/// Hit points from an actor's stats (`hit_points`, or `hp.current`).
fn hit_points(stats: &serde_json::Value) -> Option<(i64, i64)> {
    let max = stats
        .get("hit_points")
        .and_then(serde_json::Value::as_i64)
        .or_else(|| stats.pointer("/hp/max").and_then(serde_json::Value::as_i64))?;
    let current = stats
        .pointer("/hp/current")
        .and_then(serde_json::Value::as_i64)
        .unwrap_or(max);
    Some((current, max))
}

/// A campaign's actors the caller may see, in a list that renders only the
/// rows in view.
#[component]
pub fn ActorsSection(campaign: CampaignId) -> impl IntoView {
    let actors = Resource::new(
        move || campaign,
        move |campaign| {
            crate::storage::QueryCache::get().fetch(
                format!("{campaign}/actors"),
                crate::storage::Staleness::Campaign,
                list_actors(campaign),
            )
        },
    );
    let filter = RwSignal::new(String::new());
    view! {
        <section class="card actors" aria-labelledby="actors-heading">
            <h2 id="actors-heading">"Actors"</h2>
            <label for="actor-filter" class="visually-hidden">"Filter actors"</label>
            <input id="actor-filter" type="search" placeholder="Filter by name" bind:value=filter />
            <Transition fallback=|| view! { <p class="muted">"Loading actors…"</p> }>
                {move || Suspend::new(async move {
                    match actors.await {
                        Ok(all) => {
                            let rows = Signal::derive(move || {
                                let needle = filter.get().to_lowercase();
                                all.iter()
                                    .filter(|a| needle.is_empty() || a.name.to_lowercase().contains(&needle))
                                    .cloned()
                                    .collect::<Vec<_>>()
                            });
                            view! {
                                <p class="muted">{move || format!("{} actors", rows.with(Vec::len))}</p>
                                <crate::virtual_list::VirtualList
                                    rows
                                    key=|actor: &ActorRecord| actor.id
                                    label="Actors"
                                    row=move |actor: ActorRecord| {
                                        let hp = hit_points(&actor.current_stats)
                                            .map(|(c, m)| format!("HP {c}/{m}"))
                                            .unwrap_or_default();
                                        view! {
                                            <leptos_router::components::A href=format!("/campaigns/{}/actors/{}", actor.campaign, actor.id) attr:class="row-link">
                                                <strong>{actor.name.clone()}</strong>
                                                <span class="muted">{format!(" {} {hp}", actor.kind.slug())}</span>
                                            </leptos_router::components::A>
                                        }
                                    }
                                />
                            }.into_any()
                        }
                        Err(error) => view! { <p role="alert" class="error">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
    .into_any()
}

/// A campaign's items the caller may see, virtualized like the actors.
#[component]
pub fn ItemsSection(campaign: CampaignId) -> impl IntoView {
    let items = Resource::new(
        move || campaign,
        move |campaign| {
            crate::storage::QueryCache::get().fetch(
                format!("{campaign}/items"),
                crate::storage::Staleness::Campaign,
                list_items(campaign),
            )
        },
    );
    view! {
        <section class="card items" aria-labelledby="items-heading">
            <h2 id="items-heading">"Items"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading items…"</p> }>
                {move || Suspend::new(async move {
                    match items.await {
                        Ok(all) => view! {
                            <p class="muted">{format!("{} items", all.len())}</p>
                            <crate::virtual_list::VirtualList
                                rows=Signal::derive(move || all.clone())
                                key=|item: &ItemRecord| item.id
                                label="Items"
                                row=|item: ItemRecord| view! {
                                    <span>
                                        <strong>{item.name.clone()}</strong>
                                        <span class="muted">{format!(" {} × {}{}", item.item_type, item.quantity, if item.owner.is_none() { " · stash" } else { "" })}</span>
                                    </span>
                                }
                            />
                        }.into_any(),
                        Err(error) => view! { <p role="alert" class="error">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
    .into_any()
}

/// `/campaigns/:id/actors/:actor`: an actor's sheet: stats, hit points,
/// conditions, and what it carries.
#[component]
pub fn ActorSheetPage() -> impl IntoView {
    let params = leptos_router::hooks::use_params_map();
    let ids = move || {
        let read = params.read();
        let campaign = read.get("id")?.parse::<uuid::Uuid>().ok()?;
        let actor = read.get("actor")?.parse::<uuid::Uuid>().ok()?;
        Some((CampaignId(campaign), ActorId(actor)))
    };
    let sheet = Resource::new(ids, |ids| async move {
        let (campaign, actor) = ids.ok_or(AppError::Forbidden)?;
        let actors = list_actors(campaign).await?;
        let items = list_items(campaign).await?;
        let found = actors
            .into_iter()
            .find(|a| a.id == actor)
            .ok_or(AppError::Forbidden)?;
        let carried: Vec<ItemRecord> = items
            .into_iter()
            .filter(|i| i.owner == Some(actor))
            .collect();
        Ok::<_, AppError>((found, carried))
    });
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading the sheet…"</p> }>
            {move || Suspend::new(async move {
                match sheet.await {
                    Ok((actor, carried)) => {
                        let stats: Vec<(String, String)> = actor
                            .current_stats
                            .as_object()
                            .map(|o| o.iter().filter(|(_, v)| v.is_number() || v.is_string()).map(|(k, v)| (k.replace('_', " "), v.to_string().trim_matches('"').to_owned())).collect())
                            .unwrap_or_default();
                        let hp = hit_points(&actor.current_stats);
                        view! {
                            <leptos_meta::Title text=actor.name.clone() />
                            <p><leptos_router::components::A href=format!("/campaigns/{}", actor.campaign)>"← Campaign"</leptos_router::components::A></p>
                            <h1>{actor.name.clone()}</h1>
                            <p class="muted">
                                {format!("{}{}{}", actor.kind.slug(), actor.level.map(|l| format!(", level {l}")).unwrap_or_default(), actor.character_class.clone().map(|c| format!(" {c}")).unwrap_or_default())}
                            </p>
                            <section class="card sheet" aria-label="Statistics">
                                {hp.map(|(c, m)| view! {
                                    <p class="hp"><strong>"Hit points "</strong>{format!("{c} / {m}")}</p>
                                    <meter min="0" max=m value=c aria-label="Hit points"></meter>
                                })}
                                <dl class="stats">
                                    {stats.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}
                                </dl>
                            </section>
                            <section class="card inventory" aria-labelledby="inventory-heading">
                                <h2 id="inventory-heading">"Inventory"</h2>
                                {if carried.is_empty() {
                                    view! { <p class="muted">"Carries nothing."</p> }.into_any()
                                } else {
                                    view! {
                                        <ul>
                                            {carried.into_iter().map(|item| view! {
                                                <li>{format!("{} × {}", item.name, item.quantity)}</li>
                                            }).collect_view()}
                                        </ul>
                                    }.into_any()
                                }}
                            </section>
                        }.into_any()
                    }
                    Err(error) => view! { <p role="alert" class="error">{error.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
