//! The GM puts tokens on the running map: an actor of the campaign, or a
//! monster made from the compendium on the spot (the server creates it in
//! the campaign and the token's request brings it to the table). Each is
//! one action, committed and filtered like any other, written back at the
//! end.

use leptos::prelude::*;
use shared::{
    action::Action,
    actor::Actor,
    compendium::CompendiumQuery,
    geometry::Point,
    id::{ActorId, TokenId},
    token::{Token, Visibility},
};

use super::{Table, Tone, board::BoardStoreFields};

/// How many monsters the search lists.
const MONSTERS_LISTED: u32 = 8;

/// A new token for `actor` (or scenery) in the middle of the view, snapped
/// to the grid.
fn new_token(table: Table, name: &str, actor: Option<ActorId>) -> Option<Token> {
    let encounter = table.encounter()?;
    let map = table.with_encounter(|e| e.map)?;
    let center = table.view_center.get_value();
    let cell = map.cell_at(center);
    Some(Token {
        id: TokenId(super::new_action_id().0),
        encounter,
        actor,
        name: name.to_owned(),
        position: map.cell_origin(cell),
        rotation: 0.0,
        scale: 1.0,
        visibility: Visibility::Visible,
        conditions: Default::default(),
        stats: Default::default(),
        hp_shown: None,
        sight: Default::default(),
    })
}

/// Asks to put `token` on the map, with its actor when it is new here.
fn place(table: Table, token: Token, actor: Option<Actor>) {
    let id = token.id;
    table.ask(Action::PlaceToken {
        token: Box::new(token),
        actor: actor.map(Box::new),
    });
    table.selected.set(Some(id));
}

/// Another token like `token`, a cell to its right: the same actor (and
/// so the same sheet and hit points), its size, look and conditions.
pub fn duplicate(table: Table, token: &Token) {
    let Some(map) = table.with_encounter(|e| e.map) else {
        return;
    };
    let copy = Token {
        id: TokenId(super::new_action_id().0),
        position: Point::new(token.position.x + map.grid_size, token.position.y),
        ..token.clone()
    };
    place(table, copy, None);
}

/// The GM's "put on the map" tools.
#[component]
pub fn PlaceOnMap() -> impl IntoView {
    let table = expect_context::<Table>();
    let picked = RwSignal::new(String::new());
    let actors = move || {
        let mut all: Vec<(ActorId, String)> = table
            .board
            .actors()
            .read()
            .values()
            .map(|a| (a.id, a.name.clone()))
            .collect();
        all.sort_by(|a, b| a.1.cmp(&b.1));
        all
    };
    let place_actor = move |_| {
        let Ok(id) = picked.get_untracked().parse::<uuid::Uuid>() else {
            table.toast(Tone::Bad, "choose an actor to place".into());
            return;
        };
        let id = ActorId(id);
        let Some(name) = table.with_actor(id, |a| a.name.clone()) else {
            return;
        };
        if let Some(token) = new_token(table, &name, Some(id)) {
            place(table, token, None);
        }
    };
    let search = RwSignal::new(String::new());
    let found = leptos::prelude::Action::new(move |text: &String| {
        let query = CompendiumQuery {
            text: Some(text.clone()),
            item_type: Some("actor".into()),
            limit: Some(MONSTERS_LISTED),
            ..CompendiumQuery::default()
        };
        crate::compendium::search_compendium(query)
    });
    let find = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = search.get_untracked().trim().to_owned();
        if !text.is_empty() {
            found.dispatch(text);
        }
    };
    let add_monster = leptos::prelude::Action::new(move |ref_key: &String| {
        let ref_key = ref_key.clone();
        async move {
            match crate::content::monster_for_table(table.session, ref_key).await {
                Ok(actor) => {
                    if let Some(token) = new_token(table, &actor.name, Some(actor.id)) {
                        place(table, token, Some(actor));
                    }
                }
                Err(error) => table.toast(Tone::Bad, error.to_string()),
            }
        }
    });
    let results = move || {
        found.value().get().map(|answer| match answer {
            Ok(entries) if entries.is_empty() => {
                view! { <p class="muted">"No monster by that name."</p> }.into_any()
            }
            Ok(entries) => view! {
                <ul class="monster-results" data-test="monster-results">
                    {entries.into_iter().map(|entry| {
                        let key = entry.ref_key.clone();
                        let label = format!("Add {} to the map", entry.name);
                        view! {
                            <li>
                                <span>{entry.name.clone()}</span>
                                <button type="button" class="small" aria-label=label
                                    disabled=move || add_monster.pending().get()
                                    on:click=move |_| { add_monster.dispatch(key.clone()); }>
                                    "Add"
                                </button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }
            .into_any(),
            Err(error) => {
                view! { <p role="alert" class="error">{error.to_string()}</p> }.into_any()
            }
        })
    };
    view! {
        <section class="card place-on-map" aria-labelledby="place-heading" data-test="place-on-map">
            {super::fold::fold("place", "place-heading", view! { "Put on the map" }.into_any(), view! {
            <p class="muted">"New tokens go in the middle of the view."</p>
            <div class="place-actor">
                <label>"Actor "
                    <select data-test="place-actor" bind:value=picked>
                        <option value="">"Choose…"</option>
                        {move || actors().into_iter().map(|(id, name)| view! {
                            <option value=id.to_string()>{name}</option>
                        }).collect_view()}
                    </select>
                </label>
                <button type="button" class="small" on:click=place_actor data-test="place-actor-button">"Place"</button>
            </div>
            <form class="find-monster" on:submit=find>
                <label>"Monster " <input type="search" placeholder="goblin" bind:value=search data-test="monster-search" /></label>
                <button type="submit" class="small">"Find"</button>
            </form>
            {results}
            }.into_any())}
        </section>
    }
    .into_any()
}
