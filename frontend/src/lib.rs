//! The browser entry point: hydrates the page the server rendered.

use wasm_bindgen::prelude::wasm_bindgen;

/// Called by the generated JS once the wasm module is loaded.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    mark_hydrated();
}

/// Sets `data-hydrated` on `<body>` so tests (and people debugging) can tell
/// a live page from a server-rendered one: a broken wasm build renders the
/// same HTML but never reaches this line.
fn mark_hydrated() {
    let body = web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.body());
    if let Some(body) = body {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
