//! The campaign repository.

use shared::{
    campaign::{Campaign, CampaignName, GameSystem, NewCampaign},
    id::CampaignId,
};
use sqlx::PgExecutor;
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

/// Every campaign, newest first.
pub async fn list(db: impl PgExecutor<'_>) -> Result<Vec<Campaign>> {
    sqlx::query_as!(
        CampaignRow,
        "select id, name, game_system, created_at from campaigns order by created_at desc, id"
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(Campaign::try_from)
    .collect()
}

/// Stores a new campaign and returns it as stored.
pub async fn create(db: impl PgExecutor<'_>, campaign: &NewCampaign) -> Result<Campaign> {
    sqlx::query_as!(
        CampaignRow,
        "insert into campaigns (id, name, game_system) values ($1, $2, $3)
         returning id, name, game_system, created_at",
        Uuid::new_v4(),
        campaign.name.as_str(),
        campaign.game_system.slug(),
    )
    .fetch_one(db)
    .await?
    .try_into()
}
