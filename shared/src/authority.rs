//! The authoritative copy of a session's state: what the server's session
//! actor holds. It versions accepted changes and rebases requests made
//! against older versions over what was committed since.
//!
//! The server applies a commit here, persists it, and only then reports it;
//! if persisting fails it calls [`Authority::revert`], so nothing a client
//! was told about is ever missing from the log.

use std::collections::VecDeque;

use crate::{
    Error, Result,
    change::{Change, Commit, Undo, Version},
    id::ActionId,
    ot::{self, Rebased},
    store::Store,
};

/// The state, its version, and the recent commits for rebasing.
#[derive(Debug, Clone)]
pub struct Authority {
    store: Store,
    version: Version,
    recent: VecDeque<(Commit, usize)>,
    history: usize,
    /// Roughly how many bytes `recent` holds: bounded by
    /// [`crate::limits::MAX_HISTORY_BYTES`], so large commits cannot make
    /// the history grow without end.
    recent_bytes: usize,
}

impl Authority {
    /// Commits kept for rebasing by default. A request based on an older
    /// version is refused as stale: the client resyncs and asks again.
    pub const DEFAULT_HISTORY: usize = 1024;

    /// Starts from `store` at `version`.
    pub fn new(store: Store, version: Version) -> Self {
        Self::with_history(store, version, Self::DEFAULT_HISTORY)
    }

    /// Starts from `store` at `version`, keeping `history` commits.
    pub fn with_history(store: Store, version: Version, history: usize) -> Self {
        Self {
            store,
            version,
            recent: VecDeque::new(),
            history: history.max(1),
            recent_bytes: 0,
        }
    }

    /// The current state.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The version of the current state.
    pub fn version(&self) -> Version {
        self.version
    }

    /// Commits after `version`, oldest first, if still in the history.
    pub fn commits_since(&self, version: Version) -> Option<impl Iterator<Item = &Commit>> {
        if version > self.version {
            return None;
        }
        let oldest = self
            .recent
            .front()
            .map_or(self.version + 1, |(c, _)| c.version);
        (version + 1 >= oldest).then(|| {
            self.recent
                .iter()
                .map(|(c, _)| c)
                .filter(move |c| c.version > version)
        })
    }

    /// Transforms changes proposed against `base` over every commit since.
    pub fn rebase(&self, changes: &[Change], base: Version) -> Result<Rebased> {
        let since = self.commits_since(base).ok_or_else(|| {
            Error::InvalidAction(format!(
                "the request was made against version {base}, too old to reconcile with {}; resync and try again",
                self.version
            ))
        })?;
        let committed: Vec<&Change> = since.flat_map(|commit| &commit.changes).collect();
        Ok(ot::rebase(changes, committed.iter().copied()))
    }

    /// Applies changes atomically as the next version.
    pub fn commit(
        &mut self,
        action: Option<ActionId>,
        changes: Vec<Change>,
    ) -> Result<(Commit, Undo)> {
        let undo = self.store.apply_all(&changes)?;
        self.version += 1;
        let commit = Commit {
            version: self.version,
            action,
            changes,
        };
        let bytes = commit.changes.iter().map(Change::approx_bytes).sum();
        self.recent.push_back((commit.clone(), bytes));
        self.recent_bytes += bytes;
        // The newest commit always stays: a request based on the version
        // before it can still be rebased.
        while self.recent.len() > 1
            && (self.recent.len() > self.history
                || self.recent_bytes > crate::limits::MAX_HISTORY_BYTES)
        {
            if let Some((_, dropped)) = self.recent.pop_front() {
                self.recent_bytes -= dropped;
            }
        }
        Ok((commit, undo))
    }

    /// Takes back the latest commit (its persistence failed).
    pub fn revert(&mut self, commit: &Commit, undo: Undo) -> Result<()> {
        if commit.version != self.version {
            return Err(Error::VersionGap {
                expected: self.version,
                got: commit.version,
            });
        }
        self.store.undo(undo);
        // It may have left the history already (a batch of large commits);
        // the state is what matters.
        if self.recent.back().map(|(c, _)| c.version) == Some(commit.version)
            && let Some((_, bytes)) = self.recent.pop_back()
        {
            self.recent_bytes -= bytes;
        }
        self.version -= 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::*;

    #[test]
    fn commits_are_numbered_without_gaps_and_can_be_reverted() {
        let mut authority = Authority::new(sample(), 7);
        let (first, _) = authority
            .commit(
                None,
                vec![set(&format!("tokens/{}/name", tid(1)), json!("A"))],
            )
            .unwrap();
        let (second, undo) = authority
            .commit(
                None,
                vec![set(&format!("tokens/{}/name", tid(1)), json!("B"))],
            )
            .unwrap();
        assert_eq!((first.version, second.version), (8, 9));
        authority.revert(&second, undo).unwrap();
        assert_eq!(authority.version(), 8);
        assert_eq!(authority.store().token(tid(1)).unwrap().name, "A");
        assert!(authority.revert(&second, Undo::default()).is_err());
    }

    #[test]
    fn the_history_is_bounded_in_bytes_and_a_batch_still_reverts() {
        let mut authority = Authority::new(sample(), 0);
        let line = json!({"kind": "chat", "text": "x".repeat(crate::limits::MAX_LOG_LINE_CHARS)});
        let log = path(&format!("encounters/{}/log", eid(1)));
        let big = || vec![Change::append(log.clone(), line.clone()); 30];
        let mut batch = Vec::new();
        for _ in 0..60 {
            batch.push(authority.commit(None, big()).unwrap());
        }
        assert!(authority.recent_bytes <= crate::limits::MAX_HISTORY_BYTES);
        assert!(authority.recent.len() < 60, "nothing was dropped");
        assert!(authority.commits_since(0).is_none());
        assert!(authority.commits_since(59).is_some());
        // A failed batch write reverts every commit of it, even those that
        // left the history.
        let before = sample();
        for (commit, undo) in batch.into_iter().rev() {
            authority.revert(&commit, undo).unwrap();
        }
        assert_eq!(authority.version(), 0);
        assert_eq!(*authority.store(), before);
        assert_eq!(authority.recent_bytes, 0);
    }

    #[test]
    fn a_refused_commit_takes_no_version() {
        let mut authority = Authority::new(sample(), 0);
        assert!(
            authority
                .commit(
                    None,
                    vec![set(&format!("tokens/{}/name", tid(99)), json!("A"))]
                )
                .is_err()
        );
        assert_eq!(authority.version(), 0);
        assert_eq!(authority.store(), &sample());
    }

    #[test]
    fn rebase_sees_only_commits_after_the_base() {
        let mut authority = Authority::with_history(sample(), 0, 2);
        authority
            .commit(
                None,
                vec![Change::delete(path(&format!("tokens/{}", tid(3))))],
            )
            .unwrap();
        let request = vec![set(&format!("tokens/{}/name", tid(3)), json!("x"))];
        assert_eq!(authority.rebase(&request, 1).unwrap().kept, request);
        assert_eq!(authority.rebase(&request, 0).unwrap().dropped, 1);
        authority.commit(None, vec![]).unwrap();
        authority.commit(None, vec![]).unwrap();
        // Version 1 fell out of the history of two.
        assert!(authority.rebase(&request, 0).is_err());
        assert!(authority.rebase(&request, 1).is_ok());
        assert!(authority.rebase(&request, 9).is_err());
    }
}
