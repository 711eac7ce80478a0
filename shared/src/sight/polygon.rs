//! What one eye sees among walls: the visibility polygon of a point inside
//! a rectangle crossed by segments that block sight (the first step of
//! walls and line of sight, issue 17).
//!
//! Rays are cast at every segment end and every crossing of two segments,
//! and just either side of each; each ray stops at the nearest segment it
//! meets; the hits, in the order of their directions, are the polygon. The same inputs give the same polygon in
//! the browser and on the server, bit for bit: only `+ - * /` are used (the
//! directions are ordered by a pseudo-angle, not `atan2`, and the rays
//! either side of an end are turned by a fixed rotation, not `sin`/`cos`),
//! and IEEE 754 rounds those identically on every platform.

use crate::geometry::{Point, Rect};

/// A segment that blocks sight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    /// One end.
    pub a: Point,
    /// The other end.
    pub b: Point,
}

impl Segment {
    /// The segment from `a` to `b`.
    pub const fn new(a: Point, b: Point) -> Self {
        Self { a, b }
    }
}

/// A polygon, its vertices in order around it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Polygon {
    /// The vertices, in the order of their direction from the eye.
    pub vertices: Vec<Point>,
}

impl Polygon {
    /// Whether `p` is inside (even-odd rule; a point exactly on an edge may
    /// go either way).
    pub fn contains(&self, p: Point) -> bool {
        let v = &self.vertices;
        let mut inside = false;
        let mut j = v.len().wrapping_sub(1);
        for i in 0..v.len() {
            let (a, b) = (v[i], v[j]);
            if (a.y > p.y) != (b.y > p.y) && p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x {
                inside = !inside;
            }
            j = i;
        }
        inside
    }
}

/// The rays either side of a segment end are turned by this much: cos and
/// sin of 1e-4 radians, written out so that no platform's `sin` is asked.
const TURN_COS: f64 = 0.999_999_995;
const TURN_SIN: f64 = 0.000_099_999_999_833_333_34;

/// A ray's hit closer than this to the eye is the eye's own wall: ignored.
const NEAR: f64 = 1e-9;

/// What `eye` sees inside `bounds`, which bound sight where no wall does.
/// Segments (or parts of them) outside `bounds` are ignored; an eye outside
/// `bounds`, or on its edge, sees nothing (on the edge, the edge itself is
/// too near to stop a ray going out: the fuzz target found one that met a
/// wall beyond it).
pub fn visibility(eye: Point, walls: &[Segment], bounds: Rect) -> Polygon {
    let inside = |p: Point| {
        p.x > bounds.min.x && p.x < bounds.max.x && p.y > bounds.min.y && p.y < bounds.max.y
    };
    if !eye.is_finite() || !inside(eye) {
        return Polygon::default();
    }
    let corners = [
        bounds.min,
        Point::new(bounds.max.x, bounds.min.y),
        bounds.max,
        Point::new(bounds.min.x, bounds.max.y),
    ];
    let mut blockers: Vec<Segment> = walls
        .iter()
        .copied()
        .filter(|s| s.a.is_finite() && s.b.is_finite() && s.a != s.b)
        .collect();
    blockers.extend((0..4).map(|i| Segment::new(corners[i], corners[(i + 1) % 4])));

    // The polygon's corners are where segments end and where they cross
    // (a wall running out of the map crosses its edge; two walls may
    // cross): a ray is cast at each, and just either side.
    let mut corners: Vec<Point> = blockers.iter().flat_map(|s| [s.a, s.b]).collect();
    for (i, s) in blockers.iter().enumerate() {
        corners.extend(blockers[i + 1..].iter().filter_map(|t| crossing(s, t)));
    }
    let mut rays: Vec<Point> = Vec::with_capacity(corners.len() * 3);
    for end in corners {
        let d = Point::new(end.x - eye.x, end.y - eye.y);
        if d.x == 0.0 && d.y == 0.0 {
            continue;
        }
        rays.push(d);
        rays.push(turn(d, TURN_SIN));
        rays.push(turn(d, -TURN_SIN));
    }
    let mut hits: Vec<(f64, Point)> = rays
        .into_iter()
        .filter_map(|d| nearest_hit(eye, d, &blockers).map(|p| (pseudo_angle(d), p)))
        .collect();
    hits.sort_by(|a, b| {
        a.0.total_cmp(&b.0)
            .then(a.1.x.total_cmp(&b.1.x))
            .then(a.1.y.total_cmp(&b.1.y))
    });
    hits.dedup_by(|a, b| a.1 == b.1);
    Polygon {
        vertices: hits.into_iter().map(|(_, p)| p).collect(),
    }
}

/// Where two segments cross, if they do.
fn crossing(s: &Segment, t: &Segment) -> Option<Point> {
    let d = Point::new(s.b.x - s.a.x, s.b.y - s.a.y);
    let e = Point::new(t.b.x - t.a.x, t.b.y - t.a.y);
    let denominator = cross(d, e);
    if denominator == 0.0 {
        return None;
    }
    let to_t = Point::new(t.a.x - s.a.x, t.a.y - s.a.y);
    let u = cross(to_t, e) / denominator;
    let v = cross(to_t, d) / denominator;
    ((0.0..=1.0).contains(&u) && (0.0..=1.0).contains(&v))
        .then(|| Point::new(s.a.x + d.x * u, s.a.y + d.y * u))
}

fn turn(d: Point, sin: f64) -> Point {
    Point::new(d.x * TURN_COS - d.y * sin, d.x * sin + d.y * TURN_COS)
}

fn cross(a: Point, b: Point) -> f64 {
    a.x * b.y - a.y * b.x
}

/// Where the ray from `eye` along `d` first meets a segment.
fn nearest_hit(eye: Point, d: Point, blockers: &[Segment]) -> Option<Point> {
    let mut best: Option<f64> = None;
    for s in blockers {
        let e = Point::new(s.b.x - s.a.x, s.b.y - s.a.y);
        let denominator = cross(d, e);
        if denominator == 0.0 {
            continue;
        }
        let to_a = Point::new(s.a.x - eye.x, s.a.y - eye.y);
        let t = cross(to_a, e) / denominator;
        let u = cross(to_a, d) / denominator;
        if t > NEAR && (0.0..=1.0).contains(&u) && best.is_none_or(|b| t < b) {
            best = Some(t);
        }
    }
    best.map(|t| Point::new(eye.x + d.x * t, eye.y + d.y * t))
}

/// A number that orders directions as their angle does, from 0 to 4
/// (counter-clockwise in y-up terms), with only exact IEEE operations.
fn pseudo_angle(d: Point) -> f64 {
    let p = d.x / (d.x.abs() + d.y.abs());
    if d.y < 0.0 { 3.0 + p } else { 1.0 - p }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room() -> Rect {
        Rect::from_origin(Point::new(0.0, 0.0), 1000.0, 800.0)
    }

    fn wall(ax: f64, ay: f64, bx: f64, by: f64) -> Segment {
        Segment::new(Point::new(ax, ay), Point::new(bx, by))
    }

    /// Whether the open segment from `eye` to `p` crosses no wall: line of
    /// sight, by brute force.
    fn clear(eye: Point, p: Point, walls: &[Segment]) -> bool {
        let d = Point::new(p.x - eye.x, p.y - eye.y);
        walls.iter().all(|s| {
            let e = Point::new(s.b.x - s.a.x, s.b.y - s.a.y);
            let denominator = cross(d, e);
            if denominator == 0.0 {
                return true;
            }
            let to_a = Point::new(s.a.x - eye.x, s.a.y - eye.y);
            let t = cross(to_a, e) / denominator;
            let u = cross(to_a, d) / denominator;
            !((0.0..1.0).contains(&t) && (0.0..=1.0).contains(&u))
        })
    }

    #[test]
    fn without_walls_the_whole_room_is_seen() {
        let seen = visibility(Point::new(300.0, 300.0), &[], room());
        for p in [
            (1.0, 1.0),
            (999.0, 1.0),
            (999.0, 799.0),
            (1.0, 799.0),
            (500.0, 400.0),
        ] {
            assert!(seen.contains(Point::new(p.0, p.1)), "{p:?}");
        }
        assert!(!seen.contains(Point::new(1001.0, 400.0)));
    }

    #[test]
    fn a_wall_casts_a_shadow_and_nothing_else() {
        let walls = [wall(400.0, 200.0, 400.0, 600.0)];
        let seen = visibility(Point::new(200.0, 400.0), &walls, room());
        // Behind the wall, in line with the eye: hidden.
        assert!(!seen.contains(Point::new(600.0, 400.0)));
        assert!(!seen.contains(Point::new(900.0, 500.0)));
        // Past the wall's end (steeper than the shadow's edge): seen;
        // before it: seen.
        assert!(seen.contains(Point::new(450.0, 50.0)));
        assert!(seen.contains(Point::new(350.0, 400.0)));
    }

    #[test]
    fn an_eye_outside_the_map_sees_nothing() {
        assert!(
            visibility(Point::new(-5.0, 10.0), &[], room())
                .vertices
                .is_empty()
        );
        assert!(
            visibility(Point::new(f64::NAN, 10.0), &[], room())
                .vertices
                .is_empty()
        );
    }

    #[test]
    fn the_polygon_agrees_with_line_of_sight_on_random_rooms() {
        let mut r: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            r
        };
        let (mut checked, mut hidden) = (0, 0);
        for _ in 0..200 {
            // Walls on grid lines of 50 px cells, as the editor snaps them.
            let grid = |n: u64, cells: u64| (n % cells) as f64 * 50.0;
            let walls: Vec<Segment> = (0..1 + next() % 30)
                .map(|_| {
                    let (x, y) = (grid(next(), 21), grid(next(), 17));
                    let length = 50.0 * (1 + next() % 5) as f64;
                    if next() % 2 == 0 {
                        wall(x, y, x + length, y)
                    } else {
                        wall(x, y, x, y + length)
                    }
                })
                .collect();
            // Eyes and targets off the grid lines, as token centres are.
            let off = |n: u64, cells: u64| {
                (n % cells) as f64 * 50.0 + 25.0 + (n >> 40) as f64 / 2f64.powi(24) * 10.0
            };
            let eye = Point::new(off(next(), 20), off(next(), 16));
            let seen = visibility(eye, &walls, room());
            let ends: Vec<Point> = walls.iter().flat_map(|s| [s.a, s.b]).collect();
            for _ in 0..50 {
                let p = Point::new(off(next(), 20), off(next(), 16));
                // Within a hair of the direction of a wall's end, the
                // polygon's side rays decide: too close to call.
                let d = Point::new(p.x - eye.x, p.y - eye.y);
                let grazing = ends.iter().any(|end| {
                    let e = Point::new(end.x - eye.x, end.y - eye.y);
                    cross(d, e).abs() / (d.x.hypot(d.y) * e.x.hypot(e.y)) < 1e-3
                });
                if grazing {
                    continue;
                }
                let expected = clear(eye, p, &walls);
                assert_eq!(
                    seen.contains(p),
                    expected,
                    "eye {eye:?}, target {p:?}, walls {walls:?}, polygon {:?}",
                    seen.vertices
                        .iter()
                        .map(|v| (v.x.round(), v.y.round()))
                        .collect::<Vec<_>>()
                );
                checked += 1;
                hidden += usize::from(!expected);
            }
        }
        assert!(
            checked > 5_000 && hidden > 500,
            "{checked} checked, {hidden} hidden"
        );
    }

    #[test]
    fn the_rotation_constants_are_a_rotation() {
        assert!((TURN_COS * TURN_COS + TURN_SIN * TURN_SIN - 1.0).abs() < 1e-15);
    }
}
