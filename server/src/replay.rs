//! An evening to replay: the session's starting state and its commits from
//! the event log, filtered for the reader exactly as the live session
//! filtered them ([`shared::replay::as_seen_by`]). The filtering replays
//! every commit, so it runs on the blocking pool, not on a request's task.

use shared::{
    change::Commit,
    id::SessionId,
    replay::{Evening, MAX_REPLAY_COMMITS, Step},
    rules::Participant,
    store::Entities,
};
use sqlx::PgPool;

use crate::{Error, Result, event_log};

/// `session`'s evening as `reader` may replay it (the caller has checked
/// that they may). A session nobody ever opened has an empty evening.
pub async fn evening(
    db: &PgPool,
    session: SessionId,
    reader: Participant,
    ended: bool,
) -> Result<Evening> {
    let Some((start, logged)) = event_log::evening(db, session, MAX_REPLAY_COMMITS + 1).await?
    else {
        return Err(Error::Refused(shared::Error::InvalidAction(
            "nobody has opened this session's table yet: there is nothing to replay".into(),
        )));
    };
    let truncated = logged.len() > MAX_REPLAY_COMMITS;
    let corrupt = |what: &str, error: serde_json::Error| {
        Error::Internal(format!("session {session}: {what} in the log: {error}"))
    };
    let start: Entities = serde_json::from_value(start)
        .map_err(|e| corrupt("a starting state that does not read", e))?;
    let mut commits = Vec::with_capacity(logged.len().min(MAX_REPLAY_COMMITS));
    let mut about = Vec::with_capacity(commits.capacity());
    for entry in logged.into_iter().take(MAX_REPLAY_COMMITS) {
        let commit: Commit = serde_json::from_value(entry.commit)
            .map_err(|e| corrupt("a commit that does not read", e))?;
        commits.push(commit);
        let at_ms = entry
            .applied_at
            .map(|at| i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX))
            .unwrap_or_default();
        about.push((entry.kind, entry.by, at_ms));
    }
    let gm = reader.role.is_gm_or_assistant();
    let filtered =
        tokio::task::spawn_blocking(move || shared::replay::as_seen_by(&reader, start, commits))
            .await
            .map_err(|e| Error::Internal(format!("filtering a replay: {e}")))?
            .map_err(Error::CorruptRow)?;
    let (start, seen) = filtered;
    let steps = seen
        .into_iter()
        .zip(about)
        .map(|(commit, (kind, by, at_ms))| {
            // What the reader saw nothing of, they do not learn the kind
            // or the author of either (a GM's secret roll, a hidden
            // monster's move): only that the version passed, as live.
            let told = gm || !commit.changes.is_empty();
            Step {
                commit,
                kind: told.then_some(kind),
                by: by.filter(|_| told),
                at_ms,
            }
        })
        .collect();
    Ok(Evening {
        session,
        you: reader,
        start,
        steps,
        truncated,
        ended,
    })
}
