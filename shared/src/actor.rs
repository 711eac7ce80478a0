//! Actors as the live state holds them: characters, NPCs and monsters.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use serde_json::Value;

use crate::{
    Error,
    id::{ActorId, CampaignId, MediaId, UserId},
    sheet::{Ability, Attack, Check, Skill, proficiency_for_challenge},
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
    /// Hit points; `None` in the view of a player who may not read them
    /// (see [`crate::token::HpShown`]). The server's state always has them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hp: Option<HitPoints>,
    /// Walking speed in feet per turn.
    #[serde(default = "default_speed")]
    pub speed: u32,
    /// Other numbers (ability scores, AC, ...), by name.
    #[serde(default)]
    pub stats: BTreeMap<String, i64>,
    /// The saves and skills it adds its proficiency bonus to.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub proficiencies: BTreeSet<Check>,
    /// The attacks its sheet rolls.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attacks: Vec<Attack>,
    /// Its portrait from the campaign's media: the art its tokens wear.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portrait: Option<MediaId>,
}

impl Actor {
    /// What it adds to an initiative roll: its `initiative` stat when it
    /// has one, otherwise its Dexterity modifier, otherwise nothing.
    pub fn initiative_bonus(&self) -> i64 {
        self.stats
            .get("initiative")
            .copied()
            .unwrap_or_else(|| self.stats.get("dexterity").map_or(0, |dex| modifier(*dex)))
    }
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

/// The six abilities: the name an actor's stats use, and the SRD
/// statblock's (`ability_scores.dex`).
pub const ABILITIES: [(&str, &str); 6] = [
    ("strength", "str"),
    ("dexterity", "dex"),
    ("constitution", "con"),
    ("intelligence", "int"),
    ("wisdom", "wis"),
    ("charisma", "cha"),
];

/// An ability score's modifier (10 and 11 give +0; rounded down).
pub fn modifier(score: i64) -> i64 {
    (score - 10).div_euclid(2)
}

/// What rules and sheets read from an actor's stored stats: the statblock
/// (`base_stats`, an SRD entry or typed by hand) with the campaign's current
/// values (`current_stats`: damage taken, a raised score, conditions) over
/// it. The live session and the actor sheet read the same keys through it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Statblock {
    /// Hit points (current from `hp`, maximum from `hp_max`, else the
    /// statblock's `hit_points` or `hp`).
    pub hp: Option<HitPoints>,
    /// Armor class (`armor_class` or `ac`).
    pub armor_class: Option<i64>,
    /// Walking speed in feet (`speed` as a number, `{"walk": 40}` or
    /// `"40 ft."`, or the SRD's `movement.walk`).
    pub speed: Option<u32>,
    /// Ability scores in the usual order, by their long names.
    pub abilities: Vec<(&'static str, i64)>,
    /// An initiative bonus set by hand.
    pub initiative: Option<i64>,
    /// Its proficiency bonus (`proficiency_bonus`, else from a monster's
    /// challenge rating).
    pub proficiency_bonus: Option<i64>,
    /// The saves and skills it is proficient in (`saves` and `skills`,
    /// lists of names, or the SRD's maps of bonuses by name).
    pub proficiencies: BTreeSet<Check>,
    /// Conditions it has now (`current_stats.conditions`).
    pub conditions: Vec<String>,
    /// Short facts for a sheet (challenge rating, size, type, alignment,
    /// languages), as label and text.
    pub facts: Vec<(&'static str, String)>,
    /// The player's notes.
    pub notes: String,
    /// Its attacks (`attacks` as the sheet keeps them, else an SRD
    /// monster's `actions`).
    pub attacks: Vec<Attack>,
    /// Its portrait, an image of the campaign's media (`portrait`), which
    /// its tokens wear.
    pub portrait: Option<MediaId>,
}

impl Statblock {
    /// Reads the statblock `base` with `current` over it.
    pub fn read(base: &Value, current: &Value) -> Self {
        let number = |keys: &[&str]| {
            let find = |from: &Value| {
                keys.iter()
                    .find_map(|k| from.get(k).and_then(Value::as_i64))
            };
            find(current).or_else(|| find(base))
        };
        let hp = current
            .get("hp_max")
            .and_then(Value::as_i64)
            .or_else(|| {
                ["hit_points", "hp"]
                    .iter()
                    .find_map(|k| base.get(k).and_then(Value::as_i64))
            })
            .map(|max| HitPoints {
                current: current.get("hp").and_then(Value::as_i64).unwrap_or(max),
                max,
                temp: current.get("hp_temp").and_then(Value::as_i64).unwrap_or(0),
            });
        let speed = current
            .get("speed")
            .and_then(feet)
            .or_else(|| base.get("speed").and_then(feet))
            .or_else(|| base.get("movement").and_then(feet));
        let abilities = ABILITIES
            .into_iter()
            .filter_map(|(name, short)| {
                let score = current
                    .get(name)
                    .and_then(Value::as_i64)
                    .or_else(|| base.pointer(&format!("/ability_scores/{short}"))?.as_i64())
                    .or_else(|| base.get(name).and_then(Value::as_i64))?;
                Some((name, score))
            })
            .collect();
        let conditions = current
            .get("conditions")
            .and_then(Value::as_array)
            .map(|all| {
                all.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let text = |v: &Value| match v {
            Value::String(s) if !s.trim().is_empty() => Some(s.replace('_', " ")),
            Value::Number(n) => Some(n.to_string()),
            Value::Array(items) => {
                let words: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
                (!words.is_empty()).then(|| words.join(", "))
            }
            _ => None,
        };
        let facts = [
            ("Challenge", "cr"),
            ("Size", "creature_size"),
            ("Type", "creature_type"),
            ("Alignment", "alignment"),
            ("Languages", "languages"),
        ]
        .into_iter()
        .filter_map(|(label, key)| Some((label, text(base.get(key)?)?)))
        .collect();
        let proficiency_bonus = number(&["proficiency_bonus"]).or_else(|| {
            base.get("cr")
                .and_then(Value::as_f64)
                .map(proficiency_for_challenge)
        });
        // A list of names (a built character), or the SRD's map of
        // bonuses by name where `null` means not proficient.
        let names = |keys: &[&str]| -> Vec<String> {
            let find = |from: &Value| keys.iter().find_map(|k| from.get(k).cloned());
            match find(current).or_else(|| find(base)) {
                Some(Value::Array(names)) => names
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
                Some(Value::Object(bonuses)) => bonuses
                    .iter()
                    .filter(|(_, bonus)| !bonus.is_null())
                    .map(|(name, _)| name.replace('_', " "))
                    .collect(),
                _ => Vec::new(),
            }
        };
        let proficiencies = names(&["saves", "saving_throws"])
            .iter()
            .filter_map(|name| Ability::named(name).map(Check::Save))
            .chain(
                names(&["skills"])
                    .iter()
                    .filter_map(|name| Skill::named(&name.to_lowercase()).map(Check::Skill)),
            )
            .collect();
        Self {
            hp,
            armor_class: number(&["armor_class", "ac"]),
            speed,
            abilities,
            initiative: number(&["initiative"]),
            proficiency_bonus,
            proficiencies,
            conditions,
            facts,
            attacks: read_attacks(base, current),
            portrait: current
                .get("portrait")
                .or_else(|| base.get("portrait"))
                .and_then(|id| serde_json::from_value(id.clone()).ok()),
            notes: current
                .get("notes")
                .or_else(|| base.get("notes"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        }
    }

    /// The numbers the rules use, by name: the ability scores,
    /// `armor_class` and `initiative` (see [`Actor::stats`]).
    pub fn numbers(&self) -> BTreeMap<String, i64> {
        let mut numbers: BTreeMap<String, i64> = self
            .abilities
            .iter()
            .map(|(name, score)| ((*name).to_owned(), *score))
            .collect();
        numbers.extend(self.armor_class.map(|ac| ("armor_class".to_owned(), ac)));
        numbers.extend(
            self.initiative
                .map(|bonus| ("initiative".to_owned(), bonus)),
        );
        numbers.extend(
            self.proficiency_bonus
                .map(|bonus| ("proficiency_bonus".to_owned(), bonus)),
        );
        numbers
    }
}

/// The attacks a sheet keeps (`attacks`, current over base), else those of
/// an SRD monster's actions; entries that do not read are left out.
fn read_attacks(base: &Value, current: &Value) -> Vec<Attack> {
    if let Some(Value::Array(kept)) = current.get("attacks").or_else(|| base.get("attacks")) {
        return kept
            .iter()
            .filter_map(|a| serde_json::from_value::<Attack>(a.clone()).ok())
            .filter(|a| a.check().is_ok())
            .take(crate::sheet::MAX_ATTACKS)
            .collect();
    }
    base.get("actions")
        .and_then(Value::as_array)
        .map(|actions| {
            actions
                .iter()
                .filter_map(Attack::from_action)
                .take(crate::sheet::MAX_ATTACKS)
                .collect()
        })
        .unwrap_or_default()
}

/// Feet from a number, `{"walk": 40}` or `"40 ft."`.
fn feet(value: &Value) -> Option<u32> {
    let value = value.get("walk").unwrap_or(value);
    let feet = match value {
        Value::Number(n) => n.as_u64(),
        Value::String(text) => text
            .split(|c: char| !c.is_ascii_digit())
            .find(|part| !part.is_empty())
            .and_then(|digits| digits.parse().ok()),
        _ => None,
    };
    feet.and_then(|feet| u32::try_from(feet).ok())
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_portrait_is_read_from_the_current_values_first_and_null_clears_it() {
        let id = MediaId(uuid::Uuid::from_u128(7));
        let base = json!({"portrait": id});
        assert_eq!(Statblock::read(&base, &json!({})).portrait, Some(id));
        let cleared = json!({"portrait": null});
        assert_eq!(Statblock::read(&base, &cleared).portrait, None);
        let garbage = json!({"portrait": "not an id"});
        assert_eq!(Statblock::read(&json!({}), &garbage).portrait, None);
    }

    #[test]
    fn an_srd_statblock_reads_with_the_campaign_values_over_it() {
        let base = json!({
            "hp": 10, "ac": 15, "cr": 0.25, "creature_size": "small",
            "ability_scores": {"dex": 15, "str": 8},
            "movement": {"walk": 40, "fly": null}, "languages": ["Common", "Goblin"],
            "skills": {"Stealth": 6, "sleight_of_hand": 4, "arcana": null},
            "saving_throws": {"dex": 4, "con": null},
        });
        let current = json!({"hp": 4, "conditions": ["prone"], "strength": 12});
        let block = Statblock::read(&base, &current);
        assert_eq!(
            block.hp,
            Some(HitPoints {
                current: 4,
                max: 10,
                temp: 0
            }),
            "damage taken over the statblock"
        );
        assert_eq!(block.armor_class, Some(15));
        assert_eq!(block.speed, Some(40));
        assert_eq!(
            block.abilities,
            vec![("strength", 12), ("dexterity", 15)],
            "the raised score wins"
        );
        assert_eq!(block.conditions, vec!["prone".to_owned()]);
        assert!(
            block
                .facts
                .contains(&("Languages", "Common, Goblin".into()))
        );
        assert!(block.facts.contains(&("Challenge", "0.25".into())));
        assert_eq!(
            block.numbers(),
            BTreeMap::from([
                ("armor_class".to_owned(), 15),
                ("dexterity".to_owned(), 15),
                ("proficiency_bonus".to_owned(), 2),
                ("strength".to_owned(), 12),
            ])
        );
        assert_eq!(
            block
                .proficiencies
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            vec!["save:dexterity", "skill:sleight of hand", "skill:stealth"],
            "the SRD's maps of bonuses, where null is not proficient"
        );
        let cleared = Statblock::read(&base, &json!({"saves": [], "skills": []}));
        assert!(cleared.proficiencies.is_empty(), "the campaign's lists win");
    }

    #[test]
    fn speeds_read_in_every_shape_and_blanks_stay_blank() {
        let speed = |base: Value| Statblock::read(&base, &json!({})).speed;
        assert_eq!(speed(json!({"speed": "25 ft."})), Some(25));
        assert_eq!(speed(json!({"speed": {"walk": 35}})), Some(35));
        assert_eq!(speed(json!({"speed": 30})), Some(30));
        assert_eq!(
            Statblock::read(&json!({}), &json!({})),
            Statblock::default()
        );
        assert_eq!(
            (modifier(10), modifier(11), modifier(9), modifier(18)),
            (0, 0, -1, 4)
        );
    }
}
