//! Group commit across sessions: one writer per node for every session's
//! batches.
//!
//! A session actor already writes everything waiting in its own mailbox
//! together; but with many quiet sessions each batch holds one action, and
//! a statement of one row costs about twenty times one row of a large
//! statement (BENCHMARKS.md). So the actors hand their batches here, and
//! whatever batches are waiting when a writer is free go out as one
//! statement ([`event_log::commit_many`]). Nothing waits for a timer: a
//! lone batch is written at once, and batches gather only while the
//! writers are busy, which is exactly when gathering pays.

use std::sync::Arc;

use shared::id::SessionId;
use sqlx::PgPool;
use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::{
    Error, Result,
    event_log::{self, NewCommit, NewPending, NewRefusal, SessionBatch},
};

/// Statements in flight at once.
const WRITERS: usize = 4;

/// The most sessions' batches in one statement.
const MAX_SESSIONS: usize = 64;

/// Batches waiting for a writer before actors wait to hand theirs over.
const QUEUE: usize = 4096;

/// What one session writes at once: everything a round of its mailbox
/// decided.
#[derive(Debug, Default)]
pub struct Batch {
    /// Its changes, in order.
    pub commits: Vec<NewCommit>,
    /// Requests it queued for the GM.
    pub pending: Vec<NewPending>,
    /// Requests it rejected or let expire.
    pub refusals: Vec<NewRefusal>,
    /// New auto-approval rules (a serialized `ApprovalPolicy`).
    pub policy: Option<serde_json::Value>,
}

/// One session's batch and where its outcome goes.
struct Job {
    session: SessionId,
    epoch: i64,
    batch: Batch,
    reply: oneshot::Sender<Written>,
}

/// A batch's versions, or why it failed; with its commits handed back, so
/// a failed batch can be written again request by request.
pub type Written = (Result<Vec<u64>>, Vec<NewCommit>);

impl Job {
    fn batch(&self) -> SessionBatch<'_> {
        SessionBatch {
            session: self.session,
            epoch: self.epoch,
            commits: &self.batch.commits,
            pending: &self.batch.pending,
            refusals: &self.batch.refusals,
            policy: self.batch.policy.as_ref(),
        }
    }
}

/// The handle the session actors share. Cloning is cheap.
#[derive(Debug, Clone)]
pub struct Committer {
    jobs: mpsc::Sender<Job>,
}

impl Committer {
    /// Starts the writers (on the current tokio runtime).
    pub fn start(db: PgPool) -> Self {
        let (jobs, queue) = mpsc::channel(QUEUE);
        tokio::spawn(gather(db, queue));
        Self { jobs }
    }

    /// A session's batch ([`event_log::commit_many`]), written together
    /// with whatever other sessions have waiting; the changes' versions,
    /// and the commits back.
    pub async fn commit(&self, session: SessionId, epoch: i64, batch: Batch) -> Written {
        let (reply, outcome) = oneshot::channel();
        let job = Job {
            session,
            epoch,
            batch,
            reply,
        };
        let stopped = || Error::Internal("the event-log writer stopped".into());
        if let Err(mpsc::error::SendError(job)) = self.jobs.send(job).await {
            return (Err(stopped()), job.batch.commits);
        }
        // Dropped unanswered only if the writer task died.
        outcome
            .await
            .unwrap_or_else(|_| (Err(stopped()), Vec::new()))
    }
}

async fn gather(db: PgPool, mut queue: mpsc::Receiver<Job>) {
    let writers = Arc::new(Semaphore::new(WRITERS));
    while let Some(first) = queue.recv().await {
        // A writer first: while none is free, more batches arrive, and
        // they all go into the next statement.
        let Ok(writer) = writers.clone().acquire_owned().await else {
            break;
        };
        let mut jobs = vec![first];
        while jobs.len() < MAX_SESSIONS {
            match queue.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let db = db.clone();
        tokio::spawn(async move {
            write(&db, jobs).await;
            drop(writer);
        });
    }
}

async fn write(db: &PgPool, jobs: Vec<Job>) {
    let batches: Vec<SessionBatch<'_>> = jobs.iter().map(Job::batch).collect();
    match event_log::commit_many(db, &batches).await {
        Ok(outcomes) => answer(jobs, outcomes),
        Err(error) if jobs.len() > 1 => {
            // One batch spoiled the statement (an action id committed
            // before); alone, each gets its own outcome.
            tracing::debug!(%error, sessions = jobs.len(), "a shared write failed; writing each session alone");
            let mut outcomes = Vec::with_capacity(jobs.len());
            for job in &jobs {
                outcomes.push(alone(db, job).await);
            }
            answer(jobs, outcomes);
        }
        Err(error) => answer(jobs, vec![Err(error)]),
    }
}

async fn alone(db: &PgPool, job: &Job) -> Result<Vec<u64>> {
    event_log::commit_many(db, &[job.batch()])
        .await?
        .pop()
        .unwrap_or_else(|| Err(Error::Internal("a batch without an outcome".into())))
}

fn answer(jobs: Vec<Job>, outcomes: Vec<Result<Vec<u64>>>) {
    for (job, outcome) in jobs.into_iter().zip(outcomes) {
        // The actor may be gone (its session stopped); nothing to tell.
        let _ = job.reply.send((outcome, job.batch.commits));
    }
}
