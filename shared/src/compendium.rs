//! Compendium search: what the browser asks for and what it gets back.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub mod detail;

/// A spell school's name from the SRD's three-letter code (`evo`).
pub fn school_name(code: &str) -> Option<&'static str> {
    Some(match code {
        "abj" => "abjuration",
        "con" => "conjuration",
        "div" => "divination",
        "enc" => "enchantment",
        "evo" => "evocation",
        "ill" => "illusion",
        "nec" => "necromancy",
        "trs" => "transmutation",
        _ => return None,
    })
}

/// A compendium search; every field narrows it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CompendiumQuery {
    /// Words to find, each also as a prefix ("fire" finds "Fireball").
    #[serde(default)]
    pub text: Option<String>,
    /// `spell`, `actor`, `item`, `condition`, ...
    #[serde(default)]
    pub item_type: Option<String>,
    /// Lowest spell level.
    #[serde(default)]
    pub min_level: Option<i32>,
    /// Highest spell level.
    #[serde(default)]
    pub max_level: Option<i32>,
    /// Spell school, spelled out ("evocation").
    #[serde(default)]
    pub school: Option<String>,
    /// Lowest challenge rating.
    #[serde(default)]
    pub min_cr: Option<f64>,
    /// Highest challenge rating.
    #[serde(default)]
    pub max_cr: Option<f64>,
    /// Most results (capped at [`CompendiumQuery::MAX_LIMIT`]).
    #[serde(default)]
    pub limit: Option<u32>,
}

impl CompendiumQuery {
    /// Results per page when no limit is given.
    pub const DEFAULT_LIMIT: u32 = 50;
    /// The most results one query returns.
    pub const MAX_LIMIT: u32 = 200;

    /// The limit to apply.
    pub fn effective_limit(&self) -> u32 {
        self.limit
            .unwrap_or(Self::DEFAULT_LIMIT)
            .clamp(1, Self::MAX_LIMIT)
    }

    /// This query's text as a prefix query; see [`prefix_tsquery`].
    pub fn prefix_tsquery(&self) -> Option<String> {
        prefix_tsquery(self.text.as_deref().unwrap_or_default())
    }

    /// Whether `entry` answers this query, judged from the entry alone
    /// (the browser's offline search over the entries it kept): every word
    /// of the text begins a word of the name, and every filter holds. The
    /// server also searches the entries' text, so it finds more.
    pub fn matches(&self, entry: &CompendiumEntry) -> bool {
        let words = |text: &str| -> Vec<String> {
            text.split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(str::to_lowercase)
                .collect()
        };
        let name = words(&entry.name);
        let text_ok = words(self.text.as_deref().unwrap_or_default())
            .iter()
            .all(|asked| name.iter().any(|word| word.starts_with(asked.as_str())));
        let same = |wanted: &Option<String>, has: Option<&str>| {
            wanted
                .as_deref()
                .is_none_or(|w| has.is_some_and(|h| h.eq_ignore_ascii_case(w)))
        };
        let within = |value: Option<f64>, low: Option<f64>, high: Option<f64>| {
            (low.is_none() && high.is_none())
                || value.is_some_and(|v| low.is_none_or(|l| v >= l) && high.is_none_or(|h| v <= h))
        };
        text_ok
            && same(&self.item_type, Some(&entry.item_type))
            && same(&self.school, entry.school.as_deref())
            && within(
                entry.level.map(f64::from),
                self.min_level.map(f64::from),
                self.max_level.map(f64::from),
            )
            && within(entry.challenge_rating, self.min_cr, self.max_cr)
    }
}

/// The words of `text` as a PostgreSQL prefix query (`fire:* & bolt:*`), or
/// `None` when it has no words. Only letters and digits survive, so nothing
/// typed can change the query's syntax.
pub fn prefix_tsquery(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .take(8)
        .map(|word| format!("{}:*", word.to_lowercase()))
        .collect();
    (!words.is_empty()).then(|| words.join(" & "))
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompendiumEntry {
    /// Its row id.
    pub id: Uuid,
    /// Its stable key (`dnd5e:spells:fireball`).
    pub ref_key: String,
    /// Its name.
    pub name: String,
    /// `spell`, `actor`, `item`, ...
    pub item_type: String,
    /// `spell`, `monster`, `weapon`, ...
    pub category: Option<String>,
    /// Spell level.
    pub level: Option<i32>,
    /// Spell school.
    pub school: Option<String>,
    /// Item rarity.
    pub rarity: Option<String>,
    /// Challenge rating.
    pub challenge_rating: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_becomes_a_safe_prefix_query() {
        let query = |text: &str| {
            CompendiumQuery {
                text: Some(text.into()),
                ..Default::default()
            }
            .prefix_tsquery()
        };
        assert_eq!(query("Fire bolt"), Some("fire:* & bolt:*".into()));
        assert_eq!(query("a' | !b:*"), Some("a:* & b:*".into()));
        assert_eq!(query("  -- "), None);
        assert_eq!(CompendiumQuery::default().prefix_tsquery(), None);
    }

    #[test]
    fn an_entry_matches_by_name_prefixes_and_filters() {
        let fireball = CompendiumEntry {
            id: Uuid::nil(),
            ref_key: "dnd5e:spells:fireball".into(),
            name: "Fireball".into(),
            item_type: "spell".into(),
            category: Some("spell".into()),
            level: Some(3),
            school: Some("evocation".into()),
            rarity: None,
            challenge_rating: None,
        };
        let query = |text: &str| CompendiumQuery {
            text: Some(text.into()),
            ..Default::default()
        };
        assert!(query("fireb").matches(&fireball));
        assert!(query("  FIRE ").matches(&fireball));
        assert!(
            !query("fire bolt").matches(&fireball),
            "every word must match"
        );
        assert!(!query("ball").matches(&fireball), "prefixes of words only");
        assert!(CompendiumQuery::default().matches(&fireball));
        let spells_of = |min, max| CompendiumQuery {
            item_type: Some("spell".into()),
            school: Some("Evocation".into()),
            min_level: min,
            max_level: max,
            ..Default::default()
        };
        assert!(spells_of(Some(3), Some(3)).matches(&fireball));
        assert!(!spells_of(Some(4), None).matches(&fireball));
        let monsters = CompendiumQuery {
            min_cr: Some(1.0),
            ..Default::default()
        };
        assert!(
            !monsters.matches(&fireball),
            "no challenge rating, no match"
        );
    }

    #[test]
    fn limits_are_capped() {
        assert_eq!(CompendiumQuery::default().effective_limit(), 50);
        assert_eq!(
            CompendiumQuery {
                limit: Some(10_000),
                ..Default::default()
            }
            .effective_limit(),
            200
        );
        assert_eq!(
            CompendiumQuery {
                limit: Some(0),
                ..Default::default()
            }
            .effective_limit(),
            1
        );
    }
}
