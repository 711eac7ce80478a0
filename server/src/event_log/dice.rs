//! The record of a session's dice, for the table to check in the browser
//! ([`shared::fair`]): every action that threw dice, as the event log keeps
//! it, and the seed once the session has ended.

use std::collections::HashMap;

use shared::{
    fair::{DiceRecord, DiceSession, MAX_RECORDED_ROLLS, RecordedRoll},
    id::{ActionId, CampaignId, SessionId, UserId},
    protocol::ActionRequest,
    rules::Participant,
};
use sqlx::PgPool;

use super::{SessionInfo, seed_from_db};
use crate::{Error, Result};

/// The sessions listed for checking.
pub const LISTED_SESSIONS: i64 = 20;

/// The event types whose actions throw dice (`kind_name` in the live
/// session).
const ROLLING: &[&str] = &[
    "roll",
    "chat",
    "roll_initiative",
    "join_initiative",
    "roll_check",
    "roll_attack",
];

/// The campaign's newest sessions whose dice can be checked.
pub async fn sessions(db: &PgPool, campaign: CampaignId) -> Result<Vec<DiceSession>> {
    sqlx::query!(
        r#"select s.id, e.name as "encounter?", s.started_at, s.ended_at is not null as "ended!",
                  s.dice_seed as "seed!"
             from play_sessions s
             left join encounters e on e.id = s.encounter_id
            where s.campaign_id = $1 and s.dice_seed is not null
            order by s.started_at desc, s.id
            limit $2"#,
        campaign.0,
        LISTED_SESSIONS,
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|row| {
        Ok(DiceSession {
            id: SessionId(row.id),
            encounter: row.encounter,
            started_at: row.started_at,
            ended: row.ended,
            commitment: seed_from_db(&row.seed)?.commitment(),
        })
    })
    .collect()
}

/// The dice of `session` that `reader` saw, with the seed if the session
/// has ended. The caller has checked that `reader` is a member of the
/// session's campaign, as `info` describes it.
pub async fn record(
    db: &PgPool,
    session: SessionId,
    info: &SessionInfo,
    reader: Participant,
) -> Result<DiceRecord> {
    // Two rows at most per action (asked for the GM, then applied).
    let limit = i64::try_from(2 * MAX_RECORDED_ROLLS).unwrap_or(i64::MAX);
    let rows = sqlx::query!(
        r#"select e.action_id as "action!", e.initiated_by, e.event_data, e.status = 'applied' as "applied!"
             from event_log e
            where e.session_id = $1 and e.action_id is not null
              and e.event_type = any($2)
              and (e.event_type <> 'chat'
                   or jsonb_array_length(coalesce(e.event_data->'action'->'rolls', '[]')) > 0)
            order by e.id
            limit $3"#,
        session.0,
        ROLLING as &[&str],
        limit,
    )
    .fetch_all(db)
    .await?;
    let mut truncated = i64::try_from(rows.len()).unwrap_or(i64::MAX) >= limit;
    // An action asked for the GM has a row while it waited and another
    // once applied, with the same dice: it counts once, in the order asked.
    let mut order: Vec<(ActionId, Option<UserId>, serde_json::Value, bool)> = Vec::new();
    let mut index = HashMap::new();
    for row in rows {
        let id = ActionId(row.action);
        match index.get(&id) {
            Some(&at) => {
                let entry: &mut (_, _, _, bool) = &mut order[at];
                entry.3 |= row.applied;
            }
            None => {
                index.insert(id, order.len());
                order.push((
                    id,
                    row.initiated_by.map(UserId),
                    row.event_data,
                    row.applied,
                ));
            }
        }
    }
    let gm = reader.role.is_gm_or_assistant();
    let mut rolls = Vec::new();
    for (id, roller, data, applied) in order {
        // The GM saw every roll, in the queue if not at the table; a player
        // only those that reached the table.
        if !gm && !applied {
            continue;
        }
        let request: ActionRequest = serde_json::from_value(data).map_err(|error| {
            Error::CorruptRow(shared::Error::InvalidAction(format!(
                "the logged request {id}: {error}"
            )))
        })?;
        let for_reader =
            gm || roller.is_some_and(|roller| request.action.dice_seen_by(roller, reader));
        if request.action.thrown().is_empty() || !for_reader {
            continue;
        }
        if rolls.len() == MAX_RECORDED_ROLLS {
            truncated = true;
            break;
        }
        rolls.push(RecordedRoll {
            id,
            action: request.action,
        });
    }
    Ok(DiceRecord {
        session,
        commitment: info.dice.map(|seed| seed.commitment()),
        // The secret stays the server's while the session runs: with it a
        // player could tell the next roll of any action id.
        seed: info.dice.filter(|_| info.ended),
        rolls,
        truncated,
    })
}
