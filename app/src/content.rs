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
