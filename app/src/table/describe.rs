//! Requests and roles in words, for the GM's queue and the toasts.

use shared::{
    action::Action,
    id::{ActorId, TokenId},
    rules::Role,
    store::Store,
};

/// A role as a person reads it.
pub fn role(role: Role) -> &'static str {
    match role {
        Role::Gm => "the GM",
        Role::AssistantGm => "an assistant GM",
        Role::Player => "a player",
        Role::Observer => "an observer",
    }
}

fn token_name(view: Option<&Store>, token: TokenId) -> String {
    view.and_then(|v| v.token(token))
        .map(|t| t.name.clone())
        .unwrap_or_else(|| "a token".into())
}

fn actor_name(view: Option<&Store>, actor: ActorId) -> String {
    view.and_then(|v| v.actor(actor))
        .map(|a| a.name.clone())
        .unwrap_or_else(|| "someone".into())
}

/// What a request asks, in a short sentence ("move Goblin to column 4, row 2").
pub fn action(action: &Action, view: Option<&Store>) -> String {
    match action {
        Action::MoveToken { token, to } => {
            let cell = view
                .and_then(|v| v.token(*token))
                .and_then(|t| view.and_then(|v| v.encounter(t.encounter)))
                .map(|e| e.map.cell_at(*to));
            match cell {
                Some(cell) => format!(
                    "move {} to column {}, row {}",
                    token_name(view, *token),
                    cell.0 + 1,
                    cell.1 + 1
                ),
                None => format!("move {}", token_name(view, *token)),
            }
        }
        Action::AdjustHp { actor, delta } if *delta < 0 => {
            format!("{} takes {} damage", actor_name(view, *actor), -delta)
        }
        Action::AdjustHp { actor, delta } => {
            format!("{} heals {delta} hit points", actor_name(view, *actor))
        }
        Action::AddCondition { token, condition } => {
            format!("{} becomes {condition}", token_name(view, *token))
        }
        Action::RemoveCondition { token, condition } => {
            format!("{} is no longer {condition}", token_name(view, *token))
        }
        Action::ApplyEffect { effect } => {
            let on: Vec<String> = effect
                .targets
                .iter()
                .map(|t| token_name(view, *t))
                .collect();
            match effect.remaining_rounds {
                Some(rounds) => format!("{} on {} for {rounds} rounds", effect.name, on.join(", ")),
                None => format!("{} on {}", effect.name, on.join(", ")),
            }
        }
        Action::EndEffect { .. } => "end an effect".into(),
        Action::SetVisibility { token, visibility } => {
            format!("make {} {visibility:?}", token_name(view, *token)).to_lowercase()
        }
        Action::RevealFog { cells, .. } => format!("reveal {} cells", cells.len()),
        Action::HideFog { cells, .. } => format!("cover {} cells", cells.len()),
        Action::StartCombat { order, .. } => format!("start combat with {} tokens", order.len()),
        Action::NextTurn { .. } => "end the turn".into(),
        Action::Chat { text, .. } => format!("say \u{201c}{text}\u{201d}"),
        Action::Roll { dice, .. } => format!("roll {dice}"),
        Action::Edit { changes } => format!("edit {} things", changes.len()),
    }
}
