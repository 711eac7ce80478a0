//! Who may do what, and which requests the GM must see.
//!
//! [`authorize`] answers "may this participant ask for this at all";
//! [`ApprovalPolicy::decide`] answers "does it apply at once, or wait for
//! the GM". A player is never told that a token they cannot see exists:
//! acting on one fails exactly like acting on an id that does not exist.

use crate::id::EntityKind;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{
    Error, Result,
    action::{Action, ActionKind},
    id::{ActorId, DrawingId, TokenId, UserId},
    store::Store,
};

/// A participant's role in a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The game master: sees everything, decides everything.
    Gm,
    /// A player the GM delegated GM powers to.
    AssistantGm,
    /// Plays the actors they own.
    Player,
    /// Watches; may chat.
    Observer,
}

impl Role {
    /// True for the GM and assistant GMs.
    pub fn is_gm_or_assistant(self) -> bool {
        matches!(self, Role::Gm | Role::AssistantGm)
    }

    /// The stored name (`campaign_members.role`), the same as on the wire.
    pub fn slug(self) -> &'static str {
        match self {
            Role::Gm => "gm",
            Role::AssistantGm => "assistant_gm",
            Role::Player => "player",
            Role::Observer => "observer",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = Error;
    fn from_str(raw: &str) -> Result<Self> {
        [Role::Gm, Role::AssistantGm, Role::Player, Role::Observer]
            .into_iter()
            .find(|role| role.slug() == raw)
            .ok_or_else(|| Error::InvalidAction(format!("unknown role {raw:?}")))
    }
}

/// Someone in a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    /// Their account.
    pub user: UserId,
    /// Their role.
    pub role: Role,
}

/// Whether `who` may request `action` against `store`.
pub fn authorize(who: &Participant, action: &Action, store: &Store) -> Result<()> {
    if who.role.is_gm_or_assistant() {
        return Ok(());
    }
    if who.role == Role::Observer {
        return match action {
            Action::Chat { .. } => Ok(()),
            _ => Err(Error::Forbidden(
                "observers can watch and chat, not act".into(),
            )),
        };
    }
    // A player. First: nothing they cannot see may be named.
    for token in action.tokens(store) {
        visible_token(store, who.user, token)?;
    }
    match action {
        Action::MoveToken { token, to } => {
            if !may_move_token(who, store, *token) {
                return Err(Error::Forbidden("you can only move your own tokens".into()));
            }
            walls_allow(store, *token, *to)
        }
        Action::RotateToken { token, .. } => {
            if may_move_token(who, store, *token) {
                Ok(())
            } else {
                Err(Error::Forbidden("you can only move your own tokens".into()))
            }
        }
        Action::MoveTokens { moves } => {
            if !moves.iter().all(|m| may_move_token(who, store, m.token)) {
                return Err(Error::Forbidden("you can only move your own tokens".into()));
            }
            moves
                .iter()
                .try_for_each(|m| walls_allow(store, m.token, m.to))
        }
        Action::SetDoor { wall, state } => door_in_reach(store, who.user, *wall, *state),
        Action::AdjustHp { actor, .. } => visible_actor(store, who.user, *actor),
        Action::RollCheck { actor, .. }
        | Action::RollAttack { actor, .. }
        | Action::SetStat { actor, .. }
        | Action::SetProficiency { actor, .. } => own_actor(store, who.user, *actor),
        Action::AddCondition { .. }
        | Action::RemoveCondition { .. }
        | Action::ApplyEffect { .. }
        | Action::EndEffect { .. }
        | Action::Chat { .. }
        | Action::Roll { .. } => Ok(()),
        Action::Draw { drawing } => {
            let allowed = store
                .encounter(drawing.encounter)
                .is_some_and(|e| e.map.players_draw);
            if allowed {
                Ok(())
            } else {
                Err(Error::Forbidden(
                    "the GM has not let players draw on this map".into(),
                ))
            }
        }
        Action::Erase { drawings } => drawings
            .iter()
            .try_for_each(|id| own_drawing(store, who.user, *id)),
        Action::JoinInitiative { token, .. } => {
            if owns_token(store, who.user, *token) {
                Ok(())
            } else {
                Err(Error::Forbidden(
                    "you can only roll initiative for your own tokens".into(),
                ))
            }
        }
        Action::NextTurn { encounter } => {
            let current = store
                .encounter(*encounter)
                .and_then(|e| e.initiative.current());
            match current {
                Some(token) if owns_token(store, who.user, token) => Ok(()),
                _ => Err(Error::Forbidden(
                    "only the GM, or the player whose turn it is, can end the turn".into(),
                )),
            }
        }
        Action::SetVisibility { .. }
        | Action::SetHpShown { .. }
        | Action::PlaceToken { .. }
        | Action::RemoveToken { .. }
        | Action::RevealFog { .. }
        | Action::HideFog { .. }
        | Action::SetFog { .. }
        | Action::StartCombat { .. }
        | Action::RollInitiative { .. }
        | Action::EndCombat { .. }
        | Action::Edit { .. }
        | Action::ShowHandout { .. }
        | Action::BuildWalls { .. }
        | Action::RemoveWalls { .. }
        | Action::Undo { .. } => Err(Error::Forbidden("only the GM can do that".into())),
    }
}

/// Whether `who` may approve, modify or reject requests.
pub fn may_decide(who: &Participant) -> Result<()> {
    if who.role.is_gm_or_assistant() {
        Ok(())
    } else {
        Err(Error::Forbidden("only the GM decides on requests".into()))
    }
}

/// Whether `who` may move `token`: a GM any token, a player a token of an
/// actor they own that players see; an observer none. The one rule behind
/// the map's grab, the drag preview others watch, and a move request.
pub fn may_move_token(who: &Participant, store: &Store, token: TokenId) -> bool {
    who.role.is_gm_or_assistant()
        || (who.role != Role::Observer && owns_token(store, who.user, token))
}

/// True when the token exists, is visible to players, and stands for an
/// actor `user` owns.
pub fn owns_token(store: &Store, user: UserId, token: TokenId) -> bool {
    store
        .token(token)
        .filter(|t| t.visibility.players_see())
        .and_then(|t| t.actor)
        .and_then(|actor| store.actor(actor))
        .is_some_and(|actor| actor.owner == Some(user))
}

/// A player may name a token they see (not hidden, not under fog unless
/// it is their own).
fn visible_token(store: &Store, user: UserId, token: TokenId) -> Result<()> {
    if crate::sight::token_seen(store, user, token) {
        Ok(())
    } else {
        // Same error as a token that does not exist.
        Err(Error::UnknownEntity {
            kind: EntityKind::Token,
            id: token.to_string(),
        })
    }
}

/// A player may name an actor they own or one with a token they see.
fn visible_actor(store: &Store, user: UserId, actor: ActorId) -> Result<()> {
    if crate::sight::actor_seen(store, user, actor) {
        Ok(())
    } else {
        Err(Error::UnknownEntity {
            kind: EntityKind::Actor,
            id: actor.to_string(),
        })
    }
}

/// A player's token goes where a straight line from its centre to its new
/// centre meets no wall that stops movement (the GM's tokens go anywhere:
/// the GM places, and walks monsters through secret passages).
fn walls_allow(store: &Store, token: TokenId, to: crate::geometry::Point) -> Result<()> {
    let Some(found) = store.token(token) else {
        return Ok(());
    };
    let Some(encounter) = store.encounter(found.encounter) else {
        return Ok(());
    };
    let from = found.centre(encounter.map.grid_size);
    // The token keeps its size: its centre moves as its corner does.
    let to = crate::geometry::Point::new(
        from.x + (to.x - found.position.x),
        from.y + (to.y - found.position.y),
    );
    match crate::wall::blocking(store.walls_in(found.encounter), from, to) {
        None => Ok(()),
        Some(wall) => Err(Error::Blocked(format!(
            "a {} is in the way",
            match wall.kind {
                crate::wall::WallKind::Door => "closed door",
                crate::wall::WallKind::Window => "window",
                _ => "wall",
            }
        ))),
    }
}

/// A player opens or closes a door that one of their tokens stands next to
/// (its edge within one grid cell of the door), and never a locked one;
/// locking is the GM's.
fn door_in_reach(
    store: &Store,
    user: UserId,
    wall: crate::id::WallId,
    state: crate::wall::DoorState,
) -> Result<()> {
    use crate::wall::DoorState;
    let door = store.wall(wall).ok_or_else(|| Error::UnknownEntity {
        kind: EntityKind::Wall,
        id: wall.to_string(),
    })?;
    if door.door == Some(DoorState::Locked) {
        return Err(Error::Forbidden("the door is locked".into()));
    }
    if state == DoorState::Locked {
        return Err(Error::Forbidden("only the GM locks a door".into()));
    }
    let Some(encounter) = store.encounter(door.encounter) else {
        return Err(Error::Forbidden("the door is on no map".into()));
    };
    let grid = encounter.map.grid_size;
    let near = store.tokens_in(door.encounter).any(|token| {
        let half = token.scale * grid / 2.0;
        owns_token(store, user, token.id) && door.distance_to(token.centre(grid)) <= half + grid
    });
    if near {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "your token must stand next to the door".into(),
        ))
    }
}

/// A player erases their own drawings; one they cannot see does not
/// exist for them.
fn own_drawing(store: &Store, user: UserId, drawing: DrawingId) -> Result<()> {
    if !crate::sight::drawing_seen(store, user, drawing) {
        return Err(Error::UnknownEntity {
            kind: EntityKind::Drawing,
            id: drawing.to_string(),
        });
    }
    if store.drawing(drawing).is_some_and(|d| d.author == user) {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "you can only erase your own drawings".into(),
        ))
    }
}

/// A player rolls for and edits the sheets of the actors they play; one
/// they cannot see does not exist for them.
fn own_actor(store: &Store, user: UserId, actor: ActorId) -> Result<()> {
    visible_actor(store, user, actor)?;
    if store.actor(actor).is_some_and(|a| a.owner == Some(user)) {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "only its player or the GM can use this sheet".into(),
        ))
    }
}

/// When a kind of request applies without the GM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum AutoApprove {
    /// Always waits for the GM.
    Never,
    /// Always applies at once.
    Always,
    /// A move of the player's own token, no farther than its actor's speed;
    /// in combat, only on that token's turn if `on_own_turn`.
    OwnTokenWithinSpeed {
        /// Require it to be the token's turn during combat.
        on_own_turn: bool,
    },
}

/// A session's approval rules, per kind of action. Kinds without a rule
/// wait for the GM. The GM's own requests always apply at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalPolicy {
    /// The rules.
    pub rules: BTreeMap<ActionKind, AutoApprove>,
}

impl Default for ApprovalPolicy {
    /// Moves within speed on your turn, chat, dice, drawing (where the
    /// GM allows it) and doors apply at once; the rest
    /// waits for the GM.
    fn default() -> Self {
        Self {
            rules: BTreeMap::from([
                (
                    ActionKind::MoveToken,
                    AutoApprove::OwnTokenWithinSpeed { on_own_turn: true },
                ),
                (ActionKind::Chat, AutoApprove::Always),
                (ActionKind::Roll, AutoApprove::Always),
                // Only where the GM lets players draw at all.
                (ActionKind::Draw, AutoApprove::Always),
                // Only a door next to one's own token, never a locked one.
                (ActionKind::Door, AutoApprove::Always),
            ]),
        }
    }
}

/// Whether a request applies now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Approval {
    /// Apply it.
    Auto,
    /// Queue it for the GM, with the reason shown to the player.
    Gm {
        /// Why it waits.
        reason: String,
    },
}

impl ApprovalPolicy {
    /// Decides an authorized request.
    pub fn decide(&self, who: &Participant, action: &Action, store: &Store) -> Approval {
        if who.role.is_gm_or_assistant() {
            return Approval::Auto;
        }
        let gm = |reason: &str| Approval::Gm {
            reason: reason.to_owned(),
        };
        match self
            .rules
            .get(&action.kind())
            .copied()
            .unwrap_or(AutoApprove::Never)
        {
            AutoApprove::Never => gm("this kind of request waits for the GM"),
            AutoApprove::Always => Approval::Auto,
            AutoApprove::OwnTokenWithinSpeed { on_own_turn } => match action {
                Action::MoveToken { token, to } => {
                    move_within_speed(store, who.user, *token, *to, on_own_turn)
                        .map_or_else(gm, |()| Approval::Auto)
                }
                // Together as each alone.
                Action::MoveTokens { moves } => moves
                    .iter()
                    .try_for_each(|m| {
                        move_within_speed(store, who.user, m.token, m.to, on_own_turn)
                    })
                    .map_or_else(gm, |()| Approval::Auto),
                // Turning in place goes nowhere: one's own token turns freely.
                Action::RotateToken { token, .. } if owns_token(store, who.user, *token) => {
                    Approval::Auto
                }
                _ => gm("this kind of request waits for the GM"),
            },
        }
    }
}

fn move_within_speed(
    store: &Store,
    user: UserId,
    token: TokenId,
    to: crate::geometry::Point,
    on_own_turn: bool,
) -> Result<(), &'static str> {
    if !owns_token(store, user, token) {
        return Err("only your own tokens move without the GM");
    }
    let token = store.token(token).ok_or("no such token")?;
    let encounter = store
        .encounter(token.encounter)
        .ok_or("no such encounter")?;
    let actor = token
        .actor
        .and_then(|a| store.actor(a))
        .ok_or("the token has no actor")?;
    if on_own_turn
        && encounter.initiative.phase == crate::encounter::Phase::Combat
        && encounter.initiative.current() != Some(token.id)
    {
        return Err("it is not your turn");
    }
    if encounter.map.feet_moved(token.position, to) > u64::from(actor.speed) {
        return Err("farther than the token's speed");
    }
    Ok(())
}

#[cfg(test)]
mod tests;
