//! Tokens: what stands on an encounter's map.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::{
    actor::ActorKind,
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
    /// Who may read its actor's hit points; `None` for the default of the
    /// actor's kind ([`HpShown::default_for`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hp_shown: Option<HpShown>,
    /// How far it sees and what light it sheds, where walls hide
    /// ([`crate::sight`]).
    #[serde(default, skip_serializing_if = "Sight::is_plain")]
    pub sight: Sight,
}

/// How far a token sees and the light it sheds, on a map where walls hide
/// ([`crate::encounter::MapSettings::vision`]). Distances are in feet, as
/// a character sheet gives them (darkvision 60 ft, a torch's 20 ft of
/// bright light and 20 ft more of dim), and turned into map pixels with
/// the map's feet per cell. A token that sheds light sheds it whoever sees
/// the token: a hidden token with a light is a light the GM placed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Sight {
    /// How far it sees where there is light; `None`: as far as the walls
    /// let it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<u32>,
    /// How far it sees without light (darkvision); 0 for not at all.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub darkvision: u32,
    /// The light it sheds, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub light: Option<Light>,
}

/// Light shed around a token: bright out to `bright` feet, dim from there
/// out to `dim` feet. Both let a token see; the browser draws dim light
/// darker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Light {
    /// Radius of the bright light.
    pub bright: u32,
    /// Radius of all the light, bright and dim (at least `bright`).
    pub dim: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Sight {
    /// Whether it is the default: sees as far as walls let it, no
    /// darkvision, no light (not written out).
    pub fn is_plain(&self) -> bool {
        *self == Sight::default()
    }

    /// Whether each distance is within [`crate::limits::MAX_SIGHT_FEET`]
    /// and a light's dim radius is at least its bright one.
    pub fn check(&self) -> Result<(), &'static str> {
        let far = |feet: u32| feet > crate::limits::MAX_SIGHT_FEET;
        if self.range.is_some_and(far) || far(self.darkvision) {
            return Err("a token sees at most 5,000 feet");
        }
        if let Some(light) = self.light {
            if far(light.dim) {
                return Err("a light reaches at most 5,000 feet");
            }
            if light.dim < light.bright {
                return Err(
                    "a light's dim radius includes its bright one: dim must be at least bright",
                );
            }
        }
        Ok(())
    }
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

    /// The middle of the square it covers: where it stands, for walls and
    /// sight.
    pub fn centre(&self, grid_size: f64) -> Point {
        let half = self.scale * grid_size / 2.0;
        Point::new(self.position.x + half, self.position.y + half)
    }

    /// Who may read the hit points of its actor, of kind `kind`.
    pub fn hp_shown_for(&self, kind: ActorKind) -> HpShown {
        self.hp_shown.unwrap_or(HpShown::default_for(kind))
    }
}

/// Who may read the hit points of the actor a token stands for: a
/// per-token setting that the server's per-recipient filter enforces (a
/// player's socket never carries hit points they may not read).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HpShown {
    /// Every player who sees the token.
    Everyone,
    /// The player who owns the actor (and the GM).
    Owner,
    /// The GM only, not even the owner.
    Gm,
}

impl HpShown {
    /// Every setting, in the order a GM chooses from.
    pub const ALL: [HpShown; 3] = [HpShown::Everyone, HpShown::Owner, HpShown::Gm];

    /// What a token shows when the GM has not chosen: a party sees its
    /// characters' hit points; a monster's or an NPC's are the GM's.
    pub fn default_for(kind: ActorKind) -> Self {
        match kind {
            ActorKind::Character => HpShown::Everyone,
            ActorKind::Npc | ActorKind::Monster => HpShown::Gm,
        }
    }

    /// The stored name (`encounter_tokens.hp_shown`), the same as on the
    /// wire.
    pub fn slug(self) -> &'static str {
        match self {
            HpShown::Everyone => "everyone",
            HpShown::Owner => "owner",
            HpShown::Gm => "gm",
        }
    }

    /// How the GM's menu names it.
    pub fn label(self) -> &'static str {
        match self {
            HpShown::Everyone => "Everyone",
            HpShown::Owner => "Its owner and the GM",
            HpShown::Gm => "The GM only",
        }
    }
}

impl std::str::FromStr for HpShown {
    type Err = crate::Error;
    fn from_str(raw: &str) -> crate::Result<Self> {
        HpShown::ALL
            .into_iter()
            .find(|shown| shown.slug() == raw)
            .ok_or_else(|| {
                crate::Error::InvalidAction(format!("unknown hit point setting {raw:?}"))
            })
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

    #[test]
    fn hp_settings_round_trip_and_default_by_kind() {
        for shown in HpShown::ALL {
            assert_eq!(shown.slug().parse::<HpShown>(), Ok(shown));
            assert_eq!(serde_json::to_value(shown).unwrap(), shown.slug());
        }
        assert!("players".parse::<HpShown>().is_err());
        let token: Token = serde_json::from_value(serde_json::json!({
            "id": "00000000-0000-0000-0000-000000000001",
            "encounter": "00000000-0000-0000-0000-000000000002",
            "name": "Goblin", "position": {"x": 0.0, "y": 0.0}
        }))
        .unwrap();
        assert_eq!(token.hp_shown_for(ActorKind::Monster), HpShown::Gm);
        assert_eq!(token.hp_shown_for(ActorKind::Character), HpShown::Everyone);
        let chosen = Token {
            hp_shown: Some(HpShown::Everyone),
            ..token
        };
        assert_eq!(chosen.hp_shown_for(ActorKind::Monster), HpShown::Everyone);
    }
}
