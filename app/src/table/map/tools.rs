//! What a press on the map does: the toolbar floating over its corner.
//! Everyone moves, measures and places area templates; the GM, and
//! players when the GM allows it, draw; the GM also turns the fog on and
//! off and paints it.

use leptos::prelude::*;
use shared::{
    action::Action,
    template::{MAX_TEMPLATE_FEET, Shape},
};

use crate::table::Table;

/// What a press on the map's background does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// Pans the map and drags tokens.
    Move,
    /// Measures from cell to cell, through waypoints.
    Ruler,
    /// Places an area template: a press sets its point, a drag turns it
    /// (or moves a circle).
    Template,
    /// Draws with the pen: a stroke or a shape per press.
    Draw,
    /// Erases the drawings it passes over (a player's own).
    Erase,
    /// Paints cells the players may see (the GM).
    Reveal,
    /// Paints cells back under the fog (the GM).
    Hide,
    /// Builds walls with a drag, removes one with a click (the GM).
    Walls,
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
    // The pen goes back in its case when the GM stops players drawing.
    Effect::new(move |_| {
        // Read first: the effect must follow the leave, whatever the tool.
        let may_draw = table.may_draw();
        if !may_draw && matches!(tool.get_untracked(), Tool::Draw | Tool::Erase) {
            tool.set(Tool::Move);
        }
    });
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
            <button type="button" data-test="tool-template" aria-pressed=pressed(Tool::Template) on:click=pick(Tool::Template)
                title="Press to place an area template, drag to turn it; Escape puts it away. Everyone who sees its point sees it.">
                "\u{25ce} Template"
            </button>
            <Show when=move || tool.get() == Tool::Template>
                <TemplateShape />
            </Show>
            <Show when=move || table.may_draw()>
                <button type="button" data-test="tool-draw" aria-pressed=pressed(Tool::Draw) on:click=pick(Tool::Draw)
                    title="Draw on the map: freehand or a shape, in a colour; everyone who sees that part of the map sees it">
                    "\u{270e} Draw"
                </button>
                <button type="button" data-test="tool-erase" aria-pressed=pressed(Tool::Erase) on:click=pick(Tool::Erase)
                    title="Drag over drawings to erase them">
                    "\u{232b} Erase"
                </button>
            </Show>
            <Show when=move || matches!(tool.get(), Tool::Draw | Tool::Erase)>
                <crate::table::drawing::DrawTools drawing=Signal::derive(move || tool.get() == Tool::Draw) />
            </Show>
            <Show when=gm>
                <button type="button" aria-pressed=pressed(Tool::Reveal) on:click=pick(Tool::Reveal)
                    title="Paint cells the players may see">
                    "\u{2600} Reveal"
                </button>
                <button type="button" aria-pressed=pressed(Tool::Hide) on:click=pick(Tool::Hide)
                    title="Paint cells back under the fog">
                    "\u{2601} Cover"
                </button>
                <button type="button" data-test="tool-walls" aria-pressed=pressed(Tool::Walls) on:click=pick(Tool::Walls)
                    title="Drag to build a wall (its ends snap to grid corners and other walls; Shift places them freely); click a wall to remove it">
                    "\u{2503} Walls"
                </button>
                <Show when=move || tool.get() == Tool::Walls>
                    <crate::table::walls::WallTools />
                </Show>
                <crate::table::sight::SightAs />
            </Show>
        </div>
    }
    .into_any()
}

/// The template tool's shape and size, in feet.
#[component]
fn TemplateShape() -> impl IntoView {
    let table = expect_context::<Table>();
    let shape = table.template_shape;
    let kind = move || match shape.get() {
        Shape::Circle { .. } => "circle",
        Shape::Cone { .. } => "cone",
        Shape::Line { .. } => "line",
        Shape::Square { .. } => "square",
    };
    let size = move || match shape.get() {
        Shape::Circle { radius: feet }
        | Shape::Cone { length: feet }
        | Shape::Line { length: feet, .. }
        | Shape::Square { side: feet } => feet,
    };
    let width = move || match shape.get() {
        Shape::Line { width, .. } => width,
        _ => 5,
    };
    // A shape or size chosen here is no longer the spell's.
    let set = move |new: Shape| {
        if new.check().is_ok() {
            table.template_name.set(None);
            shape.set(new);
        }
    };
    let make = move |kind: &str, size: u32, width: u32| match kind {
        "cone" => Shape::Cone { length: size },
        "line" => Shape::Line {
            length: size,
            width,
        },
        "square" => Shape::Square { side: size },
        _ => Shape::Circle { radius: size },
    };
    let feet = |value: String| value.trim().parse::<u32>().ok();
    view! {
        <label class="template-shape">
            <span class="visually-hidden">"Template shape"</span>
            <select data-test="template-kind" prop:value=kind
                on:change=move |e| set(make(&event_target_value(&e), size(), width()))>
                <option value="circle">"Circle"</option>
                <option value="cone">"Cone"</option>
                <option value="line">"Line"</option>
                <option value="square">"Square"</option>
            </select>
        </label>
        <label class="template-shape" title="Size in feet: a circle's radius, a cone's or a line's length, a square's side">
            <input type="number" data-test="template-size" min="1" max=MAX_TEMPLATE_FEET step="5"
                prop:value=move || size().to_string()
                on:change=move |e| {
                    if let Some(size) = feet(event_target_value(&e)) {
                        set(make(kind(), size, width()));
                    }
                } />
            " ft"
        </label>
        <Show when=move || kind() == "line">
            <label class="template-shape" title="The line's width in feet">
                "\u{d7} "
                <input type="number" min="1" max=MAX_TEMPLATE_FEET step="5"
                    prop:value=move || width().to_string()
                    on:change=move |e| {
                        if let Some(width) = feet(event_target_value(&e)) {
                            set(make("line", size(), width));
                        }
                    } />
            </label>
        </Show>
    }
}
