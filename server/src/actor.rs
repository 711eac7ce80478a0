//! The actor repository: characters, NPCs and monsters of a campaign.

use serde_json::Value;
use shared::{
    actor::{ActorKind, ActorRecord},
    id::{ActorId, CampaignId, UserId},
    rules::Role,
};
use sqlx::PgPool;
use uuid::Uuid;

use crate::{Error, Result};

/// What a new actor needs beyond its compendium entry.
#[derive(Debug, Clone, PartialEq)]
pub struct NewActor {
    /// Its campaign.
    pub campaign: CampaignId,
    /// Its name (defaults to the entry's).
    pub name: Option<String>,
    /// `character`, `npc` or `monster`.
    pub actor_type: String,
    /// Character level.
    pub level: Option<i32>,
    /// Character class.
    pub character_class: Option<String>,
    /// The player who owns it.
    pub owner: Option<UserId>,
    /// Who creates it.
    pub created_by: UserId,
}

/// Creates an actor from a compendium entry: the entry's data is copied as
/// the base stats (so later compendium updates do not silently change a
/// running campaign) and the reference kept for comparison. Overrides go to
/// `current_stats`, apart from the base.
pub async fn create_from_compendium(db: &PgPool, new: &NewActor, ref_key: &str) -> Result<ActorId> {
    let entry = sqlx::query!(
        "select name, data from compendium_items where ref_key = $1 limit 1",
        ref_key
    )
    .fetch_optional(db)
    .await?
    .map(|row| (row.name, row.data));
    let (entry_name, data) = entry.ok_or_else(|| {
        Error::Refused(shared::Error::UnknownEntity {
            kind: shared::id::EntityKind::Actor,
            id: ref_key.to_owned(),
        })
    })?;
    let name = new.name.clone().unwrap_or(entry_name);
    insert(db, new, &name, Some(ref_key), &data).await
}

/// Creates an actor with the given base stats and no compendium entry.
pub async fn create_custom(
    db: &PgPool,
    new: &NewActor,
    name: &str,
    base_stats: &Value,
) -> Result<ActorId> {
    insert(db, new, name, None, base_stats).await
}

async fn insert(
    db: &PgPool,
    new: &NewActor,
    name: &str,
    ref_key: Option<&str>,
    base: &Value,
) -> Result<ActorId> {
    use shared::limits;
    let refused = Error::Refused;
    if name.trim().is_empty() {
        return Err(refused(shared::Error::InvalidAction(
            "an actor needs a name".into(),
        )));
    }
    limits::text("an actor's name (characters)", name, limits::MAX_NAME_CHARS).map_err(refused)?;
    if let Some(class) = &new.character_class {
        limits::text(
            "a character class (characters)",
            class,
            limits::MAX_NAME_CHARS,
        )
        .map_err(refused)?;
    }
    if limits::json_has_nul(base) {
        return Err(refused(shared::Error::UnstorableText {
            what: "an actor's stats".into(),
        }));
    }
    let actors = sqlx::query_scalar!(
        r#"select count(*) as "count!" from actors where campaign_id = $1"#,
        new.campaign.0
    )
    .fetch_one(db)
    .await?;
    limits::count(
        "a campaign's actors",
        usize::try_from(actors).unwrap_or(usize::MAX) + 1,
        limits::MAX_ACTORS,
    )
    .map_err(refused)?;
    let id = Uuid::new_v4();
    sqlx::query!(
        "insert into actors (id, campaign_id, name, actor_type, compendium_ref, level, character_class, base_stats,
                             owner_user_id, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        id,
        new.campaign.0,
        name,
        new.actor_type,
        ref_key,
        new.level,
        new.character_class,
        base,
        new.owner.map(|u| u.0),
        new.created_by.0,
    )
    .execute(db)
    .await
    .map_err(|error| {
        Error::on_constraint(error, |constraint| {
            (constraint == "actors_type_known").then(|| {
                shared::Error::InvalidAction(format!(
                    "unknown actor type {:?}; use character, npc or monster",
                    new.actor_type
                ))
            })
        })
    })?;
    Ok(ActorId(id))
}

/// Gives `actor` of `campaign` to `owner` (a member, checked by the
/// caller), or back to the GM with `None`. An actor of another campaign is
/// [`Error::NotMember`], like an unknown one.
pub async fn set_owner(
    db: &PgPool,
    campaign: CampaignId,
    actor: ActorId,
    owner: Option<UserId>,
) -> Result<()> {
    let updated = sqlx::query!(
        "update actors set owner_user_id = $3, updated_at = now() where id = $1 and campaign_id = $2",
        actor.0,
        campaign.0,
        owner.map(|u| u.0),
    )
    .execute(db)
    .await?
    .rows_affected();
    if updated == 0 {
        return Err(Error::NotMember);
    }
    Ok(())
}

/// The actors of `campaign` that a member with `role` may see: the GM and
/// assistant GMs see all; players and observers see the actors they own and
/// those the GM made visible (`permissions.view = 'all'`). The GM's hidden
/// NPCs are never sent to a player.
pub async fn list_visible(
    db: &PgPool,
    campaign: CampaignId,
    user: UserId,
    role: Role,
) -> Result<Vec<ActorRecord>> {
    sqlx::query_as!(
        ActorRow,
        "select id, name, actor_type, compendium_ref, level, character_class, owner_user_id,
                base_stats, current_stats
           from actors
          where campaign_id = $1
            and ($3 or owner_user_id = $2 or permissions ->> 'view' = 'all')
          order by lower(name), id",
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

/// One actor of `campaign`, if a member with `role` may see it (by the
/// rule of [`list_visible`]); an actor they may not see is as unknown as
/// one that does not exist.
pub async fn get_visible(
    db: &PgPool,
    campaign: CampaignId,
    actor: ActorId,
    user: UserId,
    role: Role,
) -> Result<ActorRecord> {
    sqlx::query_as!(
        ActorRow,
        "select id, name, actor_type, compendium_ref, level, character_class, owner_user_id,
                base_stats, current_stats
           from actors
          where campaign_id = $1 and id = $4
            and ($3 or owner_user_id = $2 or permissions ->> 'view' = 'all')",
        campaign.0,
        user.0,
        role.is_gm_or_assistant(),
        actor.0,
    )
    .fetch_optional(db)
    .await?
    .ok_or_else(|| {
        Error::Refused(shared::Error::UnknownEntity {
            kind: shared::id::EntityKind::Actor,
            id: actor.to_string(),
        })
    })?
    .into_record(campaign)
}

/// Merges `patch` into an actor's current values, unless a session of the
/// campaign is running: its table holds the actor then, changes it through
/// actions and writes it back at the end, so a change made here would be
/// overwritten. `false` when a session runs.
pub async fn merge_current(
    db: &PgPool,
    campaign: CampaignId,
    actor: ActorId,
    patch: &Value,
) -> Result<bool> {
    let updated = sqlx::query!(
        "update actors set current_stats = current_stats || $3, updated_at = now()
          where id = $1 and campaign_id = $2
            and not exists (select 1 from play_sessions
                             where campaign_id = $2 and ended_at is null)",
        actor.0,
        campaign.0,
        patch,
    )
    .execute(db)
    .await?
    .rows_affected();
    Ok(updated > 0)
}

/// An actor as its row holds it.
struct ActorRow {
    id: Uuid,
    name: String,
    actor_type: String,
    compendium_ref: Option<String>,
    level: Option<i32>,
    character_class: Option<String>,
    owner_user_id: Option<Uuid>,
    base_stats: Value,
    current_stats: Value,
}

impl ActorRow {
    fn into_record(self, campaign: CampaignId) -> Result<ActorRecord> {
        Ok(ActorRecord {
            id: ActorId(self.id),
            campaign,
            name: self.name,
            kind: self.actor_type.parse().map_err(Error::CorruptRow)?,
            compendium_ref: self.compendium_ref,
            level: self.level,
            character_class: self.character_class,
            owner: self.owner_user_id.map(UserId),
            base_stats: self.base_stats,
            current_stats: self.current_stats,
        })
    }
}

/// Whether a member with `role` may create an actor of `kind` owned by
/// `owner`: GMs create anything; a player creates only characters they own.
pub fn may_create(who: UserId, role: Role, kind: ActorKind, owner: Option<UserId>) -> Result<()> {
    match role {
        Role::Gm | Role::AssistantGm => Ok(()),
        Role::Player if kind == ActorKind::Character && owner == Some(who) => Ok(()),
        Role::Player => Err(Error::Refused(shared::Error::Forbidden(
            "players create only their own characters".into(),
        ))),
        Role::Observer => Err(Error::Refused(shared::Error::Forbidden(
            "observers cannot create actors".into(),
        ))),
    }
}
