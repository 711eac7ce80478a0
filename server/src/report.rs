//! The seed's cross-data queries, as typed functions: spellcasters with
//! their high-level spells, and the encounter builder.

use serde_json::Value;
pub use shared::report::{CampaignAnalytics, Difficulty, HitKind, SearchHit, Suggestion};
use shared::{
    id::{CampaignId, UserId},
    rules::Role,
};
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

/// Monsters for the campaign's party: challenge rating from two below the
/// party's average character level (at least 1/8) to four above, with
/// difficulty and loot. No characters: no suggestions.
pub async fn encounter_builder(db: &PgPool, campaign: CampaignId) -> Result<Vec<Suggestion>> {
    let rows = sqlx::query(
        "with party as (
             select avg(level)::float8 as avg_level from actors
              where campaign_id = $1 and actor_type = 'character' and level is not null
         )
         select m.ref_key, m.name, m.computed_cr::float8 as cr,
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
          group by m.id, m.ref_key, m.name, m.computed_cr, p.avg_level
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
                ref_key: row.try_get("ref_key")?,
                name: row.try_get("name")?,
                challenge_rating: row.try_get("cr")?,
                difficulty,
                loot: row.try_get("loot")?,
            })
        })
        .collect()
}

/// Searches a campaign's actors and media and the compendium of its game
/// system at once (at most 20). The campaign's own matches come first (a
/// rank bonus of 1), then the compendium's, each by full-text rank: with the
/// SRD's 1,600 entries a plain rank would bury the GM's own "Dragonslayer"
/// under twenty dragons.
///
/// `reader` finds only what they may see: the GM everything; a player the
/// actors they own or that are shown to all, and the media they may read.
pub async fn search_campaign(
    db: &PgPool,
    campaign: CampaignId,
    reader: UserId,
    role: Role,
    text: &str,
) -> Result<Vec<SearchHit>> {
    let Some(tsquery) = shared::compendium::prefix_tsquery(text) else {
        return Ok(Vec::new());
    };
    let rows = sqlx::query(
        "with q as (select to_tsquery('english', $2) as q)
         select 'actor' as kind, a.id, a.name, a.character_class as subtitle, (1 + ts_rank(a.search_vector, q.q))::float4 as relevance
           from actors a, q where a.campaign_id = $1 and a.search_vector @@ q.q
            and ($3 or a.owner_user_id = $4 or a.permissions ->> 'view' = 'all')
         union all
         select 'compendium', ci.id, ci.name, ci.category, ts_rank(ci.search_vector, q.q)
           from compendium_items ci
           join compendium_sources cs on cs.id = ci.source_id and cs.is_enabled
           join campaigns c on c.id = $1 and c.game_system = cs.game_system, q
          where ci.search_vector @@ q.q
         union all
         select 'media', m.id, m.original_name, m.media_type, (1 + ts_rank(m.search_vector, q.q))::float4
           from media_files m, q where m.campaign_id = $1 and m.search_vector @@ q.q
            and media_readable(m, $5, $4)
         order by relevance desc, name
         limit 20",
    )
    .bind(campaign.0)
    .bind(tsquery)
    .bind(role.is_gm_or_assistant())
    .bind(reader.0)
    .bind(role.slug())
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|row| {
            let kind = match row.try_get::<String, _>("kind")?.as_str() {
                "actor" => HitKind::Actor,
                "media" => HitKind::Media,
                _ => HitKind::Compendium,
            };
            Ok(SearchHit {
                kind,
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                subtitle: row.try_get("subtitle")?,
                relevance: row.try_get("relevance")?,
            })
        })
        .collect()
}

/// Counts a campaign's content. Each table is counted in its own subquery:
/// the seed joined all of them at once, which multiplies the media size sum
/// by the number of actors times items.
pub async fn campaign_analytics(db: &PgPool, campaign: CampaignId) -> Result<CampaignAnalytics> {
    let row = sqlx::query(
        "select
            (select count(*) from actors where campaign_id = $1 and actor_type = 'character') as characters,
            (select count(*) from actors where campaign_id = $1 and actor_type = 'npc') as npcs,
            (select count(*) from actors where campaign_id = $1 and actor_type = 'monster') as monsters,
            (select count(*) from campaign_items where campaign_id = $1) as items,
            (select count(*) from media_files where campaign_id = $1) as media_files,
            (select coalesce(sum(file_size), 0)::bigint from media_files where campaign_id = $1) as media_bytes,
            (select count(*) from encounters where campaign_id = $1) as encounters,
            (select count(*) from encounters where campaign_id = $1 and status = 'completed') as completed",
    )
    .bind(campaign.0)
    .fetch_one(db)
    .await?;
    Ok(CampaignAnalytics {
        characters: row.try_get("characters")?,
        npcs: row.try_get("npcs")?,
        monsters: row.try_get("monsters")?,
        items: row.try_get("items")?,
        media_files: row.try_get("media_files")?,
        media_bytes: row.try_get("media_bytes")?,
        encounters: row.try_get("encounters")?,
        completed_encounters: row.try_get("completed")?,
    })
}

/// A map image large enough to be worth optimizing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LargeMap {
    /// What the uploader called it.
    pub original_name: String,
    /// Its size in bytes.
    pub file_size: i64,
    /// `medium` (over 10 MiB) or `large` (over 50 MiB); `small` otherwise.
    pub size_category: String,
    /// The campaign's name.
    pub campaign: String,
    /// Encounters using it as their map.
    pub encounter_usage: i64,
}

/// Maps over 5 MiB across all campaigns, largest first, with how many
/// encounters use each.
pub async fn large_maps(db: &PgPool) -> Result<Vec<LargeMap>> {
    let rows = sqlx::query(
        "select m.original_name, m.file_size, c.name as campaign,
                case when m.file_size > 50 * 1024 * 1024 then 'large'
                     when m.file_size > 10 * 1024 * 1024 then 'medium'
                     else 'small' end as size_category,
                count(e.id) as usage
           from media_files m
           join campaigns c on c.id = m.campaign_id
           left join encounters e on e.map_id = m.id
          where m.media_type = 'map' and m.file_size > 5 * 1024 * 1024
          group by m.id, c.name
          order by m.file_size desc, m.original_name",
    )
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|row| {
            Ok(LargeMap {
                original_name: row.try_get("original_name")?,
                file_size: row.try_get("file_size")?,
                size_category: row.try_get("size_category")?,
                campaign: row.try_get("campaign")?,
                encounter_usage: row.try_get("usage")?,
            })
        })
        .collect()
}

/// The campaign's chat and dice of past and running sessions, newest
/// first: the lines of the [`shared::report::CHAT_PAGE`] newest commits
/// with a line from before `before` (a line's id, which is its commit's).
/// A page holds whole commits, so a commit of several lines is never cut
/// between two pages. Read from the event log, where every line was committed
/// with its session's state: nothing to write at the end of a session, a
/// line the GM undid is not there, and the table's 200-line window does
/// not cut it. Each member reads it as they did at the table: a whisper or
/// a secret roll only its readers (and the GM) ever get, and a page counts
/// only commits with a line for the reader.
pub async fn chat_history(
    db: &PgPool,
    campaign: CampaignId,
    reader: &shared::rules::Participant,
    before: Option<i64>,
) -> Result<Vec<shared::report::ChatLine>> {
    let rows = sqlx::query!(
        r#"select e.id as "id!", s.id as "session!",
                  to_char(coalesce(e.applied_at, e.recorded_at) at time zone 'UTC', 'YYYY-MM-DD HH24:MI') as "at!",
                  c.change->'value' as "line!", u.display_name as "by?"
             from (select e.id, e.session_id, e.applied_at, e.recorded_at, e.state_changes
                     from play_sessions s
                     join event_log e on e.session_id = s.id and e.status = 'applied'
                    where s.campaign_id = $1
                      and ($2::bigint is null or e.id < $2)
                      and exists (select 1 from jsonb_array_elements(e.state_changes->'changes') l
                                   where l->>'op' = 'append' and l->>'path' like 'encounters/%/log'
                                     and ($4 or jsonb_typeof(l->'value'->'to') is distinct from 'array'
                                          or l->'value'->'to' ? $5))
                    order by e.id desc
                    limit $3) e
             join play_sessions s on s.id = e.session_id
             cross join lateral jsonb_array_elements(e.state_changes->'changes') with ordinality as c(change, n)
             left join users u on u.id::text = c.change->'value'->>'by'
            where c.change->>'op' = 'append'
              and c.change->>'path' like 'encounters/%/log'
              and ($4 or jsonb_typeof(c.change->'value'->'to') is distinct from 'array'
                   or c.change->'value'->'to' ? $5)
            order by e.id desc, c.n desc"#,
        campaign.0,
        before,
        shared::report::CHAT_PAGE as i64,
        reader.role.is_gm_or_assistant(),
        reader.user.0.to_string(),
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            // A line the store accepted reads back; anything else is left
            // out rather than failing the page.
            let line: shared::encounter::LogEntry = serde_json::from_value(row.line).ok()?;
            // The query reads only the reader's lines; this says so again
            // where the line is decoded.
            if !line.read_by(reader) {
                return None;
            }
            Some(shared::report::ChatLine {
                id: row.id,
                at: row.at,
                session: shared::id::SessionId(row.session),
                by: line.by.and(row.by),
                kind: line.kind,
                private: line.to.is_some(),
                text: line.text,
            })
        })
        .collect())
}
