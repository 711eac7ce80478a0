//! The starting state of a new session: the campaign's actors and the
//! session's encounter with its tokens, as the `shared` store holds them.

use shared::{
    actor::{Actor, HitPoints, Statblock},
    id::{ActorId, CampaignId, EncounterId, UserId},
    store::Entities,
};
use sqlx::PgPool;

use crate::{Error, Result, encounter};

/// One actor of `campaign` as a running table holds it (for the GM to put
/// on the map after the session started).
pub async fn actor(db: &PgPool, campaign: CampaignId, id: ActorId) -> Result<Actor> {
    let row = sqlx::query!(
        "select name, actor_type, owner_user_id, base_stats, current_stats
           from actors where id = $1 and campaign_id = $2",
        id.0,
        campaign.0
    )
    .fetch_optional(db)
    .await?
    .ok_or_else(|| {
        Error::Refused(shared::Error::UnknownEntity {
            kind: shared::id::EntityKind::Actor,
            id: id.to_string(),
        })
    })?;
    at_the_table(
        id,
        row.name,
        &row.actor_type,
        row.owner_user_id.map(UserId),
        &Statblock::read(&row.base_stats, &row.current_stats),
    )
}

/// The live form of a stored actor.
fn at_the_table(
    id: ActorId,
    name: String,
    kind: &str,
    owner: Option<UserId>,
    block: &Statblock,
) -> Result<Actor> {
    Ok(Actor {
        id,
        name,
        kind: kind.parse().map_err(Error::CorruptRow)?,
        owner,
        // A statblock without hit points (a blank sheet) still takes
        // damage in play.
        hp: Some(block.hp.unwrap_or(HitPoints {
            current: 10,
            max: 10,
            temp: 0,
        })),
        speed: block.speed.unwrap_or(30),
        stats: block.numbers(),
        proficiencies: block.proficiencies.clone(),
        attacks: block.attacks.clone(),
        portrait: block.portrait,
    })
}

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
        let actor = at_the_table(
            ActorId(row.id),
            row.name,
            &row.actor_type,
            row.owner_user_id.map(UserId),
            &Statblock::read(&row.base_stats, &row.current_stats),
        )?;
        entities.actors.insert(actor.id, actor);
    }
    if let Some(id) = encounter {
        let loaded = encounter::load(db, campaign, id).await?;
        entities
            .encounters
            .insert(loaded.encounter.id, loaded.encounter);
        entities
            .tokens
            .extend(loaded.tokens.into_iter().map(|token| (token.id, token)));
        entities.drawings.extend(
            loaded
                .drawings
                .into_iter()
                .map(|drawing| (drawing.id, drawing)),
        );
        entities
            .walls
            .extend(loaded.walls.into_iter().map(|wall| (wall.id, wall)));
    }
    Ok(entities)
}
