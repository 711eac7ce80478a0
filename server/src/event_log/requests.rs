//! Requests that wait for the GM, and how a request ends without being
//! applied (rejected, expired, or refused when the session ends); the
//! outcome a resend of an action id gets.

use super::*;

/// A request waiting for the GM.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingRequest {
    /// The client's action id.
    pub action: ActionId,
    /// Who asked.
    pub initiated_by: Option<UserId>,
    /// The action as requested.
    pub event_type: String,
    /// The request (a `shared::action::Action` as JSON).
    pub event_data: Value,
    /// When it was asked.
    pub requested_at: OffsetDateTime,
}

/// Records a request that waits for the GM. It survives the GM being away:
/// [`pending`] lists it until it is decided or expires.
pub async fn record_pending(
    db: &PgPool,
    session: SessionId,
    action: ActionId,
    initiated_by: UserId,
    event_type: &str,
    event_data: &Value,
    encounter: Option<EncounterId>,
) -> Result<()> {
    sqlx::query!(
        "insert into event_log (session_id, action_id, event_type, status, initiated_by, event_data, encounter_id)
         values ($1, $2, $3, 'pending', $4, $5, $6)",
        session.0,
        action.0,
        event_type,
        initiated_by.0,
        event_data,
        encounter.map(|e| e.0),
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The requests of a session still waiting for a decision, oldest first.
pub async fn pending(db: &PgPool, session: SessionId) -> Result<Vec<PendingRequest>> {
    Ok(sqlx::query!(
        r#"select action_id as "action_id!", initiated_by, event_type, event_data, requested_at
             from event_log
            where session_id = $1 and status = 'pending' and action_id is not null
            order by requested_at, id"#,
        session.0
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|row| PendingRequest {
        action: ActionId(row.action_id),
        initiated_by: row.initiated_by.map(UserId),
        event_type: row.event_type,
        event_data: row.event_data,
        requested_at: row.requested_at,
    })
    .collect())
}

/// How a request ended without being applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The GM (or a rule) rejected it.
    Rejected,
    /// Nobody decided in time.
    Expired,
}

/// A request ended without being applied ([`refuse`], batched).
#[derive(Debug, Clone)]
pub struct NewRefusal {
    /// The request's action id.
    pub action: ActionId,
    /// Rejected or expired.
    pub ending: Ending,
    /// Who rejected it (`None` for a rule or an expiry).
    pub decided_by: Option<UserId>,
    /// Why, as the requester is told.
    pub reason: String,
    /// The outcome a resend of the same action id gets.
    pub outcome: Value,
}

/// Ends a request without applying it: marks it rejected or expired, with
/// the reason, and records its outcome so a resend gets the same answer.
pub async fn refuse(
    db: &PgPool,
    session: SessionId,
    action: ActionId,
    refusal: Ending,
    decided_by: Option<UserId>,
    reason: &str,
    outcome: &Value,
) -> Result<()> {
    let mut tx = db.begin().await?;
    refuse_in(
        &mut tx, session, action, refusal, decided_by, reason, outcome,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// [`refuse`] inside a transaction.
pub(super) async fn refuse_in(
    tx: &mut sqlx::PgConnection,
    session: SessionId,
    action: ActionId,
    refusal: Ending,
    decided_by: Option<UserId>,
    reason: &str,
    outcome: &Value,
) -> Result<()> {
    let status = match refusal {
        Ending::Rejected => "rejected",
        Ending::Expired => "expired",
    };
    insert_outcome(&mut *tx, session, action, outcome).await?;
    let updated = sqlx::query!(
        "update event_log set status = $3, decided_by = $4, reason = $5, decided_at = now()
          where session_id = $1 and action_id = $2 and status = 'pending'",
        session.0,
        action.0,
        status,
        decided_by.map(|u| u.0),
        reason,
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 0 {
        // Refused at once (never queued): the decision is its own record.
        sqlx::query!(
            "insert into event_log (session_id, action_id, event_type, status, decided_by, event_data, reason, decided_at)
             values ($1, $2, 'request', $3, $4, $5, $6, now())",
            session.0,
            action.0,
            status,
            decided_by.map(|u| u.0),
            outcome,
            reason,
        )
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// Ends a session in the transaction `tx`, under its owner's `epoch`:
/// marks it ended and refuses, with `reason`, every request still waiting
/// for the GM (`waiting`: each action id with the outcome a resend gets).
/// Fails with [`Error::Fenced`] when another node owns the session or it
/// has already ended; then nothing is written.
pub async fn end_in(
    tx: &mut sqlx::PgConnection,
    session: SessionId,
    epoch: i64,
    ended_by: UserId,
    waiting: &[(ActionId, Value)],
    reason: &str,
) -> Result<()> {
    let ended = sqlx::query!(
        "update play_sessions set ended_at = now()
          where id = $1 and epoch = $2 and ended_at is null",
        session.0,
        epoch,
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if ended == 0 {
        return Err(Error::Fenced { session });
    }
    for (action, outcome) in waiting {
        refuse_in(
            &mut *tx,
            session,
            *action,
            Ending::Rejected,
            Some(ended_by),
            reason,
            outcome,
        )
        .await?;
    }
    Ok(())
}

/// Records the outcome of an action that was not applied (no version).
async fn insert_outcome(
    tx: &mut sqlx::PgConnection,
    session: SessionId,
    action: ActionId,
    outcome: &Value,
) -> Result<()> {
    sqlx::query!(
        "insert into session_actions (session_id, action_id, outcome, user_id)
         values ($1, $2, $3,
                 (select initiated_by from event_log
                   where session_id = $1 and action_id = $2 and initiated_by is not null
                   limit 1))",
        session.0,
        action.0,
        outcome,
    )
    .execute(&mut *tx)
    .await
    .map_err(already_processed)?;
    Ok(())
}

/// The recorded outcome of an action id, if it was processed, and who sent
/// the action (when known): a resend is answered with it and never applied
/// twice.
pub async fn outcome(
    db: &PgPool,
    session: SessionId,
    action: ActionId,
) -> Result<Option<(Value, Option<UserId>)>> {
    Ok(sqlx::query!(
        "select outcome, user_id from session_actions where session_id = $1 and action_id = $2",
        session.0,
        action.0
    )
    .fetch_optional(db)
    .await?
    .map(|row| (row.outcome, row.user_id.map(UserId))))
}
