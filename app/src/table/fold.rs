//! A table panel that folds shut under its heading, remembered per device
//! (the preferences), so that a player keeps the chat and their sheet open
//! and the rest out of the way.

use leptos::prelude::*;

/// A `<details>` whose summary is the panel's heading (`<h2 id=…>`, which
/// the section's `aria-labelledby` names); open unless `name` was folded.
pub fn fold(
    name: &'static str,
    heading_id: &'static str,
    heading: impl IntoView + 'static,
    body: impl IntoView + 'static,
) -> impl IntoView {
    let prefs = crate::storage::use_prefs();
    let toggled = move |_e: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let open = _e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlDetailsElement>().ok())
                .map(|d| d.open());
            if let Some(open) = open
                && open == prefs.with_untracked(|p| p.folded.contains(name))
            {
                crate::storage::update_prefs(prefs, |p| {
                    if open {
                        p.folded.remove(name);
                    } else {
                        p.folded.insert(name.to_owned());
                    }
                });
            }
        }
    };
    view! {
        <details class="fold" data-fold=name
            prop:open=move || prefs.with(|p| !p.folded.contains(name)) on:toggle=toggled>
            <summary title="Fold or unfold"><h2 id=heading_id>{heading}</h2></summary>
            {body}
        </details>
    }
}
