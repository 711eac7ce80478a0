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

use super::{EyeView, View, polygon::Polygon, seeing::distance_squared};

/// The cells of `map` seen in `view`. The work stops soon after more
/// than [`limits::MAX_EXPLORED_CELLS`] are found (a far token stretches
/// the view over millions of cells): so many are refused anyway.
pub fn explored(view: &View, map: &MapSettings) -> BTreeSet<Cell> {
    if map.grid.is_hex() {
        by_cells(view, map)
    } else {
        by_rows(view, map)
    }
}

/// A light as explored asks it: its polygon, middle and reach.
type Lit<'a> = (Scan<'a>, Point, f64);

fn lights(view: &View) -> Vec<Lit<'_>> {
    if view.daylight {
        return Vec::new();
    }
    view.lights
        .iter()
        .map(|light| (Scan::new(&light.polygon), light.at, light.dim))
        .collect()
}

/// Where an eye's cells can be: its polygon's box, within its range and,
/// in the dark, near its darkvision or a light. `None` when nowhere.
fn area(eye: &EyeView, daylight: bool, lights: &[Lit<'_>]) -> Option<Rect> {
    let mut area = bounds_of(&eye.polygon)?;
    if let Some(range) = eye.range {
        area = meet(area, around(eye.at, range));
    }
    if !daylight {
        let dark = around(eye.at, eye.darkvision);
        let lit = lights
            .iter()
            .map(|(_, at, dim)| around(*at, *dim))
            .fold(dark, join);
        area = meet(area, lit);
    }
    (area.min.x <= area.max.x && area.min.y <= area.max.y).then_some(area)
}

/// Whether `p`, inside the eye's polygon, is within its range and lit.
fn sees(eye: &EyeView, p: Point, daylight: bool, lights: &mut [Lit<'_>]) -> bool {
    let near = |at: Point, r: f64| distance_squared(at, p) <= r * r;
    eye.range.is_none_or(|r| near(eye.at, r))
        && (daylight
            || near(eye.at, eye.darkvision)
            || lights
                .iter_mut()
                .any(|(scan, at, dim)| near(*at, *dim) && scan.holds(p)))
}

/// Any grid, cell by cell: each cell of each eye's area whose centre it
/// sees.
fn by_cells(view: &View, map: &MapSettings) -> BTreeSet<Cell> {
    let mut lights = lights(view);
    let mut seen = BTreeSet::new();
    for eye in &view.eyes {
        let Some(area) = area(eye, view.daylight, &lights) else {
            continue;
        };
        let mut sight = Scan::new(&eye.polygon);
        for cell in map.span(&area).cells() {
            if seen.contains(&cell) {
                continue;
            }
            let p = map.center_of(cell);
            if sight.holds(p) && sees(eye, p, view.daylight, &mut lights) {
                seen.insert(cell);
                if seen.len() > limits::MAX_EXPLORED_CELLS {
                    return seen;
                }
            }
        }
    }
    seen
}

/// A square grid, row by row: a row of centres is crossed with each
/// polygon once, and only the cells inside are looked at; an eye that
/// sees all its polygon (daylight, no range) takes each span whole. The
/// eyes' runs of a row are joined before any cell is made, so a cell seen
/// by ten eyes costs one.
fn by_rows(view: &View, map: &MapSettings) -> BTreeSet<Cell> {
    let mut lights = lights(view);
    let eyes: Vec<(&EyeView, Rect)> = view
        .eyes
        .iter()
        .filter_map(|eye| Some((eye, area(eye, view.daylight, &lights)?)))
        .collect();
    let Some(all) = eyes.iter().map(|(_, area)| *area).reduce(join) else {
        return BTreeSet::new();
    };
    let mut crossings: Vec<Crossings> = eyes
        .iter()
        .map(|(eye, _)| Crossings::new(&eye.polygon))
        .collect();
    let mut inside = Vec::new();
    let (g, o) = (map.grid_size, map.offset);
    let rows = map.span(&all);
    // The columns whose centre is in [from, to).
    let column = |x: f64| ((x - o.x) / g - 0.5).ceil().clamp(-2e9, 2e9) as i32;
    let mut cells = Vec::new();
    let mut runs: Vec<(i32, i32)> = Vec::new();
    for row in rows.first.1..=rows.last.1 {
        let y = o.y + (f64::from(row) + 0.5) * g;
        runs.clear();
        for ((eye, area), crossings) in eyes.iter().zip(&mut crossings) {
            if y < area.min.y || y > area.max.y {
                continue;
            }
            let whole = view.daylight && eye.range.is_none();
            crossings.spans(y, &mut inside);
            for &(from, to) in &inside {
                let (first, end) = (column(from.max(area.min.x)), column(to.min(area.max.x)));
                if whole {
                    runs.push((first, end));
                    continue;
                }
                let mut start = None;
                for c in first..end {
                    let p = Point::new(o.x + (f64::from(c) + 0.5) * g, y);
                    match (sees(eye, p, view.daylight, &mut lights), start) {
                        (true, None) => start = Some(c),
                        (false, Some(s)) => {
                            runs.push((s, c));
                            start = None;
                        }
                        _ => {}
                    }
                }
                if let Some(s) = start {
                    runs.push((s, end));
                }
            }
        }
        runs.sort_unstable();
        let mut reached = i32::MIN;
        for &(first, end) in &runs {
            for c in first.max(reached)..end {
                cells.push(Cell(c, row));
            }
            reached = reached.max(end);
        }
        if cells.len() > limits::MAX_EXPLORED_CELLS {
            break;
        }
    }
    cells.into_iter().collect()
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

/// A polygon's edges in the order a line sweeping down meets them: the
/// spans of each line cost the edges it crosses, not all of them.
struct Crossings {
    /// Each edge not level, by its top: top, bottom, and its ends as the
    /// polygon orders them.
    edges: Vec<(f64, f64, Point, Point)>,
    /// The first edge not met yet.
    next: usize,
    /// The edges the last line crossed.
    active: Vec<usize>,
}

impl Crossings {
    fn new(polygon: &Polygon) -> Self {
        let v = &polygon.vertices;
        let mut edges: Vec<_> = (0..v.len())
            .map(|i| (v[i], v[(i + v.len() - 1) % v.len()]))
            .filter(|(a, b)| a.y != b.y)
            .map(|(a, b)| (a.y.min(b.y), a.y.max(b.y), a, b))
            .collect();
        edges.sort_by(|x, y| x.0.total_cmp(&y.0));
        Self {
            edges,
            next: 0,
            active: Vec::new(),
        }
    }

    /// Where the line at `y` runs inside, as [`spans`] says, into `out`;
    /// `y` must not go up from one call to the next.
    fn spans(&mut self, y: f64, out: &mut Vec<(f64, f64)>) {
        while self.next < self.edges.len() && self.edges[self.next].0 <= y {
            self.active.push(self.next);
            self.next += 1;
        }
        let edges = &self.edges;
        self.active.retain(|e| edges[*e].1 > y);
        let mut xs: Vec<f64> = self
            .active
            .iter()
            .map(|e| {
                let (_, _, a, b) = edges[*e];
                a.x + (y - a.y) / (b.y - a.y) * (b.x - a.x)
            })
            .collect();
        xs.sort_by(f64::total_cmp);
        out.clear();
        out.extend(xs.chunks_exact(2).map(|pair| (pair[0], pair[1])));
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

    /// Row by row finds exactly the cells that testing each cell finds,
    /// in random rooms, lit and dark, with ranges, darkvision and lights,
    /// on grids off the origin.
    #[test]
    fn rows_agree_with_testing_each_cell() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let mut found = 0;
        for n in 0..150 {
            let mut point = || Point::new(next(1_000) as f64 + 0.3, next(1_000) as f64 - 0.7);
            let walls: Vec<Segment> = (0..n % 25)
                .map(|_| Segment::new(point(), point()))
                .filter(|w| w.a != w.b)
                .collect();
            let eyes = (0..1 + n % 4)
                .map(|_| {
                    let at = point();
                    EyeView {
                        at,
                        polygon: visibility(at, &walls, room()),
                        range: (n % 3 == 0).then_some(150.0 + (n * 7 % 300) as f64),
                        darkvision: (n * 13 % 200) as f64,
                    }
                })
                .collect();
            let lights = (0..n % 3)
                .map(|_| {
                    let at = point();
                    LightView {
                        at,
                        polygon: visibility(at, &walls, room()),
                        bright: 50.0,
                        dim: 120.0 + (n * 11 % 200) as f64,
                    }
                })
                .collect();
            let view = View {
                eyes,
                lights,
                daylight: n % 2 == 0,
                bounds: room(),
            };
            let map = MapSettings {
                grid_size: 20.0 + (n % 5) as f64 * 10.0,
                offset: Point::new((n % 7) as f64 * 3.5, -((n % 4) as f64) * 6.0),
                ..map()
            };
            let rows = by_rows(&view, &map);
            assert_eq!(rows, by_cells(&view, &map), "room {n}");
            found += rows.len();
        }
        assert!(found > 10_000, "{found}");
    }

    /// A far token stretches the view over 400 million cells: the work
    /// stops soon after the limit, on either grid.
    #[test]
    fn the_work_stops_past_the_limit() {
        let huge = Rect {
            min: Point::new(0.0, 0.0),
            max: Point::new(1_000_000.0, 1_000_000.0),
        };
        let at = Point::new(500.0, 500.0);
        let view = View {
            eyes: vec![EyeView {
                at,
                polygon: visibility(at, &[], huge),
                range: None,
                darkvision: 0.0,
            }],
            lights: Vec::new(),
            daylight: true,
            bounds: huge,
        };
        let max = limits::MAX_EXPLORED_CELLS;
        let square = explored(&view, &map()).len();
        assert!(square > max && square <= max + 20_001, "{square}");
        let hex = MapSettings {
            grid: crate::grid::Grid::HexRows,
            ..map()
        };
        assert_eq!(explored(&view, &hex).len(), max + 1);
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
