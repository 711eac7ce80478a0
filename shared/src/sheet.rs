//! What a sheet rolls and what it lets its player change: ability checks,
//! saving throws and skill checks with the bonus a 5e sheet adds (the
//! ability's modifier, plus the proficiency bonus where the actor is
//! proficient), and the numbers of a sheet with their ranges.
//!
//! The browser shows a bonus with these functions and the server rolls
//! with the same ones, against the live actor: a client names the check,
//! never the bonus.

use std::fmt;

use serde::{Deserialize, Serialize};

use serde_json::{Value, json};

use crate::{
    Error, Result,
    actor::{ABILITIES, Actor, Statblock, modifier},
    character::{MAX_PROFICIENCIES, SKILLS},
    dice::{DiceExpression, Roll},
    id::MediaId,
    template::Shape,
};

/// The longest notes a sheet keeps, in characters.
pub const MAX_NOTES_CHARS: usize = 10_000;
/// The most attacks a sheet lists.
pub const MAX_ATTACKS: usize = 16;

/// The six abilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ability {
    /// Strength.
    Strength,
    /// Dexterity.
    Dexterity,
    /// Constitution.
    Constitution,
    /// Intelligence.
    Intelligence,
    /// Wisdom.
    Wisdom,
    /// Charisma.
    Charisma,
}

impl Ability {
    /// All six, in the usual order (the order of [`ABILITIES`]).
    pub const ALL: [Ability; 6] = [
        Ability::Strength,
        Ability::Dexterity,
        Ability::Constitution,
        Ability::Intelligence,
        Ability::Wisdom,
        Ability::Charisma,
    ];

    /// The name an actor's stats use (`dexterity`).
    pub fn name(self) -> &'static str {
        ABILITIES[self as usize].0
    }

    /// The three-letter name (`dex`).
    pub fn short(self) -> &'static str {
        ABILITIES[self as usize].1
    }

    /// The ability named `raw`, by its long or short name.
    pub fn named(raw: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.name() == raw || a.short() == raw)
    }

    /// The name with a capital (`Dexterity`).
    pub fn title(self) -> String {
        capitalised(self.name())
    }
}

/// One of the eighteen skills of [`SKILLS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Skill(&'static str);

impl Skill {
    /// Every skill, alphabetically.
    pub fn all() -> impl Iterator<Item = Skill> {
        SKILLS.iter().map(|(name, _)| Skill(name))
    }

    /// The skill named `raw` (`stealth`, `sleight of hand`).
    pub fn named(raw: &str) -> Option<Self> {
        SKILLS
            .iter()
            .find(|(name, _)| *name == raw)
            .map(|(name, _)| Skill(name))
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        self.0
    }

    /// The ability it uses.
    pub fn ability(self) -> Ability {
        SKILLS
            .iter()
            .find(|(name, _)| *name == self.0)
            .and_then(|(_, short)| Ability::named(short))
            .unwrap_or(Ability::Strength)
    }
}

/// Something a sheet rolls a d20 for. On the wire and in an actor's
/// proficiencies it is a short string: `check:dexterity`, `save:wisdom`,
/// `skill:sleight of hand`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Check {
    /// An ability check (no proficiency applies).
    Ability(Ability),
    /// A saving throw.
    Save(Ability),
    /// A skill check.
    Skill(Skill),
}

impl Check {
    /// What the log calls it: `Dexterity check`, `Wisdom save`, `Stealth`.
    pub fn label(self) -> String {
        match self {
            Check::Ability(ability) => format!("{} check", ability.title()),
            Check::Save(ability) => format!("{} save", ability.title()),
            Check::Skill(skill) => capitalised(skill.name()),
        }
    }

    /// The ability whose modifier it adds.
    pub fn ability(self) -> Ability {
        match self {
            Check::Ability(ability) | Check::Save(ability) => ability,
            Check::Skill(skill) => skill.ability(),
        }
    }

    /// Whether an actor can be proficient in it (saves and skills).
    pub fn takes_proficiency(self) -> bool {
        !matches!(self, Check::Ability(_))
    }

    /// What `actor` adds to the d20: the ability's modifier (a sheet
    /// without the score counts 10), plus its proficiency bonus if it is
    /// proficient.
    pub fn bonus(self, actor: &Actor) -> i64 {
        let score = actor
            .stats
            .get(self.ability().name())
            .copied()
            .unwrap_or(10);
        let proficient = actor.proficiencies.contains(&self);
        modifier(score)
            + if proficient {
                proficiency_bonus(actor)
            } else {
                0
            }
    }
}

/// An actor's proficiency bonus: its `proficiency_bonus` stat, +2 if it
/// has none.
pub fn proficiency_bonus(actor: &Actor) -> i64 {
    actor
        .stats
        .get(Stat::ProficiencyBonus.key())
        .copied()
        .unwrap_or(2)
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Check::Ability(ability) => write!(f, "check:{}", ability.name()),
            Check::Save(ability) => write!(f, "save:{}", ability.name()),
            Check::Skill(skill) => write!(f, "skill:{}", skill.name()),
        }
    }
}

impl std::str::FromStr for Check {
    type Err = Error;
    fn from_str(raw: &str) -> Result<Self> {
        let unknown = || Error::InvalidAction(format!("no such check: {raw:?}"));
        let (kind, name) = raw.split_once(':').ok_or_else(unknown)?;
        match kind {
            "check" => Ability::named(name).map(Check::Ability),
            "save" => Ability::named(name).map(Check::Save),
            "skill" => Skill::named(name).map(Check::Skill),
            _ => None,
        }
        .ok_or_else(unknown)
    }
}

impl TryFrom<String> for Check {
    type Error = Error;
    fn try_from(raw: String) -> Result<Self> {
        raw.parse()
    }
}

impl From<Check> for String {
    fn from(check: Check) -> Self {
        check.to_string()
    }
}

/// Rolling with advantage (two d20, the higher counts), disadvantage (the
/// lower) or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Edge {
    /// One d20.
    #[default]
    Normal,
    /// Two d20, the higher counts.
    Advantage,
    /// Two d20, the lower counts.
    Disadvantage,
}

impl Edge {
    /// How many d20 it rolls.
    pub fn dice(self) -> usize {
        match self {
            Edge::Normal => 1,
            Edge::Advantage | Edge::Disadvantage => 2,
        }
    }

    /// The face that counts.
    pub fn pick(self, faces: &[u32]) -> Option<u32> {
        match self {
            Edge::Normal | Edge::Advantage => faces.iter().copied().max(),
            Edge::Disadvantage => faces.iter().copied().min(),
        }
    }

    /// How the log says it (` with advantage`), empty for neither.
    pub fn words(self) -> &'static str {
        match self {
            Edge::Normal => "",
            Edge::Advantage => " with advantage",
            Edge::Disadvantage => " with disadvantage",
        }
    }
}

/// How a rolled check reads in the log: `Aria: Stealth with advantage:
/// 14, 7 + 5 → 19`.
pub fn describe_check(actor: &Actor, check: Check, edge: Edge, faces: &[u32]) -> Option<String> {
    let kept = edge.pick(faces)?;
    let bonus = check.bonus(actor);
    let faces: Vec<String> = faces.iter().map(u32::to_string).collect();
    Some(format!(
        "{}: {}{}: {} {} → {}",
        actor.name,
        check.label(),
        edge.words(),
        faces.join(", "),
        signed(bonus),
        i64::from(kept) + bonus,
    ))
}

/// A number on a sheet that its player (or the GM) sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stat {
    /// An ability score.
    Ability(Ability),
    /// Armor class.
    ArmorClass,
    /// Walking speed in feet.
    Speed,
    /// Current hit points.
    Hp,
    /// Maximum hit points.
    HpMax,
    /// Temporary hit points.
    HpTemp,
    /// The proficiency bonus.
    ProficiencyBonus,
    /// An initiative bonus that replaces the Dexterity modifier.
    Initiative,
}

impl Stat {
    /// The key in an actor's `stats` for the numbers kept there; speed and
    /// hit points have fields of their own.
    pub fn key(self) -> &'static str {
        match self {
            Stat::Ability(ability) => ability.name(),
            Stat::ArmorClass => "armor_class",
            Stat::Speed => "speed",
            Stat::Hp => "hp",
            Stat::HpMax => "hp_max",
            Stat::HpTemp => "hp_temp",
            Stat::ProficiencyBonus => "proficiency_bonus",
            Stat::Initiative => "initiative",
        }
    }

    /// What the sheet calls it.
    pub fn label(self) -> String {
        match self {
            Stat::Ability(ability) => ability.title(),
            Stat::ArmorClass => "Armor class".into(),
            Stat::Speed => "Speed".into(),
            Stat::Hp => "Hit points".into(),
            Stat::HpMax => "Maximum hit points".into(),
            Stat::HpTemp => "Temporary hit points".into(),
            Stat::ProficiencyBonus => "Proficiency bonus".into(),
            Stat::Initiative => "Initiative bonus".into(),
        }
    }

    /// The values it may take.
    pub fn range(self) -> std::ops::RangeInclusive<i64> {
        match self {
            Stat::Ability(_) => 1..=30,
            Stat::ArmorClass => 1..=30,
            Stat::Speed => 0..=120,
            Stat::Hp => -999..=999,
            Stat::HpMax => 1..=999,
            Stat::HpTemp => 0..=999,
            Stat::ProficiencyBonus => 0..=9,
            Stat::Initiative => -10..=20,
        }
    }

    /// `value`, if it is in range; otherwise a sentence that says the
    /// range.
    pub fn check(self, value: i64) -> Result<i64> {
        let range = self.range();
        if range.contains(&value) {
            Ok(value)
        } else {
            Err(Error::InvalidAction(format!(
                "{} is from {} to {}",
                self.label(),
                range.start(),
                range.end()
            )))
        }
    }

    /// Its value on `actor`, if it has one.
    pub fn value(self, actor: &Actor) -> Option<i64> {
        match self {
            Stat::Speed => Some(i64::from(actor.speed)),
            Stat::Hp => actor.hp.map(|hp| hp.current),
            Stat::HpMax => actor.hp.map(|hp| hp.max),
            Stat::HpTemp => actor.hp.map(|hp| hp.temp),
            other => actor.stats.get(other.key()).copied(),
        }
    }
}

/// An attack on a sheet: a weapon from the compendium, a monster's action,
/// or one typed by hand. To hit: the ability's modifier, the proficiency
/// bonus and a magic bonus; damage: the dice plus the modifier and bonus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attack {
    /// What the log calls it (`Longsword`).
    pub name: String,
    /// The dice of its damage without the modifier (`1d8`).
    pub damage: String,
    /// The kind of damage (`slashing`).
    #[serde(default)]
    pub damage_type: String,
    /// Uses the higher of Strength and Dexterity.
    #[serde(default)]
    pub finesse: bool,
    /// A ranged attack: Dexterity.
    #[serde(default)]
    pub ranged: bool,
    /// A magic weapon's bonus, to hit and to damage.
    #[serde(default)]
    pub bonus: i64,
    /// A spell: how it lands. `None` for a weapon or a monster's action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spell: Option<Spell>,
    /// The area it covers (Fireball: a 20-ft circle), offered as a
    /// template on the map.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<Shape>,
}

/// How a spell on a sheet lands. A spell uses the caster's spellcasting
/// ability, read as the highest of Intelligence, Wisdom and Charisma (the
/// sheet does not record a class's casting ability, and a caster's best
/// mental ability is that one for every SRD class); its damage is its dice
/// alone, plus the modifier only where the spell says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "lands", rename_all = "snake_case")]
pub enum Spell {
    /// A spell attack: d20 + modifier + proficiency against AC.
    Attack {
        /// The damage adds the spellcasting modifier (Spiritual Weapon).
        #[serde(default)]
        adds_modifier: bool,
    },
    /// The target saves against the caster's DC (8 + proficiency +
    /// modifier); no d20 is rolled by the caster.
    Save {
        /// The ability the target saves with.
        ability: Ability,
        /// A success halves the damage (Fireball) rather than avoiding it.
        half: bool,
    },
    /// It hits without a roll (Magic Missile).
    Hits,
}

impl Spell {
    fn adds_modifier(self) -> bool {
        matches!(
            self,
            Spell::Attack {
                adds_modifier: true
            }
        )
    }
}

impl Attack {
    /// Whether it can be kept: a name, damage dice that parse, a short
    /// damage type, a bonus from -10 to +10.
    pub fn check(&self) -> Result<()> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > crate::limits::MAX_NAME_CHARS {
            return Err(Error::InvalidAction(
                "an attack needs a name of at most 100 characters".into(),
            ));
        }
        self.damage.parse::<DiceExpression>()?;
        if self.damage_type.chars().count() > 40 || !(-10..=10).contains(&self.bonus) {
            return Err(Error::InvalidAction(
                "an attack's damage type is a word and its bonus from -10 to +10".into(),
            ));
        }
        if let Some(area) = self.area {
            area.check()
                .map_err(|e| Error::InvalidAction(format!("an attack's area: {e}")))?;
        }
        Ok(())
    }

    /// The ability it uses for `actor`.
    pub fn ability(&self, actor: &Actor) -> Ability {
        let score = |a: Ability| actor.stats.get(a.name()).copied().unwrap_or(10);
        if self.spell.is_some() {
            // The first of the highest, so that ties read the same everywhere.
            return [Ability::Intelligence, Ability::Wisdom, Ability::Charisma]
                .into_iter()
                .rev()
                .max_by_key(|a| score(*a))
                .unwrap_or(Ability::Intelligence);
        }
        if self.ranged || (self.finesse && score(Ability::Dexterity) > score(Ability::Strength)) {
            Ability::Dexterity
        } else {
            Ability::Strength
        }
    }

    /// The ability's modifier, with a magic weapon's bonus (a spell's
    /// bonus is to its damage only).
    fn modifier(&self, actor: &Actor) -> i64 {
        let ability = self.ability(actor);
        let score = modifier(actor.stats.get(ability.name()).copied().unwrap_or(10));
        if self.spell.is_some() {
            score
        } else {
            score + self.bonus
        }
    }

    /// What `actor` adds to the d20 (proficient with every attack on its
    /// sheet).
    pub fn to_hit(&self, actor: &Actor) -> i64 {
        self.modifier(actor) + proficiency_bonus(actor)
    }

    /// Whether the attacker rolls a d20 (a weapon or a spell attack; not a
    /// spell the target saves against or one that always hits).
    pub fn rolls_to_hit(&self) -> bool {
        matches!(self.spell, None | Some(Spell::Attack { .. }))
    }

    /// The d20 the attacker rolls with `edge`: none for a spell that does
    /// not roll to hit.
    pub fn d20_dice(&self, edge: Edge) -> usize {
        if self.rolls_to_hit() { edge.dice() } else { 0 }
    }

    /// The save a spell asks of its target: the ability and `actor`'s DC.
    pub fn save(&self, actor: &Actor) -> Option<(Ability, i64)> {
        match self.spell {
            Some(Spell::Save { ability, .. }) => Some((ability, 8 + self.to_hit(actor))),
            _ => None,
        }
    }

    /// Its damage for `actor`: the dice (twice on a critical hit) plus the
    /// modifier (a spell's dice alone, unless it adds the modifier).
    pub fn damage_expression(&self, actor: &Actor, critical: bool) -> Result<DiceExpression> {
        let dice = if critical {
            format!("{0} + {0}", self.damage)
        } else {
            self.damage.clone()
        };
        let plus = match self.spell {
            None => self.modifier(actor),
            Some(spell) if spell.adds_modifier() => self.modifier(actor) + self.bonus,
            Some(_) if self.bonus == 0 => return dice.parse(),
            Some(_) => self.bonus,
        };
        format!("{dice} {}", signed(plus)).parse()
    }

    /// The attack of an SRD spell that deals damage: its first activity
    /// that attacks, asks for a save, or simply damages, with dice in its
    /// first damage part. `None` for a spell without one (Shield) or with
    /// a formula the sheet cannot roll.
    pub fn from_spell(name: &str, data: &Value) -> Option<Self> {
        let activity = data.get("activities")?.as_array()?.iter().find(|a| {
            matches!(
                a.get("kind").and_then(Value::as_str),
                Some("attack" | "save" | "damage")
            ) && a
                .pointer("/damage/parts/0/number")
                .is_some_and(Value::is_u64)
        })?;
        let part = activity.pointer("/damage/parts/0")?;
        let (number, sides) = (
            part.get("number")?.as_u64()?,
            part.get("denomination")?.as_u64()?,
        );
        let extra = text(part.get("bonus"));
        let (bonus, adds_modifier) = match extra.as_str() {
            "" => (0, false),
            "@mod" => (0, true),
            flat => (flat.parse().ok()?, false),
        };
        let spell = match activity.get("kind").and_then(Value::as_str)? {
            "attack" => Spell::Attack { adds_modifier },
            "save" => Spell::Save {
                ability: activity
                    .pointer("/save/ability/0")
                    .and_then(Value::as_str)
                    .and_then(Ability::named)?,
                half: activity.pointer("/damage/on_save").and_then(Value::as_str) == Some("half"),
            },
            _ => Spell::Hits,
        };
        let ranged = activity
            .pointer("/attack/type/value")
            .and_then(Value::as_str)
            == Some("ranged");
        // The area may be on another activity than the damage (a save
        // that deals it, a template that places it).
        let area = data
            .get("activities")?
            .as_array()?
            .iter()
            .find_map(|a| Shape::from_srd(a.pointer("/target/template")?));
        let attack = Self {
            name: name.to_owned(),
            damage: format!("{number}d{sides}"),
            damage_type: part
                .pointer("/types/0")
                .map(|t| text(Some(t)))
                .unwrap_or_default(),
            finesse: false,
            ranged,
            bonus,
            spell: Some(spell),
            area,
        };
        attack.check().ok().map(|()| attack)
    }

    /// The attack of an SRD weapon (`damage_parts`, `properties`,
    /// `range.kind`, `magical_bonus`); `None` for an item that is not one.
    pub fn from_weapon(name: &str, data: &Value) -> Option<Self> {
        let part = data.get("damage_parts")?.as_array()?.first()?;
        let has = |property: &str| {
            data.get("properties")
                .and_then(Value::as_array)
                .is_some_and(|all| all.iter().any(|p| p.as_str() == Some(property)))
        };
        let attack = Self {
            name: name.to_owned(),
            damage: part.get("dice")?.as_str()?.to_owned(),
            damage_type: text(part.get("damage_type")),
            finesse: has("finesse"),
            ranged: data.pointer("/range/kind").and_then(Value::as_str) == Some("ranged"),
            bonus: data
                .get("magical_bonus")
                .and_then(Value::as_i64)
                .unwrap_or(0),
            spell: None,
            area: None,
        };
        attack.check().ok().map(|()| attack)
    }

    /// The attack of an SRD monster's action: its first activity of kind
    /// `attack`, whose first damage part gives the dice. A monster's melee
    /// attack uses the higher of Strength and Dexterity (its statblock's
    /// numbers, for the usual monster), a ranged one Dexterity.
    pub fn from_action(action: &Value) -> Option<Self> {
        let activity = action
            .get("activities")?
            .as_array()?
            .iter()
            .find(|a| a.get("kind").and_then(Value::as_str) == Some("attack"))?;
        let part = activity.pointer("/damage/parts")?.as_array()?.first()?;
        let (number, sides) = (
            part.get("number")?.as_u64()?,
            part.get("denomination")?.as_u64()?,
        );
        let ranged = activity
            .pointer("/attack/type/value")
            .and_then(Value::as_str)
            == Some("ranged");
        let attack = Self {
            name: text(action.get("name")),
            damage: format!("{number}d{sides}"),
            damage_type: part
                .get("types")
                .and_then(Value::as_array)
                .and_then(|types| types.first())
                .map(|t| text(Some(t)))
                .unwrap_or_default(),
            finesse: !ranged,
            ranged,
            bonus: 0,
            spell: None,
            area: None,
        };
        attack.check().ok().map(|()| attack)
    }
}

fn text(value: Option<&Value>) -> String {
    value
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// How a rolled attack reads in the log: `Brenna: Longsword: to hit 14 + 5
/// → 19; damage 1d8 + 3: 6 → 9 slashing`; for a spell the target saves
/// against, `Aria: Fireball: DC 13 Dexterity save, half on a success;
/// damage 8d6: … → 28 fire`. `None` when the d20 faces do not fit the
/// attack and the edge.
pub fn describe_attack(
    actor: &Actor,
    attack: &Attack,
    edge: Edge,
    d20: &[u32],
    damage: &Roll,
) -> Option<String> {
    if d20.len() != attack.d20_dice(edge) {
        return None;
    }
    let landing = if let Some(kept) = edge.pick(d20) {
        let to_hit = attack.to_hit(actor);
        let faces: Vec<String> = d20.iter().map(u32::to_string).collect();
        let critical = if kept == 20 { " (critical hit)" } else { "" };
        format!(
            "{}: to hit {} {} → {}{critical}; ",
            edge.words(),
            faces.join(", "),
            signed(to_hit),
            i64::from(kept) + to_hit,
        )
    } else if let (Some((ability, dc)), Some(Spell::Save { half, .. })) =
        (attack.save(actor), attack.spell)
    {
        let success = if half { "half" } else { "none" };
        format!(
            ": DC {dc} {} save, {success} on a success; ",
            ability.title()
        )
    } else {
        ": ".to_owned()
    };
    Some(
        format!(
            "{}: {}{landing}damage {} {}",
            actor.name,
            attack.name,
            damage.describe(),
            attack.damage_type,
        )
        .trim_end()
        .to_owned(),
    )
}

/// One change to a sheet between sessions, from the sheet page. (At the
/// table the same changes are actions: [`crate::action::Action::SetStat`]
/// and [`crate::action::Action::SetProficiency`].)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum SheetChange {
    /// A number.
    Stat {
        /// Which.
        stat: Stat,
        /// Its new value, within [`Stat::range`].
        value: i64,
    },
    /// Proficient in a save or skill, or no longer.
    Proficiency {
        /// A save or a skill.
        check: Check,
        /// Proficient or not.
        proficient: bool,
    },
    /// The player's notes.
    Notes {
        /// The whole text.
        text: String,
    },
    /// One more attack (a weapon from the compendium, or typed).
    AddAttack {
        /// The attack.
        attack: Attack,
    },
    /// An attack taken off the sheet.
    RemoveAttack {
        /// Its place in the sheet's list.
        index: usize,
    },
    /// The portrait its tokens wear (`None`: initials). The server checks
    /// that it is an image of the campaign the changer may read.
    Portrait {
        /// An image of the campaign's media.
        portrait: Option<MediaId>,
    },
}

impl SheetChange {
    /// What to merge into an actor's current values (`current_stats`) whose
    /// statblock is `base`, in the keys [`Statblock::read`] reads first;
    /// refused with a sentence when the change is out of bounds.
    pub fn patch(&self, base: &Value, current: &Value) -> Result<Value> {
        match self {
            SheetChange::Stat { stat, value } => Ok(json!({ stat.key(): stat.check(*value)? })),
            SheetChange::Proficiency { check, proficient } => {
                if !check.takes_proficiency() {
                    return Err(Error::InvalidAction(
                        "proficiency applies to saves and skills".into(),
                    ));
                }
                let mut all = Statblock::read(base, current).proficiencies;
                if *proficient {
                    all.insert(*check);
                } else {
                    all.remove(check);
                }
                if all.len() > MAX_PROFICIENCIES {
                    return Err(Error::InvalidAction(format!(
                        "a sheet has at most {MAX_PROFICIENCIES} proficiencies"
                    )));
                }
                let (saves, skills): (Vec<Check>, Vec<Check>) =
                    all.into_iter().partition(|c| matches!(c, Check::Save(_)));
                let names = |checks: Vec<Check>| -> Vec<&'static str> {
                    checks
                        .into_iter()
                        .map(|c| match c {
                            Check::Skill(skill) => skill.name(),
                            other => other.ability().name(),
                        })
                        .collect()
                };
                Ok(json!({"saves": names(saves), "skills": names(skills)}))
            }
            SheetChange::Notes { text } => {
                if text.chars().count() > MAX_NOTES_CHARS {
                    return Err(Error::InvalidAction(format!(
                        "notes can have at most {MAX_NOTES_CHARS} characters"
                    )));
                }
                if text.contains('\0') {
                    return Err(Error::InvalidAction(
                        "notes cannot contain a NUL character".into(),
                    ));
                }
                Ok(json!({"notes": text}))
            }
            SheetChange::AddAttack { attack } => {
                attack.check()?;
                let mut attacks = Statblock::read(base, current).attacks;
                if attacks.len() >= MAX_ATTACKS {
                    return Err(Error::InvalidAction(format!(
                        "a sheet lists at most {MAX_ATTACKS} attacks"
                    )));
                }
                attacks.push(attack.clone());
                Ok(json!({ "attacks": attacks }))
            }
            SheetChange::RemoveAttack { index } => {
                let mut attacks = Statblock::read(base, current).attacks;
                if *index >= attacks.len() {
                    return Err(Error::InvalidAction("there is no such attack".into()));
                }
                attacks.remove(*index);
                Ok(json!({ "attacks": attacks }))
            }
            SheetChange::Portrait { portrait } => Ok(json!({ "portrait": portrait })),
        }
    }
}

/// The proficiency bonus of a monster of challenge rating `cr` (+2 up to
/// 4, +9 at 29 and 30).
pub fn proficiency_for_challenge(cr: f64) -> i64 {
    if !cr.is_finite() || cr < 5.0 {
        return 2;
    }
    // Every four ratings from 5 add one; truncation is the table's own
    // rounding.
    #[allow(clippy::cast_possible_truncation)]
    let steps = ((cr.min(30.0) - 1.0) / 4.0).floor() as i64;
    2 + steps
}

/// A number added to a roll as the log writes it: `+ 5`, `- 1`.
pub fn signed(bonus: i64) -> String {
    let sign = if bonus < 0 { '-' } else { '+' };
    format!("{sign} {}", bonus.abs())
}

/// `name` with a capital first letter.
pub(crate) fn capitalised(name: &str) -> String {
    let mut letters = name.chars();
    letters
        .next()
        .map(|first| first.to_uppercase().chain(letters).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;
    use crate::{
        actor::{ActorKind, HitPoints},
        id::ActorId,
    };

    fn rogue() -> Actor {
        Actor {
            id: ActorId(uuid::Uuid::from_u128(1)),
            name: "Aria".into(),
            kind: ActorKind::Character,
            owner: None,
            hp: Some(HitPoints::default()),
            portrait: None,
            speed: 30,
            stats: BTreeMap::from([
                ("dexterity".to_owned(), 16),
                ("wisdom".to_owned(), 9),
                ("proficiency_bonus".to_owned(), 3),
            ]),
            proficiencies: BTreeSet::from([
                Check::Skill(Skill::named("stealth").unwrap()),
                Check::Save(Ability::Dexterity),
            ]),
            attacks: Vec::new(),
        }
    }

    #[test]
    fn a_bonus_is_the_modifier_plus_proficiency_where_proficient() {
        let aria = rogue();
        let check = |raw: &str| raw.parse::<Check>().unwrap().bonus(&aria);
        assert_eq!(check("check:dexterity"), 3, "no proficiency in checks");
        assert_eq!(check("save:dexterity"), 6);
        assert_eq!(check("skill:stealth"), 6);
        assert_eq!(check("skill:acrobatics"), 3, "dexterity, not proficient");
        assert_eq!(check("skill:perception"), -1, "wisdom 9");
        assert_eq!(check("save:strength"), 0, "no score counts as 10");
    }

    #[test]
    fn checks_read_back_as_written_and_unknown_ones_are_refused() {
        for raw in [
            "check:dexterity",
            "save:charisma",
            "skill:sleight of hand",
            "skill:animal handling",
        ] {
            let check: Check = raw.parse().unwrap();
            assert_eq!(check.to_string(), raw);
            let wire = serde_json::to_string(&check).unwrap();
            assert_eq!(serde_json::from_str::<Check>(&wire).unwrap(), check);
        }
        assert_eq!(
            "save:dex".parse::<Check>().unwrap().to_string(),
            "save:dexterity"
        );
        for bad in ["skill:flying", "save:luck", "stealth", "spell:fireball", ""] {
            assert!(bad.parse::<Check>().is_err(), "{bad}");
            assert!(
                serde_json::from_value::<Check>(bad.into()).is_err(),
                "{bad}"
            );
        }
        assert_eq!(
            Skill::named("stealth").unwrap().ability(),
            Ability::Dexterity
        );
        assert_eq!(Skill::all().count(), 18);
    }

    #[test]
    fn a_check_reads_with_its_faces_and_total() {
        let aria = rogue();
        let stealth = Check::Skill(Skill::named("stealth").unwrap());
        assert_eq!(
            describe_check(&aria, stealth, Edge::Advantage, &[14, 7]).unwrap(),
            "Aria: Stealth with advantage: 14, 7 + 6 → 20"
        );
        assert_eq!(
            describe_check(
                &aria,
                Check::Save(Ability::Wisdom),
                Edge::Disadvantage,
                &[14, 7]
            )
            .unwrap(),
            "Aria: Wisdom save with disadvantage: 14, 7 - 1 → 6"
        );
        assert_eq!(describe_check(&aria, stealth, Edge::Normal, &[]), None);
    }

    #[test]
    fn a_change_from_the_sheet_page_patches_the_keys_the_sheet_reads() {
        let base = json!({"dexterity": 12, "saves": ["dex"], "skills": ["stealth"]});
        let current = json!({});
        let patch = |change: SheetChange| change.patch(&base, &current);
        let raised = patch(SheetChange::Stat {
            stat: Stat::Ability(Ability::Dexterity),
            value: 16,
        })
        .unwrap();
        assert_eq!(raised, json!({"dexterity": 16}));
        let block = Statblock::read(&base, &raised);
        assert_eq!(block.abilities, vec![("dexterity", 16)]);
        let learned = patch(SheetChange::Proficiency {
            check: "skill:sleight of hand".parse().unwrap(),
            proficient: true,
        })
        .unwrap();
        assert_eq!(
            learned,
            json!({"saves": ["dexterity"], "skills": ["sleight of hand", "stealth"]})
        );
        let forgot = patch(SheetChange::Proficiency {
            check: Check::Save(Ability::Dexterity),
            proficient: false,
        })
        .unwrap();
        assert_eq!(forgot, json!({"saves": [], "skills": ["stealth"]}));
        assert!(Statblock::read(&base, &forgot).proficiencies.len() == 1);
        for bad in [
            SheetChange::Stat {
                stat: Stat::HpMax,
                value: 0,
            },
            SheetChange::Proficiency {
                check: Check::Ability(Ability::Wisdom),
                proficient: true,
            },
            SheetChange::Notes {
                text: "x".repeat(MAX_NOTES_CHARS + 1),
            },
        ] {
            assert!(patch(bad.clone()).is_err(), "{bad:?}");
        }
        assert_eq!(
            patch(SheetChange::Notes {
                text: "Owes Bruno 5 gp".into()
            })
            .unwrap(),
            json!({"notes": "Owes Bruno 5 gp"})
        );
    }

    fn spell(kind: &str, extra: Value, part: Value) -> Value {
        let mut activity = json!({"kind": kind, "damage": {"parts": [part]}});
        if let (Some(activity), Some(extra)) = (activity.as_object_mut(), extra.as_object()) {
            activity.extend(extra.clone());
        }
        json!({"activities": [{"kind": "utility"}, activity]})
    }

    #[test]
    fn srd_spells_that_deal_damage_read_as_attacks_with_the_casting_ability() {
        let d = |number: u64, sides: u64, bonus: &str, kind: &str| json!({"number": number, "denomination": sides, "bonus": bonus, "types": [kind]});
        let fire_bolt = Attack::from_spell(
            "Fire Bolt",
            &spell(
                "attack",
                json!({"attack": {"type": {"value": "ranged"}}}),
                d(1, 10, "", "fire"),
            ),
        )
        .unwrap();
        let fireball = Attack::from_spell(
            "Fireball",
            &spell(
                "save",
                json!({"save": {"ability": ["dex"]}, "damage": {"on_save": "half",
                    "parts": [d(8, 6, "", "fire")]}}),
                d(8, 6, "", "fire"),
            ),
        )
        .unwrap();
        let mut placed = spell(
            "save",
            json!({"save": {"ability": ["dex"]}, "damage": {"on_save": "half",
                "parts": [d(8, 6, "", "fire")]}}),
            d(8, 6, "", "fire"),
        );
        placed["activities"][0]["target"] = json!({"template": {"type": "sphere", "size": "20"}});
        assert_eq!(
            Attack::from_spell("Fireball", &placed).and_then(|a| a.area),
            Some(Shape::Circle { radius: 20 }),
            "the template is read from whichever activity has it"
        );
        let missile = Attack::from_spell(
            "Magic Missile",
            &spell("damage", json!({}), d(1, 4, "1", "force")),
        )
        .unwrap();
        let weapon = Attack::from_spell(
            "Spiritual Weapon",
            &spell("attack", json!({}), d(1, 8, "@mod", "force")),
        )
        .unwrap();
        assert_eq!(
            Attack::from_spell("Shield", &json!({"activities": [{"kind": "utility"}]})),
            None
        );
        assert_eq!(
            Attack::from_spell("Odd", &spell("save", json!({}), d(1, 6, "(@x)d6", "fire"))),
            None,
            "a formula the sheet cannot roll"
        );

        // Wisdom 9, Charisma 16: Charisma casts.
        let mut aria = rogue();
        aria.stats.insert("charisma".into(), 16);
        assert_eq!(fire_bolt.ability(&aria), Ability::Charisma);
        assert_eq!(fire_bolt.to_hit(&aria), 3 + 3);
        assert!(fire_bolt.ranged && fire_bolt.rolls_to_hit());
        let damage =
            |a: &Attack, critical| a.damage_expression(&aria, critical).unwrap().to_string();
        assert_eq!(damage(&fire_bolt, false), "1d10", "a spell's dice alone");
        assert_eq!(damage(&fire_bolt, true), "1d10 + 1d10");
        assert_eq!(damage(&missile, false), "1d4 + 1");
        assert_eq!(
            damage(&weapon, false),
            "1d8 + 3",
            "Spiritual Weapon adds it"
        );
        assert_eq!(fireball.save(&aria), Some((Ability::Dexterity, 8 + 3 + 3)));
        assert_eq!(fireball.d20_dice(Edge::Advantage), 0);
        assert_eq!(missile.d20_dice(Edge::Normal), 0);
        assert_eq!(fire_bolt.d20_dice(Edge::Advantage), 2);

        let rolled = fireball
            .damage_expression(&aria, false)
            .unwrap()
            .roll(|_| 4);
        assert_eq!(
            describe_attack(&aria, &fireball, Edge::Normal, &[], &rolled).unwrap(),
            format!(
                "Aria: Fireball: DC 14 Dexterity save, half on a success; damage {} fire",
                rolled.describe()
            )
        );
        assert_eq!(
            describe_attack(&aria, &fireball, Edge::Normal, &[12], &rolled),
            None,
            "a save spell rolls no d20"
        );
        let bolt = fire_bolt
            .damage_expression(&aria, false)
            .unwrap()
            .roll(|_| 7);
        assert!(
            describe_attack(&aria, &fire_bolt, Edge::Normal, &[15], &bolt)
                .unwrap()
                .starts_with("Aria: Fire Bolt: to hit 15 + 6 → 21; damage")
        );
        assert_eq!(
            describe_attack(&aria, &fire_bolt, Edge::Normal, &[], &bolt),
            None
        );

        // Kept on a sheet and read back.
        let added = SheetChange::AddAttack {
            attack: fireball.clone(),
        }
        .patch(&json!({}), &json!({}))
        .unwrap();
        assert_eq!(Statblock::read(&json!({}), &added).attacks, vec![fireball]);
    }

    #[test]
    fn srd_weapons_and_monster_actions_read_as_attacks() {
        let dagger = Attack::from_weapon(
            "Dagger",
            &json!({"damage_parts": [{"damage_type": "piercing", "dice": "1d4"}],
                    "properties": ["finesse", "light", "thrown"], "range": {"kind": "melee"},
                    "magical_bonus": 0}),
        )
        .unwrap();
        assert!(dagger.finesse && !dagger.ranged);
        let mut aria = rogue();
        assert_eq!(
            dagger.ability(&aria),
            Ability::Dexterity,
            "dex 16 over str 10"
        );
        assert_eq!(dagger.to_hit(&aria), 3 + 3);
        aria.stats.insert("strength".into(), 18);
        assert_eq!(dagger.ability(&aria), Ability::Strength, "the higher one");
        assert_eq!(
            dagger.damage_expression(&aria, false).unwrap().to_string(),
            "1d4 + 4"
        );
        assert_eq!(
            Attack::from_weapon("Rope", &json!({"item_kind": "gear"})),
            None
        );

        let scimitar = Attack::from_action(&json!({
            "name": "Scimitar",
            "activities": [
                {"kind": "utility"},
                {"kind": "attack", "attack": {"type": {"value": "melee"}},
                 "damage": {"parts": [{"number": 1, "denomination": 6, "types": ["slashing"]}]}}
            ]
        }))
        .unwrap();
        assert_eq!(
            (
                scimitar.name.as_str(),
                scimitar.damage.as_str(),
                scimitar.damage_type.as_str()
            ),
            ("Scimitar", "1d6", "slashing")
        );
        assert!(Attack::from_action(&json!({"name": "Nimble Escape", "activities": []})).is_none());

        // Kept on the sheet: read back over a monster's actions.
        let base = json!({"actions": [{"name": "Bite", "activities": [{"kind": "attack",
            "damage": {"parts": [{"number": 2, "denomination": 6, "types": ["piercing"]}]}}]}]});
        assert_eq!(Statblock::read(&base, &json!({})).attacks[0].damage, "2d6");
        let added = SheetChange::AddAttack {
            attack: dagger.clone(),
        }
        .patch(&base, &json!({}))
        .unwrap();
        let names: Vec<String> = Statblock::read(&base, &added)
            .attacks
            .into_iter()
            .map(|a| a.name)
            .collect();
        assert_eq!(names, vec!["Bite", "Dagger"]);
        let removed = SheetChange::RemoveAttack { index: 0 }
            .patch(&base, &added)
            .unwrap();
        assert_eq!(
            Statblock::read(&base, &removed).attacks,
            vec![dagger.clone()]
        );
        assert!(
            SheetChange::RemoveAttack { index: 5 }
                .patch(&base, &removed)
                .is_err()
        );
        let nonsense = Attack {
            damage: "lots".into(),
            ..dagger
        };
        assert!(
            SheetChange::AddAttack { attack: nonsense }
                .patch(&base, &removed)
                .is_err()
        );
    }

    #[test]
    fn stats_keep_to_their_ranges_and_monsters_gain_proficiency_with_challenge() {
        assert_eq!(Stat::ArmorClass.check(15).unwrap(), 15);
        let error = Stat::Ability(Ability::Strength).check(31).unwrap_err();
        assert!(
            error.to_string().contains("Strength is from 1 to 30"),
            "{error}"
        );
        assert!(Stat::HpTemp.check(-1).is_err());
        assert_eq!(Stat::Speed.value(&rogue()), Some(30));
        assert_eq!(Stat::ArmorClass.value(&rogue()), None);
        let by_cr: Vec<i64> = [0.25, 4.0, 5.0, 8.0, 9.0, 17.0, 21.0, 30.0, f64::NAN]
            .into_iter()
            .map(proficiency_for_challenge)
            .collect();
        assert_eq!(by_cr, vec![2, 2, 3, 3, 4, 6, 7, 9, 2]);
    }
}
