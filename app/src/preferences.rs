//! `/preferences`: this device's interface preferences (theme, the map's
//! keys, where the table's tools stand), kept in localStorage
//! ([`crate::storage::Prefs`]) and applied at once.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::storage::{MapKeys, Side, update_prefs, use_prefs};

/// The preferences page.
#[component]
pub fn PreferencesPage() -> impl IntoView {
    let prefs = use_prefs();
    // The binding waiting for a key press, if any.
    let listening = RwSignal::new(None::<&'static str>);
    let names: Vec<&'static str> = MapKeys::default()
        .named()
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    view! {
        <Title text="Preferences" />
        <h1>"Preferences"</h1>
        <p class="muted">"Kept in this browser, on this device."</p>
        <section class="card prefs" aria-labelledby="layout-heading">
            <h2 id="layout-heading">"Layout"</h2>
            <div class="field">
                <label for="pref-side">"Table tools"</label>
                <select
                    id="pref-side"
                    data-test="pref-side"
                    prop:value=move || match prefs.with(|p| p.side) {
                        Side::Right => "right",
                        Side::Left => "left",
                    }
                    on:change=move |e| {
                        let side = if event_target_value(&e) == "left" { Side::Left } else { Side::Right };
                        update_prefs(prefs, |p| p.side = side);
                    }
                >
                    <option value="right">"Right of the map"</option>
                    <option value="left">"Left of the map"</option>
                </select>
            </div>
            <label class="check">
                <input
                    type="checkbox"
                    prop:checked=move || prefs.with(|p| p.gm_panel_open)
                    on:change=move |e| {
                        let open = event_target_checked(&e);
                        update_prefs(prefs, |p| p.gm_panel_open = open);
                    }
                />
                " The GM panel starts open"
            </label>
        </section>
        <section class="card prefs" aria-labelledby="keys-heading">
            <h2 id="keys-heading">"Map keys"</h2>
            <p class="muted">
                "Choose a binding, then press the key it should use. Arrow keys on a selected token always move it one cell."
            </p>
            <table class="key-table">
                <tbody>
                    {names
                        .into_iter()
                        .map(|name| {
                            let bound = move || {
                                prefs.with(|p| {
                                    p.keys
                                        .named()
                                        .into_iter()
                                        .find(|(n, _)| *n == name)
                                        .map(|(_, key)| key.to_owned())
                                        .unwrap_or_default()
                                })
                            };
                            let on_key = move |e: leptos::ev::KeyboardEvent| {
                                if listening.get_untracked() != Some(name) {
                                    return;
                                }
                                let key = e.key();
                                // Tab still moves focus; Escape gives up.
                                if key == "Tab" {
                                    listening.set(None);
                                    return;
                                }
                                e.prevent_default();
                                listening.set(None);
                                if key != "Escape" {
                                    update_prefs(prefs, |p| {
                                        if let Some(binding) = p.keys.binding_mut(name) {
                                            *binding = key;
                                        }
                                    });
                                }
                            };
                            view! {
                                <tr>
                                    <th scope="row">{name}</th>
                                    <td>
                                        <button
                                            type="button"
                                            class="key-binding"
                                            aria-label=move || format!("{name}: {}; choose to change", bound())
                                            on:click=move |_| listening.set(Some(name))
                                            on:keydown=on_key
                                            on:blur=move |_| listening.set(None)
                                        >
                                            {move || if listening.get() == Some(name) { "Press a key…".to_owned() } else { bound() }}
                                        </button>
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            <button
                type="button"
                on:click=move |_| update_prefs(prefs, |p| p.keys = MapKeys::default())
            >
                "Restore the default keys"
            </button>
        </section>
    }
    .into_any()
}
