//! Positions on the battle map, in map pixels, and grid cells.

use serde::{Deserialize, Serialize};

/// A point in map pixels.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Point {
    /// Horizontal, growing right.
    pub x: f64,
    /// Vertical, growing down.
    pub y: f64,
}

impl Point {
    /// A point.
    pub const fn new(x: f64, y: f64) -> Self {
        Self { x, y }
    }

    /// True when both coordinates are finite numbers.
    pub fn is_finite(self) -> bool {
        self.x.is_finite() && self.y.is_finite()
    }
}

/// An axis-aligned rectangle in map pixels; `min` inclusive, `max` exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Rect {
    /// Top-left corner.
    pub min: Point,
    /// Bottom-right corner.
    pub max: Point,
}

impl Rect {
    /// The rectangle at `origin` with the given size.
    pub fn from_origin(origin: Point, width: f64, height: f64) -> Self {
        Self {
            min: origin,
            max: Point::new(origin.x + width, origin.y + height),
        }
    }

    /// True when the two overlap in an area (touching edges do not count).
    pub fn intersects(&self, other: &Rect) -> bool {
        self.min.x < other.max.x
            && other.min.x < self.max.x
            && self.min.y < other.max.y
            && other.min.y < self.max.y
    }
}

/// A square of the map grid, by column and row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Cell(pub i32, pub i32);

impl Cell {
    /// Chebyshev distance: the number of steps when a diagonal step counts
    /// as one (the D&D 5e default grid rule).
    pub fn steps_to(self, other: Cell) -> u32 {
        let dx = (i64::from(self.0) - i64::from(other.0)).unsigned_abs();
        let dy = (i64::from(self.1) - i64::from(other.1)).unsigned_abs();
        u32::try_from(dx.max(dy)).unwrap_or(u32::MAX)
    }
}

impl std::fmt::Display for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{},{}", self.0, self.1)
    }
}

impl std::str::FromStr for Cell {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        let (x, y) = s.split_once(',').ok_or(())?;
        Ok(Cell(x.parse().map_err(drop)?, y.parse().map_err(drop)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rectangles_that_only_touch_do_not_intersect() {
        let a = Rect::from_origin(Point::new(0.0, 0.0), 10.0, 10.0);
        assert!(a.intersects(&Rect::from_origin(Point::new(9.0, 9.0), 5.0, 5.0)));
        assert!(!a.intersects(&Rect::from_origin(Point::new(10.0, 0.0), 5.0, 5.0)));
        assert!(!a.intersects(&Rect::from_origin(Point::new(0.0, 10.0), 5.0, 5.0)));
    }

    #[test]
    fn diagonal_steps_count_as_one() {
        assert_eq!(Cell(0, 0).steps_to(Cell(3, 2)), 3);
        assert_eq!(Cell(-2, 5).steps_to(Cell(-2, -1)), 6);
    }

    #[test]
    fn cells_round_trip_through_text() {
        assert_eq!("3,-4".parse::<Cell>(), Ok(Cell(3, -4)));
        assert_eq!(Cell(3, -4).to_string(), "3,-4");
        assert!("3".parse::<Cell>().is_err());
        assert!("a,b".parse::<Cell>().is_err());
    }
}
