//! The seed's cross-data queries, as typed functions: spellcasters with
//! their high-level spells, and the encounter builder.

use serde_json::Value;
use shared::id::CampaignId;
use sqlx::{PgPool, Row};

use crate::Result;

/// A spell a caster knows.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownSpell {
    /// Its name.
    pub name: String,
    /// Its level.
    pub level: i32,
    /// Its school.
    pub school: Option<String>,
}

/// A caster of level 5 or more and their spells of level 3 or more.
#[derive(Debug, Clone, PartialEq)]
pub struct Spellcaster {
    /// The actor's name.
    pub name: String,
    /// Its level.
    pub level: i32,
    /// Its class.
    pub character_class: Option<String>,
    /// The spellcasting ability (`int`, `wis`, ...).
    pub spellcasting_ability: String,
    /// Spell slots left, as stored.
    pub spell_slots: Option<Value>,
    /// Known spells of level 3 or more, highest first.
    pub spells: Vec<KnownSpell>,
}

/// Level 5+ spellcasters of a campaign with their known spells of level 3+
/// (spells are campaign items owned by the actor that refer to a compendium
/// spell). Casters without such spells are left out, as in the seed.
pub async fn high_level_spellcasters(
    db: &PgPool,
    campaign: CampaignId,
) -> Result<Vec<Spellcaster>> {
    let rows = sqlx::query(
        "select a.name, a.level, a.character_class,
                a.base_stats ->> 'spellcasting_ability' as ability,
                a.current_stats -> 'spell_slots' as slots,
                jsonb_agg(distinct jsonb_build_object('name', ci.name, 'level', ci.level, 'school', ci.school)) as spells
           from actors a
           join campaign_items items on items.owner_actor_id = a.id
           join compendium_items ci on ci.ref_key = items.compendium_ref
          where a.campaign_id = $1
            and a.level >= 5
            and a.base_stats ->> 'spellcasting_ability' is not null
            and ci.item_type = 'spell'
            and ci.level >= 3
          group by a.id
          order by a.level desc, a.name",
    )
    .bind(campaign.0)
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|row| {
            let spells: Value = row.try_get("spells")?;
            let mut spells: Vec<KnownSpell> = spells
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|spell| {
                    Some(KnownSpell {
                        name: spell.get("name")?.as_str()?.to_owned(),
                        level: i32::try_from(spell.get("level")?.as_i64()?).ok()?,
                        school: spell
                            .get("school")
                            .and_then(Value::as_str)
                            .map(str::to_owned),
                    })
                })
                .collect();
            spells.sort_by(|a, b| b.level.cmp(&a.level).then_with(|| a.name.cmp(&b.name)));
            Ok(Spellcaster {
                name: row.try_get("name")?,
                level: row.try_get("level")?,
                character_class: row.try_get("character_class")?,
                spellcasting_ability: row.try_get("ability")?,
                spell_slots: row.try_get("slots")?,
                spells,
            })
        })
        .collect()
}

/// How hard a monster is for the party, by its CR against the party's
/// average level (the seed's rule of thumb).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Difficulty {
    /// CR at most two below the average level.
    Easy,
    /// Up to the average level.
    Medium,
    /// Up to two above.
    Hard,
    /// More.
    Deadly,
}

/// A monster the encounter builder suggests.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    /// Its name.
    pub name: String,
    /// Its challenge rating.
    pub challenge_rating: f64,
    /// How hard it is for the party.
    pub difficulty: Difficulty,
    /// Items related to it as `drops` in the compendium.
    pub loot: Vec<String>,
}

/// Monsters for the campaign's party: challenge rating from two below the
/// party's average character level (at least 1/8) to four above, with
/// difficulty and loot. No characters: no suggestions.
pub async fn encounter_builder(db: &PgPool, campaign: CampaignId) -> Result<Vec<Suggestion>> {
    let rows = sqlx::query(
        "with party as (
             select avg(level)::float8 as avg_level from actors
              where campaign_id = $1 and actor_type = 'character' and level is not null
         )
         select m.name, m.computed_cr::float8 as cr,
                case when m.computed_cr <= p.avg_level - 2 then 'easy'
                     when m.computed_cr <= p.avg_level then 'medium'
                     when m.computed_cr <= p.avg_level + 2 then 'hard'
                     else 'deadly' end as difficulty,
                coalesce(array_agg(distinct loot.name) filter (where loot.id is not null), '{}') as loot
           from party p
           join compendium_items m
             on m.item_type = 'actor' and m.category = 'monster'
            and m.computed_cr between greatest(p.avg_level - 2, 0.125) and p.avg_level + 4
           join compendium_sources s on s.id = m.source_id and s.is_enabled
           join campaigns c on c.id = $1 and c.game_system = s.game_system
           left join compendium_relationships r on r.source_item_id = m.id and r.relationship_type = 'drops'
           left join compendium_items loot on loot.id = r.target_item_id
          where p.avg_level is not null
          group by m.id, m.name, m.computed_cr, p.avg_level
          order by m.computed_cr, m.name",
    )
    .bind(campaign.0)
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|row| {
            let difficulty = match row.try_get::<String, _>("difficulty")?.as_str() {
                "easy" => Difficulty::Easy,
                "medium" => Difficulty::Medium,
                "hard" => Difficulty::Hard,
                _ => Difficulty::Deadly,
            };
            Ok(Suggestion {
                name: row.try_get("name")?,
                challenge_rating: row.try_get("cr")?,
                difficulty,
                loot: row.try_get("loot")?,
            })
        })
        .collect()
}
