//! The map's grid: squares or hexagons, and the arithmetic that turns a
//! point into a cell, a cell into its centre and outline, and two cells into
//! the steps between them. Everything that works in cells (fog of war, the
//! ruler, movement, templates, snapping) goes through here, so a hex map is
//! one setting, not a second code path in each feature.
//!
//! Hexagons keep the [`Cell`] type of squares, as "offset" coordinates
//! (column, row): a revealed cell, a token's cell and a ruler's waypoint mean
//! the same on either grid, and the fog's sorted set of cells works
//! unchanged. A hex grid's size is the distance between the centres of two
//! neighbouring hexagons (the width across flats), so one step is one cell
//! whichever way it goes.
//!
//! Columns of hexagons are rows turned a quarter: the code works out
//! [`Grid::HexRows`] and reaches [`Grid::HexColumns`] by swapping x and y
//! on the way in and out.

use serde::{Deserialize, Serialize};

use crate::geometry::{Cell, Point, Rect};

/// The shape of the map's cells.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grid {
    /// Squares, in rows and columns.
    #[default]
    Square,
    /// Hexagons with a point at the top, in rows; every odd row is shifted
    /// half a hexagon to the right.
    HexRows,
    /// Hexagons with a flat top, in columns; every odd column is shifted
    /// half a hexagon down.
    HexColumns,
}

/// √3, for hexagons: a hexagon `size` across its flats has sides of
/// `size / √3`.
const SQRT_3: f64 = 1.732_050_807_568_877_2;

impl Grid {
    /// Every grid, in the order a form offers them.
    pub const ALL: [Grid; 3] = [Grid::Square, Grid::HexRows, Grid::HexColumns];

    /// How a form names it.
    pub fn label(self) -> &'static str {
        match self {
            Grid::Square => "Squares",
            Grid::HexRows => "Hexagons in rows (pointed top)",
            Grid::HexColumns => "Hexagons in columns (flat top)",
        }
    }

    /// The name a form sends.
    pub fn key(self) -> &'static str {
        match self {
            Grid::Square => "square",
            Grid::HexRows => "hex_rows",
            Grid::HexColumns => "hex_columns",
        }
    }

    /// The grid a form sent.
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|grid| grid.key() == key)
    }

    /// True for either hexagonal grid.
    pub fn is_hex(self) -> bool {
        self != Grid::Square
    }

    /// The cell containing `point`, for cells `size` apart starting at
    /// `offset`.
    pub fn cell_at(self, size: f64, offset: Point, point: Point) -> Cell {
        match self {
            Grid::Square => Cell(
                saturate(((point.x - offset.x) / size).floor()),
                saturate(((point.y - offset.y) / size).floor()),
            ),
            Grid::HexRows => hex_cell_at(size, offset, point),
            Grid::HexColumns => turn(hex_cell_at(size, flip(offset), flip(point))),
        }
    }

    /// The middle of `cell`.
    pub fn center_of(self, size: f64, offset: Point, cell: Cell) -> Point {
        match self {
            Grid::Square => Point::new(
                offset.x + (f64::from(cell.0) + 0.5) * size,
                offset.y + (f64::from(cell.1) + 0.5) * size,
            ),
            Grid::HexRows => hex_center(size, offset, cell),
            Grid::HexColumns => flip(hex_center(size, flip(offset), turn(cell))),
        }
    }

    /// The corners of `cell`, clockwise from the top (pointed) or the
    /// top-right (flat).
    pub fn outline(self, size: f64, offset: Point, cell: Cell) -> Vec<Point> {
        let center = self.center_of(size, offset, cell);
        match self {
            Grid::Square => {
                let half = size / 2.0;
                [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)]
                    .into_iter()
                    .map(|(x, y)| Point::new(center.x + x * half, center.y + y * half))
                    .collect()
            }
            Grid::HexRows | Grid::HexColumns => {
                let radius = size / SQRT_3;
                (0..6)
                    .map(|corner| {
                        // Pointed top: corners at -90°, -30°, 30°…; a flat
                        // top is the same turned 30°.
                        let start = if self == Grid::HexRows { -90.0 } else { -60.0 };
                        let angle = (start + 60.0 * f64::from(corner)).to_radians();
                        Point::new(
                            center.x + radius * angle.cos(),
                            center.y + radius * angle.sin(),
                        )
                    })
                    .collect()
            }
        }
    }

    /// Steps from `from` to `to` when every step to a neighbour is one:
    /// `(straight, diagonal)`. A hexagon has no diagonals; a square's
    /// diagonal steps are counted apart, for the map's rule on them
    /// ([`crate::measure::Diagonals`]).
    pub fn steps(self, from: Cell, to: Cell) -> (u64, u64) {
        match self {
            Grid::Square => {
                let dx = (i64::from(to.0) - i64::from(from.0)).unsigned_abs();
                let dy = (i64::from(to.1) - i64::from(from.1)).unsigned_abs();
                (dx.abs_diff(dy), dx.min(dy))
            }
            Grid::HexRows => (hex_distance(from, to), 0),
            Grid::HexColumns => (hex_distance(turn(from), turn(to)), 0),
        }
    }

    /// The cells `area` is over, as a range of columns and rows to look in
    /// (first and last, inclusive) and a test for each cell in it.
    ///
    /// A square is under an area that overlaps it (touching its edge does
    /// not count); every cell of the range is. A hexagon is under an area
    /// that holds its centre, and the hexagon at the area's own centre
    /// always is: a token standing in a hexagon is then over that one
    /// alone, although its square reaches into the neighbours' corners, and
    /// a ping or a small drawing is over the hexagon it is in.
    pub fn span(self, size: f64, offset: Point, area: &Rect) -> Span {
        match self {
            Grid::Square => {
                let first = self.cell_at(size, offset, area.min);
                let last = |max: f64, offset: f64, first: i32| {
                    saturate(((max - offset) / size).ceil() - 1.0).max(first)
                };
                Span {
                    grid: self,
                    size,
                    offset,
                    area: *area,
                    middle: first,
                    first,
                    last: Cell(
                        last(area.max.x, offset.x, first.0),
                        last(area.max.y, offset.y, first.1),
                    ),
                }
            }
            Grid::HexRows | Grid::HexColumns => {
                let (o, min, max) = if self == Grid::HexRows {
                    (offset, area.min, area.max)
                } else {
                    (flip(offset), flip(area.min), flip(area.max))
                };
                let (pitch, radius) = (size * SQRT_3 / 2.0, size / SQRT_3);
                // Centres in [min, max): rows by their height; columns
                // from an odd row's (shifted) left to an even row's right.
                let first_row = saturate(((min.y - o.y - radius) / pitch).ceil());
                let last_row = saturate(((max.y - o.y - radius) / pitch).ceil() - 1.0);
                let first_column = saturate(((min.x - o.x - size) / size).ceil());
                let last_column = saturate(((max.x - o.x - size / 2.0) / size).ceil() - 1.0);
                let middle = hex_cell_at(
                    size,
                    o,
                    Point::new((min.x + max.x) / 2.0, (min.y + max.y) / 2.0),
                );
                // One more cell each way: a centre on the area's edge (a
                // large token's, exactly) is decided by `holds`, not by
                // how these divisions round.
                let first = Cell(
                    first_column.min(middle.0).saturating_sub(1),
                    first_row.min(middle.1).saturating_sub(1),
                );
                let last = Cell(
                    last_column.max(middle.0).saturating_add(1),
                    last_row.max(middle.1).saturating_add(1),
                );
                let (first, last, middle) = if self == Grid::HexRows {
                    (first, last, middle)
                } else {
                    (turn(first), turn(last), turn(middle))
                };
                Span {
                    grid: self,
                    size,
                    offset,
                    area: *area,
                    middle,
                    first,
                    last,
                }
            }
        }
    }
}

/// The cells an area is over ([`Grid::span`]).
#[derive(Debug, Clone, Copy)]
pub struct Span {
    grid: Grid,
    size: f64,
    offset: Point,
    area: Rect,
    /// The cell at the area's centre.
    middle: Cell,
    /// The first column and row to look in.
    pub first: Cell,
    /// The last column and row to look in (inclusive).
    pub last: Cell,
}

impl Span {
    /// Whether the area is over `cell`, a cell of the range.
    pub fn holds(&self, cell: Cell) -> bool {
        if !self.grid.is_hex() {
            return true;
        }
        let center = self.grid.center_of(self.size, self.offset, cell);
        // Half-open, and steady under rounding: a centre within a
        // billionth of a cell of an edge counts as on it.
        let e = self.size * 1e-9;
        let inside = |v: f64, min: f64, max: f64| min - e <= v && v < max - e;
        (inside(center.x, self.area.min.x, self.area.max.x)
            && inside(center.y, self.area.min.y, self.area.max.y))
            || cell == self.middle
    }

    /// Every cell the area is over, by row then column.
    pub fn cells(self) -> impl Iterator<Item = Cell> {
        (self.first.1..=self.last.1)
            .flat_map(move |row| (self.first.0..=self.last.0).map(move |column| Cell(column, row)))
            .filter(move |cell| self.holds(*cell))
    }

    /// Whether the range holds `cell` (before [`Span::holds`]).
    pub fn ranges_over(&self, cell: Cell) -> bool {
        (self.first.0..=self.last.0).contains(&cell.0)
            && (self.first.1..=self.last.1).contains(&cell.1)
    }
}

/// A cell number from a coordinate already divided by the cell size.
/// Saturating: positions are validated finite, and maps are far smaller
/// than `i32` cells.
fn saturate(cells: f64) -> i32 {
    cells.clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32
}

/// A point with x and y swapped: columns of hexagons seen as rows.
fn flip(point: Point) -> Point {
    Point::new(point.y, point.x)
}

/// A cell with column and row swapped.
fn turn(cell: Cell) -> Cell {
    Cell(cell.1, cell.0)
}

/// The hexagon (pointed top, odd rows shifted right) holding `point`: the
/// point in axial coordinates, rounded in cube coordinates.
fn hex_cell_at(size: f64, offset: Point, point: Point) -> Cell {
    let radius = size / SQRT_3;
    let x = point.x - offset.x - size / 2.0;
    let y = point.y - offset.y - radius;
    let r = (2.0 / 3.0) * y / radius;
    let q = (SQRT_3 / 3.0 * x - y / 3.0) / radius;
    let s = -q - r;
    let (mut rq, mut rr, rs) = (q.round(), r.round(), s.round());
    let (dq, dr, ds) = ((rq - q).abs(), (rr - r).abs(), (rs - s).abs());
    if dq > dr && dq > ds {
        rq = -rr - rs;
    } else if dr > ds {
        rr = -rq - rs;
    }
    let row = i64::from(saturate(rr));
    let column = i64::from(saturate(rq)) + (row - (row & 1)) / 2;
    Cell(narrow(column), narrow(row))
}

/// An `i64` cell number as a cell's `i32`, saturating.
fn narrow(cells: i64) -> i32 {
    i32::try_from(cells).unwrap_or(if cells < 0 { i32::MIN } else { i32::MAX })
}

/// The centre of a hexagon (pointed top, odd rows shifted right); cell
/// (0, 0)'s hexagon has its top-left bounding corner at `offset`.
fn hex_center(size: f64, offset: Point, cell: Cell) -> Point {
    let radius = size / SQRT_3;
    let shift = if cell.1 & 1 == 1 { size / 2.0 } else { 0.0 };
    Point::new(
        offset.x + size / 2.0 + f64::from(cell.0) * size + shift,
        offset.y + radius + f64::from(cell.1) * size * SQRT_3 / 2.0,
    )
}

/// Steps between two hexagons (pointed top, odd rows shifted right).
fn hex_distance(from: Cell, to: Cell) -> u64 {
    let axial = |cell: Cell| {
        let row = i64::from(cell.1);
        (i64::from(cell.0) - (row - (row & 1)) / 2, row)
    };
    let (q1, r1) = axial(from);
    let (q2, r2) = axial(to);
    let (dq, dr) = (q2 - q1, r2 - r1);
    (dq.unsigned_abs() + dr.unsigned_abs() + (dq + dr).unsigned_abs()) / 2
}

#[cfg(test)]
mod tests;
