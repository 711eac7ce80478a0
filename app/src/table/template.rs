//! Area templates on the map: the circle, cone, line or square of a spell,
//! placed with the template tool (or from a spell on a sheet), the cells
//! inside shaded and the tokens inside ringed and listed. Which cells and
//! tokens are inside is `shared::template`, the code the server would use;
//! each browser asks it of the tokens it holds, so the list never names a
//! token its reader may not see. The server relays the template to whoever
//! sees its origin; nothing is stored.

use leptos::prelude::*;
use shared::{
    encounter::MapSettings,
    geometry::Point,
    id::UserId,
    protocol::ClientMessage,
    template::{Shape, Template},
};

use super::Table;

/// Templates whose area holds more cells than this are drawn as an outline
/// alone: shading a 1,000-ft circle cell by cell is hundreds of thousands
/// of boxes for the browser to lay out.
const MAX_SHADED_CELLS: f64 = 4_000.0;

impl Table {
    /// My template now (none: put away): drawn here, sent to the others
    /// when `send` (a drag sends at most every few frames, and always its
    /// last).
    pub fn show_template(&self, template: Option<Template>, send: bool) {
        let (Some(encounter), Some(me)) = (self.encounter(), self.me.get_untracked()) else {
            return;
        };
        if send {
            self.send_all([ClientMessage::ShowTemplate {
                encounter,
                template,
            }]);
        }
        self.template_shown(template, me.user);
    }

    /// My template, if I placed one.
    pub fn my_template(&self) -> Option<Template> {
        let me = self.me.get_untracked()?;
        self.templates
            .with_untracked(|templates| templates.get(&me.user).copied())
    }

    /// Someone's template now; none takes it away.
    pub(super) fn template_shown(&self, template: Option<Template>, by: UserId) {
        self.templates.update(|templates| match template {
            Some(template) => {
                templates.insert(by, template);
            }
            None => {
                templates.remove(&by);
            }
        });
    }

    /// The template tool, ready to place `shape` (a spell's area, named).
    pub fn aim(&self, shape: Shape, name: Option<String>) {
        self.template_shape.set(shape);
        self.template_name.set(name);
        self.tool.set(super::map::Tool::Template);
    }
}

/// Where a template's origin goes for a press at `at`: the nearest corner
/// or centre of a cell (or a square's edge), as tabletop rules place an
/// area's point.
pub fn snapped_origin(map: &MapSettings, at: Point) -> Point {
    if map.grid.is_hex() {
        let cell = map.cell_at(at);
        let distance = |p: &Point| (p.x - at.x).hypot(p.y - at.y);
        let mut points = map.outline(cell);
        points.push(map.center_of(cell));
        return points
            .into_iter()
            .min_by(|a, b| distance(a).total_cmp(&distance(b)))
            .unwrap_or(at);
    }
    let half = map.grid_size / 2.0;
    let snap = |value: f64, offset: f64| ((value - offset) / half).round() * half + offset;
    Point::new(snap(at.x, map.offset.x), snap(at.y, map.offset.y))
}

/// The direction from `origin` to `at`, in whole degrees clockwise from
/// east (the map's y grows downwards).
pub fn direction_to(origin: Point, at: Point) -> f64 {
    (at.y - origin.y)
        .atan2(at.x - origin.x)
        .to_degrees()
        .round()
        .rem_euclid(360.0)
}

/// A template's outline in map pixels: a circle's centre and radius, or
/// the corners of the other shapes.
enum Outline {
    Circle(Point, f64),
    Polygon(Vec<Point>),
}

fn outline(template: &Template, map: &MapSettings) -> Outline {
    let per_foot = map.grid_size / f64::from(map.feet_per_cell.max(1));
    let (sin, cos) = template.direction.to_radians().sin_cos();
    let o = template.origin;
    // A point `along` the direction and `across` it, from the origin.
    let at = |along: f64, across: f64| {
        Point::new(
            o.x + along * cos - across * sin,
            o.y + along * sin + across * cos,
        )
    };
    let feet = |value: u32| f64::from(value) * per_foot;
    match template.shape {
        Shape::Circle { radius } => Outline::Circle(o, feet(radius)),
        Shape::Cone { length } => {
            let l = feet(length);
            Outline::Polygon(vec![o, at(l, -l / 2.0), at(l, l / 2.0)])
        }
        Shape::Line { length, width } => {
            let (l, w) = (feet(length), feet(width) / 2.0);
            Outline::Polygon(vec![at(0.0, -w), at(l, -w), at(l, w), at(0.0, w)])
        }
        Shape::Square { side } => {
            let (l, w) = (feet(side), feet(side) / 2.0);
            Outline::Polygon(vec![at(0.0, -w), at(l, -w), at(l, w), at(0.0, w)])
        }
    }
}

/// What the table shows of one template.
#[derive(Clone, PartialEq)]
struct Shown {
    by: UserId,
    template: Template,
    mine: bool,
    /// Who placed it and what it is: `20-ft circle · Ana`.
    label: String,
    /// The names of the tokens inside, as this browser holds them.
    inside: Vec<(shared::id::TokenId, String)>,
}

/// The templates on the map and what each holds, as this browser sees
/// it: worked out once for the layer and the list together.
#[derive(Clone, Copy)]
pub struct TemplatesShown(Memo<Vec<Shown>>);

impl TemplatesShown {
    /// Follows the table's templates and the tokens under them.
    pub fn new(table: Table) -> Self {
        Self(Memo::new(move |_| shown(table)))
    }
}

fn shown(table: Table) -> Vec<Shown> {
    // Tokens moving change what is inside.
    table.layout.track();
    let me = table.me.get().map(|m| m.user);
    let name = table.template_name.get();
    let templates = table.templates.get();
    let Some(encounter) = table.encounter() else {
        return Vec::new();
    };
    templates
        .into_iter()
        .map(|(by, template)| {
            let mine = Some(by) == me;
            let inside = table.with_client(|c| {
                let Some(view) = c.view() else {
                    return Vec::new();
                };
                template
                    .tokens(view, encounter)
                    .into_iter()
                    .filter_map(|id| Some((id, view.token(id)?.name.clone())))
                    .collect()
            });
            let shape = template.shape.label();
            let label = match (mine, &name) {
                (true, Some(name)) => format!("{name} ({shape})"),
                (true, None) => shape,
                (false, _) => {
                    let who = table
                        .names
                        .with(|names| names.get(&by).cloned())
                        .unwrap_or_else(|| "Someone".into());
                    format!("{shape} \u{b7} {who}")
                }
            };
            Shown {
                by,
                template,
                mine,
                label,
                inside,
            }
        })
        .collect()
}

/// The templates, in map pixels (inside the map's layer): each outline,
/// the cells inside shaded, a ring on each token inside.
#[component]
pub fn Templates(settings: Signal<MapSettings>, shown: TemplatesShown) -> impl IntoView {
    let table = expect_context::<Table>();
    let all = shown.0;
    let drawn = move || {
        let map = settings.get();
        let g = map.grid_size;
        all.get()
            .into_iter()
            .map(|shown| {
                let class = if shown.mine { "template mine" } else { "template" };
                let area = shown.template.bounds(&map);
                let few = (area.max.x - area.min.x) * (area.max.y - area.min.y) / (g * g)
                    <= MAX_SHADED_CELLS;
                let cells = few.then(|| {
                    shown
                        .template
                        .cells(&map)
                        .into_iter()
                        .map(|cell| {
                            if map.grid.is_hex() {
                                let points = crate::table::map::polygon_points(&map, cell);
                                return view! { <polygon class="cell" points=points /> }.into_any();
                            }
                            let at = map.cell_origin(cell);
                            view! { <rect class="cell" x=at.x y=at.y width=g height=g /> }.into_any()
                        })
                        .collect_view()
                });
                let rings = shown
                    .inside
                    .iter()
                    .filter_map(|(id, _)| {
                        let bounds = table.with_token(*id, |t| t.bounds(g))?;
                        Some(view! {
                            <rect class="hit" x=bounds.min.x y=bounds.min.y
                                width=bounds.max.x - bounds.min.x height=bounds.max.y - bounds.min.y
                                rx=g * 0.15 />
                        })
                    })
                    .collect_view();
                let shape = match outline(&shown.template, &map) {
                    Outline::Circle(c, r) => {
                        view! { <circle class="edge" cx=c.x cy=c.y r=r /> }.into_any()
                    }
                    Outline::Polygon(points) => {
                        let points = points
                            .iter()
                            .map(|p| format!("{},{}", p.x, p.y))
                            .collect::<Vec<_>>()
                            .join(" ");
                        view! { <polygon class="edge" points=points /> }.into_any()
                    }
                };
                let o = shown.template.origin;
                let label_style = format!(
                    "transform: translate({}px, {}px); font-size: {}px;",
                    o.x + g * 0.3,
                    o.y + g * 0.2,
                    (g * 0.3).max(11.0)
                );
                view! {
                    <svg class=class aria-hidden="true" width="1" height="1">
                        {cells}
                        {shape}
                        {rings}
                        <circle class="origin" cx=o.x cy=o.y r=g * 0.1 />
                    </svg>
                    <span class="ruler-label" data-test="template" style=label_style>{shown.label.clone()}</span>
                }
            })
            .collect_view()
    };
    view! { <div class="templates">{drawn}</div> }
}

/// Beside the map: each template and the tokens inside it, with a button
/// to put mine away.
#[component]
pub fn TemplateList(shown: TemplatesShown) -> impl IntoView {
    let table = expect_context::<Table>();
    let all = shown.0;
    move || {
        let all = all.get();
        (!all.is_empty()).then(|| {
            let rows = all
                .into_iter()
                .map(|shown| {
                    let names = if shown.inside.is_empty() {
                        "no token inside".to_owned()
                    } else {
                        shown
                            .inside
                            .iter()
                            .map(|(_, name)| name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    let count = shown.inside.len();
                    let remove = shown.mine.then(|| {
                        view! {
                            <button type="button" class="link" data-test="remove-template"
                                on:click=move |_| table.show_template(None, true)>
                                "Remove"
                            </button>
                        }
                    });
                    view! {
                        <li data-test="template-row" data-by=shown.by.to_string()>
                            <strong>{shown.label.clone()}</strong>
                            {format!(": {count} inside \u{2014} ")}
                            <span data-test="template-tokens">{names}</span>
                            " "
                            {remove}
                        </li>
                    }
                })
                .collect_view();
            view! {
                <ul class="template-list" aria-label="Area templates" aria-live="polite">{rows}</ul>
            }
        })
    }
}
