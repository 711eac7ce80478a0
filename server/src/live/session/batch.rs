//! The batch a round of the mailbox forms: commits applied to the state,
//! requests queued for the GM, refusals, new rules. Nothing in it is told
//! to anyone before [`SessionActor::flush`] has written all of it in one
//! transaction, through the [`Committer`](crate::live::committer::Committer)
//! that every session of the node shares. A failed write reverts the state
//! and tells each requester to ask again; a batch that one bad row spoiled
//! is written again one request at a time.

use std::mem;

use shared::{
    Error as Refusal,
    action::Action,
    change::{Change, Commit, Undo},
    id::{ActionId, EncounterId, UserId},
    protocol::{ActionRequest, QueuedRequest, RequestStatus, ServerMessage},
    rules::{ApprovalPolicy, Participant},
    sight::SeenBefore,
};

use crate::{
    Error, Result,
    event_log::{self, Ending, NewCommit, NewPending, NewRefusal},
    live::committer::Batch,
};

use super::{ConnId, SessionActor, admit::kind_name, conns::frame, recover::corrupt};

/// A commit applied to the state, waiting for its batch to be written.
pub(super) struct Staged {
    pub(super) requester: Participant,
    pub(super) action: ActionId,
    pub(super) encounter: Option<EncounterId>,
    pub(super) commit: Commit,
    pub(super) undo: Undo,
    /// The action this one took back ([`Action::Undo`]).
    pub(super) took_back: Option<ActionId>,
    pub(super) before: SeenBefore,
    /// What the log gets; taken when the batch is written.
    record: Option<NewCommit>,
    pub(super) applied: ServerMessage,
}

/// A request queued for the GM, waiting for its batch to be written.
pub(super) struct Queued {
    pub(super) conn: ConnId,
    pub(super) record: NewPending,
    pub(super) received: ServerMessage,
}

/// A request rejected or expired, waiting for its batch to be written.
pub(super) struct Refused {
    requester: UserId,
    record: NewRefusal,
    told: ServerMessage,
}

/// New rules in force, waiting for their batch to be written.
pub(super) struct RulesChange {
    /// The GM's socket, told if they cannot be written.
    pub(super) conn: ConnId,
    pub(super) by: UserId,
    /// The rules written before: back in force if these cannot be.
    pub(super) saved: ApprovalPolicy,
}

impl SessionActor {
    /// Applies a change to the state and stages it for the next batch
    /// write. Nobody hears of it before [`Self::flush`] has written it.
    pub(super) fn commit(
        &mut self,
        requester: Participant,
        decided_by: Option<UserId>,
        auto_approved: bool,
        request: &ActionRequest,
        changes: Vec<Change>,
    ) -> Result<()> {
        let before = SeenBefore::new(self.authority.store(), &changes);
        let (commit, undo) = match self.authority.commit(Some(request.id), changes) {
            Ok(done) => done,
            Err(refusal) => {
                return self.reject(
                    requester.user,
                    request.id,
                    Ending::Rejected,
                    decided_by,
                    &refusal.to_string(),
                    None,
                );
            }
        };
        let applied = ServerMessage::Received {
            action: request.id,
            status: RequestStatus::Applied {
                version: commit.version,
            },
        };
        let record = NewCommit {
            action: request.id,
            initiated_by: Some(requester.user),
            decided_by,
            auto_approved,
            event_type: kind_name(&request.action).into(),
            event_data: event_log::json(request)?,
            state_changes: event_log::json(&commit)?,
            encounter: self.encounter,
            outcome: event_log::json(&applied)?,
        };
        self.batch.push(Staged {
            requester,
            action: request.id,
            encounter: self.encounter,
            commit,
            undo,
            took_back: match &request.action {
                Action::Undo { of, .. } => Some(*of),
                _ => None,
            },
            before,
            record: Some(record),
            applied,
        });
        Ok(())
    }

    /// Stages the end of a request without applying it (rejected by the
    /// GM or a rule, or expired): recorded with its reason, so a resend
    /// gets the same answer; the requester hears it once it is written.
    pub(super) fn reject(
        &mut self,
        requester: UserId,
        action: ActionId,
        ending: Ending,
        decided_by: Option<UserId>,
        reason: &str,
        alternative: Option<Action>,
    ) -> Result<()> {
        let told = ServerMessage::Rejected {
            action,
            reason: reason.into(),
            alternative,
        };
        let record = NewRefusal {
            action,
            ending,
            decided_by,
            reason: reason.into(),
            outcome: serde_json::to_value(&told).map_err(corrupt)?,
        };
        self.refused.push(Refused {
            requester,
            record,
            told,
        });
        Ok(())
    }

    /// Whether the batch being formed holds an outcome for `action`.
    pub(super) fn stages(&self, action: ActionId) -> bool {
        self.batch.iter().any(|staged| staged.action == action)
            || self.refused.iter().any(|r| r.record.action == action)
    }

    /// Writes everything staged in one transaction (one fsync however
    /// many), then tells everyone, in version order. If the write fails
    /// the state is reverted and the requesters are told to ask again.
    pub(super) async fn flush(&mut self) -> Result<()> {
        if self.batch.is_empty()
            && self.queued.is_empty()
            && self.refused.is_empty()
            && self.rules.is_none()
        {
            return Ok(());
        }
        let policy = match &self.rules {
            Some(_) => Some(serde_json::to_value(&self.policy).map_err(corrupt)?),
            None => None,
        };
        let mut batch = mem::take(&mut self.batch);
        let queued = mem::take(&mut self.queued);
        let refused = mem::take(&mut self.refused);
        let rules = self.rules.take();
        // Written or not (a failed write may still have committed), a
        // resend of these is looked up.
        self.recorded.extend(
            batch
                .iter()
                .map(|staged| staged.action)
                .chain(refused.iter().map(|r| r.record.action)),
        );
        let writes = Batch {
            commits: batch.iter_mut().filter_map(|s| s.record.take()).collect(),
            pending: queued.iter().map(|q| q.record.clone()).collect(),
            refusals: refused.iter().map(|r| r.record.clone()).collect(),
            policy,
        };
        let started = std::time::Instant::now();
        let (written, records) = self.committer.commit(self.id, self.epoch, writes).await;
        if !batch.is_empty() {
            self.metrics
                .commit_seconds
                .observe(started.elapsed().as_secs_f64());
        }
        let requests = batch.len() + queued.len() + refused.len() + usize::from(rules.is_some());
        if let Err(error) = &written
            && requests > 1
            && records.len() == batch.len()
            && !matches!(error, Error::Fenced { .. })
        {
            // One bad row fails the whole statement: write each request
            // alone, so that only a bad one's requester hears of it.
            tracing::warn!(session = %self.id, %error, requests, "a batch could not be written; writing each request alone");
            for staged in batch.iter().rev() {
                if let Err(revert) = self.authority.revert(&staged.commit, staged.undo.clone()) {
                    tracing::error!(session = %self.id, %revert, "cannot revert an unsaved commit");
                    return written.map(drop);
                }
            }
            return self.isolate(batch, records, queued, refused, rules).await;
        }
        if let Err(error @ Error::Fenced { .. }) = written {
            // Another node owns the session now. Nothing here was written,
            // and nothing is refused either: this actor stops, its sockets
            // close, and the clients send the same requests to the new
            // owner, which applies each once. ("Could not be saved" would
            // make them drop requests that are not at fault.)
            return Err(error);
        }
        let saved = written.is_ok();
        self.answer_queued(&queued, saved);
        self.answer_refused(refused, saved);
        self.answer_rules(rules, saved);
        if batch.is_empty() {
            return written.map(drop);
        }
        if let Err(error) = written {
            for staged in batch.into_iter().rev() {
                if let Err(revert) = self.authority.revert(&staged.commit, staged.undo) {
                    tracing::error!(session = %self.id, %revert, "cannot revert an unsaved commit");
                }
                self.send_to_user(
                    staged.requester.user,
                    &ask_again(staged.action, "the change could not be saved; ask again"),
                );
            }
            return Err(error);
        }
        self.keep_undo(&mut batch);
        self.fan_out(batch).await
    }

    /// Tells the requesters whether their requests wait for the GM now,
    /// and the GMs what joined their queue.
    fn answer_queued(&mut self, queued: &[Queued], saved: bool) {
        for one in queued {
            let action = one.record.action;
            if !saved {
                self.waiting.retain(|w| w.request.id != action);
                self.send(
                    one.conn,
                    &ask_again(action, "the request could not be saved; ask again"),
                );
                continue;
            }
            self.send(one.conn, &one.received);
            self.metrics.request("queued");
            self.metrics.pending.inc();
            if let Some(waiting) = self.waiting.iter().find(|w| w.request.id == action) {
                let queued = ServerMessage::Queued {
                    pending: QueuedRequest {
                        request: waiting.request.clone(),
                        from: waiting.from,
                        reason: waiting.reason.clone(),
                    },
                };
                self.push_where(&frame(&queued), |_, c| c.who.role.is_gm_or_assistant());
            }
        }
    }

    /// Tells the requesters of refused requests why, or to ask again.
    fn answer_refused(&mut self, refused: Vec<Refused>, saved: bool) {
        for one in refused {
            if saved {
                self.metrics.request(match one.record.ending {
                    Ending::Rejected => "rejected",
                    Ending::Expired => "expired",
                });
                self.send_to_user(one.requester, &one.told);
            } else {
                self.send_to_user(
                    one.requester,
                    &ask_again(
                        one.record.action,
                        "the request could not be saved; ask again",
                    ),
                );
            }
        }
    }

    /// Tells everyone the new rules, or puts the written ones back and
    /// tells the GM.
    fn answer_rules(&mut self, rules: Option<RulesChange>, saved: bool) {
        let Some(rules) = rules else { return };
        if saved {
            tracing::info!(session = %self.id, by = %rules.by, "approval rules changed");
            let told = frame(&ServerMessage::Rules {
                policy: self.policy.clone(),
            });
            self.push_where(&told, |_, _| true);
        } else {
            self.policy = rules.saved;
            self.send(
                rules.conn,
                &ServerMessage::Error {
                    action: None,
                    error: Refusal::InvalidAction("the rules could not be saved; try again".into()),
                },
            );
        }
    }

    /// Writes a failed batch again one request at a time, in the order they
    /// came: each commit is applied again to the state as it now stands
    /// (an earlier one may have failed) and written alone.
    async fn isolate(
        &mut self,
        batch: Vec<Staged>,
        records: Vec<NewCommit>,
        queued: Vec<Queued>,
        refused: Vec<Refused>,
        rules: Option<RulesChange>,
    ) -> Result<()> {
        for one in queued {
            self.queued.push(one);
            self.flush_alone().await?;
        }
        for one in refused {
            self.refused.push(one);
            self.flush_alone().await?;
        }
        if let Some(rules) = rules {
            self.rules = Some(rules);
            self.flush_alone().await?;
        }
        for (staged, record) in batch.into_iter().zip(records) {
            let request: ActionRequest =
                serde_json::from_str(record.event_data.get()).map_err(corrupt)?;
            self.commit(
                staged.requester,
                record.decided_by,
                record.auto_approved,
                &request,
                staged.commit.changes,
            )?;
            self.flush_alone().await?;
        }
        Ok(())
    }

    /// [`Self::flush`] of a single request: its failure was told to its
    /// requester alone and stops nothing else, unless the session was lost.
    async fn flush_alone(&mut self) -> Result<()> {
        self.metrics.written_alone.inc();
        match Box::pin(self.flush()).await {
            Err(error @ Error::Fenced { .. }) => Err(error),
            Err(error) => {
                tracing::warn!(session = %self.id, %error, "a request could not be saved; only its requester was told");
                Ok(())
            }
            Ok(()) => Ok(()),
        }
    }
}

/// What a requester hears when what they asked could not be written.
fn ask_again(action: ActionId, reason: &str) -> ServerMessage {
    ServerMessage::Error {
        action: Some(action),
        error: Refusal::InvalidAction(reason.into()),
    }
}
