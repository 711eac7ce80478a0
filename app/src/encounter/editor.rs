//! The GM's encounter editor over a loaded encounter: the map settings
//! with a preview, tokens placed from the campaign's actors on the cell
//! clicked, and each placed token moved, resized, shown or hidden, or
//! removed.

use super::*;

/// The editor over a loaded encounter; `changed` reloads it.
#[component]
pub(super) fn Editor(
    campaign: CampaignId,
    summary: EncounterSummary,
    tokens: Vec<Token>,
    changed: RwSignal<u32>,
    saved: RwSignal<bool>,
) -> impl IntoView {
    use crate::storage::{QueryCache, Staleness};
    use shared::{
        encounter::Grid,
        geometry::{Point, Rect},
        measure::Diagonals,
        token::Visibility,
    };
    let cache = QueryCache::get();
    let encounter = summary.id;
    let map = summary.map;
    let actors = cache.resource(
        QueryCache::key(campaign, "actors"),
        Staleness::Campaign,
        || 0,
        move || crate::content::list_actors(campaign),
    );
    let reload = move || {
        cache.invalidate(&QueryCache::key(campaign, "encounters"));
        changed.update(|n| *n += 1);
    };

    // The map.
    let name = RwSignal::new(summary.name.clone());
    let grid = RwSignal::new(map.grid_size.to_string());
    let shape = RwSignal::new(map.grid.key().to_owned());
    let offset_x = RwSignal::new(map.offset.x.to_string());
    let offset_y = RwSignal::new(map.offset.y.to_string());
    let feet = RwSignal::new(map.feet_per_cell.to_string());
    let diagonals = RwSignal::new(map.diagonals.key().to_owned());
    let players_draw = RwSignal::new(map.players_draw);
    let vision = RwSignal::new(map.vision);
    let daylight = RwSignal::new(map.daylight);
    let image = RwSignal::new(map.image.map(|m| m.to_string()).unwrap_or_default());
    let save_map = Action::new(move |(name, map): &(String, MapSettings)| {
        let (name, map) = (name.clone(), *map);
        async move {
            let done = update_encounter(campaign, encounter, name, map).await;
            saved.set(done.is_ok());
            if done.is_ok() {
                reload();
            }
            done
        }
    });
    let submit_map = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        saved.set(false);
        let number = |field: RwSignal<String>| field.get_untracked().trim().parse::<f64>().ok();
        let settings = MapSettings {
            grid: Grid::from_key(&shape.get_untracked()).unwrap_or_default(),
            grid_size: number(grid).unwrap_or(f64::NAN),
            offset: Point::new(
                number(offset_x).unwrap_or(0.0),
                number(offset_y).unwrap_or(0.0),
            ),
            feet_per_cell: feet.get_untracked().trim().parse().unwrap_or(0),
            diagonals: Diagonals::from_key(&diagonals.get_untracked()).unwrap_or_default(),
            players_draw: players_draw.get_untracked(),
            vision: vision.get_untracked(),
            daylight: daylight.get_untracked(),
            image: image
                .get_untracked()
                .parse::<uuid::Uuid>()
                .ok()
                .map(MediaId),
        };
        save_map.dispatch((name.get_untracked(), settings));
    };

    // Placing: the cell comes from a click on the preview, or is typed.
    let actor = RwSignal::new(String::new());
    let label = RwSignal::new(String::new());
    let column = RwSignal::new("1".to_owned());
    let row = RwSignal::new("1".to_owned());
    let size = RwSignal::new("1".to_owned());
    let visibility = RwSignal::new("visible".to_owned());
    let place = Action::new(move |token: &NewToken| {
        let token = token.clone();
        async move {
            let done = place_token(campaign, encounter, token).await;
            if done.is_ok() {
                reload();
            }
            done
        }
    });
    let corner =
        move |column: &str, row: &str| typed_cell(column, row).map(|cell| map.cell_origin(cell));
    let submit_place = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        let Some(position) = corner(&column.get_untracked(), &row.get_untracked()) else {
            return;
        };
        let actor_id = actor
            .get_untracked()
            .parse::<uuid::Uuid>()
            .ok()
            .map(shared::id::ActorId);
        let typed = label.get_untracked().trim().to_owned();
        let name = if typed.is_empty() {
            actors
                .get_untracked()
                .and_then(Result::ok)
                .and_then(|all| {
                    all.into_iter()
                        .find(|a| Some(a.id) == actor_id)
                        .map(|a| a.name)
                })
                .unwrap_or_else(|| "Token".into())
        } else {
            typed
        };
        place.dispatch(NewToken {
            actor: actor_id,
            name,
            position,
            visibility: chosen_visibility(visibility),
            scale: size.get_untracked().trim().parse().unwrap_or(1.0),
        });
    };

    // The preview: the map at a scale that fits, the grid, the tokens; a
    // click picks the cell to place on.
    let extent = tokens
        .iter()
        .fold((20.0 * map.grid_size, 14.0 * map.grid_size), |(w, h), t| {
            (
                w.max(t.position.x + 2.0 * map.grid_size * t.scale),
                h.max(t.position.y + 2.0 * map.grid_size * t.scale),
            )
        });
    let scale = (720.0 / extent.0).min(1.0);
    let pick = move |e: leptos::ev::MouseEvent| {
        use wasm_bindgen::JsCast;
        let Some(target) = e
            .current_target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        else {
            return;
        };
        let rect = target.get_bounding_client_rect();
        let at = Point::new(
            (f64::from(e.client_x()) - rect.left()) / scale,
            (f64::from(e.client_y()) - rect.top()) / scale,
        );
        let cell = map.cell_at(at);
        column.set((cell.0 + 1).to_string());
        row.set((cell.1 + 1).to_string());
    };
    let picked = move || {
        let at = corner(&column.get(), &row.get())?;
        Some(format!(
            "transform: translate({}px, {}px); width: {g}px; height: {g}px;",
            at.x * scale,
            at.y * scale,
            g = map.grid_size * scale
        ))
    };
    let preview_tokens = tokens.clone();
    let in_use = map.image;
    view! {
        <form class="card editor-map" on:submit=submit_map>
            <h2>"Map"</h2>
            <label>"Name " <input type="text" bind:value=name data-test="encounter-name" /></label>
            <label>"Grid "
                <select bind:value=shape data-test="grid-shape">
                    {Grid::ALL.into_iter().map(|grid| view! {
                        <option value=grid.key() selected=map.grid == grid>{grid.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label title="A square's side, or a hexagon's width across its flats">"Grid (px per cell) " <input type="number" min="10" max="400" bind:value=grid data-test="grid-size" /></label>
            <label>"Grid offset x " <input type="number" step="1" bind:value=offset_x /></label>
            <label>"y " <input type="number" step="1" bind:value=offset_y /></label>
            <label>"Feet per cell " <input type="number" min="1" max="1000" bind:value=feet /></label>
            <label title="On square grids; a hexagon has no diagonals">"Diagonals "
                <select bind:value=diagonals data-test="diagonals">
                    {Diagonals::ALL.into_iter().map(|rule| view! {
                        <option value=rule.key() selected=map.diagonals == rule>{rule.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label class="check" title="The GM always may; players erase only their own drawings">
                <input type="checkbox" bind:checked=players_draw data-test="players-draw-setting" />
                " Players may draw on the map"
            </label>
            <label class="check" title="Players then see only what their tokens have a line of sight to; the walls are built at the table">
                <input type="checkbox" bind:checked=vision data-test="vision-setting" />
                " Walls hide what is behind them"
            </label>
            <label class="check" title="Where walls hide: in the dark, tokens see only by their darkvision and the light tokens shed">
                <input type="checkbox" bind:checked=daylight data-test="daylight-setting" />
                " The map is lit (daylight)"
            </label>
            <label>"Map image "
                <select bind:value=image data-test="map-image">
                    <option value="">"None"</option>
                    <crate::media::ImageOptions campaign selected=in_use />
                </select>
            </label>
            <button type="submit" disabled=move || save_map.pending().get()>"Save the map"</button>
            <Show when=move || saved.get()>
                <p role="status" class="muted" data-test="map-saved">"Saved."</p>
            </Show>
            {move || save_map.value().get().and_then(Result::err).map(|e| view! { <p role="alert" class="error">{e.to_string()}</p> })}
        </form>
        <section class="card" aria-labelledby="preview-heading">
            <h2 id="preview-heading">"Preview"</h2>
            <p class="muted">"Click a cell to place the next token there."</p>
            <div
                class="editor-preview"
                style=format!("width: {}px; height: {}px;", extent.0 * scale, extent.1 * scale)
                on:click=pick
                data-test="editor-preview"
            >
                {map.image.map(|id| view! {
                    <img class="map-image" src=format!("/media/{id}") alt="" draggable="false" style=format!("transform: scale({scale}); transform-origin: 0 0;") />
                })}
                <crate::table::map::GridLines
                    map=MapSettings {
                        grid_size: map.grid_size * scale,
                        offset: Point::new(map.offset.x * scale, map.offset.y * scale),
                        ..map
                    }
                    area=Rect::from_origin(Point::default(), extent.0 * scale, extent.1 * scale)
                    id="preview-hex-grid"
                />
                {preview_tokens.into_iter().map(|t| {
                    let side = t.scale * map.grid_size * scale;
                    let class = match t.visibility {
                        Visibility::Visible => "editor-token",
                        Visibility::GmOnly => "editor-token gm-only",
                        Visibility::Hidden => "editor-token hidden-token",
                    };
                    view! {
                        <div
                            class=class
                            title=t.name.clone()
                            style=format!("transform: translate({}px, {}px); width: {side}px; height: {side}px;", t.position.x * scale, t.position.y * scale)
                        >
                            {t.name.chars().take(2).collect::<String>()}
                        </div>
                    }
                }).collect_view()}
                <div class="editor-pick" style=picked aria-hidden="true"></div>
            </div>
        </section>
        <form class="card place-token" on:submit=submit_place>
            <h2>"Place a token"</h2>
            <label>"Actor "
                <select bind:value=actor data-test="place-actor">
                    <option value="">"Scenery (no actor)"</option>
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            actors.await.unwrap_or_default().into_iter().map(|a| view! {
                                <option value=a.id.to_string()>{a.name}</option>
                            }).collect_view()
                        })}
                    </Suspense>
                </select>
            </label>
            <label>"Label " <input type="text" bind:value=label placeholder="the actor's name" /></label>
            <label>"Column " <input type="number" min="1" bind:value=column data-test="place-column" /></label>
            <label>"Row " <input type="number" min="1" bind:value=row data-test="place-row" /></label>
            <label>"Size (cells) " <input type="number" min="0.5" max="10" step="0.5" bind:value=size /></label>
            <label>"Seen by "
                <select bind:value=visibility data-test="place-visibility">
                    <VisibilityOptions chosen=visibility />
                </select>
            </label>
            <button type="submit" data-test="place">"Place"</button>
            {move || place.value().get().and_then(Result::err).map(|e| view! { <p role="alert" class="error">{e.to_string()}</p> })}
        </form>
        <section class="card" aria-labelledby="tokens-heading">
            <h2 id="tokens-heading">{format!("Tokens ({})", tokens.len())}</h2>
            {if tokens.is_empty() {
                view! { <p class="muted">"No token yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="editor-tokens" data-test="editor-tokens">
                        {tokens.into_iter().map(|t| view! { <PlacedToken campaign encounter map token=t reload /> }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
    .into_any()
}

/// A cell typed as a column and a row, counting from 1 as the map's labels
/// do ("column 3, row 2").
pub(crate) fn typed_cell(column: &str, row: &str) -> Option<shared::geometry::Cell> {
    let number = |raw: &str| raw.trim().parse::<i32>().ok().filter(|n| *n >= 1);
    Some(shared::geometry::Cell(
        number(column)? - 1,
        number(row)? - 1,
    ))
}

/// The three choices of who sees a token, the current one selected (so the
/// choice shows before and after hydration alike).
#[component]
fn VisibilityOptions(chosen: RwSignal<String>) -> impl IntoView {
    use shared::token::Visibility;
    Visibility::ALL
        .into_iter()
        .map(|visibility| {
            let value = visibility.slug();
            let label = match visibility {
                Visibility::Visible => "Everyone",
                Visibility::GmOnly => "The GM only",
                Visibility::Hidden => "Nobody yet (hidden)",
            };
            view! { <option value=value selected=move || chosen.with(|c| c == value)>{label}</option> }
        })
        .collect_view()
}

/// The visibility a select names (everyone, for anything else).
fn chosen_visibility(field: RwSignal<String>) -> shared::token::Visibility {
    field.with_untracked(|raw| raw.parse().unwrap_or_default())
}

/// One placed token: its cell, size and who sees it, saved together;
/// or removed.
#[component]
fn PlacedToken(
    campaign: CampaignId,
    encounter: EncounterId,
    map: MapSettings,
    token: Token,
    reload: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let id = token.id;
    let cell = map.token_cell(token.position);
    let column = RwSignal::new((cell.0 + 1).to_string());
    let row = RwSignal::new((cell.1 + 1).to_string());
    let size = RwSignal::new(token.scale.to_string());
    let visibility = RwSignal::new(token.visibility.slug().to_owned());
    let (actor, name) = (token.actor, token.name.clone());
    let save = Action::new(move |setup: &NewToken| {
        let setup = setup.clone();
        async move {
            let done = update_token(campaign, encounter, id, setup).await;
            if done.is_ok() {
                reload();
            }
            done
        }
    });
    let remove = Action::new(move |_: &()| async move {
        let done = remove_token(campaign, encounter, id).await;
        if done.is_ok() {
            reload();
        }
        done
    });
    let submit = {
        let name = name.clone();
        move |e: leptos::ev::SubmitEvent| {
            e.prevent_default();
            let Some(cell) = typed_cell(&column.get_untracked(), &row.get_untracked()) else {
                return;
            };
            save.dispatch(NewToken {
                actor,
                name: name.clone(),
                position: map.cell_origin(cell),
                visibility: chosen_visibility(visibility),
                scale: size.get_untracked().trim().parse().unwrap_or(f64::NAN),
            });
        }
    };
    let error = move || {
        save.value()
            .get()
            .and_then(Result::err)
            .or_else(|| remove.value().get().and_then(Result::err))
            .map(|e| view! { <p role="alert" class="error">{e.to_string()}</p> })
    };
    view! {
        <li class="placed-token" data-test="placed-token">
            <form on:submit=submit aria-label=format!("Token {name}")>
                <strong>{name.clone()}</strong>
                <label>" Column " <input type="number" min="1" size="3" bind:value=column /></label>
                <label>" Row " <input type="number" min="1" size="3" bind:value=row /></label>
                <label>" Size " <input type="number" min="0.5" max="10" step="0.5" size="3" bind:value=size /></label>
                <label>" Seen by "
                    <select bind:value=visibility data-test="token-visibility">
                        <VisibilityOptions chosen=visibility />
                    </select>
                </label>
                <button type="submit" class="small">"Save"</button>
                <button type="button" class="small" on:click=move |_| { remove.dispatch(()); } data-test="remove-token">"Remove"</button>
            </form>
            {error}
        </li>
    }
    .into_any()
}
