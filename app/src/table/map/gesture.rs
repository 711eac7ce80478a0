//! What the pointers do on the map: pan, pinch, drag a token (with a live
//! preview for everyone else, then a move request at the drop), measure,
//! or paint fog. One [`Pointers`] value holds the map's signals; each browser event
//! is one of its methods.

use std::collections::{BTreeSet, HashMap};

use leptos::{ev, html, prelude::*};
use shared::{
    action::{Action, TokenMove},
    encounter::MapSettings,
    geometry::{Cell, Point},
    id::{EncounterId, TokenId},
    rules::may_move_token,
    template::{Shape, Template},
};

use super::{camera::Camera, tools::Tool};
use crate::table::{Table, board::BoardStoreFields};

/// How long a press on the map's background is held for a ping.
#[cfg(feature = "hydrate")]
const LONG_PRESS: std::time::Duration = std::time::Duration::from_millis(500);
/// How far the pointer may wander during a long press, in screen pixels.
#[cfg(feature = "hydrate")]
const STILL_PX: f64 = 6.0;

/// What the pointer is doing.
#[derive(Debug, Clone, Default)]
pub(super) enum Gesture {
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
    /// Measuring: the ruler's points before this drag.
    Measure { base: Vec<Point> },
    /// Placing my template: where it was pressed.
    Aim { origin: Point },
    /// Drawing with the pen (the stroke is `Table::sketch`).
    Sketch,
    /// Erasing what the pointer passes over (`Table::erasing`).
    Rub,
    /// Building a wall from where it was pressed (`Table::wall_sketch`).
    Wall { from: Point },
}

/// The map's pointer handling: the signals the gestures read and move.
#[derive(Clone, Copy)]
pub(super) struct Pointers {
    pub(super) table: Table,
    pub(super) camera: RwSignal<Camera>,
    pub(super) viewport: NodeRef<html::Div>,
    pub(super) grid: Memo<MapSettings>,
    pub(super) encounter: Memo<Option<EncounterId>>,
    pub(super) gesture: StoredValue<Gesture>,
    /// Every pointer down on the map, where it is now.
    pub(super) pointers: StoredValue<HashMap<i32, Point>>,
    /// The token I drag and where it is now.
    pub(super) dragging: RwSignal<Option<(TokenId, Point)>>,
    pub(super) tool: RwSignal<Tool>,
    /// The cells painted so far, before the request goes out.
    pub(super) painted: RwSignal<BTreeSet<Cell>>,
    /// When the last drag preview went out (ms).
    pub(super) last_preview: StoredValue<f64>,
}

impl Pointers {
    /// A viewport point from a client point.
    pub(super) fn screen_point(self, x: i32, y: i32) -> Point {
        let origin = self
            .viewport
            .get_untracked()
            .map(|el| {
                let rect = el.get_bounding_client_rect();
                (rect.left(), rect.top())
            })
            .unwrap_or_default();
        Point::new(f64::from(x) - origin.0, f64::from(y) - origin.1)
    }

    fn cell_at(self, map: Point) -> Cell {
        self.grid.get_untracked().cell_at(map)
    }

    pub(super) fn down(self, e: ev::PointerEvent) {
        let at = self.screen_point(e.client_x(), e.client_y());
        self.pointers.update_value(|p| {
            p.insert(e.pointer_id(), at);
        });
        if let Some(el) = self.viewport.get_untracked() {
            let _ = el.set_pointer_capture(e.pointer_id());
        }
        let camera = self.camera.get_untracked();
        if self.pointers.with_value(HashMap::len) == 2 {
            // A second finger turns whatever the first began into a pinch.
            self.dragging.set(None);
            self.painted.set(BTreeSet::new());
            self.table.sketch.set(Vec::new());
            self.table.erasing.set(BTreeSet::new());
            self.table.wall_sketch.set(None);
            let (distance, middle) = pinch_of(&self.pointers.get_value());
            self.gesture.set_value(Gesture::Pinch {
                distance,
                middle,
                camera,
            });
            return;
        }
        match (token_under(&e), self.tool.get_untracked()) {
            // A ruler starts anywhere, on a token as well.
            (_, Tool::Ruler) => self.start_ruler(camera.to_map(at)),
            // So does a template (a cone from a token's edge).
            (_, Tool::Template) => self.start_template(camera.to_map(at)),
            // And a stroke (a circle around a token).
            (_, Tool::Draw) => {
                self.table.sketch.set(vec![camera.to_map(at)]);
                self.gesture.set_value(Gesture::Sketch);
            }
            (_, Tool::Erase) => {
                self.gesture.set_value(Gesture::Rub);
                self.rub(camera.to_map(at));
            }
            (_, Tool::Walls) => {
                let from = self
                    .table
                    .wall_end(camera.to_map(at), camera.zoom, e.shift_key());
                self.table.wall_sketch.set(Some((from, from)));
                self.gesture.set_value(Gesture::Wall { from });
            }
            (Some(token), _) if e.shift_key() => self.add_to_group(token),
            (Some(token), _) => self.grab(token, camera.to_map(at)),
            (None, tool @ (Tool::Reveal | Tool::Hide)) => {
                let cell = self.cell_at(camera.to_map(at));
                self.painted.set(BTreeSet::from([cell]));
                self.gesture.set_value(Gesture::Paint {
                    reveal: tool == Tool::Reveal,
                    cells: BTreeSet::from([cell]),
                });
            }
            (None, Tool::Move) => {
                self.gesture.set_value(Gesture::Pan { from: at, camera });
                #[cfg(feature = "hydrate")]
                {
                    let pointer = e.pointer_id();
                    set_timeout(move || self.long_press(pointer, at, camera), LONG_PRESS);
                }
            }
        }
    }

    /// A press on the map's background held still for [`LONG_PRESS`]:
    /// a ping there. Anything else since (a pan, a second finger, the
    /// button let go, the map gone) and it is not one.
    #[cfg(feature = "hydrate")]
    fn long_press(self, pointer: i32, at: Point, camera: Camera) {
        let held = self
            .gesture
            .try_with_value(|g| matches!(g, Gesture::Pan { from, .. } if *from == at))
            .unwrap_or(false);
        let still = self
            .pointers
            .try_with_value(|p| {
                p.len() == 1
                    && p.get(&pointer)
                        .is_some_and(|now| (now.x - at.x).hypot(now.y - at.y) <= STILL_PX)
            })
            .unwrap_or(false);
        if held && still {
            self.table.point_at(camera.to_map(at));
        }
    }

    /// A press with the ruler: from the end of my ruler (a waypoint) if
    /// it is pressed in that cell, or a new ruler from the cell pressed.
    fn start_ruler(self, map: Point) {
        let grid = self.grid.get_untracked();
        let mine = self.table.my_ruler();
        let continues = mine
            .last()
            .is_some_and(|end| grid.cell_at(*end) == grid.cell_at(map));
        let base = if continues {
            mine
        } else {
            vec![grid.center_of(grid.cell_at(map))]
        };
        // A new ruler replaces the old one for everyone once it is drawn.
        self.table.measure(base.clone(), false);
        self.gesture.set_value(Gesture::Measure { base });
    }

    /// A press with the template tool: my template, its point there (it
    /// keeps the way my last one pointed).
    fn start_template(self, map: Point) {
        let origin = crate::table::template::snapped_origin(&self.grid.get_untracked(), map);
        let template = Template {
            shape: self.table.template_shape.get_untracked(),
            origin,
            direction: self.table.my_template().map_or(0.0, |t| t.direction),
        };
        self.table.show_template(Some(template), true);
        self.gesture.set_value(Gesture::Aim { origin });
    }

    /// The eraser over `map`: what it touches is marked, and erased when
    /// the pointer lifts.
    fn rub(self, map: Point) {
        let reach = crate::table::drawing::ERASER_REACH_PX / self.camera.get_untracked().zoom;
        let touched = self.table.erasable_at(map, reach);
        if touched
            .iter()
            .any(|id| !self.table.erasing.with_untracked(|e| e.contains(id)))
        {
            self.table.erasing.update(|e| e.extend(touched));
        }
    }

    /// A shift-click: the token joins the group (or leaves it), with the
    /// one selected before.
    fn add_to_group(self, token: TokenId) {
        let table = self.table;
        let before = table.selected.get_untracked();
        table.group.update(|group| {
            if let Some(before) = before {
                group.insert(before);
            }
            if !group.remove(&token) {
                group.insert(token);
            }
        });
        table.selected.set(Some(token));
    }

    /// A token under the pointer: selected, and dragged if I may move it.
    /// A token outside the group ends the group.
    fn grab(self, token: TokenId, map: Point) {
        let table = self.table;
        if table
            .group
            .with_untracked(|g| !g.is_empty() && !g.contains(&token))
        {
            table.group.update(BTreeSet::clear);
        }
        let may_move = table.with_client(|c| match (c.me(), c.view()) {
            (Some(me), Some(view)) => may_move_token(&me, view, token),
            _ => false,
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
            self.gesture.set_value(Gesture::Drag {
                token,
                grab: Point::new(map.x - position.x, map.y - position.y),
            });
        }
    }

    pub(super) fn moved(self, e: ev::PointerEvent) {
        let at = self.screen_point(e.client_x(), e.client_y());
        let known = self.pointers.try_update_value(|p| {
            p.get_mut(&e.pointer_id())
                .map(|point| *point = at)
                .is_some()
        });
        if known != Some(true) {
            return;
        }
        match self.gesture.get_value() {
            Gesture::Idle => {}
            Gesture::Pan {
                from,
                camera: start,
            } => {
                self.camera.set(Camera {
                    x: start.x - (at.x - from.x) / start.zoom,
                    y: start.y - (at.y - from.y) / start.zoom,
                    ..start
                });
            }
            Gesture::Drag { token, grab } => {
                let map = self.camera.get_untracked().to_map(at);
                let position = Point::new(map.x - grab.x, map.y - grab.y);
                self.dragging.set(Some((token, position)));
                // Others see the drag at up to 30 frames a second.
                let now = js_now();
                if now - self.last_preview.get_value() >= 33.0 {
                    self.last_preview.set_value(now);
                    self.table.drag_preview(token, position);
                }
            }
            Gesture::Pinch {
                distance,
                middle,
                camera: start,
            } => {
                let (now_distance, now_middle) = pinch_of(&self.pointers.get_value());
                if distance > 0.0 {
                    let zoomed = start.zoomed(now_distance / distance, middle);
                    self.camera.set(Camera {
                        x: zoomed.x - (now_middle.x - middle.x) / zoomed.zoom,
                        y: zoomed.y - (now_middle.y - middle.y) / zoomed.zoom,
                        ..zoomed
                    });
                }
            }
            Gesture::Measure { base } => {
                let map = self.camera.get_untracked().to_map(at);
                let path = crate::table::ruler::extended(&self.grid.get_untracked(), &base, map);
                if self.table.my_ruler() != path {
                    // Others see it at up to 30 frames a second.
                    let now = js_now();
                    let send = now - self.last_preview.get_value() >= 33.0;
                    if send {
                        self.last_preview.set_value(now);
                    }
                    self.table.measure(path, send);
                }
            }
            Gesture::Aim { origin } => {
                let map = self.camera.get_untracked().to_map(at);
                let Some(mut template) = self.table.my_template() else {
                    return;
                };
                let grid = self.grid.get_untracked();
                if matches!(template.shape, Shape::Circle { .. }) {
                    // A circle has no direction: the drag moves it.
                    template.origin = crate::table::template::snapped_origin(&grid, map);
                } else if (map.x - origin.x).hypot(map.y - origin.y) >= grid.grid_size / 4.0 {
                    template.direction = crate::table::template::direction_to(origin, map);
                }
                if self.table.my_template() != Some(template) {
                    // Others see it at up to 30 frames a second.
                    let now = js_now();
                    let send = now - self.last_preview.get_value() >= 33.0;
                    if send {
                        self.last_preview.set_value(now);
                    }
                    self.table.show_template(Some(template), send);
                }
            }
            Gesture::Sketch => {
                let camera = self.camera.get_untracked();
                let map = camera.to_map(at);
                let freehand = self
                    .table
                    .draw_style
                    .with_untracked(|s| s.pen == crate::table::drawing::Pen::Freehand);
                self.table.sketch.update(|points| {
                    if !freehand {
                        points.truncate(1);
                        points.push(map);
                    } else if points.last().is_none_or(|last| {
                        (last.x - map.x).hypot(last.y - map.y) * camera.zoom
                            >= crate::table::drawing::PEN_STEP_PX
                    }) {
                        points.push(map);
                    }
                });
            }
            Gesture::Rub => self.rub(self.camera.get_untracked().to_map(at)),
            Gesture::Wall { from } => {
                let camera = self.camera.get_untracked();
                let to = self
                    .table
                    .wall_end(camera.to_map(at), camera.zoom, e.shift_key());
                if self.table.wall_sketch.get_untracked() != Some((from, to)) {
                    self.table.wall_sketch.set(Some((from, to)));
                }
            }
            Gesture::Paint { reveal, mut cells } => {
                let cell = self.cell_at(self.camera.get_untracked().to_map(at));
                if cells.insert(cell) {
                    self.painted.update(|p| {
                        p.insert(cell);
                    });
                    self.gesture.set_value(Gesture::Paint { reveal, cells });
                }
            }
        }
    }

    /// The browser took the pointer away (a system gesture, a palm): the
    /// drag or the painting is dropped, nothing is asked.
    pub(super) fn cancel(self, e: ev::PointerEvent) {
        self.pointers.update_value(|p| {
            p.remove(&e.pointer_id());
        });
        self.gesture.set_value(Gesture::Idle);
        self.dragging.set(None);
        self.painted.set(BTreeSet::new());
        self.table.sketch.set(Vec::new());
        self.table.erasing.set(BTreeSet::new());
        self.table.wall_sketch.set(None);
    }

    /// The end of a gesture: a dropped token asks to move (snapped to the
    /// grid), painted fog asks to be revealed or covered.
    pub(super) fn up(self, e: ev::PointerEvent) {
        self.pointers.update_value(|p| {
            p.remove(&e.pointer_id());
        });
        let ended = self.gesture.get_value();
        self.gesture.set_value(Gesture::Idle);
        let table = self.table;
        match ended {
            Gesture::Drag { token, .. } => {
                let Some((_, position)) = self.dragging.get_untracked() else {
                    return;
                };
                self.dragging.set(None);
                let map = self.grid.get_untracked();
                let to = map.snap(position);
                let from = table
                    .board
                    .tokens()
                    .read_untracked()
                    .get(&token)
                    .map(|t| t.position);
                let Some(from) = from else { return };
                if from == to {
                    return;
                }
                let group = table.group.get_untracked();
                if group.len() > 1 && group.contains(&token) {
                    // The whole group by the same offset, each into a
                    // cell (on hexagons an odd number of rows shifts by
                    // half a cell): one request.
                    let (dx, dy) = (to.x - from.x, to.y - from.y);
                    let tokens = table.board.tokens().read_untracked();
                    let moves = group
                        .iter()
                        .filter_map(|id| {
                            let at = tokens.get(id)?.position;
                            Some(TokenMove {
                                token: *id,
                                to: map.snap(Point::new(at.x + dx, at.y + dy)),
                            })
                        })
                        .collect();
                    drop(tokens);
                    table.ask(Action::MoveTokens { moves });
                } else {
                    table.ask(Action::MoveToken { token, to });
                }
            }
            // The ruler stays where it ends (pinned) until the next one,
            // Escape or another tool; the others get its last points.
            Gesture::Measure { .. } => {
                let path = table.my_ruler();
                table.measure(if path.len() >= 2 { path } else { Vec::new() }, true);
            }
            // The template stays where it ends until the next one, Escape
            // or its Remove; the others get where it ended.
            Gesture::Aim { .. } => {
                if let Some(template) = table.my_template() {
                    table.show_template(Some(template), true);
                }
            }
            // The stroke is asked for as it was drawn; until the answer
            // the optimistic view shows it.
            Gesture::Sketch => {
                let points = table.sketch.get_untracked();
                table.sketch.set(Vec::new());
                if let Some(drawing) = table.drawing_of(&points, self.camera.get_untracked().zoom) {
                    table.ask(Action::Draw {
                        drawing: Box::new(drawing),
                    });
                }
            }
            Gesture::Rub => {
                let rubbed = table.erasing.get_untracked();
                table.erasing.set(BTreeSet::new());
                table.erase(rubbed);
            }
            // A drag builds a wall; a click where it began removes the
            // wall under it.
            Gesture::Wall { from } => {
                let to = table.wall_sketch.get_untracked().map_or(from, |(_, to)| to);
                table.wall_sketch.set(None);
                if to == from {
                    let camera = self.camera.get_untracked();
                    let at = camera.to_map(self.screen_point(e.client_x(), e.client_y()));
                    table.remove_wall_at(at, crate::table::walls::REACH_PX / camera.zoom);
                } else {
                    table.build_wall(from, to);
                }
            }
            Gesture::Paint { reveal, cells } => {
                self.painted.set(BTreeSet::new());
                if let Some(encounter) = self.encounter.get_untracked() {
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
    }

    /// The wheel zooms around the pointer.
    pub(super) fn wheel(self, e: ev::WheelEvent) {
        e.prevent_default();
        let at = self.screen_point(e.client_x(), e.client_y());
        let factor = (-e.delta_y() * 0.0015).exp();
        self.camera.update(|c| *c = c.zoomed(factor, at));
    }
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

/// Milliseconds since the epoch (0 on the server, where nobody drags).
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
