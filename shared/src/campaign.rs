//! Campaigns: the top-level container a GM runs, and what a user may type to
//! create one.
//!
//! Input is parsed into [`CampaignName`] and [`GameSystem`] once, at the
//! edge; code that holds those types never re-checks them.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{Error, Result, id::CampaignId};

/// A campaign as every member sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Campaign {
    /// Its id.
    pub id: CampaignId,
    /// Its validated name.
    pub name: CampaignName,
    /// The rules it is played with.
    pub game_system: GameSystem,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A campaign as its page shows it: the campaign and the caller's role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignOverview {
    /// The campaign.
    pub campaign: Campaign,
    /// The caller's role in it.
    pub role: crate::rules::Role,
}

/// A live session of a campaign, as its page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionSummary {
    /// Its id (the table's link is `/sessions/<id>`).
    pub id: crate::id::SessionId,
    /// The encounter on the table.
    pub encounter: Option<crate::id::EncounterId>,
    /// When it started.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// Its version: how many changes were made.
    pub version: u64,
}

/// What a user submits to create a campaign, already validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCampaign {
    /// The name.
    pub name: CampaignName,
    /// The rules.
    pub game_system: GameSystem,
}

impl NewCampaign {
    /// Validates raw form input.
    pub fn parse(name: &str, game_system: &str) -> Result<Self> {
        Ok(Self {
            name: CampaignName::parse(name)?,
            game_system: game_system.parse()?,
        })
    }
}

/// A campaign name: trimmed, not empty, at most [`Self::MAX_CHARS`]
/// characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CampaignName(String);

impl CampaignName {
    /// The longest name accepted, in Unicode scalar values (what a person
    /// counts as characters far more often than bytes).
    pub const MAX_CHARS: usize = 100;

    /// Trims surrounding whitespace and checks the length.
    pub fn parse(raw: &str) -> Result<Self> {
        let trimmed = raw.trim();
        let len = trimmed.chars().count();
        if len == 0 {
            Err(Error::EmptyCampaignName)
        } else if len > Self::MAX_CHARS {
            Err(Error::CampaignNameTooLong {
                len,
                max: Self::MAX_CHARS,
            })
        } else {
            Ok(Self(trimmed.to_owned()))
        }
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for CampaignName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for CampaignName {
    type Error = Error;
    fn try_from(raw: String) -> Result<Self> {
        Self::parse(&raw)
    }
}

impl From<CampaignName> for String {
    fn from(name: CampaignName) -> Self {
        name.0
    }
}

/// The rules a campaign is played with.
///
/// Stored and sent as its [`slug`](Self::slug); the database has a check
/// constraint with the same list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum GameSystem {
    /// Dungeons & Dragons 5th edition (the SRD compendium ships with it).
    Dnd5e,
    /// Pathfinder 2nd edition.
    Pathfinder2e,
    /// Any other system: no rules automation, free-form sheets.
    Other,
}

impl GameSystem {
    /// Every system, in the order a form lists them.
    pub const ALL: [GameSystem; 3] = [Self::Dnd5e, Self::Pathfinder2e, Self::Other];

    /// The stable identifier stored in the database and sent on the wire.
    pub fn slug(self) -> &'static str {
        match self {
            Self::Dnd5e => "dnd5e",
            Self::Pathfinder2e => "pf2e",
            Self::Other => "other",
        }
    }

    /// The name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Self::Dnd5e => "D&D 5th Edition",
            Self::Pathfinder2e => "Pathfinder 2nd Edition",
            Self::Other => "Other system",
        }
    }
}

impl std::str::FromStr for GameSystem {
    type Err = Error;
    fn from_str(slug: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|system| system.slug() == slug)
            .ok_or_else(|| Error::UnknownGameSystem(slug.to_owned()))
    }
}

impl TryFrom<String> for GameSystem {
    type Error = Error;
    fn try_from(slug: String) -> Result<Self> {
        slug.parse()
    }
}

impl From<GameSystem> for &'static str {
    fn from(system: GameSystem) -> Self {
        system.slug()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_is_trimmed() {
        assert_eq!(
            CampaignName::parse("  Curse of Strahd \n")
                .unwrap()
                .as_str(),
            "Curse of Strahd"
        );
    }

    #[test]
    fn empty_and_blank_names_are_refused() {
        assert_eq!(CampaignName::parse(""), Err(Error::EmptyCampaignName));
        assert_eq!(CampaignName::parse(" \t\n"), Err(Error::EmptyCampaignName));
    }

    #[test]
    fn length_is_counted_in_characters_not_bytes() {
        // 100 two-byte characters: 200 bytes, still within the limit.
        let at_limit = "é".repeat(CampaignName::MAX_CHARS);
        assert!(CampaignName::parse(&at_limit).is_ok());
        let over = "é".repeat(CampaignName::MAX_CHARS + 1);
        assert_eq!(
            CampaignName::parse(&over),
            Err(Error::CampaignNameTooLong { len: 101, max: 100 })
        );
    }

    #[test]
    fn too_long_message_names_the_limit() {
        let err = CampaignName::parse(&"x".repeat(150)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a campaign name can have at most 100 characters; this one has 150"
        );
    }

    #[test]
    fn deserializing_validates_the_name() {
        assert!(serde_json::from_str::<CampaignName>("\"   \"").is_err());
        assert_eq!(
            serde_json::from_str::<CampaignName>("\" Tomb \"")
                .unwrap()
                .as_str(),
            "Tomb"
        );
    }

    #[test]
    fn game_system_slugs_round_trip() {
        for system in GameSystem::ALL {
            assert_eq!(system.slug().parse::<GameSystem>(), Ok(system));
            let json = serde_json::to_string(&system).unwrap();
            assert_eq!(json, format!("\"{}\"", system.slug()));
            assert_eq!(serde_json::from_str::<GameSystem>(&json).unwrap(), system);
        }
    }

    #[test]
    fn unknown_game_system_is_refused() {
        assert_eq!(
            "gurps".parse::<GameSystem>(),
            Err(Error::UnknownGameSystem("gurps".into()))
        );
    }

    #[test]
    fn new_campaign_reports_the_first_problem() {
        assert_eq!(
            NewCampaign::parse("", "dnd5e"),
            Err(Error::EmptyCampaignName)
        );
        assert_eq!(
            NewCampaign::parse("Ok", "nope"),
            Err(Error::UnknownGameSystem("nope".into()))
        );
        let ok = NewCampaign::parse(" Ok ", "pf2e").unwrap();
        assert_eq!(ok.name.as_str(), "Ok");
        assert_eq!(ok.game_system, GameSystem::Pathfinder2e);
    }
}
