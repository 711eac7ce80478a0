//! A drawing: written whole and deleted whole (the pen draws a new one,
//! the eraser takes one away), so it has no fields to change.

use super::*;

impl Kind for Drawing {
    type Id = DrawingId;
    /// Its encounter.
    type Keys = EncounterId;
    const KIND: EntityKind = EntityKind::Drawing;

    fn id(&self) -> DrawingId {
        self.id
    }
    fn table(entities: &mut Entities) -> &mut BTreeMap<DrawingId, Self> {
        &mut entities.drawings
    }
    fn table_ref(entities: &Entities) -> &BTreeMap<DrawingId, Self> {
        &entities.drawings
    }
    fn keys(&self) -> EncounterId {
        self.encounter
    }
    fn check(&self, store: &Store, path: &Path) -> Result<()> {
        if !store.entities.encounters.contains_key(&self.encounter) {
            return Err(invalid(path, "the drawing's encounter does not exist"));
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
            .drawings_by_encounter
            .get(&self.encounter)
            .map_or(0, BTreeSet::len);
        limits::count(
            "the drawings on one map",
            on_map + 1,
            crate::drawing::MAX_DRAWINGS_PER_ENCOUNTER,
        )
    }
    fn unindex(store: &mut Store, id: DrawingId, encounter: &EncounterId) {
        unlink(&mut store.indices.drawings_by_encounter, encounter, &id);
    }
    fn index(store: &mut Store, id: DrawingId, encounter: &EncounterId) {
        link(&mut store.indices.drawings_by_encounter, *encounter, id);
    }
    fn field(&mut self, _: &[String], _: &Op, path: &Path) -> Result<Vec<Change>> {
        Err(bad_path(
            path,
            "a drawing is drawn and erased whole, not edited",
        ))
    }
}
