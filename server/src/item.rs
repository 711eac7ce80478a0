//! Campaign items and inventories: who carries what, and what is inside
//! what.

use serde_json::Value;
use shared::{
    id::{ActorId, CampaignId, ItemId, UserId},
    item::ItemRecord,
    rules::Role,
};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::{Error, Result};

/// Where an item is: carried by an actor, inside another item, or neither
/// (the GM's stash).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Placement {
    /// The actor carrying it.
    pub owner: Option<ActorId>,
    /// The item it is inside.
    pub container: Option<ItemId>,
}

/// Creates an item from a compendium entry, its data copied as the base
/// properties.
pub async fn create_from_compendium(
    db: &PgPool,
    campaign: CampaignId,
    ref_key: &str,
    placement: Placement,
    quantity: u32,
) -> Result<ItemRecord> {
    let entry = sqlx::query!(
        "select name, item_type, data from compendium_items where ref_key = $1 limit 1",
        ref_key
    )
    .fetch_optional(db)
    .await?
    .ok_or_else(|| unknown(ref_key))?;
    let mut tx = db.begin().await?;
    check_placement(&mut tx, campaign, None, placement).await?;
    let items = sqlx::query_scalar!(
        r#"select count(*) as "count!" from campaign_items where campaign_id = $1"#,
        campaign.0
    )
    .fetch_one(&mut *tx)
    .await?;
    shared::limits::count(
        "a campaign's items",
        usize::try_from(items).unwrap_or(usize::MAX) + 1,
        shared::limits::MAX_ITEMS,
    )
    .map_err(Error::Refused)?;
    let id = Uuid::new_v4();
    sqlx::query!(
        "insert into campaign_items (id, campaign_id, name, item_type, compendium_ref, base_properties,
                                     owner_actor_id, container_item_id, quantity)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        id,
        campaign.0,
        entry.name,
        entry.item_type,
        ref_key,
        entry.data,
        placement.owner.map(|a| a.0),
        placement.container.map(|i| i.0),
        i32::try_from(quantity).map_err(|_| too_many(quantity))?,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(ItemRecord {
        id: ItemId(id),
        campaign,
        name: entry.name,
        item_type: entry.item_type,
        compendium_ref: Some(ref_key.to_owned()),
        owner: placement.owner,
        container: placement.container,
        quantity,
        base_properties: entry.data,
        custom_properties: Value::Object(Default::default()),
    })
}

/// Moves an item to another actor or container (or to the stash).
pub async fn place(
    db: &PgPool,
    campaign: CampaignId,
    item: ItemId,
    placement: Placement,
) -> Result<()> {
    let mut tx = db.begin().await?;
    let found = sqlx::query_scalar!(
        "select id from campaign_items where id = $1 and campaign_id = $2 for update",
        item.0,
        campaign.0
    )
    .fetch_optional(&mut *tx)
    .await?;
    if found.is_none() {
        return Err(unknown(&item.to_string()));
    }
    check_placement(&mut tx, campaign, Some(item), placement).await?;
    sqlx::query!(
        "update campaign_items set owner_actor_id = $2, container_item_id = $3, updated_at = now() where id = $1",
        item.0,
        placement.owner.map(|a| a.0),
        placement.container.map(|i| i.0),
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Refuses an owner or container of another campaign, and a container that
/// is the item itself or inside it (a bag inside itself would vanish from
/// every inventory).
async fn check_placement(
    tx: &mut PgConnection,
    campaign: CampaignId,
    item: Option<ItemId>,
    placement: Placement,
) -> Result<()> {
    if let Some(owner) = placement.owner {
        let found = sqlx::query_scalar!(
            "select 1 as one from actors where id = $1 and campaign_id = $2",
            owner.0,
            campaign.0
        )
        .fetch_optional(&mut *tx)
        .await?;
        if found.is_none() {
            return Err(Error::Refused(shared::Error::UnknownEntity {
                kind: shared::id::EntityKind::Actor,
                id: owner.to_string(),
            }));
        }
    }
    if let Some(container) = placement.container {
        // The container's chain of containers, up to the top; the item must
        // not be on it.
        let chain: Vec<Uuid> = sqlx::query_scalar!(
            r#"with recursive up (id, container_item_id) as (
                   select id, container_item_id from campaign_items where id = $1 and campaign_id = $2
                   union
                   select c.id, c.container_item_id from campaign_items c join up on c.id = up.container_item_id
               )
               select id as "id!" from up"#,
            container.0,
            campaign.0,
        )
        .fetch_all(&mut *tx)
        .await?;
        if chain.is_empty() {
            return Err(unknown(&container.to_string()));
        }
        if item.is_some_and(|item| chain.contains(&item.0)) {
            return Err(Error::Refused(shared::Error::InvalidAction(
                "an item cannot be put inside itself or inside something it contains".into(),
            )));
        }
    }
    Ok(())
}

/// The items a member with `role` may see: GMs see all; others see what the
/// actors they may see carry (directly or in containers), never the stash.
pub async fn list_visible(
    db: &PgPool,
    campaign: CampaignId,
    user: UserId,
    role: Role,
) -> Result<Vec<ItemRecord>> {
    sqlx::query_as!(
        ItemRow,
        r#"with recursive visible_actors as (
               select id from actors
                where campaign_id = $1 and ($3 or owner_user_id = $2 or permissions ->> 'view' = 'all')
           ),
           visible (id) as (
               select i.id from campaign_items i
                where i.campaign_id = $1 and ($3 or i.owner_actor_id in (select id from visible_actors))
               union
               select i.id from campaign_items i join visible v on i.container_item_id = v.id
           )
           select i.id, i.name, i.item_type, i.compendium_ref, i.owner_actor_id, i.container_item_id,
                  i.quantity, i.base_properties, i.custom_properties
             from campaign_items i
            where i.id in (select id from visible)
            order by lower(i.name), i.id"#,
        campaign.0,
        user.0,
        role.is_gm_or_assistant(),
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|row| row.into_record(campaign))
    .collect()
}

/// What an actor of `campaign` carries, directly or inside containers it
/// carries. Whether the caller may see the actor is the caller's check.
pub async fn carried_by(
    db: &PgPool,
    campaign: CampaignId,
    actor: ActorId,
) -> Result<Vec<ItemRecord>> {
    sqlx::query_as!(
        ItemRow,
        r#"with recursive carried (id) as (
               select i.id from campaign_items i where i.campaign_id = $1 and i.owner_actor_id = $2
               union
               select i.id from campaign_items i join carried c on i.container_item_id = c.id
           )
           select i.id, i.name, i.item_type, i.compendium_ref, i.owner_actor_id, i.container_item_id,
                  i.quantity, i.base_properties, i.custom_properties
             from campaign_items i
            where i.id in (select id from carried)
            order by lower(i.name), i.id"#,
        campaign.0,
        actor.0,
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|row| row.into_record(campaign))
    .collect()
}

/// An item as its row holds it.
struct ItemRow {
    id: Uuid,
    name: String,
    item_type: String,
    compendium_ref: Option<String>,
    owner_actor_id: Option<Uuid>,
    container_item_id: Option<Uuid>,
    quantity: i32,
    base_properties: Value,
    custom_properties: Value,
}

impl ItemRow {
    fn into_record(self, campaign: CampaignId) -> Result<ItemRecord> {
        Ok(ItemRecord {
            id: ItemId(self.id),
            campaign,
            name: self.name,
            item_type: self.item_type,
            compendium_ref: self.compendium_ref,
            owner: self.owner_actor_id.map(ActorId),
            container: self.container_item_id.map(ItemId),
            quantity: u32::try_from(self.quantity).map_err(|_| {
                Error::CorruptRow(shared::Error::InvalidAction("negative quantity".into()))
            })?,
            base_properties: self.base_properties,
            custom_properties: self.custom_properties,
        })
    }
}

fn unknown(id: &str) -> Error {
    Error::Refused(shared::Error::UnknownEntity {
        kind: shared::id::EntityKind::Item,
        id: id.to_owned(),
    })
}

fn too_many(quantity: u32) -> Error {
    Error::Refused(shared::Error::InvalidAction(format!(
        "a quantity of {quantity} is more than the tabletop can count"
    )))
}

/// What a player may move: an item carried by an actor they play, to an
/// actor they play (or into a container such an actor carries). Observers
/// move nothing; GMs are not checked here.
pub async fn check_player_move(
    db: &PgPool,
    campaign: CampaignId,
    user: UserId,
    role: Role,
    item: ItemId,
    placement: Placement,
) -> Result<()> {
    let forbidden = |why: &str| Err(Error::Refused(shared::Error::Forbidden(why.into())));
    if role == Role::Observer {
        return forbidden("observers cannot move items");
    }
    let Some(owner) = placement.owner else {
        return forbidden("only the GM can put items in the stash");
    };
    let row = sqlx::query!(
        r#"select
             exists (select 1 from campaign_items i join actors a on a.id = i.owner_actor_id
                      where i.id = $3 and i.campaign_id = $1 and a.owner_user_id = $2) as "carried!",
             exists (select 1 from actors a where a.id = $4 and a.campaign_id = $1 and a.owner_user_id = $2)
               as "to_own_actor!",
             ($5::uuid is null or exists (
                 select 1 from campaign_items c join actors a on a.id = c.owner_actor_id
                  where c.id = $5 and c.campaign_id = $1 and a.owner_user_id = $2)) as "to_own_container!""#,
        campaign.0,
        user.0,
        item.0,
        owner.0,
        placement.container.map(|c| c.0),
    )
    .fetch_one(db)
    .await?;
    if !row.carried {
        // Not "you may not": the player may not even know the item exists.
        return Err(unknown(&item.to_string()));
    }
    if !row.to_own_actor || !row.to_own_container {
        return forbidden("players move items only between the actors they play");
    }
    Ok(())
}
