//! What each player has explored of an encounter's map
//! (`shared::sight::explored`), kept with the encounter. Every statement
//! names the campaign: an encounter id is only ever read or written for
//! the campaign the caller plays.

use std::collections::{BTreeSet, HashMap};

use shared::{
    geometry::Cell,
    id::{CampaignId, EncounterId, UserId},
};
use sqlx::PgPool;

use crate::{Error, Result};

/// A player's explored cells.
pub type Cells = BTreeSet<Cell>;

/// What each player has explored of the encounter's map. A row that does
/// not read back (written by a later version, say) is left out with a
/// warning: the memory is a convenience, and the table must still open.
pub async fn load(
    db: &PgPool,
    campaign: CampaignId,
    encounter: EncounterId,
) -> Result<HashMap<UserId, Cells>> {
    let rows = sqlx::query!(
        "select x.user_id, x.cells
           from explored_areas x join encounters e on e.id = x.encounter_id
          where x.encounter_id = $1 and e.campaign_id = $2",
        encounter.0,
        campaign.0,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| match serde_json::from_value::<Cells>(row.cells) {
            Ok(cells) => Some((UserId(row.user_id), cells)),
            Err(error) => {
                tracing::warn!(%encounter, user = %row.user_id, %error, "an explored area does not read back; left out");
                None
            }
        })
        .collect())
}

/// Keeps what `user` has explored of the encounter's map (the whole of
/// it, replacing what was kept).
pub async fn save(
    tx: &mut sqlx::PgConnection,
    campaign: CampaignId,
    encounter: EncounterId,
    user: UserId,
    cells: &Cells,
) -> Result<()> {
    let cells = serde_json::to_value(cells).map_err(Error::failed("serializing explored cells"))?;
    sqlx::query!(
        "insert into explored_areas (encounter_id, user_id, cells)
         select e.id, $3, $4 from encounters e where e.id = $1 and e.campaign_id = $2
         on conflict (encounter_id, user_id) do update set cells = excluded.cells, updated_at = now()",
        encounter.0,
        campaign.0,
        user.0,
        cells,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Forgets what every player explored of the encounter's map.
pub async fn forget(db: &PgPool, campaign: CampaignId, encounter: EncounterId) -> Result<()> {
    sqlx::query!(
        "delete from explored_areas x using encounters e
          where x.encounter_id = $1 and e.id = x.encounter_id and e.campaign_id = $2",
        encounter.0,
        campaign.0,
    )
    .execute(db)
    .await?;
    Ok(())
}
