//! Light and sight on a map where walls hide: what a player's tokens see
//! by ([`Seeing`]), asked point by point by the server's filter, and the
//! same as shapes for the browser to draw ([`view`]).
//!
//! A place is seen by a token when the straight line from the token's
//! middle to it passes no wall that stops sight, it is within the token's
//! range, and it is lit: the map is in daylight, or the place is within
//! the token's darkvision, or within a light's reach with no wall between
//! it and the light. Distances are measured from a token's middle and
//! include half its side, so "darkvision 60 ft" reaches 60 feet past the
//! edge of the token's square.

use std::sync::{Arc, Mutex, PoisonError};

use super::*;
use crate::wall::crosses;

/// What one player sees by on one map: their tokens' eyes, and the map's
/// walls and lights.
pub(super) struct Seeing {
    pub(super) eyes: Vec<Eye>,
    pub(super) around: Arc<Surroundings>,
}

/// What every player on a map sees by besides their own eyes: the walls
/// that stop sight and the light. Worked out once per map and state, for
/// all its players.
pub(super) struct Surroundings {
    pub(super) walls: WallGrid,
    /// The lights, only when the map is dark.
    pub(super) lamps: Vec<Lamp>,
    pub(super) daylight: bool,
}

/// A token of the player's, as it sees: where from and how far, in map
/// pixels.
#[derive(Debug, Clone, Copy)]
pub(super) struct Eye {
    pub(super) at: Point,
    /// How far it sees in light (infinite: as far as the walls let it).
    pub(super) range: f64,
    /// How far it sees in the dark.
    pub(super) dark: f64,
}

/// A light on the map: where it is and how far it reaches, in map pixels.
#[derive(Debug, Clone, Copy)]
pub(super) struct Lamp {
    pub(super) at: Point,
    pub(super) bright: f64,
    pub(super) reach: f64,
}

/// Feet in map pixels on `map`, with half the token's side added.
fn reach(map: &MapSettings, token: &Token, feet: u32) -> f64 {
    f64::from(feet) / f64::from(map.feet_per_cell.max(1)) * map.grid_size
        + token.scale * map.grid_size / 2.0
}

impl Eye {
    pub(super) fn of(token: &Token, map: &MapSettings) -> Self {
        Self {
            at: token.centre(map.grid_size),
            range: token
                .sight
                .range
                .map_or(f64::INFINITY, |feet| reach(map, token, feet)),
            dark: if token.sight.darkvision == 0 {
                0.0
            } else {
                reach(map, token, token.sight.darkvision)
            },
        }
    }
}

impl Lamp {
    /// The light `token` sheds, if any.
    pub(super) fn of(token: &Token, map: &MapSettings) -> Option<Self> {
        token.sight.light.map(|light| Self {
            at: token.centre(map.grid_size),
            bright: reach(map, token, light.bright),
            reach: reach(map, token, light.dim),
        })
    }
}

pub(super) fn distance_squared(a: Point, b: Point) -> f64 {
    (a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y)
}

impl Seeing {
    /// Whether some of `area` is seen: its middle or a point just inside
    /// one of its corners, from one of the player's tokens.
    pub(super) fn sees_area(&self, area: &Rect) -> bool {
        let (w, h) = (area.max.x - area.min.x, area.max.y - area.min.y);
        let inset = |fx: f64, fy: f64| Point::new(area.min.x + w * fx, area.min.y + h * fy);
        let points = [
            inset(0.5, 0.5),
            inset(0.1, 0.1),
            inset(0.9, 0.1),
            inset(0.1, 0.9),
            inset(0.9, 0.9),
        ];
        // The middle from every eye first: most tokens in sight are found
        // with one line. Whether a point is lit is the same for every eye:
        // asked once, and only when an eye's own sight does not settle it.
        points.iter().any(|p| {
            let mut lit = None;
            self.eyes
                .iter()
                .any(|eye| self.around.eye_sees(eye, *p, &mut lit))
        })
    }
}

impl Surroundings {
    /// Whether `eye` sees `p`; `lit` keeps whether `p` is lit once asked.
    fn eye_sees(&self, eye: &Eye, p: Point, lit: &mut Option<bool>) -> bool {
        let d = distance_squared(eye.at, p);
        if d > eye.range * eye.range {
            return false;
        }
        let light =
            self.daylight || d <= eye.dark * eye.dark || *lit.get_or_insert_with(|| self.lit(p));
        light && self.walls.clear(eye.at, p)
    }

    /// Whether a light reaches `p`.
    fn lit(&self, p: Point) -> bool {
        self.lamps.iter().any(|lamp| {
            distance_squared(lamp.at, p) <= lamp.reach * lamp.reach && self.walls.clear(lamp.at, p)
        })
    }
}

/// What a player sees by on a map, once worked out (`None`: they have no
/// token there).
type Kept = Option<Arc<Seeing>>;

/// What each player sees by on each map, in one state of the table: the
/// filter asks about every token of a map for every player, and builds
/// each player's eyes, walls and lights once. It serves one state: a
/// [`SeenBefore`] holds one for the state before its commit and one for
/// the state after, and serves that one commit.
///
/// It also keeps whether each player's tokens see each token, asked only
/// about the state's own tokens (a dragged token's hypothetical place is
/// asked of a world without a cache): a monster's token is asked about for
/// itself, its actor, its hit points and the effects on it.
#[derive(Default)]
pub(crate) struct SightCache {
    seeing: Mutex<BTreeMap<(UserId, EncounterId), Kept>>,
    around: Mutex<BTreeMap<EncounterId, Arc<Surroundings>>>,
    tokens: Mutex<BTreeMap<(UserId, TokenId), bool>>,
}

impl SightCache {
    /// The walls and light of `encounter`'s map, built by `build` the first
    /// time they are asked for.
    pub(super) fn around(
        &self,
        encounter: EncounterId,
        build: impl FnOnce() -> Arc<Surroundings>,
    ) -> Arc<Surroundings> {
        let mut kept = self.around.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(kept.entry(encounter).or_insert_with(build))
    }

    /// Whether `user`'s tokens see `token`, worked out by `decide` the
    /// first time it is asked.
    pub(super) fn token(
        &self,
        user: UserId,
        token: TokenId,
        decide: impl FnOnce() -> bool,
    ) -> bool {
        let known = self
            .tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&(user, token))
            .copied();
        known.unwrap_or_else(|| {
            // Decided without the lock: deciding asks for the player's
            // eyes, which this cache also keeps.
            let seen = decide();
            self.tokens
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert((user, token), seen);
            seen
        })
    }

    /// What `user` sees by on `encounter`'s map, built by `build` the first
    /// time it is asked.
    pub(super) fn get(
        &self,
        user: UserId,
        encounter: EncounterId,
        build: impl FnOnce() -> Option<Seeing>,
    ) -> Option<Arc<Seeing>> {
        // Poisoned only by a panic while building, which leaves nothing
        // half-written in the map.
        let mut kept = self.seeing.lock().unwrap_or_else(PoisonError::into_inner);
        kept.entry((user, encounter))
            .or_insert_with(|| build().map(Arc::new))
            .clone()
    }
}

/// A cache is not part of the value: two `SeenBefore`s that record the
/// same state are equal, and a copy starts empty.
macro_rules! not_part_of_the_value {
    ($cache:ident) => {
        impl Clone for $cache {
            fn clone(&self) -> Self {
                Self::default()
            }
        }

        impl PartialEq for $cache {
            fn eq(&self, _: &Self) -> bool {
                true
            }
        }

        impl std::fmt::Debug for $cache {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(stringify!($cache))
            }
        }
    };
}

not_part_of_the_value!(SightCache);

/// The walls that stop sight on a map, bucketed in a grid of square
/// cells over their bounding box, so that a line of sight is tested only
/// against the walls in the cells it passes (a few, of a map's hundreds).
/// The buckets are generous by construction: a wall is listed in every
/// cell its box (grown by a hair) touches, and a line visits every cell
/// its box per column (grown the same) touches, so a wall the line meets
/// is always among those tested; the test itself is exact
/// ([`crosses`]). A test compares it with testing every wall.
pub(crate) struct WallGrid {
    segments: Vec<Segment>,
    origin: Point,
    side: f64,
    columns: usize,
    rows: usize,
    /// Where each cell's walls start in `walls`, cell by cell, row by
    /// row, and where the last ends: one allocation for the grid, not one
    /// per cell.
    starts: Vec<u32>,
    /// The indices of the walls in each cell, one cell after the other.
    walls: Vec<u32>,
}

/// Cells across the larger side of the walls' box: a few hundred cells,
/// a handful of walls in each on a map of hundreds. Measured: with 300
/// walls, 8 and 16 filter a move equally fast, 32 a quarter slower and 64
/// twice as slow (a line then visits more cells than it saves tests).
const GRID_CELLS: f64 = 16.0;

impl WallGrid {
    pub(crate) fn new(segments: Vec<Segment>) -> Self {
        let mut min = Point::new(f64::INFINITY, f64::INFINITY);
        let mut max = Point::new(f64::NEG_INFINITY, f64::NEG_INFINITY);
        for s in &segments {
            for p in [s.a, s.b] {
                min = Point::new(min.x.min(p.x), min.y.min(p.y));
                max = Point::new(max.x.max(p.x), max.y.max(p.y));
            }
        }
        let span = (max.x - min.x).max(max.y - min.y);
        if segments.is_empty() || !span.is_finite() {
            return Self {
                segments,
                origin: Point::default(),
                side: 1.0,
                columns: 0,
                rows: 0,
                starts: Vec::new(),
                walls: Vec::new(),
            };
        }
        let side = (span / GRID_CELLS).max(1.0);
        // One cell more each way than the box needs: every end falls
        // strictly inside the grid.
        let columns = ((max.x - min.x) / side) as usize + 2;
        let rows = ((max.y - min.y) / side) as usize + 2;
        let mut grid = Self {
            segments,
            origin: min,
            side,
            columns,
            rows,
            starts: vec![0; columns * rows + 1],
            walls: Vec::new(),
        };
        // Counted, then placed: `starts[cell + 1]` first counts the cell's
        // walls, then becomes where the next cell's begin.
        let cells_of = |grid: &Self, s: &Segment| {
            let (c0, c1) = grid.span_x(s.a.x.min(s.b.x), s.a.x.max(s.b.x));
            let (r0, r1) = grid.span_y(s.a.y.min(s.b.y), s.a.y.max(s.b.y));
            (r0..=r1).flat_map(move |r| (c0..=c1).map(move |c| r * columns + c))
        };
        for s in &grid.segments {
            for cell in cells_of(&grid, s) {
                grid.starts[cell + 1] += 1;
            }
        }
        for cell in 0..columns * rows {
            grid.starts[cell + 1] += grid.starts[cell];
        }
        let mut next: Vec<u32> = grid.starts[..columns * rows].to_vec();
        grid.walls = vec![0; grid.starts[columns * rows] as usize];
        for (index, s) in grid.segments.iter().enumerate() {
            for cell in cells_of(&grid, s) {
                grid.walls[next[cell] as usize] = index as u32;
                next[cell] += 1;
            }
        }
        grid
    }

    /// The indices of the walls in a cell.
    fn in_cell(&self, cell: usize) -> &[u32] {
        &self.walls[self.starts[cell] as usize..self.starts[cell + 1] as usize]
    }

    /// The walls, for the visibility polygon.
    pub(crate) fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The columns from `lo` to `hi` (map x) touches, grown by a hair and
    /// clamped to the grid.
    fn span_x(&self, lo: f64, hi: f64) -> (usize, usize) {
        self.span(lo - self.origin.x, hi - self.origin.x, self.columns)
    }

    fn span_y(&self, lo: f64, hi: f64) -> (usize, usize) {
        self.span(lo - self.origin.y, hi - self.origin.y, self.rows)
    }

    fn span(&self, lo: f64, hi: f64, count: usize) -> (usize, usize) {
        let hair = self.side * 1e-6;
        let at = |v: f64| ((v / self.side).floor().max(0.0) as usize).min(count - 1);
        (at(lo - hair), at(hi + hair))
    }

    /// Whether the line from `a` to `b` meets no wall.
    pub(crate) fn clear(&self, a: Point, b: Point) -> bool {
        if self.walls.is_empty() {
            return true;
        }
        let (lo_x, hi_x) = (a.x.min(b.x), a.x.max(b.x));
        let (lo_y, hi_y) = (a.y.min(b.y), a.y.max(b.y));
        // Wholly outside the walls' box (with its spare cell): nothing to meet.
        let end_x = self.origin.x + self.side * self.columns as f64;
        let end_y = self.origin.y + self.side * self.rows as f64;
        if hi_x < self.origin.x || lo_x > end_x || hi_y < self.origin.y || lo_y > end_y {
            return true;
        }
        let (c0, c1) = self.span_x(lo_x, hi_x);
        let dx = b.x - a.x;
        let hits = |index: &u32| {
            let wall = &self.segments[*index as usize];
            crosses(a, b, wall)
        };
        for c in c0..=c1 {
            // The part of the line over this column: its y range, from
            // where it enters the column to where it leaves.
            let (y0, y1) = if dx == 0.0 {
                (lo_y, hi_y)
            } else {
                let left = (self.origin.x + self.side * c as f64).max(lo_x);
                let right = (self.origin.x + self.side * (c + 1) as f64).min(hi_x);
                let y_at = |x: f64| a.y + (x - a.x) / dx * (b.y - a.y);
                let (p, q) = (y_at(left), y_at(right));
                (p.min(q).max(lo_y), p.max(q).min(hi_y))
            };
            let (r0, r1) = self.span_y(y0.min(y1), y0.max(y1));
            for r in r0..=r1 {
                if self.in_cell(r * self.columns + c).iter().any(hits) {
                    return false;
                }
            }
        }
        true
    }
}

/// What a player sees of a map where walls hide, as shapes: the browser
/// darkens everything outside it (the filter has already left out what
/// is there).
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    /// Each of the player's tokens, as it sees.
    pub eyes: Vec<EyeView>,
    /// Each light, when the map is dark.
    pub lights: Vec<LightView>,
    /// Whether the map is lit everywhere.
    pub daylight: bool,
    /// Where sight stops when no wall stops it: around everything on the
    /// map, with room to spare.
    pub bounds: Rect,
}

/// One token's sight: what its walls let it see, and how far in light and
/// in the dark (map pixels from `at`).
#[derive(Debug, Clone, PartialEq)]
pub struct EyeView {
    /// The token's middle.
    pub at: Point,
    /// What the walls let it see.
    pub polygon: polygon::Polygon,
    /// How far it sees in light, if not as far as the walls let it.
    pub range: Option<f64>,
    /// How far it sees in the dark.
    pub darkvision: f64,
}

/// One light: what its walls let it reach, bright and dim radii (map
/// pixels from `at`).
#[derive(Debug, Clone, PartialEq)]
pub struct LightView {
    /// The light's middle.
    pub at: Point,
    /// What the walls let it reach.
    pub polygon: polygon::Polygon,
    /// Radius of the bright light.
    pub bright: f64,
    /// Radius of all the light.
    pub dim: f64,
}

/// What `user` sees of an encounter's map where walls hide; `None` where
/// walls do not hide (or there is no such map). With no token of theirs
/// there, the view has no eyes: the map is dark.
pub fn view(store: &Store, user: UserId, encounter: EncounterId) -> Option<View> {
    let world = World::after(store);
    let (map, _) = world.grid_and_fog(encounter)?;
    if !map.vision {
        return None;
    }
    let bounds = extent(world, encounter, map);
    let Some(seeing) = world.seeing(user, encounter) else {
        return Some(View {
            eyes: Vec::new(),
            lights: Vec::new(),
            daylight: map.daylight,
            bounds,
        });
    };
    let sight = |at: Point| polygon::visibility(at, seeing.around.walls.segments(), bounds);
    let finite = |r: f64| r.is_finite().then_some(r);
    Some(View {
        eyes: seeing
            .eyes
            .iter()
            .map(|eye| EyeView {
                at: eye.at,
                polygon: sight(eye.at),
                range: finite(eye.range),
                darkvision: eye.dark,
            })
            .collect(),
        lights: seeing
            .around
            .lamps
            .iter()
            .map(|lamp| LightView {
                at: lamp.at,
                polygon: sight(lamp.at),
                bright: lamp.bright,
                dim: lamp.reach,
            })
            .collect(),
        daylight: seeing.around.daylight,
        bounds,
    })
}

/// A rectangle around everything on the map (its tokens, walls and
/// drawings) with forty cells to spare: sight stops at its edge where no
/// wall stops it, and nothing a player could see lies beyond it.
fn extent(world: World<'_>, encounter: EncounterId, map: &MapSettings) -> Rect {
    let tokens = world.tokens_in(encounter).flat_map(|t| {
        let b = t.bounds(map.grid_size);
        [b.min, b.max]
    });
    let walls = world.walls_in(encounter).flat_map(|w| [w.from, w.to]);
    let drawings = world.store.drawings_in(encounter).flat_map(|d| {
        let b = d.bounds();
        [b.min, b.max]
    });
    let (min, max) =
        tokens
            .chain(walls)
            .chain(drawings)
            .fold((map.offset, map.offset), |(min, max), p| {
                (
                    Point::new(min.x.min(p.x), min.y.min(p.y)),
                    Point::new(max.x.max(p.x), max.y.max(p.y)),
                )
            });
    let spare = 40.0 * map.grid_size;
    Rect {
        min: Point::new(min.x - spare, min.y - spare),
        max: Point::new(max.x + spare, max.y + spare),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The grid finds exactly the walls testing every wall finds, on
    /// random rooms whose walls lie on a 50 px grid (as the wall tool
    /// snaps them) or anywhere, for lines between grid corners (along a
    /// wall, through the point where two meet) and between any points.
    #[test]
    fn the_wall_grid_agrees_with_testing_every_wall() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut point = |snapped: bool| {
            let (x, y) = (next() % 2_000, next() % 2_000);
            if snapped {
                Point::new((x / 50 * 50) as f64, (y / 50 * 50) as f64)
            } else {
                Point::new(x as f64 + 0.37, y as f64 - 0.61)
            }
        };
        let mut compared = 0;
        let mut blocked = 0;
        for room in 0..200 {
            let snapped = room % 2 == 0;
            let walls: Vec<Segment> = (0..(room % 40 + 1))
                .map(|_| {
                    let a = point(snapped);
                    let mut b = point(snapped);
                    // Mostly short walls along the grid, as maps have.
                    if snapped && room % 4 == 0 {
                        b = if (b.x as u64).is_multiple_of(100) {
                            Point::new(a.x, a.y + 100.0)
                        } else {
                            Point::new(a.x + 150.0, a.y)
                        };
                    }
                    Segment::new(a, b)
                })
                .filter(|s| s.a != s.b)
                .collect();
            let grid = WallGrid::new(walls.clone());
            for _ in 0..200 {
                let (a, b) = (point(snapped), point(room % 3 == 0));
                let every = !walls.iter().any(|w| crosses(a, b, w));
                assert_eq!(
                    grid.clear(a, b),
                    every,
                    "room {room}: {a:?} to {b:?} among {walls:?}"
                );
                compared += 1;
                blocked += usize::from(!every);
            }
        }
        assert!(
            blocked > compared / 10 && blocked < compared * 9 / 10,
            "{blocked} of {compared}"
        );
    }
}
