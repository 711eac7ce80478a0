//! What recovery reads back: the latest snapshot, the commits after it,
//! and every action id with an outcome; and the snapshots it writes.

use super::*;

/// Every action id of the session with a recorded outcome: the session
/// actor holds them so that only a repeated id costs a lookup.
pub async fn action_ids(db: &PgPool, session: SessionId) -> Result<HashSet<ActionId>> {
    Ok(sqlx::query_scalar!(
        "select action_id from session_actions where session_id = $1",
        session.0,
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(ActionId)
    .collect())
}

/// The applied changes after `after`, in version order (the
/// `replay_session_events` function of migration 5).
pub async fn replay(db: &PgPool, session: SessionId, after: u64) -> Result<Vec<(u64, Value)>> {
    let after = i64::try_from(after).map_err(|_| Error::Internal("version beyond i64".into()))?;
    sqlx::query!(
        r#"select version as "version!", state_changes from replay_session_events($1, $2)"#,
        session.0,
        after
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|row| {
        let changes = row.state_changes.ok_or_else(|| {
            Error::Internal(format!("applied event {} has no changes", row.version))
        })?;
        Ok((version_from_db(row.version)?, changes))
    })
    .collect()
}

/// Saves the whole state at `version`, so recovery replays only later
/// commits.
pub async fn save_snapshot(
    db: &PgPool,
    session: SessionId,
    version: u64,
    encounter: Option<EncounterId>,
    state: &Value,
) -> Result<()> {
    let version =
        i64::try_from(version).map_err(|_| Error::Internal("version beyond i64".into()))?;
    sqlx::query!(
        "insert into encounter_snapshots (session_id, version, encounter_id, state) values ($1, $2, $3, $4)
         on conflict (session_id, version) do nothing",
        session.0,
        version,
        encounter.map(|e| e.0),
        state,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The newest snapshot of a session, with its version.
pub async fn latest_snapshot(db: &PgPool, session: SessionId) -> Result<Option<(u64, Value)>> {
    sqlx::query!(
        "select version, state from encounter_snapshots where session_id = $1 order by version desc limit 1",
        session.0
    )
    .fetch_optional(db)
    .await?
    .map(|row| Ok((version_from_db(row.version)?, row.state)))
    .transpose()
}

/// One applied commit as the log keeps it, for a replay.
pub struct LoggedCommit {
    /// The commit (`shared::change::Commit` as JSON).
    pub commit: Value,
    /// The action's kind (`move_token`).
    pub kind: String,
    /// Who asked for it; none for the server's own.
    pub by: Option<UserId>,
    /// When it was applied.
    pub applied_at: Option<OffsetDateTime>,
}

/// What a replay starts from: the state at version 0 and the first
/// `limit` commits after it, in version order; `None` when the session
/// never opened (no state was ever loaded for it).
pub async fn evening(
    db: &PgPool,
    session: SessionId,
    limit: usize,
) -> Result<Option<(Value, Vec<LoggedCommit>)>> {
    let Some(start) = sqlx::query_scalar!(
        "select state from encounter_snapshots where session_id = $1 and version = 0",
        session.0
    )
    .fetch_optional(db)
    .await?
    else {
        return Ok(None);
    };
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let commits = sqlx::query!(
        r#"select e.state_changes as "commit!", e.event_type, e.initiated_by, e.applied_at
             from event_log e
            where e.session_id = $1 and e.status = 'applied' and e.version is not null
              and e.state_changes is not null
            order by e.version
            limit $2"#,
        session.0,
        limit,
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|row| LoggedCommit {
        commit: row.commit,
        kind: row.event_type,
        by: row.initiated_by.map(UserId),
        applied_at: row.applied_at,
    })
    .collect();
    Ok(Some((start, commits)))
}
