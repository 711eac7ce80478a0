//! Tokens: what stands on an encounter's map.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::{
    geometry::{Point, Rect},
    id::{ActorId, EncounterId, TokenId},
};

/// A token on a map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Token {
    /// Its id.
    pub id: TokenId,
    /// The encounter whose map it is on (indexed: `tokens by encounter`).
    pub encounter: EncounterId,
    /// The actor it represents, if any (a token may be scenery).
    #[serde(default)]
    pub actor: Option<ActorId>,
    /// Its label.
    pub name: String,
    /// Top-left corner in map pixels.
    pub position: Point,
    /// Degrees clockwise.
    #[serde(default)]
    pub rotation: f64,
    /// Size in grid cells per side (1 for a medium creature, 2 for large).
    #[serde(default = "one")]
    pub scale: f64,
    /// Who may see it.
    #[serde(default)]
    pub visibility: Visibility,
    /// Conditions (prone, stunned, ...), by name.
    #[serde(default)]
    pub conditions: BTreeSet<String>,
    /// Temporary numbers for this token only (e.g. a spell's bonus), by name.
    #[serde(default)]
    pub stats: BTreeMap<String, i64>,
}

fn one() -> f64 {
    1.0
}

impl Token {
    /// The square the token covers, given the map's grid size in pixels.
    pub fn bounds(&self, grid_size: f64) -> Rect {
        let side = self.scale * grid_size;
        Rect::from_origin(self.position, side, side)
    }
}

/// Who may see a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Everyone.
    #[default]
    Visible,
    /// The GM only; players do not learn it exists.
    GmOnly,
    /// Nobody but the GM, and not drawn for the GM either unless asked
    /// (an ambush waiting to be revealed); players do not learn it exists.
    Hidden,
}

impl Visibility {
    /// Every visibility, in the order a GM chooses from.
    pub const ALL: [Visibility; 3] = [Visibility::Visible, Visibility::GmOnly, Visibility::Hidden];

    /// True when players may see the token.
    pub fn players_see(self) -> bool {
        self == Visibility::Visible
    }

    /// The stored name (`encounter_tokens.visibility`), the same as on the
    /// wire.
    pub fn slug(self) -> &'static str {
        match self {
            Visibility::Visible => "visible",
            Visibility::GmOnly => "gm_only",
            Visibility::Hidden => "hidden",
        }
    }
}

impl std::str::FromStr for Visibility {
    type Err = crate::Error;
    fn from_str(raw: &str) -> crate::Result<Self> {
        Visibility::ALL
            .into_iter()
            .find(|visibility| visibility.slug() == raw)
            .ok_or_else(|| crate::Error::InvalidAction(format!("unknown visibility {raw:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visibility_slugs_round_trip_and_match_the_wire_names() {
        for visibility in Visibility::ALL {
            assert_eq!(visibility.slug().parse::<Visibility>(), Ok(visibility));
            assert_eq!(serde_json::to_value(visibility).unwrap(), visibility.slug());
        }
        assert!("invisible".parse::<Visibility>().is_err());
    }
}
