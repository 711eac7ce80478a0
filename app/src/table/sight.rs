//! Darkness over what a player's tokens do not see, on a map where walls
//! hide, and the GM's preview of a player's view.
//!
//! The shapes come from [`shared::sight::view`], the same code the
//! server's filter asks, run on this browser's copy of the table: the
//! server has already left out every token and drawing out of sight, so
//! the darkness hides the map, not secrets. It is an SVG in map pixels
//! inside the map layer, so a pan moves it with the map and redraws
//! nothing; it is worked out again only when the table changes.
//!
//! What a player has seen stays dimmed rather than dark: each new view
//! adds its cells to what she explored ([`shared::sight::explored`]),
//! which the server keeps with the encounter.

use leptos::prelude::*;
use std::collections::BTreeSet;

use shared::{
    encounter::MapSettings,
    geometry::{Cell, Point, Rect},
    id::UserId,
    sight::{View, polygon::Polygon},
};

use super::Table;
use crate::table::board::BoardStoreFields as _;

/// How far past everything on the map the darkness reaches, in cells: the
/// map's image may run on past its last token.
const DARK_MARGIN_CELLS: f64 = 200.0;

/// The darkness a player sees, or the GM previewing one: black outside
/// sight, grey where only dim light reaches, soft at the edges.
#[component]
pub fn Darkness(#[prop(into)] grid: Signal<f64>) -> impl IntoView {
    let table = expect_context::<Table>();
    let view = Memo::new(move |_| {
        table.revision.track();
        let me = table.me.get()?;
        let viewer = if me.role.is_gm_or_assistant() {
            table.sight_as.get()?
        } else {
            me.user
        };
        let encounter = table.encounter()?;
        table.with_client(|c| {
            c.view()
                .and_then(|store| shared::sight::view(store, viewer, encounter))
        })
    });
    let preview = move || table.is_gm_or_assistant();
    // A player's own view: its cells join what she explored, and the new
    // ones go to the server. Asked again after a welcome, which brings
    // what the server kept (and what this browser saw while offline is
    // offered again).
    Effect::new(move |_| {
        table.explored.track();
        let (Some(view), Some((encounter, map))) =
            (view.get(), table.with_encounter(|e| (e.id, e.map)))
        else {
            return;
        };
        if table.is_gm_or_assistant() {
            return;
        }
        let seen = shared::sight::explored(&view, &map);
        let told = table
            .client
            .try_update_value(|c| c.explore(encounter, seen))
            .unwrap_or_default();
        if !told.is_empty() {
            table.send_all(told);
            table.explored.update(|n| *n += 1);
        }
    });
    // The GM previewing a player asks the server for what she explored
    // (and hears it grow); choosing nobody drops it.
    Effect::new(move |_| {
        let player = table.sight_as.get();
        if !table.is_gm_or_assistant() {
            return;
        }
        let ask = table
            .client
            .try_update_value(|c| c.preview_explored(player))
            .flatten();
        if let Some(ask) = ask {
            table.send_all([ask]);
            table.explored.update(|n| *n += 1);
        }
    });
    // What she explored, as the shapes to dim (for the GM, what the
    // previewed player explored).
    let explored = Memo::new(move |_| {
        table.explored.track();
        let (encounter, map) = table.with_encounter(|e| (e.id, e.map))?;
        table.with_client(|c| {
            c.explored(encounter)
                .map(|cells| (cells.len(), outline(cells, &map)))
        })
    });
    move || {
        let view = view.get()?;
        Some(darkness(&view, grid.get(), preview(), explored.get()))
    }
}

/// The outline of explored cells as one SVG path: a square grid's cells
/// joined in runs along each row, a hex grid's cells one by one.
fn outline(cells: &BTreeSet<Cell>, map: &MapSettings) -> String {
    use std::fmt::Write as _;
    let mut d = String::new();
    if map.grid.is_hex() {
        for cell in cells {
            for (i, p) in map.outline(*cell).into_iter().enumerate() {
                let _ = write!(d, "{}{:.1},{:.1}", if i == 0 { "M" } else { "L" }, p.x, p.y);
            }
            d.push('Z');
        }
        return d;
    }
    // Cells sort by column, then row: runs along a row are found by row.
    let mut rows: std::collections::BTreeMap<i32, Vec<i32>> = Default::default();
    for cell in cells {
        rows.entry(cell.1).or_default().push(cell.0);
    }
    let g = map.grid_size;
    for (row, columns) in rows {
        let mut start = 0;
        while start < columns.len() {
            let mut end = start + 1;
            while end < columns.len() && columns[end] == columns[end - 1] + 1 {
                end += 1;
            }
            let at = map.cell_origin(Cell(columns[start], row));
            let width = (end - start) as f64 * g;
            let _ = write!(
                d,
                "M{:.1},{:.1}h{width:.1}v{g:.1}h{:.1}Z",
                at.x, at.y, -width
            );
            start = end;
        }
    }
    d
}

/// The SVG: a dark rectangle whose mask is white (dark) everywhere but
/// where a token sees.
fn darkness(
    view: &View,
    grid: f64,
    preview: bool,
    explored: Option<(usize, String)>,
) -> impl IntoView + use<> {
    let margin = DARK_MARGIN_CELLS * grid;
    let area = Rect {
        min: Point::new(view.bounds.min.x - margin, view.bounds.min.y - margin),
        max: Point::new(view.bounds.max.x + margin, view.bounds.max.y + margin),
    };
    let (x, y) = (area.min.x, area.min.y);
    let (w, h) = (area.max.x - area.min.x, area.max.y - area.min.y);
    let full = move || view! { <rect x=x y=y width=w height=h fill="black" /> };
    let eyes = view
        .eyes
        .iter()
        .enumerate()
        .map(|(i, eye)| {
            let walls = format!("sight-eye-{i}");
            let range = format!("sight-range-{i}");
            let lit = if view.daylight {
                full().into_any()
            } else {
                // Dim light first, then bright light and darkvision over
                // it: where they overlap, the brighter wins.
                let circles = |radius: fn(&shared::sight::LightView) -> f64, fill: &'static str| {
                    view.lights
                        .iter()
                        .enumerate()
                        .map(|(j, light)| {
                            view! {
                                <circle clip-path=format!("url(#sight-light-{j})")
                                    cx=light.at.x cy=light.at.y r=radius(light) fill=fill />
                            }
                        })
                        .collect_view()
                };
                let dim = circles(|light| light.dim, "#5a5a5a");
                let bright = circles(|light| light.bright, "black");
                view! {
                    {dim}
                    {bright}
                    <circle cx=eye.at.x cy=eye.at.y r=eye.darkvision fill="black" />
                }
                .into_any()
            };
            let ranged = match eye.range {
                Some(r) => view! {
                    <clipPath id=range.clone()><circle cx=eye.at.x cy=eye.at.y r=r /></clipPath>
                    <g clip-path=format!("url(#{range})")>{lit}</g>
                }
                .into_any(),
                None => lit,
            };
            view! {
                <clipPath id=walls.clone()><polygon points=points(&eye.polygon) /></clipPath>
                <g clip-path=format!("url(#{walls})") data-eye=i>{ranged}</g>
            }
        })
        .collect_view();
    let lights = view
        .lights
        .iter()
        .enumerate()
        .map(|(j, light)| {
            view! {
                <clipPath id=format!("sight-light-{j}")><polygon points=points(&light.polygon) /></clipPath>
            }
        })
        .collect_view();
    let soft = (grid / 6.0).max(1.0);
    let (count, explored) = explored.unwrap_or_default();
    view! {
        <svg class="map-darkness" class:preview=preview aria-hidden="true" data-test="darkness"
            data-eyes=view.eyes.len() data-explored=count>
            <defs>
                {lights}
                <filter id="sight-soft" filterUnits="userSpaceOnUse" x=x y=y width=w height=h>
                    <feGaussianBlur stdDeviation=soft />
                </filter>
                <mask id="sight-mask" maskUnits="userSpaceOnUse" x=x y=y width=w height=h>
                    <rect x=x y=y width=w height=h fill="white" />
                    <g filter="url(#sight-soft)">
                        // Explored: the darkness at about three fifths (a mask mixes
                        // in linear light: #d4 is 0.66).
                        <path d=explored fill="#d4d4d4" />
                        {eyes}
                    </g>
                </mask>
            </defs>
            <rect class="dark" x=x y=y width=w height=h mask="url(#sight-mask)" />
        </svg>
    }
}

/// A polygon's vertices as SVG's `points`.
fn points(polygon: &Polygon) -> String {
    polygon
        .vertices
        .iter()
        .map(|p| format!("{:.1},{:.1}", p.x, p.y))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The GM's choice of whose sight to preview, on a map where walls hide:
/// everything (no darkness), or a player who has a token on the map.
#[component]
pub fn SightAs() -> impl IntoView {
    let table = expect_context::<Table>();
    let hides = move || table.with_encounter(|e| e.map.vision).unwrap_or(false);
    // The players with a token on this map, by name.
    let players = move || {
        let Some(here) = table.encounter() else {
            return Vec::new();
        };
        let owners: std::collections::BTreeSet<UserId> = table
            .board
            .tokens()
            .read()
            .values()
            .filter(|t| t.encounter == here)
            .filter_map(|t| t.actor)
            .filter_map(|a| table.board.actors().read().get(&a).and_then(|a| a.owner))
            .collect();
        let names = table.names.get();
        let mut players: Vec<(UserId, String)> = owners
            .into_iter()
            .map(|user| {
                let name = names
                    .get(&user)
                    .cloned()
                    .unwrap_or_else(|| "A player".to_owned());
                (user, name)
            })
            .collect();
        players.sort_by(|a, b| a.1.cmp(&b.1));
        players
    };
    let chosen = move || {
        table
            .sight_as
            .get()
            .map(|u| u.to_string())
            .unwrap_or_default()
    };
    let choose = move |e: leptos::ev::Event| {
        let value = event_target_value(&e);
        table
            .sight_as
            .set(value.parse::<uuid::Uuid>().ok().map(UserId));
    };
    view! {
        <Show when=hides>
            <label class="sight-as" title="Preview what a player's tokens see; everything else is dark for them">
                <span class="visually-hidden">"View as"</span>
                <select data-test="sight-as" on:change=choose prop:value=chosen>
                    <option value="">"See everything"</option>
                    {move || {
                        players()
                            .into_iter()
                            .map(|(user, name)| {
                                view! { <option value=user.to_string()>{format!("As {name} sees")}</option> }
                            })
                            .collect_view()
                    }}
                </select>
            </label>
        </Show>
    }
}

/// Lights a GM hands a token, in feet (the SRD's): bright, then dim out to.
const LIGHTS: [(&str, u32, u32); 5] = [
    ("Candle", 5, 10),
    ("Torch", 20, 40),
    ("Lantern", 30, 60),
    ("Bullseye lantern", 60, 120),
    ("Daylight spell", 60, 120),
];

/// Distances a GM picks from for darkvision and for range, in feet.
const FEET: [u32; 6] = [10, 30, 60, 90, 120, 300];

/// The GM's settings for the selected token on a map where walls hide:
/// how far it sees, its darkvision, the light it sheds.
#[component]
pub fn TokenSight() -> impl IntoView {
    use shared::{action::Action, change::Change, path::Entity, token::Light};
    let table = expect_context::<Table>();
    let hides = move || table.with_encounter(|e| e.map.vision).unwrap_or(false);
    let sight = move || {
        let id = table.selected.get()?;
        table.with_token(id, |t| t.sight)
    };
    let set = move |change: &dyn Fn(&mut shared::token::Sight)| {
        let Some(id) = table.selected.get_untracked() else {
            return;
        };
        let Some(mut now) = table.with_token(id, |t| t.sight) else {
            return;
        };
        change(&mut now);
        table.ask(Action::Edit {
            changes: vec![Change::set(
                Entity::Token(id).at(&["sight"]),
                serde_json::to_value(now).unwrap_or_default(),
            )],
        });
    };
    let feet = |e: &leptos::ev::Event| event_target_value(e).parse::<u32>().ok();
    let options = move |chosen: Option<u32>, none: &'static str| {
        let mut all =
            vec![view! { <option value="" selected=chosen.is_none()>{none}</option> }.into_any()];
        all.extend(FEET.into_iter().map(|f| {
            view! { <option value=f.to_string() selected=chosen == Some(f)>{format!("{f} ft")}</option> }
                .into_any()
        }));
        all
    };
    view! {
        <Show when=move || hides() && sight().is_some()>
            <div class="token-sight" role="group" aria-label="What this token sees and the light it sheds">
                <label>"Sees "
                    <select data-test="sight-range" on:change=move |e| {
                        let range = feet(&e);
                        set(&move |s| s.range = range);
                    }>
                        {move || options(sight().and_then(|s| s.range), "as far as walls let it")}
                    </select>
                </label>
                <label>"Darkvision "
                    <select data-test="darkvision" on:change=move |e| {
                        let dark = feet(&e).unwrap_or(0);
                        set(&move |s| s.darkvision = dark);
                    }>
                        {move || options(sight().map(|s| s.darkvision).filter(|d| *d > 0), "none")}
                    </select>
                </label>
                <label>"Light "
                    <select data-test="token-light" on:change=move |e| {
                        let light = event_target_value(&e)
                            .parse::<usize>()
                            .ok()
                            .and_then(|i| LIGHTS.get(i))
                            .map(|(_, bright, dim)| Light { bright: *bright, dim: *dim });
                        set(&move |s| s.light = light);
                    }>
                        {move || {
                            let now = sight().and_then(|s| s.light);
                            let mut all = vec![view! { <option value="" selected=now.is_none()>"none"</option> }.into_any()];
                            all.extend(LIGHTS.iter().enumerate().map(|(i, (name, bright, dim))| {
                                let this = Some(Light { bright: *bright, dim: *dim });
                                // Two lights of the same radii: the first named is shown.
                                let first = LIGHTS.iter().position(|l| (l.1, l.2) == (*bright, *dim)) == Some(i);
                                view! {
                                    <option value=i.to_string() selected=now == this && first>
                                        {format!("{name} ({bright}/{dim} ft)")}
                                    </option>
                                }.into_any()
                            }));
                            all
                        }}
                    </select>
                </label>
            </div>
        </Show>
    }
}

/// The GM's button that makes every player forget what they explored of
/// the map.
#[component]
pub fn ForgetExplored() -> impl IntoView {
    let table = expect_context::<Table>();
    let forget = move |_| {
        let message = table.with_client(|c| c.forget_explored());
        if let Some(message) = message {
            table.send_all([message]);
            table.toast(
                super::Tone::Info,
                "The players forgot what they explored of this map".into(),
            );
        }
    };
    view! {
        <button type="button" data-test="forget-explored" on:click=forget
            title="Players' maps keep what their tokens have seen, dimmed: forget it (a new night, a changed dungeon)">
            "Forget explored"
        </button>
    }
}

/// The GM's switch between a lit map and a dark one, where walls hide.
#[component]
pub fn Daylight() -> impl IntoView {
    use shared::{action::Action, change::Change, path::Entity};
    let table = expect_context::<Table>();
    let lit = move || table.with_encounter(|e| e.map.daylight).unwrap_or(true);
    let toggle = move |_| {
        if let Some(encounter) = table.encounter() {
            table.ask(Action::Edit {
                changes: vec![Change::set(
                    Entity::Encounter(encounter).at(&["map", "daylight"]),
                    !lit(),
                )],
            });
        }
    };
    view! {
        <button type="button" data-test="daylight" aria-pressed=move || (!lit()).to_string() on:click=toggle
            title="Whether the map is lit: in the dark, tokens see only by darkvision and the light tokens shed">
            {move || if lit() { "\u{2600} Lit" } else { "\u{1f311} Dark" }}
        </button>
    }
}
