//! Drawing on the map: the pen (freehand, a line, a rectangle, an
//! ellipse), the eraser, and the layer under the tokens that shows every
//! drawing this browser may see. A stroke is local while it is drawn and
//! one `Action::Draw` when the pointer lifts; the server filters each
//! drawing through the fog like a token (`shared::sight`).

use std::collections::BTreeSet;

use leptos::prelude::*;
use shared::{
    action::Action,
    change::Change,
    drawing::{Color, Drawing, MAX_DRAWING_POINTS, MAX_STROKE_WIDTH, Stroke, simplify},
    geometry::Point,
    id::DrawingId,
    path::Entity,
};

use super::{Table, board::BoardStoreFields};

/// How far apart, in screen pixels, the points a moving pen keeps are.
pub const PEN_STEP_PX: f64 = 3.0;
/// How close, in screen pixels, the eraser must pass to a stroke.
pub const ERASER_REACH_PX: f64 = 8.0;
/// Points nearer than this (screen pixels) to the line through their
/// neighbours are dropped from a finished freehand stroke.
const SMOOTHING_PX: f64 = 1.5;

/// What the pen draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pen {
    /// Follows the pointer.
    Freehand,
    /// From the press to the release.
    Line,
    /// A rectangle between the press and the release.
    Rectangle,
    /// An ellipse in that rectangle.
    Ellipse,
}

impl Pen {
    const ALL: [(Pen, &'static str, &'static str); 4] = [
        (Pen::Freehand, "freehand", "Freehand"),
        (Pen::Line, "line", "Line"),
        (Pen::Rectangle, "rectangle", "Rectangle"),
        (Pen::Ellipse, "ellipse", "Ellipse"),
    ];

    fn key(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(pen, ..)| *pen == self)
            .map_or("freehand", |(_, key, _)| key)
    }

    /// What it draws through `points` (as the pointer went): all of them
    /// freehand, the first and the last for a shape. `None` for no points.
    fn stroke(self, points: Vec<Point>) -> Option<Stroke> {
        let (from, to) = (*points.first()?, *points.last()?);
        Some(match self {
            Pen::Freehand => Stroke::Freehand { points },
            Pen::Line => Stroke::Line { from, to },
            Pen::Rectangle => Stroke::Rectangle { from, to },
            Pen::Ellipse => Stroke::Ellipse { from, to },
        })
    }

    fn from_key(key: &str) -> Pen {
        Self::ALL
            .iter()
            .find(|(_, k, _)| *k == key)
            .map_or(Pen::Freehand, |(pen, ..)| *pen)
    }
}

/// The pen's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DrawStyle {
    /// What it draws.
    pub pen: Pen,
    /// In what colour.
    pub color: Color,
    /// How wide, in map pixels.
    pub width: u32,
}

impl Default for DrawStyle {
    fn default() -> Self {
        Self {
            pen: Pen::Freehand,
            color: Color::PALETTE[0].1,
            width: 4,
        }
    }
}

impl Table {
    /// Whether I may draw on this map: the GM always, a player when the
    /// GM allows it, an observer never.
    pub fn may_draw(&self) -> bool {
        match self.me.get() {
            Some(me) if me.role.is_gm_or_assistant() => true,
            Some(me) if me.role == shared::rules::Role::Player => {
                self.with_encounter(|e| e.map.players_draw).unwrap_or(false)
            }
            _ => false,
        }
    }

    /// The drawing my pen makes of `points` (map pixels, as the pointer
    /// went), `zoom` the camera's: `None` for a press without a stroke.
    pub fn drawing_of(&self, points: &[Point], zoom: f64) -> Option<Drawing> {
        let (encounter, me) = (self.encounter()?, self.me.get_untracked()?);
        let style = self.draw_style.get_untracked();
        let (first, last) = (*points.first()?, *points.last()?);
        if points.len() < 2 || first == last && style.pen != Pen::Freehand {
            return None;
        }
        let points = match style.pen {
            Pen::Freehand => simplify(points, SMOOTHING_PX / zoom, MAX_DRAWING_POINTS),
            _ => points.to_vec(),
        };
        let shape = style.pen.stroke(points)?;
        Some(Drawing {
            id: DrawingId(super::new_action_id().0),
            encounter,
            author: me.user,
            shape,
            color: style.color,
            width: style.width,
        })
    }

    /// The drawings within `reach` map pixels of `at` that I may erase:
    /// any for the GM, my own for a player.
    pub fn erasable_at(&self, at: Point, reach: f64) -> Vec<DrawingId> {
        let Some(me) = self.me.get_untracked() else {
            return Vec::new();
        };
        let gm = me.role.is_gm_or_assistant();
        self.board
            .drawings()
            .read_untracked()
            .values()
            .filter(|d| gm || d.author == me.user)
            .filter(|d| d.distance_to(at) <= reach)
            .map(|d| d.id)
            .collect()
    }

    /// Erases what the eraser passed over, in one request.
    pub fn erase(&self, drawings: BTreeSet<DrawingId>) {
        if !drawings.is_empty() {
            self.ask(Action::Erase {
                drawings: drawings.into_iter().collect(),
            });
        }
    }
}

/// Every drawing on the map, and the stroke I am drawing: an SVG layer
/// in map pixels, under the tokens, that takes no pointer events.
#[component]
pub fn Drawings() -> impl IntoView {
    let table = expect_context::<Table>();
    let ids = move || {
        table
            .board
            .drawings()
            .read()
            .keys()
            .copied()
            .collect::<Vec<_>>()
    };
    let sketch = move || {
        let points = table.sketch.get();
        let style = table.draw_style.get();
        let me = table.me.get()?;
        let shape = style.pen.stroke(points)?;
        let drawing = Drawing {
            id: DrawingId(uuid::Uuid::nil()),
            encounter: table.encounter()?,
            author: me.user,
            shape,
            color: style.color,
            width: style.width,
        };
        Some(view! { <g class="sketch">{shape_view(&drawing)}</g> })
    };
    view! {
        <svg class="map-drawings" aria-hidden="true">
            <For each=ids key=|id| *id let:id>
                {move || {
                    let drawing = table.board.drawings().read().get(&id).cloned()?;
                    let erasing = move || table.erasing.with(|e| e.contains(&id));
                    Some(view! {
                        <g data-drawing=id.to_string() class:erasing=erasing>
                            {shape_view(&drawing)}
                        </g>
                    })
                }}
            </For>
            {sketch}
        </svg>
    }
}

/// One drawing as SVG.
fn shape_view(drawing: &Drawing) -> impl IntoView + use<> {
    let stroke = drawing.color.to_string();
    let width = drawing.width;
    let box_of = |from: &Point, to: &Point| {
        (
            from.x.min(to.x),
            from.y.min(to.y),
            (to.x - from.x).abs(),
            (to.y - from.y).abs(),
        )
    };
    match &drawing.shape {
        Stroke::Freehand { points } => {
            let points = points
                .iter()
                .map(|p| format!("{:.1},{:.1}", p.x, p.y))
                .collect::<Vec<_>>()
                .join(" ");
            view! { <polyline points=points fill="none" stroke=stroke stroke-width=width /> }
                .into_any()
        }
        Stroke::Line { from, to } => view! {
            <line x1=from.x y1=from.y x2=to.x y2=to.y stroke=stroke stroke-width=width />
        }
        .into_any(),
        Stroke::Rectangle { from, to } => {
            let (x, y, w, h) = box_of(from, to);
            view! { <rect x=x y=y width=w height=h fill="none" stroke=stroke stroke-width=width /> }
                .into_any()
        }
        Stroke::Ellipse { from, to } => {
            let (x, y, w, h) = box_of(from, to);
            view! {
                <ellipse cx=x + w / 2.0 cy=y + h / 2.0 rx=w / 2.0 ry=h / 2.0
                    fill="none" stroke=stroke stroke-width=width />
            }
            .into_any()
        }
    }
}

/// The pen's and the eraser's settings in the map's toolbar, and for the
/// GM whether players draw and a way to clear the map.
#[component]
pub fn DrawTools(#[prop(into)] drawing: Signal<bool>) -> impl IntoView {
    let table = expect_context::<Table>();
    let style = table.draw_style;
    let gm = move || table.is_gm_or_assistant();
    let players_draw = move || {
        table
            .with_encounter(|e| e.map.players_draw)
            .unwrap_or(false)
    };
    let toggle_players = move |_| {
        if let Some(encounter) = table.encounter() {
            table.ask(Action::Edit {
                changes: vec![Change::set(
                    Entity::Encounter(encounter).at(&["map", "players_draw"]),
                    !players_draw(),
                )],
            });
        }
    };
    let clear = move |_| {
        let all = table
            .board
            .drawings()
            .read_untracked()
            .keys()
            .copied()
            .collect();
        table.erase(all);
    };
    let any = move || !table.board.drawings().read().is_empty();
    view! {
        <Show when=move || drawing.get()>
            <label class="template-shape">
                <span class="visually-hidden">"Pen"</span>
                <select data-test="pen" prop:value=move || style.get().pen.key()
                    on:change=move |e| {
                        let pen = Pen::from_key(&event_target_value(&e));
                        style.update(|s| s.pen = pen);
                    }>
                    {Pen::ALL
                        .into_iter()
                        .map(|(_, key, label)| view! { <option value=key>{label}</option> })
                        .collect_view()}
                </select>
            </label>
            <span class="pen-colors" role="radiogroup" aria-label="Colour">
                {Color::PALETTE
                    .into_iter()
                    .map(|(name, color)| {
                        let chosen = move || style.get().color == color;
                        view! {
                            <button type="button" class="pen-color" role="radio" title=name aria-label=name
                                aria-checked=move || chosen().to_string()
                                style=format!("background: {color};")
                                on:click=move |_| style.update(|s| s.color = color)></button>
                        }
                    })
                    .collect_view()}
            </span>
            <label class="template-shape" title="The stroke's width in map pixels">
                <span class="visually-hidden">"Width"</span>
                <input type="range" min="1" max=MAX_STROKE_WIDTH data-test="pen-width"
                    prop:value=move || style.get().width.to_string()
                    on:input=move |e| {
                        if let Ok(width) = event_target_value(&e).parse::<u32>() {
                            style.update(|s| s.width = width.clamp(1, MAX_STROKE_WIDTH));
                        }
                    } />
            </label>
        </Show>
        <Show when=gm>
            <button type="button" data-test="players-draw" aria-pressed=move || players_draw().to_string()
                on:click=toggle_players
                title="Whether players may draw on this map (they erase only their own drawings)">
                {move || if players_draw() { "Players draw" } else { "Only I draw" }}
            </button>
            <Show when=any>
                <button type="button" data-test="erase-all" on:click=clear
                    title="Erase every drawing on this map (Ctrl+Z brings them back)">
                    "Clear drawings"
                </button>
            </Show>
        </Show>
    }
}
