//! A campaign as one JSON document, for backups and for moving a campaign
//! to another server (the seed's "migration" idea).
//!
//! The document holds the campaign's rows as PostgreSQL renders them
//! (`to_jsonb`), so every column travels, including ones added later, and
//! the importer puts them back with `jsonb_populate_recordset`. Media bytes
//! are not inside: media rows name their content by SHA-256, and the
//! target server must hold those bytes before the import (upload them, or
//! copy the blobs). Accounts belong to a server, so they do not travel:
//! the importer becomes the GM and references to unknown users are cleared.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use shared::id::{CampaignId, UserId};
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Error, Result, campaign::role_of};

/// The `format` of every document.
pub const FORMAT: &str = "tabletop-campaign";
/// The document version this server writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// How many rows of each kind a document holds; checked on import against
/// the rows present and the rows written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Actors.
    pub actors: usize,
    /// Campaign items.
    pub items: usize,
    /// Media records.
    pub media: usize,
    /// Encounters.
    pub encounters: usize,
    /// Encounter tokens.
    pub tokens: usize,
    /// What players explored of the encounters' maps (absent from
    /// documents written before issue 17).
    #[serde(default)]
    pub explored: usize,
}

/// One campaign, whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignDocument {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`] when written here.
    pub format_version: u32,
    /// When it was exported.
    #[serde(with = "time::serde::rfc3339")]
    pub exported_at: OffsetDateTime,
    /// The `campaigns` row.
    pub campaign: Value,
    /// `actors` rows.
    pub actors: Vec<Value>,
    /// `campaign_items` rows.
    pub items: Vec<Value>,
    /// `media_files` rows (bytes by checksum).
    pub media: Vec<Value>,
    /// `encounters` rows.
    pub encounters: Vec<Value>,
    /// `encounter_tokens` rows.
    pub tokens: Vec<Value>,
    /// `explored_areas` rows: each player's explored cells of a map. A row
    /// whose player has no account on the importing server is left out.
    #[serde(default)]
    pub explored: Vec<Value>,
    /// The number of rows of each kind.
    pub counts: Counts,
}

impl CampaignDocument {
    fn present(&self) -> Counts {
        Counts {
            actors: self.actors.len(),
            items: self.items.len(),
            media: self.media.len(),
            encounters: self.encounters.len(),
            tokens: self.tokens.len(),
            explored: self.explored.len(),
        }
    }
}

/// Exports a campaign; only its GM may (the document holds everything the
/// GM hides from players).
pub async fn export(db: &PgPool, campaign: CampaignId, by: UserId) -> Result<CampaignDocument> {
    if !role_of(db, campaign, by).await?.is_gm_or_assistant() {
        return Err(Error::Refused(shared::Error::Forbidden(
            "only the GM and assistant GMs can export a campaign".into(),
        )));
    }
    // One snapshot: rows added while exporting are all in or all out.
    let mut tx = db.begin().await?;
    sqlx::query("set transaction isolation level repeatable read, read only")
        .execute(&mut *tx)
        .await?;
    let campaign_row: Value =
        sqlx::query_scalar("select to_jsonb(c) from campaigns c where id = $1")
            .bind(campaign.0)
            .fetch_one(&mut *tx)
            .await?;
    let rows = |table: &'static str, filter: &'static str| {
        format!(
            "select coalesce(jsonb_agg(to_jsonb(t) - 'search_vector' order by t.id), '[]'::jsonb) \
               from {table} t where {filter}"
        )
    };
    let mut fetch = async |sql: String| -> Result<Vec<Value>> {
        let array: Value = sqlx::query_scalar(&sql)
            .bind(campaign.0)
            .fetch_one(&mut *tx)
            .await?;
        serde_json::from_value(array).map_err(Error::failed("reading the export back"))
    };
    let actors = fetch(rows("actors", "campaign_id = $1")).await?;
    let items = fetch(rows("campaign_items", "campaign_id = $1")).await?;
    let media = fetch(rows("media_files", "campaign_id = $1")).await?;
    let encounters = fetch(rows("encounters", "campaign_id = $1")).await?;
    let tokens = fetch(rows(
        "encounter_tokens",
        "encounter_id in (select id from encounters where campaign_id = $1)",
    ))
    .await?;
    let explored = fetch(
        "select coalesce(jsonb_agg(to_jsonb(x) order by x.encounter_id, x.user_id), '[]'::jsonb) \
           from explored_areas x where x.encounter_id in (select id from encounters where campaign_id = $1)"
            .to_owned(),
    )
    .await?;
    tx.commit().await?;
    let mut document = CampaignDocument {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        exported_at: OffsetDateTime::now_utc(),
        campaign: campaign_row,
        actors,
        items,
        media,
        encounters,
        tokens,
        explored,
        counts: Counts::default(),
    };
    document.counts = document.present();
    Ok(document)
}

/// Imports a document as a new campaign with `by` as its GM, in one
/// transaction: a document that fails any check writes nothing.
///
/// Refused: another format or version, counts that differ from the rows,
/// rows that reference something outside the document, media whose bytes
/// the importer cannot already read here, and a campaign id already on this server.
pub async fn import(db: &PgPool, document: &CampaignDocument, by: UserId) -> Result<CampaignId> {
    validate(document)?;
    let campaign = CampaignId(uuid_field(&document.campaign, "id", "campaign")?);
    let mut tx = db.begin().await?;
    let exists: bool = sqlx::query_scalar("select exists (select 1 from campaigns where id = $1)")
        .bind(campaign.0)
        .fetch_one(&mut *tx)
        .await?;
    if exists {
        return Err(invalid(format!(
            "campaign {campaign} is already on this server; delete it first or import it elsewhere"
        )));
    }
    check_media_readable(&mut tx, document, by).await?;
    let written = write(&mut tx, document, by).await?;
    if written != document.counts {
        return Err(invalid(format!(
            "wrote {written:?} but the document announces {:?}",
            document.counts
        )));
    }
    tx.commit().await?;
    tracing::info!(%campaign, gm = %by, counts = ?written, "campaign imported");
    Ok(campaign)
}

/// Checks the document on its own: format, counts and references.
fn validate(document: &CampaignDocument) -> Result<()> {
    if document.format != FORMAT || document.format_version != FORMAT_VERSION {
        return Err(invalid(format!(
            "this is not a {FORMAT} document of version {FORMAT_VERSION} (found {:?} version {})",
            document.format, document.format_version
        )));
    }
    let present = document.present();
    if present != document.counts {
        return Err(invalid(format!(
            "the document announces {:?} but holds {present:?}; it is incomplete or was edited",
            document.counts
        )));
    }
    let ids = |rows: &[Value], what: &str| -> Result<HashSet<Uuid>> {
        let mut ids = HashSet::new();
        for row in rows {
            if !ids.insert(uuid_field(row, "id", what)?) {
                return Err(invalid(format!("two {what} rows share an id")));
            }
        }
        Ok(ids)
    };
    let actors = ids(&document.actors, "actor")?;
    let items = ids(&document.items, "item")?;
    let media = ids(&document.media, "media")?;
    let encounters = ids(&document.encounters, "encounter")?;
    ids(&document.tokens, "token")?;
    let references =
        |rows: &[Value], what: &str, field: &str, within: &HashSet<Uuid>| -> Result<()> {
            for row in rows {
                if let Some(target) = optional_uuid(row, field, what)?
                    && !within.contains(&target)
                {
                    return Err(invalid(format!(
                        "a {what}'s {field} names {target}, which is not in the document"
                    )));
                }
            }
            Ok(())
        };
    references(&document.items, "item", "owner_actor_id", &actors)?;
    references(&document.items, "item", "container_item_id", &items)?;
    references(&document.encounters, "encounter", "map_id", &media)?;
    references(&document.tokens, "token", "encounter_id", &encounters)?;
    references(&document.tokens, "token", "actor_id", &actors)?;
    references(
        &document.explored,
        "explored area",
        "encounter_id",
        &encounters,
    )?;
    for row in &document.explored {
        uuid_field(row, "encounter_id", "explored area")?;
        uuid_field(row, "user_id", "explored area")?;
        // The session sends these cells to a player's browser as they
        // are: they must be what a browser could have sent.
        let cells: std::collections::BTreeSet<shared::geometry::Cell> =
            serde_json::from_value(row.get("cells").cloned().unwrap_or(Value::Null))
                .map_err(|e| invalid(format!("an explored area's cells do not read: {e}")))?;
        shared::sight::check_explored(&cells)
            .map_err(|e| invalid(format!("an explored area is refused: {e}")))?;
    }
    // What the store would refuse from a request is refused here too: a
    // session loads these rows as they are.
    for row in &document.tokens {
        if let Some(sight) = row.get("sight").filter(|v| !v.is_null()) {
            let sight: shared::token::Sight = serde_json::from_value(sight.clone())
                .map_err(|e| invalid(format!("a token's sight does not read: {e}")))?;
            sight
                .check()
                .map_err(|reason| invalid(format!("a token's sight is refused: {reason}")))?;
        }
    }
    for row in &document.encounters {
        if let Some(walls) = row.get("walls").filter(|v| !v.is_null()) {
            let walls: Vec<shared::wall::Wall> = serde_json::from_value(walls.clone())
                .map_err(|e| invalid(format!("an encounter's walls do not read: {e}")))?;
            shared::limits::count(
                "walls on one map",
                walls.len(),
                shared::wall::MAX_WALLS_PER_ENCOUNTER,
            )
            .map_err(|e| invalid(format!("an encounter's walls are refused: {e}")))?;
            for wall in &walls {
                wall.check()
                    .map_err(|e| invalid(format!("an encounter's wall is refused: {e}")))?;
            }
        }
    }
    let campaign = uuid_field(&document.campaign, "id", "campaign")?;
    for (rows, what) in [
        (&document.actors, "actor"),
        (&document.items, "item"),
        (&document.media, "media"),
        (&document.encounters, "encounter"),
    ] {
        if rows
            .iter()
            .any(|row| optional_uuid(row, "campaign_id", what).ok().flatten() != Some(campaign))
        {
            return Err(invalid(format!("a {what} row belongs to another campaign")));
        }
    }
    Ok(())
}

/// A media row names its bytes by checksum, and a checksum is not a key:
/// the importer may name only bytes they can already read here (a file of
/// one of their campaigns that they may see) or have uploaded themselves
/// (a GM restoring a campaign they deleted), so that a document cannot
/// claim another campaign's private file by copying its checksum. The
/// answer is the same whether the bytes are elsewhere on the server or
/// nowhere: it tells nothing about other campaigns.
async fn check_media_readable(
    tx: &mut PgConnection,
    document: &CampaignDocument,
    by: UserId,
) -> Result<()> {
    let checksums: Vec<String> = document
        .media
        .iter()
        .map(|row| {
            row.get("checksum")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| invalid("a media row has no checksum".into()))
        })
        .collect::<Result<_>>()?;
    let missing: Vec<String> = sqlx::query_scalar(
        "select c from unnest($1::text[]) as c
          where not exists (
                select 1 from media_files m
                  join campaign_members cm on cm.campaign_id = m.campaign_id and cm.user_id = $2
                 where m.checksum = c and media_readable(m, cm.role, cm.user_id))
            and not exists (select 1 from media_uploaders u where u.checksum = c and u.user_id = $2)",
    )
    .bind(&checksums)
    .bind(by.0)
    .fetch_all(&mut *tx)
    .await?;
    if missing.is_empty() {
        Ok(())
    } else {
        Err(invalid(format!(
            "the document names {} media file(s) you have not uploaded and cannot read here \
             (first: {}); upload them to one of your campaigns first",
            missing.len(),
            missing[0]
        )))
    }
}

/// Inserts every row; returns how many of each were written.
async fn write(tx: &mut PgConnection, document: &CampaignDocument, gm: UserId) -> Result<Counts> {
    // A user reference survives only if that account exists here.
    const KNOWN_USER: &str = "(select u.id from users u where u.id = r.{col})";
    let user = |col: &str| KNOWN_USER.replace("{col}", col);
    sqlx::query(
        "insert into campaigns (id, name, game_system, gm_user_id, settings, created_at, updated_at)
         select r.id, r.name, r.game_system, $2, r.settings, r.created_at, r.updated_at
           from jsonb_populate_record(null::campaigns, $1) r",
    )
    .bind(&document.campaign)
    .bind(gm.0)
    .execute(&mut *tx)
    .await
    .map_err(refused_row)?;
    sqlx::query("insert into campaign_members (campaign_id, user_id, role) values ($1, $2, 'gm')")
        .bind(uuid_field(&document.campaign, "id", "campaign")?)
        .bind(gm.0)
        .execute(&mut *tx)
        .await?;
    let statements = [
        (
            format!(
                "insert into actors (id, campaign_id, name, actor_type, compendium_ref, level, character_class, race,
                                     base_stats, computed_stats, current_stats, inventory, plugin_data,
                                     owner_user_id, permissions, created_by, created_at, updated_at)
                 select r.id, r.campaign_id, r.name, r.actor_type, r.compendium_ref, r.level, r.character_class, r.race,
                        r.base_stats, r.computed_stats, r.current_stats, r.inventory, r.plugin_data,
                        {}, r.permissions, {}, r.created_at, r.updated_at
                   from jsonb_populate_recordset(null::actors, $1) r",
                user("owner_user_id"),
                user("created_by")
            ),
            &document.actors,
        ),
        (
            "insert into campaign_items (id, campaign_id, name, item_type, compendium_ref, base_properties,
                                         custom_properties, current_state, owner_actor_id, container_item_id,
                                         location, quantity, stack_size, created_at, updated_at)
             select r.id, r.campaign_id, r.name, r.item_type, r.compendium_ref, r.base_properties,
                    r.custom_properties, r.current_state, r.owner_actor_id, r.container_item_id,
                    r.location, r.quantity, r.stack_size, r.created_at, r.updated_at
               from jsonb_populate_recordset(null::campaign_items, $1) r"
                .to_owned(),
            &document.items,
        ),
        (
            format!(
                "insert into media_files (id, campaign_id, filename, original_name, mime_type, file_size, checksum,
                                          media_type, usage_context, grid_size, grid_offset, dimensions, metadata,
                                          permissions, tags, folder_path, created_by, created_at, updated_at, shown)
                 select r.id, r.campaign_id, r.filename, r.original_name, r.mime_type, r.file_size, r.checksum,
                        r.media_type, r.usage_context, r.grid_size, r.grid_offset, r.dimensions, r.metadata,
                        r.permissions, r.tags, r.folder_path, {}, r.created_at, r.updated_at,
                        coalesce(r.shown, false)
                   from jsonb_populate_recordset(null::media_files, $1) r",
                user("created_by")
            ),
            &document.media,
        ),
        (
            format!(
                "insert into encounters (id, campaign_id, name, description, map_id, map_settings, status,
                                         initiative_data, round_number, current_turn, created_by, created_at, updated_at,
                                         fog, drawings, walls)
                 select r.id, r.campaign_id, r.name, r.description, r.map_id, r.map_settings, r.status,
                        r.initiative_data, r.round_number, r.current_turn, {}, r.created_at, r.updated_at,
                        coalesce(r.fog, '{{}}'), coalesce(r.drawings, '[]'), coalesce(r.walls, '[]')
                   from jsonb_populate_recordset(null::encounters, $1) r",
                user("created_by")
            ),
            &document.encounters,
        ),
        (
            "insert into encounter_tokens (id, encounter_id, actor_id, name, position, rotation, scale, visibility,
                                           conditions, temporary_stats, initiative_order, initiative_roll,
                                           created_at, updated_at, hp_shown, sight)
             select r.id, r.encounter_id, r.actor_id, r.name, r.position, r.rotation, r.scale, r.visibility,
                    r.conditions, r.temporary_stats, r.initiative_order, r.initiative_roll, r.created_at, r.updated_at,
                    r.hp_shown, coalesce(r.sight, '{}')
               from jsonb_populate_recordset(null::encounter_tokens, $1) r"
                .to_owned(),
            &document.tokens,
        ),
    ];
    let mut written = [0usize; 5];
    for (slot, (sql, rows)) in written.iter_mut().zip(statements) {
        *slot = sqlx::query(&sql)
            .bind(Value::Array(rows.clone()))
            .execute(&mut *tx)
            .await
            .map_err(refused_row)?
            .rows_affected() as usize;
    }
    let [actors, items, media, encounters, tokens] = written;
    // Counted as written when kept or left out for want of its player's
    // account here, so the count still proves no row went missing.
    let (kept, left_out): (i64, i64) = sqlx::query_as(
        "with r as (select * from jsonb_populate_recordset(null::explored_areas, $1)),
              kept as (insert into explored_areas (encounter_id, user_id, cells, updated_at)
                       select r.encounter_id, r.user_id, r.cells, coalesce(r.updated_at, now()) from r
                        where exists (select 1 from users u where u.id = r.user_id)
                       returning 1)
         select (select count(*) from kept),
                (select count(*) from r where not exists (select 1 from users u where u.id = r.user_id))",
    )
    .bind(Value::Array(document.explored.clone()))
    .fetch_one(&mut *tx)
    .await
    .map_err(refused_row)?;
    if left_out > 0 {
        tracing::info!(
            left_out,
            "explored areas of players without an account here left out"
        );
    }
    Ok(Counts {
        actors,
        items,
        media,
        encounters,
        tokens,
        explored: (kept + left_out) as usize,
    })
}

/// A row the database refuses (a broken constraint, a missing required
/// field, a value of the wrong type) is the document's fault: say which.
fn refused_row(error: sqlx::Error) -> Error {
    match &error {
        // Class 22: data exceptions; class 23: integrity constraint violations.
        sqlx::Error::Database(db)
            if db
                .code()
                .is_some_and(|code| code.starts_with("22") || code.starts_with("23")) =>
        {
            invalid(format!("a row is not valid here: {}", db.message()))
        }
        _ => Error::Database(error),
    }
}

fn uuid_field(row: &Value, field: &str, what: &str) -> Result<Uuid> {
    optional_uuid(row, field, what)?.ok_or_else(|| invalid(format!("a {what} row has no {field}")))
}

fn optional_uuid(row: &Value, field: &str, what: &str) -> Result<Option<Uuid>> {
    match row.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(raw)) => Uuid::parse_str(raw)
            .map(Some)
            .map_err(|_| invalid(format!("a {what}'s {field} is not an id: {raw:?}"))),
        Some(other) => Err(invalid(format!("a {what}'s {field} is not an id: {other}"))),
    }
}

fn invalid(message: String) -> Error {
    Error::Refused(shared::Error::InvalidExport(message))
}
