//! Requests and roles in words, for the GM's queue and the toasts.

use shared::{
    action::Action,
    encounter::Phase,
    id::{ActorId, EncounterId, TokenId},
    rules::Role,
    store::Store,
    token::HpShown,
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

/// The compass direction from one cell to another, north up the screen;
/// `None` for the same cell.
fn heading(from: shared::geometry::Cell, to: shared::geometry::Cell) -> Option<&'static str> {
    let (dx, dy) = (f64::from(to.0 - from.0), f64::from(to.1 - from.1));
    if dx == 0.0 && dy == 0.0 {
        return None;
    }
    const POINTS: [&str; 8] = [
        "east",
        "north-east",
        "north",
        "north-west",
        "west",
        "south-west",
        "south",
        "south-east",
    ];
    // Eighths of a turn, counter-clockwise from east (screen y points down).
    let eighth = ((-dy).atan2(dx) / std::f64::consts::FRAC_PI_4).round();
    Some(POINTS[(eighth as i64).rem_euclid(8) as usize])
}

/// A request in the GM's queue, where the token still stands where it
/// started: a move reads as a direction ("move Goblin north-east") that
/// the arrow on the GM's map shows, the distance beside it in the
/// context. Elsewhere (a player's toasts, where the move already shows)
/// it reads as [`action`].
pub fn queued(asked: &Action, view: Option<&Store>) -> String {
    if let Action::MoveToken { token, to } = asked
        && let Some(store) = view
        && let Some(t) = store.token(*token)
        && let Some(e) = store.encounter(t.encounter)
        && let Some(heading) = heading(e.map.token_cell(t.position), e.map.token_cell(*to))
    {
        return format!("move {} {heading}", t.name);
    }
    action(asked, view)
}

/// "1 cell", "3 cells".
fn cell_count(n: usize) -> String {
    if n == 1 {
        "1 cell".into()
    } else {
        format!("{n} cells")
    }
}

/// What a request asks, in a short sentence ("move Goblin to column 4, row 2").
pub fn action(action: &Action, view: Option<&Store>) -> String {
    match action {
        Action::MoveToken { token, to } => {
            let cell = view
                .and_then(|v| v.token(*token))
                .and_then(|t| view.and_then(|v| v.encounter(t.encounter)))
                .map(|e| e.map.token_cell(*to));
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
        Action::RotateToken { token, degrees } => {
            format!("turn {} to {degrees:.0}°", token_name(view, *token))
        }
        Action::MoveTokens { moves } => {
            let names: Vec<String> = moves
                .iter()
                .take(4)
                .map(|m| token_name(view, m.token))
                .collect();
            let more = moves.len().saturating_sub(names.len());
            if more > 0 {
                format!("move {} and {more} more together", names.join(", "))
            } else {
                format!("move {} together", names.join(", "))
            }
        }
        Action::PlaceToken { token, .. } => format!("put {} on the map", token.name),
        Action::RemoveToken { token } => {
            format!("take {} off the map", token_name(view, *token))
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
        Action::SetHpShown { token, shown } => format!(
            "show {}'s hit points to {}",
            token_name(view, *token),
            match shown {
                HpShown::Everyone => "everyone",
                HpShown::Owner => "its owner",
                HpShown::Gm => "the GM only",
            }
        ),
        Action::RevealFog { cells, .. } => format!("reveal {}", cell_count(cells.len())),
        Action::HideFog { cells, .. } => format!("cover {}", cell_count(cells.len())),
        Action::SetFog { enabled: true, .. } => "turn the fog of war on".into(),
        Action::SetFog { enabled: false, .. } => "turn the fog of war off".into(),
        Action::StartCombat { order, .. } => format!("start combat with {} tokens", order.len()),
        Action::RollInitiative { tokens, .. } => {
            format!("roll initiative for {} tokens", tokens.len())
        }
        Action::JoinInitiative { token, .. } => {
            format!("roll initiative for {}", token_name(view, *token))
        }
        Action::NextTurn { .. } => "end the turn".into(),
        Action::EndCombat { .. } => "end combat".into(),
        Action::Chat { text, .. } => format!("say \u{201c}{text}\u{201d}"),
        Action::ShowHandout { handout, .. } => format!("show {}", handout.name.as_str()),
        Action::Roll { dice, .. } => format!("roll {dice}"),
        Action::RollCheck {
            actor, check, edge, ..
        } => format!(
            "roll {} for {}{}",
            check.label(),
            actor_name(view, *actor),
            edge.words()
        ),
        Action::RollAttack {
            actor,
            attack,
            edge,
            ..
        } => {
            let name = view
                .and_then(|v| v.actor(*actor))
                .and_then(|a| a.attacks.get(*attack))
                .map_or_else(|| "an attack".to_owned(), |a| a.name.clone());
            format!(
                "attack with {name} as {}{}",
                actor_name(view, *actor),
                edge.words()
            )
        }
        // No "was": a requester's own view already shows the new value.
        Action::SetStat { actor, stat, value } => format!(
            "set {}'s {} to {value}",
            actor_name(view, *actor),
            stat.label().to_lowercase()
        ),
        Action::SetProficiency {
            actor,
            check,
            proficient,
        } => format!(
            "make {} {} in {}",
            actor_name(view, *actor),
            if *proficient {
                "proficient"
            } else {
                "no longer proficient"
            },
            check.label()
        ),
        Action::Edit { changes } => format!("edit {} things", changes.len()),
        Action::Undo { .. } => "take back a change".into(),
        Action::Draw { .. } => "draw on the map".into(),
        Action::Erase { drawings } => match drawings.len() {
            1 => "erase a drawing".into(),
            n => format!("erase {n} drawings"),
        },
        Action::BuildWalls { walls } => match walls.len() {
            1 => "build a wall".into(),
            n => format!("build {n} walls"),
        },
        Action::RemoveWalls { walls } => match walls.len() {
            1 => "remove a wall".into(),
            n => format!("remove {n} walls"),
        },
        Action::SetDoor { state, .. } => match state {
            shared::wall::DoorState::Open => "open a door".into(),
            shared::wall::DoorState::Closed => "close a door".into(),
            shared::wall::DoorState::Locked => "lock a door".into(),
        },
    }
}

/// What the GM should know beside a request: how far a move goes against
/// the token's speed, what hit points become, what the token already has,
/// and where combat stands.
pub fn context(action: &Action, view: Option<&Store>) -> Vec<String> {
    let Some(view) = view else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    let mut encounter = None::<EncounterId>;
    match action {
        Action::MoveToken { token, to } => {
            if let Some(t) = view.token(*token)
                && let Some(e) = view.encounter(t.encounter)
            {
                encounter = Some(e.id);
                let feet = e.map.feet_moved(t.position, *to);
                let speed = t.actor.and_then(|a| view.actor(a)).map(|a| a.speed);
                lines.push(match speed {
                    Some(speed) => format!("{feet} ft (speed {speed} ft)"),
                    None => format!("{feet} ft"),
                });
            }
        }
        Action::AdjustHp { actor, delta } => {
            if let Some(hp) = view.actor(*actor).and_then(|a| a.hp) {
                lines.push(format!(
                    "HP {} / {} \u{2192} {}",
                    hp.current,
                    hp.max,
                    hp.current + delta
                ));
            }
        }
        Action::SetStat { actor, stat, .. } => {
            let now = view.actor(*actor).and_then(|a| stat.value(a));
            lines.push(match now {
                Some(now) => format!("now {now}"),
                None => "not set yet".into(),
            });
        }
        Action::AddCondition { token, .. } | Action::RemoveCondition { token, .. } => {
            if let Some(t) = view.token(*token) {
                encounter = Some(t.encounter);
                if !t.conditions.is_empty() {
                    let now: Vec<&str> = t.conditions.iter().map(String::as_str).collect();
                    lines.push(format!("now {}", now.join(", ")));
                }
            }
        }
        _ => {}
    }
    let combat = encounter
        .or_else(|| view.entities().encounters.keys().next().copied())
        .and_then(|id| view.encounter(id))
        .map(|e| &e.initiative)
        .filter(|i| i.phase == Phase::Combat);
    if let Some(initiative) = combat {
        let turn = initiative
            .current()
            .map(|t| format!(", {}\u{2019}s turn", token_name(Some(view), t)))
            .unwrap_or_default();
        lines.push(format!("round {}{turn}", initiative.round));
    }
    lines
}

/// What a commit changed, in words: each thing it touched and how
/// ("Goblin: moved, the table: chat and dice"), the first few.
pub fn changes(changes: &[shared::change::Change], view: Option<&Store>) -> String {
    use shared::{change::Op, path::Entity};
    const SAID: usize = 3;
    let mut said: Vec<String> = Vec::new();
    for change in changes {
        let Some(entity) = change.path.entity() else {
            continue;
        };
        let name = match entity {
            Entity::Token(id) => view
                .and_then(|v| v.token(id))
                .map_or_else(|| "a token".to_owned(), |t| t.name.clone()),
            Entity::Actor(id) => view
                .and_then(|v| v.actor(id))
                .map_or_else(|| "an actor".to_owned(), |a| a.name.clone()),
            Entity::Item(_) => "an item".to_owned(),
            Entity::Effect(_) => "an effect".to_owned(),
            Entity::Drawing(_) => "a drawing".to_owned(),
            Entity::Wall(id) => match view.and_then(|v| v.wall(id)) {
                Some(w) if w.kind == shared::wall::WallKind::Door => "a door".to_owned(),
                _ => "a wall".to_owned(),
            },
            Entity::Encounter(_) => "the table".to_owned(),
        };
        let segments = change.path.segments();
        let drawing = matches!(entity, Entity::Drawing(_));
        let how = match (segments.get(2).map(String::as_str), &change.op) {
            (None, Op::Delete) if drawing => "erased".to_owned(),
            (None, _) if drawing => "drawn".to_owned(),
            (None, Op::Delete) => "removed".to_owned(),
            (None, _) => "added".to_owned(),
            (Some("position"), _) => "moved".to_owned(),
            (Some("door"), Op::Set(state)) => state.as_str().unwrap_or("changed").to_owned(),
            (Some("rotation"), _) => "turned".to_owned(),
            (Some("log"), _) => "chat and dice".to_owned(),
            (Some("initiative"), _) => "turn order".to_owned(),
            // The map's own settings say which one.
            (Some("map"), _) => segments
                .get(3)
                .map_or_else(|| "map".to_owned(), |field| field.replace('_', " ")),
            (Some(field), _) => field.replace('_', " "),
        };
        let part = format!("{name}: {how}");
        if !said.contains(&part) {
            said.push(part);
        }
    }
    let more = said.len().saturating_sub(SAID);
    said.truncate(SAID);
    let mut text = said.join(", ");
    if more > 0 {
        text.push_str(&format!(" and {more} more"));
    }
    if text.is_empty() {
        text.push_str("nothing to see");
    }
    text
}

#[cfg(test)]
mod tests {
    use shared::{change::Change, geometry::Point, path::Path};

    use super::*;

    fn table() -> (Store, TokenId, ActorId) {
        let encounter = EncounterId(uuid::Uuid::from_u128(1));
        let token = TokenId(uuid::Uuid::from_u128(2));
        let actor = ActorId(uuid::Uuid::from_u128(3));
        let set = |path: String, value: serde_json::Value| {
            Change::set(Path::parse(&path).unwrap(), value)
        };
        let mut store = Store::new();
        store
            .apply_all(&[
                set(
                    format!("encounters/{encounter}"),
                    serde_json::json!({"id": encounter, "name": "Bridge", "map": {"grid_size": 50.0}}),
                ),
                set(
                    format!("actors/{actor}"),
                    serde_json::json!({"id": actor, "name": "Aria", "kind": "character", "hp": {"current": 12, "max": 20}, "speed": 30}),
                ),
                set(
                    format!("tokens/{token}"),
                    serde_json::json!({"id": token, "encounter": encounter, "actor": actor, "name": "Aria", "position": {"x": 0.0, "y": 0.0}}),
                ),
            ])
            .unwrap();
        (store, token, actor)
    }

    #[test]
    fn the_queue_tells_the_gm_distance_against_speed_and_hit_points() {
        let (store, token, actor) = table();
        let far = Action::MoveToken {
            token,
            to: Point::new(400.0, 100.0),
        };
        assert_eq!(context(&far, Some(&store)), vec!["40 ft (speed 30 ft)"]);
        assert_eq!(action(&far, Some(&store)), "move Aria to column 9, row 3");
        assert_eq!(queued(&far, Some(&store)), "move Aria east");
        let up_left = Action::MoveToken {
            token,
            to: Point::new(-200.0, -180.0),
        };
        assert_eq!(queued(&up_left, Some(&store)), "move Aria north-west");
        let nowhere = Action::MoveToken {
            token,
            to: Point::new(10.0, 10.0),
        };
        assert_eq!(
            queued(&nowhere, Some(&store)),
            "move Aria to column 1, row 1"
        );
        let hurt = Action::AdjustHp { actor, delta: -5 };
        assert_eq!(context(&hurt, Some(&store)), vec!["HP 12 / 20 \u{2192} 7"]);
        assert!(context(&hurt, None).is_empty());
        let faster = Action::SetStat {
            actor,
            stat: shared::sheet::Stat::Speed,
            value: 35,
        };
        assert_eq!(action(&faster, Some(&store)), "set Aria's speed to 35");
        assert_eq!(context(&faster, Some(&store)), vec!["now 30"]);
    }

    #[test]
    fn a_recent_change_says_what_it_touched_and_how() {
        let (store, token, actor) = table();
        let at = |path: String| Path::parse(&path).unwrap();
        let moved = [
            Change::set(
                at(format!("tokens/{token}/position")),
                serde_json::json!({"x": 50.0, "y": 0.0}),
            ),
            Change::set(
                at(format!("actors/{actor}/hp")),
                serde_json::json!({"current": 7, "max": 20}),
            ),
            Change::set(
                at(format!("tokens/{token}/position")),
                serde_json::json!({"x": 60.0, "y": 0.0}),
            ),
        ];
        assert_eq!(changes(&moved, Some(&store)), "Aria: moved, Aria: hp");
        let gone = [Change::delete(at(format!("tokens/{token}")))];
        assert_eq!(changes(&gone, Some(&store)), "Aria: removed");
        assert_eq!(changes(&gone, None), "a token: removed");
        assert_eq!(changes(&[], None), "nothing to see");
        let drawing = shared::id::DrawingId(uuid::Uuid::from_u128(9));
        let erased = [Change::delete(at(format!("drawings/{drawing}")))];
        assert_eq!(changes(&erased, None), "a drawing: erased");
        let encounter = EncounterId(uuid::Uuid::from_u128(1));
        let leave = [Change::set(
            at(format!("encounters/{encounter}/map/players_draw")),
            serde_json::json!(true),
        )];
        assert_eq!(changes(&leave, None), "the table: players draw");
    }
}
