//! What the browser keeps, and for how long (seed: "Client Storage
//! Strategy"):
//!
//! - UI preferences (theme, keybinds, panel layout) in `localStorage`:
//!   [`Prefs`];
//! - per-session data (where the map was looked at) in `sessionStorage`:
//!   [`session_get`] / [`session_set`];
//! - compendium results in IndexedDB for seven days, used when the network
//!   is gone: [`search_compendium_cached`];
//! - server-function data in memory with a stale time per kind
//!   ([`QueryCache`]): campaign data for minutes, session data for
//!   seconds; encounter data is live through the socket and never cached.
//!
//! On the server every read finds nothing and every write does nothing.

use std::collections::HashMap;

use leptos::prelude::*;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use shared::compendium::{CompendiumEntry, CompendiumQuery};

use crate::AppError;

/// How long compendium results stay usable offline.
pub const COMPENDIUM_TTL_MS: f64 = 7.0 * 24.0 * 3600.0 * 1000.0;

/// The user's interface preferences, kept per device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Prefs {
    /// `light`, `dark`, or `system`.
    pub theme: String,
    /// Whether the GM panel starts open.
    pub gm_panel_open: bool,
    /// Keys for map tools: pan left, right, up, down, zoom in, out.
    pub keys: MapKeys,
}

/// Keys that drive the map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MapKeys {
    /// Zooms in.
    pub zoom_in: String,
    /// Zooms out.
    pub zoom_out: String,
}

impl Default for MapKeys {
    fn default() -> Self {
        Self {
            zoom_in: "+".into(),
            zoom_out: "-".into(),
        }
    }
}

impl Default for Prefs {
    fn default() -> Self {
        Self {
            theme: "system".into(),
            gm_panel_open: true,
            keys: MapKeys::default(),
        }
    }
}

const PREFS_KEY: &str = "tabletop.prefs";

impl Prefs {
    /// The stored preferences, or the defaults.
    pub fn load() -> Self {
        local_get(PREFS_KEY)
            .and_then(|raw| serde_json::from_str(&raw).ok())
            .unwrap_or_default()
    }

    /// Keeps them on this device and applies the theme.
    pub fn save(&self) {
        if let Ok(raw) = serde_json::to_string(self) {
            local_set(PREFS_KEY, &raw);
        }
        self.apply();
    }

    /// Sets the theme on the document (`data-theme`; `system` follows the
    /// operating system).
    pub fn apply(&self) {
        #[cfg(feature = "hydrate")]
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-theme", &self.theme);
        }
    }
}

#[cfg(feature = "hydrate")]
fn local() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

#[cfg(feature = "hydrate")]
fn session() -> Option<web_sys::Storage> {
    window().session_storage().ok().flatten()
}

fn local_get(key: &str) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        local()?.get_item(key).ok().flatten()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = key;
        None
    }
}

fn local_set(key: &str, value: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(storage) = local() {
        let _ = storage.set_item(key, value);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (key, value);
}

/// A value kept for this tab's session (gone when the tab closes).
pub fn session_get<T: DeserializeOwned>(key: &str) -> Option<T> {
    #[cfg(feature = "hydrate")]
    {
        let raw = session()?.get_item(key).ok().flatten()?;
        serde_json::from_str(&raw).ok()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = key;
        None
    }
}

/// Keeps a value for this tab's session.
pub fn session_set<T: Serialize>(key: &str, value: &T) {
    #[cfg(feature = "hydrate")]
    if let (Some(storage), Ok(raw)) = (session(), serde_json::to_string(value)) {
        let _ = storage.set_item(key, &raw);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (key, value);
}

/// Server-function results kept in memory for a while, by kind of data.
#[derive(Clone, Copy)]
pub struct QueryCache {
    entries: StoredValue<HashMap<String, (f64, String)>>,
}

/// How long each kind of data is fresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Staleness {
    /// Campaign data (actors, items, encounters, members): five minutes.
    Campaign,
    /// Session data (who plays, which sessions run): ten seconds.
    Session,
}

impl Staleness {
    fn millis(self) -> f64 {
        match self {
            Staleness::Campaign => 5.0 * 60.0 * 1000.0,
            Staleness::Session => 10.0 * 1000.0,
        }
    }
}

impl Default for QueryCache {
    fn default() -> Self {
        Self {
            entries: StoredValue::new(HashMap::new()),
        }
    }
}

impl QueryCache {
    /// The cache of this page, made on first use.
    pub fn get() -> Self {
        use_context::<Self>().unwrap_or_else(|| {
            let cache = Self::default();
            provide_context(cache);
            cache
        })
    }

    /// A fresh cached answer for `key`, or `fetch`'s (then cached).
    pub async fn fetch<T, F>(
        self,
        key: String,
        staleness: Staleness,
        fetch: F,
    ) -> Result<T, AppError>
    where
        T: Serialize + DeserializeOwned,
        F: Future<Output = Result<T, AppError>>,
    {
        let now = now_ms();
        let fresh = self.entries.with_value(|entries| {
            entries
                .get(&key)
                .filter(|(at, _)| now - at < staleness.millis())
                .and_then(|(_, raw)| serde_json::from_str::<T>(raw).ok())
        });
        if let Some(value) = fresh {
            return Ok(value);
        }
        let value = fetch.await?;
        if let Ok(raw) = serde_json::to_string(&value) {
            self.entries.update_value(|entries| {
                entries.insert(key, (now, raw));
            });
        }
        Ok(value)
    }

    /// Forgets every entry whose key starts with `prefix` (after a change).
    pub fn invalidate(self, prefix: &str) {
        self.entries
            .update_value(|entries| entries.retain(|key, _| !key.starts_with(prefix)));
    }
}

fn now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0.0
    }
}

/// Compendium search through IndexedDB: the network's answer when there
/// is one (and it is kept for a week), the kept answer when there is not.
pub async fn search_compendium_cached(
    query: CompendiumQuery,
) -> Result<Vec<CompendiumEntry>, AppError> {
    let answer = crate::compendium::search_compendium(query.clone()).await;
    #[cfg(feature = "hydrate")]
    {
        let key = serde_json::to_string(&query).unwrap_or_default();
        match &answer {
            Ok(found) => idb_cache::put(&key, found).await,
            Err(AppError::Transport(_)) => {
                if let Some(kept) = idb_cache::get(&key).await {
                    return Ok(kept);
                }
            }
            Err(_) => {}
        }
    }
    answer
}

#[cfg(feature = "hydrate")]
mod idb_cache {
    use idb::{Database, DatabaseEvent, Factory, ObjectStoreParams, TransactionMode};
    use serde::{Deserialize, Serialize};
    use shared::compendium::CompendiumEntry;
    use wasm_bindgen::JsValue;

    const DB: &str = "tabletop";
    const STORE: &str = "compendium";

    #[derive(Serialize, Deserialize)]
    struct Kept {
        at: f64,
        entries: Vec<CompendiumEntry>,
    }

    async fn open() -> Option<Database> {
        let mut request = Factory::new().ok()?.open(DB, Some(1)).ok()?;
        request.on_upgrade_needed(|event| {
            if let Ok(db) = event.database() {
                let _ = db.create_object_store(STORE, ObjectStoreParams::new());
            }
        });
        request.await.ok()
    }

    pub async fn put(key: &str, entries: &[CompendiumEntry]) {
        let Some(db) = open().await else { return };
        let kept = Kept {
            at: js_sys::Date::now(),
            entries: entries.to_vec(),
        };
        let Ok(raw) = serde_json::to_string(&kept) else {
            return;
        };
        let Ok(tx) = db.transaction(&[STORE], TransactionMode::ReadWrite) else {
            return;
        };
        if let Ok(store) = tx.object_store(STORE)
            && let Ok(request) = store.put(&JsValue::from_str(&raw), Some(&JsValue::from_str(key)))
        {
            let _ = request.await;
        }
        if let Ok(done) = tx.commit() {
            let _ = done.await;
        }
    }

    /// The kept answer for `key`, if younger than a week.
    pub async fn get(key: &str) -> Option<Vec<CompendiumEntry>> {
        let db = open().await?;
        let tx = db.transaction(&[STORE], TransactionMode::ReadOnly).ok()?;
        let store = tx.object_store(STORE).ok()?;
        let value = store.get(JsValue::from_str(key)).ok()?.await.ok()??;
        let kept: Kept = serde_json::from_str(&value.as_string()?).ok()?;
        (js_sys::Date::now() - kept.at < super::COMPENDIUM_TTL_MS).then_some(kept.entries)
    }
}
