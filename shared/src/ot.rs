//! Conflict rules: how a pending change fares when another change was
//! committed before it.
//!
//! Order comes from the server's versions only, never from clocks. For a
//! change `mine` that will commit after `theirs`:
//!
//! - paths that do not overlap (neither is a segment-wise prefix of the
//!   other) do not interact: keep;
//! - `set` after `set` on one path: keep (the later in server order wins);
//! - `increment` after `increment`: keep (they add up);
//! - `append` after `append`: keep (both stay, in server order);
//! - anything at or under what `theirs` deleted: drop (its target is
//!   gone), except a `set` of the deleted thing itself, which would
//!   bring it back;
//! - anything else: a conflict, for the GM to settle.
//!
//! A `merge` is compared field by field, as the `set`s it stands for.

use serde::{Deserialize, Serialize};

use crate::{
    change::{Change, Op},
    path::Path,
};

/// The fate of one change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Transformed {
    /// Apply it as it is.
    Keep,
    /// Its target was deleted; it no longer means anything.
    Drop,
    /// It overlaps `theirs` in a way no rule settles.
    Conflict {
        /// My change's path.
        mine: Path,
        /// The committed change's path.
        theirs: Path,
    },
}

/// My change against one committed change.
pub fn transform(mine: &Change, theirs: &Change) -> Transformed {
    let mut outcome = Transformed::Keep;
    for (mine_path, mine_op) in fields(mine) {
        for (theirs_path, theirs_op) in fields(theirs) {
            match pair(&mine_path, mine_op, &theirs_path, theirs_op) {
                Transformed::Keep => {}
                Transformed::Drop => return Transformed::Drop,
                conflict @ Transformed::Conflict { .. } => outcome = conflict,
            }
        }
    }
    outcome
}

/// The outcome of rebasing a list of changes over a list of commits.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rebased {
    /// Changes still to apply, in their order.
    pub kept: Vec<Change>,
    /// How many were dropped because their target was deleted.
    pub dropped: usize,
    /// Overlaps for the GM.
    pub conflicts: Vec<Transformed>,
}

/// Every change of `mine` against every committed change in `theirs`.
pub fn rebase<'a>(
    mine: &[Change],
    theirs: impl IntoIterator<Item = &'a Change> + Clone,
) -> Rebased {
    let mut rebased = Rebased::default();
    'change: for change in mine {
        for committed in theirs.clone() {
            match transform(change, committed) {
                Transformed::Keep => {}
                Transformed::Drop => {
                    rebased.dropped += 1;
                    continue 'change;
                }
                conflict => rebased.conflicts.push(conflict),
            }
        }
        rebased.kept.push(change.clone());
    }
    rebased
}

fn pair(mine_path: &Path, mine: &Op, theirs_path: &Path, theirs: &Op) -> Transformed {
    if !mine_path.conflicts_with(theirs_path) {
        return Transformed::Keep;
    }
    if matches!(theirs, Op::Delete) && theirs_path.is_prefix_of(mine_path) {
        // Setting the deleted thing itself would bring it back: that is
        // for the GM. Anything else there, or anything under it, is moot.
        let resurrects = mine_path == theirs_path && matches!(mine, Op::Set(_));
        if !resurrects {
            return Transformed::Drop;
        }
    }
    if mine_path == theirs_path {
        match (mine, theirs) {
            (Op::Set(_), Op::Set(_))
            | (Op::Increment(_), Op::Increment(_))
            | (Op::Append(_), Op::Append(_)) => {
                return Transformed::Keep;
            }
            _ => {}
        }
    }
    Transformed::Conflict {
        mine: mine_path.clone(),
        theirs: theirs_path.clone(),
    }
}

/// A change as the fields it writes: a merge writes each of its keys.
fn fields(change: &Change) -> Vec<(Path, &Op)> {
    match &change.op {
        Op::Merge(serde_json::Value::Object(map)) => map
            .keys()
            .map(|key| (change.path.child(key.clone()), &SET))
            .collect(),
        op => vec![(change.path.clone(), op)],
    }
}

/// Stands for the per-field writes of a merge; only its kind matters.
static SET: Op = Op::Set(serde_json::Value::Null);

#[cfg(test)]
mod tests;
