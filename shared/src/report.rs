//! The campaign tools' answers: the encounter builder's suggestions,
//! campaign-wide search results and the campaign's numbers, as the server
//! computes them and the pages show them.

use serde::{Deserialize, Serialize};

/// How hard a monster is for the party, by its CR against the party's
/// average level (the seed's rule of thumb).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Difficulty {
    /// CR at most two below the average level.
    Easy,
    /// Up to the average level.
    Medium,
    /// Up to two above.
    Hard,
    /// More.
    Deadly,
}

impl Difficulty {
    /// As a GM reads it.
    pub fn label(self) -> &'static str {
        match self {
            Difficulty::Easy => "Easy",
            Difficulty::Medium => "Medium",
            Difficulty::Hard => "Hard",
            Difficulty::Deadly => "Deadly",
        }
    }
}

/// A monster the encounter builder suggests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    /// Its compendium key, to add it.
    pub ref_key: String,
    /// Its name.
    pub name: String,
    /// Its challenge rating.
    pub challenge_rating: f64,
    /// How hard it is for the party.
    pub difficulty: Difficulty,
    /// Items related to it as `drops` in the compendium.
    pub loot: Vec<String>,
}

/// What a cross-content search result is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HitKind {
    /// An actor of the campaign.
    Actor,
    /// A compendium entry of the campaign's game system.
    Compendium,
    /// A media file of the campaign.
    Media,
}

/// One cross-content search result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    /// What it is.
    pub kind: HitKind,
    /// Its id.
    pub id: uuid::Uuid,
    /// Its name.
    pub name: String,
    /// Class, category or media type.
    pub subtitle: Option<String>,
    /// Full-text rank.
    pub relevance: f32,
}

/// A campaign's content in numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignAnalytics {
    /// Player characters.
    pub characters: i64,
    /// Non-player characters.
    pub npcs: i64,
    /// Monsters.
    pub monsters: i64,
    /// Items.
    pub items: i64,
    /// Media files.
    pub media_files: i64,
    /// Their total size in bytes.
    pub media_bytes: i64,
    /// Encounters.
    pub encounters: i64,
    /// Completed encounters.
    pub completed_encounters: i64,
}

/// A line of a past session's chat and dice, as the campaign keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatLine {
    /// Its place in the campaign's history: pages go back from it.
    pub id: i64,
    /// When it was said, `2026-12-04 20:31` in UTC.
    pub at: String,
    /// The session it belongs to.
    pub session: crate::id::SessionId,
    /// Who wrote or caused it, by display name; `None` for the system.
    pub by: Option<String>,
    /// A chat line, a roll or an event.
    pub kind: crate::encounter::LogKind,
    /// A whisper or a secret roll: not every member reads it.
    #[serde(default)]
    pub private: bool,
    /// The text, as the table showed it.
    pub text: String,
}

/// Lines of chat history one page holds.
pub const CHAT_PAGE: usize = 100;

/// A challenge rating as the books write it: 1/8, 1/4, 1/2, then whole.
pub fn challenge_label(cr: f64) -> String {
    match cr {
        c if (c - 0.125).abs() < 1e-9 => "1/8".into(),
        c if (c - 0.25).abs() < 1e-9 => "1/4".into(),
        c if (c - 0.5).abs() < 1e-9 => "1/2".into(),
        c if c.fract() == 0.0 => format!("{c:.0}"),
        c => format!("{c}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_ratings_read_as_in_the_books() {
        assert_eq!(challenge_label(0.125), "1/8");
        assert_eq!(challenge_label(0.25), "1/4");
        assert_eq!(challenge_label(0.5), "1/2");
        assert_eq!(challenge_label(3.0), "3");
        assert_eq!(challenge_label(0.0), "0");
        assert_eq!(serde_json::to_value(Difficulty::Deadly).unwrap(), "deadly");
    }
}
