//! State changes: a path, an operation and a value.
//!
//! Applying a change (see [`crate::store::Store::apply`]) returns an [`Undo`]
//! that restores the state exactly. A [`Commit`] is the unit the server
//! versions: every change of one action, applied all or nothing.

use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

use crate::{Error, Result, id::ActionId, path::Path};

/// One change to the state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "WireChange", into = "WireChange")]
pub struct Change {
    /// Where.
    pub path: Path,
    /// What.
    pub op: Op,
}

/// What a change does at its path.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Replace the value (or create the entity or map entry).
    Set(Value),
    /// Set each field of an object value, leaving the others.
    Merge(Value),
    /// Add an element to a list or set.
    Append(Value),
    /// Remove the entity, map entry, set member or list element.
    Delete,
    /// Add a number (negative to subtract).
    Increment(Number),
}

impl Op {
    /// The operation's name, as on the wire.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Set(_) => "set",
            Op::Merge(_) => "merge",
            Op::Append(_) => "append",
            Op::Delete => "delete",
            Op::Increment(_) => "increment",
        }
    }
}

impl Change {
    /// `Set` at `path`.
    pub fn set(path: Path, value: impl Into<Value>) -> Self {
        Self {
            path,
            op: Op::Set(value.into()),
        }
    }

    /// `Merge` at `path`.
    pub fn merge(path: Path, value: impl Into<Value>) -> Self {
        Self {
            path,
            op: Op::Merge(value.into()),
        }
    }

    /// `Append` at `path`.
    pub fn append(path: Path, value: impl Into<Value>) -> Self {
        Self {
            path,
            op: Op::Append(value.into()),
        }
    }

    /// `Delete` at `path`.
    pub fn delete(path: Path) -> Self {
        Self {
            path,
            op: Op::Delete,
        }
    }

    /// `Increment` at `path`.
    pub fn increment(path: Path, by: impl Into<Number>) -> Self {
        Self {
            path,
            op: Op::Increment(by.into()),
        }
    }

    /// Roughly the bytes this change holds in memory, without encoding it:
    /// what the history counts against its bound.
    pub fn approx_bytes(&self) -> usize {
        let path: usize = self.path.segments().iter().map(|s| s.len() + 8).sum();
        path + match &self.op {
            Op::Set(value) | Op::Merge(value) | Op::Append(value) => value_bytes(value),
            Op::Delete | Op::Increment(_) => 8,
        }
    }
}

fn value_bytes(value: &Value) -> usize {
    match value {
        Value::Null | Value::Bool(_) | Value::Number(_) => 8,
        Value::String(s) => s.len() + 8,
        Value::Array(items) => items.iter().map(value_bytes).sum::<usize>() + 8,
        Value::Object(fields) => {
            fields
                .iter()
                .map(|(key, value)| key.len() + value_bytes(value))
                .sum::<usize>()
                + 8
        }
    }
}

/// What restores the state to before a change (or a batch of changes):
/// inverse changes, kept in the order their forward changes ran and
/// applied newest first. Produced only by applying, so it is exact.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Undo(pub(crate) Vec<Change>);

impl Undo {
    /// True when there is nothing to undo.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The changes that restore the state, in the order to apply them.
    pub fn into_changes(self) -> Vec<Change> {
        let mut changes = self.0;
        changes.reverse();
        changes
    }

    /// Adds the undo of a change applied after the ones already here.
    pub(crate) fn then(&mut self, later: Undo) {
        self.0.extend(later.0);
    }
}

/// A server-assigned, gap-free version of a session's state.
pub type Version = u64;

/// The changes of one accepted action, as the server committed them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Commit {
    /// The version this commit creates; the previous one is `version - 1`.
    pub version: Version,
    /// The action that caused it (`None` for the server's own changes, such
    /// as an effect expiring).
    pub action: Option<ActionId>,
    /// The changes, applied in order, all or nothing.
    pub changes: Vec<Change>,
}

/// The wire shape: `{"path": "...", "op": "set", "value": ...}`.
#[derive(Serialize, Deserialize)]
struct WireChange {
    path: Path,
    op: WireOp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    value: Option<Value>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum WireOp {
    Set,
    Merge,
    Append,
    Delete,
    Increment,
}

impl TryFrom<WireChange> for Change {
    type Error = Error;
    fn try_from(wire: WireChange) -> Result<Self> {
        let missing = |op: &str| Error::WrongType {
            path: wire.path.to_string(),
            reason: format!("{op} needs a value"),
        };
        let op = match (wire.op, wire.value) {
            (WireOp::Set, Some(value)) => Op::Set(value),
            (WireOp::Merge, Some(value)) => Op::Merge(value),
            (WireOp::Append, Some(value)) => Op::Append(value),
            (WireOp::Delete, None) => Op::Delete,
            (WireOp::Increment, Some(Value::Number(n))) => Op::Increment(n),
            (WireOp::Set, None) => return Err(missing("set")),
            (WireOp::Merge, None) => return Err(missing("merge")),
            (WireOp::Append, None) => return Err(missing("append")),
            (WireOp::Increment, _) => {
                return Err(Error::WrongType {
                    path: wire.path.to_string(),
                    reason: "increment needs a number".into(),
                });
            }
            (WireOp::Delete, Some(_)) => {
                return Err(Error::WrongType {
                    path: wire.path.to_string(),
                    reason: "delete takes no value".into(),
                });
            }
        };
        Ok(Change {
            path: wire.path,
            op,
        })
    }
}

impl From<Change> for WireChange {
    fn from(change: Change) -> Self {
        let (op, value) = match change.op {
            Op::Set(v) => (WireOp::Set, Some(v)),
            Op::Merge(v) => (WireOp::Merge, Some(v)),
            Op::Append(v) => (WireOp::Append, Some(v)),
            Op::Delete => (WireOp::Delete, None),
            Op::Increment(n) => (WireOp::Increment, Some(Value::Number(n))),
        };
        WireChange {
            path: change.path,
            op,
            value,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changes_have_a_flat_wire_shape() {
        let change = Change::set(
            Path::parse("tokens/t/position").unwrap(),
            json!({"x": 1.0, "y": 2.0}),
        );
        let json = serde_json::to_value(&change).unwrap();
        assert_eq!(
            json,
            json!({"path": "tokens/t/position", "op": "set", "value": {"x": 1.0, "y": 2.0}})
        );
        assert_eq!(serde_json::from_value::<Change>(json).unwrap(), change);

        let delete = Change::delete(Path::parse("tokens/t").unwrap());
        let json = serde_json::to_value(&delete).unwrap();
        assert_eq!(json, json!({"path": "tokens/t", "op": "delete"}));
        assert_eq!(serde_json::from_value::<Change>(json).unwrap(), delete);
    }

    #[test]
    fn malformed_wire_changes_are_refused() {
        for bad in [
            json!({"path": "a/b", "op": "set"}),
            json!({"path": "a/b", "op": "increment", "value": "3"}),
            json!({"path": "a/b", "op": "delete", "value": 1}),
            json!({"path": "a/b", "op": "explode", "value": 1}),
            json!({"path": "", "op": "set", "value": 1}),
        ] {
            assert!(
                serde_json::from_value::<Change>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }
}
