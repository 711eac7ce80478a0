//! The battle map: pan and zoom (mouse, wheel, touch, keyboard), the grid,
//! the tokens inside the viewport only (the spatial index of
//! `shared::store`), dragging with a live preview for everyone else, and
//! for the GM, fog of war painted cell by cell.

mod camera;
mod fog;
mod gesture;
mod grid;
mod paint;
mod pending;
mod token;
mod tools;

use std::collections::{BTreeSet, HashMap};

use leptos::{ev, html, prelude::*};
use shared::{
    encounter::MapSettings,
    geometry::{Cell, Point, Rect},
    id::TokenId,
};

pub use camera::Camera;
use fog::{FogLayer, PaintedCells};
use gesture::{Gesture, Pointers};
pub use grid::{GridLines, polygon_points};
use pending::PendingMoves;
use token::TokenView;
use tools::MapTools;
pub use tools::Tool;

use super::Table;

/// The zoom under which tokens are drawn without their name plates and
/// condition marks.
const FAR_ZOOM: f64 = 0.75;

/// Tokens in the DOM above which the map paints them on a canvas
/// (`paint`), and under which it goes back to their buttons: apart, so
/// that a zoom around the threshold does not switch at every step.
const BUSY_TOKENS: usize = 200;
const QUIET_TOKENS: usize = 150;

/// The map of the session's encounter.
#[component]
pub fn BattleMap() -> impl IntoView {
    let table = expect_context::<Table>();
    let camera = RwSignal::new(Camera::default());
    let grid_settings = Memo::new(move |_| table.with_encounter(|e| e.map).unwrap_or_default());

    let size = RwSignal::new((1024.0, 768.0));
    let viewport = NodeRef::<html::Div>::new();
    let dragging = RwSignal::new(None::<(TokenId, Point)>);
    let tool = table.tool;
    let templates_shown = crate::table::template::TemplatesShown::new(table);
    let painted = RwSignal::new(BTreeSet::<Cell>::new());
    // Where this tab last looked at this session's map (sessionStorage),
    // kept a moment after the camera stops moving.
    let camera_key = format!("tabletop.camera.{}", table.session);
    Effect::new({
        let key = camera_key.clone();
        move |_| {
            if let Some(saved) = crate::storage::session_get::<Camera>(&key) {
                camera.set(saved);
            }
        }
    });
    crate::debounce::when_still(
        move || camera.get(),
        std::time::Duration::from_millis(300),
        move |now| crate::storage::session_set(&camera_key, &now),
    );

    // Memos: the rest of the encounter (its log, its turn order) changes
    // often and must not redraw the map.
    let encounter_id = Memo::new(move |_| table.encounter());
    let encounter = move || encounter_id.get();
    let settings = move || grid_settings.get();

    // Measure the viewport once mounted and on every resize.
    let measure = move || {
        if let Some(el) = viewport.get_untracked() {
            let rect = el.get_bounding_client_rect();
            size.set((rect.width().max(1.0), rect.height().max(1.0)));
        }
    };
    viewport.on_load(move |_| measure());
    let resize = window_event_listener(ev::resize, move |_| measure());
    on_cleanup(move || resize.remove());

    // Only the tokens in view are rendered; the spatial index answers in
    // time proportional to what it finds.
    let rendered = StoredValue::new(None::<Rect>);
    let drawn = Memo::new(move |_| {
        table.layout.track();
        let Some(encounter) = encounter() else {
            return (Rect::default(), Vec::new());
        };
        let seen = camera.get().visible(size.get(), 0.0);
        // The tokens drawn cover more than the view: a quarter of it more
        // on each side. While the view stays inside that area (and is not
        // much smaller than it, after zooming in), the list stays as it is
        // and panning or zooming is only a transform of the layer.
        let area = match rendered.get_value() {
            Some(area) if covers(&area, &seen) && extent(&area) <= 9.0 * extent(&seen) => area,
            _ => {
                let (w, h) = (seen.max.x - seen.min.x, seen.max.y - seen.min.y);
                let area = Rect {
                    min: Point::new(seen.min.x - w / 4.0, seen.min.y - h / 4.0),
                    max: Point::new(seen.max.x + w / 4.0, seen.max.y + h / 4.0),
                };
                rendered.set_value(Some(area));
                area
            }
        };
        let mut ids = table.with_client(|c| {
            c.view()
                .map(|v| v.tokens_in_rect(encounter, &area))
                .unwrap_or_default()
        });
        ids.sort_unstable();
        (area, ids)
    });
    let visible = Memo::new(move |_| drawn.with(|(_, ids)| ids.clone()));
    Effect::new(move |_| {
        let (w, h) = size.get();
        table
            .view_center
            .set_value(camera.get().to_map(Point::new(w / 2.0, h / 2.0)));
    });
    let drawn_area = Memo::new(move |_| drawn.with(|(area, _)| *area));
    // A busy map paints its tokens on a canvas (see `paint`).
    let busy = Memo::new(move |was: Option<&bool>| {
        let drawn = visible.with(Vec::len);
        drawn
            > if was.copied().unwrap_or(false) {
                QUIET_TOKENS
            } else {
                BUSY_TOKENS
            }
    });
    provide_context(MapState {
        camera,
        size,
        grid: grid_settings,
        selected: Selector::new(move || table.selected.get()),
        dragged: Selector::new(move || dragging.get().map(|(token, _)| token)),
        dragging,
        tool,
        busy,
    });

    let pointers = Pointers {
        table,
        camera,
        viewport,
        grid: grid_settings,
        encounter: encounter_id,
        gesture: StoredValue::new(Gesture::Idle),
        pointers: StoredValue::new(HashMap::new()),
        dragging,
        tool,
        painted,
        last_preview: StoredValue::new(0.0),
    };

    // The keys are the user's (preferences); the defaults are the arrows,
    // plus and minus.
    let prefs = crate::storage::use_prefs();
    let on_key = move |e: ev::KeyboardEvent| {
        use crate::storage::MapKey;
        let step = settings().grid_size;
        let (w, h) = size.get_untracked();
        let middle = Point::new(w / 2.0, h / 2.0);
        // Escape puts my ruler away, then my template.
        if e.key() == "Escape" && !table.my_ruler().is_empty() {
            table.measure(Vec::new(), true);
            e.prevent_default();
            return;
        }
        if e.key() == "Escape" && table.my_template().is_some() {
            table.show_template(None, true);
            e.prevent_default();
            return;
        }
        let Some(action) = prefs.with_untracked(|p| p.keys.action(&e.key())) else {
            return;
        };
        match action {
            MapKey::Pan(dx, dy) => camera.update(|c| {
                c.x += f64::from(dx) * step;
                c.y += f64::from(dy) * step;
            }),
            MapKey::ZoomIn => camera.update(|c| *c = c.zoomed(1.25, middle)),
            MapKey::ZoomOut => camera.update(|c| *c = c.zoomed(0.8, middle)),
        }
        e.prevent_default();
    };

    // Level of detail: under this zoom a name plate or a condition mark is
    // a few pixels of text nobody can read, and each is one more box for the
    // browser to rasterize per token (the 10,000-token benchmark). The face,
    // its art and the HP bar stay: they are what a zoomed-out map shows.
    let far = Memo::new(move |_| camera.get().zoom < FAR_ZOOM);
    // The zoom once the camera stops: a busy map's canvas is painted again
    // at it, sharp (while zooming, it is scaled with the layer).
    let settled = RwSignal::new(camera.get_untracked().zoom);
    crate::debounce::when_still(
        move || camera.get().zoom,
        std::time::Duration::from_millis(250),
        move |zoom| {
            if settled.get_untracked() != zoom {
                settled.set(zoom);
            }
        },
    );
    let layer_style = move || {
        let c = camera.get();
        format!(
            "transform: translate({}px, {}px) scale({});",
            -c.x * c.zoom,
            -c.y * c.zoom,
            c.zoom
        )
    };

    view! {
        <section class="battle-map" aria-label="Battle map">
            <MapTools tool />
            <crate::table::template::TemplateList shown=templates_shown />
            <div
                class="map-viewport"
                class:painting=move || matches!(tool.get(), Tool::Reveal | Tool::Hide)
                class:measuring=move || matches!(tool.get(), Tool::Ruler | Tool::Template | Tool::Draw | Tool::Erase | Tool::Walls)
                node_ref=viewport
                tabindex="0"
                role="application"
                aria-label=move || prefs.with(|p| {
                    let k = &p.keys;
                    format!(
                        "Battle map: {}, {}, {} and {} pan, {} and {} zoom; tab to a token to select it, arrow keys move it; a long press pings a place for everyone",
                        k.pan_left, k.pan_right, k.pan_up, k.pan_down, k.zoom_in, k.zoom_out
                    )
                })
                aria-roledescription="map"
                on:pointerdown=move |e| pointers.down(e)
                on:pointermove=move |e| pointers.moved(e)
                on:pointerup=move |e| pointers.up(e)
                on:pointercancel=move |e| pointers.cancel(e)
                on:wheel=move |e| pointers.wheel(e)
                on:keydown=on_key
            >
                <div class="map-layer" class:far=move || far.get() class:painted=move || busy.get() style=layer_style>
                    {move || {
                        settings()
                            .image
                            .map(|id| view! { <img class="map-image" src=format!("/media/{id}") alt="" draggable="false" /> })
                    }}
                    // It covers the area the tokens are drawn for, so it
                    // changes only when that does, not at every frame of a pan.
                    <GridLines map=Signal::derive(settings) area=drawn_area id="map-hex-grid" />
                    <crate::table::drawing::Drawings />
                    <paint::PaintedTokens busy area=drawn_area ids=visible settled far />
                    <For each=move || visible.get() key=|id| *id let:id>
                        <TokenView id />
                    </For>
                    <PaintedCells painted settings=Signal::derive(settings) />
                    <crate::table::sight::Darkness grid=Signal::derive(move || settings().grid_size) />
                    <Show when=move || table.is_gm_or_assistant()>
                        <crate::table::walls::WallLines />
                    </Show>
                    <crate::table::walls::Doors grid=Signal::derive(move || settings().grid_size) />
                    <Show when=move || table.is_gm_or_assistant()>
                        <PendingMoves />
                    </Show>
                    <crate::table::ping::Pings side=Signal::derive(move || settings().grid_size * 2.0) />
                    <crate::table::template::Templates settings=Signal::derive(settings) shown=templates_shown />
                    <crate::table::ruler::Rulers settings=Signal::derive(settings) dragging />
                </div>
                <FogLayer camera size />
                <p class="map-empty muted" class:hidden=move || encounter().is_some()>
                    "Waiting for the table…"
                </p>
            </div>
            // Not a live region: it changes with every frame of a pan.
            <p class="map-status muted">
                {move || {
                    let zoom = camera.get().zoom * 100.0;
                    match visible.with(Vec::len) {
                        1 => format!("1 token in view, zoom {zoom:.0} %"),
                        n => format!("{n} tokens in view, zoom {zoom:.0} %"),
                    }
                }}
            </p>
        </section>
    }
    .into_any()
}

/// Whether `outer` contains `inner` whole.
fn covers(outer: &Rect, inner: &Rect) -> bool {
    outer.min.x <= inner.min.x
        && outer.min.y <= inner.min.y
        && outer.max.x >= inner.max.x
        && outer.max.y >= inner.max.y
}

/// A rectangle's area.
fn extent(rect: &Rect) -> f64 {
    (rect.max.x - rect.min.x).max(0.0) * (rect.max.y - rect.min.y).max(0.0)
}

/// What tokens need from the map.
#[derive(Clone)]
struct MapState {
    /// Where the map is looked at, and the viewport's size: a token moved
    /// with the keyboard keeps the camera on it.
    camera: RwSignal<Camera>,
    size: RwSignal<(f64, f64)>,
    /// The encounter's grid, told apart from the rest of the encounter
    /// (a chat line must not redraw every token).
    grid: Memo<MapSettings>,
    /// Which token is selected, and which one I drag: each token wakes
    /// only when it starts or stops being the one.
    selected: Selector<Option<TokenId>>,
    dragged: Selector<Option<TokenId>>,
    dragging: RwSignal<Option<(TokenId, Point)>>,
    #[allow(dead_code)]
    tool: RwSignal<Tool>,
    /// Whether the map is busy and its tokens painted on a canvas, the
    /// buttons over them transparent.
    busy: Memo<bool>,
}
