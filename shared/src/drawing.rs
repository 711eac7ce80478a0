//! Drawings on the map: freehand strokes and simple shapes (a line, a
//! rectangle, an ellipse) in map pixels, on their own layer under the
//! tokens. The GM draws, and players too when the map allows it
//! ([`crate::encounter::MapSettings::players_draw`]); each drawing is an
//! entity of the live state, committed, undone and written back like a
//! token, and a player receives one only where the fog lets them see it
//! (or when they drew it).
//!
//! The browser thins a freehand stroke before asking ([`simplify`]), so a
//! stroke is a few dozen points, not one per pointer event.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{
    geometry::{Point, Rect},
    id::{DrawingId, EncounterId, UserId},
    limits::MAX_COORDINATE,
};

/// The most points one freehand stroke keeps.
pub const MAX_DRAWING_POINTS: usize = 512;
/// The widest stroke, in map pixels.
pub const MAX_STROKE_WIDTH: u32 = 40;
/// The most drawings one encounter's map holds.
pub const MAX_DRAWINGS_PER_ENCOUNTER: usize = 1_000;

/// A drawing on an encounter's map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drawing {
    /// Its id.
    pub id: DrawingId,
    /// The encounter whose map it is on.
    pub encounter: EncounterId,
    /// Who drew it: a player erases only their own.
    pub author: UserId,
    /// What it is.
    pub shape: Stroke,
    /// Its colour.
    pub color: Color,
    /// The stroke's width in map pixels, 1 to [`MAX_STROKE_WIDTH`].
    pub width: u32,
}

/// The shape of a drawing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Stroke {
    /// A line through the points, in order.
    Freehand {
        /// 2 to [`MAX_DRAWING_POINTS`] points.
        points: Vec<Point>,
    },
    /// A straight line.
    Line {
        /// One end.
        from: Point,
        /// The other.
        to: Point,
    },
    /// A rectangle's outline, between two opposite corners.
    Rectangle {
        /// One corner.
        from: Point,
        /// The opposite one.
        to: Point,
    },
    /// An ellipse's outline, inside the rectangle between two corners.
    Ellipse {
        /// One corner of its box.
        from: Point,
        /// The opposite one.
        to: Point,
    },
}

/// Why a drawing cannot be put on the map.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DrawingError {
    /// A freehand stroke with fewer than 2 or more than
    /// [`MAX_DRAWING_POINTS`] points.
    #[error("a freehand stroke has from 2 to {MAX_DRAWING_POINTS} points")]
    Points,
    /// A point that is not a number or lies off any map.
    #[error("a drawing's points lie within {MAX_COORDINATE} pixels of the map's origin")]
    OffTheMap,
    /// A stroke width out of range.
    #[error("a stroke is from 1 to {MAX_STROKE_WIDTH} pixels wide")]
    Width,
}

impl Drawing {
    /// Checks its points and width.
    pub fn check(&self) -> Result<(), DrawingError> {
        if let Stroke::Freehand { points } = &self.shape
            && !(2..=MAX_DRAWING_POINTS).contains(&points.len())
        {
            return Err(DrawingError::Points);
        }
        let on_map =
            |p: &Point| p.is_finite() && p.x.abs() <= MAX_COORDINATE && p.y.abs() <= MAX_COORDINATE;
        if !self.corners().all(|p| on_map(&p)) {
            return Err(DrawingError::OffTheMap);
        }
        if !(1..=MAX_STROKE_WIDTH).contains(&self.width) {
            return Err(DrawingError::Width);
        }
        Ok(())
    }

    /// The points that define it (a freehand stroke's, or a shape's two
    /// corners or ends), read in place.
    pub fn corners(&self) -> impl Iterator<Item = Point> + '_ {
        let (points, ends): (&[Point], Option<[Point; 2]>) = match &self.shape {
            Stroke::Freehand { points } => (points, None),
            Stroke::Line { from, to }
            | Stroke::Rectangle { from, to }
            | Stroke::Ellipse { from, to } => (&[], Some([*from, *to])),
        };
        points.iter().copied().chain(ends.into_iter().flatten())
    }

    /// The area it covers, its stroke's width included: what the fog is
    /// asked about (a player sees it when any cell under this is lifted).
    /// Sight asks it of every drawing of a map whose fog changes.
    pub fn bounds(&self) -> Rect {
        let mut corners = self.corners();
        let Some(first) = corners.next() else {
            return Rect::default();
        };
        let (min, max) = corners.fold((first, first), |(min, max), p| {
            (
                Point::new(min.x.min(p.x), min.y.min(p.y)),
                Point::new(max.x.max(p.x), max.y.max(p.y)),
            )
        });
        let half = f64::from(self.width) / 2.0;
        Rect {
            min: Point::new(min.x - half, min.y - half),
            max: Point::new(max.x + half, max.y + half),
        }
    }

    /// How far `at` is from the drawn line (0 on it, inside the stroke's
    /// width): what the eraser asks.
    pub fn distance_to(&self, at: Point) -> f64 {
        let half = f64::from(self.width) / 2.0;
        let line = match &self.shape {
            Stroke::Freehand { points } => points
                .windows(2)
                .map(|pair| segment_distance(at, pair[0], pair[1]))
                .fold(f64::INFINITY, f64::min),
            Stroke::Line { from, to } => segment_distance(at, *from, *to),
            Stroke::Rectangle { from, to } => {
                let corners = [
                    *from,
                    Point::new(to.x, from.y),
                    *to,
                    Point::new(from.x, to.y),
                    *from,
                ];
                corners
                    .windows(2)
                    .map(|pair| segment_distance(at, pair[0], pair[1]))
                    .fold(f64::INFINITY, f64::min)
            }
            Stroke::Ellipse { from, to } => ellipse_distance(at, *from, *to),
        };
        (line - half).max(0.0)
    }
}

/// The distance from `p` to the segment `a`–`b`.
pub(crate) fn segment_distance(p: Point, a: Point, b: Point) -> f64 {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let length = dx * dx + dy * dy;
    let t = if length > 0.0 {
        (((p.x - a.x) * dx + (p.y - a.y) * dy) / length).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (p.x - (a.x + t * dx)).hypot(p.y - (a.y + t * dy))
}

/// The distance from `p` to the outline of the ellipse in the box between
/// `from` and `to`, near enough for an eraser: measured along the ray
/// from the centre (exact for a circle, within the ellipse's flattening
/// otherwise).
fn ellipse_distance(p: Point, from: Point, to: Point) -> f64 {
    let centre = Point::new((from.x + to.x) / 2.0, (from.y + to.y) / 2.0);
    let (rx, ry) = ((to.x - from.x).abs() / 2.0, (to.y - from.y).abs() / 2.0);
    let (dx, dy) = (p.x - centre.x, p.y - centre.y);
    let distance = dx.hypot(dy);
    if rx <= 0.0 || ry <= 0.0 {
        return segment_distance(p, from, to);
    }
    if distance == 0.0 {
        return rx.min(ry);
    }
    // Where the ray through p meets the outline.
    let (ux, uy) = (dx / distance, dy / distance);
    let reach = 1.0 / ((ux / rx).powi(2) + (uy / ry).powi(2)).sqrt();
    (distance - reach).abs()
}

/// A freehand stroke thinned to what the eye sees: points closer than
/// `tolerance` pixels to the line through their neighbours go
/// (Ramer–Douglas–Peucker), the ends stay; then, if it still has more
/// than `max` points, every other one goes until it does not.
pub fn simplify(points: &[Point], tolerance: f64, max: usize) -> Vec<Point> {
    if points.len() <= 2 {
        return points.to_vec();
    }
    let mut keep = vec![false; points.len()];
    keep[0] = true;
    keep[points.len() - 1] = true;
    // An explicit stack: a long stroke must not recurse deep.
    let mut spans = vec![(0, points.len() - 1)];
    while let Some((first, last)) = spans.pop() {
        let (farthest, distance) = (first + 1..last)
            .map(|i| (i, segment_distance(points[i], points[first], points[last])))
            .fold(
                (first, 0.0_f64),
                |best, next| if next.1 > best.1 { next } else { best },
            );
        if distance > tolerance {
            keep[farthest] = true;
            spans.push((first, farthest));
            spans.push((farthest, last));
        }
    }
    let mut kept: Vec<Point> = points
        .iter()
        .zip(keep)
        .filter_map(|(p, k)| k.then_some(*p))
        .collect();
    let max = max.max(2);
    while kept.len() > max {
        let last = kept[kept.len() - 1];
        kept = kept.iter().copied().step_by(2).collect();
        if kept.last() != Some(&last) {
            kept.push(last);
        }
    }
    kept
}

/// A colour, `#rrggbb` on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Color(pub [u8; 3]);

impl Color {
    /// The colours the drawing tool offers: readable on a light map and on
    /// a dark one.
    pub const PALETTE: [(&'static str, Color); 6] = [
        ("Red", Color([0xd6, 0x28, 0x28])),
        ("Orange", Color([0xf7, 0x7f, 0x00])),
        ("Yellow", Color([0xfc, 0xbf, 0x49])),
        ("Green", Color([0x2a, 0x9d, 0x8f])),
        ("Blue", Color([0x45, 0x7b, 0x9d])),
        ("Black", Color([0x1d, 0x1d, 0x1d])),
    ];
}

impl std::fmt::Display for Color {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [r, g, b] = self.0;
        write!(f, "#{r:02x}{g:02x}{b:02x}")
    }
}

impl std::str::FromStr for Color {
    type Err = String;
    fn from_str(raw: &str) -> Result<Self, String> {
        let bad = || format!("a colour is written #rrggbb, not {raw:?}");
        let hex = raw
            .strip_prefix('#')
            .filter(|h| h.len() == 6)
            .ok_or_else(bad)?;
        let byte = |at: usize| {
            hex.get(at..at + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(bad)
        };
        Ok(Color([byte(0)?, byte(2)?, byte(4)?]))
    }
}

impl Serialize for Color {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Color {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn drawing(shape: Stroke) -> Drawing {
        Drawing {
            id: DrawingId(uuid::Uuid::from_u128(1)),
            encounter: EncounterId(uuid::Uuid::from_u128(2)),
            author: UserId(uuid::Uuid::from_u128(3)),
            shape,
            color: Color::PALETTE[0].1,
            width: 4,
        }
    }

    #[test]
    fn a_colour_reads_back_what_it_writes_and_refuses_anything_else() {
        let color: Color = "#d62828".parse().unwrap();
        assert_eq!(color, Color([0xd6, 0x28, 0x28]));
        assert_eq!(color.to_string(), "#d62828");
        for bad in ["d62828", "#d6282", "#d628289", "#zz2828", "", "#é62828"] {
            assert!(bad.parse::<Color>().is_err(), "{bad:?} is refused");
        }
        assert!(serde_json::from_str::<Color>("\"red\"").is_err());
    }

    #[test]
    fn a_drawing_is_refused_for_too_few_or_too_many_points_a_point_off_the_map_or_a_bad_width() {
        let point = |x: f64| Point::new(x, x);
        let freehand = |n: usize| Stroke::Freehand {
            points: (0..n).map(|i| point(i as f64)).collect(),
        };
        assert_eq!(drawing(freehand(1)).check(), Err(DrawingError::Points));
        assert_eq!(drawing(freehand(2)).check(), Ok(()));
        assert_eq!(drawing(freehand(MAX_DRAWING_POINTS)).check(), Ok(()));
        assert_eq!(
            drawing(freehand(MAX_DRAWING_POINTS + 1)).check(),
            Err(DrawingError::Points)
        );
        let off = drawing(Stroke::Line {
            from: point(0.0),
            to: Point::new(f64::NAN, 0.0),
        });
        assert_eq!(off.check(), Err(DrawingError::OffTheMap));
        let far = drawing(Stroke::Ellipse {
            from: point(0.0),
            to: point(MAX_COORDINATE * 2.0),
        });
        assert_eq!(far.check(), Err(DrawingError::OffTheMap));
        for width in [0, MAX_STROKE_WIDTH + 1] {
            let wide = Drawing {
                width,
                ..drawing(freehand(2))
            };
            assert_eq!(wide.check(), Err(DrawingError::Width));
        }
    }

    #[test]
    fn the_eraser_finds_a_shape_by_its_outline_not_its_inside() {
        let square = drawing(Stroke::Rectangle {
            from: Point::new(0.0, 0.0),
            to: Point::new(100.0, 100.0),
        });
        assert_eq!(square.distance_to(Point::new(50.0, 1.0)), 0.0);
        assert!((square.distance_to(Point::new(50.0, 50.0)) - 48.0).abs() < 1e-9);
        let circle = drawing(Stroke::Ellipse {
            from: Point::new(0.0, 0.0),
            to: Point::new(100.0, 100.0),
        });
        assert_eq!(circle.distance_to(Point::new(100.0, 50.0)), 0.0);
        assert!((circle.distance_to(Point::new(50.0, 50.0)) - 48.0).abs() < 1e-9);
        assert!((circle.distance_to(Point::new(130.0, 50.0)) - 28.0).abs() < 1e-9);
    }

    fn points() -> impl Strategy<Value = Vec<Point>> {
        prop::collection::vec((-5_000.0..5_000.0f64, -5_000.0..5_000.0f64), 0..2_000)
            .prop_map(|v| v.into_iter().map(|(x, y)| Point::new(x, y)).collect())
    }

    proptest! {
        /// Thinning keeps the ends, keeps only points of the stroke, in
        /// their order, and never more than asked.
        #[test]
        fn a_simplified_stroke_keeps_its_ends_and_order_within_the_limit(
            stroke in points(),
            tolerance in 0.0..20.0f64,
            max in 2..600usize,
        ) {
            let thin = simplify(&stroke, tolerance, max);
            prop_assert!(thin.len() <= stroke.len());
            prop_assert!(thin.len() <= max || stroke.len() <= 2);
            prop_assert_eq!(thin.first(), stroke.first());
            prop_assert_eq!(thin.last(), stroke.last());
            // A subsequence of the stroke.
            let mut rest = stroke.iter();
            for p in &thin {
                prop_assert!(rest.any(|q| q == p), "{p:?} is a point of the stroke, in order");
            }
        }

        /// Every point of a drawing lies inside its bounds, the stroke's
        /// half width in from the edges: the fog is asked about all of it.
        #[test]
        fn a_drawings_bounds_hold_every_point_and_the_stroke_around_it(
            stroke in points().prop_filter("a stroke", |p| p.len() >= 2),
            width in 1..=MAX_STROKE_WIDTH,
        ) {
            let shape = drawing(Stroke::Freehand { points: stroke.clone() });
            let shape = Drawing { width, ..shape };
            let bounds = shape.bounds();
            let half = f64::from(width) / 2.0;
            for p in &stroke {
                prop_assert!(bounds.min.x <= p.x - half && p.x + half <= bounds.max.x);
                prop_assert!(bounds.min.y <= p.y - half && p.y + half <= bounds.max.y);
                prop_assert_eq!(shape.distance_to(*p), 0.0);
            }
        }
    }
}
