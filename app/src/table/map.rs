//! The battle map: pan and zoom (mouse, wheel, touch, keyboard), the grid,
//! the tokens inside the viewport only (the spatial index of
//! `shared::store`), dragging with a live preview for everyone else, and
//! for the GM, fog of war painted cell by cell.

use std::collections::{BTreeSet, HashMap};

use leptos::{ev, html, prelude::*};
use shared::{
    action::Action,
    encounter::MapSettings,
    geometry::{Cell, Point, Rect},
    id::TokenId,
    rules::owns_token,
    token::Visibility,
};

use super::Table;
use super::board::BoardStoreFields;

/// Where the map is looked at: the map point at the viewport's top-left,
/// and map pixels per screen pixel.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Camera {
    /// Map x at the left edge.
    pub x: f64,
    /// Map y at the top edge.
    pub y: f64,
    /// Screen pixels per map pixel.
    pub zoom: f64,
}

impl Default for Camera {
    fn default() -> Self {
        Self {
            x: -40.0,
            y: -40.0,
            zoom: 1.0,
        }
    }
}

impl Camera {
    /// The map point under a point of the viewport.
    pub fn to_map(self, screen: Point) -> Point {
        Point::new(self.x + screen.x / self.zoom, self.y + screen.y / self.zoom)
    }

    /// The camera zoomed by `factor` around a viewport point, which stays
    /// over the same map point.
    pub fn zoomed(self, factor: f64, around: Point) -> Self {
        let zoom = (self.zoom * factor).clamp(MIN_ZOOM, MAX_ZOOM);
        let anchor = self.to_map(around);
        Self {
            x: anchor.x - around.x / zoom,
            y: anchor.y - around.y / zoom,
            zoom,
        }
    }

    /// The map area a viewport of `size` shows, grown by `margin` map
    /// pixels on each side (so tokens slide in rather than pop).
    pub fn visible(self, size: (f64, f64), margin: f64) -> Rect {
        Rect::from_origin(
            Point::new(self.x - margin, self.y - margin),
            size.0 / self.zoom + 2.0 * margin,
            size.1 / self.zoom + 2.0 * margin,
        )
    }
}

const MIN_ZOOM: f64 = 0.05;
const MAX_ZOOM: f64 = 4.0;

/// What the pointer is doing.
#[derive(Debug, Clone, Default)]
enum Gesture {
    #[default]
    Idle,
    /// Moving the camera.
    Pan { from: Point, camera: Camera },
    /// Moving a token: where the pointer grabbed it.
    Drag { token: TokenId, grab: Point },
    /// Two fingers: zoom and pan together.
    Pinch {
        distance: f64,
        middle: Point,
        camera: Camera,
    },
    /// The GM painting fog.
    Paint { reveal: bool, cells: BTreeSet<Cell> },
}

/// The GM's fog brush.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FogBrush {
    /// Pointer pans and drags.
    Off,
    /// Dragging reveals cells.
    Reveal,
    /// Dragging covers cells.
    Hide,
}

/// The map of the session's encounter.
#[component]
pub fn BattleMap() -> impl IntoView {
    let table = expect_context::<Table>();
    let camera = RwSignal::new(Camera::default());
    let grid_settings = Memo::new(move |_| table.with_encounter(|e| e.map).unwrap_or_default());

    let size = RwSignal::new((1024.0, 768.0));
    let viewport = NodeRef::<html::Div>::new();
    let gesture = StoredValue::new(Gesture::Idle);
    let pointers = StoredValue::new(HashMap::<i32, Point>::new());
    let dragging = RwSignal::new(None::<(TokenId, Point)>);
    let brush = RwSignal::new(FogBrush::Off);
    let painted = RwSignal::new(BTreeSet::<Cell>::new());
    let last_preview = StoredValue::new(0.0f64);
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
    crate::settle::when_settled(
        move || camera.get(),
        std::time::Duration::from_millis(300),
        move |now| crate::storage::session_set(&camera_key, &now),
    );
    provide_context(MapState {
        camera,
        size,
        grid: grid_settings,
        selected: Selector::new(move || table.selected.get()),
        dragged: Selector::new(move || dragging.get().map(|(token, _)| token)),
        dragging,
        brush,
    });

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
    let drawn_area = Memo::new(move |_| drawn.with(|(area, _)| *area));

    let screen_point = move |x: i32, y: i32| -> Point {
        let origin = viewport
            .get_untracked()
            .map(|el| {
                let rect = el.get_bounding_client_rect();
                (rect.left(), rect.top())
            })
            .unwrap_or_default();
        Point::new(f64::from(x) - origin.0, f64::from(y) - origin.1)
    };
    let cell_at = move |map: Point| settings().cell_at(map);

    let on_pointer_down = move |e: ev::PointerEvent| {
        let at = screen_point(e.client_x(), e.client_y());
        pointers.update_value(|p| {
            p.insert(e.pointer_id(), at);
        });
        if let Some(el) = viewport.get_untracked() {
            let _ = el.set_pointer_capture(e.pointer_id());
        }
        let count = pointers.with_value(HashMap::len);
        if count == 2 {
            // A second finger turns whatever the first began into a pinch.
            dragging.set(None);
            painted.set(BTreeSet::new());
            let (distance, middle) = pinch_of(&pointers.get_value());
            gesture.set_value(Gesture::Pinch {
                distance,
                middle,
                camera: camera.get_untracked(),
            });
            return;
        }
        let grabbed = token_under(&e);
        match (grabbed, brush.get_untracked()) {
            (Some(token), _) => {
                let may_move = table.with_client(|c| {
                    let me = c.me();
                    let view = c.view();
                    match (me, view) {
                        (Some(me), Some(view)) => {
                            me.role.is_gm() || owns_token(view, me.user, token)
                        }
                        _ => false,
                    }
                });
                table.selected.set(Some(token));
                if may_move {
                    let position = table
                        .board
                        .tokens()
                        .read_untracked()
                        .get(&token)
                        .map(|t| t.position)
                        .unwrap_or_default();
                    let map = camera.get_untracked().to_map(at);
                    gesture.set_value(Gesture::Drag {
                        token,
                        grab: Point::new(map.x - position.x, map.y - position.y),
                    });
                }
            }
            (None, FogBrush::Reveal | FogBrush::Hide) => {
                let cell = cell_at(camera.get_untracked().to_map(at));
                painted.set(BTreeSet::from([cell]));
                gesture.set_value(Gesture::Paint {
                    reveal: brush.get_untracked() == FogBrush::Reveal,
                    cells: BTreeSet::from([cell]),
                });
            }
            (None, FogBrush::Off) => gesture.set_value(Gesture::Pan {
                from: at,
                camera: camera.get_untracked(),
            }),
        }
    };

    let on_pointer_move = move |e: ev::PointerEvent| {
        let at = screen_point(e.client_x(), e.client_y());
        let known = pointers.try_update_value(|p| {
            p.get_mut(&e.pointer_id())
                .map(|point| *point = at)
                .is_some()
        });
        if known != Some(true) {
            return;
        }
        match gesture.get_value() {
            Gesture::Idle => {}
            Gesture::Pan {
                from,
                camera: start,
            } => {
                camera.set(Camera {
                    x: start.x - (at.x - from.x) / start.zoom,
                    y: start.y - (at.y - from.y) / start.zoom,
                    ..start
                });
            }
            Gesture::Drag { token, grab } => {
                let map = camera.get_untracked().to_map(at);
                let position = Point::new(map.x - grab.x, map.y - grab.y);
                dragging.set(Some((token, position)));
                // Others see the drag at up to 30 frames a second.
                let now = js_now();
                if now - last_preview.get_value() >= 33.0 {
                    last_preview.set_value(now);
                    table.drag_preview(token, position);
                }
            }
            Gesture::Pinch {
                distance,
                middle,
                camera: start,
            } => {
                let (now_distance, now_middle) = pinch_of(&pointers.get_value());
                if distance > 0.0 {
                    let zoomed = start.zoomed(now_distance / distance, middle);
                    camera.set(Camera {
                        x: zoomed.x - (now_middle.x - middle.x) / zoomed.zoom,
                        y: zoomed.y - (now_middle.y - middle.y) / zoomed.zoom,
                        ..zoomed
                    });
                }
            }
            Gesture::Paint { reveal, mut cells } => {
                let cell = cell_at(camera.get_untracked().to_map(at));
                if cells.insert(cell) {
                    painted.update(|p| {
                        p.insert(cell);
                    });
                    gesture.set_value(Gesture::Paint { reveal, cells });
                }
            }
        }
    };

    // The browser took the pointer away (a system gesture, a palm): the
    // drag or the painting is dropped, nothing is asked.
    let on_pointer_cancel = move |e: ev::PointerEvent| {
        pointers.update_value(|p| {
            p.remove(&e.pointer_id());
        });
        gesture.set_value(Gesture::Idle);
        dragging.set(None);
        painted.set(BTreeSet::new());
    };

    let on_pointer_up = move |e: ev::PointerEvent| {
        pointers.update_value(|p| {
            p.remove(&e.pointer_id());
        });
        let ended = gesture.get_value();
        gesture.set_value(Gesture::Idle);
        match ended {
            Gesture::Drag { token, .. } => {
                let Some((_, position)) = dragging.get_untracked() else {
                    return;
                };
                dragging.set(None);
                let to = snap(&settings(), position);
                let from = table
                    .board
                    .tokens()
                    .read_untracked()
                    .get(&token)
                    .map(|t| t.position);
                if from != Some(to) {
                    table.ask(Action::MoveToken { token, to });
                }
            }
            Gesture::Paint { reveal, cells } => {
                painted.set(BTreeSet::new());
                if let Some(encounter) = encounter() {
                    let cells = cells.into_iter().collect();
                    table.ask(if reveal {
                        Action::RevealFog { encounter, cells }
                    } else {
                        Action::HideFog { encounter, cells }
                    });
                }
            }
            _ => {}
        }
    };

    let on_wheel = move |e: ev::WheelEvent| {
        e.prevent_default();
        let at = screen_point(e.client_x(), e.client_y());
        let factor = (-e.delta_y() * 0.0015).exp();
        camera.update(|c| *c = c.zoomed(factor, at));
    };

    // The keys are the user's (preferences); the defaults are the arrows,
    // plus and minus.
    let prefs = crate::storage::use_prefs();
    let on_key = move |e: ev::KeyboardEvent| {
        use crate::storage::MapKey;
        let step = settings().grid_size;
        let (w, h) = size.get_untracked();
        let middle = Point::new(w / 2.0, h / 2.0);
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

    let layer_style = move || {
        let c = camera.get();
        format!(
            "transform: translate({}px, {}px) scale({});",
            -c.x * c.zoom,
            -c.y * c.zoom,
            c.zoom
        )
    };
    // The grid covers what is in view, drawn by the browser as a repeating
    // background in map pixels.
    // It covers the area the tokens are drawn for, so it changes only when
    // that does, not at every frame of a pan.
    let grid_style = move || {
        let map = settings();
        let g = map.grid_size;
        let area = drawn_area.get();
        let left = ((area.min.x - map.offset.x) / g).floor() * g + map.offset.x;
        let top = ((area.min.y - map.offset.y) / g).floor() * g + map.offset.y;
        format!(
            "left: {left}px; top: {top}px; width: {}px; height: {}px; background-size: {g}px {g}px;",
            area.max.x - left + g,
            area.max.y - top + g
        )
    };

    view! {
        <section class="battle-map" aria-label="Battle map">
            <Show when=move || table.is_gm()>
                <FogTools brush />
            </Show>
            <div
                class="map-viewport"
                class:painting=move || brush.get() != FogBrush::Off
                node_ref=viewport
                tabindex="0"
                role="application"
                aria-label=move || prefs.with(|p| {
                    let k = &p.keys;
                    format!(
                        "Battle map: {}, {}, {} and {} pan, {} and {} zoom; tab to a token to select it, arrow keys move it",
                        k.pan_left, k.pan_right, k.pan_up, k.pan_down, k.zoom_in, k.zoom_out
                    )
                })
                aria-roledescription="map"
                on:pointerdown=on_pointer_down
                on:pointermove=on_pointer_move
                on:pointerup=on_pointer_up
                on:pointercancel=on_pointer_cancel
                on:wheel=on_wheel
                on:keydown=on_key
            >
                <div class="map-layer" style=layer_style>
                    {move || {
                        settings()
                            .image
                            .map(|id| view! { <img class="map-image" src=format!("/media/{id}") alt="" draggable="false" /> })
                    }}
                    <div class="map-grid" style=grid_style></div>
                    <For each=move || visible.get() key=|id| *id let:id>
                        <TokenView id />
                    </For>
                    <PaintedCells painted settings=Signal::derive(settings) />
                </div>
                <FogLayer camera size />
                <p class="map-empty muted" class:hidden=move || encounter().is_some()>
                    "Waiting for the table…"
                </p>
            </div>
            // Not a live region: it changes with every frame of a pan.
            <p class="map-status muted">
                {move || format!("{} tokens in view, zoom {:.0} %", visible.get().len(), camera.get().zoom * 100.0)}
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
    brush: RwSignal<FogBrush>,
}

/// The token a pointer event started on, from its `data-token` attribute.
fn token_under(e: &ev::PointerEvent) -> Option<TokenId> {
    use wasm_bindgen::JsCast;
    let target = e.target()?.dyn_into::<web_sys::Element>().ok()?;
    let token = target.closest("[data-token]").ok()??;
    token.get_attribute("data-token")?.parse().ok()
}

/// The distance between two pointers and their middle.
fn pinch_of(pointers: &HashMap<i32, Point>) -> (f64, Point) {
    let mut points = pointers.values();
    match (points.next(), points.next()) {
        (Some(a), Some(b)) => (
            ((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt(),
            Point::new((a.x + b.x) / 2.0, (a.y + b.y) / 2.0),
        ),
        _ => (0.0, Point::default()),
    }
}

/// The top-left corner of the cell nearest to where a token was dropped.
pub fn snap(map: &MapSettings, position: Point) -> Point {
    let g = map.grid_size;
    let axis = |v: f64, offset: f64| ((v - offset) / g).round() * g + offset;
    Point::new(
        axis(position.x, map.offset.x),
        axis(position.y, map.offset.y),
    )
}

fn js_now() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0.0
    }
}

/// One token: a button, so it is reachable and movable with the keyboard.
#[component]
fn TokenView(id: TokenId) -> impl IntoView {
    let table = expect_context::<Table>();
    let MapState {
        camera,
        size,
        grid: map_grid,
        selected,
        dragged,
        dragging,
        ..
    } = expect_context::<MapState>();
    let entry = table.board.tokens().at_key(id);
    // One read of the board entry for everything the token draws.
    let held = Memo::new(move |_| entry.try_get());
    let token = move || held.get();
    let grid = move || map_grid.get();
    let preview = table.preview(id);
    let moving = {
        let (preview, dragged) = (preview.clone(), dragged.clone());
        move || dragged.selected(&Some(id)) || preview.with(Option::is_some)
    };
    // Where to draw it: my drag, someone's preview, or where it stands.
    let position = Memo::new(move |_| {
        if dragged.selected(&Some(id))
            && let Some((_, at)) = dragging.get()
        {
            return Some(at);
        }
        if let Some(at) = preview.get() {
            return Some(at);
        }
        held.with(|t| t.as_ref().map(|t| t.position))
    });
    let style = move || {
        let Some(at) = position.get() else {
            return String::new();
        };
        let side = held.with(|t| t.as_ref().map_or(1.0, |t| t.scale)) * grid().grid_size;
        format!(
            "transform: translate({}px, {}px); width: {side}px; height: {side}px;",
            at.x, at.y
        )
    };
    let label = move || {
        let Some(t) = token() else {
            return String::new();
        };
        let cell = grid().cell_at(t.position);
        let mut label = format!("{}, column {}, row {}", t.name, cell.0 + 1, cell.1 + 1);
        if !t.conditions.is_empty() {
            let conditions: Vec<&str> = t.conditions.iter().map(String::as_str).collect();
            label.push_str(&format!(", {}", conditions.join(", ")));
        }
        match t.visibility {
            Visibility::Visible => {}
            Visibility::GmOnly => label.push_str(", GM only"),
            Visibility::Hidden => label.push_str(", hidden"),
        }
        label
    };
    let is_selected = selected.clone();
    let class = move || {
        let mut class = String::from("token");
        if let Some(t) = token() {
            match t.visibility {
                Visibility::Visible => {}
                Visibility::GmOnly => class.push_str(" gm-only"),
                Visibility::Hidden => class.push_str(" hidden-token"),
            }
        }
        if is_selected.selected(&Some(id)) {
            class.push_str(" selected");
        }
        if moving() {
            class.push_str(" moving");
        }
        class
    };
    let initials = move || {
        token()
            .map(|t| t.name.chars().take(2).collect::<String>())
            .unwrap_or_default()
    };
    // Arrow keys move the selected token one cell (a request like a drop).
    let on_key = move |e: ev::KeyboardEvent| {
        let (dx, dy) = match e.key().as_str() {
            "ArrowLeft" => (-1.0, 0.0),
            "ArrowRight" => (1.0, 0.0),
            "ArrowUp" => (0.0, -1.0),
            "ArrowDown" => (0.0, 1.0),
            "Escape" => {
                table.selected.set(None);
                return;
            }
            "Enter" | " " => {
                table.selected.set(Some(id));
                e.prevent_default();
                return;
            }
            _ => return,
        };
        e.prevent_default();
        e.stop_propagation();
        let Some(t) = token() else { return };
        let g = grid().grid_size;
        table.selected.set(Some(id));
        let to = Point::new(t.position.x + dx * g, t.position.y + dy * g);
        table.ask(Action::MoveToken { token: id, to });
        // Keep the token (and so its focus) in view: the camera follows it
        // a cell at a time when it reaches an edge.
        let seen = camera.get_untracked().visible(size.get_untracked(), -g);
        let side = t.scale * g;
        camera.update(|c| {
            if to.x < seen.min.x {
                c.x -= g;
            } else if to.x + side > seen.max.x {
                c.x += g;
            }
            if to.y < seen.min.y {
                c.y -= g;
            } else if to.y + side > seen.max.y {
                c.y += g;
            }
        });
    };
    view! {
        <button
            type="button"
            class=class
            style=style
            data-token=id.to_string()
            aria-label=label
            aria-pressed=move || selected.selected(&Some(id)).to_string()
            on:keydown=on_key
            on:focus=move |_| table.selected.set(Some(id))
        >
            <span class="token-initials" aria-hidden="true">{initials}</span>
        </button>
    }
    .into_any()
}

/// The cells the GM is painting, before the request goes out.
#[component]
fn PaintedCells(painted: RwSignal<BTreeSet<Cell>>, settings: Signal<MapSettings>) -> impl IntoView {
    move || {
        let map = settings.get();
        let g = map.grid_size;
        painted
            .get()
            .into_iter()
            .map(|cell| {
                let style = format!(
                    "transform: translate({}px, {}px); width: {g}px; height: {g}px;",
                    f64::from(cell.0) * g + map.offset.x,
                    f64::from(cell.1) * g + map.offset.y
                );
                view! { <div class="painted-cell" style=style></div> }
            })
            .collect_view()
    }
}

/// The GM's fog brush.
#[component]
fn FogTools(brush: RwSignal<FogBrush>) -> impl IntoView {
    let table = expect_context::<Table>();
    let fog_on = move || table.with_encounter(|e| e.fog.enabled).unwrap_or(false);
    let toggle_fog =
        move |_| table.set_encounter_field("fog/enabled", serde_json::json!(!fog_on()));
    let pick = move |choice: FogBrush| move |_| brush.set(choice);
    view! {
        <div class="fog-tools" role="toolbar" aria-label="Fog of war">
            <button type="button" on:click=toggle_fog aria-pressed=move || fog_on().to_string()>
                {move || if fog_on() { "Fog on" } else { "Fog off" }}
            </button>
            <button type="button" aria-pressed=move || (brush.get() == FogBrush::Off).to_string() on:click=pick(FogBrush::Off)>
                "Move"
            </button>
            <button type="button" aria-pressed=move || (brush.get() == FogBrush::Reveal).to_string() on:click=pick(FogBrush::Reveal)>
                "Reveal"
            </button>
            <button type="button" aria-pressed=move || (brush.get() == FogBrush::Hide).to_string() on:click=pick(FogBrush::Hide)>
                "Cover"
            </button>
        </div>
    }
    .into_any()
}

/// The fog over the map: opaque for players, a tint for the GM, redrawn
/// when the camera or the fog changes, only over the cells in view.
#[component]
fn FogLayer(camera: RwSignal<Camera>, size: RwSignal<(f64, f64)>) -> impl IntoView {
    let table = expect_context::<Table>();
    let canvas = NodeRef::<html::Canvas>::new();
    // Whether the canvas holds fog now (so a map without fog costs
    // nothing per frame).
    #[cfg(feature = "hydrate")]
    let drawn = StoredValue::new(false);
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
        let gm = table.is_gm();
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
        let (first, last) = map.cells_under(&area);
        for column in first.0..=last.0 {
            for cell in fog
                .revealed
                .range(Cell(column, first.1)..=Cell(column, last.1))
            {
                let x = (f64::from(cell.0) * g + map.offset.x - c.x) * c.zoom;
                let y = (f64::from(cell.1) * g + map.offset.y - c.y) * c.zoom;
                context.clear_rect(x, y, g * c.zoom + 0.5, g * c.zoom + 0.5);
            }
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (camera, size, table);
    view! { <canvas class="fog-layer" node_ref=canvas aria-hidden="true"></canvas> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zooming_keeps_the_point_under_the_cursor() {
        let camera = Camera {
            x: 100.0,
            y: 50.0,
            zoom: 1.0,
        };
        let cursor = Point::new(300.0, 200.0);
        let before = camera.to_map(cursor);
        let zoomed = camera.zoomed(2.0, cursor);
        assert_eq!(zoomed.zoom, 2.0);
        let after = zoomed.to_map(cursor);
        assert!((before.x - after.x).abs() < 1e-9 && (before.y - after.y).abs() < 1e-9);
        assert_eq!(camera.zoomed(1000.0, cursor).zoom, MAX_ZOOM);
    }

    #[test]
    fn drops_snap_to_the_nearest_cell() {
        let map = MapSettings {
            grid_size: 50.0,
            ..MapSettings::default()
        };
        assert_eq!(snap(&map, Point::new(74.0, 26.0)), Point::new(50.0, 50.0));
        assert_eq!(snap(&map, Point::new(-26.0, 0.0)), Point::new(-50.0, 0.0));
    }
}
