//! One token on the map: drawn where it stands, where I drag it, or where
//! someone else's drag preview puts it; a button, so it is reachable and
//! movable with the keyboard.

use leptos::{ev, prelude::*};
use shared::{action::Action, geometry::Cell, id::TokenId, token::Visibility};

use super::MapState;
use crate::table::{Table, board::BoardStoreFields};

/// One token: a button, so it is reachable and movable with the keyboard.
#[component]
pub(super) fn TokenView(id: TokenId) -> impl IntoView {
    let table = expect_context::<Table>();
    let MapState {
        camera,
        size,
        grid: map_grid,
        selected,
        dragged,
        dragging,
        busy,
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
    // The actor's portrait as art: every token wearing one image points at
    // the same URL, which the browser fetches and decodes once and shares.
    // The initials stay underneath: a player who may not read the file (a
    // GM-only image) sees them.
    let actor = Memo::new(move |_| held.with(|t| t.as_ref().and_then(|t| t.actor)));
    let art_failed = RwSignal::new(false);
    // A busy map paints the art of tokens that stand still (`paint`).
    let art = {
        let moving = moving.clone();
        move || {
            if busy.get() && !moving() {
                return None;
            }
            let actor = actor.get()?;
            table
                .with_actor(actor, |a| a.portrait)
                .flatten()
                .filter(|_| !art_failed.get())
        }
    };
    // Hit points as a bar, for whoever may read them (the server sends
    // them only to them).
    let hp = move || {
        let actor = actor.get()?;
        table.with_actor(actor, |a| a.hp).flatten()
    };
    let hp_bar = move || {
        hp().map(|hp| {
            let (share, tone) = hp_fill(&hp);
            view! {
                <span class="token-hp" data-test="token-hp" aria-hidden="true"
                    title=format!("HP {} / {}", hp.current, hp.max)>
                    <span class=format!("token-hp-fill {tone}") style=format!("width: {share}%;")></span>
                </span>
            }
        })
    };
    let marks = move || {
        token()
            .map(|t| {
                t.conditions
                    .iter()
                    .take(4)
                    .map(|c| {
                        (
                            c.chars().next().unwrap_or('?').to_uppercase().to_string(),
                            c.clone(),
                        )
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    let label = move || {
        let Some(t) = token() else {
            return String::new();
        };
        let cell = grid().token_cell(t.position);
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
        if let Some(hp) = hp() {
            label.push_str(&format!(", HP {} of {}", hp.current, hp.max));
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
        if table.group.with(|g| g.contains(&id)) {
            class.push_str(" grouped");
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
    // The face turns with the token; its name plate and condition marks
    // stay upright under and beside it.
    let face = move || {
        let degrees = held.with(|t| t.as_ref().map_or(0.0, |t| t.rotation));
        if degrees == 0.0 {
            String::new()
        } else {
            format!("transform: rotate({degrees}deg);")
        }
    };
    let name = move || token().map(|t| t.name).unwrap_or_default();
    // Arrow keys move the selected token one cell (a request like a drop).
    let on_key = move |e: ev::KeyboardEvent| {
        let (dx, dy) = match e.key().as_str() {
            "ArrowLeft" => (-1, 0),
            "ArrowRight" => (1, 0),
            "ArrowUp" => (0, -1),
            "ArrowDown" => (0, 1),
            "Escape" => {
                table.selected.set(None);
                table.group.update(std::collections::BTreeSet::clear);
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
        let map = grid();
        let g = map.grid_size;
        table.selected.set(Some(id));
        // The next cell by column or row: on hexagons, a row up or down
        // from a shifted row zigzags, as a straight line of hexagons does.
        let cell = map.token_cell(t.position);
        let to = map.cell_origin(Cell(cell.0.saturating_add(dx), cell.1.saturating_add(dy)));
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
            <span class="token-face" aria-hidden="true" style=face>
                <span class="token-initials">{initials}</span>
                {move || art().map(|id| view! {
                    <img class="token-art" src=format!("/media/{id}") alt="" draggable="false"
                        decoding="async" on:error=move |_| art_failed.set(true) />
                })}
            </span>
            {hp_bar}
            <span class="token-name" aria-hidden="true">{name}</span>
            {move || {
                let marks = marks();
                (!marks.is_empty()).then(|| view! {
                    <span class="token-marks" aria-hidden="true">
                        {marks.into_iter().map(|(mark, condition)| view! {
                            <span class="token-mark" title=condition>{mark}</span>
                        }).collect_view()}
                    </span>
                })
            }}
        </button>
    }
    .into_any()
}

/// How full a token's HP bar is, in whole percent, and its tone: amber at
/// half, red at a quarter (the button's bar and the busy map's canvas).
pub(super) fn hp_fill(hp: &shared::actor::HitPoints) -> (f64, &'static str) {
    let max = hp.max.max(1) as f64;
    let share = (hp.current.clamp(0, hp.max.max(0)) as f64 / max * 100.0).round();
    let tone = if share > 50.0 {
        "high"
    } else if share > 25.0 {
        "mid"
    } else {
        "low"
    };
    (share, tone)
}
