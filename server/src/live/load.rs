//! The starting state of a new session: the campaign's actors and the
//! session's encounter with its tokens, as the `shared` store holds them.

use shared::{
    actor::{Actor, HitPoints, Statblock},
    id::{ActorId, CampaignId, EncounterId, UserId},
    store::Entities,
};
use sqlx::PgPool;

use crate::{Error, Result, encounter};

/// Builds the entities a session starts from.
pub async fn starting_state(
    db: &PgPool,
    campaign: CampaignId,
    encounter: Option<EncounterId>,
) -> Result<Entities> {
    let mut entities = Entities::default();
    let rows = sqlx::query!(
        "select id, name, actor_type, owner_user_id, base_stats, current_stats
           from actors where campaign_id = $1",
        campaign.0
    )
    .fetch_all(db)
    .await?;
    for row in rows {
        let block = Statblock::read(&row.base_stats, &row.current_stats);
        let actor = Actor {
            id: ActorId(row.id),
            name: row.name,
            kind: row.actor_type.parse().map_err(Error::CorruptRow)?,
            owner: row.owner_user_id.map(UserId),
            // A statblock without hit points (a blank sheet) still takes
            // damage in play.
            hp: Some(block.hp.unwrap_or(HitPoints {
                current: 10,
                max: 10,
                temp: 0,
            })),
            speed: block.speed.unwrap_or(30),
            stats: block.numbers(),
            proficiencies: block.proficiencies,
            attacks: block.attacks,
            portrait: block.portrait,
        };
        entities.actors.insert(actor.id, actor);
    }
    if let Some(id) = encounter {
        let (encounter, tokens) = encounter::load(db, campaign, id).await?;
        entities.encounters.insert(encounter.id, encounter);
        entities
            .tokens
            .extend(tokens.into_iter().map(|token| (token.id, token)));
    }
    Ok(entities)
}
