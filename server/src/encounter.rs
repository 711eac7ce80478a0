//! The encounter repository: maps with their grid, and the tokens on them,
//! loaded as the `shared` types the live session runs on.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use shared::{
    drawing::Drawing,
    encounter::{Encounter, EncounterSummary, MapSettings},
    id::{ActorId, CampaignId, EncounterId, MediaId, TokenId},
    store::Entities,
    token::Token,
    wall::Wall,
};
use sqlx::PgPool;
use uuid::Uuid;

use shared::limits;

use crate::{Error, Result};

/// A new encounter. Authorization (GMs only) is the caller's.
#[derive(Debug, Clone)]
pub struct NewEncounter {
    /// Its campaign.
    pub campaign: CampaignId,
    /// Its name.
    pub name: String,
    /// The map image, a media file of the same campaign.
    pub map: Option<MediaId>,
    /// The grid.
    pub settings: MapSettings,
}

/// A token to place (the GM's request, from `shared`).
pub use shared::encounter::NewToken;

pub mod explored;
pub mod sample;
mod write_back;

pub use write_back::write_back;

/// Creates an encounter; the map must belong to the same campaign.
pub async fn create(db: &PgPool, new: &NewEncounter) -> Result<EncounterId> {
    let name = check_name(&new.name)?;
    check_grid(&new.settings)?;
    let encounters = sqlx::query_scalar!(
        r#"select count(*) as "count!" from encounters where campaign_id = $1"#,
        new.campaign.0
    )
    .fetch_one(db)
    .await?;
    limits::count(
        "a campaign's encounters",
        usize::try_from(encounters).unwrap_or(usize::MAX) + 1,
        limits::MAX_ENCOUNTERS,
    )
    .map_err(Error::Refused)?;
    if let Some(map) = new.map {
        let found = sqlx::query_scalar!(
            "select 1 as one from media_files where id = $1 and campaign_id = $2",
            map.0,
            new.campaign.0
        )
        .fetch_optional(db)
        .await?;
        if found.is_none() {
            return Err(refused("the map must be a media file of this campaign"));
        }
    }
    let id = Uuid::new_v4();
    let settings =
        serde_json::to_value(new.settings).map_err(Error::failed("serializing map settings"))?;
    sqlx::query!(
        "insert into encounters (id, campaign_id, name, map_id, map_settings) values ($1, $2, $3, $4, $5)",
        id,
        new.campaign.0,
        name,
        new.map.map(|m| m.0),
        settings,
    )
    .execute(db)
    .await?;
    Ok(EncounterId(id))
}

/// Changes an encounter's name and map (the grid, the image) between
/// sessions: a session already running keeps the state it started from.
/// The image must be a media file of the same campaign.
pub async fn update(
    db: &PgPool,
    campaign: CampaignId,
    encounter: EncounterId,
    name: &str,
    settings: &MapSettings,
) -> Result<()> {
    let name = check_name(name)?;
    check_grid(settings)?;
    let image = settings.image;
    // The image travels in its own column (`map_id`), as on creation.
    let stored = serde_json::to_value(MapSettings {
        image: None,
        ..*settings
    })
    .map_err(Error::failed("serializing map settings"))?;
    let row = sqlx::query!(
        r#"with target as (select id from encounters where id = $1 and campaign_id = $2),
                image as (select ($3::uuid is null
                                  or exists (select 1 from media_files where id = $3 and campaign_id = $2)) as ok)
           update encounters e
              set name = $4, map_id = $3, map_settings = $5, updated_at = now()
             from target, image
            where e.id = target.id and image.ok
        returning e.id"#,
        encounter.0,
        campaign.0,
        image.map(|m| m.0),
        name,
        stored,
    )
    .fetch_optional(db)
    .await?;
    if row.is_some() {
        return Ok(());
    }
    // Nothing changed: say which of the two checks refused it.
    let exists = sqlx::query_scalar!(
        r#"select exists (select 1 from encounters where id = $1 and campaign_id = $2) as "exists!""#,
        encounter.0,
        campaign.0,
    )
    .fetch_one(db)
    .await?;
    if exists {
        Err(refused("the map must be a media file of this campaign"))
    } else {
        Err(unknown_encounter(encounter))
    }
}

/// Places a token on an encounter of `campaign`; its actor must be of the
/// same campaign.
pub async fn place_token(
    db: &PgPool,
    campaign: CampaignId,
    encounter: EncounterId,
    token: &NewToken,
) -> Result<TokenId> {
    check_token(token)?;
    let checks = sqlx::query!(
        r#"select exists (select 1 from encounters where id = $1 and campaign_id = $2) as "encounter!",
                  ($3::uuid is null or exists (select 1 from actors where id = $3 and campaign_id = $2)) as "actor!",
                  (select count(*) from encounter_tokens where encounter_id = $1) as "tokens!""#,
        encounter.0,
        campaign.0,
        token.actor.map(|a| a.0),
    )
    .fetch_one(db)
    .await?;
    if !checks.encounter {
        return Err(unknown_encounter(encounter));
    }
    limits::count(
        "an encounter's tokens",
        usize::try_from(checks.tokens).unwrap_or(usize::MAX) + 1,
        limits::MAX_TOKENS_PER_ENCOUNTER,
    )
    .map_err(Error::Refused)?;
    if !checks.actor {
        return Err(Error::Refused(shared::Error::UnknownEntity {
            kind: shared::id::EntityKind::Actor,
            id: token.actor.map(|a| a.to_string()).unwrap_or_default(),
        }));
    }
    let id = Uuid::new_v4();
    let position = serde_json::to_value(token.position)
        .map_err(Error::failed("serializing a token position"))?;
    sqlx::query!(
        "insert into encounter_tokens (id, encounter_id, actor_id, name, position, scale, visibility)
         values ($1, $2, $3, $4, $5, $6::float8::numeric, $7)",
        id,
        encounter.0,
        token.actor.map(|a| a.0),
        token.name.trim(),
        position,
        token.scale,
        token.visibility.slug(),
    )
    .execute(db)
    .await?;
    Ok(TokenId(id))
}

/// Changes a placed token (label, actor, place, size, who sees it) on an
/// encounter of `campaign`, by the same rules as placing it.
pub async fn update_token(
    db: &PgPool,
    campaign: CampaignId,
    encounter: EncounterId,
    token: TokenId,
    setup: &NewToken,
) -> Result<()> {
    check_token(setup)?;
    let position = serde_json::to_value(setup.position)
        .map_err(Error::failed("serializing a token position"))?;
    let row = sqlx::query!(
        r#"update encounter_tokens t
              set actor_id = $4, name = $5, position = $6, scale = $7::float8::numeric, visibility = $8,
                  updated_at = now()
            where t.id = $1 and t.encounter_id = $2
              and exists (select 1 from encounters e where e.id = $2 and e.campaign_id = $3)
              and ($4::uuid is null or exists (select 1 from actors a where a.id = $4 and a.campaign_id = $3))
        returning t.id"#,
        token.0,
        encounter.0,
        campaign.0,
        setup.actor.map(|a| a.0),
        setup.name.trim(),
        position,
        setup.scale,
        setup.visibility.slug(),
    )
    .fetch_optional(db)
    .await?;
    match row {
        Some(_) => Ok(()),
        None => Err(Error::Refused(shared::Error::UnknownEntity {
            kind: shared::id::EntityKind::Token,
            id: token.to_string(),
        })),
    }
}

/// Takes a token off an encounter of `campaign`.
pub async fn remove_token(
    db: &PgPool,
    campaign: CampaignId,
    encounter: EncounterId,
    token: TokenId,
) -> Result<()> {
    let removed = sqlx::query!(
        "delete from encounter_tokens t
          where t.id = $1 and t.encounter_id = $2
            and exists (select 1 from encounters e where e.id = $2 and e.campaign_id = $3)",
        token.0,
        encounter.0,
        campaign.0,
    )
    .execute(db)
    .await?;
    if removed.rows_affected() == 1 {
        Ok(())
    } else {
        Err(Error::Refused(shared::Error::UnknownEntity {
            kind: shared::id::EntityKind::Token,
            id: token.to_string(),
        }))
    }
}

/// An encounter as stored: its map, turn order and fog, every token on it
/// (hidden ones included), its drawings and its walls.
#[derive(Debug)]
pub struct Loaded {
    /// The encounter.
    pub encounter: Encounter,
    /// Its tokens.
    pub tokens: Vec<Token>,
    /// Its drawings.
    pub drawings: Vec<Drawing>,
    /// Its walls.
    pub walls: Vec<Wall>,
}

/// Loads an encounter of `campaign` with all its tokens, drawings and walls:
/// what a player may see is filtered where it is sent.
pub async fn load(db: &PgPool, campaign: CampaignId, encounter: EncounterId) -> Result<Loaded> {
    let row = sqlx::query!(
        "select name, map_id, map_settings, initiative_data, fog, drawings, walls
           from encounters where id = $1 and campaign_id = $2",
        encounter.0,
        campaign.0
    )
    .fetch_optional(db)
    .await?
    .ok_or_else(|| {
        Error::Refused(shared::Error::UnknownEntity {
            kind: shared::id::EntityKind::Encounter,
            id: encounter.to_string(),
        })
    })?;
    let mut map = if row.map_settings == Value::Object(Default::default()) {
        MapSettings::default()
    } else {
        serde_json::from_value::<MapSettings>(row.map_settings).map_err(corrupt)?
    };
    map.image = row.map_id.map(MediaId);
    let tokens = sqlx::query!(
        r#"select id, actor_id, name, position, rotation::float8 as "rotation!", scale::float8 as "scale!",
                  visibility, conditions, temporary_stats, hp_shown, sight
             from encounter_tokens where encounter_id = $1 order by created_at, id"#,
        encounter.0
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|token| {
        Ok(Token {
            id: TokenId(token.id),
            encounter,
            actor: token.actor_id.map(ActorId),
            name: token.name,
            position: serde_json::from_value(token.position).map_err(corrupt)?,
            rotation: token.rotation,
            scale: token.scale,
            visibility: token.visibility.parse().map_err(Error::CorruptRow)?,
            hp_shown: token
                .hp_shown
                .map(|shown| shown.parse())
                .transpose()
                .map_err(Error::CorruptRow)?,
            conditions: token.conditions.into_iter().collect::<BTreeSet<_>>(),
            stats: serde_json::from_value::<BTreeMap<String, i64>>(token.temporary_stats)
                .map_err(corrupt)?,
            sight: serde_json::from_value(token.sight).map_err(corrupt)?,
        })
    })
    .collect::<Result<Vec<_>>>()?;
    // Stored with their map: whatever encounter a value names, it is on
    // this one.
    let drawings = serde_json::from_value::<Vec<Drawing>>(row.drawings)
        .map_err(corrupt)?
        .into_iter()
        .map(|drawing| Drawing {
            encounter,
            ..drawing
        })
        .collect();
    let walls = serde_json::from_value::<Vec<Wall>>(row.walls)
        .map_err(corrupt)?
        .into_iter()
        .map(|wall| Wall { encounter, ..wall })
        .collect();
    let encounter = Encounter {
        id: encounter,
        name: row.name,
        map,
        initiative: stored_or_default(row.initiative_data)?,
        fog: stored_or_default(row.fog)?,
        log: Vec::new(),
    };
    Ok(Loaded {
        encounter,
        tokens,
        drawings,
        walls,
    })
}

/// The encounters of a campaign, newest first, with their token counts as
/// the viewer may know them: every token for a GM, the visible ones for
/// anyone else (a hidden token's existence is the GM's secret).
pub async fn list(
    db: &PgPool,
    campaign: CampaignId,
    sees_hidden: bool,
) -> Result<Vec<EncounterSummary>> {
    sqlx::query!(
        r#"select e.id, e.name, e.map_id, e.map_settings,
                  (select count(*) from encounter_tokens t
                    where t.encounter_id = e.id and ($2 or t.visibility = 'visible')) as "tokens!"
             from encounters e where e.campaign_id = $1
            order by e.created_at desc, e.id"#,
        campaign.0,
        sees_hidden,
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|row| {
        let mut map = if row.map_settings == Value::Object(Default::default()) {
            MapSettings::default()
        } else {
            serde_json::from_value::<MapSettings>(row.map_settings).map_err(corrupt)?
        };
        map.image = row.map_id.map(MediaId);
        Ok(EncounterSummary {
            id: EncounterId(row.id),
            name: row.name,
            map,
            tokens: u32::try_from(row.tokens).unwrap_or(u32::MAX),
        })
    })
    .collect()
}

/// A JSON column whose default, `'{}'`, means the type's default.
fn stored_or_default<T: serde::de::DeserializeOwned + Default>(value: Value) -> Result<T> {
    if value == Value::Object(Default::default()) {
        Ok(T::default())
    } else {
        serde_json::from_value(value).map_err(corrupt)
    }
}

fn internal(error: serde_json::Error) -> Error {
    Error::failed("serializing the table to write it back")(error)
}

// The same limits as a live edit of the same fields (`shared::limits`).

fn check_name(name: &str) -> Result<&str> {
    let name = name.trim();
    if name.is_empty() {
        return Err(refused("an encounter needs a name"));
    }
    limits::text(
        "an encounter's name (characters)",
        name,
        limits::MAX_ENCOUNTER_NAME_CHARS,
    )
    .map_err(Error::Refused)?;
    Ok(name)
}

fn check_grid(settings: &MapSettings) -> Result<()> {
    limits::between(
        "the grid size (pixels)",
        settings.grid_size,
        limits::MIN_GRID_SIZE,
        limits::MAX_GRID_SIZE,
    )
    .and_then(|()| {
        limits::between(
            "feet per cell",
            f64::from(settings.feet_per_cell),
            1.0,
            f64::from(limits::MAX_FEET_PER_CELL),
        )
    })
    .and_then(|()| within_map("the grid offset", settings.offset))
    .map_err(Error::Refused)
}

fn check_token(token: &NewToken) -> Result<()> {
    let name = token.name.trim();
    if name.is_empty() {
        return Err(refused("a token needs a label"));
    }
    limits::text("a token's name (characters)", name, limits::MAX_NAME_CHARS)
        .and_then(|()| within_map("a token's position", token.position))
        .and_then(|()| {
            limits::between(
                "a token's scale (cells)",
                token.scale,
                limits::MIN_SCALE,
                limits::MAX_SCALE,
            )
        })
        .map_err(Error::Refused)
}

fn within_map(what: &'static str, point: shared::geometry::Point) -> shared::Result<()> {
    let max = limits::MAX_COORDINATE;
    limits::between(what, point.x, -max, max)?;
    limits::between(what, point.y, -max, max)
}

fn unknown_encounter(encounter: EncounterId) -> Error {
    Error::Refused(shared::Error::UnknownEntity {
        kind: shared::id::EntityKind::Encounter,
        id: encounter.to_string(),
    })
}

fn corrupt(error: impl std::fmt::Display) -> Error {
    Error::CorruptRow(shared::Error::InvalidAction(error.to_string()))
}

fn refused(message: &str) -> Error {
    Error::Refused(shared::Error::InvalidAction(message.into()))
}
