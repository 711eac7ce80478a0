//! Walls at the table: the GM's wall tool (a drag builds one segment, its
//! ends snapped to a wall's end or a grid corner; a click on a wall
//! removes it), the layer that shows the GM every wall, and the doors
//! everyone may click. A player's click asks to open or close a door next
//! to their token; the rules in `shared` refuse it in the browser, and
//! again on the server, when the door is locked or too far.

use leptos::{ev, prelude::*};
use shared::{
    action::Action,
    geometry::Point,
    id::WallId,
    wall::{DoorState, MAX_WALLS_PER_REQUEST, Wall, WallKind},
};

use super::{Table, board::BoardStoreFields};

/// How near, in screen pixels, a wall's end pulls the tool's point.
pub const SNAP_PX: f64 = 12.0;
/// How near, in screen pixels, a click must be to remove a wall.
pub const REACH_PX: f64 = 8.0;

impl Table {
    /// Reads one wall, waking the reader when that wall changes (a door
    /// opens in place: the collection's readers are not woken).
    pub fn with_wall<T>(&self, wall: WallId, read: impl FnOnce(&Wall) -> T) -> Option<T> {
        if !self.board.walls().read().contains_key(&wall) {
            return None;
        }
        self.board.walls().at_key(wall).try_with(read)
    }

    /// Where the wall tool puts an end pressed at `at` (map pixels, at
    /// camera zoom `zoom`): on a wall's end within [`SNAP_PX`], else on
    /// the nearest corner of the grid cell under it; where it is when
    /// `free` (Shift held).
    pub fn wall_end(&self, at: Point, zoom: f64, free: bool) -> Point {
        if free {
            return at;
        }
        let reach = SNAP_PX / zoom;
        let distance = |p: &Point| (p.x - at.x).hypot(p.y - at.y);
        let near_end = self.board.walls().with_untracked(|walls| {
            walls
                .values()
                .flat_map(|w| [w.from, w.to])
                .filter(|p| distance(p) <= reach)
                .min_by(|a, b| distance(a).total_cmp(&distance(b)))
        });
        if let Some(end) = near_end {
            return end;
        }
        self.with_encounter(|e| {
            e.map
                .outline(e.map.cell_at(at))
                .into_iter()
                .min_by(|a, b| distance(a).total_cmp(&distance(b)))
        })
        .flatten()
        .unwrap_or(at)
    }

    /// Builds a wall of the tool's kind from `from` to `to`.
    pub fn build_wall(&self, from: Point, to: Point) {
        let Some(encounter) = self.encounter() else {
            return;
        };
        if from == to {
            return;
        }
        let kind = self.wall_kind.get_untracked();
        self.ask(Action::BuildWalls {
            walls: vec![Wall {
                id: WallId(super::new_action_id().0),
                encounter,
                from,
                to,
                kind,
                door: (kind == WallKind::Door).then_some(DoorState::Closed),
            }],
        });
    }

    /// Removes the wall nearest `at` within `reach` map pixels, if any.
    pub fn remove_wall_at(&self, at: Point, reach: f64) {
        let nearest = self.board.walls().with_untracked(|walls| {
            walls
                .values()
                .map(|w| (w.distance_to(at), w.id))
                .filter(|(d, _)| *d <= reach)
                .min_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, id)| id)
        });
        if let Some(id) = nearest {
            self.ask(Action::RemoveWalls { walls: vec![id] });
        }
    }

    /// Opens a closed door or closes an open one; with `lock` (the GM),
    /// locks it or unlocks it (closed).
    pub fn toggle_door(&self, wall: WallId, lock: bool) {
        let Some(now) = self
            .board
            .walls()
            .with_untracked(|walls| walls.get(&wall).and_then(|w| w.door))
        else {
            return;
        };
        let state = match (lock, now) {
            (true, DoorState::Locked) => DoorState::Closed,
            (true, _) => DoorState::Locked,
            (false, DoorState::Open) => DoorState::Closed,
            (false, _) => DoorState::Open,
        };
        self.ask(Action::SetDoor { wall, state });
    }
}

/// The walls the GM sees (a line each, coloured by kind) and the one
/// being drawn: an SVG layer in map pixels that takes no pointer events.
#[component]
pub fn WallLines() -> impl IntoView {
    let table = expect_context::<Table>();
    let ids = move || {
        table
            .board
            .walls()
            .read()
            .keys()
            .copied()
            .collect::<Vec<_>>()
    };
    let sketch = move || {
        let (from, to) = table.wall_sketch.get()?;
        let kind = table.wall_kind.get();
        Some(view! {
            <line class=format!("wall sketch {}", kind_class(kind)) x1=from.x y1=from.y x2=to.x y2=to.y />
        })
    };
    view! {
        <svg class="map-walls" aria-hidden="true">
            <For each=ids key=|id| *id let:id>
                {move || {
                    let wall = table.with_wall(id, Wall::clone)?;
                    let open = wall.door == Some(DoorState::Open);
                    Some(view! {
                        <line data-wall=id.to_string() class=format!("wall {}", kind_class(wall.kind))
                            class:open=open
                            x1=wall.from.x y1=wall.from.y x2=wall.to.x y2=wall.to.y />
                    })
                }}
            </For>
            {sketch}
        </svg>
    }
}

fn kind_class(kind: WallKind) -> &'static str {
    match kind {
        WallKind::Wall => "wall-solid",
        WallKind::Door => "wall-door",
        WallKind::Window => "wall-window",
        WallKind::Terrain => "wall-terrain",
    }
}

/// A button on every door, for everyone: a click opens or closes it (a
/// player's, when their token stands next to it); the GM's right click
/// locks or unlocks it.
#[component]
pub fn Doors(#[prop(into)] grid: Signal<f64>) -> impl IntoView {
    let table = expect_context::<Table>();
    let ids = move || {
        table
            .board
            .walls()
            .read()
            .values()
            .filter(|w| w.kind == WallKind::Door)
            .map(|w| w.id)
            .collect::<Vec<_>>()
    };
    view! {
        <For each=ids key=|id| *id let:id>
            {move || {
                let wall = table.with_wall(id, Wall::clone)?;
                let state = wall.door.unwrap_or_default();
                let middle = wall.middle();
                let side = (grid.get() * 0.4).max(12.0);
                let style = format!(
                    "left: {}px; top: {}px; width: {side}px; height: {side}px; font-size: {}px;",
                    middle.x - side / 2.0,
                    middle.y - side / 2.0,
                    side * 0.6
                );
                let gm = table.is_gm_or_assistant();
                let label = match (state, gm) {
                    (DoorState::Open, _) => "Close the door",
                    (DoorState::Closed, _) => "Open the door",
                    (DoorState::Locked, true) => "Unlock the door (right click) or open it",
                    (DoorState::Locked, false) => "The door is locked",
                };
                let title = if gm {
                    format!("{label}. Right click to lock or unlock.")
                } else {
                    label.to_owned()
                };
                Some(view! {
                    <button type="button" class=format!("door door-{}", state.label())
                        data-door=id.to_string() data-state=state.label()
                        aria-label=label title=title style=style
                        // The map's own gestures (pan, drag) start on a
                        // press; a door's press is its own.
                        on:pointerdown=|e: ev::PointerEvent| e.stop_propagation()
                        on:click=move |_| table.toggle_door(id, false)
                        on:contextmenu=move |e: ev::MouseEvent| {
                            if table.is_gm_or_assistant() {
                                e.prevent_default();
                                table.toggle_door(id, true);
                            }
                        }>
                        {match state {
                            DoorState::Open => "\u{25af}",
                            DoorState::Closed => "\u{25ae}",
                            DoorState::Locked => "\u{1f512}",
                        }}
                    </button>
                })
            }}
        </For>
    }
}

/// The wall tool's kind, and a way to clear the map's walls.
#[component]
pub fn WallTools() -> impl IntoView {
    let table = expect_context::<Table>();
    let kind = table.wall_kind;
    let any = move || !table.board.walls().read().is_empty();
    let hides = move || table.with_encounter(|e| e.map.vision).unwrap_or(false);
    let toggle_vision = move |_| {
        if let Some(encounter) = table.encounter() {
            table.ask(Action::Edit {
                changes: vec![shared::change::Change::set(
                    shared::path::Entity::Encounter(encounter).at(&["map", "vision"]),
                    !hides(),
                )],
            });
        }
    };
    let clear = move |_| {
        let all: Vec<WallId> = table
            .board
            .walls()
            .read_untracked()
            .keys()
            .copied()
            .collect();
        for chunk in all.chunks(MAX_WALLS_PER_REQUEST) {
            table.ask(Action::RemoveWalls {
                walls: chunk.to_vec(),
            });
        }
    };
    view! {
        <span class="wall-kinds" role="radiogroup" aria-label="Wall kind">
            {WallKind::ALL
                .into_iter()
                .map(|k| {
                    let chosen = move || kind.get() == k;
                    let title = match k {
                        WallKind::Wall => "Stops tokens and sight",
                        WallKind::Door => "Stops both while closed; players beside it open it",
                        WallKind::Window => "Stops tokens, not sight",
                        WallKind::Terrain => "Stops sight, not tokens (a curtain, undergrowth)",
                    };
                    view! {
                        <button type="button" role="radio" data-test=format!("wall-kind-{}", kind_class(k))
                            aria-checked=move || chosen().to_string() title=title
                            on:click=move |_| kind.set(k)>
                            {k.label()}
                        </button>
                    }
                })
                .collect_view()}
        </span>
        <button type="button" data-test="vision" aria-pressed=move || hides().to_string()
            on:click=toggle_vision
            title="Whether walls hide what is behind them: players then see only what their tokens have a line of sight to">
            {move || if hides() { "Walls hide" } else { "Walls hide nothing" }}
        </button>
        <Show when=hides>
            <crate::table::sight::Daylight />
            <crate::table::sight::ForgetExplored />
        </Show>
        <Show when=any>
            <button type="button" data-test="clear-walls" on:click=clear
                title="Remove every wall on this map (Ctrl+Z brings them back)">
                "Clear walls"
            </button>
        </Show>
    }
}
