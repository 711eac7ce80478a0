//! The ruler: a path from cell to cell through waypoints, its length in the
//! map's feet under the map's rule for diagonals (`shared::measure`), drawn
//! for everyone who sees all of it (the server relays it past the fog
//! filter; nothing is stored). A dragged token shows its way and distance
//! against its speed here too, for the one who drags it.

use leptos::prelude::*;
use shared::{
    encounter::MapSettings, geometry::Point, id::UserId, measure::MAX_RULER_POINTS,
    protocol::ClientMessage,
};

use super::Table;

impl Table {
    /// My ruler now: drawn here, sent to the others when `send` (a drag
    /// sends at most every few frames, and always its last).
    pub fn measure(&self, path: Vec<Point>, send: bool) {
        let (Some(encounter), Some(me)) = (self.encounter(), self.me.get_untracked()) else {
            return;
        };
        if send {
            self.send_all([ClientMessage::Measure {
                encounter,
                path: path.clone(),
            }]);
        }
        self.show_ruler(path, me.user);
    }

    /// My ruler's points (none when I have none).
    pub fn my_ruler(&self) -> Vec<Point> {
        let Some(me) = self.me.get_untracked() else {
            return Vec::new();
        };
        self.rulers
            .with_untracked(|rulers| rulers.get(&me.user).cloned())
            .unwrap_or_default()
    }

    /// Someone's ruler now; no points take it away.
    pub(super) fn show_ruler(&self, path: Vec<Point>, by: UserId) {
        self.rulers.update(|rulers| {
            if path.is_empty() {
                rulers.remove(&by);
            } else {
                rulers.insert(by, path);
            }
        });
    }
}

/// Where a ruler goes next: from `base` (its points so far) to the cell
/// under `at`; a new ruler when it has as many points as it may hold.
pub fn extended(map: &MapSettings, base: &[Point], at: Point) -> Vec<Point> {
    let end = map.center_of(map.cell_at(at));
    let mut path = if base.len() >= MAX_RULER_POINTS {
        Vec::new()
    } else {
        base.to_vec()
    };
    if path.last() != Some(&end) {
        path.push(end);
    }
    path
}

/// One line of the ruler layer: a path and what its label says.
struct Drawn {
    path: Vec<Point>,
    label: String,
    class: &'static str,
}

/// The rulers on the map and the way of the token I drag, in map pixels
/// (inside the map's layer).
#[component]
pub fn Rulers(
    settings: Signal<MapSettings>,
    dragging: RwSignal<Option<(shared::id::TokenId, Point)>>,
) -> impl IntoView {
    let table = expect_context::<Table>();
    let drawn = move || {
        let map = settings.get();
        let me = table.me.get().map(|m| m.user);
        let mut all: Vec<Drawn> = table.rulers.with(|rulers| {
            rulers
                .iter()
                .filter(|(_, path)| path.len() >= 2)
                .map(|(user, path)| {
                    let feet = map.feet_along(path);
                    let mine = Some(*user) == me;
                    let label = if mine {
                        format!("{feet} ft")
                    } else {
                        let name = table
                            .names
                            .with(|names| names.get(user).cloned())
                            .unwrap_or_else(|| "Someone".into());
                        format!("{feet} ft \u{b7} {name}")
                    };
                    Drawn {
                        path: path.clone(),
                        label,
                        class: if mine { "ruler mine" } else { "ruler" },
                    }
                })
                .collect()
        });
        if let Some((token, at)) = dragging.get() {
            let from = table.with_token(token, |t| (t.position, t.actor));
            if let Some((from, actor)) = from {
                let path = vec![
                    map.center_of(map.token_cell(from)),
                    // Where the drop would put it.
                    map.center_of(map.token_cell(at)),
                ];
                let feet = map.feet_along(&path);
                let speed =
                    actor.and_then(|a| table.with_client(|c| c.view()?.actor(a).map(|a| a.speed)));
                let (label, class) = match speed {
                    Some(speed) if feet > u64::from(speed) => {
                        (format!("{feet} / {speed} ft"), "ruler drag over")
                    }
                    Some(speed) => (format!("{feet} / {speed} ft"), "ruler drag"),
                    None => (format!("{feet} ft"), "ruler drag"),
                };
                if path[0] != path[1] {
                    all.push(Drawn { path, label, class });
                }
            }
        }
        let g = map.grid_size;
        all.into_iter()
            .map(|Drawn { path, label, class }| {
                let points = path
                    .iter()
                    .map(|p| format!("{},{}", p.x, p.y))
                    .collect::<Vec<_>>()
                    .join(" ");
                let end = path.last().copied().unwrap_or_default();
                let label_style = format!(
                    "transform: translate({}px, {}px); font-size: {}px;",
                    end.x + g * 0.3,
                    end.y - g * 0.45,
                    (g * 0.3).max(11.0)
                );
                view! {
                    <svg class=class aria-hidden="true" width="1" height="1">
                        <polyline points=points />
                        {path.iter().map(|p| view! { <circle cx=p.x cy=p.y r=g * 0.1 /> }).collect_view()}
                    </svg>
                    <span class="ruler-label" data-test="ruler" style=label_style>{label}</span>
                }
            })
            .collect_view()
    };
    view! { <div class="rulers">{drawn}</div> }
}
