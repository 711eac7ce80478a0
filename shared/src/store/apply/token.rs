//! A token's fields: name, actor, encounter, who sees it, place, size,
//! conditions, stats; and the keys that keep its indices exact.

use super::*;

/// Token keys: the encounter (for `tokens by encounter`) and what decides
/// its bounds (for the spatial index).
#[derive(PartialEq)]
pub(super) struct TokenKeys {
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
        self.sight.check().map_err(|reason| invalid(path, reason))?;
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
            ("hp_shown", []) => leaf(&mut self.hp_shown, op, path, any),
            ("sight", []) => leaf(&mut self.sight, op, path, crate::token::Sight::check),
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
