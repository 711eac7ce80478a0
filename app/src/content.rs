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
    /// A character built on the character form: its name, level, class
    /// and statblock replace the fields above.
    #[serde(default)]
    pub character: Option<shared::character::CharacterDraft>,
}

/// An actor's sheet: the actor and everything it carries (in containers
/// too).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActorSheet {
    /// The actor.
    pub actor: ActorRecord,
    /// What it carries, containers and their contents included.
    pub items: Vec<ItemRecord>,
    /// Whether the caller may change it (its player or the GM).
    pub may_edit: bool,
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
    crate::backend::as_user(
        |backend, user| async move { backend.list_actors(&user, campaign).await },
    )
    .await
}

/// One actor's sheet, for a member who may see the actor.
#[server(endpoint = "actors/sheet", input = Json)]
pub async fn load_actor_sheet(
    campaign: CampaignId,
    actor: ActorId,
) -> Result<ActorSheet, AppError> {
    crate::backend::as_user(|backend, user| async move {
        backend.actor_sheet(&user, campaign, actor).await
    })
    .await
}

/// Creates an actor: GMs create any; players only characters they own.
#[server(endpoint = "actors/create", input = Json)]
pub async fn create_actor(
    campaign: CampaignId,
    actor: NewActorRequest,
) -> Result<ActorId, AppError> {
    crate::backend::as_user(|backend, user| async move {
        backend.create_actor(&user, campaign, actor).await
    })
    .await
}

/// A monster made from a compendium entry for a running table: created in
/// the session's campaign and returned as the table holds it, for the GM
/// to put on the map with its token (GMs and assistant GMs only).
#[server(endpoint = "sessions/new_monster", input = Json)]
pub async fn monster_for_table(
    session: shared::id::SessionId,
    compendium_ref: String,
) -> Result<shared::actor::Actor, AppError> {
    crate::backend::as_user(|backend, user| async move {
        backend
            .monster_for_table(&user, session, compendium_ref)
            .await
    })
    .await
}

/// Gives an actor to a player of the campaign, or back to the GM with
/// `None` (GMs only). An open table sees the change from its next session.
#[server(endpoint = "actors/set_owner", input = Json)]
pub async fn set_actor_owner(
    campaign: CampaignId,
    actor: ActorId,
    owner: Option<UserId>,
) -> Result<(), AppError> {
    crate::backend::as_user(|backend, user| async move {
        backend.set_actor_owner(&user, campaign, actor, owner).await
    })
    .await
}

/// Changes one thing on an actor's sheet between sessions: its player or
/// the GM. Refused while a session of the campaign runs (the sheet is
/// changed at the table then).
#[server(endpoint = "actors/update_sheet", input = Json)]
pub async fn update_sheet(
    campaign: CampaignId,
    actor: ActorId,
    change: shared::sheet::SheetChange,
) -> Result<(), AppError> {
    crate::backend::as_user(|backend, user| async move {
        backend.update_sheet(&user, campaign, actor, change).await
    })
    .await
}

/// The classes and species the character form offers (from the enabled
/// compendium sources), for any logged-in user.
#[server(endpoint = "characters/options", input = Json)]
pub async fn character_options() -> Result<shared::character::CharacterOptions, AppError> {
    crate::backend::as_user(|backend, _user| async move { backend.character_options().await }).await
}

/// The items of a campaign the caller may see.
#[server(endpoint = "items/list", input = Json)]
pub async fn list_items(campaign: CampaignId) -> Result<Vec<ItemRecord>, AppError> {
    crate::backend::as_user(
        |backend, user| async move { backend.list_items(&user, campaign).await },
    )
    .await
}

/// Creates an item from a compendium entry (GMs only).
#[server(endpoint = "items/create", input = Json)]
pub async fn create_item(
    campaign: CampaignId,
    item: NewItemRequest,
) -> Result<ItemRecord, AppError> {
    crate::backend::as_user(|backend, user| async move {
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
    crate::backend::as_user(|backend, user| async move {
        backend
            .move_item(&user, campaign, item, owner, container)
            .await
    })
    .await
}

/// A campaign's actors the caller may see, in a list that renders only the
/// rows in view.
#[component]
pub fn ActorsSection(campaign: CampaignId) -> impl IntoView {
    let cache = crate::storage::QueryCache::get();
    let actors = cache.resource(
        crate::storage::QueryCache::key(campaign, "actors"),
        crate::storage::Staleness::Campaign,
        || 0,
        move || list_actors(campaign),
    );
    let filter = RwSignal::new(String::new());
    view! {
        <section class="card actors" aria-labelledby="actors-heading">
            <h2 id="actors-heading">"Actors"</h2>
            <p>
                <leptos_router::components::A href=format!("/campaigns/{campaign}/characters/new") attr:data-test="new-character">
                    "New character"
                </leptos_router::components::A>
            </p>
            <label for="actor-filter" class="visually-hidden">"Filter actors"</label>
            <input id="actor-filter" type="search" placeholder="Filter by name" bind:value=filter />
            <Transition fallback=|| view! { <p class="muted">"Loading actors…"</p> }>
                {move || Suspend::new(async move {
                    match actors.await {
                        Ok(all) => {
                            // A memo: scrolling reads the rows on every
                            // frame; only typing in the filter recomputes.
                            let rows = Memo::new(move |_| {
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
                                        let hp = shared::actor::Statblock::read(&actor.base_stats, &actor.current_stats)
                                            .hp
                                            .map(|hp| format!("HP {}/{}", hp.current, hp.max))
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
    use crate::storage::{QueryCache, Staleness};
    let cache = QueryCache::get();
    let moved = RwSignal::new(0u32);
    let items = cache.resource(
        QueryCache::key(campaign, "items"),
        Staleness::Campaign,
        move || moved.get(),
        move || list_items(campaign),
    );
    let actors = cache.resource(
        QueryCache::key(campaign, "actors"),
        Staleness::Campaign,
        || 0,
        move || list_actors(campaign),
    );
    let given = Callback::new(move |()| moved.update(|n| *n += 1));
    view! {
        <section class="card items" aria-labelledby="items-heading">
            <h2 id="items-heading">"Items"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading items…"</p> }>
                {move || Suspend::new(async move {
                    match items.await {
                        Ok(all) => {
                            let count = all.len();
                            view! {
                                <p class="muted">{format!("{count} items")}</p>
                                <crate::virtual_list::VirtualList
                                    rows=Signal::stored(all)
                                    key=|item: &ItemRecord| item.id
                                    label="Items"
                                    row=move |item: ItemRecord| view! {
                                        <span class="item-row">
                                            <strong>{item.name.clone()}</strong>
                                            <span class="muted">{format!(" {} × {}{}", item.item_type, item.quantity, if item.owner.is_none() && item.container.is_none() { " · stash" } else { "" })}</span>
                                            {item.container.is_none().then(|| view! {
                                                <crate::sheet::GiveTo campaign item=item.id name=item.name.clone() holder=item.owner actors given />
                                            })}
                                        </span>
                                    }
                                />
                            }.into_any()
                        },
                        Err(error) => view! { <p role="alert" class="error">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
    .into_any()
}
