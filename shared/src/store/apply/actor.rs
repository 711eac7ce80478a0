//! An actor's fields: name, kind, owner, speed, hit points, stats,
//! proficiencies, attacks.

use super::*;

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
        limits::count(
            "an actor's proficiencies",
            self.proficiencies.len(),
            crate::character::MAX_PROFICIENCIES,
        )?;
        limits::count(
            "an actor's attacks",
            self.attacks.len(),
            crate::sheet::MAX_ATTACKS,
        )?;
        for attack in &self.attacks {
            attack.check()?;
        }
        if self.proficiencies.iter().any(|c| !c.takes_proficiency()) {
            return Err(Error::InvalidAction(
                "proficiency applies to saves and skills".into(),
            ));
        }
        stats_limits(&self.stats)
    }
    fn room(&self, store: &Store, _: &Path) -> Result<()> {
        limits::count(
            "a campaign's actors",
            store.entities.actors.len() + 1,
            limits::MAX_ACTORS,
        )
    }
    /// A token never names an actor that is gone: its id would reach a
    /// player who sees the token, naming something they can never hold.
    fn can_delete(&self, store: &Store, path: &Path) -> Result<()> {
        if store.indices.tokens_by_actor.contains_key(&self.id) {
            return Err(invalid(
                path,
                "the actor still stands on the map; remove its tokens first",
            ));
        }
        Ok(())
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
            "portrait" => {
                no_more(rest, path).and_then(|()| leaf(&mut self.portrait, op, path, any))
            }
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
                [part] => {
                    let hp = self
                        .hp
                        .as_mut()
                        .ok_or_else(|| invalid(path, "its hit points are not known here"))?;
                    match part.as_str() {
                        "current" => number(&mut hp.current, op, path, any),
                        "max" => number(&mut hp.max, op, path, any),
                        "temp" => number(&mut hp.temp, op, path, any),
                        _ => Err(bad_path(path, "no such field")),
                    }
                }
                _ => Err(bad_path(path, "no such field")),
            },
            "stats" => stat(&mut self.stats, rest, op, path),
            "proficiencies" => set_of(&mut self.proficiencies, rest, op, path),
            "attacks" => no_more(rest, path).and_then(|()| leaf(&mut self.attacks, op, path, any)),
            _ => Err(bad_path(path, "no such field")),
        }
    }
}
