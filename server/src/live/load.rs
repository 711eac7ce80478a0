//! The starting state of a new session: the campaign's actors and the
//! session's encounter with its tokens, as the `shared` store holds them.

use serde_json::Value;
use shared::{
    actor::{Actor, HitPoints},
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
        let max = number(&row.current_stats, &["hp_max"])
            .or_else(|| number(&row.base_stats, &["hit_points", "hp"]))
            .unwrap_or(10);
        let actor = Actor {
            id: ActorId(row.id),
            name: row.name,
            kind: row.actor_type.parse().map_err(Error::CorruptRow)?,
            owner: row.owner_user_id.map(UserId),
            hp: HitPoints {
                current: number(&row.current_stats, &["hp"]).unwrap_or(max),
                max,
                temp: 0,
            },
            speed: speed(&row.base_stats),
            stats: Default::default(),
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

/// The first of `keys` that holds a whole number.
fn number(stats: &Value, keys: &[&str]) -> Option<i64> {
    keys.iter()
        .find_map(|key| stats.get(key).and_then(Value::as_i64))
}

/// Walking speed in feet: a number, `{"walk": 40}` or `"40 ft."`; 30 when
/// the statblock says nothing usable.
fn speed(stats: &Value) -> u32 {
    let value = stats.get("speed");
    let raw = value
        .and_then(|speed| speed.get("walk"))
        .or(value)
        .cloned()
        .unwrap_or(Value::Null);
    let feet = match raw {
        Value::Number(n) => n.as_u64(),
        Value::String(text) => text
            .split(|c: char| !c.is_ascii_digit())
            .find(|part| !part.is_empty())
            .and_then(|digits| digits.parse().ok()),
        _ => None,
    };
    feet.and_then(|feet| u32::try_from(feet).ok()).unwrap_or(30)
}
