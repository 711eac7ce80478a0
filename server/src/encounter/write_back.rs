//! Writing a play session's table back into the campaign when it ends.

use super::*;
use shared::{actor::Actor, sheet::Check};

/// The names of the saves or skills (as `pick` tells) `actor` is
/// proficient in.
fn proficient(actor: &Actor, pick: impl Fn(Check) -> Option<&'static str>) -> Vec<&'static str> {
    actor
        .proficiencies
        .iter()
        .copied()
        .filter_map(pick)
        .collect()
}

/// Writes what a session's table ended with back to the campaign, in the
/// transaction `tx` (the one that ends the session): each encounter's
/// turn order, fog, drawings, walls, whether players draw, whether walls hide and whether the map is lit (the rest of the
/// map is the editor's); its tokens as they stand (place, size, visibility,
/// conditions; tokens removed in play are removed, tokens added are
/// added); and each actor's sheet as played (hit points, speed, stats,
/// proficiencies), and its conditions when a single
/// token stands for it (a character; a pack of wolves keeps its
/// conditions on its tokens).
pub async fn write_back(
    tx: &mut sqlx::PgConnection,
    campaign: CampaignId,
    encounter: Option<EncounterId>,
    entities: &Entities,
) -> Result<()> {
    // Only the session's own encounter is written, whatever the state
    // holds, and every statement names the campaign: the last guard if a
    // live change ever named a row of another campaign.
    let on_table = encounter.and_then(|id| entities.encounters.get(&id));
    if let Some(encounter) = on_table {
        let initiative = serde_json::to_value(&encounter.initiative).map_err(internal)?;
        let fog = serde_json::to_value(&encounter.fog).map_err(internal)?;
        let drawings: Vec<_> = entities
            .drawings
            .values()
            .filter(|d| d.encounter == encounter.id)
            .collect();
        let drawings = serde_json::to_value(drawings).map_err(internal)?;
        let walls: Vec<_> = entities
            .walls
            .values()
            .filter(|w| w.encounter == encounter.id)
            .collect();
        let walls = serde_json::to_value(walls).map_err(internal)?;
        // A map stored as `{}` is the default one: written whole, or it
        // would read back as a map without a grid.
        let map = serde_json::to_value(shared::encounter::MapSettings {
            image: None,
            ..encounter.map
        })
        .map_err(internal)?;
        let updated = sqlx::query!(
            "update encounters
                set initiative_data = $3, round_number = $4, current_turn = $5, fog = $6, drawings = $7, walls = $10,
                    map_settings = case when map_settings ? 'grid_size'
                                        then map_settings || jsonb_build_object('players_draw', $8::bool,
                                                                                'vision', $11::bool,
                                                                                'daylight', $12::bool)
                                        else $9 end,
                    updated_at = now()
              where id = $1 and campaign_id = $2",
            encounter.id.0,
            campaign.0,
            initiative,
            i32::try_from(encounter.initiative.round).unwrap_or(i32::MAX),
            i32::try_from(encounter.initiative.turn).unwrap_or(i32::MAX),
            fog,
            drawings,
            encounter.map.players_draw,
            map,
            walls,
            encounter.map.vision,
            encounter.map.daylight,
        )
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            // Deleted since the session started, or not this campaign's:
            // its tokens are not written anywhere.
            tracing::warn!(encounter = %encounter.id, %campaign, "the session's encounter is gone; its tokens are not written back");
        } else {
            write_tokens(tx, campaign, encounter, entities).await?;
        }
    }
    write_actors(tx, campaign, entities).await
}

/// The tokens of the session's encounter: those gone from the table are
/// deleted, the others written. A token id that is another encounter's is
/// neither moved nor overwritten.
async fn write_tokens(
    tx: &mut sqlx::PgConnection,
    campaign: CampaignId,
    encounter: &shared::encounter::Encounter,
    entities: &Entities,
) -> Result<()> {
    let tokens: Vec<&Token> = entities
        .tokens
        .values()
        .filter(|t| t.encounter == encounter.id)
        .collect();
    let ids: Vec<Uuid> = tokens.iter().map(|t| t.id.0).collect();
    sqlx::query!(
        "delete from encounter_tokens t
               using encounters e
              where t.encounter_id = $1 and e.id = t.encounter_id and e.campaign_id = $3
                and t.id <> all($2)",
        encounter.id.0,
        &ids,
        campaign.0,
    )
    .execute(&mut *tx)
    .await?;
    let mut actors = Vec::with_capacity(tokens.len());
    let mut names = Vec::with_capacity(tokens.len());
    let mut positions = Vec::with_capacity(tokens.len());
    let mut rotations = Vec::with_capacity(tokens.len());
    let mut scales = Vec::with_capacity(tokens.len());
    let mut visibilities = Vec::with_capacity(tokens.len());
    let mut hp_shown = Vec::with_capacity(tokens.len());
    let mut conditions = Vec::with_capacity(tokens.len());
    let mut stats = Vec::with_capacity(tokens.len());
    let mut sights = Vec::with_capacity(tokens.len());
    for token in &tokens {
        actors.push(token.actor.map(|a| a.0));
        names.push(token.name.clone());
        positions.push(serde_json::to_value(token.position).map_err(internal)?);
        rotations.push(token.rotation);
        scales.push(token.scale);
        visibilities.push(token.visibility.slug().to_owned());
        hp_shown.push(token.hp_shown.map(|shown| shown.slug().to_owned()));
        conditions.push(serde_json::to_value(&token.conditions).map_err(internal)?);
        stats.push(serde_json::to_value(&token.stats).map_err(internal)?);
        sights.push(serde_json::to_value(token.sight).map_err(internal)?);
    }
    // An actor deleted from the campaign since leaves its token as
    // scenery; sizes and angles are kept within their columns.
    sqlx::query!(
            r#"insert into encounter_tokens
                   (id, encounter_id, actor_id, name, position, rotation, scale, visibility, conditions, temporary_stats,
                    hp_shown, sight)
               select t.id, $1, a.id, t.name, t.position,
                      least(greatest(t.rotation, -9999.99), 9999.99)::numeric,
                      least(t.scale, 99.99)::numeric,
                      t.visibility,
                      array(select jsonb_array_elements_text(t.conditions)),
                      t.stats, t.hp_shown, t.sight
                 from unnest($2::uuid[], $3::uuid[], $4::text[], $5::jsonb[], $6::float8[], $7::float8[],
                             $8::text[], $9::jsonb[], $10::jsonb[], $12::text[], $13::jsonb[])
                      as t(id, actor_id, name, position, rotation, scale, visibility, conditions, stats, hp_shown,
                           sight)
                 join encounters e on e.id = $1 and e.campaign_id = $11
                 left join actors a on a.id = t.actor_id and a.campaign_id = $11
               on conflict (id) do update set
                   actor_id = excluded.actor_id, name = excluded.name, position = excluded.position,
                   rotation = excluded.rotation, scale = excluded.scale, visibility = excluded.visibility,
                   conditions = excluded.conditions, temporary_stats = excluded.temporary_stats,
                   hp_shown = excluded.hp_shown, sight = excluded.sight, updated_at = now()
                 where encounter_tokens.encounter_id = $1"#,
            encounter.id.0,
            &ids,
            &actors as &[Option<Uuid>],
            &names,
            &positions,
            &rotations,
            &scales,
            &visibilities,
            &conditions,
            &stats,
            campaign.0,
            &hp_shown as &[Option<String>],
            &sights,
        )
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Hit points for every actor; conditions for those one token plays.
async fn write_actors(
    tx: &mut sqlx::PgConnection,
    campaign: CampaignId,
    entities: &Entities,
) -> Result<()> {
    let mut tokens_of: BTreeMap<ActorId, Vec<&Token>> = BTreeMap::new();
    for token in entities.tokens.values() {
        if let Some(actor) = token.actor {
            tokens_of.entry(actor).or_default().push(token);
        }
    }
    let mut ids = Vec::with_capacity(entities.actors.len());
    let mut current = Vec::with_capacity(entities.actors.len());
    for actor in entities.actors.values() {
        let mut values = serde_json::json!({
            "speed": actor.speed,
            "saves": proficient(actor, |check| match check {
                Check::Save(ability) => Some(ability.name()),
                _ => None,
            }),
            "skills": proficient(actor, |check| match check {
                Check::Skill(skill) => Some(skill.name()),
                _ => None,
            }),
        });
        // The numbers the sheet shows (ability scores, armor class, the
        // bonuses), as changed in play; a key `Statblock::read` looks for
        // in the current values before the statblock.
        for (name, value) in &actor.stats {
            values[name.as_str()] = serde_json::json!(value);
        }
        // The server's state always has them; a state without them keeps
        // the sheet's.
        if let Some(hp) = actor.hp {
            values["hp"] = serde_json::json!(hp.current);
            values["hp_max"] = serde_json::json!(hp.max);
            values["hp_temp"] = serde_json::json!(hp.temp);
        }
        if let Some(portrait) = actor.portrait {
            values["portrait"] = serde_json::json!(portrait);
        }
        if let Some([only]) = tokens_of.get(&actor.id).map(Vec::as_slice) {
            values["conditions"] = serde_json::to_value(&only.conditions).map_err(internal)?;
        }
        ids.push(actor.id.0);
        current.push(values);
    }
    sqlx::query!(
        "update actors a set current_stats = a.current_stats || u.values, updated_at = now()
           from unnest($1::uuid[], $2::jsonb[]) as u(id, values)
          where a.id = u.id and a.campaign_id = $3",
        &ids,
        &current,
        campaign.0,
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}
