//! A written batch reaches the table: each commit filtered per recipient
//! (`shared::sight`), encoded once per distinct view, queued for every
//! socket in version order with the requester's answer; then the snapshot
//! every [`SNAPSHOT_EVERY`] commits and the Redis hot copy.

use std::{borrow::Cow, time::Duration};

use bytes::Bytes;
use shared::{change::Commit, sight::CommitView};

use crate::{Result, event_log};

use super::{ConnId, SNAPSHOT_EVERY, SessionActor, batch::Staged, conns::frame, recover::corrupt};

/// The most often the Redis hot copy of an encounter is rewritten.
const HOT_COPY_EVERY: Duration = Duration::from_secs(1);

impl SessionActor {
    /// Tells everyone the written commits of `batch`, in version order.
    pub(super) async fn fan_out(&mut self, batch: Vec<Staged>) -> Result<()> {
        let Some(first) = batch.first().map(|staged| staged.commit.version) else {
            return Ok(());
        };
        let last = self.authority.version();
        self.metrics.commits.inc_by(batch.len() as u64);
        self.mirror.version(last);
        let store = self.authority.store();
        let mut frames: Vec<(ConnId, Bytes)> = Vec::new();
        for staged in &batch {
            self.metrics.request("applied");
            let applied = frame(&staged.applied);
            let view = CommitView::new(&staged.commit, &staged.before, store);
            // Recipients who see the same thing share one encoding: every
            // GM, and players whom the commit shows the same.
            let mut encoded: Vec<(Cow<'_, Commit>, Bytes)> = Vec::new();
            let window = self.unacked_window;
            for (id, conn) in &mut self.conns {
                if conn.takes(staged.commit.version, window) {
                    let seen = view.for_participant(&conn.who);
                    let known = encoded.iter().find(|(commit, _)| same(commit, &seen));
                    let bytes = match known {
                        Some((_, bytes)) => bytes.clone(),
                        None => {
                            let bytes = commit_frame(&seen);
                            encoded.push((seen, bytes.clone()));
                            bytes
                        }
                    };
                    frames.push((*id, bytes));
                }
                if conn.who.user == staged.requester.user {
                    frames.push((*id, applied.clone()));
                }
            }
        }
        for (conn, bytes) in frames {
            self.push(conn, bytes);
        }
        let deepest = self
            .conns
            .values()
            .map(|c| c.out.max_capacity() - c.out.capacity())
            .max()
            .unwrap_or(0);
        self.metrics.send_queue_depth.set(deepest as i64);
        if last / SNAPSHOT_EVERY > (first - 1) / SNAPSHOT_EVERY {
            let state = serde_json::to_value(self.authority.store().entities()).map_err(corrupt)?;
            let encounter = batch.last().and_then(|s| s.encounter);
            event_log::save_snapshot(&self.db, self.id, last, encounter, &state).await?;
        }
        Ok(())
    }

    /// Rewrites the Redis hot copy of the encounter if the state changed
    /// since the last write and that was at least a second ago (serializing
    /// the whole state on every commit would cost more than the commit).
    pub(super) fn write_hot_copy(&mut self) {
        let (written, at) = self.hot_copy;
        let version = self.authority.version();
        let Some(encounter) = self.encounter else {
            return;
        };
        if !self.mirror.enabled() || written == version || at.elapsed() < HOT_COPY_EVERY {
            return;
        }
        match serde_json::to_string(self.authority.store().entities()) {
            Ok(state) => {
                self.mirror.encounter(encounter, version, state);
                self.hot_copy = (version, std::time::Instant::now());
            }
            Err(error) => {
                tracing::error!(session = %self.id, %error, "cannot serialize the hot copy")
            }
        }
    }
}

/// A commit's frame, encoded without copying the commit.
fn commit_frame(commit: &Commit) -> Bytes {
    Bytes::from(shared::protocol::encode_commit(commit))
}

/// Whether two views of a commit are the same: the very commit (a view
/// passed whole), or equal.
fn same(a: &Commit, b: &Commit) -> bool {
    std::ptr::eq(a, b) || a == b
}
