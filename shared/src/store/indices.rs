//! The indices over the entities, maintained on every write.

use std::collections::{BTreeMap, BTreeSet};

use crate::{
    actor::ActorKind,
    encounter::Encounter,
    id::{ActorId, DrawingId, EffectId, EncounterId, ItemId, TokenId, WallId},
    spatial::SpatialIndex,
    store::Entities,
    token::Token,
};

/// Relationship indices: ids grouped by what they refer to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Indices {
    /// Actors by kind.
    pub actors_by_kind: BTreeMap<ActorKind, BTreeSet<ActorId>>,
    /// Items by the actor carrying them.
    pub items_by_owner: BTreeMap<ActorId, BTreeSet<ItemId>>,
    /// Tokens by the encounter they are on.
    pub tokens_by_encounter: BTreeMap<EncounterId, BTreeSet<TokenId>>,
    /// Tokens by the actor they stand for (who sees an actor depends on
    /// who sees its tokens).
    pub tokens_by_actor: BTreeMap<ActorId, BTreeSet<TokenId>>,
    /// Effects by each token they target.
    pub effects_by_target: BTreeMap<TokenId, BTreeSet<EffectId>>,
    /// Effects by the token that caused them.
    pub effects_by_source: BTreeMap<TokenId, BTreeSet<EffectId>>,
    /// Drawings by the encounter whose map they are on.
    pub drawings_by_encounter: BTreeMap<EncounterId, BTreeSet<DrawingId>>,
    /// Walls by the encounter whose map they are on.
    pub walls_by_encounter: BTreeMap<EncounterId, BTreeSet<WallId>>,
}

impl Indices {
    /// Computes every index from scratch: the reference the incremental
    /// maintenance is checked against.
    pub fn build(entities: &Entities) -> (Indices, BTreeMap<EncounterId, SpatialIndex>) {
        let mut indices = Indices::default();
        for actor in entities.actors.values() {
            link(&mut indices.actors_by_kind, actor.kind, actor.id);
        }
        for item in entities.items.values() {
            if let Some(owner) = item.owner {
                link(&mut indices.items_by_owner, owner, item.id);
            }
        }
        for token in entities.tokens.values() {
            link(&mut indices.tokens_by_encounter, token.encounter, token.id);
            if let Some(actor) = token.actor {
                link(&mut indices.tokens_by_actor, actor, token.id);
            }
        }
        for effect in entities.effects.values() {
            for target in &effect.targets {
                link(&mut indices.effects_by_target, *target, effect.id);
            }
            if let Some(source) = effect.source {
                link(&mut indices.effects_by_source, source, effect.id);
            }
        }
        for drawing in entities.drawings.values() {
            link(
                &mut indices.drawings_by_encounter,
                drawing.encounter,
                drawing.id,
            );
        }
        for wall in entities.walls.values() {
            link(&mut indices.walls_by_encounter, wall.encounter, wall.id);
        }
        let spatial = entities
            .encounters
            .values()
            .map(|encounter| {
                let mut index = spatial_index_for(encounter);
                for token in entities
                    .tokens
                    .values()
                    .filter(|t| t.encounter == encounter.id)
                {
                    index.upsert(token.id, token.bounds(encounter.map.grid_size));
                }
                (encounter.id, index)
            })
            .collect();
        (indices, spatial)
    }
}

/// An empty spatial index sized for an encounter's grid: buckets of four
/// by four cells hold a handful of ordinary tokens each.
pub(super) fn spatial_index_for(encounter: &Encounter) -> SpatialIndex {
    SpatialIndex::new(encounter.map.grid_size * 4.0)
}

/// The spatial index of `encounter`, rebuilt from its tokens.
pub(super) fn rebuild_spatial(
    encounter: &Encounter,
    tokens: impl Iterator<Item = Token>,
) -> SpatialIndex {
    let mut index = spatial_index_for(encounter);
    for token in tokens {
        index.upsert(token.id, token.bounds(encounter.map.grid_size));
    }
    index
}

pub(super) fn link<K: Ord, V: Ord>(map: &mut BTreeMap<K, BTreeSet<V>>, key: K, value: V) {
    map.entry(key).or_default().insert(value);
}

/// Removes `value` under `key`, and the key once its set is empty, so an
/// index never holds empty sets (a rebuild would not have them).
pub(super) fn unlink<K: Ord, V: Ord>(map: &mut BTreeMap<K, BTreeSet<V>>, key: &K, value: &V) {
    if let Some(set) = map.get_mut(key) {
        set.remove(value);
        if set.is_empty() {
            map.remove(key);
        }
    }
}
