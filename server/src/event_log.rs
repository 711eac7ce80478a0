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
    id::{ActionId, CampaignId, EncounterId, SessionId, UserId},
    rules::ApprovalPolicy,
};
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Error, Result};

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
        "insert into play_sessions (id, campaign_id, encounter_id, approval_policy, started_by)
         values ($1, $2, $3, $4, $5)",
        id,
        campaign.0,
        encounter.map(|e| e.0),
        policy,
        started_by.0,
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
    let policy =
        serde_json::to_value(policy).map_err(Error::failed("serializing the approval rules"))?;
    // A running session can end between the insert and the look-up: try
    // again then (a few times; each round is a real change of state).
    for _ in 0..3 {
        let inserted = sqlx::query_scalar!(
            "insert into play_sessions (id, campaign_id, encounter_id, approval_policy, started_by)
             values ($1, $2, $3, $4, $5)
             on conflict (encounter_id) where ended_at is null do nothing
             returning id",
            Uuid::new_v4(),
            campaign.0,
            encounter.0,
            policy,
            started_by.0,
        )
        .fetch_optional(db)
        .await?;
        if let Some(id) = inserted {
            return Ok((SessionId(id), true));
        }
        if let Some(running) = running_on(db, encounter).await? {
            return Ok((running, false));
        }
    }
    Err(Error::Refused(shared::Error::InvalidAction(
        "a session on this encounter is starting or ending; try again".into(),
    )))
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
async fn refuse_in(
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

/// One change to commit.
#[derive(Debug, Clone)]
pub struct NewCommit {
    /// The action it applies.
    pub action: ActionId,
    /// Who asked.
    pub initiated_by: Option<UserId>,
    /// Who approved it (`None` with `auto_approved`).
    pub decided_by: Option<UserId>,
    /// Approved by a rule rather than a person.
    pub auto_approved: bool,
    /// The kind of action (`move_token`, ...).
    pub event_type: String,
    /// The action as requested.
    pub event_data: Json,
    /// The changes applied (a `shared::change::Commit` as JSON).
    pub state_changes: Json,
    /// The encounter it changes.
    pub encounter: Option<EncounterId>,
    /// The outcome a resend of the same action id gets.
    pub outcome: Json,
}

/// A JSON document, serialized once where it is made: the hot path writes
/// it as text, never building a `serde_json::Value` tree.
pub type Json = Box<serde_json::value::RawValue>;

/// Serializes `value` for the log.
pub fn json(value: &impl serde::Serialize) -> Result<Json> {
    serde_json::value::to_raw_value(value).map_err(Error::failed("serializing for the event log"))
}

/// Commits a batch in one transaction: bumps the session's version under
/// `epoch`, writes each change with its version, marks queued requests
/// approved and records each outcome. Returns the versions, in order.
///
/// Fails with [`Error::Fenced`] when another node has taken the session
/// (nothing is written), and with a refusal when an action id was already
/// committed.
pub async fn commit(
    db: &PgPool,
    session: SessionId,
    epoch: i64,
    commits: &[NewCommit],
) -> Result<Vec<u64>> {
    commit_many(db, &[SessionBatch::commits(session, epoch, commits)])
        .await?
        .pop()
        .unwrap_or_else(|| Err(Error::Internal("a batch without an outcome".into())))
}

/// One session's batch for [`commit_many`].
#[derive(Debug, Clone, Copy)]
pub struct SessionBatch<'a> {
    /// The session.
    pub session: SessionId,
    /// The fencing epoch its writer holds.
    pub epoch: i64,
    /// Its changes, in order.
    pub commits: &'a [NewCommit],
    /// Requests it queued for the GM, in order (written before the
    /// changes, in the same transaction).
    pub pending: &'a [NewPending],
    /// Requests it refused or let expire (written before the changes, in
    /// the same transaction).
    pub refusals: &'a [NewRefusal],
    /// New auto-approval rules (written in the same transaction).
    pub policy: Option<&'a Value>,
}

impl<'a> SessionBatch<'a> {
    /// A batch of changes alone.
    pub fn commits(session: SessionId, epoch: i64, commits: &'a [NewCommit]) -> Self {
        Self {
            session,
            epoch,
            commits,
            pending: &[],
            refusals: &[],
            policy: None,
        }
    }

    /// Whether it writes anything besides changes (then the statement
    /// runs in a transaction with the other writes).
    fn writes_more(&self) -> bool {
        !self.pending.is_empty() || !self.refusals.is_empty() || self.policy.is_some()
    }
}

/// A request to queue for the GM ([`record_pending`], batched).
#[derive(Debug, Clone)]
pub struct NewPending {
    /// The request's action id.
    pub action: ActionId,
    /// Who asked.
    pub initiated_by: UserId,
    /// The kind of action (`move_token`, ...).
    pub event_type: String,
    /// The request as asked.
    pub event_data: Json,
    /// The encounter it concerns.
    pub encounter: Option<EncounterId>,
}

/// [`commit`] for the batches of several sessions in one statement (so in
/// one transaction and one fsync): what a node's sessions have waiting
/// together is written together. Returns, per batch and in order, its
/// versions or [`Error::Fenced`]; a fenced session writes nothing and does
/// not stop the others. Any other failure (an action id committed before)
/// fails the whole statement: the caller retries the batches one by one
/// to find out whose it was. Each session appears at most once.
///
/// Requests queued for the GM, refusals and new rules go in the same
/// transaction, first, for the sessions whose epoch still matches (locked
/// against a takeover until it ends): more statements, only when there are
/// any.
pub async fn commit_many(
    db: &PgPool,
    batches: &[SessionBatch<'_>],
) -> Result<Vec<Result<Vec<u64>>>> {
    if !batches.iter().any(SessionBatch::writes_more) {
        return commit_rows(db, batches).await;
    }
    let mut tx = db.begin().await?;
    let owned = own_many(&mut tx, batches).await?;
    queue_many(&mut tx, batches).await?;
    for batch in batches.iter().filter(|b| owned.contains(&b.session.0)) {
        for refusal in batch.refusals {
            refuse_in(
                &mut tx,
                batch.session,
                refusal.action,
                refusal.ending,
                refusal.decided_by,
                &refusal.reason,
                &refusal.outcome,
            )
            .await?;
        }
        if let Some(policy) = batch.policy {
            set_policy_in(&mut tx, batch.session, policy).await?;
        }
    }
    let outcomes = commit_rows(&mut *tx, batches).await?;
    tx.commit().await?;
    Ok(batches
        .iter()
        .zip(outcomes)
        .map(|(batch, outcome)| {
            if !batch.writes_more() || owned.contains(&batch.session.0) {
                outcome
            } else {
                Err(Error::Fenced {
                    session: batch.session,
                })
            }
        })
        .collect())
}

/// The sessions of `batches` whose epoch still matches, locked against a
/// takeover until the transaction ends.
async fn own_many(
    tx: &mut sqlx::PgConnection,
    batches: &[SessionBatch<'_>],
) -> Result<HashSet<Uuid>> {
    let (sessions, epochs): (Vec<Uuid>, Vec<i64>) = batches
        .iter()
        .filter(|b| b.writes_more())
        .map(|b| (b.session.0, b.epoch))
        .unzip();
    Ok(sqlx::query_scalar!(
        "select p.id from play_sessions p
          where (p.id, p.epoch) in (select * from unnest($1::uuid[], $2::int8[]))
            for share",
        &sessions,
        &epochs,
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect())
}

/// Inserts the batches' queued requests, for the sessions whose epoch
/// still matches (locked against a takeover until the transaction ends).
async fn queue_many(tx: &mut sqlx::PgConnection, batches: &[SessionBatch<'_>]) -> Result<()> {
    let rows = batches
        .iter()
        .flat_map(|b| b.pending.iter().map(move |p| (b, p)));
    let mut sessions = Vec::new();
    let mut epochs = Vec::new();
    let mut actions = Vec::new();
    let mut types = Vec::new();
    let mut initiated = Vec::new();
    let mut data = Vec::new();
    let mut encounters = Vec::new();
    for (batch, pending) in rows {
        sessions.push(batch.session.0);
        epochs.push(batch.epoch);
        actions.push(pending.action.0);
        types.push(pending.event_type.clone());
        initiated.push(pending.initiated_by.0);
        data.push(pending.event_data.get().to_owned());
        encounters.push(pending.encounter.map(|e| e.0));
    }
    sqlx::query_scalar!(
        r#"with input as (
               select * from unnest($1::uuid[], $2::int8[], $3::uuid[], $4::text[], $5::uuid[], $6::text[],
                                    $7::uuid[])
                      with ordinality as u (s, ep, a, t, i, ed, e, n)
           ),
           owned as (
               select p.id from play_sessions p
                where (p.id, p.epoch) in (select distinct s, ep from input)
                  for share
           )
           insert into event_log (session_id, action_id, event_type, status, initiated_by, event_data, encounter_id)
           select input.s, input.a, input.t, 'pending', input.i, input.ed::jsonb, input.e
             from input join owned on owned.id = input.s
            order by input.n
           returning session_id"#,
        &sessions,
        &epochs,
        &actions,
        &types,
        &initiated,
        &data,
        &encounters as &[Option<Uuid>],
    )
    .fetch_all(&mut *tx)
    .await?;
    Ok(())
}

/// The applied changes of [`commit_many`], in one statement.
async fn commit_rows<'c>(
    db: impl sqlx::PgExecutor<'c>,
    batches: &[SessionBatch<'_>],
) -> Result<Vec<Result<Vec<u64>>>> {
    let rows = batches
        .iter()
        .flat_map(|b| b.commits.iter().map(move |c| (b, c)));
    let mut sessions = Vec::new();
    let mut epochs = Vec::new();
    let mut actions = Vec::new();
    let mut types = Vec::new();
    let mut initiated = Vec::new();
    let mut decided = Vec::new();
    let mut auto = Vec::new();
    let mut data = Vec::new();
    let mut changes = Vec::new();
    let mut encounters = Vec::new();
    let mut outcomes = Vec::new();
    for (batch, commit) in rows {
        sessions.push(batch.session.0);
        epochs.push(batch.epoch);
        actions.push(commit.action.0);
        types.push(commit.event_type.clone());
        initiated.push(commit.initiated_by.map(|u| u.0));
        decided.push(commit.decided_by.map(|u| u.0));
        auto.push(commit.auto_approved);
        data.push(commit.event_data.get().to_owned());
        changes.push(commit.state_changes.get().to_owned());
        encounters.push(commit.encounter.map(|e| e.0));
        outcomes.push(commit.outcome.get().to_owned());
    }
    if actions.is_empty() {
        return Ok(batches.iter().map(|_| Ok(Vec::new())).collect());
    }
    // One statement, so one round trip and one implicit transaction: each
    // session's version moves by its row count under its epoch, its rows
    // take the versions after the old one in input order, outcomes are
    // recorded, what was queued is marked approved, the applied rows are
    // appended. A fenced session's update matches nothing, so its rows
    // join nothing and are not written.
    let bumped = sqlx::query!(
        r#"with input as (
               select u.s, u.ep, u.a, u.t, u.i, u.d, u.au, u.ed, u.sc, u.e, u.o, u.n
                 from unnest($1::uuid[], $2::int8[], $3::uuid[], $4::text[], $5::uuid[], $6::uuid[], $7::bool[],
                             $8::text[], $9::text[], $10::uuid[], $11::text[])
                      with ordinality as u (s, ep, a, t, i, d, au, ed, sc, e, o, n)
           ),
           counts as (
               select s, ep, count(*) as c from input group by s, ep
           ),
           bumped as (
               update play_sessions p set version = p.version + counts.c
                 from counts
                where p.id = counts.s and p.epoch = counts.ep
               returning p.id, p.version, counts.c
           ),
           x as (
               select input.*,
                      bumped.version - bumped.c + row_number() over (partition by input.s order by input.n) as v
                 from input join bumped on bumped.id = input.s
           ),
           recorded as (
               insert into session_actions (session_id, action_id, version, outcome, user_id)
               select x.s, x.a, x.v, x.o::jsonb, x.i from x
           ),
           approved as (
               update event_log set status = 'approved', decided_by = x.d, auto_approved = x.au, decided_at = now()
                 from x
                where event_log.session_id = x.s and event_log.action_id = x.a and event_log.status = 'pending'
           ),
           applied as (
               insert into event_log (session_id, action_id, version, event_type, status, initiated_by, decided_by,
                                      auto_approved, event_data, state_changes, encounter_id, decided_at, applied_at)
               select x.s, x.a, x.v, x.t, 'applied', x.i, x.d, x.au, x.ed::jsonb, x.sc::jsonb, x.e, now(), now()
                 from x
           )
           select id as "session!", version as "version!" from bumped"#,
        &sessions,
        &epochs,
        &actions,
        &types,
        &initiated as &[Option<Uuid>],
        &decided as &[Option<Uuid>],
        &auto,
        &data,
        &changes,
        &encounters as &[Option<Uuid>],
        &outcomes,
    )
    .fetch_all(db)
    .await
    .map_err(already_processed)?;
    let last: HashMap<Uuid, i64> = bumped
        .into_iter()
        .map(|row| (row.session, row.version))
        .collect();
    batches
        .iter()
        .map(|batch| {
            if batch.commits.is_empty() {
                return Ok(Vec::new());
            }
            let count = i64::try_from(batch.commits.len())
                .map_err(|_| Error::Internal("a batch larger than i64".into()))?;
            let last = *last.get(&batch.session.0).ok_or(Error::Fenced {
                session: batch.session,
            })?;
            (last - count + 1..=last).map(version_from_db).collect()
        })
        .map(Ok)
        .collect()
}

/// A second outcome for one action id: the action was processed before.
fn already_processed(error: sqlx::Error) -> Error {
    Error::on_constraint(error, |constraint| {
        (constraint == "session_actions_pkey")
            .then(|| shared::Error::InvalidAction("this action was already processed".into()))
    })
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

/// The session running on an encounter (not ended), the newest if several
/// were started before starting was made to join the running one.
pub async fn running_on(db: &PgPool, encounter: EncounterId) -> Result<Option<SessionId>> {
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

/// Keeps the session's auto-approval rules (a serialized
/// [`ApprovalPolicy`]), in a batch's transaction.
async fn set_policy_in(
    tx: &mut sqlx::PgConnection,
    session: SessionId,
    policy: &Value,
) -> Result<()> {
    sqlx::query!(
        "update play_sessions set approval_policy = $2 where id = $1",
        session.0,
        policy,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

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
}

/// Reads a session's record; `None` when there is no such session.
pub async fn session_info(db: &PgPool, session: SessionId) -> Result<Option<SessionInfo>> {
    sqlx::query!(
        "select campaign_id, encounter_id, approval_policy, ended_at is not null as \"ended!\"
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
        })
    })
    .transpose()
}
