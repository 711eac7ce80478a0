//! Pings: a long press on the map points at a place, and everyone who
//! sees it there is shown a ring for a moment (the server relays it, past
//! the fog filter; nothing is stored).

use leptos::prelude::*;
use shared::{geometry::Point, id::UserId, protocol::ClientMessage};

use super::Table;

/// How long a ping shows (as long as its animation, style/main.css).
#[cfg(feature = "hydrate")]
const PING_SHOWN: std::time::Duration = std::time::Duration::from_millis(1600);
/// The most pings on screen at once (the server spaces each socket's).
const MAX_PINGS: usize = 8;

/// A ping on screen.
#[derive(Debug, Clone, PartialEq)]
pub struct Ping {
    id: u64,
    at: Point,
    by: UserId,
}

impl Table {
    /// Points at `at` on the map: shown here at once, sent to the others.
    pub fn point_at(&self, at: Point) {
        let (Some(encounter), Some(me)) = (self.encounter(), self.me.get_untracked()) else {
            return;
        };
        self.send_all([ClientMessage::PointAt { encounter, at }]);
        self.show_ping(at, me.user);
    }

    /// Shows someone's ping for a moment.
    pub(super) fn show_ping(&self, at: Point, by: UserId) {
        let id = self.next_ping.get_value();
        self.next_ping.set_value(id + 1);
        self.pings.update(|pings| {
            pings.push(Ping { id, at, by });
            let excess = pings.len().saturating_sub(MAX_PINGS);
            pings.drain(..excess);
        });
        #[cfg(feature = "hydrate")]
        {
            let pings = self.pings;
            set_timeout(
                move || pings.update(|p| p.retain(|ping| ping.id != id)),
                PING_SHOWN,
            );
        }
    }
}

/// The pings on the map, in map pixels (inside the map's layer), `side`
/// across, with who pointed.
#[component]
pub fn Pings(side: Signal<f64>) -> impl IntoView {
    let table = expect_context::<Table>();
    let name = move |user: UserId| {
        table
            .names
            .with(|names| names.get(&user).cloned())
            .unwrap_or_else(|| "Someone".into())
    };
    view! {
        <For each=move || table.pings.get() key=|ping| ping.id let:ping>
            {
                let Ping { at, by, .. } = ping;
                let style = move || {
                    let side = side.get();
                    format!(
                        "transform: translate({}px, {}px); width: {side}px; height: {side}px;",
                        at.x - side / 2.0,
                        at.y - side / 2.0
                    )
                };
                view! {
                    <span class="ping" data-test="ping" style=style>
                        <span class="ping-ring" aria-hidden="true"></span>
                        <span class="ping-by">{move || name(by)}</span>
                    </span>
                }
            }
        </For>
    }
}
