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
