//! The encounter repository: maps with their grid, and the tokens on them,
//! loaded as the `shared` types the live session runs on.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use shared::{
    encounter::{Encounter, EncounterSummary, MapSettings},
    id::{ActorId, CampaignId, EncounterId, MediaId, TokenId},
    token::{Token, Visibility},
};
use sqlx::PgPool;
use uuid::Uuid;

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

/// Creates an encounter; the map must belong to the same campaign.
pub async fn create(db: &PgPool, new: &NewEncounter) -> Result<EncounterId> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(refused("an encounter needs a name of 1 to 200 characters"));
    }
    if !(new.settings.grid_size.is_finite() && new.settings.grid_size > 0.0) {
        return Err(refused("the grid size must be a positive number of pixels"));
    }
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
    let settings = serde_json::to_value(new.settings)
        .map_err(|error| Error::Internal(format!("map settings: {error}")))?;
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

/// Places a token on an encounter of `campaign`; its actor must be of the
/// same campaign.
pub async fn place_token(
    db: &PgPool,
    campaign: CampaignId,
    encounter: EncounterId,
    token: &NewToken,
) -> Result<TokenId> {
    if !(token.position.x.is_finite() && token.position.y.is_finite()) {
        return Err(refused("a token's position must be finite"));
    }
    if !(token.scale.is_finite() && token.scale > 0.0 && token.scale <= 99.0) {
        return Err(refused("a token's scale must be between 0 and 99 cells"));
    }
    let checks = sqlx::query!(
        r#"select exists (select 1 from encounters where id = $1 and campaign_id = $2) as "encounter!",
                  ($3::uuid is null or exists (select 1 from actors where id = $3 and campaign_id = $2)) as "actor!""#,
        encounter.0,
        campaign.0,
        token.actor.map(|a| a.0),
    )
    .fetch_one(db)
    .await?;
    if !checks.encounter {
        return Err(Error::Refused(shared::Error::UnknownEntity {
            kind: shared::id::EntityKind::Encounter,
            id: encounter.to_string(),
        }));
    }
    if !checks.actor {
        return Err(Error::Refused(shared::Error::UnknownEntity {
            kind: shared::id::EntityKind::Actor,
            id: token.actor.map(|a| a.to_string()).unwrap_or_default(),
        }));
    }
    let id = Uuid::new_v4();
    let position = serde_json::to_value(token.position)
        .map_err(|error| Error::Internal(format!("token position: {error}")))?;
    sqlx::query!(
        "insert into encounter_tokens (id, encounter_id, actor_id, name, position, scale, visibility)
         values ($1, $2, $3, $4, $5, $6::float8::numeric, $7)",
        id,
        encounter.0,
        token.actor.map(|a| a.0),
        token.name,
        position,
        token.scale,
        visibility_slug(token.visibility),
    )
    .execute(db)
    .await?;
    Ok(TokenId(id))
}

/// Loads an encounter of `campaign` and all its tokens, hidden ones
/// included: what a player may see is filtered where it is sent.
pub async fn load(
    db: &PgPool,
    campaign: CampaignId,
    encounter: EncounterId,
) -> Result<(Encounter, Vec<Token>)> {
    let row = sqlx::query!(
        "select name, map_id, map_settings from encounters where id = $1 and campaign_id = $2",
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
                  visibility, conditions, temporary_stats
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
            visibility: parse_visibility(&token.visibility)?,
            conditions: token.conditions.into_iter().collect::<BTreeSet<_>>(),
            stats: serde_json::from_value::<BTreeMap<String, i64>>(token.temporary_stats)
                .map_err(corrupt)?,
        })
    })
    .collect::<Result<Vec<_>>>()?;
    let encounter = Encounter {
        id: encounter,
        name: row.name,
        map,
        initiative: Default::default(),
        fog: Default::default(),
        log: Vec::new(),
    };
    Ok((encounter, tokens))
}

/// The encounters of a campaign, newest first, with their token counts.
pub async fn list(db: &PgPool, campaign: CampaignId) -> Result<Vec<EncounterSummary>> {
    sqlx::query!(
        r#"select e.id, e.name, e.map_id, e.map_settings,
                  (select count(*) from encounter_tokens t where t.encounter_id = e.id) as "tokens!"
             from encounters e where e.campaign_id = $1
            order by e.created_at desc, e.id"#,
        campaign.0
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

fn visibility_slug(visibility: Visibility) -> &'static str {
    match visibility {
        Visibility::Visible => "visible",
        Visibility::GmOnly => "gm_only",
        Visibility::Hidden => "hidden",
    }
}

fn parse_visibility(raw: &str) -> Result<Visibility> {
    match raw {
        "visible" => Ok(Visibility::Visible),
        "gm_only" => Ok(Visibility::GmOnly),
        "hidden" => Ok(Visibility::Hidden),
        other => Err(corrupt(format!("unknown visibility {other:?}"))),
    }
}

fn corrupt(error: impl std::fmt::Display) -> Error {
    Error::CorruptRow(shared::Error::InvalidAction(error.to_string()))
}

fn refused(message: &str) -> Error {
    Error::Refused(shared::Error::InvalidAction(message.into()))
}
