//! The compendium: rules content shared by every campaign.

pub mod srd;

use shared::{
    character::{CharacterOptions, ClassOption, SpeciesOption},
    compendium::{CompendiumEntry, CompendiumQuery, detail::Detail},
    sheet::Attack,
};
use sqlx::{PgPool, QueryBuilder, Row};

use crate::Result;

/// How many matches of each kind (name matches, other matches) are ranked
/// at most. Ranking is the cost of a broad term ("fire" mentions in 25,000
/// descriptions); name matches come from their own index, so the cap only
/// trims the tail of description-only matches, which rank below them
/// anyway. At 1,000 the planner also gave up index lookups for a scan of
/// the whole table (p95 47 ms over 100,000 entries; 200: see BENCHMARKS.md).
const CANDIDATES: i64 = 200;

/// The classes and species of the enabled sources, for the character form,
/// and their weapons and damaging spells as attacks for a sheet, by name
/// (spells by level first). A class without a usable hit die is left out,
/// as is a spell without damage the sheet can roll.
pub async fn character_options(db: &PgPool) -> Result<CharacterOptions> {
    let rows = sqlx::query!(
        "select i.name, i.item_type, i.data
           from compendium_items i
           join compendium_sources s on s.id = i.source_id and s.is_enabled
          where i.item_type in ('class', 'species', 'spell')
             or (i.item_type = 'item' and i.category = 'weapon')
          order by i.level nulls first, i.name
          limit 2000"
    )
    .fetch_all(db)
    .await?;
    let mut options = CharacterOptions::default();
    for row in rows {
        match row.item_type.as_str() {
            "class" => options
                .classes
                .extend(ClassOption::from_srd(&row.name, &row.data)),
            "species" => options
                .species
                .push(SpeciesOption::from_srd(&row.name, &row.data)),
            "spell" => options
                .spells
                .extend(Attack::from_spell(&row.name, &row.data)),
            _ => options
                .weapons
                .extend(Attack::from_weapon(&row.name, &row.data)),
        }
    }
    Ok(options)
}

/// One entry of the enabled sources, read for people; `None` when no
/// enabled source has `ref_key`.
pub async fn detail(db: &PgPool, ref_key: &str) -> Result<Option<Detail>> {
    let row = sqlx::query!(
        "select i.name, i.item_type, i.data
           from compendium_items i
           join compendium_sources s on s.id = i.source_id and s.is_enabled
          where i.ref_key = $1
          order by s.name
          limit 1",
        ref_key
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|row| shared::compendium::detail::detail(&row.name, &row.item_type, &row.data)))
}

/// Searches the enabled sources. With text, results are ranked (a match in
/// the name outranks one in the description; a whole-word match outranks a
/// prefix); without, they are in name order.
pub async fn search(db: &PgPool, query: &CompendiumQuery) -> Result<Vec<CompendiumEntry>> {
    let tsquery = query.prefix_tsquery();
    let mut sql = QueryBuilder::new("");
    if let Some(text) = &tsquery {
        // Candidates: name matches (their own index), then any field, each
        // capped.
        sql.push("with candidates as ((select i.id from compendium_items i");
        push_filters(&mut sql, query);
        sql.push(" and i.name_vector @@ to_tsquery('english', ")
            .push_bind(text.clone());
        sql.push(") limit ")
            .push_bind(CANDIDATES)
            .push(") union (select i.id from compendium_items i");
        push_filters(&mut sql, query);
        sql.push(" and i.search_vector @@ to_tsquery('english', ")
            .push_bind(text.clone());
        sql.push(") limit ").push_bind(CANDIDATES).push(")) ");
    }
    sql.push(
        "select i.id, i.ref_key, i.name, i.item_type, i.category, i.level, i.school, i.rarity,
                i.computed_cr::float8 as challenge_rating",
    );
    match &tsquery {
        Some(text) => {
            // Prefix matches cover "fire" -> "Fireball"; the plain query adds
            // weight for whole words, and a name that starts with the text
            // comes first.
            sql.push(", ts_rank(i.search_vector, to_tsquery('english', ")
                .push_bind(text.clone())
                .push(")) + ts_rank(i.search_vector, plainto_tsquery('english', ")
                .push_bind(query.text.clone().unwrap_or_default())
                .push(")) + case when lower(i.name) like ")
                .push_bind(format!("{}%", query.text.as_deref().unwrap_or_default().trim().to_lowercase()))
                .push(" then 1.0 else 0.0 end as relevance from compendium_items i join candidates c on c.id = i.id");
        }
        None => {
            sql.push(", 0.0::float4 as relevance from compendium_items i");
            push_filters(&mut sql, query);
        }
    }
    sql.push(" order by relevance desc, i.name, i.ref_key limit ")
        .push_bind(i64::from(query.effective_limit()));
    let rows = sql.build().fetch_all(db).await?;
    rows.into_iter()
        .map(|row| {
            Ok(CompendiumEntry {
                id: row.try_get("id")?,
                ref_key: row.try_get("ref_key")?,
                name: row.try_get("name")?,
                item_type: row.try_get("item_type")?,
                category: row.try_get("category")?,
                level: row.try_get("level")?,
                school: row.try_get("school")?,
                rarity: row.try_get("rarity")?,
                challenge_rating: row.try_get("challenge_rating")?,
            })
        })
        .collect()
}

/// The enabled-source join and the query's filters, after `from
/// compendium_items i`.
fn push_filters(sql: &mut QueryBuilder<'_, sqlx::Postgres>, query: &CompendiumQuery) {
    sql.push(" join compendium_sources s on s.id = i.source_id where s.is_enabled");
    if let Some(item_type) = &query.item_type {
        sql.push(" and i.item_type = ").push_bind(item_type.clone());
    }
    if let Some(school) = &query.school {
        sql.push(" and i.school = ")
            .push_bind(school.to_lowercase());
    }
    if let Some(min) = query.min_level {
        sql.push(" and i.level >= ").push_bind(min);
    }
    if let Some(max) = query.max_level {
        sql.push(" and i.level <= ").push_bind(max);
    }
    if let Some(min) = query.min_cr {
        sql.push(" and i.computed_cr >= ")
            .push_bind(min)
            .push("::numeric");
    }
    if let Some(max) = query.max_cr {
        sql.push(" and i.computed_cr <= ")
            .push_bind(max)
            .push("::numeric");
    }
}
