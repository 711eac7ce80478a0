//! A compendium entry read for people: the facts a rulebook prints above
//! the text (a spell's casting time, a monster's armour class), the text
//! itself with the SRD's Foundry markup (`[[/attack extended]]`,
//! `&Reference[Prone]`) turned into words, and a monster's traits and
//! actions. Pure, so the page and its tests read entries the same way.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::actor::modifier;
use crate::sheet::{Ability, capitalised, signed};

/// One entry, ready to show.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Detail {
    /// Its name.
    pub name: String,
    /// What it is, in a line (`Level 3 evocation spell`, `Small fey,
    /// Chaotic Neutral`).
    pub summary: String,
    /// Labelled facts, in print order (`Casting time`, `1 action`).
    pub facts: Vec<(String, String)>,
    /// The description, in paragraphs.
    pub text: Vec<String>,
    /// A monster's traits and actions, by heading.
    pub sections: Vec<Section>,
}

/// A heading of named paragraphs (`Actions`: `Scimitar`, its text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    /// The heading.
    pub title: String,
    /// Each entry's name and text.
    pub entries: Vec<(String, String)>,
}

/// The most paragraphs and characters an entry shows: the SRD's longest
/// entries are far below it; it bounds what a hand-made source can send.
const MAX_TEXT_CHARS: usize = 20_000;

/// Reads `data` (a compendium row's whole file) for an entry of
/// `item_type` named `name`.
pub fn detail(name: &str, item_type: &str, data: &Value) -> Detail {
    let mut detail = Detail {
        name: name.to_owned(),
        ..Detail::default()
    };
    let context = Context::of(name, data);
    match item_type {
        "spell" => spell(&mut detail, data),
        "actor" => monster(&mut detail, data, &context),
        "item" => item(&mut detail, data),
        other => detail.summary = capitalised(&other.replace('_', " ")),
    }
    let description = data
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or_default();
    detail.text = paragraphs(&readable(description, &context, Some(data)));
    detail
}

/// What the markup refers to: the entry's name and, for a monster, its
/// ability modifiers and proficiency bonus.
struct Context {
    name: String,
    abilities: Vec<(Ability, i64)>,
    proficiency: i64,
}

impl Context {
    fn of(name: &str, data: &Value) -> Self {
        let abilities = Ability::ALL
            .into_iter()
            .filter_map(|a| {
                let score = data.pointer(&format!("/ability_scores/{}", a.short()))?;
                Some((a, score.as_i64()?))
            })
            .collect();
        Self {
            name: name.to_lowercase(),
            abilities,
            proficiency: data
                .get("proficiency_bonus")
                .and_then(Value::as_i64)
                .unwrap_or(2),
        }
    }

    fn modifier(&self, ability: Ability) -> i64 {
        self.abilities
            .iter()
            .find(|(a, _)| *a == ability)
            .map_or(0, |(_, score)| modifier(*score))
    }

    /// A monster's weapon attack uses the higher of Strength and Dexterity
    /// (as [`crate::sheet::Attack::from_action`] reads it), a ranged one
    /// Dexterity.
    fn attack_modifier(&self, activity: &Value) -> i64 {
        let ranged = activity
            .pointer("/attack/type/value")
            .and_then(Value::as_str)
            == Some("ranged");
        let dex = self.modifier(Ability::Dexterity);
        if ranged {
            dex
        } else {
            dex.max(self.modifier(Ability::Strength))
        }
    }
}

fn spell(detail: &mut Detail, data: &Value) {
    let level = data.get("level").and_then(Value::as_i64).unwrap_or(0);
    let code = str_at(data, "/school");
    let school = super::school_name(code).unwrap_or(code);
    detail.summary = if level == 0 {
        capitalised(&format!("{school} cantrip"))
    } else {
        format!("Level {level} {school} spell")
    };
    let casting = match (
        str_at(data, "/casting_time/unit"),
        data.pointer("/casting_time/value").and_then(Value::as_i64),
    ) {
        ("bonus", _) => "Bonus action".to_owned(),
        ("reaction", _) => "Reaction".to_owned(),
        ("action", _) => "Action".to_owned(),
        (unit, Some(n)) => plural(n, unit),
        (unit, None) => capitalised(unit),
    };
    let range = match (
        str_at(data, "/range/units"),
        data.pointer("/range/value").and_then(Value::as_i64),
    ) {
        ("ft", Some(feet)) => format!("{feet} feet"),
        ("mi", Some(miles)) => plural(miles, "mile"),
        ("self", _) => "Self".to_owned(),
        ("touch", _) => "Touch".to_owned(),
        ("any", _) => "Unlimited".to_owned(),
        _ => "Special".to_owned(),
    };
    let mut components: Vec<&str> = ["V", "S", "M"]
        .into_iter()
        .filter(|c| {
            data.get("components")
                .and_then(Value::as_array)
                .is_some_and(|all| all.iter().any(|v| v.as_str() == Some(c)))
        })
        .collect();
    let materials = str_at(data, "/materials/value");
    let material_text = format!("M ({materials})");
    if !materials.is_empty()
        && let Some(m) = components.iter_mut().find(|c| **c == "M")
    {
        *m = &material_text;
    }
    let lasting = match (
        str_at(data, "/duration/units"),
        data.pointer("/duration/value")
            .and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok())),
    ) {
        ("inst", _) => "Instantaneous".to_owned(),
        ("disp", _) => "Until dispelled".to_owned(),
        ("dstr", _) => "Until dispelled or triggered".to_owned(),
        (unit, Some(n)) if !unit.is_empty() && unit != "spec" => plural(n, unit),
        _ => "Special".to_owned(),
    };
    let concentration = data.get("concentration").and_then(Value::as_bool) == Some(true);
    detail.facts = vec![
        ("Casting time".into(), casting),
        ("Range".into(), range),
        ("Components".into(), components.join(", ")),
        (
            "Duration".into(),
            if concentration {
                format!("Concentration, up to {}", lasting.to_lowercase())
            } else {
                lasting
            },
        ),
    ];
}

fn monster(detail: &mut Detail, data: &Value, context: &Context) {
    detail.summary = format!(
        "{} {}, {}",
        capitalised(str_at(data, "/creature_size")),
        str_at(data, "/creature_type"),
        str_at(data, "/alignment"),
    )
    .trim_end_matches([',', ' '])
    .to_owned();
    let mut facts = Vec::new();
    if let Some(ac) = data.get("ac").and_then(Value::as_i64) {
        facts.push(("Armor class".into(), ac.to_string()));
    }
    if let Some(hp) = data.get("hp").and_then(Value::as_i64) {
        let dice = str_at(data, "/hp_dice");
        facts.push((
            "Hit points".into(),
            if dice.is_empty() {
                hp.to_string()
            } else {
                format!("{hp} ({dice})")
            },
        ));
    }
    let speeds: Vec<String> = ["walk", "burrow", "climb", "fly", "swim"]
        .into_iter()
        .filter_map(|mode| {
            let feet = data.pointer(&format!("/movement/{mode}"))?.as_i64()?;
            Some(if mode == "walk" {
                format!("{feet} ft.")
            } else {
                format!("{mode} {feet} ft.")
            })
        })
        .collect();
    if !speeds.is_empty() {
        facts.push(("Speed".into(), speeds.join(", ")));
    }
    if !context.abilities.is_empty() {
        let scores: Vec<String> = context
            .abilities
            .iter()
            .map(|(a, score)| {
                format!(
                    "{} {score} ({})",
                    a.short().to_uppercase(),
                    signed(modifier(*score)).replace(' ', "")
                )
            })
            .collect();
        facts.push(("Abilities".into(), scores.join(" · ")));
    }
    let senses: Vec<String> = data
        .get("senses")
        .and_then(Value::as_object)
        .map(|all| {
            all.iter()
                .filter_map(|(sense, value)| {
                    let n = value.as_i64()?;
                    Some(if sense == "passive_perception" {
                        format!("Passive Perception {n}")
                    } else {
                        format!("{} {n} ft.", capitalised(sense))
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    if !senses.is_empty() {
        facts.push(("Senses".into(), senses.join(", ")));
    }
    let languages = strings(data.get("languages"));
    if !languages.is_empty() {
        facts.push(("Languages".into(), languages.join(", ")));
    }
    if let Some(cr) = data.get("cr").and_then(Value::as_f64) {
        facts.push(("Challenge".into(), crate::report::challenge_label(cr)));
    }
    detail.facts = facts;

    let headings = [
        ("special", "Traits"),
        ("action", "Actions"),
        ("bonus_action", "Bonus actions"),
        ("reaction", "Reactions"),
        ("legendary", "Legendary actions"),
    ];
    let all: Vec<&Value> = ["special_abilities", "actions", "legendary_actions"]
        .into_iter()
        .filter_map(|key| data.get(key)?.as_array())
        .flatten()
        .collect();
    detail.sections = headings
        .into_iter()
        .filter_map(|(kind, title)| {
            let entries: Vec<(String, String)> = all
                .iter()
                .filter(|a| str_at(a, "/kind") == kind)
                .map(|action| {
                    let mut name = str_at(action, "/name").to_owned();
                    if let Some(recharge) = action.get("recharge").and_then(Value::as_str) {
                        name = format!("{name} (Recharge {recharge})");
                    }
                    let text = readable(str_at(action, "/description"), context, Some(action));
                    (name, text)
                })
                .collect();
            (!entries.is_empty()).then(|| Section {
                title: title.to_owned(),
                entries,
            })
        })
        .collect();
}

fn item(detail: &mut Detail, data: &Value) {
    let kind = str_at(data, "/item_kind").replace('_', " ");
    let category = str_at(data, "/weapon_category").replace('_', " ");
    let rarity = str_at(data, "/rarity").replace('_', " ");
    detail.summary = capitalised(
        [category.as_str(), kind.as_str()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
            .as_str(),
    );
    if !rarity.is_empty() && rarity != "common" {
        detail.summary = format!("{}, {rarity}", detail.summary);
    }
    let mut facts = Vec::new();
    let damage: Vec<String> = data
        .get("damage_parts")
        .and_then(Value::as_array)
        .map(|parts| {
            parts
                .iter()
                .map(|p| format!("{} {}", str_at(p, "/dice"), str_at(p, "/damage_type")))
                .collect()
        })
        .unwrap_or_default();
    if !damage.is_empty() {
        facts.push(("Damage".into(), damage.join(" + ")));
    }
    let properties = strings(data.get("properties"));
    if !properties.is_empty() {
        facts.push(("Properties".into(), properties.join(", ")));
    }
    if let Some(weight) = data.get("weight").and_then(Value::as_f64) {
        facts.push(("Weight".into(), format!("{weight} lb.")));
    }
    if let Some(cost) = data.get("cost_gp").and_then(Value::as_f64) {
        facts.push(("Cost".into(), format!("{cost} gp")));
    }
    detail.facts = facts;
}

/// The text with the markup turned into words: `[[/attack extended]]` as
/// the action's attack (`Melee attack roll: +4`), `[[/damage …]]` as its
/// damage (`5 (1d6 + 2) slashing`), references as their names, lookups of
/// the name as the name; what cannot be read is dropped rather than shown
/// as code.
fn readable(raw: &str, context: &Context, action: Option<&Value>) -> String {
    let raw: String = raw.chars().take(MAX_TEXT_CHARS).collect();
    let raw = raw.replace("&amp;", "&");
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw.as_str();
    while let Some(start) = rest.find(['[', '&', '@']) {
        out.push_str(&rest[..start]);
        let here = &rest[start..];
        let (words, used) = if let Some(inner) = here.strip_prefix("[[") {
            match inner.find("]]") {
                Some(end) => {
                    let body = &inner[..end];
                    let after = &inner[end + 2..];
                    let (label, label_len) = braced(after);
                    // The name looked up wears a label for the editor
                    // (`{monster}`), not for the reader.
                    let words = match label {
                        // A label may hold markup of its own.
                        Some(label) if !body.starts_with("lookup @name") => {
                            readable(label, context, action)
                        }
                        _ => roll(body, context, action),
                    };
                    (words, 2 + end + 2 + label_len)
                }
                None => (here[..2].to_owned(), 2),
            }
        } else if let Some((name, body, len)) = reference(here) {
            let (label, label_len) = braced(&here[len..]);
            let words = match (label, name) {
                (Some(label), _) => label.to_owned(),
                (None, "Embed") => String::new(),
                (None, _) => spaced(body.split_whitespace().next().unwrap_or_default()),
            };
            (words, len + label_len)
        } else {
            (here[..1].to_owned(), 1)
        };
        out.push_str(&words);
        rest = &here[used..];
    }
    out.push_str(rest);
    // Dropped markup leaves a double space behind.
    while out.contains("  ") {
        out = out.replace("  ", " ");
    }
    out
}

/// `&Reference[Prone]` or `@UUID[…]`: the name, what is in the brackets
/// and the length through `]`.
fn reference(text: &str) -> Option<(&str, &str, usize)> {
    let sigil = text.chars().next()?;
    if sigil != '&' && sigil != '@' {
        return None;
    }
    let open = text.find('[')?;
    let name = &text[1..open];
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let close = open + text[open..].find(']')?;
    Some((name, &text[open + 1..close], close + 1))
}

/// A `{label}` right after markup, and its length.
fn braced(text: &str) -> (Option<&str>, usize) {
    match text
        .strip_prefix('{')
        .and_then(|t| t.find('}').map(|end| &t[..end]))
    {
        Some(label) => (Some(label), label.len() + 2),
        None => (None, 0),
    }
}

/// An inline roll or lookup in words.
fn roll(body: &str, context: &Context, action: Option<&Value>) -> String {
    let mut words = body.split_whitespace();
    let command = words.next().unwrap_or_default();
    let args: Vec<&str> = words.collect();
    let arg = |key: &str| {
        args.iter()
            .find_map(|a| a.strip_prefix(key)?.strip_prefix('='))
    };
    let activity = action.and_then(|a| {
        let all = a.get("activities")?.as_array()?;
        match arg("activity") {
            Some(id) => all.iter().find(|x| str_at(x, "/id") == id),
            None => all
                .iter()
                .find(|x| x.pointer("/damage/parts/0").is_some())
                .or_else(|| all.first()),
        }
    });
    match command {
        "lookup" if args.first() == Some(&"@name") => context.name.clone(),
        // What is looked up may hold markup of its own (`the swarm is
        // &Reference[Bloodied]`).
        "lookup" => readable(
            &lookup(args.first().copied().unwrap_or_default(), activity),
            context,
            None,
        ),
        "/attack" => activity
            .map(|a| {
                let kind = capitalised(str_at(a, "/attack/type/value"));
                let bonus = context.attack_modifier(a) + context.proficiency;
                format!(
                    "{} attack roll: {}",
                    if kind.is_empty() { "An".into() } else { kind },
                    signed(bonus).replace(' ', "")
                )
            })
            .unwrap_or_else(|| "Attack roll".to_owned()),
        "/damage" | "/healing" => {
            // Written out (`[[/damage 1d4 slashing average]]`), or the
            // activity's first part.
            let typed: Vec<&str> = args
                .iter()
                .copied()
                .filter(|a| !a.contains('=') && !matches!(*a, "average" | "extended"))
                .collect();
            if !typed.is_empty() {
                return typed.join(" ");
            }
            activity
                .and_then(|a| damage_words(a, context))
                .unwrap_or_else(|| command.trim_start_matches('/').to_owned())
        }
        "/save" => activity
            .and_then(|a| {
                let ability = Ability::named(str_at(a, "/save/ability/0"))?;
                let dc = str_at(a, "/save/dc/formula");
                Some(if dc.is_empty() {
                    format!("{} saving throw", ability.title())
                } else {
                    format!("{} saving throw: DC {dc}", ability.title())
                })
            })
            .unwrap_or_else(|| "saving throw".to_owned()),
        "/check" => {
            let ability = arg("ability")
                .and_then(Ability::named)
                .map(Ability::title)
                .unwrap_or_default();
            match arg("dc") {
                Some(dc) => format!("DC {dc} {ability} check").replace("  ", " "),
                None => format!("{ability} check").trim().to_owned(),
            }
        }
        "/r" | "/gmr" | "/roll" | "/award" => args.join(" "),
        "/skill" | "/tool" => "check".to_owned(),
        c if c.starts_with('/') => String::new(),
        _ => body.to_owned(),
    }
}

/// A value the SRD's text looks up in its activity (`@target.template.size`
/// is `20`), with the two labels Foundry composes (`20-foot Sphere`, `Each
/// creature`); empty when there is nothing to find.
fn lookup(path: &str, activity: Option<&Value>) -> String {
    let Some(activity) = activity else {
        return String::new();
    };
    let template = || {
        let size = str_at(activity, "/target/template/size");
        let kind = capitalised(str_at(activity, "/target/template/type"));
        match (size.is_empty(), kind.is_empty()) {
            (false, false) => format!("{size}-foot {kind}"),
            (true, false) => kind,
            _ => "area".to_owned(),
        }
    };
    match path {
        "@labels.description.template" => template(),
        "@labels.description.affects" => "Each creature".to_owned(),
        "@save.dc.value" | "@attributes.spell.dc" => {
            let dc = str_at(activity, "/save/dc/formula");
            if dc.is_empty() {
                "your spell save DC".to_owned()
            } else {
                dc.to_owned()
            }
        }
        other => {
            let pointer = format!("/{}", other.trim_start_matches('@').replace('.', "/"));
            match activity.pointer(&pointer) {
                Some(Value::String(text)) => text.trim().to_owned(),
                Some(Value::Number(n)) => n.to_string(),
                _ if other.starts_with("@target") => "target".to_owned(),
                _ => String::new(),
            }
        }
    }
}

/// `5 (1d6 + 2) slashing`: the average, the dice (with the modifier an
/// attack adds) and the type.
fn damage_words(activity: &Value, context: &Context) -> Option<String> {
    let part = activity.pointer("/damage/parts/0")?;
    let number = part.get("number")?.as_i64()?;
    let sides = part.get("denomination")?.as_i64()?;
    let plus = if str_at(activity, "/kind") == "attack" {
        context.attack_modifier(activity)
    } else {
        str_at(part, "/bonus").parse().unwrap_or(0)
    };
    // The average of NdM is N(M+1)/2, rounded down as the books print it.
    let average = (number * (sides + 1)) / 2 + plus;
    let dice = if plus == 0 {
        format!("{number}d{sides}")
    } else {
        format!("{number}d{sides} {}", signed(plus))
    };
    let kind = str_at(part, "/types/0");
    Some(format!("{average} ({dice}) {kind}").trim_end().to_owned())
}

fn paragraphs(text: &str) -> Vec<String> {
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

fn str_at<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|all| {
            all.iter()
                .filter_map(Value::as_str)
                .map(|s| s.replace('_', " "))
                .collect()
        })
        .unwrap_or_default()
}

fn plural(n: i64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// `DifficultTerrain` as `Difficult Terrain`.
fn spaced(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if i > 0 && c.is_uppercase() {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn goblin() -> Value {
        json!({
            "name": "Goblin Warrior", "creature_size": "small", "creature_type": "fey",
            "alignment": "Chaotic Neutral", "ac": 15, "hp": 10, "hp_dice": "3d6",
            "movement": {"walk": 30, "climb": null},
            "ability_scores": {"str": 8, "dex": 15, "con": 10, "int": 10, "wis": 8, "cha": 8},
            "proficiency_bonus": 2, "cr": 0.25, "languages": ["Common", "Goblin"],
            "senses": {"darkvision": 60, "passive_perception": 9, "truesight": null},
            "description": "",
            "special_abilities": [],
            "actions": [
                {"kind": "action", "name": "Scimitar",
                 "description": "[[/attack extended]]. [[/damage average extended]], plus [[/damage 1d4 slashing average]] damage if the attack roll had Advantage.",
                 "activities": [{"id": "a1", "kind": "attack", "attack": {"type": {"value": "melee"}},
                    "damage": {"parts": [{"number": 1, "denomination": 6, "bonus": "", "types": ["slashing"]}]}}]},
                {"kind": "bonus_action", "name": "Nimble Escape",
                 "description": "The [[lookup @name lowercase]]{monster} takes the &amp;Reference[Disengage] or &amp;Reference[Hide] action.",
                 "activities": []}
            ]
        })
    }

    #[test]
    fn a_monster_reads_as_a_statblock_with_its_actions_in_words() {
        let read = detail("Goblin Warrior", "actor", &goblin());
        assert_eq!(read.summary, "Small fey, Chaotic Neutral");
        let fact = |label: &str| {
            read.facts
                .iter()
                .find(|(l, _)| l == label)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(fact("Hit points"), Some("10 (3d6)"));
        assert_eq!(fact("Speed"), Some("30 ft."));
        assert_eq!(fact("Challenge"), Some("1/4"));
        assert_eq!(
            fact("Senses"),
            Some("Darkvision 60 ft., Passive Perception 9")
        );
        assert!(
            fact("Abilities")
                .unwrap()
                .starts_with("STR 8 (-1) · DEX 15 (+2)")
        );
        let titles: Vec<&str> = read.sections.iter().map(|s| s.title.as_str()).collect();
        assert_eq!(titles, ["Actions", "Bonus actions"]);
        assert_eq!(
            read.sections[0].entries[0],
            (
                "Scimitar".to_owned(),
                "Melee attack roll: +4. 5 (1d6 + 2) slashing, plus 1d4 slashing damage \
                 if the attack roll had Advantage."
                    .to_owned()
            )
        );
        assert_eq!(
            read.sections[1].entries[0].1,
            "The goblin warrior takes the Disengage or Hide action."
        );
    }

    #[test]
    fn a_spell_reads_with_its_casting_facts() {
        let fireball = json!({
            "level": 3, "school": "evo", "casting_time": {"unit": "action", "value": 1},
            "range": {"units": "ft", "value": 150}, "components": ["S", "V", "M"],
            "materials": {"value": "a ball of bat guano and sulfur"},
            "duration": {"units": "inst", "value": null}, "concentration": false,
            "description": "A bright streak.\n\nUsing a Higher-Level Spell Slot. More."
        });
        let read = detail("Fireball", "spell", &fireball);
        assert_eq!(read.summary, "Level 3 evocation spell");
        assert_eq!(
            read.facts,
            vec![
                ("Casting time".to_owned(), "Action".to_owned()),
                ("Range".to_owned(), "150 feet".to_owned()),
                (
                    "Components".to_owned(),
                    "V, S, M (a ball of bat guano and sulfur)".to_owned()
                ),
                ("Duration".to_owned(), "Instantaneous".to_owned()),
            ]
        );
        assert_eq!(read.text.len(), 2);
        let bless = json!({"level": 1, "school": "enc", "duration": {"units": "minute", "value": "1"},
                           "concentration": true, "casting_time": {"unit": "action"}});
        assert_eq!(
            detail("Bless", "spell", &bless).facts[3].1,
            "Concentration, up to 1 minute"
        );
        assert_eq!(
            detail("Light", "spell", &json!({"level": 0, "school": "evo"})).summary,
            "Evocation cantrip"
        );
    }

    #[test]
    fn markup_that_cannot_be_read_is_dropped_not_shown_as_code() {
        let context = Context::of("Ooze", &json!({}));
        let read = |raw: &str| readable(raw, &context, None);
        assert_eq!(read("Roll [[/r 1d6]]."), "Roll 1d6.");
        assert_eq!(
            read("A [[/check dc=15 ability=wis skill=prc]] check"),
            "A DC 15 Wisdom check check"
        );
        assert_eq!(
            read("[[/item .abc]]{Entangling Rope} and @Embed[X caption=false]"),
            "Entangling Rope and "
        );
        assert_eq!(
            read("[[ceil(@prof/2)]]{Number of Attacks}"),
            "Number of Attacks"
        );
        assert_eq!(
            read("[[2 + @item.level]]{Level [[lookup @item.level]] darts}"),
            "Level darts"
        );
        assert_eq!(read("&amp;reference[Poisoned apply=false]"), "Poisoned");
        assert_eq!(
            read("a [broken [[ text & @ sign"),
            "a [broken [[ text & @ sign"
        );
        let long = "x".repeat(MAX_TEXT_CHARS + 10);
        assert_eq!(read(&long).len(), MAX_TEXT_CHARS);
    }

    #[test]
    fn an_item_reads_with_its_damage_and_properties() {
        let longsword = json!({"item_kind": "weapon", "weapon_category": "martial_melee",
            "damage_parts": [{"damage_type": "slashing", "dice": "1d8"}], "properties": ["versatile"],
            "weight": 3.0, "cost_gp": 15.0, "rarity": "common", "description": ""});
        let read = detail("Longsword", "item", &longsword);
        assert_eq!(read.summary, "Martial melee weapon");
        assert_eq!(
            read.facts[0],
            ("Damage".to_owned(), "1d8 slashing".to_owned())
        );
        assert!(read.text.is_empty());
    }
}
