//! Fog of war on the map: the cells the GM is painting, and the fog drawn
//! over the map on a canvas.

use std::collections::BTreeSet;

use leptos::{html, prelude::*};
use shared::{encounter::MapSettings, geometry::Cell};

use super::camera::Camera;
use crate::table::Table;

/// The cells the GM is painting, before the request goes out.
#[component]
pub(super) fn PaintedCells(
    painted: RwSignal<BTreeSet<Cell>>,
    settings: Signal<MapSettings>,
) -> impl IntoView {
    move || {
        let map = settings.get();
        let g = map.grid_size;
        if map.grid.is_hex() {
            let cells = painted
                .get()
                .into_iter()
                .map(|cell| view! { <polygon points=super::polygon_points(&map, cell) /> })
                .collect_view();
            return view! {
                <svg class="painted-cells" aria-hidden="true" width="1" height="1">{cells}</svg>
            }
            .into_any();
        }
        painted
            .get()
            .into_iter()
            .map(|cell| {
                let at = map.cell_origin(cell);
                let style = format!(
                    "transform: translate({}px, {}px); width: {g}px; height: {g}px;",
                    at.x, at.y
                );
                view! { <div class="painted-cell" style=style></div> }
            })
            .collect_view()
            .into_any()
    }
}

/// The fog over the map: opaque for players, a tint for the GM, redrawn
/// when the camera or the fog changes, only over the cells in view.
#[component]
pub(super) fn FogLayer(camera: RwSignal<Camera>, size: RwSignal<(f64, f64)>) -> impl IntoView {
    let table = expect_context::<Table>();
    let canvas = NodeRef::<html::Canvas>::new();
    // Whether the canvas holds fog now (so a map without fog costs
    // nothing per frame).
    #[cfg(feature = "hydrate")]
    let drawn = StoredValue::new(false);
    // Where a player's own tokens stand: the server sends her them under
    // the fog (`shared::sight`), and she sees the cells they are over, or
    // her own token would be lost under her opaque fog. A memo, so that a
    // pan does not walk the tokens and a move of someone else's token
    // does not redraw the fog.
    #[cfg(feature = "hydrate")]
    let mine = Memo::new(move |_| {
        use crate::table::board::BoardStoreFields as _;
        let Some(me) = table.me.get().filter(|me| !me.role.is_gm_or_assistant()) else {
            return Vec::new();
        };
        let Some((here, grid)) = table.with_encounter(|e| (e.id, e.map.grid_size)) else {
            return Vec::new();
        };
        // Her tokens on other maps reach her too: only this map's count.
        let ids: Vec<_> = table.board.tokens().read().keys().copied().collect();
        ids.into_iter()
            .filter_map(|id| {
                let (actor, bounds, shown) = table.with_token(id, |t| {
                    (
                        t.actor,
                        t.bounds(grid),
                        t.visibility.players_see() && t.encounter == here,
                    )
                })?;
                let owner = table.with_actor(actor?, |a| a.owner)?;
                (shown && owner == Some(me.user)).then_some(bounds)
            })
            .collect::<Vec<_>>()
    });
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use wasm_bindgen::JsCast;
        let fog = table
            .with_encounter(|e| (e.map, e.fog.clone()))
            .filter(|(_, fog)| fog.enabled);
        if fog.is_none() && !drawn.get_value() {
            return;
        }
        let c = camera.get();
        let (w, h) = size.get();
        let gm = table.is_gm_or_assistant();
        let Some(el) = canvas.get() else { return };
        // Resizing clears and reallocates the canvas: only when it changed.
        if el.width() != w as u32 || el.height() != h as u32 {
            el.set_width(w as u32);
            el.set_height(h as u32);
        }
        let Ok(Some(context)) = el.get_context("2d") else {
            return;
        };
        let Ok(context) = context.dyn_into::<web_sys::CanvasRenderingContext2d>() else {
            return;
        };
        context.clear_rect(0.0, 0.0, w, h);
        drawn.set_value(fog.is_some());
        let Some((map, fog)) = fog else { return };
        context.set_fill_style_str(if gm {
            "rgba(20, 20, 40, 0.35)"
        } else {
            "rgb(12, 12, 20)"
        });
        context.fill_rect(0.0, 0.0, w, h);
        let g = map.grid_size;
        let area = c.visible((w, h), g);
        let span = map.span(&area);
        let own = mine.get();
        let revealed = (span.first.0..=span.last.0)
            .flat_map(|column| {
                fog.revealed
                    .range(Cell(column, span.first.1)..=Cell(column, span.last.1))
                    .copied()
            })
            .chain(own.iter().flat_map(|bounds| map.span(bounds).cells()));
        let on_screen = |p: shared::geometry::Point| ((p.x - c.x) * c.zoom, (p.y - c.y) * c.zoom);
        if map.grid.is_hex() {
            // One path, filled once: hexagons side by side leave no seam.
            context
                .set_global_composite_operation("destination-out")
                .ok();
            context.begin_path();
            for cell in revealed {
                for (i, corner) in map.outline(cell).into_iter().enumerate() {
                    let (x, y) = on_screen(corner);
                    if i == 0 {
                        context.move_to(x, y);
                    } else {
                        context.line_to(x, y);
                    }
                }
                context.close_path();
            }
            context.set_fill_style_str("#000");
            context.fill();
            context.set_global_composite_operation("source-over").ok();
        } else {
            for cell in revealed {
                let (x, y) = on_screen(map.cell_origin(cell));
                context.clear_rect(x, y, g * c.zoom + 0.5, g * c.zoom + 0.5);
            }
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (camera, size, table);
    view! { <canvas class="fog-layer" node_ref=canvas aria-hidden="true"></canvas> }
}
