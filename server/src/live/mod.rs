//! Live play sessions: the GM-authoritative loop of ARCHITECTURE.md
//! ("The action flow").
//!
//! Each session has one writer: a session actor (one tokio task, see
//! [`session`]) that holds the authoritative state, applies requests in
//! order, commits them to the event log before anyone hears of them, and
//! fans them out filtered per recipient. Sockets ([`socket`]) only decode,
//! forward and write. The [`Hub`] finds or starts the actor of a session on
//! this node (the in-process engine; the Redis engine for several nodes is
//! the next step of issue 5).

pub mod load;
pub mod mirror;
pub mod session;
pub mod socket;
pub mod sync;

use std::{collections::HashMap, sync::Arc};

use redis::aio::ConnectionManager;
use shared::id::SessionId;
use sqlx::PgPool;
use tokio::sync::{Mutex, mpsc};

use crate::{Result, event_log, metrics::Metrics};
pub use session::{Command, ConnId, Timings};

/// How many commands wait for a session actor before senders wait.
const MAILBOX: usize = 4096;

/// The session actors running on this node. Cloning is cheap.
#[derive(Clone)]
pub struct Hub {
    db: PgPool,
    redis: Option<ConnectionManager>,
    metrics: Metrics,
    timings: session::Timings,
    /// One slot per session: starting a session (which reads the log)
    /// waits only for its own slot, not for other sessions starting.
    sessions: Arc<Mutex<HashMap<SessionId, Slot>>>,
}

/// The mailbox of a session's actor, once started.
type Slot = Arc<Mutex<Option<mpsc::Sender<Command>>>>;

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub").finish_non_exhaustive()
    }
}

impl Hub {
    /// A hub with no sessions running.
    pub fn new(db: PgPool, redis: Option<ConnectionManager>, metrics: Metrics) -> Self {
        Self {
            db,
            redis,
            metrics,
            timings: session::Timings::default(),
            sessions: Arc::default(),
        }
    }

    /// The same hub with other timings (tests shorten them).
    pub fn with_timings(self, timings: session::Timings) -> Self {
        Self { timings, ..self }
    }

    /// The mailbox of a session's actor, starting the actor (recovering its
    /// state from the event log) if it is not running here.
    pub async fn session(&self, id: SessionId) -> Result<mpsc::Sender<Command>> {
        let slot = self.sessions.lock().await.entry(id).or_default().clone();
        let mut slot = slot.lock().await;
        if let Some(mailbox) = slot.as_ref()
            && !mailbox.is_closed()
        {
            return Ok(mailbox.clone());
        }
        let actor = session::SessionActor::recover(
            self.db.clone(),
            id,
            self.timings,
            self.metrics.clone(),
            mirror::Mirror::start(self.redis.clone(), id),
        )
        .await?;
        let (mailbox, inbox) = mpsc::channel(MAILBOX);
        tokio::spawn(actor.run(inbox));
        *slot = Some(mailbox.clone());
        Ok(mailbox)
    }

    /// How many session actors run here.
    pub async fn running(&self) -> usize {
        let slots: Vec<Slot> = self.sessions.lock().await.values().cloned().collect();
        let mut running = 0;
        for slot in slots {
            if slot
                .lock()
                .await
                .as_ref()
                .is_some_and(|mailbox| !mailbox.is_closed())
            {
                running += 1;
            }
        }
        running
    }
}

/// Who is asking about a session: the logged-in user (else 401) as a
/// member of the session's campaign (else 403, alike for a session that
/// does not exist), and the session's record.
pub(crate) async fn participant(
    state: &crate::AppState,
    headers: &axum::http::HeaderMap,
    session: SessionId,
) -> std::result::Result<(shared::rules::Participant, event_log::SessionInfo), crate::api::ApiError>
{
    let user = crate::api::user(state, headers).await?;
    let info = event_log::session_info(&state.db, session)
        .await?
        .ok_or(crate::Error::NotMember)?;
    let role = crate::campaign::role_of(&state.db, info.campaign, user.id).await?;
    Ok((
        shared::rules::Participant {
            user: user.id,
            role,
        },
        info,
    ))
}
