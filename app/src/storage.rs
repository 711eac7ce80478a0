//! What the browser keeps, and for how long (seed: "Client Storage
//! Strategy"):
//!
//! - UI preferences (theme, keybinds, panel layout) in `localStorage`:
//!   [`Prefs`];
//! - per-session data (where the map was looked at) in `sessionStorage`:
//!   [`session_get`] / [`session_set`];
//! - compendium entries in IndexedDB for seven days, searched in the
//!   browser when the network is gone: [`search_compendium_cached`];
//! - server-function data in memory with a stale time per kind
//!   ([`QueryCache`]): campaign data for minutes, session data for
//!   seconds; encounter data is live through the socket and never cached.
//!
//! On the server every read finds nothing and every write does nothing.

use std::collections::HashMap;

use leptos::prelude::*;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use shared::{
    compendium::{CompendiumEntry, CompendiumQuery},
    id::CampaignId,
};

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
    /// Which side of the map the table's tools stand on.
    pub side: Side,
    /// Keys that drive the map.
    pub keys: MapKeys,
    /// The table's panels folded shut, by name (`log`, `sheet`).
    pub folded: std::collections::BTreeSet<String>,
    /// The table's tools column put away: the map takes the whole width.
    pub tools_hidden: bool,
}

/// Which side of the map the tools stand on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Right of the map.
    #[default]
    Right,
    /// Left of the map.
    Left,
}

/// Keys that drive the map, as `KeyboardEvent.key` names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MapKeys {
    /// Zooms in.
    pub zoom_in: String,
    /// Zooms out.
    pub zoom_out: String,
    /// Pans left.
    pub pan_left: String,
    /// Pans right.
    pub pan_right: String,
    /// Pans up.
    pub pan_up: String,
    /// Pans down.
    pub pan_down: String,
}

/// What a key does on the map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapKey {
    /// Zoom in.
    ZoomIn,
    /// Zoom out.
    ZoomOut,
    /// Pan by one cell: columns and rows.
    Pan(i8, i8),
}

impl Default for MapKeys {
    fn default() -> Self {
        Self {
            zoom_in: "+".into(),
            zoom_out: "-".into(),
            pan_left: "ArrowLeft".into(),
            pan_right: "ArrowRight".into(),
            pan_up: "ArrowUp".into(),
            pan_down: "ArrowDown".into(),
        }
    }
}

impl MapKeys {
    /// What `key` does, if anything. Letters match in either case, and
    /// `=` zooms in when `+` does (the same key without Shift).
    pub fn action(&self, key: &str) -> Option<MapKey> {
        let is = |bound: &str| bound.eq_ignore_ascii_case(key);
        if is(&self.zoom_in) || (self.zoom_in == "+" && key == "=") {
            Some(MapKey::ZoomIn)
        } else if is(&self.zoom_out) {
            Some(MapKey::ZoomOut)
        } else if is(&self.pan_left) {
            Some(MapKey::Pan(-1, 0))
        } else if is(&self.pan_right) {
            Some(MapKey::Pan(1, 0))
        } else if is(&self.pan_up) {
            Some(MapKey::Pan(0, -1))
        } else if is(&self.pan_down) {
            Some(MapKey::Pan(0, 1))
        } else {
            None
        }
    }

    /// The names of the bindings, in the order the preferences list them
    /// (and [`MapKeys::named`] and [`MapKeys::binding_mut`] use).
    const NAMES: [&'static str; 6] = [
        "Zoom in",
        "Zoom out",
        "Pan left",
        "Pan right",
        "Pan up",
        "Pan down",
    ];

    /// The bindings with a name each, in the order the preferences list
    /// them.
    pub fn named(&self) -> [(&'static str, &str); 6] {
        let keys = [
            &self.zoom_in,
            &self.zoom_out,
            &self.pan_left,
            &self.pan_right,
            &self.pan_up,
            &self.pan_down,
        ];
        std::array::from_fn(|i| (Self::NAMES[i], keys[i].as_str()))
    }

    /// The binding named `name` (as [`MapKeys::named`] names it).
    pub fn binding_mut(&mut self, name: &str) -> Option<&mut String> {
        let at = Self::NAMES.iter().position(|n| *n == name)?;
        [
            &mut self.zoom_in,
            &mut self.zoom_out,
            &mut self.pan_left,
            &mut self.pan_right,
            &mut self.pan_up,
            &mut self.pan_down,
        ]
        .into_iter()
        .nth(at)
    }
}

impl Default for Prefs {
    fn default() -> Self {
        Self {
            theme: "system".into(),
            gm_panel_open: true,
            side: Side::Right,
            keys: MapKeys::default(),
            folded: std::collections::BTreeSet::new(),
            tools_hidden: false,
        }
    }
}

/// The preferences, shared by every page through context (the defaults
/// until the browser's copy is read, once hydrated).
pub fn use_prefs() -> RwSignal<Prefs> {
    use_context::<RwSignal<Prefs>>().unwrap_or_else(|| {
        let prefs = RwSignal::new(Prefs::default());
        provide_context(prefs);
        prefs
    })
}

/// Changes the preferences: kept on this device, applied everywhere.
pub fn update_prefs(prefs: RwSignal<Prefs>, change: impl FnOnce(&mut Prefs)) {
    prefs.update(change);
    prefs.with_untracked(Prefs::save);
}

/// Sets the theme before the page paints, from the same storage key,
/// before any wasm loads: without it a dark-theme user sees a light flash
/// on every page load.
pub const THEME_SCRIPT: &str = "try{var p=JSON.parse(localStorage.getItem('tabletop.prefs')||'{}');if(p.theme)document.documentElement.setAttribute('data-theme',p.theme)}catch(e){}";

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

/// Forgets a value kept for this tab's session.
pub fn session_remove(key: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(storage) = session() {
        let _ = storage.remove_item(key);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = key;
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
    /// The key of one kind of a campaign's data (`actors`, `items`,
    /// `media`...): invalidating `campaign/<id>/` forgets all of them.
    pub fn key(campaign: CampaignId, what: &str) -> String {
        format!("campaign/{campaign}/{what}")
    }

    /// The app's cache (provided at the root), made on first use.
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

    /// A resource whose answer goes through the cache: fetched again
    /// (from the cache while fresh) whenever `version` changes.
    pub fn resource<T, Fut>(
        self,
        key: String,
        staleness: Staleness,
        version: impl Fn() -> u32 + Send + Sync + 'static,
        fetch: impl Fn() -> Fut + Send + Sync + 'static,
    ) -> Resource<Result<T, AppError>>
    where
        T: Serialize + DeserializeOwned + Send + Sync + 'static,
        Fut: Future<Output = Result<T, AppError>> + Send + 'static,
    {
        Resource::new(version, move |_| {
            self.fetch(key.clone(), staleness, fetch())
        })
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

/// A compendium search's answer, and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct CompendiumResults {
    /// The entries found.
    pub entries: Vec<CompendiumEntry>,
    /// True when the network was gone and the entries come from this
    /// browser's copy (searched by name only).
    pub kept: bool,
}

/// Compendium search: the server's answer when the network is there (its
/// entries kept in IndexedDB for a week, one record per entry), otherwise
/// the kept entries that match, searched in the browser.
pub async fn search_compendium_cached(
    query: CompendiumQuery,
) -> Result<CompendiumResults, AppError> {
    let answer = crate::compendium::search_compendium(query.clone()).await;
    #[cfg(feature = "hydrate")]
    match &answer {
        Ok(found) => idb_cache::keep(found).await,
        Err(AppError::Transport(_)) => {
            let kept = idb_cache::search(&query).await;
            if !kept.is_empty() {
                return Ok(CompendiumResults {
                    entries: kept,
                    kept: true,
                });
            }
        }
        Err(_) => {}
    }
    answer.map(|entries| CompendiumResults {
        entries,
        kept: false,
    })
}

#[cfg(feature = "hydrate")]
mod idb_cache;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_keys_follow_the_bindings() {
        let mut keys = MapKeys::default();
        assert_eq!(keys.action("ArrowLeft"), Some(MapKey::Pan(-1, 0)));
        assert_eq!(keys.action("="), Some(MapKey::ZoomIn), "+ without Shift");
        assert_eq!(keys.action("w"), None);
        if let Some(up) = keys.binding_mut("Pan up") {
            *up = "w".into();
        }
        assert_eq!(keys.action("W"), Some(MapKey::Pan(0, -1)), "either case");
        assert_eq!(keys.action("ArrowUp"), None, "the old key is free");
        assert_eq!(keys.binding_mut("Fly"), None);
    }

    #[test]
    fn preferences_missing_fields_take_the_defaults() {
        let old: Prefs = serde_json::from_str(r#"{"theme":"dark"}"#).unwrap();
        assert_eq!(old.theme, "dark");
        assert_eq!(old.keys, MapKeys::default());
        assert!(old.gm_panel_open);
        assert_eq!(old.side, Side::Right);
    }
}
