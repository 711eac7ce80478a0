//! Writing a session's batch, and the batches of several sessions in one
//! statement: changes with gap-free versions under the fencing epoch,
//! requests queued for the GM, refusals and new rules in the same
//! transaction.

use super::*;

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
    queue_many(&mut tx, batches, &owned).await?;
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

/// Inserts the batches' queued requests, for the sessions [`own_many`]
/// found still theirs (and locked).
async fn queue_many(
    tx: &mut sqlx::PgConnection,
    batches: &[SessionBatch<'_>],
    owned: &HashSet<Uuid>,
) -> Result<()> {
    let rows = batches
        .iter()
        .filter(|b| owned.contains(&b.session.0))
        .flat_map(|b| b.pending.iter().map(move |p| (b, p)));
    let mut sessions = Vec::new();
    let mut actions = Vec::new();
    let mut types = Vec::new();
    let mut initiated = Vec::new();
    let mut data = Vec::new();
    let mut encounters = Vec::new();
    for (batch, pending) in rows {
        sessions.push(batch.session.0);
        actions.push(pending.action.0);
        types.push(pending.event_type.clone());
        initiated.push(pending.initiated_by.0);
        data.push(pending.event_data.get().to_owned());
        encounters.push(pending.encounter.map(|e| e.0));
    }
    if sessions.is_empty() {
        return Ok(());
    }
    sqlx::query!(
        r#"insert into event_log (session_id, action_id, event_type, status, initiated_by, event_data, encounter_id)
           select s, a, t, 'pending', i, ed::jsonb, e
             from unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::text[], $6::uuid[])
                  with ordinality as u (s, a, t, i, ed, e, n)
            order by n"#,
        &sessions,
        &actions,
        &types,
        &initiated,
        &data,
        &encounters as &[Option<Uuid>],
    )
    .execute(&mut *tx)
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
pub(super) fn already_processed(error: sqlx::Error) -> Error {
    Error::on_constraint(error, |constraint| {
        (constraint == "session_actions_pkey")
            .then(|| shared::Error::InvalidAction("this action was already processed".into()))
    })
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
