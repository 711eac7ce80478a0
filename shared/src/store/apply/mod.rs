//! How each change is applied: the path names a collection, an entity and
//! a field; the operation must suit that field's type.
//!
//! Supported paths (`<id>` is the entity's id):
//!
//! | path | operations |
//! | --- | --- |
//! | `<kind>/<id>` for `actors`, `items`, `encounters`, `tokens`, `effects`, `drawings` | set, merge, delete |
//! | `actors/<id>/name`, `kind`, `owner` | set |
//! | `actors/<id>/speed`, `hp/current`, `hp/max`, `hp/temp` | set, increment |
//! | `actors/<id>/hp` | set, merge |
//! | `actors/<id>/stats/<key>` (also on tokens) | set, delete; increment once set |
//! | `actors/<id>/proficiencies` (a set of `save:<ability>`, `skill:<name>`) | set, append; `.../<check>` delete |
//! | `actors/<id>/attacks` | set |
//! | `items/<id>/name`, `owner`, `container`, `data` | set |
//! | `items/<id>/quantity` | set, increment |
//! | `encounters/<id>/name`, `map`, `map/offset`, `initiative`, `fog` | set |
//! | `encounters/<id>/map/grid_size`, `map/feet_per_cell` | set, increment |
//! | `encounters/<id>/map/grid`, `map/diagonals`, `map/players_draw`, `map/vision`, `map/daylight` | set |
//! | `encounters/<id>/initiative/turn`, `round` | set, increment |
//! | `encounters/<id>/initiative/phase`, `fog/enabled` | set |
//! | `encounters/<id>/initiative/order`, `log` | set, append; `.../<index>` delete |
//! | `encounters/<id>/fog/revealed` | set, append (a list of cells); `.../<x>,<y>` delete |
//! | `tokens/<id>/name`, `actor`, `encounter`, `visibility`, `hp_shown`, `sight`, `position` | set |
//! | `tokens/<id>/position/x`, `position/y`, `rotation`, `scale` | set, increment |
//! | `tokens/<id>/conditions` (a set) | set, append; `.../<name>` delete |
//! | `effects/<id>/name`, `source`, `properties` | set |
//! | `effects/<id>/remaining_rounds` | set, increment |
//! | `effects/<id>/targets` (a set) | set, append; `.../<token id>` delete |
//! | `drawings/<id>` (whole only: a drawing is drawn and erased, not edited) | set, delete |
//! | `walls/<id>` | set, delete |
//! | `walls/<id>/door` (a door's only) | set |
//!
//! Just over 500 lines on purpose: the generic entity handling and the leaf
//! helpers (numbers, sets, lists, stats) every kind's file uses; split, each
//! kind would import them from a second place.

mod actor;
mod drawing;
mod effect;
mod encounter;
mod item;
mod token;
mod wall;

use crate::id::EntityKind;
use std::{
    collections::{BTreeMap, BTreeSet},
    fmt::Display,
    str::FromStr,
};

use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Number, Value};

use super::{
    Store,
    indices::{link, rebuild_spatial, spatial_index_for, unlink},
    to_value, unknown,
};
use crate::{
    Error, Result,
    actor::{Actor, ActorKind},
    change::{Change, Op, Undo},
    drawing::Drawing,
    effect::Effect,
    encounter::{Encounter, LogEntry},
    geometry::{Cell, Point},
    id::{ActorId, DrawingId, EffectId, EncounterId, ItemId, TokenId, WallId},
    item::Item,
    limits::{self, MAX_NAME_CHARS},
    path::{self, Path, Target},
    store::Entities,
    token::Token,
    wall::Wall,
};

pub(super) fn apply(store: &mut Store, change: &Change) -> Result<Undo> {
    let Target {
        entity: named,
        field,
    } = change.path.target()?;
    let inverse = match named {
        path::Entity::Actor(id) => entity::<Actor>(store, id, field, change)?,
        path::Entity::Item(id) => entity::<Item>(store, id, field, change)?,
        path::Entity::Encounter(id) => entity::<Encounter>(store, id, field, change)?,
        path::Entity::Token(id) => entity::<Token>(store, id, field, change)?,
        path::Entity::Effect(id) => entity::<Effect>(store, id, field, change)?,
        path::Entity::Drawing(id) => entity::<Drawing>(store, id, field, change)?,
        path::Entity::Wall(id) => entity::<Wall>(store, id, field, change)?,
    };
    Ok(Undo(inverse))
}

/// What the generic entity handling needs to know about each kind.
trait Kind: Sized + Clone + Serialize + DeserializeOwned {
    type Id: Copy + Ord + Display;
    /// What the index maintenance depends on; compared before and after a
    /// field change so indices are touched only when it changes.
    type Keys: PartialEq;
    const KIND: EntityKind;

    fn id(&self) -> Self::Id;
    fn table(entities: &mut Entities) -> &mut BTreeMap<Self::Id, Self>;
    fn table_ref(entities: &Entities) -> &BTreeMap<Self::Id, Self>;
    fn keys(&self) -> Self::Keys;
    /// Rules on the whole entity that single fields cannot check alone.
    fn check(&self, store: &Store, path: &Path) -> Result<()>;
    /// The bounds of [`crate::limits`] on the entity's fields, checked on
    /// every write that is not a load or an undo.
    fn limits(&self) -> Result<()>;
    /// Whether the state has room for one more entity of this kind (the
    /// entity about to be created).
    fn room(&self, store: &Store, path: &Path) -> Result<()>;
    fn can_delete(&self, _store: &Store, _path: &Path) -> Result<()> {
        Ok(())
    }
    fn unindex(store: &mut Store, id: Self::Id, keys: &Self::Keys);
    fn index(store: &mut Store, id: Self::Id, keys: &Self::Keys);
    /// Moves the entity in the indices after a field write changed its keys.
    fn reindex(store: &mut Store, id: Self::Id, before: &Self::Keys, after: &Self::Keys) {
        Self::unindex(store, id, before);
        Self::index(store, id, after);
    }
    /// Applies `op` to the field at `field` (not empty) and returns the
    /// changes that undo it.
    fn field(&mut self, field: &[String], op: &Op, path: &Path) -> Result<Vec<Change>>;
}

fn entity<K: Kind>(
    store: &mut Store,
    id: K::Id,
    field: &[String],
    change: &Change,
) -> Result<Vec<Change>> {
    let path = &change.path;
    if !field.is_empty() {
        return entity_field::<K>(store, id, field, change);
    }
    match &change.op {
        Op::Set(value) => {
            let new: K = decode(value, path)?;
            if new.id() != id {
                return Err(invalid(
                    path,
                    "the entity's id differs from the id in the path",
                ));
            }
            new.check(store, path)?;
            if !store.trusted {
                new.limits()?;
                if !K::table_ref(&store.entities).contains_key(&id) {
                    new.room(store, path)?;
                }
            }
            let keys = new.keys();
            let old = K::table(&mut store.entities).insert(id, new);
            if let Some(old) = &old {
                K::unindex(store, id, &old.keys());
            }
            K::index(store, id, &keys);
            Ok(vec![match old {
                Some(old) => Change::set(path.clone(), to_value(&old)),
                None => Change::delete(path.clone()),
            }])
        }
        Op::Delete => {
            let existing = K::table_ref(&store.entities)
                .get(&id)
                .ok_or_else(|| unknown(K::KIND, id))?;
            existing.can_delete(store, path)?;
            let Some(old) = K::table(&mut store.entities).remove(&id) else {
                return Err(unknown(K::KIND, id));
            };
            K::unindex(store, id, &old.keys());
            Ok(vec![Change::set(path.clone(), to_value(&old))])
        }
        Op::Merge(Value::Object(fields)) => {
            if !K::table(&mut store.entities).contains_key(&id) {
                return Err(unknown(K::KIND, id));
            }
            let mut undo = Undo::default();
            for (name, value) in fields {
                let step = Change::set(path.child(name.clone()), value.clone());
                match apply(store, &step) {
                    Ok(inverse) => undo.then(inverse),
                    Err(error) => {
                        store.undo(undo);
                        return Err(error);
                    }
                }
            }
            Ok(undo.0)
        }
        Op::Merge(_) => Err(wrong_type(path, "merge needs an object")),
        op => Err(unsupported(op, path)),
    }
}

fn entity_field<K: Kind>(
    store: &mut Store,
    id: K::Id,
    field: &[String],
    change: &Change,
) -> Result<Vec<Change>> {
    let path = &change.path;
    let entity = K::table(&mut store.entities)
        .get_mut(&id)
        .ok_or_else(|| unknown(K::KIND, id))?;
    let before = entity.keys();
    let inverse = entity.field(field, &change.op, path)?;
    let after = K::table_ref(&store.entities)
        .get(&id)
        .ok_or_else(|| unknown(K::KIND, id))?;
    let checked = after.check(store, path).and_then(|()| {
        if store.trusted {
            Ok(())
        } else {
            after.limits()
        }
    });
    if let Err(error) = checked {
        for step in inverse.iter().rev() {
            // Reverting a write to one field of the entity cannot fail.
            let reverted = entity_field::<K>(store, id, field_of(step), step);
            debug_assert!(reverted.is_ok(), "reverting {} failed", step.path);
        }
        return Err(error);
    }
    let keys = after.keys();
    if keys != before {
        K::reindex(store, id, &before, &keys);
    }
    Ok(inverse)
}

/// The field segments of an inverse change (after `<collection>/<id>`):
/// the inverse of a member write may address the whole set, and vice versa.
fn field_of(change: &Change) -> &[String] {
    change
        .path
        .target()
        .map(|target| target.field)
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------
// Leaves: typed fields read and written as JSON values.

fn decode<T: DeserializeOwned>(value: &Value, path: &Path) -> Result<T> {
    T::deserialize(value).map_err(|error| wrong_type(path, &error.to_string()))
}

/// A field that only supports `set`, with a rule on the new value.
fn leaf<T: Serialize + DeserializeOwned>(
    slot: &mut T,
    op: &Op,
    path: &Path,
    rule: impl Fn(&T) -> Result<(), &'static str>,
) -> Result<Vec<Change>> {
    match op {
        Op::Set(value) => {
            let new: T = decode(value, path)?;
            rule(&new).map_err(|reason| invalid(path, reason))?;
            let old = std::mem::replace(slot, new);
            Ok(vec![Change::set(path.clone(), to_value(&old))])
        }
        op => Err(unsupported(op, path)),
    }
}

fn any<T>(_: &T) -> Result<(), &'static str> {
    Ok(())
}

/// A number that supports `set` and `increment`.
trait Numeric: Copy + Serialize + DeserializeOwned {
    fn add(self, by: &Number) -> Option<Self>;
}

impl Numeric for i64 {
    fn add(self, by: &Number) -> Option<Self> {
        self.checked_add(by.as_i64()?)
    }
}

impl Numeric for u32 {
    fn add(self, by: &Number) -> Option<Self> {
        u32::try_from(i64::from(self).checked_add(by.as_i64()?)?).ok()
    }
}

impl Numeric for f64 {
    fn add(self, by: &Number) -> Option<Self> {
        let sum = self + by.as_f64()?;
        sum.is_finite().then_some(sum)
    }
}

fn number<T: Numeric>(
    slot: &mut T,
    op: &Op,
    path: &Path,
    rule: impl Fn(&T) -> Result<(), &'static str>,
) -> Result<Vec<Change>> {
    match op {
        Op::Increment(by) => {
            let new = slot.add(by).ok_or_else(|| {
                invalid(
                    path,
                    "the result is out of range (or the increment is not a whole number)",
                )
            })?;
            rule(&new).map_err(|reason| invalid(path, reason))?;
            let old = std::mem::replace(slot, new);
            Ok(vec![Change::set(path.clone(), to_value(&old))])
        }
        op => leaf(slot, op, path, rule),
    }
}

fn finite(v: &f64) -> Result<(), &'static str> {
    if v.is_finite() {
        Ok(())
    } else {
        Err("must be a finite number")
    }
}

fn positive(v: &f64) -> Result<(), &'static str> {
    if v.is_finite() && *v > 0.0 {
        Ok(())
    } else {
        Err("must be a positive number")
    }
}

// Takes `&String` because leaf rules are `Fn(&T)` with `T = String`.
#[allow(clippy::ptr_arg)]
fn not_blank(v: &String) -> Result<(), &'static str> {
    if v.trim().is_empty() {
        Err("must not be empty")
    } else {
        Ok(())
    }
}

/// `stats/<key>`: a map of named integers.
fn stat(
    map: &mut BTreeMap<String, i64>,
    key: &[String],
    op: &Op,
    path: &Path,
) -> Result<Vec<Change>> {
    let [key] = key else {
        return Err(bad_path(path, "stats are addressed as stats/<name>"));
    };
    match op {
        Op::Delete => {
            let old = map
                .remove(key)
                .ok_or_else(|| invalid(path, "no such stat"))?;
            Ok(vec![Change::set(path.clone(), old)])
        }
        Op::Set(_) => {
            let existed = map.get(key).copied();
            let mut slot = existed.unwrap_or(0);
            number(&mut slot, op, path, any)?;
            map.insert(key.clone(), slot);
            Ok(vec![match existed {
                Some(old) => Change::set(path.clone(), old),
                None => Change::delete(path.clone()),
            }])
        }
        // Only what exists can be incremented; `set` creates.
        Op::Increment(_) => {
            let slot = map
                .get_mut(key)
                .ok_or_else(|| invalid(path, "no such stat; set it first"))?;
            number(slot, op, path, any)
        }
        op => Err(unsupported(op, path)),
    }
}

/// A set addressed as `<set>` (set, append) or `<set>/<member>` (delete).
fn set_of<T>(set: &mut BTreeSet<T>, member: &[String], op: &Op, path: &Path) -> Result<Vec<Change>>
where
    T: Ord + Clone + Serialize + DeserializeOwned + FromStr,
{
    match (member, op) {
        ([], Op::Append(value)) => {
            let new: T = decode(value, path)?;
            let key = to_key(&new);
            Ok(if set.insert(new) {
                vec![Change::delete(path.child(key))]
            } else {
                vec![]
            })
        }
        ([], op) => leaf(set, op, path, any),
        ([key], Op::Delete) => {
            let member: T = key
                .parse()
                .map_err(|_| bad_path(path, "not a member of this set"))?;
            if !set.remove(&member) {
                return Err(invalid(path, "not in the set"));
            }
            Ok(vec![Change::append(path.parent(), to_value(&member))])
        }
        ([_], op) => Err(unsupported(op, path)),
        _ => Err(bad_path(path, "too many segments")),
    }
}

/// A list addressed as `<list>` (set, append) or `<list>/<index>` (delete).
fn list_of<T>(list: &mut Vec<T>, index: &[String], op: &Op, path: &Path) -> Result<Vec<Change>>
where
    T: Clone + Serialize + DeserializeOwned,
{
    match (index, op) {
        ([], Op::Append(value)) => {
            let new: T = decode(value, path)?;
            list.push(new);
            Ok(vec![Change::delete(
                path.child((list.len() - 1).to_string()),
            )])
        }
        ([], op) => leaf(list, op, path, any),
        ([at], Op::Delete) => {
            let at: usize = at
                .parse()
                .map_err(|_| bad_path(path, "a list element is addressed by its index"))?;
            if at >= list.len() {
                return Err(invalid(path, "no element at that index"));
            }
            let parent = path.parent();
            // Removing the last element is undone by appending it; anything
            // else by restoring the list.
            let inverse = if at + 1 == list.len() {
                Change::append(parent, to_value(&list[at]))
            } else {
                Change::set(parent, to_value(list))
            };
            list.remove(at);
            Ok(vec![inverse])
        }
        ([_], op) => Err(unsupported(op, path)),
        _ => Err(bad_path(path, "too many segments")),
    }
}

fn to_key<T: Serialize>(value: &T) -> String {
    match to_value(value) {
        Value::String(s) => s,
        Value::Array(parts) => parts
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_string(),
    }
}

fn no_more(rest: &[String], path: &Path) -> Result<()> {
    if rest.is_empty() {
        Ok(())
    } else {
        Err(bad_path(path, "no such field"))
    }
}

// ---------------------------------------------------------------------------
// Limits shared by several kinds.

fn stats_limits(stats: &BTreeMap<String, i64>) -> Result<()> {
    limits::count("stats", stats.len(), limits::MAX_STATS)?;
    for name in stats.keys() {
        limits::text(
            "a stat's name (characters)",
            name,
            limits::MAX_STAT_NAME_CHARS,
        )?;
    }
    Ok(())
}

fn coordinates(what: &'static str, point: Point) -> Result<()> {
    let max = limits::MAX_COORDINATE;
    limits::between(what, point.x, -max, max)?;
    limits::between(what, point.y, -max, max)
}

// ---------------------------------------------------------------------------

fn split(field: &[String]) -> (&str, &[String]) {
    match field {
        [first, rest @ ..] => (first.as_str(), rest),
        [] => ("", &[]),
    }
}

fn bad_path(path: &Path, reason: &str) -> Error {
    Error::BadPath {
        path: path.to_string(),
        reason: reason.to_owned(),
    }
}

fn wrong_type(path: &Path, reason: &str) -> Error {
    Error::WrongType {
        path: path.to_string(),
        reason: reason.to_owned(),
    }
}

fn invalid(path: &Path, reason: &str) -> Error {
    Error::InvalidChange {
        path: path.to_string(),
        reason: reason.to_owned(),
    }
}

fn unsupported(op: &Op, path: &Path) -> Error {
    Error::UnsupportedOperation {
        op: op.name().to_owned(),
        path: path.to_string(),
    }
}
