//! An evening replayed: the state a session started from and every commit
//! since, as one reader saw them at the time. The per-recipient filter the
//! live session applied to each commit ([`crate::sight`]) is applied again,
//! in order, over the same states, so a player's replay holds exactly the
//! bytes their socket was sent, and the GM's holds everything.

use serde::{Deserialize, Serialize};

use crate::{
    Result,
    change::Commit,
    id::{SessionId, UserId},
    rules::Participant,
    sight::{SeenBefore, commit_for, entities_for},
    store::{Entities, Store},
};

/// The most commits one replay carries: an evening of 20,000 commits is
/// several hours of a busy table; a longer one is replayed up to there.
pub const MAX_REPLAY_COMMITS: usize = 20_000;

/// One commit on the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// The commit as the reader received it (no changes when it touched
    /// nothing they saw; the version stays, as it did live).
    pub commit: Commit,
    /// What kind of action made it (`move_token`); none for the server's
    /// own, or for a commit the reader saw nothing of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Who asked for it, on the same terms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<UserId>,
    /// When it was applied, in milliseconds since the Unix epoch.
    pub at_ms: i64,
}

/// A session's evening as one reader may replay it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evening {
    /// The session.
    pub session: SessionId,
    /// Who reads it, with the role it is filtered for.
    pub you: Participant,
    /// The state the session started from, as the reader may see it.
    pub start: Entities,
    /// Every commit from version 1, in order.
    pub steps: Vec<Step>,
    /// More commits exist than [`MAX_REPLAY_COMMITS`]; they are left out.
    pub truncated: bool,
    /// Whether the session has ended.
    pub ended: bool,
}

/// The start and the commits of an evening as `who` saw them: `start` is
/// the whole state at version 0, `commits` every commit after it in
/// version order. Fails on a commit that does not apply (a corrupt log) or
/// out of order.
pub fn as_seen_by(
    who: &Participant,
    start: Entities,
    commits: impl IntoIterator<Item = Commit>,
) -> Result<(Entities, Vec<Commit>)> {
    let mut store = Store::from_entities(start)?;
    let first = entities_for(who, &store);
    let mut seen = Vec::new();
    for (expected, commit) in (1..).zip(commits) {
        if commit.version != expected {
            return Err(crate::Error::VersionGap {
                expected,
                got: commit.version,
            });
        }
        let before = SeenBefore::new(&store, &commit.changes);
        store.apply_all(&commit.changes)?;
        seen.push(commit_for(who, &commit, &before, &store));
    }
    Ok((first, seen))
}

#[cfg(test)]
mod tests;
