//! A request from a member, from its arrival to one of three ends: the
//! first outcome again (a resend), staged as a commit (auto-approved), or
//! queued for the GM. A refusal is staged like a commit; nobody hears of
//! either before the batch is written.

use rand::Rng;
use shared::{
    Error as Refusal,
    action::Action,
    protocol::{ActionRequest, RequestStatus, ServerMessage},
    rules::{Approval, Participant},
};
use time::OffsetDateTime;

use crate::{
    Result,
    event_log::{self, Ending, NewPending},
};

use super::{ConnId, SessionActor, batch::Queued, gm::Waiting, recover::corrupt};

impl SessionActor {
    pub(super) async fn request(
        &mut self,
        conn: ConnId,
        who: Participant,
        request: ActionRequest,
    ) -> Result<()> {
        let action = request.id;
        if self.answered_again(conn, who, &request).await? {
            return Ok(());
        }
        let mut request = request;
        // The server's dice, whatever the client sent; rolled once, when
        // the request first arrives, so a GM decides on what was rolled.
        // From the session's seed and the action's id, so that the table
        // can check them once the seed is revealed.
        let store = self.authority.store();
        match self.dice {
            Some(seed) => {
                let mut dice = seed.dice(action);
                request.action.roll_dice(store, |sides| dice.face(sides));
            }
            None => request
                .action
                .roll_dice(store, |sides| rand::rng().random_range(1..=sides.max(1))),
        }
        // The GM's undo: the server's exact inverse, whatever was sent.
        if who.role.is_gm_or_assistant()
            && let Err(reason) = self.fill_undo(&mut request.action)
        {
            return self.reject(who.user, action, Ending::Rejected, None, &reason, None);
        }
        let store = self.authority.store();
        let checked = shared::rules::authorize(&who, &request.action, store)
            .and_then(|()| request.action.changes(store, who.user));
        let changes = match checked {
            Ok(changes) => changes,
            Err(refusal) => {
                return self.reject(
                    who.user,
                    action,
                    Ending::Rejected,
                    None,
                    &refusal.to_string(),
                    None,
                );
            }
        };
        match self.policy.decide(&who, &request.action, store) {
            Approval::Auto => self.commit(who, None, true, &request, changes),
            Approval::Gm { reason } => self.wait_for_gm(conn, who, request, reason),
        }
    }

    /// Answers a request whose action id was seen before, with its first
    /// outcome (never a second application); false when the id is new.
    async fn answered_again(
        &mut self,
        conn: ConnId,
        who: Participant,
        request: &ActionRequest,
    ) -> Result<bool> {
        let action = request.id;
        let taken = || ServerMessage::Error {
            action: Some(action),
            error: Refusal::InvalidAction(
                "this action id is taken; send the request with a new one".into(),
            ),
        };
        if let Some(waiting) = self.waiting.iter().find(|w| w.request.id == action) {
            let message = if waiting.from.user == who.user {
                ServerMessage::Received {
                    action,
                    status: RequestStatus::WaitingForGm {
                        reason: "waiting for the GM".into(),
                    },
                }
            } else {
                taken()
            };
            self.send(conn, &message);
            return Ok(true);
        }
        let in_batch = self.stages(action);
        if in_batch {
            // Repeated within the batch being formed: answer once it is written.
            self.flush().await?;
        }
        let recorded = if in_batch || self.recorded.contains(&action) {
            event_log::outcome(&self.db, self.id, action).await?
        } else {
            None
        };
        let Some((outcome, sender)) = recorded else {
            return Ok(false);
        };
        if sender.is_some_and(|sender| sender != who.user) {
            // Another member's action id (ids travel in commits): its
            // outcome is theirs, and this request is not processed.
            self.metrics.request("refused");
            self.send(conn, &taken());
            return Ok(true);
        }
        self.metrics.request("repeated");
        let message: ServerMessage = serde_json::from_value(outcome).map_err(corrupt)?;
        self.send(conn, &message);
        Ok(true)
    }

    /// Queues a request for the GM, within the limits on waiting requests.
    fn wait_for_gm(
        &mut self,
        conn: ConnId,
        who: Participant,
        request: ActionRequest,
        reason: String,
    ) -> Result<()> {
        let action = request.id;
        let theirs = self
            .waiting
            .iter()
            .filter(|w| w.from.user == who.user)
            .count();
        let room = shared::limits::count(
            "your requests waiting for the GM",
            theirs + 1,
            shared::limits::MAX_QUEUED_PER_MEMBER,
        )
        .and_then(|()| {
            shared::limits::count(
                "requests waiting for the GM in this session",
                self.waiting.len() + 1,
                shared::limits::MAX_QUEUED_PER_SESSION,
            )
        });
        if let Err(error) = room {
            // Not recorded: the same request may be sent again once the GM
            // has caught up.
            self.metrics.request("refused");
            self.send(
                conn,
                &ServerMessage::Error {
                    action: Some(action),
                    error,
                },
            );
            return Ok(());
        }
        let record = NewPending {
            action,
            initiated_by: who.user,
            event_type: kind_name(&request.action).into(),
            event_data: event_log::json(&request)?,
            // The session's encounter, never one a client names.
            encounter: self.encounter,
        };
        // The player should know whether anyone is there to answer.
        let shown = if self.conns.values().any(|c| c.who.role.is_gm_or_assistant()) {
            reason.clone()
        } else {
            format!("{reason}; no GM is connected, so it waits until one returns")
        };
        // Waiting at once (a resend in this round is told so), but nobody
        // hears of it before the batch is written.
        self.queued.push(Queued {
            conn,
            record,
            received: ServerMessage::Received {
                action,
                status: RequestStatus::WaitingForGm { reason: shown },
            },
        });
        self.waiting.push(Waiting {
            request,
            from: who,
            reason,
            requested_at: OffsetDateTime::now_utc(),
        });
        Ok(())
    }
}

/// The event log's name of an action's kind.
pub(super) fn kind_name(action: &Action) -> &'static str {
    match action {
        Action::MoveToken { .. } => "move_token",
        Action::RotateToken { .. } => "rotate_token",
        Action::MoveTokens { .. } => "move_tokens",
        Action::PlaceToken { .. } => "place_token",
        Action::RemoveToken { .. } => "remove_token",
        Action::AdjustHp { .. } => "adjust_hp",
        Action::AddCondition { .. } => "add_condition",
        Action::RemoveCondition { .. } => "remove_condition",
        Action::ApplyEffect { .. } => "apply_effect",
        Action::EndEffect { .. } => "end_effect",
        Action::SetVisibility { .. } => "set_visibility",
        Action::SetHpShown { .. } => "set_hp_shown",
        Action::RevealFog { .. } => "reveal_fog",
        Action::HideFog { .. } => "hide_fog",
        Action::SetFog { .. } => "set_fog",
        Action::StartCombat { .. } => "start_combat",
        Action::RollInitiative { .. } => "roll_initiative",
        Action::JoinInitiative { .. } => "join_initiative",
        Action::NextTurn { .. } => "next_turn",
        Action::EndCombat { .. } => "end_combat",
        Action::Chat { .. } => "chat",
        Action::ShowHandout { .. } => "show_handout",
        Action::Roll { .. } => "roll",
        Action::RollCheck { .. } => "roll_check",
        Action::RollAttack { .. } => "roll_attack",
        Action::SetStat { .. } => "set_stat",
        Action::SetProficiency { .. } => "set_proficiency",
        Action::Draw { .. } => "draw",
        Action::Erase { .. } => "erase",
        Action::BuildWalls { .. } => "build_walls",
        Action::RemoveWalls { .. } => "remove_walls",
        Action::SetDoor { .. } => "set_door",
        Action::Edit { .. } => "edit",
        Action::Undo { .. } => "undo",
    }
}
