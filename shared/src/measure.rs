//! Distances on the grid: the ruler's and a move's, under the map's rule
//! for diagonals, computed the same way in the browser and on the server.

use serde::{Deserialize, Serialize};

use crate::{
    encounter::MapSettings,
    geometry::{Cell, Point},
};

/// The most points one ruler holds: its start, its waypoints and its end.
pub const MAX_RULER_POINTS: usize = 32;

/// How a diagonal step of the grid counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Diagonals {
    /// Every diagonal step is one cell: D&D 5e's rule (5 ft each).
    #[default]
    Equal,
    /// Diagonal steps count one cell and two by turns, along the whole
    /// path: the Dungeon Master's Guide's variant (5 ft, 10 ft, 5 ft…).
    Alternating,
}

impl Diagonals {
    /// Every rule, in the order a form offers them.
    pub const ALL: [Diagonals; 2] = [Diagonals::Equal, Diagonals::Alternating];

    /// The cells walked along `path` (each cell a waypoint, in order).
    pub fn steps(self, path: &[Cell]) -> u64 {
        let (mut straight, mut diagonal) = (0u64, 0u64);
        for pair in path.windows(2) {
            let (along, across) = crate::grid::Grid::Square.steps(pair[0], pair[1]);
            straight = straight.saturating_add(along);
            diagonal = diagonal.saturating_add(across);
        }
        let diagonal_cost = match self {
            Diagonals::Equal => diagonal,
            // Every second diagonal counts twice: the count runs on across
            // waypoints, so a path bent at a waypoint is never shorter than
            // the straight one.
            Diagonals::Alternating => diagonal.saturating_add(diagonal / 2),
        };
        straight.saturating_add(diagonal_cost)
    }

    /// How a form names the rule.
    pub fn label(self) -> &'static str {
        match self {
            Diagonals::Equal => "Every diagonal is one cell (5e)",
            Diagonals::Alternating => "Diagonals alternate one and two cells (5/10/5)",
        }
    }

    /// The name a form sends.
    pub fn key(self) -> &'static str {
        match self {
            Diagonals::Equal => "equal",
            Diagonals::Alternating => "alternating",
        }
    }

    /// The rule a form sent.
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|rule| rule.key() == key)
    }
}

impl MapSettings {
    /// Cells walked from point to point along `path` (each taken as its
    /// cell), under the map's rule for diagonals (a hexagon has none).
    pub fn steps_along(&self, path: &[Point]) -> u64 {
        let cells: Vec<Cell> = path.iter().map(|point| self.cell_at(*point)).collect();
        self.steps(&cells)
    }

    /// Cells walked from cell to cell along `path`.
    pub fn steps(&self, path: &[Cell]) -> u64 {
        if self.grid.is_hex() {
            path.windows(2)
                .map(|pair| self.grid.steps(pair[0], pair[1]).0)
                .fold(0, u64::saturating_add)
        } else {
            self.diagonals.steps(path)
        }
    }

    /// Feet a token walks from `from` to `to` (its top-left corners), cell
    /// to cell ([`MapSettings::token_cell`]).
    pub fn feet_moved(&self, from: Point, to: Point) -> u64 {
        self.steps(&[self.token_cell(from), self.token_cell(to)])
            .saturating_mul(u64::from(self.feet_per_cell))
    }

    /// Feet walked along `path`, as [`MapSettings::steps_along`] counts.
    pub fn feet_along(&self, path: &[Point]) -> u64 {
        self.steps_along(path)
            .saturating_mul(u64::from(self.feet_per_cell))
    }
}

/// Whether a ruler is one the server relays: at most [`MAX_RULER_POINTS`]
/// points, every one finite.
pub fn ruler_ok(path: &[Point]) -> bool {
    path.len() <= MAX_RULER_POINTS && path.iter().all(|point| point.is_finite())
}

#[cfg(test)]
mod tests;
