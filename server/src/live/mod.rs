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

use crate::{Result, metrics::Metrics};
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
    sessions: Arc<Mutex<HashMap<SessionId, mpsc::Sender<Command>>>>,
}

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
        let mut sessions = self.sessions.lock().await;
        if let Some(mailbox) = sessions.get(&id)
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
        sessions.insert(id, mailbox.clone());
        Ok(mailbox)
    }

    /// How many session actors run here.
    pub async fn running(&self) -> usize {
        self.sessions
            .lock()
            .await
            .values()
            .filter(|mailbox| !mailbox.is_closed())
            .count()
    }
}
