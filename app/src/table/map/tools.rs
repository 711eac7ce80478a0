//! What a press on the map does: the toolbar floating over its corner.
//! Everyone moves and measures; the GM also turns the fog on and off and
//! paints it.

use leptos::prelude::*;
use shared::action::Action;

use crate::table::Table;

/// What a press on the map's background does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// Pans the map and drags tokens.
    Move,
    /// Measures from cell to cell, through waypoints.
    Ruler,
    /// Paints cells the players may see (the GM).
    Reveal,
    /// Paints cells back under the fog (the GM).
    Hide,
}

/// The map's toolbar.
#[component]
pub(super) fn MapTools(tool: RwSignal<Tool>) -> impl IntoView {
    let table = expect_context::<Table>();
    let gm = move || table.is_gm_or_assistant();
    let fog_on = move || table.with_encounter(|e| e.fog.enabled).unwrap_or(false);
    let toggle_fog = move |_| {
        if let Some(encounter) = table.encounter() {
            table.ask(Action::SetFog {
                encounter,
                enabled: !fog_on(),
            });
        }
    };
    let pick = move |choice: Tool| {
        move |_| {
            // Leaving the ruler puts it away, for everyone.
            if tool.get_untracked() == Tool::Ruler && choice != Tool::Ruler {
                table.measure(Vec::new(), true);
            }
            tool.set(choice);
        }
    };
    let pressed = move |choice: Tool| move || (tool.get() == choice).to_string();
    view! {
        <div class="map-tools" role="toolbar" aria-label="Map tools">
            <Show when=gm>
                <button type="button" on:click=toggle_fog aria-pressed=move || fog_on().to_string()
                    title="Fog of war for the players: on hides every cell not revealed">
                    {move || if fog_on() { "Fog on" } else { "Fog off" }}
                </button>
                <span class="divider" aria-hidden="true"></span>
            </Show>
            <button type="button" aria-pressed=pressed(Tool::Move) on:click=pick(Tool::Move)
                title="Drag tokens and pan the map">
                "\u{2725} Move"
            </button>
            <button type="button" data-test="tool-ruler" aria-pressed=pressed(Tool::Ruler) on:click=pick(Tool::Ruler)
                title="Drag to measure; drag again from its end to add a waypoint; Escape puts it away. Everyone who sees it sees it.">
                "\u{1f4cf} Ruler"
            </button>
            <Show when=gm>
                <button type="button" aria-pressed=pressed(Tool::Reveal) on:click=pick(Tool::Reveal)
                    title="Paint cells the players may see">
                    "\u{2600} Reveal"
                </button>
                <button type="button" aria-pressed=pressed(Tool::Hide) on:click=pick(Tool::Hide)
                    title="Paint cells back under the fog">
                    "\u{2601} Cover"
                </button>
            </Show>
        </div>
    }
    .into_any()
}
