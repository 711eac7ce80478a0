//! What players and the GM ask for: typed actions, each translated into
//! state changes against the current state.
//!
//! The same translation runs in the browser (to show the result at once)
//! and on the server (to decide and commit it).

use crate::id::EntityKind;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{
    Error, Result,
    actor::Actor,
    change::Change,
    dice::{DiceExpression, Roll},
    drawing::Drawing,
    effect::Effect,
    encounter::{LogEntry, LogKind, Phase},
    geometry::{Cell, Point},
    id::{ActionId, ActorId, DrawingId, EffectId, EncounterId, TokenId, UserId, WallId},
    path::Entity,
    sheet::{Check, Edge, Stat},
    store::{Store, to_value},
    token::{HpShown, Token, Visibility},
    wall::{DoorState, MAX_WALLS_PER_REQUEST, Wall, WallKind},
};

/// Who sees a roll's result.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Secrecy {
    /// The whole table.
    #[default]
    Open,
    /// The roller and the GM (`/gmr`).
    Gm,
    /// The GM alone; the roller learns only that they rolled (`/br`).
    Blind,
}

impl Secrecy {
    fn is_open(&self) -> bool {
        *self == Secrecy::Open
    }
}

/// The longest chat message, in characters.
pub const MAX_CHAT_CHARS: usize = 2000;

/// The most tokens one group move takes.
pub const MAX_GROUP_MOVE: usize = 50;

/// The most drawings one erase takes away: a full map, so the GM's
/// "erase all" is one request.
pub const MAX_ERASED: usize = crate::drawing::MAX_DRAWINGS_PER_ENCOUNTER;

/// One token's part of a group move.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TokenMove {
    /// The token.
    pub token: TokenId,
    /// Its new top-left corner.
    pub to: Point,
}

/// A request to change the shared state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    /// Move a token to a point (the drop at the end of a drag).
    MoveToken {
        /// The token.
        token: TokenId,
        /// Its new top-left corner.
        to: Point,
    },
    /// Move several tokens together: one request, one approval.
    MoveTokens {
        /// Each token and where it goes, at most [`MAX_GROUP_MOVE`].
        moves: Vec<TokenMove>,
    },
    /// Put a token on the running map (GM): a new one, a copy of one, or
    /// an actor of the campaign. `actor` comes with it when the actor is
    /// new to the table (a monster just made from the compendium).
    PlaceToken {
        /// The token, with a new id.
        token: Box<Token>,
        /// Its actor, when the table does not hold it yet.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        actor: Option<Box<Actor>>,
    },
    /// Take a token off the map (GM); it leaves the turn order too.
    RemoveToken {
        /// The token.
        token: TokenId,
    },
    /// Turn a token to face another way (whoever may move it).
    RotateToken {
        /// The token.
        token: TokenId,
        /// Degrees clockwise from up; any finite angle, kept from 0 to 360.
        degrees: f64,
    },
    /// Damage (negative) or heal (positive) an actor.
    AdjustHp {
        /// The actor.
        actor: ActorId,
        /// Hit points to add.
        delta: i64,
    },
    /// Give a token a condition.
    AddCondition {
        /// The token.
        token: TokenId,
        /// The condition ("prone").
        condition: String,
    },
    /// Take a condition away.
    RemoveCondition {
        /// The token.
        token: TokenId,
        /// The condition.
        condition: String,
    },
    /// Start an effect.
    ApplyEffect {
        /// The effect, with a new id.
        effect: Effect,
    },
    /// End an effect early.
    EndEffect {
        /// The effect.
        effect: EffectId,
    },
    /// Show or hide a token (GM).
    SetVisibility {
        /// The token.
        token: TokenId,
        /// Who may see it.
        visibility: Visibility,
    },
    /// Choose who reads the hit points of a token's actor (GM).
    SetHpShown {
        /// The token.
        token: TokenId,
        /// Who may read them.
        shown: HpShown,
    },
    /// Reveal fog-of-war cells (GM).
    RevealFog {
        /// The encounter.
        encounter: EncounterId,
        /// The cells.
        cells: Vec<Cell>,
    },
    /// Cover cells with fog again (GM).
    HideFog {
        /// The encounter.
        encounter: EncounterId,
        /// The cells.
        cells: Vec<Cell>,
    },
    /// Turn the encounter's fog of war on or off (GM).
    SetFog {
        /// The encounter.
        encounter: EncounterId,
        /// Whether players see only the revealed cells.
        enabled: bool,
    },
    /// Set the turn order and start combat (GM).
    StartCombat {
        /// The encounter.
        encounter: EncounterId,
        /// Tokens in the order they act.
        order: Vec<TokenId>,
    },
    /// Roll initiative and start combat (GM): each token rolls a d20 on
    /// the server and adds its actor's initiative bonus; the order is by
    /// total, highest first (ties: the higher bonus, then the order
    /// asked).
    RollInitiative {
        /// The encounter.
        encounter: EncounterId,
        /// Who takes part.
        tokens: Vec<TokenId>,
        /// One d20 per token, in the same order, once the server rolled.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rolls: Option<Vec<u32>>,
    },
    /// A token joins the fight in progress at its own roll (its player, or
    /// the GM): the server rolls a d20 and adds the actor's initiative
    /// bonus, and the token takes its place in the order by total; whose
    /// turn it is does not change.
    JoinInitiative {
        /// The encounter.
        encounter: EncounterId,
        /// The token.
        token: TokenId,
        /// The d20, once the server rolled.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        roll: Option<u32>,
    },
    /// End the current turn: the next token acts; after the last, a new
    /// round starts and effects count down.
    NextTurn {
        /// The encounter.
        encounter: EncounterId,
    },
    /// End combat (GM): the encounter goes back to exploration; the order
    /// is kept for the next fight.
    EndCombat {
        /// The encounter.
        encounter: EncounterId,
    },
    /// Say something in the encounter's log, to the table or, as a
    /// whisper, to some of it.
    Chat {
        /// The encounter.
        encounter: EncounterId,
        /// The message.
        text: String,
        /// For a whisper, who reads it besides the sender and the GM (none:
        /// the GM alone); `None` says it to the whole table.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<Vec<UserId>>,
        /// The rolls of its inline dice (`[[1d20+3]]`), in order, once the
        /// server rolled ([`crate::dice::inline_rolls`]).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        rolls: Vec<Roll>,
    },
    /// Show a handout (GM): a line in the log that opens the file in the
    /// viewer of each reader. Who may download the file is the server's
    /// record, written before this is asked.
    ShowHandout {
        /// The encounter.
        encounter: EncounterId,
        /// The file.
        handout: crate::media::Handout,
        /// The players it is shown to; `None` shows it to the whole table.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<Vec<UserId>>,
    },
    /// Roll dice in the open, into the encounter's log. The server
    /// rolls: whatever `roll` a client sends is replaced
    /// ([`Action::settle`]).
    Roll {
        /// The encounter.
        encounter: EncounterId,
        /// What to roll (`1d20 + 5`, see [`crate::dice`]).
        dice: String,
        /// What came up, once the server rolled.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        roll: Option<Roll>,
        /// Who sees the result.
        #[serde(default, skip_serializing_if = "Secrecy::is_open")]
        secrecy: Secrecy,
    },
    /// Roll an ability check, save or skill check for an actor, from its
    /// sheet (its owner or the GM): the server rolls the d20 and adds the
    /// bonus the live actor has ([`Check::bonus`]).
    RollCheck {
        /// The encounter whose log shows it.
        encounter: EncounterId,
        /// Who rolls.
        actor: ActorId,
        /// What.
        check: Check,
        /// With advantage, disadvantage or neither.
        #[serde(default)]
        edge: Edge,
        /// The d20 faces (two with an edge), once the server rolled.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rolls: Option<Vec<u32>>,
    },
    /// Attack with one of an actor's attacks, from its sheet (its owner or
    /// the GM): the server rolls to hit and damage (the damage dice twice
    /// on a natural 20) with the live actor's bonuses.
    RollAttack {
        /// The encounter whose log shows it.
        encounter: EncounterId,
        /// Who attacks.
        actor: ActorId,
        /// Which of its attacks (its place in [`crate::actor::Actor::attacks`]).
        attack: usize,
        /// With advantage, disadvantage or neither.
        #[serde(default)]
        edge: Edge,
        /// What came up, once the server rolled.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rolls: Option<AttackRoll>,
    },
    /// Set a number on an actor's sheet (its owner or the GM).
    SetStat {
        /// The actor.
        actor: ActorId,
        /// Which number.
        stat: Stat,
        /// Its new value, within [`Stat::range`].
        value: i64,
    },
    /// Make an actor proficient in a save or skill, or no longer (its owner
    /// or the GM).
    SetProficiency {
        /// The actor.
        actor: ActorId,
        /// A save or a skill.
        check: Check,
        /// Proficient or not.
        proficient: bool,
    },
    /// Put a drawing on the map (the GM; a player when the map allows
    /// it). Its author is whoever asks.
    Draw {
        /// The drawing, with a new id.
        drawing: Box<Drawing>,
    },
    /// Take drawings off the map: a player their own, the GM any.
    Erase {
        /// The drawings, at most [`MAX_ERASED`].
        drawings: Vec<DrawingId>,
    },
    /// Put walls on the map (GM): a traced room is one request.
    BuildWalls {
        /// The walls, with new ids, at most [`MAX_WALLS_PER_REQUEST`].
        walls: Vec<Wall>,
    },
    /// Take walls off the map (GM).
    RemoveWalls {
        /// The walls, at most [`MAX_WALLS_PER_REQUEST`].
        walls: Vec<WallId>,
    },
    /// Open, close, lock or unlock a door: the GM any door; a player opens
    /// or closes one their token stands next to, unless it is locked.
    SetDoor {
        /// The door.
        wall: WallId,
        /// Its new state.
        state: DoorState,
    },
    /// Raw changes (GM tools).
    Edit {
        /// The changes.
        changes: Vec<Change>,
    },
    /// Takes back a committed action (the GM's Ctrl+Z; an undo taken back
    /// is a redo). The server fills `changes` with the exact undo it kept
    /// when it committed `of`, whatever a client sent, and refuses when a
    /// later commit changed what they would restore.
    Undo {
        /// The action taken back.
        of: ActionId,
        /// What takes it back: the server's.
        #[serde(default)]
        changes: Vec<Change>,
    },
}

/// The dice of an attack: the d20 (two with an edge) and the damage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttackRoll {
    /// The d20 faces.
    pub d20: Vec<u32>,
    /// The damage roll.
    pub damage: Roll,
}

/// The kinds of action, for approval rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// [`Action::MoveToken`], [`Action::MoveTokens`] and
    /// [`Action::RotateToken`].
    MoveToken,
    /// [`Action::AdjustHp`].
    AdjustHp,
    /// [`Action::AddCondition`] and [`Action::RemoveCondition`].
    Condition,
    /// [`Action::ApplyEffect`] and [`Action::EndEffect`].
    Effect,
    /// [`Action::SetVisibility`] and [`Action::SetHpShown`].
    Visibility,
    /// [`Action::RevealFog`], [`Action::HideFog`] and [`Action::SetFog`].
    Fog,
    /// [`Action::StartCombat`], [`Action::RollInitiative`],
    /// [`Action::JoinInitiative`], [`Action::NextTurn`] and
    /// [`Action::EndCombat`].
    Initiative,
    /// [`Action::Chat`].
    Chat,
    /// [`Action::Roll`], [`Action::RollCheck`] and [`Action::RollAttack`].
    Roll,
    /// [`Action::SetStat`] and [`Action::SetProficiency`].
    Sheet,
    /// [`Action::Draw`] and [`Action::Erase`].
    Draw,
    /// [`Action::SetDoor`].
    Door,
    /// [`Action::Edit`], [`Action::PlaceToken`], [`Action::RemoveToken`],
    /// [`Action::BuildWalls`], [`Action::RemoveWalls`] and [`Action::Undo`]
    /// (the GM's).
    Edit,
}

impl Action {
    /// Its kind.
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::MoveToken { .. } | Action::MoveTokens { .. } | Action::RotateToken { .. } => {
                ActionKind::MoveToken
            }
            Action::AdjustHp { .. } => ActionKind::AdjustHp,
            Action::AddCondition { .. } | Action::RemoveCondition { .. } => ActionKind::Condition,
            Action::ApplyEffect { .. } | Action::EndEffect { .. } => ActionKind::Effect,
            Action::SetVisibility { .. } | Action::SetHpShown { .. } => ActionKind::Visibility,
            Action::RevealFog { .. } | Action::HideFog { .. } | Action::SetFog { .. } => {
                ActionKind::Fog
            }
            Action::StartCombat { .. }
            | Action::RollInitiative { .. }
            | Action::JoinInitiative { .. }
            | Action::NextTurn { .. }
            | Action::EndCombat { .. } => ActionKind::Initiative,
            Action::Chat { .. } | Action::ShowHandout { .. } => ActionKind::Chat,
            Action::Roll { .. } | Action::RollCheck { .. } | Action::RollAttack { .. } => {
                ActionKind::Roll
            }
            Action::SetStat { .. } | Action::SetProficiency { .. } => ActionKind::Sheet,
            Action::Draw { .. } | Action::Erase { .. } => ActionKind::Draw,
            Action::SetDoor { .. } => ActionKind::Door,
            Action::Edit { .. }
            | Action::BuildWalls { .. }
            | Action::RemoveWalls { .. }
            | Action::PlaceToken { .. }
            | Action::RemoveToken { .. }
            | Action::Undo { .. } => ActionKind::Edit,
        }
    }

    /// The changes this action makes to `store`, requested by `by`.
    /// Refers only to what exists; whether `by` may ask is
    /// [`crate::rules::authorize`]'s question.
    pub fn changes(&self, store: &Store, by: UserId) -> Result<Vec<Change>> {
        match self {
            Action::MoveToken { token, to } => {
                existing_token(store, *token)?;
                if !to.is_finite() {
                    return Err(Error::InvalidAction(
                        "a token must move to a finite position".into(),
                    ));
                }
                Ok(vec![Change::set(
                    Entity::Token(*token).at(&["position"]),
                    to_value(to),
                )])
            }
            Action::MoveTokens { moves } => {
                crate::limits::count("one group move (tokens)", moves.len(), MAX_GROUP_MOVE)?;
                if moves.is_empty() {
                    return Err(Error::InvalidAction("a group move names tokens".into()));
                }
                let mut seen = std::collections::BTreeSet::new();
                moves
                    .iter()
                    .map(|step| {
                        existing_token(store, step.token)?;
                        if !seen.insert(step.token) {
                            return Err(Error::InvalidAction(
                                "a group move names each token once".into(),
                            ));
                        }
                        if !step.to.is_finite() {
                            return Err(Error::InvalidAction(
                                "a token must move to a finite position".into(),
                            ));
                        }
                        Ok(Change::set(
                            Entity::Token(step.token).at(&["position"]),
                            to_value(&step.to),
                        ))
                    })
                    .collect()
            }
            Action::PlaceToken { token, actor } => place_token(store, token, actor.as_deref()),
            Action::RemoveToken { token } => remove_token(store, *token),
            Action::RotateToken { token, degrees } => {
                existing_token(store, *token)?;
                if !degrees.is_finite() {
                    return Err(Error::InvalidAction(
                        "a token turns by a finite angle".into(),
                    ));
                }
                Ok(vec![Change::set(
                    Entity::Token(*token).at(&["rotation"]),
                    degrees.rem_euclid(360.0),
                )])
            }
            Action::AdjustHp { actor, delta } => {
                store
                    .actor(*actor)
                    .ok_or_else(|| unknown(EntityKind::Actor, actor))?;
                Ok(vec![Change::increment(
                    Entity::Actor(*actor).at(&["hp", "current"]),
                    *delta,
                )])
            }
            Action::AddCondition { token, condition } => {
                existing_token(store, *token)?;
                let condition = condition_name(condition)?;
                Ok(vec![Change::append(
                    Entity::Token(*token).at(&["conditions"]),
                    condition,
                )])
            }
            Action::RemoveCondition { token, condition } => {
                let existing = existing_token(store, *token)?;
                let condition = condition_name(condition)?;
                if !existing.conditions.contains(&condition) {
                    return Err(Error::InvalidAction(format!(
                        "the token is not {condition}"
                    )));
                }
                Ok(vec![Change::delete(
                    Entity::Token(*token).at(&["conditions"]).child(condition),
                )])
            }
            Action::ApplyEffect { effect } => {
                if store.effect(effect.id).is_some() {
                    return Err(Error::InvalidAction(
                        "an effect with this id already exists".into(),
                    ));
                }
                for target in &effect.targets {
                    existing_token(store, *target)?;
                }
                Ok(vec![Change::set(
                    Entity::Effect(effect.id).path(),
                    to_value(effect),
                )])
            }
            Action::EndEffect { effect } => {
                store
                    .effect(*effect)
                    .ok_or_else(|| unknown(EntityKind::Effect, effect))?;
                Ok(vec![Change::delete(Entity::Effect(*effect).path())])
            }
            Action::SetVisibility { token, visibility } => {
                existing_token(store, *token)?;
                Ok(vec![Change::set(
                    Entity::Token(*token).at(&["visibility"]),
                    to_value(visibility),
                )])
            }
            Action::SetHpShown { token, shown } => {
                existing_token(store, *token)?;
                Ok(vec![Change::set(
                    Entity::Token(*token).at(&["hp_shown"]),
                    to_value(shown),
                )])
            }
            Action::RevealFog { encounter, cells } => {
                existing_encounter(store, *encounter)?;
                Ok(vec![Change::append(
                    Entity::Encounter(*encounter).at(&["fog", "revealed"]),
                    to_value(cells),
                )])
            }
            Action::HideFog { encounter, cells } => {
                let revealed = &existing_encounter(store, *encounter)?.fog.revealed;
                let path = Entity::Encounter(*encounter).at(&["fog", "revealed"]);
                let mut seen = std::collections::BTreeSet::new();
                Ok(cells
                    .iter()
                    .filter(|cell| revealed.contains(cell) && seen.insert(**cell))
                    .map(|cell| Change::delete(path.child(cell.to_string())))
                    .collect())
            }
            Action::SetFog { encounter, enabled } => {
                existing_encounter(store, *encounter)?;
                Ok(vec![Change::set(
                    Entity::Encounter(*encounter).at(&["fog", "enabled"]),
                    *enabled,
                )])
            }
            Action::StartCombat { encounter, order } => {
                existing_encounter(store, *encounter)?;
                for token in order {
                    let found = existing_token(store, *token)?;
                    if found.encounter != *encounter {
                        return Err(Error::InvalidAction(
                            "every token in the order must be on this encounter".into(),
                        ));
                    }
                }
                Ok(vec![Change::set(
                    Entity::Encounter(*encounter).at(&["initiative"]),
                    json!({"order": order, "turn": 0, "round": 1, "phase": Phase::Combat}),
                )])
            }
            Action::RollInitiative {
                encounter,
                tokens,
                rolls,
            } => {
                let rolls = rolls
                    .as_ref()
                    .ok_or_else(|| Error::InvalidAction("the server has not rolled yet".into()))?;
                if rolls.len() != tokens.len() || rolls.iter().any(|r| !(1..=20).contains(r)) {
                    return Err(Error::InvalidAction(
                        "initiative takes one d20 per token".into(),
                    ));
                }
                let rolled = initiative_order(store, *encounter, tokens, rolls)?;
                let order: Vec<TokenId> = rolled.iter().map(|(token, _)| *token).collect();
                let totals: std::collections::BTreeMap<TokenId, i64> = rolled.into_iter().collect();
                Ok(vec![Change::set(
                    Entity::Encounter(*encounter).at(&["initiative"]),
                    json!({"order": order, "turn": 0, "round": 1, "phase": Phase::Combat, "totals": totals}),
                )])
            }
            Action::JoinInitiative {
                encounter,
                token,
                roll,
            } => {
                let roll = roll
                    .ok_or_else(|| Error::InvalidAction("the server has not rolled yet".into()))?;
                join_initiative(store, *encounter, *token, roll, by)
            }
            Action::NextTurn { encounter } => next_turn(store, *encounter),
            Action::EndCombat { encounter } => {
                if existing_encounter(store, *encounter)?.initiative.phase != Phase::Combat {
                    return Err(Error::InvalidAction(
                        "the encounter is not in combat".into(),
                    ));
                }
                Ok(vec![Change::set(
                    Entity::Encounter(*encounter).at(&["initiative", "phase"]),
                    to_value(&Phase::Exploration),
                )])
            }
            Action::Chat {
                encounter,
                text,
                to,
                rolls,
            } => {
                existing_encounter(store, *encounter)?;
                let text = text.trim();
                if text.is_empty() {
                    return Err(Error::InvalidAction("say something".into()));
                }
                if text.chars().count() > MAX_CHAT_CHARS {
                    return Err(Error::InvalidAction(format!(
                        "a message can have at most {MAX_CHAT_CHARS} characters"
                    )));
                }
                let line = LogEntry {
                    by: Some(by),
                    kind: LogKind::Chat,
                    text: with_inline_rolls(text, rolls)?,
                    to: to.as_ref().map(|to| readers(by, to)).transpose()?,
                    handout: None,
                };
                Ok(vec![append_line(*encounter, &line)])
            }
            Action::ShowHandout {
                encounter,
                handout,
                to,
            } => {
                existing_encounter(store, *encounter)?;
                // Through the sanitizer again: the name is a client's.
                let name = crate::media::DisplayFileName::sanitize(handout.name.as_str());
                let line = LogEntry {
                    by: Some(by),
                    kind: LogKind::Handout,
                    text: format!("shows {}", name.as_str()),
                    to: to.as_ref().map(|to| readers(by, to)).transpose()?,
                    handout: Some(crate::media::Handout {
                        name,
                        ..handout.clone()
                    }),
                };
                Ok(vec![append_line(*encounter, &line)])
            }
            Action::Roll {
                encounter,
                dice,
                roll,
                secrecy,
            } => {
                existing_encounter(store, *encounter)?;
                let expression: DiceExpression = dice.parse()?;
                let roll = roll
                    .as_ref()
                    .ok_or_else(|| Error::InvalidAction("the server has not rolled yet".into()))?;
                expression.check(roll)?;
                let line = |text: String, to: Option<Vec<UserId>>| LogEntry {
                    by: Some(by),
                    kind: LogKind::Roll,
                    text,
                    to,
                    handout: None,
                };
                Ok(match secrecy {
                    Secrecy::Open => vec![append_line(*encounter, &line(roll.describe(), None))],
                    Secrecy::Gm => vec![append_line(
                        *encounter,
                        &line(roll.describe(), Some(vec![by])),
                    )],
                    Secrecy::Blind => vec![
                        append_line(
                            *encounter,
                            &line(
                                format!("{}: rolled blind, for the GM's eyes", roll.expression),
                                Some(vec![by]),
                            ),
                        ),
                        append_line(
                            *encounter,
                            &line(format!("blind: {}", roll.describe()), Some(Vec::new())),
                        ),
                    ],
                })
            }
            Action::RollCheck {
                encounter,
                actor,
                check,
                edge,
                rolls,
            } => {
                existing_encounter(store, *encounter)?;
                let found = existing_actor(store, *actor)?;
                let rolls = rolls
                    .as_ref()
                    .ok_or_else(|| Error::InvalidAction("the server has not rolled yet".into()))?;
                if rolls.len() != edge.dice() || rolls.iter().any(|r| !(1..=20).contains(r)) {
                    return Err(Error::InvalidAction(
                        "a check rolls one d20, or two with advantage or disadvantage".into(),
                    ));
                }
                let text = crate::sheet::describe_check(found, *check, *edge, rolls)
                    .ok_or_else(|| Error::InvalidAction("nothing was rolled".into()))?;
                Ok(log_line(*encounter, by, LogKind::Roll, text))
            }
            Action::RollAttack {
                encounter,
                actor,
                attack,
                edge,
                rolls,
            } => {
                existing_encounter(store, *encounter)?;
                let found = existing_actor(store, *actor)?;
                let weapon = found
                    .attacks
                    .get(*attack)
                    .ok_or_else(|| Error::InvalidAction("the sheet has no such attack".into()))?;
                let rolls = rolls
                    .as_ref()
                    .ok_or_else(|| Error::InvalidAction("the server has not rolled yet".into()))?;
                if rolls.d20.len() != weapon.d20_dice(*edge)
                    || rolls.d20.iter().any(|r| !(1..=20).contains(r))
                {
                    return Err(Error::InvalidAction(
                        "an attack rolls one d20, or two with advantage or disadvantage \
                         (a spell its target saves against rolls none)"
                            .into(),
                    ));
                }
                let critical = edge.pick(&rolls.d20) == Some(20);
                weapon
                    .damage_expression(found, critical)?
                    .check(&rolls.damage)?;
                let text =
                    crate::sheet::describe_attack(found, weapon, *edge, &rolls.d20, &rolls.damage)
                        .ok_or_else(|| Error::InvalidAction("nothing was rolled".into()))?;
                Ok(log_line(*encounter, by, LogKind::Roll, text))
            }
            Action::SetStat { actor, stat, value } => {
                existing_actor(store, *actor)?;
                let value = stat.check(*value)?;
                let entity = Entity::Actor(*actor);
                let path = match stat {
                    Stat::Speed => entity.at(&["speed"]),
                    Stat::Hp => entity.at(&["hp", "current"]),
                    Stat::HpMax => entity.at(&["hp", "max"]),
                    Stat::HpTemp => entity.at(&["hp", "temp"]),
                    other => entity.at(&["stats", other.key()]),
                };
                Ok(vec![Change::set(path, value)])
            }
            Action::SetProficiency {
                actor,
                check,
                proficient,
            } => {
                let found = existing_actor(store, *actor)?;
                if !check.takes_proficiency() {
                    return Err(Error::InvalidAction(
                        "proficiency applies to saves and skills".into(),
                    ));
                }
                let path = Entity::Actor(*actor).at(&["proficiencies"]);
                Ok(match (*proficient, found.proficiencies.contains(check)) {
                    (true, false) => vec![Change::append(path, to_value(check))],
                    (false, true) => vec![Change::delete(path.child(check.to_string()))],
                    // Already so: nothing to change.
                    _ => Vec::new(),
                })
            }
            Action::Undo { changes, .. } if changes.is_empty() => Err(Error::InvalidAction(
                "nothing to take back: the server fills in an undo".into(),
            )),
            Action::Draw { drawing } => {
                if drawing.author != by {
                    return Err(Error::InvalidAction(
                        "a drawing is signed by whoever draws it".into(),
                    ));
                }
                if store.drawing(drawing.id).is_some() {
                    return Err(Error::InvalidAction(
                        "a drawing with this id already exists".into(),
                    ));
                }
                existing_encounter(store, drawing.encounter)?;
                drawing
                    .check()
                    .map_err(|error| Error::InvalidAction(error.to_string()))?;
                Ok(vec![Change::set(
                    Entity::Drawing(drawing.id).path(),
                    to_value(drawing),
                )])
            }
            Action::Erase { drawings } => deletions(
                drawings,
                ("one erase (drawings)", "an erase", MAX_ERASED),
                |id| store.drawing(id).is_some(),
                Entity::Drawing,
            ),
            Action::BuildWalls { walls } => {
                crate::limits::count("one build (walls)", walls.len(), MAX_WALLS_PER_REQUEST)?;
                if walls.is_empty() {
                    return Err(Error::InvalidAction("a build names walls".into()));
                }
                let mut seen = std::collections::BTreeSet::new();
                walls
                    .iter()
                    .map(|wall| {
                        if !seen.insert(wall.id) || store.wall(wall.id).is_some() {
                            return Err(Error::InvalidAction("each new wall has a new id".into()));
                        }
                        existing_encounter(store, wall.encounter)?;
                        wall.check()
                            .map_err(|error| Error::InvalidAction(error.to_string()))?;
                        Ok(Change::set(Entity::Wall(wall.id).path(), to_value(wall)))
                    })
                    .collect()
            }
            Action::RemoveWalls { walls } => deletions(
                walls,
                ("one removal (walls)", "a removal", MAX_WALLS_PER_REQUEST),
                |id| store.wall(id).is_some(),
                Entity::Wall,
            ),
            Action::SetDoor { wall, state } => {
                let found = store
                    .wall(*wall)
                    .ok_or_else(|| unknown(EntityKind::Wall, wall))?;
                if found.kind != WallKind::Door {
                    return Err(Error::InvalidAction("only a door opens".into()));
                }
                Ok(if found.door == Some(*state) {
                    Vec::new()
                } else {
                    vec![Change::set(
                        Entity::Wall(*wall).at(&["door"]),
                        to_value(state),
                    )]
                })
            }
            Action::Edit { changes } | Action::Undo { changes, .. } => {
                crate::limits::count(
                    "one edit (changes)",
                    changes.len(),
                    crate::limits::MAX_CHANGES_PER_REQUEST,
                )?;
                Ok(changes.clone())
            }
        }
    }

    /// Whether only the server can say what this action changes (it rolls
    /// dice, or takes back a commit with the undo only the server keeps):
    /// a client shows it once committed, not before.
    pub fn rolled_by_server(&self) -> bool {
        match self {
            Action::Chat { text, .. } => !crate::dice::inline_rolls(text.trim()).is_empty(),
            _ => matches!(
                self,
                Action::Roll { .. }
                    | Action::RollInitiative { .. }
                    | Action::JoinInitiative { .. }
                    | Action::RollCheck { .. }
                    | Action::RollAttack { .. }
                    | Action::Undo { .. }
            ),
        }
    }

    /// Does what only the server may do before an action is decided on:
    /// rolls the dice of a [`Action::Roll`] (`face(sides)` throws one die),
    /// replacing any roll the client sent; an attack's damage dice are
    /// those of the attack on `store`'s actor. Other actions are unchanged.
    pub fn roll_dice(&mut self, store: &Store, mut face: impl FnMut(u32) -> u32) {
        match self {
            Action::Roll { dice, roll, .. } => {
                *roll = dice
                    .parse::<DiceExpression>()
                    .ok()
                    .map(|expression| expression.roll(face));
            }
            Action::Chat { text, rolls, .. } => {
                // All or none: a line with a bad expression is refused with
                // that expression's error when its changes are made.
                *rolls = crate::dice::inline_rolls(text.trim())
                    .into_iter()
                    .take(crate::dice::MAX_INLINE_ROLLS)
                    .map(|(_, dice)| dice.parse::<DiceExpression>())
                    .collect::<Result<Vec<_>>>()
                    .map(|all| all.iter().map(|e| e.roll(&mut face)).collect())
                    .unwrap_or_default();
            }
            Action::RollInitiative { tokens, rolls, .. } => {
                *rolls = Some(tokens.iter().map(|_| face(20)).collect());
            }
            Action::RollCheck { edge, rolls, .. } => {
                *rolls = Some((0..edge.dice()).map(|_| face(20)).collect());
            }
            Action::JoinInitiative { roll, .. } => *roll = Some(face(20)),
            Action::RollAttack {
                actor,
                attack,
                edge,
                rolls,
                ..
            } => {
                // An unknown actor or attack rolls nothing: the request is
                // refused when its changes are asked for.
                *rolls = store.actor(*actor).and_then(|found| {
                    let chosen = found.attacks.get(*attack)?;
                    let d20: Vec<u32> = (0..chosen.d20_dice(*edge)).map(|_| face(20)).collect();
                    let critical = edge.pick(&d20) == Some(20);
                    let expression = chosen.damage_expression(found, critical).ok()?;
                    Some(AttackRoll {
                        d20,
                        damage: expression.roll(&mut face),
                    })
                });
            }
            _ => {}
        }
    }

    /// The tokens this action acts on, for the visibility rules.
    pub fn tokens(&self, store: &Store) -> Vec<TokenId> {
        match self {
            Action::MoveToken { token, .. }
            | Action::RotateToken { token, .. }
            | Action::AddCondition { token, .. }
            | Action::RemoveCondition { token, .. }
            | Action::SetVisibility { token, .. }
            | Action::SetHpShown { token, .. }
            | Action::RemoveToken { token }
            | Action::JoinInitiative { token, .. } => vec![*token],
            Action::ApplyEffect { effect } => effect.targets.iter().copied().collect(),
            Action::EndEffect { effect } => store
                .effect(*effect)
                .map(|e| e.targets.iter().copied().collect())
                .unwrap_or_default(),
            Action::StartCombat { order, .. } => order.clone(),
            Action::MoveTokens { moves } => moves.iter().map(|m| m.token).collect(),
            Action::RollInitiative { tokens, .. } => tokens.clone(),
            _ => Vec::new(),
        }
    }
}

/// Appends a line by `by`, for the whole table, to an encounter's log.
fn log_line(encounter: EncounterId, by: UserId, kind: LogKind, text: String) -> Vec<Change> {
    let entry = LogEntry {
        by: Some(by),
        kind,
        text,
        to: None,
        handout: None,
    };
    vec![append_line(encounter, &entry)]
}

fn append_line(encounter: EncounterId, line: &LogEntry) -> Change {
    Change::append(Entity::Encounter(encounter).at(&["log"]), to_value(line))
}

/// A chat line with each inline roll (`[[1d20+3]]`) replaced by what the
/// server rolled (`[1d20 + 3: 12 → 15]`), each roll checked against its
/// expression.
fn with_inline_rolls(text: &str, rolls: &[Roll]) -> Result<String> {
    let inline = crate::dice::inline_rolls(text);
    if inline.len() > crate::dice::MAX_INLINE_ROLLS {
        return Err(Error::InvalidAction(format!(
            "at most {} inline rolls in one line",
            crate::dice::MAX_INLINE_ROLLS
        )));
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut rolls = rolls.iter();
    for (at, dice) in inline {
        let expression: DiceExpression = dice.parse()?;
        let roll = rolls
            .next()
            .ok_or_else(|| Error::InvalidAction("the server has not rolled yet".into()))?;
        expression.check(roll)?;
        out.push_str(&text[last..at.start]);
        out.push('[');
        out.push_str(&roll.describe());
        out.push(']');
        last = at.end;
    }
    if rolls.next().is_some() {
        return Err(Error::InvalidAction(
            "more rolls than the line has inline dice".into(),
        ));
    }
    out.push_str(&text[last..]);
    Ok(out)
}

/// The readers of a whisper from `by` to `to`: both, once each, in order.
fn readers(by: UserId, to: &[UserId]) -> Result<Vec<UserId>> {
    let mut readers: Vec<UserId> = to.iter().copied().chain([by]).collect();
    readers.sort_unstable();
    readers.dedup();
    crate::limits::count(
        "readers of a whisper",
        readers.len(),
        crate::limits::MAX_LINE_READERS,
    )?;
    Ok(readers)
}

fn existing_token(store: &Store, id: TokenId) -> Result<&crate::token::Token> {
    store
        .token(id)
        .ok_or_else(|| unknown(EntityKind::Token, id))
}

fn existing_actor(store: &Store, id: ActorId) -> Result<&crate::actor::Actor> {
    store
        .actor(id)
        .ok_or_else(|| unknown(EntityKind::Actor, id))
}

fn existing_encounter(store: &Store, id: EncounterId) -> Result<&crate::encounter::Encounter> {
    store
        .encounter(id)
        .ok_or_else(|| unknown(EntityKind::Encounter, id))
}

/// A token put on the map, with its actor when the table lacks it.
fn place_token(store: &Store, token: &Token, actor: Option<&Actor>) -> Result<Vec<Change>> {
    if store.token(token.id).is_some() {
        return Err(Error::InvalidAction(
            "a token with this id is already on the map".into(),
        ));
    }
    existing_encounter(store, token.encounter)?;
    let mut changes = Vec::with_capacity(2);
    match (token.actor, actor) {
        (_, Some(new)) if token.actor != Some(new.id) => {
            return Err(Error::InvalidAction(
                "the actor sent is not the token's".into(),
            ));
        }
        (Some(id), Some(new)) if store.actor(id).is_none() => {
            if new.hp.is_none() {
                return Err(Error::InvalidAction(
                    "an actor comes to the table with its hit points".into(),
                ));
            }
            changes.push(Change::set(Entity::Actor(id).path(), to_value(new)));
        }
        (Some(id), None) => {
            existing_actor(store, id)?;
        }
        // Already at the table, or scenery.
        _ => {}
    }
    changes.push(Change::set(Entity::Token(token.id).path(), to_value(token)));
    Ok(changes)
}

/// A token taken off the map, and out of its encounter's turn order.
fn remove_token(store: &Store, id: TokenId) -> Result<Vec<Change>> {
    let token = existing_token(store, id)?;
    let mut changes = vec![Change::delete(Entity::Token(id).path())];
    if let Some(encounter) = store.encounter(token.encounter)
        && let Some(at) = encounter.initiative.order.iter().position(|t| *t == id)
    {
        let mut initiative = encounter.initiative.clone();
        initiative.order.remove(at);
        initiative.totals.remove(&id);
        let turn = initiative.turn as usize;
        // The one acting after it keeps the turn.
        if at < turn || (at == turn && turn >= initiative.order.len()) {
            initiative.turn = if at < turn { initiative.turn - 1 } else { 0 };
        }
        changes.push(Change::set(
            Entity::Encounter(token.encounter).at(&["initiative"]),
            to_value(&initiative),
        ));
    }
    Ok(changes)
}

/// The deletions an erase or a removal asks for: at most `max` ids
/// (`limit` names the bound), at least one, each once, each existing.
fn deletions<Id: Copy + Ord + std::fmt::Display>(
    ids: &[Id],
    (limit, request, max): (&'static str, &str, usize),
    exists: impl Fn(Id) -> bool,
    entity: impl Fn(Id) -> Entity,
) -> Result<Vec<Change>> {
    crate::limits::count(limit, ids.len(), max)?;
    if ids.is_empty() {
        return Err(Error::InvalidAction(format!("{request} names something")));
    }
    let unique: std::collections::BTreeSet<_> = ids.iter().collect();
    if unique.len() != ids.len() {
        return Err(Error::InvalidAction(format!("{request} names each once")));
    }
    ids.iter()
        .map(|id| {
            let named = entity(*id);
            if !exists(*id) {
                return Err(unknown(named.kind(), *id));
            }
            Ok(Change::delete(named.path()))
        })
        .collect()
}

fn unknown(kind: EntityKind, id: impl ToString) -> Error {
    Error::UnknownEntity {
        kind,
        id: id.to_string(),
    }
}

fn condition_name(raw: &str) -> Result<String> {
    let name = raw.trim().to_lowercase();
    if name.is_empty() || name.len() > 40 || name.contains('/') {
        return Err(Error::InvalidAction(
            "a condition is a short name such as \"prone\"".into(),
        ));
    }
    Ok(name)
}

mod turns;

use turns::{initiative_order, join_initiative, next_turn};

#[cfg(test)]
mod tests;
