//! The compendium entries the browser keeps: an object store of entries by
//! `ref_key`, each with the time it was kept; older than
//! [`super::COMPENDIUM_TTL_MS`] they are not used, and they are deleted when the
//! database is first opened on a page.

use std::{cell::RefCell, rc::Rc};

use idb::{Database, DatabaseEvent, Factory, ObjectStoreParams, TransactionMode};
use serde::{Deserialize, Serialize};
use shared::compendium::{CompendiumEntry, CompendiumQuery};
use wasm_bindgen::JsValue;

const DB: &str = "tabletop";
/// 2: entries one by one (version 1 kept whole answers by query).
const VERSION: u32 = 2;
const ENTRIES: &str = "compendium_entries";

#[derive(Serialize, Deserialize)]
struct Kept {
    at: f64,
    entry: CompendiumEntry,
}

thread_local! {
    /// Opened once per page.
    static OPEN: RefCell<Option<Rc<Database>>> = const { RefCell::new(None) };
}

async fn open() -> Option<Rc<Database>> {
    if let Some(db) = OPEN.with(|open| open.borrow().clone()) {
        return Some(db);
    }
    let mut request = Factory::new().ok()?.open(DB, Some(VERSION)).ok()?;
    request.on_upgrade_needed(|event| {
        if let Ok(db) = event.database() {
            let names = db.store_names();
            if names.iter().any(|n| n == "compendium") {
                let _ = db.delete_object_store("compendium");
            }
            if !names.iter().any(|n| n == ENTRIES) {
                let _ = db.create_object_store(ENTRIES, ObjectStoreParams::new());
            }
        }
    });
    let db = Rc::new(request.await.ok()?);
    OPEN.with(|open| *open.borrow_mut() = Some(db.clone()));
    forget_expired(&db).await;
    Some(db)
}

fn fresh(kept: &Kept) -> bool {
    js_sys::Date::now() - kept.at < super::COMPENDIUM_TTL_MS
}

/// Every kept record, with its key.
async fn all(db: &Database) -> Vec<(JsValue, Kept)> {
    let Ok(tx) = db.transaction(&[ENTRIES], TransactionMode::ReadOnly) else {
        return Vec::new();
    };
    let Ok(store) = tx.object_store(ENTRIES) else {
        return Vec::new();
    };
    // Both come sorted by key: they pair up.
    let keys = match store.get_all_keys(None, None) {
        Ok(request) => request.await.unwrap_or_default(),
        Err(_) => return Vec::new(),
    };
    let values = match store.get_all(None, None) {
        Ok(request) => request.await.unwrap_or_default(),
        Err(_) => return Vec::new(),
    };
    keys.into_iter()
        .zip(values)
        .filter_map(|(key, value)| {
            let kept = serde_json::from_str::<Kept>(&value.as_string()?).ok()?;
            Some((key, kept))
        })
        .collect()
}

async fn forget_expired(db: &Database) {
    let expired: Vec<JsValue> = all(db)
        .await
        .into_iter()
        .filter(|(_, kept)| !fresh(kept))
        .map(|(key, _)| key)
        .collect();
    if expired.is_empty() {
        return;
    }
    let Ok(tx) = db.transaction(&[ENTRIES], TransactionMode::ReadWrite) else {
        return;
    };
    if let Ok(store) = tx.object_store(ENTRIES) {
        for key in expired {
            if let Ok(request) = store.delete(key) {
                let _ = request.await;
            }
        }
    }
    if let Ok(done) = tx.commit() {
        let _ = done.await;
    }
}

/// Keeps the entries of an answer (a newer copy replaces an older one).
pub async fn keep(entries: &[CompendiumEntry]) {
    if entries.is_empty() {
        return;
    }
    let Some(db) = open().await else { return };
    let Ok(tx) = db.transaction(&[ENTRIES], TransactionMode::ReadWrite) else {
        return;
    };
    if let Ok(store) = tx.object_store(ENTRIES) {
        let at = js_sys::Date::now();
        for entry in entries {
            let kept = Kept {
                at,
                entry: entry.clone(),
            };
            let Ok(raw) = serde_json::to_string(&kept) else {
                continue;
            };
            if let Ok(request) = store.put(
                &JsValue::from_str(&raw),
                Some(&JsValue::from_str(&entry.ref_key)),
            ) {
                let _ = request.await;
            }
        }
    }
    if let Ok(done) = tx.commit() {
        let _ = done.await;
    }
}

/// The kept entries younger than a week that match `query`, by name,
/// at most its limit.
pub async fn search(query: &CompendiumQuery) -> Vec<CompendiumEntry> {
    let Some(db) = open().await else {
        return Vec::new();
    };
    let mut found: Vec<CompendiumEntry> = all(&db)
        .await
        .into_iter()
        .map(|(_, kept)| kept)
        .filter(|kept| fresh(kept) && query.matches(&kept.entry))
        .map(|kept| kept.entry)
        .collect();
    found.sort_by_cached_key(|entry| entry.name.to_lowercase());
    found.truncate(query.effective_limit() as usize);
    found
}
