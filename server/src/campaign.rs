//! The campaign repository.

use shared::{
    campaign::{Campaign, CampaignName, GameSystem, NewCampaign},
    id::{CampaignId, UserId},
    rules::Role,
};
use sqlx::{PgExecutor, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Error, Result};

/// A `campaigns` row as stored.
struct CampaignRow {
    id: Uuid,
    name: String,
    game_system: String,
    created_at: OffsetDateTime,
}

impl TryFrom<CampaignRow> for Campaign {
    type Error = Error;
    fn try_from(row: CampaignRow) -> Result<Self> {
        Ok(Campaign {
            id: CampaignId(row.id),
            name: CampaignName::parse(&row.name).map_err(Error::CorruptRow)?,
            game_system: row
                .game_system
                .parse::<GameSystem>()
                .map_err(Error::CorruptRow)?,
            created_at: row.created_at,
        })
    }
}

/// The campaigns `user` is a member of, newest first.
pub async fn list_for(db: impl PgExecutor<'_>, user: UserId) -> Result<Vec<Campaign>> {
    sqlx::query_as!(
        CampaignRow,
        "select c.id, c.name, c.game_system, c.created_at
           from campaigns c
           join campaign_members m on m.campaign_id = c.id
          where m.user_id = $1
          order by c.created_at desc, c.id",
        user.0,
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(Campaign::try_from)
    .collect()
}

/// One campaign with `user`'s role in it; `NotMember` alike for a campaign
/// that does not exist.
pub async fn overview(
    db: &PgPool,
    campaign: CampaignId,
    user: UserId,
) -> Result<shared::campaign::CampaignOverview> {
    let role = role_of(db, campaign, user).await?;
    let row = sqlx::query_as!(
        CampaignRow,
        "select id, name, game_system, created_at from campaigns where id = $1",
        campaign.0,
    )
    .fetch_optional(db)
    .await?
    .ok_or(Error::NotMember)?;
    Ok(shared::campaign::CampaignOverview {
        campaign: Campaign::try_from(row)?,
        role,
    })
}

/// Stores a new campaign with `gm` as its GM, in one transaction.
pub async fn create(db: &PgPool, gm: UserId, campaign: &NewCampaign) -> Result<Campaign> {
    let mut tx = db.begin().await?;
    let created: Campaign = sqlx::query_as!(
        CampaignRow,
        "insert into campaigns (id, name, game_system, gm_user_id) values ($1, $2, $3, $4)
         returning id, name, game_system, created_at",
        Uuid::new_v4(),
        campaign.name.as_str(),
        campaign.game_system.slug(),
        gm.0,
    )
    .fetch_one(&mut *tx)
    .await?
    .try_into()?;
    sqlx::query!(
        "insert into campaign_members (campaign_id, user_id, role) values ($1, $2, 'gm')",
        created.id.0,
        gm.0,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(created)
}

/// The role of `user` in `campaign`, or [`Error::NotMember`] (also when the
/// campaign does not exist: outsiders learn nothing).
pub async fn role_of(db: impl PgExecutor<'_>, campaign: CampaignId, user: UserId) -> Result<Role> {
    let role = sqlx::query_scalar!(
        "select role from campaign_members where campaign_id = $1 and user_id = $2",
        campaign.0,
        user.0,
    )
    .fetch_optional(db)
    .await?;
    match role {
        Some(role) => crate::membership::parse_role(&role),
        None => Err(Error::NotMember),
    }
}
