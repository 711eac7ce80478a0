//! Items as the live state holds them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::id::{ActorId, CampaignId, ItemId};

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

/// An item as its campaign stores it: who carries it, in what, how many.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemRecord {
    /// Its id.
    pub id: ItemId,
    /// Its campaign.
    pub campaign: CampaignId,
    /// Its name.
    pub name: String,
    /// Weapon, armor, potion, ...
    pub item_type: String,
    /// The compendium entry it was made from.
    pub compendium_ref: Option<String>,
    /// The actor carrying it; `None` for the GM's stash.
    pub owner: Option<ActorId>,
    /// The item it is inside, if any.
    pub container: Option<ItemId>,
    /// How many.
    pub quantity: u32,
    /// Properties copied from the compendium entry.
    pub base_properties: Value,
    /// Changes made in this campaign (an enchantment, a name), apart from
    /// the base.
    pub custom_properties: Value,
}
