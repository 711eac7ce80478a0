//! The optimistic layer: what a client shows is the confirmed state plus
//! its own pending actions, rebased on every commit.
//!
//! Only one [`Store`] is kept: the view. The confirmed state is the view
//! with the pending actions undone, which is exact because every apply
//! returns an exact [`Undo`]. On each event the pending actions are
//! unwound, the event applied underneath, and the pending actions
//! re-applied:
//!
//! - a commit caused by one of my pending actions confirms it (the commit's
//!   changes replace my guess, so a GM's modification shows);
//! - a rejection drops the action, and the view is exactly what it would
//!   be had I never sent it;
//! - a commit from someone else is applied underneath, and my pending
//!   actions are transformed over it ([`crate::ot`]): changes under deleted
//!   entities drop out, overlaps no rule settles mark the action
//!   [`PendingStatus::Conflicted`] (the GM will decide), and an action that
//!   no longer applies at all is dropped from the view.

use serde::{Deserialize, Serialize};

use crate::{
    Error, Result,
    change::{Change, Commit, Undo, Version},
    id::ActionId,
    ot,
    store::Store,
};

/// An action sent to the server and not yet decided.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    /// Its id.
    pub id: ActionId,
    /// The changes as proposed, minus those dropped by later commits.
    pub changes: Vec<Change>,
    /// Whether it still applies cleanly.
    pub status: PendingStatus,
    /// Reverts its effect on the view; `None` when it currently does not
    /// apply (and so is not shown).
    undo: Option<Undo>,
}

/// How a pending action stands after the latest commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PendingStatus {
    /// Shown in the view; no commit interfered.
    Shown,
    /// Shown, but a commit from someone else overlaps it in a way only the
    /// GM can settle.
    Conflicted,
    /// Not shown: it no longer applies to the confirmed state. The server
    /// will reject it or the GM will rework it.
    Invalidated,
}

/// What a commit did to the pending actions.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommitOutcome {
    /// My action this commit confirmed, if any.
    pub confirmed: Option<ActionId>,
    /// Pending actions that became conflicted or invalid.
    pub disturbed: Vec<(ActionId, PendingStatus)>,
}

/// Confirmed state plus pending local actions.
#[derive(Debug, Clone)]
pub struct Optimistic {
    view: Store,
    version: Version,
    pending: Vec<Pending>,
}

impl Optimistic {
    /// Starts from a snapshot at `version`, with nothing pending.
    pub fn new(confirmed: Store, version: Version) -> Self {
        Self {
            view: confirmed,
            version,
            pending: Vec::new(),
        }
    }

    /// What to render: the confirmed state with my pending actions on top.
    pub fn view(&self) -> &Store {
        &self.view
    }

    /// The version of the confirmed state: the last commit applied.
    pub fn version(&self) -> Version {
        self.version
    }

    /// My undecided actions, oldest first.
    pub fn pending(&self) -> &[Pending] {
        &self.pending
    }

    /// The confirmed state alone (a copy; for tests and debugging).
    pub fn confirmed(&self) -> Store {
        let mut store = self.view.clone();
        for pending in self.pending.iter().rev() {
            if let Some(undo) = &pending.undo {
                store.undo(undo.clone());
            }
        }
        store
    }

    /// Shows a new action at once. On error (it does not apply to what I
    /// see) nothing changes and the action should not be sent.
    pub fn propose(&mut self, id: ActionId, changes: Vec<Change>) -> Result<()> {
        if self.pending.iter().any(|p| p.id == id) {
            return Err(Error::InvalidAction(format!(
                "action {id} is already pending"
            )));
        }
        let undo = self.view.apply_all(&changes)?;
        self.pending.push(Pending {
            id,
            changes,
            status: PendingStatus::Shown,
            undo: Some(undo),
        });
        Ok(())
    }

    /// Applies the next commit. A commit at or below the confirmed version
    /// was seen already and is ignored; one further ahead is a gap, refused
    /// with [`Error::VersionGap`] so the caller asks for what it missed.
    /// A commit that does not apply means this copy diverged from the
    /// server: the error is returned, nothing changes, and the caller should
    /// ask for a snapshot ([`Optimistic::reset`]).
    pub fn commit(&mut self, commit: &Commit) -> Result<CommitOutcome> {
        if commit.version <= self.version {
            return Ok(CommitOutcome::default());
        }
        if commit.version != self.version + 1 {
            return Err(Error::VersionGap {
                expected: self.version + 1,
                got: commit.version,
            });
        }
        self.unwind(0);
        if let Err(error) = self.view.apply_all(&commit.changes) {
            self.rewind(0, &[]);
            return Err(error);
        }
        self.version = commit.version;
        let confirmed = commit.action.and_then(|id| {
            let at = self.pending.iter().position(|p| p.id == id)?;
            self.pending.remove(at);
            Some(id)
        });
        let disturbed = self.rewind(0, &commit.changes);
        Ok(CommitOutcome {
            confirmed,
            disturbed,
        })
    }

    /// Drops a rejected action: the view becomes exactly what it would be
    /// had the action never been proposed.
    pub fn reject(&mut self, id: ActionId) -> Result<Vec<(ActionId, PendingStatus)>> {
        let at = self
            .pending
            .iter()
            .position(|p| p.id == id)
            .ok_or_else(|| Error::UnknownAction(id.to_string()))?;
        self.unwind(at);
        self.pending.remove(at);
        Ok(self.rewind(at, &[]))
    }

    /// Replaces the confirmed state with a snapshot (after a gap too large
    /// to fill, or a divergence) and re-applies what is still pending.
    pub fn reset(&mut self, confirmed: Store, version: Version) -> Vec<(ActionId, PendingStatus)> {
        self.view = confirmed;
        self.version = version;
        for pending in &mut self.pending {
            pending.undo = None;
        }
        self.rewind(0, &[])
    }

    /// Undoes pending actions from the newest down to index `from`.
    fn unwind(&mut self, from: usize) {
        for pending in self.pending[from..].iter_mut().rev() {
            if let Some(undo) = pending.undo.take() {
                self.view.undo(undo);
            }
        }
    }

    /// Re-applies pending actions from index `from`, transformed over
    /// `committed` (the changes just applied underneath, if any). Returns
    /// the actions whose status got worse.
    fn rewind(&mut self, from: usize, committed: &[Change]) -> Vec<(ActionId, PendingStatus)> {
        let mut disturbed = Vec::new();
        for pending in &mut self.pending[from..] {
            let previous = pending.status;
            let rebased = ot::rebase(&pending.changes, committed);
            let conflicted = previous == PendingStatus::Conflicted || !rebased.conflicts.is_empty();
            // The transformed changes replace the proposal: what was dropped
            // stays dropped at the next rebase.
            pending.changes = rebased.kept;
            match self.view.apply_all(&pending.changes) {
                Ok(undo) => {
                    pending.undo = Some(undo);
                    pending.status = if conflicted {
                        PendingStatus::Conflicted
                    } else {
                        PendingStatus::Shown
                    };
                }
                Err(_) => {
                    pending.undo = None;
                    pending.status = PendingStatus::Invalidated;
                }
            }
            if pending.status != previous && pending.status != PendingStatus::Shown {
                disturbed.push((pending.id, pending.status));
            }
        }
        disturbed
    }
}

#[cfg(test)]
mod tests;
