//! The event log of play sessions: every request, decision and applied
//! change, in one table partitioned by month (migration 5).
//!
//! Commits are versioned by `play_sessions.version`, bumped in the same
//! transaction that writes them and guarded by the owner's fencing epoch,
//! so versions are gap-free and a node that lost a session cannot write to
//! it. `session_actions` records each action id's outcome once: it is both
//! the last guard against two commits with one version and the idempotency
//! record.

use std::collections::{HashMap, HashSet};

use serde_json::Value;
use shared::{
    fair::Seed,
    id::{ActionId, CampaignId, EncounterId, SessionId, UserId},
    rules::ApprovalPolicy,
};
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Error, Result};

mod batch;
pub mod dice;
mod replay;
mod requests;

pub use batch::*;
pub use replay::*;
pub use requests::*;

/// Starts a play session at version 0, epoch 0.
pub async fn start_session(
    db: &PgPool,
    campaign: CampaignId,
    encounter: Option<EncounterId>,
    started_by: UserId,
    policy: &ApprovalPolicy,
) -> Result<SessionId> {
    let id = Uuid::new_v4();
    let policy =
        serde_json::to_value(policy).map_err(Error::failed("serializing the approval rules"))?;
    sqlx::query!(
        "insert into play_sessions (id, campaign_id, encounter_id, approval_policy, started_by, dice_seed)
         values ($1, $2, $3, $4, $5, $6)",
        id,
        campaign.0,
        encounter.map(|e| e.0),
        policy,
        started_by.0,
        &new_seed()?[..],
    )
    .execute(db)
    .await?;
    Ok(SessionId(id))
}

/// Starts a session on `encounter`, or finds the one already running on
/// it: the schema allows one running session per encounter, so two starts
/// at once cannot both insert. The flag says whether the session is new.
pub async fn start_or_join(
    db: &PgPool,
    campaign: CampaignId,
    encounter: EncounterId,
    started_by: UserId,
    policy: &ApprovalPolicy,
) -> Result<(SessionId, bool)> {
    let mut conn = db.acquire().await?;
    // A running session can end between the insert and the look-up: try
    // again then (a few times; each round is a real change of state).
    for _ in 0..3 {
        if let Some(started) =
            start_or_join_in(&mut conn, campaign, encounter, started_by, policy).await?
        {
            return Ok(started);
        }
    }
    Err(starting_or_ending())
}

/// One try of [`start_or_join`] on `conn` (a transaction when the start
/// must go with other writes): `None` when the session found running on
/// the encounter ended before it could be read.
pub async fn start_or_join_in(
    conn: &mut sqlx::PgConnection,
    campaign: CampaignId,
    encounter: EncounterId,
    started_by: UserId,
    policy: &ApprovalPolicy,
) -> Result<Option<(SessionId, bool)>> {
    let policy =
        serde_json::to_value(policy).map_err(Error::failed("serializing the approval rules"))?;
    let seed = new_seed()?;
    let inserted = sqlx::query_scalar!(
        "insert into play_sessions (id, campaign_id, encounter_id, approval_policy, started_by, dice_seed)
             values ($1, $2, $3, $4, $5, $6)
             on conflict (encounter_id) where ended_at is null do nothing
             returning id",
        Uuid::new_v4(),
        campaign.0,
        encounter.0,
        policy,
        started_by.0,
        &seed[..],
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(id) = inserted {
        return Ok(Some((SessionId(id), true)));
    }
    let running = running_on(&mut *conn, encounter).await?;
    Ok(running.map(|id| (id, false)))
}

/// A session's dice seed, drawn when it starts, before anything can be
/// rolled in it (shared::fair).
fn new_seed() -> Result<[u8; 32]> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(Error::failed("drawing the dice seed"))?;
    Ok(seed)
}

/// The refusal when a session on an encounter kept starting or ending
/// while another was being started on it.
pub fn starting_or_ending() -> Error {
    Error::Refused(shared::Error::InvalidAction(
        "a session on this encounter is starting or ending; try again".into(),
    ))
}

/// Sessions running in a campaign.
pub async fn running_in(db: &PgPool, campaign: CampaignId) -> Result<usize> {
    let count = sqlx::query_scalar!(
        r#"select count(*) as "count!" from play_sessions where campaign_id = $1 and ended_at is null"#,
        campaign.0
    )
    .fetch_one(db)
    .await?;
    Ok(usize::try_from(count).unwrap_or(usize::MAX))
}

/// Takes ownership of a session: bumps and returns its fencing epoch. Every
/// commit names the epoch it was made under; the previous owner's commits
/// fail from now on.
pub async fn take_ownership(db: &PgPool, session: SessionId) -> Result<i64> {
    sqlx::query_scalar!(
        "update play_sessions set epoch = epoch + 1 where id = $1 returning epoch",
        session.0
    )
    .fetch_optional(db)
    .await?
    .ok_or_else(|| unknown_session(session))
}

/// The current version and epoch of a session.
pub async fn position(db: &PgPool, session: SessionId) -> Result<(u64, i64)> {
    let row = sqlx::query!(
        "select version, epoch from play_sessions where id = $1",
        session.0
    )
    .fetch_optional(db)
    .await?
    .ok_or_else(|| unknown_session(session))?;
    Ok((version_from_db(row.version)?, row.epoch))
}

/// The session running on an encounter (not ended), the newest if several
/// were started before starting was made to join the running one.
pub async fn running_on(
    db: impl sqlx::PgExecutor<'_>,
    encounter: EncounterId,
) -> Result<Option<SessionId>> {
    Ok(sqlx::query_scalar!(
        "select id from play_sessions where encounter_id = $1 and ended_at is null
          order by started_at desc limit 1",
        encounter.0
    )
    .fetch_optional(db)
    .await?
    .map(SessionId))
}

/// The sessions of a campaign not ended, newest first.
pub async fn sessions_of(
    db: &PgPool,
    campaign: CampaignId,
) -> Result<Vec<shared::campaign::SessionSummary>> {
    sqlx::query!(
        "select id, encounter_id, started_at, version from play_sessions
          where campaign_id = $1 and ended_at is null
          order by started_at desc, id",
        campaign.0,
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|row| {
        Ok(shared::campaign::SessionSummary {
            id: SessionId(row.id),
            encounter: row.encounter_id.map(EncounterId),
            started_at: row.started_at,
            version: version_from_db(row.version)?,
        })
    })
    .collect()
}

fn version_from_db(version: i64) -> Result<u64> {
    u64::try_from(version).map_err(|_| Error::Internal(format!("negative version {version}")))
}

fn unknown_session(session: SessionId) -> Error {
    Error::Refused(shared::Error::InvalidAction(format!(
        "no play session {session}"
    )))
}

/// What a session is about: its campaign, encounter and approval rules.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionInfo {
    /// The campaign played.
    pub campaign: CampaignId,
    /// The encounter on the table.
    pub encounter: Option<EncounterId>,
    /// The approval rules.
    pub policy: ApprovalPolicy,
    /// Set once the GM ended it.
    pub ended: bool,
    /// The secret its dice come from (none for a session started before
    /// dice could be checked): the server's alone until the session ends.
    pub dice: Option<Seed>,
}

/// Reads a session's record; `None` when there is no such session.
pub async fn session_info(db: &PgPool, session: SessionId) -> Result<Option<SessionInfo>> {
    sqlx::query!(
        "select campaign_id, encounter_id, approval_policy, ended_at is not null as \"ended!\", dice_seed
           from play_sessions where id = $1",
        session.0
    )
    .fetch_optional(db)
    .await?
    .map(|row| {
        Ok(SessionInfo {
            campaign: CampaignId(row.campaign_id),
            encounter: row.encounter_id.map(EncounterId),
            // The column's default, '{}', means the default rules.
            policy: if row.approval_policy == Value::Object(Default::default()) {
                ApprovalPolicy::default()
            } else {
                serde_json::from_value(row.approval_policy).map_err(|error| {
                    Error::CorruptRow(shared::Error::InvalidAction(format!(
                        "approval policy: {error}"
                    )))
                })?
            },
            ended: row.ended,
            dice: row.dice_seed.as_deref().map(seed_from_db).transpose()?,
        })
    })
    .transpose()
}

/// A stored dice seed: 32 bytes (the table's constraint says so too).
pub(crate) fn seed_from_db(bytes: &[u8]) -> Result<Seed> {
    <[u8; 32]>::try_from(bytes).map(Seed).map_err(|_| {
        Error::CorruptRow(shared::Error::InvalidAction(format!(
            "a dice seed of {} bytes",
            bytes.len()
        )))
    })
}
