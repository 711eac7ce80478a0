//! A list that renders only the rows in view, so ten thousand actors
//! scroll as smoothly as ten.

use std::hash::Hash;

use leptos::prelude::*;

/// Rows of a fixed height in a scrolling box; only those in view (and a
/// few around them) are in the DOM.
#[component]
pub fn VirtualList<T, K, KF, F, V>(
    /// All rows.
    #[prop(into)]
    rows: Signal<Vec<T>>,
    /// Tells rows apart across updates.
    key: KF,
    /// Draws one row.
    row: F,
    /// Each row's height, in pixels.
    #[prop(default = 44.0)]
    row_height: f64,
    /// The box's height, in pixels.
    #[prop(default = 440.0)]
    height: f64,
    /// What the list is, for screen readers.
    label: &'static str,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    K: Eq + Hash + Clone + Send + Sync + 'static,
    KF: Fn(&T) -> K + Clone + Send + Sync + 'static,
    F: Fn(T) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let scroll = RwSignal::new(0.0f64);
    // A few rows beyond each edge, so a fast scroll does not show blanks.
    const SPARE: usize = 6;
    let window = Memo::new(move |_| {
        let count = rows.with(Vec::len);
        let first = ((scroll.get() / row_height).floor() as usize).saturating_sub(SPARE);
        let shown = (height / row_height).ceil() as usize + 2 * SPARE;
        (first.min(count), (first + shown).min(count))
    });
    let visible = move || {
        let (first, last) = window.get();
        rows.with(|all| {
            all[first..last]
                .iter()
                .cloned()
                .enumerate()
                .map(|(offset, item)| (first + offset, item))
                .collect::<Vec<_>>()
        })
    };
    let total = move || rows.with(Vec::len);
    view! {
        <div
            class="virtual-list"
            role="list"
            aria-label=label
            tabindex="0"
            // As tall as its rows, up to `height`: a short list takes
            // the room it needs, an empty one none.
            class:empty=move || total() == 0
            style=move || format!("height: {}px;", (total() as f64 * row_height).min(height))
            on:scroll=move |e| {
                use wasm_bindgen::JsCast;
                if let Some(el) = e.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) {
                    scroll.set(f64::from(el.scroll_top()));
                }
            }
        >
            <div class="virtual-spacer" style=move || format!("height: {}px;", total() as f64 * row_height)>
                <For
                    each=visible
                    key=move |(index, item)| (*index, key(item))
                    children=move |(index, item)| {
                        let row = row.clone();
                        view! {
                            <div
                                class="virtual-row"
                                role="listitem"
                                aria-posinset=index + 1
                                aria-setsize=total
                                style=format!("top: {}px; height: {row_height}px;", index as f64 * row_height)
                            >
                                {row(item)}
                            </div>
                        }
                    }
                />
            </div>
        </div>
    }
    .into_any()
}
