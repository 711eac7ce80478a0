//! The GM's Ctrl+Z and Ctrl+Shift+Z: which of my committed actions is
//! taken back next, and which undo a redo takes back. The server keeps
//! the exact inverses and refuses what it can no longer take back; this
//! only remembers the order.

use std::collections::HashMap;

use crate::{action::Action, id::ActionId};

/// How many of my actions are remembered (the server keeps as many of
/// the session's).
pub const UNDO_DEPTH: usize = 100;

/// What an undo or redo in flight takes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Undo,
    Redo,
}

/// My actions that can be taken back, and my undos that can be.
#[derive(Debug, Clone, Default)]
pub struct UndoHistory {
    /// Committed, newest last: what Ctrl+Z takes back.
    done: Vec<ActionId>,
    /// Undos committed, newest last: what Ctrl+Shift+Z takes back.
    undone: Vec<ActionId>,
    /// Undos and redos asked and not yet answered.
    asked: HashMap<ActionId, Step>,
}

impl UndoHistory {
    /// Ctrl+Z: the request (with id `id`) that takes back my latest
    /// action, if there is one.
    pub fn undo(&mut self, id: ActionId) -> Option<Action> {
        let of = self.done.pop()?;
        self.asked.insert(id, Step::Undo);
        Some(Action::Undo {
            of,
            changes: Vec::new(),
        })
    }

    /// Ctrl+Shift+Z: the request (with id `id`) that takes back my latest
    /// undo, if there is one.
    pub fn redo(&mut self, id: ActionId) -> Option<Action> {
        let of = self.undone.pop()?;
        self.asked.insert(id, Step::Redo);
        Some(Action::Undo {
            of,
            changes: Vec::new(),
        })
    }

    /// Whether Ctrl+Z has something to take back.
    pub fn can_undo(&self) -> bool {
        !self.done.is_empty()
    }

    /// Whether Ctrl+Shift+Z has something to take back.
    pub fn can_redo(&self) -> bool {
        !self.undone.is_empty()
    }

    /// One of my requests was committed. A new action (not an undo or a
    /// redo) ends what could be redone, as in any editor.
    pub fn applied(&mut self, id: ActionId) {
        match self.asked.remove(&id) {
            Some(Step::Undo) => self.undone.push(id),
            Some(Step::Redo) => self.done.push(id),
            None => {
                self.done.push(id);
                self.undone.clear();
            }
        }
        for list in [&mut self.done, &mut self.undone] {
            let excess = list.len().saturating_sub(UNDO_DEPTH);
            list.drain(..excess);
        }
    }

    /// One of my requests was refused or failed: an undo or redo of it is
    /// forgotten (the server said why), and the next Ctrl+Z goes further
    /// back.
    pub fn refused(&mut self, id: ActionId) {
        self.asked.remove(&id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> ActionId {
        ActionId(uuid::Uuid::from_u128(n))
    }

    fn target(action: Option<Action>) -> Option<ActionId> {
        match action {
            Some(Action::Undo { of, .. }) => Some(of),
            _ => None,
        }
    }

    #[test]
    fn undo_takes_back_the_latest_and_redo_the_latest_undo() {
        let mut history = UndoHistory::default();
        assert!(!history.can_undo());
        history.applied(id(1));
        history.applied(id(2));
        assert_eq!(target(history.undo(id(10))), Some(id(2)));
        history.applied(id(10));
        assert_eq!(target(history.undo(id(11))), Some(id(1)));
        history.applied(id(11));
        assert!(!history.can_undo());
        // Redo takes back the undos, newest first.
        assert_eq!(target(history.redo(id(12))), Some(id(11)));
        history.applied(id(12));
        // The redo is undoable again.
        assert_eq!(target(history.undo(id(13))), Some(id(12)));
        history.applied(id(13));
        assert_eq!(target(history.redo(id(14))), Some(id(13)));
        history.applied(id(14));
        assert_eq!(target(history.redo(id(15))), Some(id(10)));
    }

    #[test]
    fn a_new_action_ends_the_redos_and_a_refusal_moves_on() {
        let mut history = UndoHistory::default();
        history.applied(id(1));
        history.applied(id(2));
        assert_eq!(target(history.undo(id(10))), Some(id(2)));
        history.applied(id(10));
        history.applied(id(3));
        assert!(!history.can_redo());
        assert_eq!(target(history.undo(id(11))), Some(id(3)));
        history.refused(id(11));
        assert_eq!(target(history.undo(id(12))), Some(id(1)));
    }

    #[test]
    fn only_the_latest_hundred_are_kept() {
        let mut history = UndoHistory::default();
        for n in 0..250 {
            history.applied(id(n));
        }
        let mut taken = 0;
        while history.undo(id(1_000 + taken)).is_some() {
            taken += 1;
        }
        assert_eq!(taken, UNDO_DEPTH as u128);
    }
}
