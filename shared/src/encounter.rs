//! Encounters: a map with its grid, initiative, fog of war and log.
//! Tokens and effects are entities of their own (see [`crate::store`]).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

pub use crate::grid::{Grid, Span};
use crate::{
    geometry::{Cell, Point, Rect},
    id::{ActorId, EncounterId, MediaId, TokenId, UserId},
    token::Visibility,
};

/// One encounter's shared state, apart from its tokens and effects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Encounter {
    /// Its id.
    pub id: EncounterId,
    /// Its name.
    pub name: String,
    /// The grid drawn over the map.
    #[serde(default)]
    pub map: MapSettings,
    /// Turn order.
    #[serde(default)]
    pub initiative: Initiative,
    /// What players may see of the map.
    #[serde(default)]
    pub fog: Fog,
    /// Chat, rolls and notable events, oldest first.
    #[serde(default)]
    pub log: Vec<LogEntry>,
}

/// The grid over the map image.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MapSettings {
    /// Squares or hexagons.
    #[serde(default)]
    pub grid: Grid,
    /// Distance between the centres of two neighbouring cells in map
    /// pixels: a square's side, a hexagon's width across its flats.
    pub grid_size: f64,
    /// Where the grid starts, in map pixels.
    #[serde(default)]
    pub offset: Point,
    /// Feet one cell stands for (5 in D&D 5e).
    #[serde(default = "five")]
    pub feet_per_cell: u32,
    /// How a diagonal step counts, for the ruler and for movement.
    #[serde(default)]
    pub diagonals: crate::measure::Diagonals,
    /// The map image under the grid (a media file of the campaign), drawn
    /// from its top-left corner at one map pixel per image pixel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<MediaId>,
    /// Whether players may draw on the map (the GM always may).
    #[serde(default)]
    pub players_draw: bool,
    /// Whether walls hide what is behind them: a player then sees only
    /// what a token of theirs has a line of sight to (`crate::sight`).
    #[serde(default)]
    pub vision: bool,
    /// Whether the whole map is lit (daylight, a lit hall): where walls
    /// hide, a token then sees as far as its range and the walls let it;
    /// in the dark it sees only by its darkvision and by the light tokens
    /// shed ([`crate::token::Sight`]).
    #[serde(default = "lit")]
    pub daylight: bool,
}

fn lit() -> bool {
    true
}

fn five() -> u32 {
    5
}

impl Default for MapSettings {
    fn default() -> Self {
        Self {
            grid: Grid::Square,
            grid_size: 70.0,
            offset: Point::default(),
            feet_per_cell: 5,
            diagonals: crate::measure::Diagonals::Equal,
            image: None,
            players_draw: false,
            vision: false,
            daylight: true,
        }
    }
}

impl MapSettings {
    /// The cell containing a point.
    pub fn cell_at(&self, point: Point) -> Cell {
        self.grid.cell_at(self.grid_size, self.offset, point)
    }

    /// The middle of a cell, in map pixels.
    pub fn center_of(&self, cell: Cell) -> Point {
        self.grid.center_of(self.grid_size, self.offset, cell)
    }

    /// The corners of a cell, in map pixels.
    pub fn outline(&self, cell: Cell) -> Vec<Point> {
        self.grid.outline(self.grid_size, self.offset, cell)
    }

    /// Where a one-cell token standing in `cell` is (its top-left corner):
    /// a square's corner; on hexagons, the square centred on the hexagon.
    pub fn cell_origin(&self, cell: Cell) -> Point {
        if self.grid.is_hex() {
            let center = self.center_of(cell);
            let half = self.grid_size / 2.0;
            Point::new(center.x - half, center.y - half)
        } else {
            Point::new(
                self.offset.x + f64::from(cell.0) * self.grid_size,
                self.offset.y + f64::from(cell.1) * self.grid_size,
            )
        }
    }

    /// The cell a token at `position` (its top-left corner) stands in: the
    /// one under the middle of its first cell, the inverse of
    /// [`MapSettings::cell_origin`]. (Not the cell of its corner: that one
    /// sits on a line, where rounding picks either side.)
    pub fn token_cell(&self, position: Point) -> Cell {
        let half = self.grid_size / 2.0;
        self.cell_at(Point::new(position.x + half, position.y + half))
    }

    /// Where a token dropped at `position` lands: in the cell under its
    /// first cell's middle.
    pub fn snap(&self, position: Point) -> Point {
        self.cell_origin(self.token_cell(position))
    }

    /// The cells an area is over ([`Grid::span`]).
    pub fn span(&self, area: &Rect) -> Span {
        self.grid.span(self.grid_size, self.offset, area)
    }
}

/// Turn order and where the encounter is in it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Initiative {
    /// Tokens in the order they act.
    pub order: Vec<TokenId>,
    /// Index into `order` of the token whose turn it is.
    pub turn: u32,
    /// The round, from 1 once combat starts.
    pub round: u32,
    /// What the table is doing.
    pub phase: Phase,
    /// Each token's initiative total when the server rolled it (absent for
    /// an order the GM set by hand).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub totals: BTreeMap<TokenId, i64>,
}

impl Initiative {
    /// The token whose turn it is, in combat.
    pub fn current(&self) -> Option<TokenId> {
        (self.phase == Phase::Combat)
            .then(|| self.order.get(self.turn as usize).copied())
            .flatten()
    }
}

/// What the table is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Preparing: placing tokens, rolling initiative.
    #[default]
    Setup,
    /// Fighting in turn order.
    Combat,
    /// Moving freely.
    Exploration,
}

/// Fog of war: players see only revealed cells.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Fog {
    /// When false, players see the whole map.
    pub enabled: bool,
    /// Cells players may see.
    pub revealed: BTreeSet<Cell>,
}

impl Fog {
    /// True when players see some of `area` on `map`: the fog is off, or
    /// a cell the area is over ([`Grid::span`]) is revealed.
    pub fn shows(&self, map: &MapSettings, area: &Rect) -> bool {
        if !self.enabled {
            return true;
        }
        let span = map.span(area);
        let (first, last) = (span.first, span.last);
        let columns = i64::from(last.0) - i64::from(first.0) + 1;
        // Cells sort by column, then row: one range query per column, or
        // one pass over the revealed cells when there are fewer of them
        // (a giant token on a mostly dark map).
        if usize::try_from(columns).unwrap_or(usize::MAX) <= self.revealed.len() {
            (first.0..=last.0).any(|column| {
                self.revealed
                    .range(Cell(column, first.1)..=Cell(column, last.1))
                    .any(|cell| span.holds(*cell))
            })
        } else {
            self.revealed
                .iter()
                .any(|cell| span.ranges_over(*cell) && span.holds(*cell))
        }
    }
}

/// One line of the encounter's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Who wrote or caused it; `None` for the system.
    #[serde(default)]
    pub by: Option<UserId>,
    /// What kind of line it is.
    pub kind: LogKind,
    /// The text shown.
    pub text: String,
    /// Who reads it besides the GM and assistant GMs: `None` for the whole
    /// table; for a whisper or a secret roll, the members named (none for
    /// a line only the GM reads). A player's socket never carries a line
    /// that does not name them ([`crate::sight`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Vec<UserId>>,
    /// The file a [`LogKind::Handout`] line shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handout: Option<crate::media::Handout>,
}

impl LogEntry {
    /// Whether `who` reads the line.
    pub fn read_by(&self, who: &crate::rules::Participant) -> bool {
        who.role.is_gm_or_assistant() || self.read_by_player(who.user)
    }

    /// Whether `user`, a player or observer, reads the line.
    pub fn read_by_player(&self, user: UserId) -> bool {
        self.to.as_ref().is_none_or(|to| to.contains(&user))
    }
}

/// Kinds of log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogKind {
    /// Said by a person.
    Chat,
    /// A dice roll and its result.
    Roll,
    /// Something the system records (a turn starts, an effect ends).
    Event,
    /// The GM showed a handout.
    Handout,
}

/// An encounter as a campaign lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncounterSummary {
    /// Its id.
    pub id: EncounterId,
    /// Its name.
    pub name: String,
    /// Its grid and map image.
    pub map: MapSettings,
    /// How many tokens stand on it.
    pub tokens: u32,
}

/// A token the GM places on an encounter, before the session starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewToken {
    /// The actor it stands for (`None` for scenery).
    pub actor: Option<ActorId>,
    /// Its label.
    pub name: String,
    /// Its top-left corner in map pixels.
    pub position: Point,
    /// Who sees it.
    pub visibility: Visibility,
    /// Size in grid cells per side.
    pub scale: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_origin_is_in_that_cell() {
        let map = MapSettings {
            grid_size: 50.0,
            offset: Point::new(10.0, -5.0),
            ..MapSettings::default()
        };
        for cell in [Cell(0, 0), Cell(3, 7), Cell(-2, 1)] {
            let origin = map.cell_origin(cell);
            assert_eq!(map.cell_at(origin), cell);
        }
        assert_eq!(map.cell_origin(Cell(2, 1)), Point::new(110.0, 45.0));
    }
}
