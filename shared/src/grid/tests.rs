use std::collections::{BTreeSet, VecDeque};

use proptest::prelude::*;

use super::*;
use crate::encounter::{Fog, MapSettings};

fn grid() -> impl Strategy<Value = Grid> {
    prop::sample::select(Grid::ALL.to_vec())
}

fn map() -> impl Strategy<Value = MapSettings> {
    (grid(), 10.0f64..120.0, -60.0f64..60.0, -60.0f64..60.0).prop_map(|(grid, size, x, y)| {
        MapSettings {
            grid,
            grid_size: size,
            offset: Point::new(x, y),
            ..MapSettings::default()
        }
    })
}

fn cell() -> impl Strategy<Value = Cell> {
    (-30i32..30, -30i32..30).prop_map(|(x, y)| Cell(x, y))
}

fn distance(a: Point, b: Point) -> f64 {
    (a.x - b.x).hypot(a.y - b.y)
}

/// The cells around `cell` whose centres are one cell away: the
/// neighbours, found by measuring, not by the grid's own arithmetic.
fn neighbours(map: &MapSettings, cell: Cell) -> Vec<Cell> {
    let center = map.center_of(cell);
    let mut found = Vec::new();
    for dx in -2..=2 {
        for dy in -2..=2 {
            let other = Cell(cell.0 + dx, cell.1 + dy);
            let d = distance(center, map.center_of(other)) / map.grid_size;
            let diagonal = !map.grid.is_hex() && (d - 2f64.sqrt()).abs() < 1e-9;
            if other != cell && ((d - 1.0).abs() < 1e-9 || diagonal) {
                found.push(other);
            }
        }
    }
    found
}

#[test]
fn a_hexagon_has_six_neighbours_and_a_square_eight() {
    for grid in Grid::ALL {
        let map = MapSettings {
            grid,
            grid_size: 40.0,
            ..MapSettings::default()
        };
        for cell in [Cell(0, 0), Cell(3, 1), Cell(-2, -3), Cell(5, 4)] {
            let expected = if grid.is_hex() { 6 } else { 8 };
            assert_eq!(neighbours(&map, cell).len(), expected, "{grid:?} {cell}");
            for other in neighbours(&map, cell) {
                assert_eq!(grid.steps(cell, other).0 + grid.steps(cell, other).1, 1);
            }
        }
    }
}

#[test]
fn hexagons_sit_where_a_gm_expects() {
    let rows = MapSettings {
        grid: Grid::HexRows,
        grid_size: 60.0,
        ..MapSettings::default()
    };
    // The first hexagon's bounding box starts at the offset; the second row
    // is shifted half a hexagon right.
    let first = rows.center_of(Cell(0, 0));
    assert!((first.x - 30.0).abs() < 1e-9 && (first.y - 60.0 / SQRT_3).abs() < 1e-9);
    let below = rows.center_of(Cell(0, 1));
    assert!((below.x - 60.0).abs() < 1e-9);
    assert!((below.y - first.y - 60.0 * SQRT_3 / 2.0).abs() < 1e-9);
    // Three hexagons east is three steps; down two rows and back is two.
    assert_eq!(rows.steps(&[Cell(0, 0), Cell(3, 0)]), 3);
    assert_eq!(rows.steps(&[Cell(0, 0), Cell(1, 2)]), 2);
    let columns = MapSettings {
        grid: Grid::HexColumns,
        ..rows
    };
    let right = columns.center_of(Cell(1, 0));
    assert!(
        (right.y - 60.0).abs() < 1e-9,
        "odd columns are shifted down"
    );
    assert_eq!(columns.steps(&[Cell(0, 0), Cell(0, 3)]), 3);
}

#[test]
fn a_square_map_keeps_its_cells_corners_and_spans() {
    let map = MapSettings {
        grid_size: 50.0,
        offset: Point::new(10.0, -5.0),
        ..MapSettings::default()
    };
    assert_eq!(map.cell_at(Point::new(59.9, 44.9)), Cell(0, 0));
    assert_eq!(map.token_cell(Point::new(60.0, 45.0)), Cell(1, 1));
    assert_eq!(map.snap(Point::new(84.0, 69.0)), Point::new(60.0, 45.0));
    assert_eq!(map.snap(Point::new(-16.0, -5.0)), Point::new(-40.0, -5.0));
    let touching = Rect::from_origin(Point::new(60.0, 45.0), 50.0, 50.0);
    assert_eq!(
        map.span(&touching).cells().collect::<Vec<_>>(),
        [Cell(1, 1)]
    );
}

/// Every cell of a window around `area`, by the definition: a square an
/// area overlaps; a hexagon whose centre the area holds, or the one at the
/// area's centre.
fn over_by_definition(map: &MapSettings, area: &Rect) -> BTreeSet<Cell> {
    let middle = map.cell_at(Point::new(
        (area.min.x + area.max.x) / 2.0,
        (area.min.y + area.max.y) / 2.0,
    ));
    // Hexagon rows are 0.87 cells apart: a window counted in steps of one
    // cell and of 0.8 cells holds every candidate.
    let window = |v: f64, o: f64| {
        let a = ((v - o) / map.grid_size).floor() as i32;
        let b = ((v - o) / (0.8 * map.grid_size)).floor() as i32;
        (a.min(b) - 3, a.max(b) + 3)
    };
    let (x0, y0) = (
        window(area.min.x, map.offset.x).0,
        window(area.min.y, map.offset.y).0,
    );
    let (x1, y1) = (
        window(area.max.x, map.offset.x).1,
        window(area.max.y, map.offset.y).1,
    );
    let mut over = BTreeSet::new();
    for x in x0.min(y0)..=x1.max(y1) {
        for y in x0.min(y0)..=x1.max(y1) {
            let cell = Cell(x, y);
            let held = if map.grid.is_hex() {
                let c = map.center_of(cell);
                let e = map.grid_size * 1e-9;
                let inside = |v: f64, min: f64, max: f64| min - e <= v && v < max - e;
                (inside(c.x, area.min.x, area.max.x) && inside(c.y, area.min.y, area.max.y))
                    || cell == middle
            } else {
                let corner = map.cell_origin(cell);
                let square = Rect::from_origin(corner, map.grid_size, map.grid_size);
                square.intersects(area) || cell == map.cell_at(area.min)
            };
            if held {
                over.insert(cell);
            }
        }
    }
    over
}

/// The hexagons under a two-by-two token standing in `cell` (an even
/// row of hexagons in rows): its own, the next, and two of the row below.
fn under_a_large_token(map: &MapSettings, cell: Cell) -> BTreeSet<Cell> {
    let token = Rect::from_origin(
        map.cell_origin(cell),
        2.0 * map.grid_size,
        2.0 * map.grid_size,
    );
    map.span(&token).cells().collect()
}

#[test]
fn a_large_token_is_over_the_same_hexagons_whatever_the_rounding() {
    // Centres fall on the token's edges exactly; here the division that
    // finds the first column rounds the wrong way.
    let map = MapSettings {
        grid: Grid::HexRows,
        grid_size: 129.16,
        offset: Point::new(179.7, 0.0),
        ..MapSettings::default()
    };
    assert_eq!(
        under_a_large_token(&map, Cell(18, 2)),
        BTreeSet::from([Cell(18, 2), Cell(19, 2), Cell(17, 3), Cell(18, 3)])
    );
}

proptest! {
    #[test]
    fn a_large_token_on_hexagons_is_over_four(
        size in 10.0f64..200.0,
        x in -300.0f64..300.0,
        y in -300.0f64..300.0,
        column in -40i32..40,
        row in -20i32..20,
    ) {
        let map = MapSettings {
            grid: Grid::HexRows,
            grid_size: size,
            offset: Point::new(x, y),
            ..MapSettings::default()
        };
        let (c, r) = (column, row * 2);
        prop_assert_eq!(
            under_a_large_token(&map, Cell(c, r)),
            BTreeSet::from([Cell(c, r), Cell(c + 1, r), Cell(c - 1, r + 1), Cell(c, r + 1)])
        );
    }

    #[test]
    fn a_cell_holds_its_centre_and_the_points_around_it(
        map in map(),
        cell in cell(),
        angle in 0.0f64..std::f64::consts::TAU,
        reach in 0.0f64..0.49,
    ) {
        let center = map.center_of(cell);
        prop_assert_eq!(map.cell_at(center), cell);
        // Within the inscribed circle, the point is the cell's.
        let near = Point::new(
            center.x + reach * map.grid_size * angle.cos(),
            center.y + reach * map.grid_size * angle.sin(),
        );
        prop_assert_eq!(map.cell_at(near), cell);
        prop_assert_eq!(map.token_cell(map.cell_origin(cell)), cell);
        prop_assert_eq!(map.snap(map.cell_origin(cell)), map.cell_origin(cell));
        for corner in map.outline(cell) {
            let d = distance(corner, center);
            let radius = if map.grid.is_hex() { map.grid_size / SQRT_3 } else { map.grid_size / 2f64.sqrt() };
            prop_assert!((d - radius).abs() < 1e-6);
            let inward = Point::new(corner.x + (center.x - corner.x) * 0.01, corner.y + (center.y - corner.y) * 0.01);
            prop_assert_eq!(map.cell_at(inward), cell);
        }
    }

    #[test]
    fn a_point_is_in_the_hexagon_of_the_nearest_centre(
        map in map(),
        x in -2000.0f64..2000.0,
        y in -2000.0f64..2000.0,
    ) {
        prop_assume!(map.grid.is_hex());
        let point = Point::new(x, y);
        let cell = map.cell_at(point);
        let own = distance(point, map.center_of(cell));
        for dx in -2..=2 {
            for dy in -2..=2 {
                let other = map.center_of(Cell(cell.0 + dx, cell.1 + dy));
                prop_assert!(own <= distance(point, other) + 1e-6);
            }
        }
    }

    #[test]
    fn steps_are_the_shortest_walk_from_neighbour_to_neighbour(
        map in map(),
        from in (-4i32..4, -4i32..4),
        to in (-4i32..4, -4i32..4),
    ) {
        let (from, to) = (Cell(from.0, from.1), Cell(to.0, to.1));
        // Breadth first over the neighbours found by measuring.
        let mut walked = std::collections::BTreeMap::from([(from, 0u64)]);
        let mut queue = VecDeque::from([from]);
        while let Some(at) = queue.pop_front() {
            if at == to {
                break;
            }
            for next in neighbours(&map, at) {
                if !walked.contains_key(&next) && next.0.abs() <= 12 && next.1.abs() <= 12 {
                    walked.insert(next, walked[&at] + 1);
                    queue.push_back(next);
                }
            }
        }
        let (straight, diagonal) = map.grid.steps(from, to);
        prop_assert_eq!(straight + diagonal, walked[&to]);
        // Each step goes at most one cell (a square's diagonal, √2).
        let reach = distance(map.center_of(from), map.center_of(to)) / map.grid_size;
        prop_assert!(straight as f64 + diagonal as f64 * 2f64.sqrt() + 1e-6 >= reach);
    }

    #[test]
    fn an_area_is_over_the_cells_the_definition_names(
        map in map(),
        x in -400.0f64..400.0,
        y in -400.0f64..400.0,
        w in 0.0f64..300.0,
        h in 0.0f64..300.0,
        lifted in prop::collection::btree_set(cell(), 0..40),
    ) {
        let area = Rect::from_origin(Point::new(x, y), w, h);
        let span = map.span(&area);
        let cells: BTreeSet<Cell> = span.cells().collect();
        prop_assert_eq!(&cells, &over_by_definition(&map, &area));
        // The fog shows the area when a lifted cell is one of them, by
        // either of its two searches.
        let fog = Fog { enabled: true, revealed: lifted.clone() };
        prop_assert_eq!(fog.shows(&map, &area), !cells.is_disjoint(&lifted));
    }
}
