//! The GM's undo: the exact inverse of each of the session's latest
//! commits (`shared::change::Undo`, computed when the commit was applied),
//! kept once the commit is written, and handed to an [`Action::Undo`] as
//! its changes. Taking back is a new commit, so the log is never rewritten
//! and every browser follows as it follows any commit; an undo taken back
//! is a redo.

use std::collections::{BTreeSet, VecDeque};

use shared::{
    action::Action,
    change::{Change, Version},
    id::ActionId,
};

use super::{SessionActor, batch::Staged};

/// How many of the session's latest commits can be taken back.
pub(super) const UNDO_DEPTH: usize = 100;

/// One commit that can be taken back.
pub(super) struct Undoable {
    action: ActionId,
    version: Version,
    changes: Vec<Change>,
}

/// The latest commits that can be taken back, and which commits cancel
/// out (one taken back, and the commit that took it back).
#[derive(Default)]
pub(super) struct UndoHistory {
    /// Oldest first.
    kept: VecDeque<Undoable>,
    /// Versions whose changes no longer stand: an undone commit and its
    /// undo. A later change of these does not stand in an undo's way.
    cancelled: BTreeSet<Version>,
}

impl SessionActor {
    /// Keeps the undo of each commit just written; a commit that took
    /// another back makes that one no longer undoable (it is undone).
    pub(super) fn keep_undo(&mut self, batch: &mut [Staged]) {
        let history = &mut self.undoable;
        for staged in batch {
            if let Some(of) = staged.took_back
                && let Some(at) = history.kept.iter().position(|u| u.action == of)
                && let Some(undone) = history.kept.remove(at)
            {
                history.cancelled.insert(undone.version);
                history.cancelled.insert(staged.commit.version);
            }
            history.kept.push_back(Undoable {
                action: staged.action,
                version: staged.commit.version,
                // Written: the batch no longer needs it to revert.
                changes: std::mem::take(&mut staged.undo).into_changes(),
            });
            while history.kept.len() > UNDO_DEPTH {
                history.kept.pop_front();
            }
        }
        if let Some(oldest) = history.kept.front().map(|u| u.version) {
            history.cancelled = history.cancelled.split_off(&oldest);
        }
    }

    /// Fills an undo's changes with the server's, or says why it cannot
    /// be: unknown (or taken back already, or too old), or something it
    /// would restore changed since.
    pub(super) fn fill_undo(&self, action: &mut Action) -> Result<(), String> {
        let Action::Undo { of, changes } = action else {
            return Ok(());
        };
        let history = &self.undoable;
        let Some(kept) = history.kept.iter().find(|u| u.action == *of) else {
            return Err(format!(
                "nothing to take back: that is not one of the last {UNDO_DEPTH} changes of this session, or it was taken back already"
            ));
        };
        let since = self
            .authority
            .commits_since(kept.version)
            .ok_or("too long ago to take back")?;
        let standing = since.filter(|commit| !history.cancelled.contains(&commit.version));
        for commit in standing {
            for later in &commit.changes {
                if let Some(clash) = kept
                    .changes
                    .iter()
                    .find(|mine| mine.path.conflicts_with(&later.path))
                {
                    return Err(format!(
                        "{} changed since; take that back first",
                        clash.path
                    ));
                }
            }
        }
        *changes = kept.changes.clone();
        Ok(())
    }
}
