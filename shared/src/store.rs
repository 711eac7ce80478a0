//! The normalized store: entities by id, the indices over them, and the
//! spatial index of each encounter's tokens.
//!
//! Every write goes through [`Store::apply`], which keeps the indices equal
//! to what [`Indices::build`] would compute from scratch (a property test
//! checks this after random writes) and returns an exact [`Undo`].

mod apply;
mod indices;

use crate::id::EntityKind;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

pub use indices::Indices;

use crate::{
    Error, Result,
    actor::{Actor, ActorKind},
    change::{Change, Undo},
    drawing::Drawing,
    effect::Effect,
    encounter::Encounter,
    geometry::Rect,
    id::{ActorId, DrawingId, EffectId, EncounterId, ItemId, TokenId, WallId},
    item::Item,
    path::Entity,
    spatial::SpatialIndex,
    token::Token,
    wall::Wall,
};

/// Every entity, by id: what a snapshot carries.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Entities {
    /// Actors.
    #[serde(default)]
    pub actors: BTreeMap<ActorId, Actor>,
    /// Items.
    #[serde(default)]
    pub items: BTreeMap<ItemId, Item>,
    /// Encounters.
    #[serde(default)]
    pub encounters: BTreeMap<EncounterId, Encounter>,
    /// Tokens.
    #[serde(default)]
    pub tokens: BTreeMap<TokenId, Token>,
    /// Effects.
    #[serde(default)]
    pub effects: BTreeMap<EffectId, Effect>,
    /// Drawings on the maps.
    #[serde(default)]
    pub drawings: BTreeMap<DrawingId, Drawing>,
    /// Walls on the maps.
    #[serde(default)]
    pub walls: BTreeMap<WallId, Wall>,
}

/// Entities plus the indices over them.
#[derive(Debug, Clone, Default)]
pub struct Store {
    entities: Entities,
    indices: Indices,
    spatial: BTreeMap<EncounterId, SpatialIndex>,
    /// Set for a store loaded from a session's snapshot: its encounters are
    /// the session's, and no change may add or remove one, so a live edit
    /// can never reach another encounter (or campaign) through a new one.
    fixed_encounters: bool,
    /// Set while loading a snapshot or undoing: what was stored or what
    /// was there before is taken as it is, without the limits on writes
    /// (a limit lowered later must not make a campaign unloadable).
    trusted: bool,
}

/// Two stores are equal when they hold the same state; how each was made
/// does not matter.
impl PartialEq for Store {
    fn eq(&self, other: &Self) -> bool {
        self.entities == other.entities
            && self.indices == other.indices
            && self.spatial == other.spatial
    }
}

impl Store {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store over a session's snapshot, after checking what every write
    /// would check (ids match their keys, tokens are on existing
    /// encounters) but the limits. Its encounters are fixed from then on.
    pub fn from_entities(entities: Entities) -> Result<Self> {
        let mut store = Store {
            trusted: true,
            ..Store::new()
        };
        // Encounters first: tokens refer to them.
        let Entities {
            actors,
            items,
            encounters,
            tokens,
            effects,
            drawings,
            walls,
        } = entities;
        let writes = encounters
            .into_iter()
            .map(|(id, e)| (Entity::Encounter(id), to_value(&e)))
            .chain(
                actors
                    .into_iter()
                    .map(|(id, e)| (Entity::Actor(id), to_value(&e))),
            )
            .chain(
                items
                    .into_iter()
                    .map(|(id, e)| (Entity::Item(id), to_value(&e))),
            )
            .chain(
                tokens
                    .into_iter()
                    .map(|(id, e)| (Entity::Token(id), to_value(&e))),
            )
            .chain(
                effects
                    .into_iter()
                    .map(|(id, e)| (Entity::Effect(id), to_value(&e))),
            )
            .chain(
                drawings
                    .into_iter()
                    .map(|(id, e)| (Entity::Drawing(id), to_value(&e))),
            )
            .chain(
                walls
                    .into_iter()
                    .map(|(id, e)| (Entity::Wall(id), to_value(&e))),
            );
        for (entity, value) in writes {
            store.apply(&Change::set(entity.path(), value))?;
        }
        store.trusted = false;
        store.fixed_encounters = true;
        Ok(store)
    }

    /// The entities.
    pub fn entities(&self) -> &Entities {
        &self.entities
    }

    /// The indices, as maintained incrementally.
    pub fn indices(&self) -> &Indices {
        &self.indices
    }

    /// Applies one change. On error nothing has changed.
    pub fn apply(&mut self, change: &Change) -> Result<Undo> {
        apply::apply(self, change)
    }

    /// Applies changes in order, all or nothing: on the first error every
    /// earlier change is undone and the error returned.
    pub fn apply_all<'a>(&mut self, changes: impl IntoIterator<Item = &'a Change>) -> Result<Undo> {
        let mut undo = Undo::default();
        for change in changes {
            match self.apply(change) {
                Ok(step) => undo.then(step),
                Err(error) => {
                    self.undo(undo);
                    return Err(error);
                }
            }
        }
        Ok(undo)
    }

    /// Reverts what produced `undo`. The state must be as that apply left
    /// it; the optimistic layer and `apply_all` guarantee this.
    pub fn undo(&mut self, undo: Undo) {
        let trusted = std::mem::replace(&mut self.trusted, true);
        for change in undo.0.into_iter().rev() {
            if let Err(error) = self.apply(&change) {
                // An undo is derived from the exact state it reverts; failing
                // here is a bug in this crate, not bad input.
                debug_assert!(false, "undo failed at {}: {error}", change.path);
            }
        }
        self.trusted = trusted;
    }

    /// An actor.
    pub fn actor(&self, id: ActorId) -> Option<&Actor> {
        self.entities.actors.get(&id)
    }

    /// An item.
    pub fn item(&self, id: ItemId) -> Option<&Item> {
        self.entities.items.get(&id)
    }

    /// An encounter.
    pub fn encounter(&self, id: EncounterId) -> Option<&Encounter> {
        self.entities.encounters.get(&id)
    }

    /// A token.
    pub fn token(&self, id: TokenId) -> Option<&Token> {
        self.entities.tokens.get(&id)
    }

    /// An effect.
    pub fn effect(&self, id: EffectId) -> Option<&Effect> {
        self.entities.effects.get(&id)
    }

    /// A drawing.
    pub fn drawing(&self, id: DrawingId) -> Option<&Drawing> {
        self.entities.drawings.get(&id)
    }

    /// Drawings on an encounter's map.
    pub fn drawings_in(&self, encounter: EncounterId) -> impl Iterator<Item = &Drawing> {
        ids(self.indices.drawings_by_encounter.get(&encounter))
            .filter_map(|id| self.entities.drawings.get(id))
    }

    /// A wall.
    pub fn wall(&self, id: WallId) -> Option<&Wall> {
        self.entities.walls.get(&id)
    }

    /// Walls on an encounter's map.
    pub fn walls_in(&self, encounter: EncounterId) -> impl Iterator<Item = &Wall> {
        ids(self.indices.walls_by_encounter.get(&encounter))
            .filter_map(|id| self.entities.walls.get(id))
    }

    /// Actors of one kind.
    pub fn actors_of_kind(&self, kind: ActorKind) -> impl Iterator<Item = &Actor> {
        ids(self.indices.actors_by_kind.get(&kind)).filter_map(|id| self.entities.actors.get(id))
    }

    /// Items an actor carries.
    pub fn items_of(&self, owner: ActorId) -> impl Iterator<Item = &Item> {
        ids(self.indices.items_by_owner.get(&owner)).filter_map(|id| self.entities.items.get(id))
    }

    /// Tokens on an encounter's map.
    pub fn tokens_in(&self, encounter: EncounterId) -> impl Iterator<Item = &Token> {
        ids(self.indices.tokens_by_encounter.get(&encounter))
            .filter_map(|id| self.entities.tokens.get(id))
    }

    /// Tokens standing for an actor.
    pub fn tokens_of(&self, actor: ActorId) -> impl Iterator<Item = &Token> {
        ids(self.indices.tokens_by_actor.get(&actor)).filter_map(|id| self.entities.tokens.get(id))
    }

    /// Effects on a token.
    pub fn effects_on(&self, token: TokenId) -> impl Iterator<Item = &Effect> {
        ids(self.indices.effects_by_target.get(&token))
            .filter_map(|id| self.entities.effects.get(id))
    }

    /// Effects a token caused.
    pub fn effects_from(&self, token: TokenId) -> impl Iterator<Item = &Effect> {
        ids(self.indices.effects_by_source.get(&token))
            .filter_map(|id| self.entities.effects.get(id))
    }

    /// Tokens of an encounter whose bounds intersect `viewport` (map
    /// pixels), in time proportional to the buckets visited and the answer.
    pub fn tokens_in_rect(&self, encounter: EncounterId, viewport: &Rect) -> Vec<TokenId> {
        self.spatial
            .get(&encounter)
            .map(|index| index.query(viewport))
            .unwrap_or_default()
    }

    /// True when the incrementally kept indices equal a rebuild from the
    /// entities. Always true unless this crate has a bug; tests assert it.
    pub fn indices_are_consistent(&self) -> bool {
        let (indices, spatial) = Indices::build(&self.entities);
        indices == self.indices && spatial == self.spatial
    }
}

fn ids<T>(set: Option<&BTreeSet<T>>) -> impl Iterator<Item = &T> {
    set.into_iter().flatten()
}

/// Serializes one of this crate's types, which have string keys and finite
/// numbers only, so serialization cannot fail.
pub(crate) fn to_value<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

/// The error for a path that names an entity the store lacks.
pub(crate) fn unknown(kind: EntityKind, id: impl ToString) -> Error {
    Error::UnknownEntity {
        kind,
        id: id.to_string(),
    }
}

#[cfg(test)]
mod tests;
