//! Actors as the live state holds them: characters, NPCs and monsters.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::id::{ActorId, UserId};

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
