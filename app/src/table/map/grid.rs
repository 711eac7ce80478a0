//! The grid's lines: squares as a repeating background, hexagons as a
//! repeating SVG pattern. Either way the browser repeats one tile, so a
//! large map costs no more than a small one.

use leptos::prelude::*;
use shared::{
    encounter::{Grid, MapSettings},
    geometry::{Cell, Point, Rect},
};

/// The grid's lines over `area` (map pixels), for the map layer and the
/// editor's preview. `id` names the hexagon pattern: one per page.
#[component]
pub fn GridLines(
    #[prop(into)] map: Signal<MapSettings>,
    #[prop(into)] area: Signal<Rect>,
    id: &'static str,
) -> impl IntoView {
    move || {
        let map = map.get();
        let area = area.get();
        let g = map.grid_size;
        if !map.grid.is_hex() {
            let left = ((area.min.x - map.offset.x) / g).floor() * g + map.offset.x;
            let top = ((area.min.y - map.offset.y) / g).floor() * g + map.offset.y;
            let style = format!(
                "left: {left}px; top: {top}px; width: {}px; height: {}px; background-size: {g}px {g}px;",
                area.max.x - left + g,
                area.max.y - top + g
            );
            return view! { <div class="map-grid" style=style></div> }.into_any();
        }
        let tile = HexTile::new(map.grid, g);
        let (left, top) = (area.min.x - g, area.min.y - g);
        let style = format!(
            "left: {left}px; top: {top}px; width: {}px; height: {}px;",
            area.max.x - left + g,
            area.max.y - top + g
        );
        view! {
            <svg class="map-grid-hex" style=style aria-hidden="true" data-test="hex-grid">
                <defs>
                    <pattern
                        id=id
                        patternUnits="userSpaceOnUse"
                        x=map.offset.x - tile.shift.x - left
                        y=map.offset.y - tile.shift.y - top
                        width=tile.width
                        height=tile.height
                    >
                        <path d=tile.path />
                    </pattern>
                </defs>
                <rect width="100%" height="100%" fill=format!("url(#{id})") />
            </svg>
        }
        .into_any()
    }
}

/// A cell's corners as an SVG polygon's `points`.
pub fn polygon_points(map: &MapSettings, cell: Cell) -> String {
    map.outline(cell)
        .iter()
        .map(|p| format!("{:.2},{:.2}", p.x, p.y))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One tile of a hexagon grid: two rows (or columns) of hexagons, whose
/// repetition draws every line once.
struct HexTile {
    width: f64,
    height: f64,
    /// How far the tile starts before the grid's offset: a quarter cell
    /// across the rows, so no hexagon's side lies on the tile's edge, where
    /// the pattern would cut its line in half.
    shift: Point,
    /// The outlines, as SVG path data in the tile's pixels.
    path: String,
}

impl HexTile {
    fn new(grid: Grid, size: f64) -> Self {
        let pitch = size * 3f64.sqrt();
        let (width, height, shift) = if grid == Grid::HexRows {
            (size, pitch, Point::new(size / 4.0, 0.0))
        } else {
            (pitch, size, Point::new(0.0, size / 4.0))
        };
        let mut path = String::new();
        // Every hexagon the tile's area touches, in the tile's pixels.
        for across in -1..=1 {
            for along in -1..=2 {
                let cell = if grid == Grid::HexRows {
                    Cell(across, along)
                } else {
                    Cell(along, across)
                };
                let corners = grid.outline(size, shift, cell);
                for (i, corner) in corners.iter().enumerate() {
                    let verb = if i == 0 { 'M' } else { 'L' };
                    path.push_str(&format!("{verb}{:.2} {:.2} ", corner.x, corner.y));
                }
                path.push_str("Z ");
            }
        }
        Self {
            width,
            height,
            shift,
            path,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tile repeats into the grid: every corner it draws, moved by a
    /// tile, is a corner of a hexagon of the grid.
    #[test]
    fn a_hexagon_tile_repeats_into_the_grid() {
        for grid in [Grid::HexRows, Grid::HexColumns] {
            let tile = HexTile::new(grid, 40.0);
            let map = MapSettings {
                grid,
                grid_size: 40.0,
                offset: tile.shift,
                ..MapSettings::default()
            };
            assert!(tile.path.matches('Z').count() == 12);
            for (dx, dy) in [(tile.width, 0.0), (0.0, tile.height)] {
                let moved = Point::new(map.offset.x + dx, map.offset.y + dy);
                let cell = map.cell_at(Point::new(
                    moved.x + map.grid_size / 2.0,
                    moved.y + map.grid_size / 2.0,
                ));
                let center = map.center_of(cell);
                let origin = map.center_of(Cell(0, 0));
                assert!(
                    ((center.x - origin.x - dx).abs() < 1e-6)
                        && ((center.y - origin.y - dy).abs() < 1e-6),
                    "{grid:?}: a tile over, the same hexagon"
                );
            }
        }
    }
}
