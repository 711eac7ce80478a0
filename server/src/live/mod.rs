//! Live play sessions: the GM-authoritative loop of ARCHITECTURE.md
//! ("The action flow").
//!
//! Each session has one writer: a session actor (one tokio task, see
//! [`session`]) that holds the authoritative state, applies requests in
//! order, commits them to the event log before anyone hears of them, and
//! fans them out filtered per recipient. Sockets ([`socket`]) only decode,
//! forward and write. The [`Hub`] finds the session's actor or starts it.
//!
//! Two engines, one interface: by default the hub runs every session it is
//! asked for in this process (the in-process engine, one node). With the
//! Redis engine ([`Hub::clustered`]) several nodes share the sessions: a
//! lease in Redis ([`lease`]) names each session's owner, and a node asked
//! for a session it does not own serves it through a proxy that forwards
//! to the owner ([`cluster`]). Sockets and HTTP handlers cannot tell the
//! difference: both get a [`Mailbox`] that takes [`Command`]s, each sender
//! within its own budget (see [`mailbox`]).

pub mod cluster;
pub mod committer;
pub mod lease;
pub mod load;
pub mod mailbox;
pub mod mirror;
pub mod recheck;
mod routes;
pub mod session;
pub mod socket;
pub mod sync;

use std::{
    collections::HashMap,
    sync::{Arc, PoisonError},
    time::Duration,
};

use redis::{ConnectionInfo, aio::ConnectionManager};
use shared::id::SessionId;
use sqlx::PgPool;
use tokio::sync::Mutex;

use crate::{Result, event_log, metrics::Metrics};
pub use mailbox::{Budget, Lane, Mailbox};
pub(crate) use routes::participant;
pub use routes::routes;
pub use session::{Command, ConnId, Tuning};

/// The session actors running on this node. Cloning is cheap.
#[derive(Clone)]
pub struct Hub {
    db: PgPool,
    redis: Option<ConnectionManager>,
    metrics: Metrics,
    tuning: session::Tuning,
    /// One slot per session: starting a session (which reads the log)
    /// waits only for its own slot, not for other sessions starting.
    sessions: Arc<Mutex<HashMap<SessionId, Slot>>>,
    /// The Redis engine, when several nodes share the sessions.
    cluster: Option<cluster::Cluster>,
    /// The mailboxes of the actors started here, for the cluster's
    /// messages (which must not wait behind a session that is starting).
    owned: Arc<std::sync::RwLock<HashMap<SessionId, Mailbox>>>,
    /// The event-log writer the session actors share (started with the
    /// first session, on the runtime that serves it).
    committer: Arc<std::sync::OnceLock<committer::Committer>>,
    /// The open sockets of this node, by user, and how to recheck them.
    rechecker: recheck::Rechecker,
}

/// How this node serves a session, once asked to.
enum Route {
    /// Its actor runs here.
    Owner(Mailbox),
    /// Another node owns it; a proxy forwards there.
    Proxy {
        mailbox: Mailbox,
        owner: uuid::Uuid,
        /// Ends the proxy (and closes its sockets).
        stop: Arc<tokio::sync::Notify>,
    },
}

impl Route {
    fn mailbox(&self) -> &Mailbox {
        match self {
            Self::Owner(mailbox) | Self::Proxy { mailbox, .. } => mailbox,
        }
    }
}

type Slot = Arc<Mutex<Option<Route>>>;

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
            tuning: session::Tuning::default(),
            sessions: Arc::default(),
            cluster: None,
            owned: Arc::default(),
            committer: Arc::default(),
            rechecker: recheck::Rechecker::default(),
        }
    }

    /// The open sockets of this node.
    pub fn sockets(&self) -> &recheck::Sockets {
        self.rechecker.sockets()
    }

    /// Makes every open socket of `user`, on every node, check the user's
    /// login and role again (see [`recheck`]). Call it after anything that
    /// changes what the user may do or see.
    pub async fn recheck(&self, user: shared::id::UserId) {
        self.rechecker.user(user).await;
    }

    /// The same hub on the Redis engine: sessions are shared with every
    /// node connected to the same Redis and PostgreSQL, each owned by one
    /// of them at a time under a lease of `lease_ttl`. Returns once this
    /// node listens for the others.
    pub async fn clustered(mut self, info: &ConnectionInfo, lease_ttl: Duration) -> Result<Self> {
        let redis = self
            .redis
            .clone()
            .ok_or_else(|| crate::Error::Config("the Redis engine needs REDIS_URL".into()))?;
        let cluster = cluster::Cluster::new(redis.clone(), lease_ttl, self.metrics.clone());
        self.cluster = Some(cluster.clone());
        self.rechecker = recheck::Rechecker::new(self.rechecker.sockets().clone(), Some(redis));
        cluster.listen(info, self.clone()).await?;
        tracing::info!(node = %cluster.node(), "live sessions on the Redis engine");
        Ok(self)
    }

    /// This node's id on the Redis engine.
    pub fn node(&self) -> Option<uuid::Uuid> {
        self.cluster.as_ref().map(cluster::Cluster::node)
    }

    /// The same hub with other tuning (tests shorten them).
    pub fn with_tuning(self, tuning: session::Tuning) -> Self {
        Self { tuning, ..self }
    }

    /// Where to send a session's commands: its actor if it runs here,
    /// else (Redis engine) the actor started here if no node owns the
    /// session, else a proxy to the node that does.
    pub async fn session(&self, id: SessionId) -> Result<Mailbox> {
        let mut slot = loop {
            let slot = self.sessions.lock().await.entry(id).or_default().clone();
            let guard = slot.clone().lock_owned().await;
            // `forget` may have dropped the slot from the map while this
            // waited for it: starting the session in a slot nobody else can
            // find would let a second actor start beside it.
            let current = self.sessions.lock().await.get(&id).cloned();
            if current.is_some_and(|current| Arc::ptr_eq(&current, &slot)) {
                break guard;
            }
        };
        if let Some(route) = slot.as_ref()
            && !route.mailbox().is_closed()
        {
            // A proxy is only as good as its owner: one that let the
            // session go (its sockets were just closed, and their clients
            // are back) must not be forwarded to again.
            let current = match (route, &self.cluster) {
                (Route::Proxy { owner, stop, .. }, Some(cluster)) => {
                    let current = lease::owner(cluster.redis(), id).await? == Some(*owner);
                    if !current {
                        stop.notify_one();
                    }
                    current
                }
                _ => true,
            };
            if current {
                return Ok(route.mailbox().clone());
            }
        }
        let lease = match &self.cluster {
            None => None,
            Some(cluster) => match cluster.claim(id).await? {
                lease::Claim::Ours(lease) => Some(lease),
                lease::Claim::Theirs(owner) => {
                    let (mailbox, inbox) = mailbox::channel();
                    let stop = Arc::new(tokio::sync::Notify::new());
                    let proxy = cluster.clone().proxy(id, owner, inbox, stop.clone());
                    let (hub, ended) = (self.clone(), mailbox.clone());
                    tokio::spawn(async move {
                        proxy.await;
                        hub.forget(id, &ended).await;
                    });
                    *slot = Some(Route::Proxy {
                        mailbox: mailbox.clone(),
                        owner,
                        stop,
                    });
                    return Ok(mailbox);
                }
            },
        };
        let committer = self
            .committer
            .get_or_init(|| committer::Committer::start(self.db.clone()))
            .clone();
        let recovered = session::SessionActor::recover(
            self.db.clone(),
            committer,
            id,
            self.tuning,
            self.metrics.clone(),
            mirror::Mirror::start(self.redis.clone(), id),
        )
        .await;
        let actor = match recovered {
            Ok(actor) => actor
                .with_lease(lease)
                .with_rechecker(self.rechecker.clone()),
            Err(error) => {
                if let Some(lease) = lease {
                    lease.release().await;
                }
                // Nothing runs for this id: its slot goes (we hold it, so
                // nobody else is starting the session meanwhile).
                self.sessions.lock().await.remove(&id);
                return Err(error);
            }
        };
        let (mailbox, inbox) = mailbox::channel();
        let (hub, ended) = (self.clone(), mailbox.clone());
        tokio::spawn(async move {
            actor.run(inbox).await;
            hub.forget(id, &ended).await;
        });
        self.owned
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, mailbox.clone());
        *slot = Some(Route::Owner(mailbox.clone()));
        Ok(mailbox)
    }

    /// Drops what the hub keeps for a session whose actor or proxy (the one
    /// behind `ended`) has stopped, so that the maps hold only sessions in
    /// play, however many have come and gone. A newer route for the same
    /// session (started since) stays.
    async fn forget(&self, id: SessionId, ended: &Mailbox) {
        {
            let mut owned = self.owned.write().unwrap_or_else(PoisonError::into_inner);
            if owned
                .get(&id)
                .is_some_and(|mailbox| mailbox.same_channel(ended))
            {
                owned.remove(&id);
            }
        }
        let slot = self.sessions.lock().await.get(&id).cloned();
        let Some(slot) = slot else { return };
        // The slot's lock first, then the map's: the order `session` never
        // inverts (it holds the map's lock only to find the slot).
        let route = slot.lock().await;
        let stale = route
            .as_ref()
            .is_none_or(|route| route.mailbox().same_channel(ended));
        if stale {
            let mut sessions = self.sessions.lock().await;
            if sessions
                .get(&id)
                .is_some_and(|current| Arc::ptr_eq(current, &slot))
            {
                sessions.remove(&id);
            }
        }
    }

    /// How many sessions the hub keeps anything for (running, proxied or
    /// being started).
    pub async fn tracked(&self) -> usize {
        self.sessions.lock().await.len()
    }

    /// The mailbox of the session's actor if it runs here. Never waits for
    /// a session being started (that may take a while, and the cluster's
    /// messages for every session pass here): not running yet counts as
    /// not running, and the asking node's client retries.
    fn owned(&self, id: SessionId) -> Option<Mailbox> {
        let owned = self.owned.read().unwrap_or_else(PoisonError::into_inner);
        owned
            .get(&id)
            .filter(|mailbox| !mailbox.is_closed())
            .cloned()
    }

    /// Whether this hub is busy with the session's slot, which it is from
    /// claiming the session until its actor runs.
    fn starting(&self, id: SessionId) -> bool {
        self.sessions
            .try_lock()
            .map(|sessions| {
                sessions
                    .get(&id)
                    .is_some_and(|slot| slot.try_lock().is_err())
            })
            // Busy with another session's slot: ask again via the slow path.
            .unwrap_or(true)
    }

    /// Waits until nobody is starting the session here; then its actor's
    /// mailbox, if it runs here.
    async fn started(&self, id: SessionId) -> Option<Mailbox> {
        let slot = self.sessions.lock().await.get(&id).cloned();
        if let Some(slot) = slot {
            drop(slot.lock().await);
        }
        self.owned(id)
    }

    /// How many session actors run here (the sessions this node owns).
    pub async fn running(&self) -> usize {
        let slots: Vec<Slot> = self.sessions.lock().await.values().cloned().collect();
        let mut running = 0;
        for slot in slots {
            if let Some(Route::Owner(mailbox)) = slot.lock().await.as_ref()
                && !mailbox.is_closed()
            {
                running += 1;
            }
        }
        running
    }
}

/// Starts a session of `campaign` on `encounter` for `by`, who must be its
/// GM or an assistant GM; the encounter must be the campaign's. When a
/// session is already running on the encounter, that one is returned
/// instead: the flag says whether the session is new.
pub async fn start(
    db: &PgPool,
    campaign: shared::id::CampaignId,
    encounter: Option<shared::id::EncounterId>,
    by: shared::id::UserId,
) -> Result<(SessionId, bool)> {
    if !crate::campaign::role_of(db, campaign, by)
        .await?
        .is_gm_or_assistant()
    {
        return Err(crate::Error::Refused(shared::Error::Forbidden(
            "only the GM and assistant GMs start sessions".into(),
        )));
    }
    if let Some(encounter) = encounter {
        // Refuses an encounter of another campaign before anything is written.
        crate::encounter::load(db, campaign, encounter).await?;
    }
    shared::limits::count(
        "a campaign's running sessions",
        event_log::running_in(db, campaign).await? + 1,
        shared::limits::MAX_RUNNING_SESSIONS,
    )
    .map_err(crate::Error::Refused)?;
    let policy = shared::rules::ApprovalPolicy::default();
    let session = match encounter {
        // One table per encounter: the session already running on it is
        // the one to join (two would each write the encounter back when
        // they end). The schema holds this, not a check before the insert.
        Some(encounter) => {
            let (session, new) =
                event_log::start_or_join(db, campaign, encounter, by, &policy).await?;
            if !new {
                return Ok((session, false));
            }
            session
        }
        None => event_log::start_session(db, campaign, None, by, &policy).await?,
    };
    tracing::info!(%session, %campaign, gm = %by, "session started");
    Ok((session, true))
}
