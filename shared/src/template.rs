//! Area templates: the circle, cone, line and square a spell or a breath
//! covers, sized in feet, placed and turned on the map, and the cells and
//! tokens inside them. The same code answers in the browser (the
//! highlight) and on the server, so both name the same tokens.
//!
//! A cell is inside a template when its centre is (the rule most
//! tabletops use for the D&D 5e "is the creature in the area" question),
//! and a token is inside when any cell it covers is.

use serde::{Deserialize, Serialize};

use crate::{
    encounter::MapSettings,
    geometry::{Cell, Point, Rect},
    id::{EncounterId, TokenId},
    store::Store,
};

/// The largest template, in feet: a 1,000-ft line is beyond any spell.
pub const MAX_TEMPLATE_FEET: u32 = 1_000;

/// A template's shape and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "shape", rename_all = "snake_case")]
pub enum Shape {
    /// A sphere or cylinder seen from above: `radius` feet around its
    /// origin (Fireball: 20).
    Circle {
        /// Feet from the origin to the edge.
        radius: u32,
    },
    /// A cone from its origin: as wide at any point as that point is far
    /// from the origin, `length` feet long (Burning Hands: 15).
    Cone {
        /// Feet from the origin to the far edge.
        length: u32,
    },
    /// A line from its origin, `length` feet long and `width` wide
    /// (Lightning Bolt: 100 by 5).
    Line {
        /// Feet along the direction.
        length: u32,
        /// Feet across.
        width: u32,
    },
    /// A cube seen from above: `side` feet, its origin in the middle of
    /// the side it grows from (Thunderwave: 15).
    Square {
        /// Feet along each side.
        side: u32,
    },
}

impl Shape {
    /// Checks its sizes: each from 1 to [`MAX_TEMPLATE_FEET`].
    pub fn check(self) -> Result<(), TemplateError> {
        let sizes_ok = match self {
            Shape::Line { length, width } => [length, width]
                .iter()
                .all(|&feet| (1..=MAX_TEMPLATE_FEET).contains(&feet)),
            shape => (1..=MAX_TEMPLATE_FEET).contains(&shape.feet()),
        };
        if sizes_ok {
            Ok(())
        } else {
            Err(TemplateError::Size)
        }
    }

    /// The shape of an SRD activity's `target.template` (`{"type":
    /// "sphere", "size": "20"}` is Fireball's): spheres, cylinders and
    /// radii are circles, cubes squares, walls lines; a line without a
    /// width is 5 ft wide. `None` for no template or one the map cannot
    /// draw.
    pub fn from_srd(template: &serde_json::Value) -> Option<Shape> {
        let feet = |key: &str| -> Option<u32> {
            match template.get(key)? {
                serde_json::Value::Number(n) => n.as_u64()?.try_into().ok(),
                serde_json::Value::String(s) => s.trim().parse().ok(),
                _ => None,
            }
        };
        // Sizes in miles (a storm's) are not a map's template.
        if !matches!(
            template.get("units").and_then(serde_json::Value::as_str),
            None | Some("" | "ft")
        ) {
            return None;
        }
        let size = feet("size")?;
        let shape = match template.get("type")?.as_str()? {
            "sphere" | "cylinder" | "radius" | "circle" | "emanation" => {
                Shape::Circle { radius: size }
            }
            "cone" => Shape::Cone { length: size },
            "line" | "wall" => Shape::Line {
                length: size,
                width: feet("width").unwrap_or(5),
            },
            "cube" | "square" => Shape::Square { side: size },
            _ => return None,
        };
        shape.check().ok().map(|()| shape)
    }

    /// How a table names it: `20-ft circle`, `100 × 5-ft line`.
    pub fn label(self) -> String {
        match self {
            Shape::Circle { radius } => format!("{radius}-ft circle"),
            Shape::Cone { length } => format!("{length}-ft cone"),
            Shape::Line { length, width } => format!("{length} \u{d7} {width}-ft line"),
            Shape::Square { side } => format!("{side}-ft square"),
        }
    }

    /// Its largest size in feet.
    fn feet(self) -> u32 {
        match self {
            Shape::Circle { radius } => radius,
            Shape::Cone { length } | Shape::Square { side: length } => length,
            Shape::Line { length, width } => length.max(width),
        }
    }
}

/// A template on the map.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Template {
    /// Its shape and size.
    pub shape: Shape,
    /// Where it starts (a circle's centre), in map pixels.
    pub origin: Point,
    /// Which way it points, in degrees clockwise from east (a circle's
    /// does not matter).
    pub direction: f64,
}

/// Why a template cannot be placed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// Zero feet, or more than [`MAX_TEMPLATE_FEET`].
    #[error("a template is from 1 to {MAX_TEMPLATE_FEET} ft")]
    Size,
    /// An origin or direction that is not a finite number.
    #[error("a template's place and direction must be finite numbers")]
    NotFinite,
}

impl Template {
    /// Checks what a member sent.
    pub fn check(&self) -> Result<(), TemplateError> {
        self.shape.check()?;
        if !self.origin.is_finite() || !self.direction.is_finite() {
            return Err(TemplateError::NotFinite);
        }
        Ok(())
    }

    /// Whether a point of the map (in pixels) is inside, on `map`'s
    /// scale.
    pub fn covers(&self, map: &MapSettings, at: Point) -> bool {
        let per_foot = map.grid_size / f64::from(map.feet_per_cell.max(1));
        let feet = |value: u32| f64::from(value) * per_foot;
        // In the template's own frame: `along` its direction, `across` it.
        let (dx, dy) = (at.x - self.origin.x, at.y - self.origin.y);
        let (sin, cos) = self.direction.to_radians().sin_cos();
        let along = dx * cos + dy * sin;
        let across = -dx * sin + dy * cos;
        // A hair of slack: a centre exactly on the edge is inside, however
        // the floating point rounds it.
        let slack = 1e-9 * map.grid_size.max(1.0);
        match self.shape {
            Shape::Circle { radius } => dx.hypot(dy) <= feet(radius) + slack,
            Shape::Cone { length } => {
                along >= -slack
                    && along <= feet(length) + slack
                    && across.abs() <= along / 2.0 + slack
            }
            Shape::Line { length, width } => {
                along >= -slack
                    && along <= feet(length) + slack
                    && across.abs() <= feet(width) / 2.0 + slack
            }
            Shape::Square { side } => {
                along >= -slack
                    && along <= feet(side) + slack
                    && across.abs() <= feet(side) / 2.0 + slack
            }
        }
    }

    /// The area that holds the whole template, in map pixels.
    pub fn bounds(&self, map: &MapSettings) -> Rect {
        let per_foot = map.grid_size / f64::from(map.feet_per_cell.max(1));
        // The farthest any point of any shape gets from the origin: a
        // square's far corner is √(1 + 1/4) of its side away.
        let reach = f64::from(self.shape.feet()) * per_foot * 1.2;
        Rect {
            min: Point::new(self.origin.x - reach, self.origin.y - reach),
            max: Point::new(self.origin.x + reach, self.origin.y + reach),
        }
    }

    /// The cells whose centre is inside, by row then column.
    pub fn cells(&self, map: &MapSettings) -> Vec<Cell> {
        map.span(&self.bounds(map))
            .cells()
            .filter(|cell| self.covers(map, map.center_of(*cell)))
            .collect()
    }

    /// The tokens of `encounter` inside: any cell a token covers has its
    /// centre inside. Sorted by id.
    pub fn tokens(&self, store: &Store, encounter: EncounterId) -> Vec<TokenId> {
        let Some(map) = store.encounter(encounter).map(|e| e.map) else {
            return Vec::new();
        };
        let mut inside: Vec<TokenId> = store
            .tokens_in_rect(encounter, &self.bounds(&map))
            .into_iter()
            .filter(|id| {
                store.token(*id).is_some_and(|token| {
                    map.span(&token.bounds(map.grid_size))
                        .cells()
                        .any(|cell| self.covers(&map, map.center_of(cell)))
                })
            })
            .collect();
        inside.sort_unstable();
        inside
    }
}

#[cfg(test)]
mod tests;
