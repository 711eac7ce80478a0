//! What the GM decides: approving, modifying or rejecting a waiting
//! request, the approval rules, assistant GMs, the end of the session; and
//! what happens when nobody decides (expiry). Authority is checked when a
//! decision is carried out, against the roles as they are then.

use shared::{
    Error as Refusal,
    id::{EncounterId, SessionId, UserId},
    protocol::{ActionRequest, GmDecision, QueuedRequest, ServerMessage, Verdict},
    rules::{ApprovalPolicy, Participant, Role, may_decide},
};
use time::OffsetDateTime;

use crate::{
    Error, Result,
    campaign::role_of,
    event_log::{self, Ending},
};

use super::{ConnId, SessionActor, batch::RulesChange, conns::frame, recover::corrupt};

/// A request waiting for the GM.
pub(super) struct Waiting {
    pub(super) request: ActionRequest,
    pub(super) from: Participant,
    pub(super) reason: String,
    pub(super) requested_at: OffsetDateTime,
}

impl SessionActor {
    pub(super) async fn decide(
        &mut self,
        conn: ConnId,
        who: Participant,
        decision: GmDecision,
    ) -> Result<()> {
        if let Err(refusal) = may_decide(&who) {
            self.send(
                conn,
                &ServerMessage::Error {
                    action: Some(decision.action),
                    error: refusal,
                },
            );
            return Ok(());
        }
        let Some(index) = self
            .waiting
            .iter()
            .position(|w| w.request.id == decision.action)
        else {
            self.send(
                conn,
                &ServerMessage::Error {
                    action: Some(decision.action),
                    error: Refusal::UnknownAction(decision.action.to_string()),
                },
            );
            return Ok(());
        };
        let waiting = self.waiting.remove(index);
        self.metrics.pending.dec();
        self.dequeued(waiting.request.id);
        let action = waiting.request.id;
        let rejected = |actor: &mut Self, user, reason: &str, alternative| {
            actor.reject(
                user,
                action,
                Ending::Rejected,
                Some(who.user),
                reason,
                alternative,
            )
        };
        // Authority is checked when it is used: the requester's role now,
        // not when they asked (they may have been demoted or removed since).
        let requester = match role_of(&self.db, self.campaign, waiting.from.user).await {
            Ok(role) => Participant {
                user: waiting.from.user,
                role,
            },
            Err(Error::NotMember) => {
                return rejected(
                    self,
                    waiting.from.user,
                    "the requester is no longer a member of this campaign",
                    None,
                );
            }
            Err(error) => return Err(error),
        };
        let changes = match decision.verdict {
            Verdict::Reject {
                reason,
                alternative,
            } => return rejected(self, requester.user, &reason, alternative),
            Verdict::Modify { changes, .. } => Ok(changes),
            // Re-derived and re-authorized against the state as it is now,
            // which may differ from when the player asked.
            Verdict::Approve => {
                let store = self.authority.store();
                shared::rules::authorize(&requester, &waiting.request.action, store)
                    .and_then(|()| waiting.request.action.changes(store, requester.user))
            }
        };
        let committed = match changes {
            Ok(changes) => self.commit(requester, Some(who.user), false, &waiting.request, changes),
            Err(refusal) => Err(Error::Refused(refusal)),
        };
        match committed {
            Ok(()) => Ok(()),
            Err(Error::Refused(refusal)) => {
                rejected(self, requester.user, &refusal.to_string(), None)
            }
            Err(error) => {
                tracing::error!(session = %self.id, %error, "an approved change could not be staged");
                rejected(
                    self,
                    requester.user,
                    "the change could not be saved; ask again",
                    None,
                )
            }
        }
    }

    /// The GM changes the auto-approval rules: in force at once (for the
    /// requests after this one in the round), kept with the session in the
    /// round's batch, told to everyone once written. Requests already
    /// waiting keep waiting.
    pub(super) fn set_rules(
        &mut self,
        conn: ConnId,
        who: Participant,
        policy: ApprovalPolicy,
    ) -> Result<()> {
        if !who.role.is_gm_or_assistant() {
            self.send(
                conn,
                &ServerMessage::Error {
                    action: None,
                    error: Refusal::Forbidden("only the GM sets the rules".into()),
                },
            );
            return Ok(());
        }
        let saved = match self.rules.take() {
            // Changed twice in one round: the rules to go back to are
            // still those written before it.
            Some(staged) => staged.saved,
            None => self.policy.clone(),
        };
        self.policy = policy;
        self.rules = Some(RulesChange {
            conn,
            by: who.user,
            saved,
        });
        Ok(())
    }

    /// The GM makes a player an assistant GM or back: the campaign's
    /// membership changes (under its rules: only the GM, never a second
    /// GM), and the member's sockets are welcomed again under the new role
    /// with what it may see.
    pub(super) async fn delegate(
        &mut self,
        conn: ConnId,
        who: Participant,
        user: UserId,
        role: Role,
    ) -> Result<()> {
        let refused = |reason: String| ServerMessage::Error {
            action: None,
            error: Refusal::Forbidden(reason),
        };
        if who.role != Role::Gm || !matches!(role, Role::AssistantGm | Role::Player) {
            self.send(
                conn,
                &refused("only the GM makes assistant GMs, and only of players".into()),
            );
            return Ok(());
        }
        match crate::membership::change_role(&self.db, self.campaign, who.user, user, role).await {
            Ok(()) => {}
            Err(Error::Refused(refusal)) => {
                self.send(conn, &refused(refusal.to_string()));
                return Ok(());
            }
            Err(error) => return Err(error),
        }
        // Every socket of the member, in every session and on every node,
        // reads the role again and is welcomed under it.
        self.rechecker.user(user).await;
        Ok(())
    }

    /// Ends requests nobody decided on in time: the player hears that it
    /// expired (once written), the GM's queue drops it.
    pub(super) async fn expire(&mut self) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        let ttl = self.request_ttl;
        let (expired, kept): (Vec<Waiting>, Vec<Waiting>) = std::mem::take(&mut self.waiting)
            .into_iter()
            .partition(|w| now - w.requested_at >= ttl);
        self.waiting = kept;
        if expired.is_empty() {
            return Ok(());
        }
        self.metrics.pending.dec_by(expired.len() as i64);
        for waiting in expired {
            self.dequeued(waiting.request.id);
            self.reject(
                waiting.from.user,
                waiting.request.id,
                Ending::Expired,
                None,
                "the GM did not answer in time; ask again",
                None,
            )?;
        }
        self.flush().await
    }

    /// The GM (or an assistant GM) ends the session, or moves the table to
    /// the encounter `next`. In one transaction, under this node's epoch:
    /// the session is marked ended, the requests still waiting are
    /// refused, the state is written back to the campaign
    /// (`encounter::write_back`), and for a move the next session starts
    /// (or the one running on `next` is joined). Then the requesters hear
    /// the refusals, everyone hears that it ended (and where the table
    /// went), and the actor stops; a session that has ended is never
    /// started again. The batch being formed was written before this ran
    /// (`sees_the_batch`).
    pub(super) async fn end(
        &mut self,
        conn: ConnId,
        who: Participant,
        next: Option<EncounterId>,
    ) -> Result<()> {
        if let Err(refusal) = self.may_end(who, next).await {
            self.send(
                conn,
                &ServerMessage::Error {
                    action: None,
                    error: refusal,
                },
            );
            return Ok(());
        }
        let reason = match next {
            None => "the GM ended the session",
            Some(_) => "the GM moved the table to another encounter",
        };
        let refused = |action| ServerMessage::Rejected {
            action,
            reason: reason.into(),
            alternative: None,
        };
        let outcomes = self
            .waiting
            .iter()
            .map(|w| {
                let outcome = serde_json::to_value(refused(w.request.id)).map_err(corrupt)?;
                Ok((w.request.id, outcome))
            })
            .collect::<Result<Vec<_>>>()?;
        let moved_to = match self.close(who.user, &outcomes, reason, next).await {
            Ok(moved_to) => moved_to,
            Err(error @ Error::Fenced { .. }) => return Err(error),
            Err(error) => {
                tracing::error!(session = %self.id, %error, "ending the session failed");
                let error = match error {
                    Error::Refused(refusal) => refusal,
                    _ => Refusal::InvalidAction("the session could not be ended; try again".into()),
                };
                self.send(
                    conn,
                    &ServerMessage::Error {
                        action: None,
                        error,
                    },
                );
                return Ok(());
            }
        };
        self.metrics.pending.dec_by(self.waiting.len() as i64);
        for waiting in std::mem::take(&mut self.waiting) {
            let action = waiting.request.id;
            self.recorded.insert(action);
            self.send_to_user(waiting.from.user, &refused(action));
        }
        let ended = ServerMessage::Ended {
            by: who.user,
            next: moved_to,
        };
        self.push_where(&frame(&ended), |_, _| true);
        tracing::info!(session = %self.id, by = %who.user, version = self.authority.version(), next = ?moved_to, "session ended; the table is written back to the campaign");
        self.ended = true;
        Ok(())
    }

    /// Whether `who` may end the session, moving the table to `next`: a
    /// GM or an assistant GM, to another encounter of this campaign.
    async fn may_end(
        &self,
        who: Participant,
        next: Option<EncounterId>,
    ) -> std::result::Result<(), Refusal> {
        may_decide(&who).map_err(|_| {
            Refusal::Forbidden("only the GM ends the session or moves the table".into())
        })?;
        let Some(next) = next else {
            return Ok(());
        };
        if self.encounter == Some(next) {
            return Err(Refusal::InvalidAction(
                "the table is on this encounter already".into(),
            ));
        }
        match crate::encounter::load(&self.db, self.campaign, next).await {
            Ok(_) => Ok(()),
            Err(Error::Refused(refusal)) => Err(refusal),
            Err(error) => {
                tracing::error!(session = %self.id, %error, "reading the next encounter failed");
                Err(Refusal::InvalidAction(
                    "the encounter could not be read; try again".into(),
                ))
            }
        }
    }

    /// The transaction of [`Self::end`]: the session the table moved to,
    /// for a move.
    async fn close(
        &mut self,
        by: UserId,
        refused: &[(shared::id::ActionId, serde_json::Value)],
        reason: &str,
        next: Option<EncounterId>,
    ) -> Result<Option<SessionId>> {
        let mut tx = self.db.begin().await?;
        event_log::end_in(&mut tx, self.id, self.epoch, by, refused, reason).await?;
        crate::encounter::write_back(
            &mut tx,
            self.campaign,
            self.encounter,
            self.authority.store().entities(),
        )
        .await?;
        self.keep_explored(&mut tx).await?;
        // After the write-back, so that a session started here loads the
        // characters as this one leaves them.
        let moved_to = match next {
            None => None,
            Some(next) => {
                let (session, _) =
                    event_log::start_or_join_in(&mut tx, self.campaign, next, by, &self.policy)
                        .await?
                        .ok_or_else(event_log::starting_or_ending)?;
                Some(session)
            }
        };
        tx.commit().await?;
        Ok(moved_to)
    }

    /// The GM's queue, as a GM who joins is sent it.
    pub(super) fn queue(&self) -> ServerMessage {
        ServerMessage::Queue {
            pending: self
                .waiting
                .iter()
                .map(|w| QueuedRequest {
                    request: w.request.clone(),
                    from: w.from,
                    reason: w.reason.clone(),
                })
                .collect(),
        }
    }

    /// Tells the GMs that a request no longer waits.
    fn dequeued(&mut self, action: shared::id::ActionId) {
        self.push_where(&frame(&ServerMessage::Dequeued { action }), |_, c| {
            c.who.role.is_gm_or_assistant()
        });
    }
}
