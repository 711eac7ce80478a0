//! How each change is applied: the path names a collection, an entity and
//! a field; the operation must suit that field's type.
//!
//! Supported paths (`<id>` is the entity's id):
//!
//! | path | operations |
//! | --- | --- |
//! | `<kind>/<id>` for `actors`, `items`, `encounters`, `tokens`, `effects` | set, merge, delete |
//! | `actors/<id>/name`, `kind`, `owner` | set |
//! | `actors/<id>/speed`, `hp/current`, `hp/max`, `hp/temp` | set, increment |
//! | `actors/<id>/hp` | set, merge |
//! | `actors/<id>/stats/<key>` (also on tokens) | set, delete; increment once set |
//! | `items/<id>/name`, `owner`, `container`, `data` | set |
//! | `items/<id>/quantity` | set, increment |
//! | `encounters/<id>/name`, `map`, `map/offset`, `initiative`, `fog` | set |
//! | `encounters/<id>/map/grid_size`, `map/feet_per_cell` | set, increment |
//! | `encounters/<id>/initiative/turn`, `round` | set, increment |
//! | `encounters/<id>/initiative/phase`, `fog/enabled` | set |
//! | `encounters/<id>/initiative/order`, `log` | set, append; `.../<index>` delete |
//! | `encounters/<id>/fog/revealed` | set, append (a list of cells); `.../<x>,<y>` delete |
//! | `tokens/<id>/name`, `actor`, `encounter`, `visibility`, `position` | set |
//! | `tokens/<id>/position/x`, `position/y`, `rotation`, `scale` | set, increment |
//! | `tokens/<id>/conditions` (a set) | set, append; `.../<name>` delete |
//! | `effects/<id>/name`, `source`, `properties` | set |
//! | `effects/<id>/remaining_rounds` | set, increment |
//! | `effects/<id>/targets` (a set) | set, append; `.../<token id>` delete |

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
    effect::Effect,
    encounter::{Encounter, LogEntry},
    geometry::{Cell, Point},
    id::{ActorId, EffectId, EncounterId, ItemId, TokenId},
    item::Item,
    limits::{self, MAX_NAME_CHARS},
    path::Path,
    store::Entities,
    token::Token,
};

pub(super) fn apply(store: &mut Store, change: &Change) -> Result<Undo> {
    let path = &change.path;
    let [collection, id, field @ ..] = path.segments() else {
        return Err(bad_path(path, "a path starts with <collection>/<id>"));
    };
    let inverse = match collection.as_str() {
        "actors" => entity::<Actor>(store, parse_id(id, path)?, field, change)?,
        "items" => entity::<Item>(store, parse_id(id, path)?, field, change)?,
        "encounters" => entity::<Encounter>(store, parse_id(id, path)?, field, change)?,
        "tokens" => entity::<Token>(store, parse_id(id, path)?, field, change)?,
        "effects" => entity::<Effect>(store, parse_id(id, path)?, field, change)?,
        _ => return Err(bad_path(path, "unknown collection")),
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
    change.path.segments().get(2..).unwrap_or_default()
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
            Ok(vec![Change::append(path_parent(path), to_value(&member))])
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
            let parent = path_parent(path);
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

fn path_parent(path: &Path) -> Path {
    let segments = path.segments();
    Path::from_segments(segments[..segments.len() - 1].iter().cloned())
}

fn no_more(rest: &[String], path: &Path) -> Result<()> {
    if rest.is_empty() {
        Ok(())
    } else {
        Err(bad_path(path, "no such field"))
    }
}

// ---------------------------------------------------------------------------
// The kinds.

impl Kind for Actor {
    type Id = ActorId;
    type Keys = ActorKind;
    const KIND: EntityKind = EntityKind::Actor;

    fn id(&self) -> ActorId {
        self.id
    }
    fn table(entities: &mut Entities) -> &mut BTreeMap<ActorId, Self> {
        &mut entities.actors
    }
    fn table_ref(entities: &Entities) -> &BTreeMap<ActorId, Self> {
        &entities.actors
    }
    fn keys(&self) -> ActorKind {
        self.kind
    }
    fn check(&self, _: &Store, path: &Path) -> Result<()> {
        not_blank(&self.name).map_err(|reason| invalid(path, reason))
    }
    fn limits(&self) -> Result<()> {
        limits::text("an actor's name (characters)", &self.name, MAX_NAME_CHARS)?;
        stats_limits(&self.stats)
    }
    fn room(&self, store: &Store, _: &Path) -> Result<()> {
        limits::count(
            "a campaign's actors",
            store.entities.actors.len() + 1,
            limits::MAX_ACTORS,
        )
    }
    fn unindex(store: &mut Store, id: ActorId, kind: &ActorKind) {
        unlink(&mut store.indices.actors_by_kind, kind, &id);
    }
    fn index(store: &mut Store, id: ActorId, kind: &ActorKind) {
        link(&mut store.indices.actors_by_kind, *kind, id);
    }
    fn field(&mut self, field: &[String], op: &Op, path: &Path) -> Result<Vec<Change>> {
        let (name, rest) = split(field);
        match name {
            "name" => no_more(rest, path).and_then(|()| leaf(&mut self.name, op, path, not_blank)),
            "kind" => no_more(rest, path).and_then(|()| leaf(&mut self.kind, op, path, any)),
            "owner" => no_more(rest, path).and_then(|()| leaf(&mut self.owner, op, path, any)),
            "speed" => no_more(rest, path).and_then(|()| number(&mut self.speed, op, path, any)),
            "hp" => match rest {
                [] => match op {
                    Op::Merge(Value::Object(fields)) => {
                        let mut inverse = Vec::new();
                        let before = self.hp;
                        for (name, value) in fields {
                            let step = Op::Set(value.clone());
                            match self.field(
                                &["hp".into(), name.clone()],
                                &step,
                                &path.child(name.clone()),
                            ) {
                                Ok(mut undo) => inverse.append(&mut undo),
                                Err(error) => {
                                    self.hp = before;
                                    return Err(error);
                                }
                            }
                        }
                        Ok(inverse)
                    }
                    op => leaf(&mut self.hp, op, path, any),
                },
                [part] => match part.as_str() {
                    "current" => number(&mut self.hp.current, op, path, any),
                    "max" => number(&mut self.hp.max, op, path, any),
                    "temp" => number(&mut self.hp.temp, op, path, any),
                    _ => Err(bad_path(path, "no such field")),
                },
                _ => Err(bad_path(path, "no such field")),
            },
            "stats" => stat(&mut self.stats, rest, op, path),
            _ => Err(bad_path(path, "no such field")),
        }
    }
}

impl Kind for Item {
    type Id = ItemId;
    type Keys = Option<ActorId>;
    const KIND: EntityKind = EntityKind::Item;

    fn id(&self) -> ItemId {
        self.id
    }
    fn table(entities: &mut Entities) -> &mut BTreeMap<ItemId, Self> {
        &mut entities.items
    }
    fn table_ref(entities: &Entities) -> &BTreeMap<ItemId, Self> {
        &entities.items
    }
    fn keys(&self) -> Option<ActorId> {
        self.owner
    }
    fn check(&self, _: &Store, path: &Path) -> Result<()> {
        not_blank(&self.name).map_err(|reason| invalid(path, reason))?;
        if self.container == Some(self.id) {
            return Err(invalid(path, "an item cannot contain itself"));
        }
        Ok(())
    }
    fn limits(&self) -> Result<()> {
        limits::text("an item's name (characters)", &self.name, MAX_NAME_CHARS)?;
        limits::json("an item's data (bytes)", &self.data)
    }
    fn room(&self, store: &Store, _: &Path) -> Result<()> {
        limits::count(
            "a campaign's items",
            store.entities.items.len() + 1,
            limits::MAX_ITEMS,
        )
    }
    fn unindex(store: &mut Store, id: ItemId, owner: &Option<ActorId>) {
        if let Some(owner) = owner {
            unlink(&mut store.indices.items_by_owner, owner, &id);
        }
    }
    fn index(store: &mut Store, id: ItemId, owner: &Option<ActorId>) {
        if let Some(owner) = owner {
            link(&mut store.indices.items_by_owner, *owner, id);
        }
    }
    fn field(&mut self, field: &[String], op: &Op, path: &Path) -> Result<Vec<Change>> {
        let (name, rest) = split(field);
        no_more(rest, path)?;
        match name {
            "name" => leaf(&mut self.name, op, path, not_blank),
            "owner" => leaf(&mut self.owner, op, path, any),
            "container" => leaf(&mut self.container, op, path, any),
            "quantity" => number(&mut self.quantity, op, path, any),
            "data" => leaf(&mut self.data, op, path, any),
            _ => Err(bad_path(path, "no such field")),
        }
    }
}

impl Kind for Encounter {
    type Id = EncounterId;
    /// The grid size decides every token's bounds in the spatial index.
    type Keys = u64;
    const KIND: EntityKind = EntityKind::Encounter;

    fn id(&self) -> EncounterId {
        self.id
    }
    fn table(entities: &mut Entities) -> &mut BTreeMap<EncounterId, Self> {
        &mut entities.encounters
    }
    fn table_ref(entities: &Entities) -> &BTreeMap<EncounterId, Self> {
        &entities.encounters
    }
    fn keys(&self) -> u64 {
        self.map.grid_size.to_bits()
    }
    fn check(&self, _: &Store, path: &Path) -> Result<()> {
        not_blank(&self.name).map_err(|reason| invalid(path, reason))?;
        positive(&self.map.grid_size).map_err(|reason| invalid(path, reason))?;
        if !self.map.offset.is_finite() {
            return Err(invalid(path, "the grid offset must be finite"));
        }
        Ok(())
    }
    fn limits(&self) -> Result<()> {
        limits::text(
            "an encounter's name (characters)",
            &self.name,
            limits::MAX_ENCOUNTER_NAME_CHARS,
        )?;
        limits::between(
            "the grid size (pixels)",
            self.map.grid_size,
            limits::MIN_GRID_SIZE,
            limits::MAX_GRID_SIZE,
        )?;
        limits::between(
            "feet per cell",
            f64::from(self.map.feet_per_cell),
            1.0,
            f64::from(limits::MAX_FEET_PER_CELL),
        )?;
        coordinates("the grid offset", self.map.offset)?;
        limits::count(
            "a turn order (tokens)",
            self.initiative.order.len(),
            limits::MAX_INITIATIVE,
        )?;
        limits::count(
            "an encounter's revealed fog (cells)",
            self.fog.revealed.len(),
            limits::MAX_FOG_CELLS,
        )?;
        limits::count(
            "an encounter's log (lines)",
            self.log.len(),
            limits::MAX_LOG_LINES,
        )
    }
    fn room(&self, store: &Store, path: &Path) -> Result<()> {
        if store.fixed_encounters {
            return Err(invalid(
                path,
                "a live session cannot add encounters; create one from the campaign page",
            ));
        }
        limits::count(
            "a campaign's encounters",
            store.entities.encounters.len() + 1,
            limits::MAX_ENCOUNTERS,
        )
    }
    fn can_delete(&self, store: &Store, path: &Path) -> Result<()> {
        if store.fixed_encounters {
            return Err(invalid(
                path,
                "a live session cannot delete its encounter; end the session first",
            ));
        }
        if store.indices.tokens_by_encounter.contains_key(&self.id) {
            return Err(invalid(
                path,
                "the encounter still has tokens; delete them first",
            ));
        }
        Ok(())
    }
    fn unindex(store: &mut Store, id: EncounterId, _: &u64) {
        store.spatial.remove(&id);
    }
    fn index(store: &mut Store, id: EncounterId, _: &u64) {
        let Some(encounter) = store.entities.encounters.get(&id) else {
            return;
        };
        let tokens = store
            .indices
            .tokens_by_encounter
            .get(&id)
            .into_iter()
            .flatten();
        let index = rebuild_spatial(
            encounter,
            tokens.filter_map(|t| store.entities.tokens.get(t)).cloned(),
        );
        store.spatial.insert(id, index);
    }
    fn field(&mut self, field: &[String], op: &Op, path: &Path) -> Result<Vec<Change>> {
        let (name, rest) = split(field);
        match (name, rest) {
            ("name", []) => leaf(&mut self.name, op, path, not_blank),
            ("map", []) => leaf(
                &mut self.map,
                op,
                path,
                |map: &crate::encounter::MapSettings| {
                    positive(&map.grid_size)?;
                    if map.offset.is_finite() {
                        Ok(())
                    } else {
                        Err("the grid offset must be finite")
                    }
                },
            ),
            ("initiative", []) => leaf(&mut self.initiative, op, path, any),
            ("fog", []) => leaf(&mut self.fog, op, path, |fog: &crate::encounter::Fog| {
                fog_cells(fog.revealed.iter())
            }),
            ("map", [part]) => match part.as_str() {
                "grid_size" => number(&mut self.map.grid_size, op, path, positive),
                "feet_per_cell" => number(&mut self.map.feet_per_cell, op, path, any),
                "offset" => leaf(&mut self.map.offset, op, path, |p: &Point| {
                    if p.is_finite() {
                        Ok(())
                    } else {
                        Err("must be finite")
                    }
                }),
                _ => Err(bad_path(path, "no such field")),
            },
            ("initiative", [part, index @ ..]) => match part.as_str() {
                "order" => list_of(&mut self.initiative.order, index, op, path),
                "turn" if index.is_empty() => number(&mut self.initiative.turn, op, path, any),
                "round" if index.is_empty() => number(&mut self.initiative.round, op, path, any),
                "phase" if index.is_empty() => leaf(&mut self.initiative.phase, op, path, any),
                _ => Err(bad_path(path, "no such field")),
            },
            ("fog", [part]) if part == "enabled" => leaf(&mut self.fog.enabled, op, path, any),
            ("fog", [part, cell @ ..]) if part == "revealed" => {
                reveal(&mut self.fog.revealed, cell, op, path)
            }
            ("log", []) => log(&mut self.log, op, path),
            ("log", index) => list_of(&mut self.log, index, op, path),
            _ => Err(bad_path(path, "no such field")),
        }
    }
}

/// Fog cells: `append` takes a list of cells and reveals them all (one
/// change per brush stroke, not per cell); `revealed/<x>,<y>` delete hides
/// one.
fn reveal(
    revealed: &mut BTreeSet<Cell>,
    cell: &[String],
    op: &Op,
    path: &Path,
) -> Result<Vec<Change>> {
    match (cell, op) {
        ([], Op::Append(value)) => {
            let cells: Vec<Cell> = decode(value, path)?;
            fog_cells(cells.iter()).map_err(|reason| invalid(path, reason))?;
            limits::count(
                "an encounter's revealed fog (cells)",
                revealed.len().saturating_add(cells.len()),
                limits::MAX_FOG_CELLS,
            )?;
            let mut inverse: Vec<Change> = Vec::new();
            for cell in cells {
                if revealed.insert(cell) {
                    inverse.push(Change::delete(path.child(cell.to_string())));
                }
            }
            Ok(inverse)
        }
        ([], op) => leaf(revealed, op, path, |cells: &BTreeSet<Cell>| {
            fog_cells(cells.iter())
        }),
        ([at], Op::Delete) => {
            let cell: Cell = at
                .parse()
                .map_err(|()| bad_path(path, "a cell is written <x>,<y>"))?;
            if !revealed.remove(&cell) {
                return Err(invalid(path, "that cell is not revealed"));
            }
            Ok(vec![Change::append(path_parent(path), to_value(&[cell]))])
        }
        ([_], op) => Err(unsupported(op, path)),
        _ => Err(bad_path(path, "too many segments")),
    }
}

/// Token keys: the encounter (for `tokens by encounter`) and what decides
/// its bounds (for the spatial index).
#[derive(PartialEq)]
struct TokenKeys {
    encounter: EncounterId,
    actor: Option<ActorId>,
    position: Point,
    scale: u64,
}

impl Token {
    /// Puts the token at its current bounds in its encounter's spatial index.
    fn place(store: &mut Store, id: TokenId, encounter: EncounterId) {
        let (Some(token), Some(map)) = (
            store.entities.tokens.get(&id),
            store.entities.encounters.get(&encounter),
        ) else {
            return;
        };
        let bounds = token.bounds(map.map.grid_size);
        store
            .spatial
            .entry(encounter)
            .or_insert_with(|| spatial_index_for(map))
            .upsert(id, bounds);
    }
}

impl Kind for Token {
    type Id = TokenId;
    type Keys = TokenKeys;
    const KIND: EntityKind = EntityKind::Token;

    fn id(&self) -> TokenId {
        self.id
    }
    fn table(entities: &mut Entities) -> &mut BTreeMap<TokenId, Self> {
        &mut entities.tokens
    }
    fn table_ref(entities: &Entities) -> &BTreeMap<TokenId, Self> {
        &entities.tokens
    }
    fn keys(&self) -> TokenKeys {
        TokenKeys {
            encounter: self.encounter,
            actor: self.actor,
            position: self.position,
            scale: self.scale.to_bits(),
        }
    }
    fn check(&self, store: &Store, path: &Path) -> Result<()> {
        if !store.entities.encounters.contains_key(&self.encounter) {
            return Err(invalid(path, "the token's encounter does not exist"));
        }
        if !self.position.is_finite() || !self.rotation.is_finite() {
            return Err(invalid(path, "position and rotation must be finite"));
        }
        positive(&self.scale).map_err(|reason| invalid(path, reason))
    }
    fn limits(&self) -> Result<()> {
        limits::text("a token's name (characters)", &self.name, MAX_NAME_CHARS)?;
        coordinates("a token's position", self.position)?;
        limits::between(
            "a token's rotation (degrees)",
            self.rotation,
            -limits::MAX_ROTATION,
            limits::MAX_ROTATION,
        )?;
        limits::between(
            "a token's scale (cells)",
            self.scale,
            limits::MIN_SCALE,
            limits::MAX_SCALE,
        )?;
        limits::count(
            "a token's conditions",
            self.conditions.len(),
            limits::MAX_CONDITIONS,
        )?;
        for condition in &self.conditions {
            limits::text(
                "a condition's name (characters)",
                condition,
                limits::MAX_CONDITION_CHARS,
            )?;
        }
        stats_limits(&self.stats)
    }
    fn room(&self, store: &Store, _: &Path) -> Result<()> {
        let on_map = store
            .indices
            .tokens_by_encounter
            .get(&self.encounter)
            .map_or(0, BTreeSet::len);
        limits::count(
            "an encounter's tokens",
            on_map + 1,
            limits::MAX_TOKENS_PER_ENCOUNTER,
        )
    }
    fn unindex(store: &mut Store, id: TokenId, keys: &TokenKeys) {
        unlink(&mut store.indices.tokens_by_encounter, &keys.encounter, &id);
        if let Some(actor) = &keys.actor {
            unlink(&mut store.indices.tokens_by_actor, actor, &id);
        }
        if let Some(index) = store.spatial.get_mut(&keys.encounter) {
            index.remove(id);
        }
    }
    /// A move (the hot path) touches only the spatial index.
    fn reindex(store: &mut Store, id: TokenId, before: &TokenKeys, after: &TokenKeys) {
        if before.encounter != after.encounter || before.actor != after.actor {
            Self::unindex(store, id, before);
            Self::index(store, id, after);
            return;
        }
        Self::place(store, id, after.encounter);
    }
    fn index(store: &mut Store, id: TokenId, keys: &TokenKeys) {
        link(&mut store.indices.tokens_by_encounter, keys.encounter, id);
        if let Some(actor) = keys.actor {
            link(&mut store.indices.tokens_by_actor, actor, id);
        }
        Self::place(store, id, keys.encounter);
    }
    fn field(&mut self, field: &[String], op: &Op, path: &Path) -> Result<Vec<Change>> {
        let (name, rest) = split(field);
        match (name, rest) {
            ("name", []) => leaf(&mut self.name, op, path, not_blank),
            ("actor", []) => leaf(&mut self.actor, op, path, any),
            ("encounter", []) => leaf(&mut self.encounter, op, path, any),
            ("visibility", []) => leaf(&mut self.visibility, op, path, any),
            ("position", []) => leaf(&mut self.position, op, path, |p: &Point| {
                if p.is_finite() {
                    Ok(())
                } else {
                    Err("must be finite")
                }
            }),
            ("position", [axis]) if axis == "x" => number(&mut self.position.x, op, path, finite),
            ("position", [axis]) if axis == "y" => number(&mut self.position.y, op, path, finite),
            ("rotation", []) => number(&mut self.rotation, op, path, finite),
            ("scale", []) => number(&mut self.scale, op, path, positive),
            ("conditions", member) => set_of(&mut self.conditions, member, op, path),
            ("stats", key) => stat(&mut self.stats, key, op, path),
            _ => Err(bad_path(path, "no such field")),
        }
    }
}

impl Kind for Effect {
    type Id = EffectId;
    /// Its targets and its source.
    type Keys = (BTreeSet<TokenId>, Option<TokenId>);
    const KIND: EntityKind = EntityKind::Effect;

    fn id(&self) -> EffectId {
        self.id
    }
    fn table(entities: &mut Entities) -> &mut BTreeMap<EffectId, Self> {
        &mut entities.effects
    }
    fn table_ref(entities: &Entities) -> &BTreeMap<EffectId, Self> {
        &entities.effects
    }
    fn keys(&self) -> Self::Keys {
        (self.targets.clone(), self.source)
    }
    fn check(&self, _: &Store, path: &Path) -> Result<()> {
        not_blank(&self.name).map_err(|reason| invalid(path, reason))
    }
    fn limits(&self) -> Result<()> {
        limits::text("an effect's name (characters)", &self.name, MAX_NAME_CHARS)?;
        limits::count(
            "an effect's targets",
            self.targets.len(),
            limits::MAX_EFFECT_TARGETS,
        )?;
        limits::count(
            "an effect's properties",
            self.properties.len(),
            limits::MAX_STATS,
        )?;
        for (name, value) in &self.properties {
            limits::text(
                "a property's name (characters)",
                name,
                limits::MAX_STAT_NAME_CHARS,
            )?;
            limits::json("an effect's property (bytes)", value)?;
        }
        Ok(())
    }
    fn room(&self, store: &Store, _: &Path) -> Result<()> {
        limits::count(
            "a session's effects",
            store.entities.effects.len() + 1,
            limits::MAX_EFFECTS,
        )
    }
    fn unindex(store: &mut Store, id: EffectId, (targets, source): &Self::Keys) {
        for target in targets {
            unlink(&mut store.indices.effects_by_target, target, &id);
        }
        if let Some(source) = source {
            unlink(&mut store.indices.effects_by_source, source, &id);
        }
    }
    fn index(store: &mut Store, id: EffectId, (targets, source): &Self::Keys) {
        for target in targets {
            link(&mut store.indices.effects_by_target, *target, id);
        }
        if let Some(source) = source {
            link(&mut store.indices.effects_by_source, *source, id);
        }
    }
    fn field(&mut self, field: &[String], op: &Op, path: &Path) -> Result<Vec<Change>> {
        let (name, rest) = split(field);
        match (name, rest) {
            ("name", []) => leaf(&mut self.name, op, path, not_blank),
            ("source", []) => leaf(&mut self.source, op, path, any),
            ("properties", []) => leaf(&mut self.properties, op, path, any),
            ("remaining_rounds", []) => match op {
                Op::Increment(_) => {
                    let Some(mut rounds) = self.remaining_rounds else {
                        return Err(invalid(path, "the effect has no duration"));
                    };
                    let inverse = number(&mut rounds, op, path, any)?;
                    self.remaining_rounds = Some(rounds);
                    Ok(inverse)
                }
                op => leaf(&mut self.remaining_rounds, op, path, any),
            },
            ("targets", member) => set_of(&mut self.targets, member, op, path),
            _ => Err(bad_path(path, "no such field")),
        }
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

fn fog_cells<'a>(mut cells: impl Iterator<Item = &'a Cell>) -> Result<(), &'static str> {
    let range = -limits::MAX_FOG_CELL..=limits::MAX_FOG_CELL;
    if cells.all(|Cell(x, y)| range.contains(x) && range.contains(y)) {
        Ok(())
    } else {
        Err("a fog cell is out of range (at most 100000 cells from the origin)")
    }
}

/// The encounter's log: `append` adds a line and, at
/// [`limits::MAX_LOG_LINES`], drops the oldest (every line stays in the
/// event log); `set` replaces it. Each line's text is bounded.
fn log(lines: &mut Vec<LogEntry>, op: &Op, path: &Path) -> Result<Vec<Change>> {
    let line_limits = |line: &LogEntry| {
        limits::text(
            "a log line (characters)",
            &line.text,
            limits::MAX_LOG_LINE_CHARS,
        )
    };
    match op {
        Op::Append(value) => {
            let line: LogEntry = decode(value, path)?;
            line_limits(&line)?;
            if lines.len() < limits::MAX_LOG_LINES {
                lines.push(line);
                return Ok(vec![Change::delete(
                    path.child((lines.len() - 1).to_string()),
                )]);
            }
            let before = to_value(lines);
            let excess = lines.len() + 1 - limits::MAX_LOG_LINES;
            lines.drain(..excess);
            lines.push(line);
            Ok(vec![Change::set(path.clone(), before)])
        }
        Op::Set(value) => {
            let new: Vec<LogEntry> = decode(value, path)?;
            new.iter().try_for_each(line_limits)?;
            let old = std::mem::replace(lines, new);
            Ok(vec![Change::set(path.clone(), to_value(&old))])
        }
        op => Err(unsupported(op, path)),
    }
}

// ---------------------------------------------------------------------------

fn split(field: &[String]) -> (&str, &[String]) {
    match field {
        [first, rest @ ..] => (first.as_str(), rest),
        [] => ("", &[]),
    }
}

fn parse_id<T: FromStr>(text: &str, path: &Path) -> Result<T> {
    text.parse()
        .map_err(|_| bad_path(path, "the id is not a UUID"))
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
