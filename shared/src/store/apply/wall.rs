//! A wall: built and removed whole; a door's state is its one field that
//! changes in play.

use super::*;

impl Kind for Wall {
    type Id = WallId;
    /// Its encounter.
    type Keys = EncounterId;
    const KIND: EntityKind = EntityKind::Wall;

    fn id(&self) -> WallId {
        self.id
    }
    fn table(entities: &mut Entities) -> &mut BTreeMap<WallId, Self> {
        &mut entities.walls
    }
    fn table_ref(entities: &Entities) -> &BTreeMap<WallId, Self> {
        &entities.walls
    }
    fn keys(&self) -> EncounterId {
        self.encounter
    }
    fn check(&self, store: &Store, path: &Path) -> Result<()> {
        if !store.entities.encounters.contains_key(&self.encounter) {
            return Err(invalid(path, "the wall's encounter does not exist"));
        }
        self.check()
            .map_err(|error| invalid(path, &error.to_string()))
    }
    fn limits(&self) -> Result<()> {
        Ok(())
    }
    fn room(&self, store: &Store, _: &Path) -> Result<()> {
        let on_map = store
            .indices
            .walls_by_encounter
            .get(&self.encounter)
            .map_or(0, BTreeSet::len);
        limits::count(
            "the walls on one map",
            on_map + 1,
            crate::wall::MAX_WALLS_PER_ENCOUNTER,
        )
    }
    fn unindex(store: &mut Store, id: WallId, encounter: &EncounterId) {
        unlink(&mut store.indices.walls_by_encounter, encounter, &id);
    }
    fn index(store: &mut Store, id: WallId, encounter: &EncounterId) {
        link(&mut store.indices.walls_by_encounter, *encounter, id);
    }
    fn field(&mut self, field: &[String], op: &Op, path: &Path) -> Result<Vec<Change>> {
        let (name, rest) = split(field);
        no_more(rest, path)?;
        match name {
            // The whole-wall check that follows refuses a state on a wall
            // that is not a door, and a door without one.
            "door" => leaf(&mut self.door, op, path, any),
            _ => Err(bad_path(
                path,
                "a wall is built and removed whole; only a door's state changes",
            )),
        }
    }
}
