//! Building a character: the form a player fills in, checked the same way
//! in the browser (each field's error next to it) and on the server (the
//! request refused as a whole), and the statblock it becomes.
//!
//! Ability scores follow the 5e rules for their method: the standard array
//! uses each of 15, 14, 13, 12, 10, 8 once; point buy spends at most 27
//! points on scores from 8 to 15; manual entry allows 1 to 30.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{
    actor::{ABILITIES, modifier},
    id::MediaId,
    limits::MAX_NAME_CHARS,
};

/// The standard array, highest first.
pub const STANDARD_ARRAY: [i64; 6] = [15, 14, 13, 12, 10, 8];
/// Points to spend in point buy.
pub const POINT_BUY_BUDGET: i64 = 27;
/// The highest character level.
pub const MAX_LEVEL: u32 = 20;
/// The most proficiencies (saves and skills together) a sheet keeps.
pub const MAX_PROFICIENCIES: usize = 32;

/// The eighteen skills and the ability each uses (its short name).
pub const SKILLS: [(&str, &str); 18] = [
    ("acrobatics", "dex"),
    ("animal handling", "wis"),
    ("arcana", "int"),
    ("athletics", "str"),
    ("deception", "cha"),
    ("history", "int"),
    ("insight", "wis"),
    ("intimidation", "cha"),
    ("investigation", "int"),
    ("medicine", "wis"),
    ("nature", "int"),
    ("perception", "wis"),
    ("performance", "cha"),
    ("persuasion", "cha"),
    ("religion", "int"),
    ("sleight of hand", "dex"),
    ("stealth", "dex"),
    ("survival", "wis"),
];

/// How the ability scores were chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AbilityMethod {
    /// 15, 14, 13, 12, 10, 8, each once.
    #[default]
    StandardArray,
    /// 27 points on scores from 8 to 15.
    PointBuy,
    /// Any score from 1 to 30 (rolled at the table, or a GM's NPC).
    Manual,
}

/// A character as its player builds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CharacterDraft {
    /// Its name.
    pub name: String,
    /// Its species or ancestry ("Dwarf"), from the SRD or typed.
    pub species: String,
    /// Its class ("Fighter"), from the SRD or typed.
    pub class: String,
    /// Its level, 1 to 20.
    pub level: u32,
    /// How the scores were chosen.
    pub method: AbilityMethod,
    /// Strength, dexterity, constitution, intelligence, wisdom, charisma.
    pub abilities: [i64; 6],
    /// Maximum hit points.
    pub hp_max: i64,
    /// Armor class.
    pub armor_class: i64,
    /// Walking speed in feet.
    pub speed: u32,
    /// Saving throws it is proficient in, by the ability's short name
    /// (`dex`).
    pub saves: Vec<String>,
    /// Skills it is proficient in ([`SKILLS`]).
    pub skills: Vec<String>,
    /// A portrait from the campaign's media.
    pub portrait: Option<MediaId>,
}

impl Default for CharacterDraft {
    fn default() -> Self {
        Self {
            name: String::new(),
            species: String::new(),
            class: String::new(),
            level: 1,
            method: AbilityMethod::StandardArray,
            abilities: STANDARD_ARRAY,
            hp_max: 10,
            armor_class: 10,
            speed: 30,
            saves: Vec::new(),
            skills: Vec::new(),
            portrait: None,
        }
    }
}

/// What is wrong with one field of a draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The field (`name`, `abilities`, `hp_max`, ...).
    pub field: &'static str,
    /// What to fix, in words for the form.
    pub message: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The cost of one score in point buy (8 costs nothing, 15 costs 9), or
/// `None` outside 8 to 15.
pub fn point_cost(score: i64) -> Option<i64> {
    match score {
        8..=13 => Some(score - 8),
        14 => Some(7),
        15 => Some(9),
        _ => None,
    }
}

/// The points six scores spend, or `None` when one is outside 8 to 15.
pub fn points_spent(scores: &[i64; 6]) -> Option<i64> {
    scores.iter().map(|s| point_cost(*s)).sum()
}

/// Hit points at `level` with a `hit_die` (6, 8, 10, 12) and a
/// constitution score: the die's maximum at first level, its average
/// rounded up after, the constitution modifier every level; never below
/// one per level.
pub fn suggested_hp(hit_die: u32, level: u32, constitution: i64) -> i64 {
    let level = i64::from(level.clamp(1, MAX_LEVEL));
    let die = i64::from(hit_die);
    let per_level = (die / 2 + 1 + modifier(constitution)).max(1);
    (die + modifier(constitution)).max(1) + (level - 1) * per_level
}

impl CharacterDraft {
    /// Every problem with the draft, field by field; empty when it can be
    /// created.
    pub fn problems(&self) -> Vec<FieldError> {
        let mut problems = Vec::new();
        let mut bad = |field: &'static str, message: String| {
            problems.push(FieldError { field, message });
        };
        if self.name.trim().is_empty() {
            bad("name", "A character needs a name.".into());
        }
        for (field, label, text) in [
            ("name", "The name", &self.name),
            ("species", "The species", &self.species),
            ("class", "The class", &self.class),
        ] {
            if text.chars().count() > MAX_NAME_CHARS {
                bad(
                    field,
                    format!("{label} can have at most {MAX_NAME_CHARS} characters."),
                );
            }
            if text.contains('\0') {
                bad(field, format!("{label} cannot contain a NUL character."));
            }
        }
        if !(1..=MAX_LEVEL).contains(&self.level) {
            bad("level", format!("The level is from 1 to {MAX_LEVEL}."));
        }
        match self.method {
            AbilityMethod::StandardArray => {
                let mut sorted = self.abilities;
                sorted.sort_unstable_by(|a, b| b.cmp(a));
                if sorted != STANDARD_ARRAY {
                    bad(
                        "abilities",
                        "The standard array uses 15, 14, 13, 12, 10 and 8, each once.".into(),
                    );
                }
            }
            AbilityMethod::PointBuy => match points_spent(&self.abilities) {
                None => bad(
                    "abilities",
                    "With point buy, every score is from 8 to 15.".into(),
                ),
                Some(spent) if spent > POINT_BUY_BUDGET => bad(
                    "abilities",
                    format!("That spends {spent} points; point buy has {POINT_BUY_BUDGET}."),
                ),
                Some(_) => {}
            },
            AbilityMethod::Manual => {
                if self.abilities.iter().any(|s| !(1..=30).contains(s)) {
                    bad("abilities", "Every score is from 1 to 30.".into());
                }
            }
        }
        if !(1..=999).contains(&self.hp_max) {
            bad("hp_max", "Hit points are from 1 to 999.".into());
        }
        if !(1..=30).contains(&self.armor_class) {
            bad("armor_class", "Armor class is from 1 to 30.".into());
        }
        if self.speed > 120 || !self.speed.is_multiple_of(5) {
            bad("speed", "Speed is in steps of 5 feet, at most 120.".into());
        }
        if self
            .saves
            .iter()
            .any(|save| !ABILITIES.iter().any(|(_, short)| *short == save.as_str()))
        {
            bad(
                "saves",
                "A saving throw is one of the six abilities.".into(),
            );
        }
        if self
            .skills
            .iter()
            .any(|skill| !SKILLS.iter().any(|(name, _)| *name == skill.as_str()))
        {
            bad("skills", "Unknown skill.".into());
        }
        if self.saves.len() + self.skills.len() > MAX_PROFICIENCIES {
            bad(
                "skills",
                format!("At most {MAX_PROFICIENCIES} proficiencies."),
            );
        }
        problems
    }

    /// The proficiency bonus at its level (+2 at 1, +6 at 17).
    pub fn proficiency_bonus(&self) -> i64 {
        2 + (i64::from(self.level.clamp(1, MAX_LEVEL)) - 1) / 4
    }

    /// The statblock it is stored as (`actors.base_stats`), in the keys
    /// [`crate::actor::Statblock`] reads.
    pub fn statblock(&self) -> Value {
        let mut block = serde_json::Map::new();
        for ((name, _), score) in ABILITIES.iter().zip(self.abilities) {
            block.insert((*name).to_owned(), json!(score));
        }
        let mut saves = self.saves.clone();
        saves.sort();
        saves.dedup();
        let mut skills = self.skills.clone();
        skills.sort();
        skills.dedup();
        block.extend([
            ("hp".to_owned(), json!(self.hp_max)),
            ("armor_class".to_owned(), json!(self.armor_class)),
            ("speed".to_owned(), json!(self.speed)),
            ("species".to_owned(), json!(self.species.trim())),
            ("ability_method".to_owned(), json!(self.method)),
            (
                "proficiency_bonus".to_owned(),
                json!(self.proficiency_bonus()),
            ),
            ("saves".to_owned(), json!(saves)),
            ("skills".to_owned(), json!(skills)),
        ]);
        if let Some(portrait) = self.portrait {
            block.insert("portrait".to_owned(), json!(portrait));
        }
        Value::Object(block)
    }
}

/// A class offered by the character form, read from the SRD entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassOption {
    /// Its name.
    pub name: String,
    /// The hit die's sides (`d10` is 10).
    pub hit_die: u32,
    /// Its saving throws (short ability names).
    pub saves: Vec<String>,
}

impl ClassOption {
    /// Reads an SRD class entry (`hit_die: "d10"`, `saving_throws`); `None`
    /// when it has no usable hit die.
    pub fn from_srd(name: &str, data: &Value) -> Option<Self> {
        let hit_die = data
            .get("hit_die")?
            .as_str()?
            .trim_start_matches('d')
            .parse::<u32>()
            .ok()
            .filter(|sides| [4, 6, 8, 10, 12, 20].contains(sides))?;
        let saves = data
            .get("saving_throws")
            .and_then(Value::as_array)
            .map(|all| {
                all.iter()
                    .filter_map(Value::as_str)
                    .filter(|s| ABILITIES.iter().any(|(_, short)| short == s))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        Some(Self {
            name: name.to_owned(),
            hit_die,
            saves,
        })
    }
}

/// A species offered by the character form, read from the SRD entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpeciesOption {
    /// Its name.
    pub name: String,
    /// Its walking speed in feet.
    pub speed: u32,
}

impl SpeciesOption {
    /// Reads an SRD species entry (`movement.walk`; 30 feet without one).
    pub fn from_srd(name: &str, data: &Value) -> Self {
        let speed = data
            .pointer("/movement/walk")
            .and_then(Value::as_u64)
            .and_then(|feet| u32::try_from(feet).ok())
            .unwrap_or(30);
        Self {
            name: name.to_owned(),
            speed,
        }
    }
}

/// The classes and species the form offers, and the weapons and spells a
/// sheet can take its attacks from.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CharacterOptions {
    /// Classes, by name.
    pub classes: Vec<ClassOption>,
    /// Species, by name.
    pub species: Vec<SpeciesOption>,
    /// The compendium's weapons as attacks, by name.
    #[serde(default)]
    pub weapons: Vec<crate::sheet::Attack>,
    /// The compendium's spells that deal damage, as attacks, by level and
    /// then name.
    #[serde(default)]
    pub spells: Vec<crate::sheet::Attack>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(draft: &CharacterDraft) -> Vec<&'static str> {
        draft.problems().iter().map(|p| p.field).collect()
    }

    fn named() -> CharacterDraft {
        CharacterDraft {
            name: "Aria".into(),
            ..CharacterDraft::default()
        }
    }

    #[test]
    fn a_default_draft_with_a_name_is_valid() {
        assert_eq!(fields(&named()), Vec::<&str>::new());
        assert_eq!(fields(&CharacterDraft::default()), vec!["name"]);
    }

    #[test]
    fn the_standard_array_is_each_score_once_in_any_order() {
        let mut draft = named();
        draft.abilities = [8, 10, 12, 13, 14, 15];
        assert!(draft.problems().is_empty());
        draft.abilities = [15, 15, 13, 12, 10, 8];
        assert_eq!(fields(&draft), vec!["abilities"]);
    }

    #[test]
    fn point_buy_spends_at_most_27_points_on_8_to_15() {
        let mut draft = named();
        draft.method = AbilityMethod::PointBuy;
        // 9 + 9 + 5 + 2 + 2 + 0 = 27.
        draft.abilities = [15, 15, 13, 10, 10, 8];
        assert_eq!(points_spent(&draft.abilities), Some(27));
        assert!(draft.problems().is_empty());
        draft.abilities = [15, 15, 13, 10, 10, 9];
        assert_eq!(fields(&draft), vec!["abilities"], "28 points");
        draft.abilities = [16, 8, 8, 8, 8, 8];
        assert_eq!(fields(&draft), vec!["abilities"], "16 is not for sale");
    }

    #[test]
    fn manual_scores_are_1_to_30() {
        let mut draft = named();
        draft.method = AbilityMethod::Manual;
        draft.abilities = [3, 18, 30, 1, 11, 12];
        assert!(draft.problems().is_empty());
        draft.abilities[0] = 31;
        assert_eq!(fields(&draft), vec!["abilities"]);
    }

    #[test]
    fn every_bad_field_is_named() {
        let draft = CharacterDraft {
            name: " ".into(),
            class: "x".repeat(MAX_NAME_CHARS + 1),
            level: 21,
            hp_max: 0,
            armor_class: 31,
            speed: 33,
            saves: vec!["luck".into()],
            skills: vec!["juggling".into()],
            ..CharacterDraft::default()
        };
        assert_eq!(
            fields(&draft),
            vec![
                "name",
                "class",
                "level",
                "hp_max",
                "armor_class",
                "speed",
                "saves",
                "skills"
            ]
        );
    }

    #[test]
    fn hit_points_follow_the_die_the_level_and_constitution() {
        // A fighter (d10) with 14 constitution: 12 at first level, +8 a level.
        assert_eq!(suggested_hp(10, 1, 14), 12);
        assert_eq!(suggested_hp(10, 3, 14), 28);
        // A wizard with 3 constitution (-4) still gains one a level.
        assert_eq!(suggested_hp(6, 2, 3), 2 + 1);
    }

    #[test]
    fn the_statblock_reads_back_as_the_sheet_shows_it() {
        let mut draft = named();
        draft.abilities = [8, 15, 14, 10, 13, 12];
        draft.hp_max = 11;
        draft.armor_class = 14;
        draft.speed = 35;
        draft.level = 5;
        draft.skills = vec!["stealth".into(), "stealth".into()];
        let block = draft.statblock();
        let read = crate::actor::Statblock::read(&block, &json!({}));
        assert_eq!(read.hp.map(|hp| (hp.current, hp.max)), Some((11, 11)));
        assert_eq!(read.armor_class, Some(14));
        assert_eq!(read.speed, Some(35));
        assert_eq!(read.abilities[1], ("dexterity", 15));
        assert_eq!(block["skills"], json!(["stealth"]));
        assert_eq!(block["proficiency_bonus"], json!(3));
    }

    #[test]
    fn srd_classes_and_species_read_their_numbers() {
        let class = ClassOption::from_srd(
            "Fighter",
            &json!({"hit_die": "d10", "saving_throws": ["con", "str", "bogus"]}),
        )
        .unwrap();
        assert_eq!(
            (class.hit_die, class.saves),
            (10, vec!["con".into(), "str".into()])
        );
        assert_eq!(
            ClassOption::from_srd("Odd", &json!({"hit_die": "d7"})),
            None
        );
        let dwarf = SpeciesOption::from_srd("Dwarf", &json!({"movement": {"walk": 25}}));
        assert_eq!(dwarf.speed, 25);
        assert_eq!(SpeciesOption::from_srd("Blob", &json!({})).speed, 30);
    }
}
