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
            let dx = (i64::from(pair[1].0) - i64::from(pair[0].0)).unsigned_abs();
            let dy = (i64::from(pair[1].1) - i64::from(pair[0].1)).unsigned_abs();
            diagonal = diagonal.saturating_add(dx.min(dy));
            straight = straight.saturating_add(dx.abs_diff(dy));
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
    /// The middle of a cell, in map pixels.
    pub fn center_of(&self, cell: Cell) -> Point {
        let origin = self.cell_origin(cell);
        Point::new(
            origin.x + self.grid_size / 2.0,
            origin.y + self.grid_size / 2.0,
        )
    }

    /// Cells walked from point to point along `path` (each taken as its
    /// cell), under the map's rule for diagonals.
    pub fn steps_along(&self, path: &[Point]) -> u64 {
        let cells: Vec<Cell> = path.iter().map(|point| self.cell_at(*point)).collect();
        self.diagonals.steps(&cells)
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
