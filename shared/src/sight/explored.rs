//! The explored area: the cells of a map a player has seen at some time,
//! shown dimmed (the map, never its tokens) once out of sight.
//!
//! A cell is explored when its centre is seen in the player's [`View`]:
//! inside a token's walls polygon, within its range, and lit (daylight,
//! the token's darkvision, or a light whose own polygon and radius reach
//! it). Cells are the map's own grid, square or hex, as the fog's are.
//!
//! Polygons of a few hundred walls have a thousand vertices and a token's
//! polygon covers thousands of cells, so a cell is not tested against the
//! polygon edge by edge: each line of cell centres is crossed with the
//! polygon once ([`Scan`]) and a centre is looked up among the spans it
//! cut.

use std::collections::{BTreeSet, HashMap};

use crate::{
    Result,
    encounter::MapSettings,
    geometry::{Cell, Point, Rect},
    limits,
};

use super::{View, polygon::Polygon};

/// The cells of `map` seen in `view`.
pub fn explored(view: &View, map: &MapSettings) -> BTreeSet<Cell> {
    let mut lights: Vec<(Scan<'_>, Point, f64)> = if view.daylight {
        Vec::new()
    } else {
        view.lights
            .iter()
            .map(|light| (Scan::new(&light.polygon), light.at, light.dim))
            .collect()
    };
    let mut seen = BTreeSet::new();
    for eye in &view.eyes {
        let Some(mut area) = bounds_of(&eye.polygon) else {
            continue;
        };
        if let Some(range) = eye.range {
            area = meet(area, around(eye.at, range));
        }
        if !view.daylight {
            // In the dark nothing is seen beyond the darkvision and the
            // lights: the cells looked at are those near either.
            let dark = around(eye.at, eye.darkvision);
            let lit = lights
                .iter()
                .map(|(_, at, dim)| around(*at, *dim))
                .fold(dark, join);
            area = meet(area, lit);
        }
        if area.min.x > area.max.x || area.min.y > area.max.y {
            continue;
        }
        let mut sight = Scan::new(&eye.polygon);
        for cell in map.span(&area).cells() {
            if seen.contains(&cell) {
                continue;
            }
            let p = map.center_of(cell);
            let near = |at: Point, r: f64| distance_squared(at, p) <= r * r;
            let in_range = eye.range.is_none_or(|r| near(eye.at, r));
            if !in_range || !sight.holds(p) {
                continue;
            }
            let lit = view.daylight
                || near(eye.at, eye.darkvision)
                || lights
                    .iter_mut()
                    .any(|(scan, at, dim)| near(*at, *dim) && scan.holds(p));
            if lit {
                seen.insert(cell);
            }
        }
    }
    seen
}

/// Refuses an explored area over the limits: too many cells, or a cell
/// no map reaches.
pub fn check_explored(cells: &BTreeSet<Cell>) -> Result<()> {
    limits::count(
        "explored cells on one map",
        cells.len(),
        limits::MAX_EXPLORED_CELLS,
    )?;
    let far = f64::from(limits::MAX_FOG_CELL);
    for cell in cells {
        limits::between("an explored cell's column", f64::from(cell.0), -far, far)?;
        limits::between("an explored cell's row", f64::from(cell.1), -far, far)?;
    }
    Ok(())
}

/// A polygon crossed by horizontal lines, each line once: where a line
/// runs inside it, as spans of x.
struct Scan<'a> {
    polygon: &'a Polygon,
    /// The spans inside, by the line's y (its bits).
    lines: HashMap<u64, Vec<(f64, f64)>>,
}

impl<'a> Scan<'a> {
    fn new(polygon: &'a Polygon) -> Self {
        Self {
            polygon,
            lines: HashMap::new(),
        }
    }

    /// Whether `p` is inside (even-odd, as [`Polygon::contains`]).
    fn holds(&mut self, p: Point) -> bool {
        let polygon = self.polygon;
        self.lines
            .entry(p.y.to_bits())
            .or_insert_with(|| spans(polygon, p.y))
            .iter()
            .any(|(from, to)| *from <= p.x && p.x < *to)
    }
}

/// Where the line at `y` runs inside `polygon`: its crossings with the
/// edges, sorted and paired.
fn spans(polygon: &Polygon, y: f64) -> Vec<(f64, f64)> {
    let v = &polygon.vertices;
    let mut xs: Vec<f64> = Vec::new();
    let mut j = v.len().wrapping_sub(1);
    for i in 0..v.len() {
        let (a, b) = (v[i], v[j]);
        if (a.y > y) != (b.y > y) {
            xs.push(a.x + (y - a.y) / (b.y - a.y) * (b.x - a.x));
        }
        j = i;
    }
    xs.sort_by(f64::total_cmp);
    xs.chunks_exact(2).map(|pair| (pair[0], pair[1])).collect()
}

fn bounds_of(polygon: &Polygon) -> Option<Rect> {
    let first = *polygon.vertices.first()?;
    Some(polygon.vertices.iter().fold(
        Rect {
            min: first,
            max: first,
        },
        |r, p| Rect {
            min: Point::new(r.min.x.min(p.x), r.min.y.min(p.y)),
            max: Point::new(r.max.x.max(p.x), r.max.y.max(p.y)),
        },
    ))
}

fn around(at: Point, r: f64) -> Rect {
    Rect {
        min: Point::new(at.x - r, at.y - r),
        max: Point::new(at.x + r, at.y + r),
    }
}

fn meet(a: Rect, b: Rect) -> Rect {
    Rect {
        min: Point::new(a.min.x.max(b.min.x), a.min.y.max(b.min.y)),
        max: Point::new(a.max.x.min(b.max.x), a.max.y.min(b.max.y)),
    }
}

fn join(a: Rect, b: Rect) -> Rect {
    Rect {
        min: Point::new(a.min.x.min(b.min.x), a.min.y.min(b.min.y)),
        max: Point::new(a.max.x.max(b.max.x), a.max.y.max(b.max.y)),
    }
}

fn distance_squared(a: Point, b: Point) -> f64 {
    (a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        sight::polygon::Segment,
        sight::{EyeView, LightView, polygon::visibility},
    };

    fn map() -> MapSettings {
        MapSettings {
            grid_size: 50.0,
            vision: true,
            ..MapSettings::default()
        }
    }

    fn room() -> Rect {
        Rect {
            min: Point::new(0.0, 0.0),
            max: Point::new(1_000.0, 1_000.0),
        }
    }

    /// The scan answers as the polygon's own test does, at every centre.
    #[test]
    fn the_scan_agrees_with_the_polygon() {
        let walls = [
            Segment::new(Point::new(300.0, 100.0), Point::new(300.0, 700.0)),
            Segment::new(Point::new(100.0, 800.0), Point::new(600.0, 820.0)),
            Segment::new(Point::new(610.0, 90.0), Point::new(900.0, 400.0)),
        ];
        let polygon = visibility(Point::new(520.0, 430.0), &walls, room());
        let mut scan = Scan::new(&polygon);
        for row in 0..40 {
            for column in 0..40 {
                let p = Point::new(column as f64 * 25.0 + 12.5, row as f64 * 25.0 + 12.5);
                assert_eq!(scan.holds(p), polygon.contains(p), "{p:?}");
            }
        }
    }

    /// Behind a wall is not explored; in the dark only what the darkvision
    /// or a light reaches is.
    #[test]
    fn a_wall_and_the_dark_keep_cells_unexplored() {
        let map = map();
        // A wall from top to bottom at x = 500; the eye at (225, 225).
        let walls = [Segment::new(
            Point::new(500.0, -10.0),
            Point::new(500.0, 1_010.0),
        )];
        let at = Point::new(225.0, 225.0);
        let eye = |darkvision: f64| EyeView {
            at,
            polygon: visibility(at, &walls, room()),
            range: None,
            darkvision,
        };
        let lit = View {
            eyes: vec![eye(0.0)],
            lights: Vec::new(),
            daylight: true,
            bounds: room(),
        };
        let cells = explored(&lit, &map);
        assert!(cells.contains(&Cell(0, 0)) && cells.contains(&Cell(9, 19)));
        assert!(!cells.contains(&Cell(10, 4)), "behind the wall");
        assert_eq!(cells.len(), 10 * 20);

        let dark = View {
            daylight: false,
            eyes: vec![eye(60.0)],
            ..lit.clone()
        };
        let cells = explored(&dark, &map);
        // The centres within 60 px of (225, 225): its own cell and the four
        // beside it (the corners' centres are 70.7 px away).
        assert_eq!(
            cells,
            BTreeSet::from([Cell(4, 4), Cell(3, 4), Cell(5, 4), Cell(4, 3), Cell(4, 5)])
        );

        // A lantern on the far side lights its side, which the wall hides;
        // one on this side lights cells the eye then sees.
        let lamp = |x: f64| LightView {
            at: Point::new(x, 725.0),
            polygon: visibility(Point::new(x, 725.0), &walls, room()),
            bright: 100.0,
            dim: 100.0,
        };
        let far = View {
            lights: vec![lamp(725.0)],
            ..dark.clone()
        };
        assert_eq!(explored(&far, &map).len(), 5);
        let near = View {
            lights: vec![lamp(375.0)],
            ..dark
        };
        let cells = explored(&near, &map);
        assert!(cells.contains(&Cell(7, 14)), "{cells:?}");
        assert!(!cells.contains(&Cell(10, 14)), "past the wall");
    }

    #[test]
    fn the_limits_hold() {
        assert!(check_explored(&BTreeSet::from([Cell(3, -4)])).is_ok());
        assert!(check_explored(&BTreeSet::from([Cell(i32::MAX, 0)])).is_err());
        let many: BTreeSet<Cell> = (0..=limits::MAX_EXPLORED_CELLS as i32)
            .map(|i| Cell(i % 1_000, i / 1_000))
            .collect();
        assert!(check_explored(&many).is_err());
    }
}
