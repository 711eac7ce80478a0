//! Compendium search: what the browser asks for and what it gets back.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
