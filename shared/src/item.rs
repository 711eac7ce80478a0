//! Items as the live state holds them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::id::{ActorId, ItemId};

/// Something an actor can carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Its id.
    pub id: ItemId,
    /// Its name.
    pub name: String,
    /// The actor carrying it (indexed: `items by owner`).
    #[serde(default)]
    pub owner: Option<ActorId>,
    /// The item it is inside (a backpack), if any.
    #[serde(default)]
    pub container: Option<ItemId>,
    /// How many.
    #[serde(default = "one")]
    pub quantity: u32,
    /// System-specific details (damage dice, weight, ...).
    #[serde(default)]
    pub data: Value,
}

fn one() -> u32 {
    1
}
