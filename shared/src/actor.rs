//! Actors as the live state holds them: characters, NPCs and monsters.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use serde_json::Value;

use crate::{
    Error,
    id::{ActorId, CampaignId, UserId},
};

/// A character, NPC or monster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// Its id.
    pub id: ActorId,
    /// Its name.
    pub name: String,
    /// What kind of actor it is (indexed: `actors by type`).
    pub kind: ActorKind,
    /// The player who controls it; `None` for the GM's actors.
    #[serde(default)]
    pub owner: Option<UserId>,
    /// Hit points.
    pub hp: HitPoints,
    /// Walking speed in feet per turn.
    #[serde(default = "default_speed")]
    pub speed: u32,
    /// Other numbers (ability scores, AC, ...), by name.
    #[serde(default)]
    pub stats: BTreeMap<String, i64>,
}

fn default_speed() -> u32 {
    30
}

/// The kinds of actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// A player character.
    Character,
    /// A non-player character.
    Npc,
    /// A monster.
    Monster,
}

impl ActorKind {
    /// The stored name (`actors.actor_type`).
    pub fn slug(self) -> &'static str {
        match self {
            ActorKind::Character => "character",
            ActorKind::Npc => "npc",
            ActorKind::Monster => "monster",
        }
    }
}

impl std::str::FromStr for ActorKind {
    type Err = Error;
    fn from_str(raw: &str) -> Result<Self, Error> {
        match raw {
            "character" => Ok(ActorKind::Character),
            "npc" => Ok(ActorKind::Npc),
            "monster" => Ok(ActorKind::Monster),
            other => Err(Error::InvalidAction(format!(
                "unknown actor type {other:?}; use character, npc or monster"
            ))),
        }
    }
}

/// An actor as its campaign stores it, outside any session: the sheet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActorRecord {
    /// Its id.
    pub id: ActorId,
    /// Its campaign.
    pub campaign: CampaignId,
    /// Its name.
    pub name: String,
    /// Character, NPC or monster.
    pub kind: ActorKind,
    /// The compendium entry it was made from.
    pub compendium_ref: Option<String>,
    /// Character level.
    pub level: Option<i32>,
    /// Character class.
    pub character_class: Option<String>,
    /// The player who plays it.
    pub owner: Option<UserId>,
    /// The stats copied from the compendium entry (or entered by hand).
    pub base_stats: Value,
    /// Overrides and current values (HP taken, a raised score), kept apart
    /// from the base.
    pub current_stats: Value,
}

/// Hit points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HitPoints {
    /// Current hit points; may go below zero (massive damage rules).
    pub current: i64,
    /// Maximum hit points.
    pub max: i64,
    /// Temporary hit points.
    #[serde(default)]
    pub temp: i64,
}
