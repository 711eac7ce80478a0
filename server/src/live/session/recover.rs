//! Taking a session over: the fencing epoch is bumped, then the state is
//! rebuilt from the latest snapshot and the commits after it, and the
//! requests still waiting for the GM are read back.

use std::collections::HashMap;

use shared::{
    Error as Refusal,
    authority::Authority,
    change::Commit,
    id::SessionId,
    protocol::ActionRequest,
    rules::Participant,
    store::{Entities, Store},
};
use sqlx::PgPool;

use crate::{Error, Result, campaign::role_of, event_log, metrics::Metrics};

use super::{SessionActor, Tuning, gm::Waiting};
use crate::live::{committer::Committer, load, mirror::Mirror};

impl SessionActor {
    /// Takes the session over and rebuilds its state: the latest snapshot
    /// plus the commits after it (or, for a new session, the campaign's
    /// actors and the encounter, saved as the snapshot at version 0), and
    /// the requests still waiting for the GM.
    pub async fn recover(
        db: PgPool,
        committer: Committer,
        id: SessionId,
        tuning: Tuning,
        metrics: Metrics,
        mirror: Mirror,
    ) -> Result<Self> {
        let info = event_log::session_info(&db, id)
            .await?
            .ok_or(Error::NotMember)?;
        if info.ended {
            return Err(Error::Refused(Refusal::InvalidAction(
                "this session has ended".into(),
            )));
        }
        let epoch = event_log::take_ownership(&db, id).await?;
        let (store, version) = match event_log::latest_snapshot(&db, id).await? {
            Some((version, state)) => {
                let entities: Entities = serde_json::from_value(state).map_err(corrupt)?;
                (
                    Store::from_entities(entities).map_err(Error::CorruptRow)?,
                    version,
                )
            }
            None => {
                let entities = load::starting_state(&db, info.campaign, info.encounter).await?;
                let state = serde_json::to_value(&entities).map_err(corrupt)?;
                event_log::save_snapshot(&db, id, 0, info.encounter, &state).await?;
                (
                    Store::from_entities(entities).map_err(Error::CorruptRow)?,
                    0,
                )
            }
        };
        // Replayed through the authority, so the commits since the snapshot
        // are in its history again for clients that resume.
        let mut authority = Authority::new(store, version);
        for (at, changes) in event_log::replay(&db, id, version).await? {
            let commit: Commit = serde_json::from_value(changes).map_err(corrupt)?;
            let (replayed, _) = authority
                .commit(commit.action, commit.changes)
                .map_err(Error::CorruptRow)?;
            if replayed.version != at {
                return Err(Error::CorruptRow(Refusal::VersionGap {
                    expected: replayed.version,
                    got: at,
                }));
            }
        }
        let version = authority.version();
        let recorded = event_log::action_ids(&db, id).await?;
        let mut waiting = Vec::new();
        for pending in event_log::pending(&db, id).await? {
            let request: ActionRequest =
                serde_json::from_value(pending.event_data).map_err(corrupt)?;
            let Some(user) = pending.initiated_by else {
                continue;
            };
            let Ok(role) = role_of(&db, info.campaign, user).await else {
                continue;
            };
            waiting.push(Waiting {
                request,
                from: Participant { user, role },
                reason: "waiting for the GM".into(),
                requested_at: pending.requested_at,
            });
        }
        let explored = match info.encounter {
            Some(encounter) => {
                crate::encounter::explored::load(&db, info.campaign, encounter).await?
            }
            None => HashMap::new(),
        };
        tracing::info!(session = %id, version, epoch, waiting = waiting.len(), "session recovered");
        mirror.started(info.campaign, info.encounter, version, epoch);
        Ok(Self {
            id,
            campaign: info.campaign,
            db,
            committer,
            epoch,
            authority,
            policy: info.policy,
            conns: HashMap::new(),
            waiting,
            request_ttl: time::Duration::try_from(tuning.request_ttl)
                .unwrap_or(time::Duration::MAX),
            idle_stop: tuning.idle_stop,
            unacked_window: tuning.unacked_window,
            idle_since: Some(std::time::Instant::now()),
            metrics,
            mirror,
            batch: Vec::new(),
            queued: Vec::new(),
            refused: Vec::new(),
            rules: None,
            recorded,
            encounter: info.encounter,
            hot_copy: (u64::MAX, std::time::Instant::now()),
            lease: None,
            ended: false,
            dice: info.dice,
            undoable: Default::default(),
            rechecker: crate::live::recheck::Rechecker::default(),
            explored,
            explored_changed: Default::default(),
        })
    }
}

/// A document of the session that does not serialize or read back.
pub(super) fn corrupt(error: serde_json::Error) -> Error {
    Error::failed("serializing the session's data")(error)
}
