//! Moves waiting for the GM, drawn on the GM's map: an arrow from where
//! each token stands to where it would go, its distance beside the head.
//! The queue says "move Brenna north-east"; the map shows where.

use leptos::prelude::*;
use shared::{action::Action, geometry::Point, id::TokenId};

use super::MapState;
use crate::table::Table;

/// One requested move: from the token's middle to the middle it would
/// have, and its length in feet.
#[derive(Debug, Clone, PartialEq)]
struct Arrow {
    token: TokenId,
    from: Point,
    to: Point,
    feet: u64,
}

/// The arrows of the queued moves (the GM's and assistants' maps only:
/// only they hold a queue).
#[component]
pub fn PendingMoves() -> impl IntoView {
    let table = expect_context::<Table>();
    let grid = expect_context::<MapState>().grid;
    let arrows = Memo::new(move |_| {
        let map = grid.get();
        // The store changes with every commit; the queue is what matters,
        // and a move that landed leaves it.
        let asked: Vec<(TokenId, Point)> = table.queue.with(|queue| {
            queue
                .iter()
                .flat_map(|queued| match &queued.request.action {
                    Action::MoveToken { token, to } => vec![(*token, *to)],
                    Action::MoveTokens { moves } => moves.iter().map(|m| (m.token, m.to)).collect(),
                    _ => Vec::new(),
                })
                .collect()
        });
        asked
            .into_iter()
            .filter_map(|(token, to)| {
                table.with_token(token, |t| {
                    let half = t.scale * map.grid_size / 2.0;
                    Arrow {
                        token,
                        from: Point::new(t.position.x + half, t.position.y + half),
                        to: Point::new(to.x + half, to.y + half),
                        feet: map.feet_moved(t.position, to),
                    }
                })
            })
            .collect::<Vec<_>>()
    });
    view! {
        <svg class="pending-moves" aria-hidden="true" width="1" height="1">
            <defs>
                <marker id="pending-head" viewBox="0 0 10 10" refX="8" refY="5"
                    markerWidth="5" markerHeight="5" orient="auto-start-reverse">
                    <path d="M 0 0 L 10 5 L 0 10 z" />
                </marker>
            </defs>
            {move || arrows.get().into_iter().map(|arrow| {
                let size = grid.with(|g| g.grid_size);
                view! {
                    <g class="pending-move" data-pending=arrow.token.to_string()>
                        <line x1=arrow.from.x y1=arrow.from.y x2=arrow.to.x y2=arrow.to.y
                            marker-end="url(#pending-head)" />
                        <circle cx=arrow.to.x cy=arrow.to.y r=size * 0.45 />
                        <text x=arrow.to.x y=arrow.to.y - size * 0.55>{format!("{} ft", arrow.feet)}</text>
                    </g>
                }
            }).collect_view()}
        </svg>
    }
}
