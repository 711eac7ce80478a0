//! An effect's fields: name, source, properties, rounds left, targets.

use super::*;

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
