//! An item's fields: name, owner, container, quantity, data.

use super::*;

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
