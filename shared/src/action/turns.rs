//! Turns: the order initiative gives, and what the end of a turn changes.

use super::*;

/// The turn order from one d20 per token: by total (the roll plus the
/// actor's bonus), highest first; ties go to the higher bonus, then to
/// the order the tokens were given in.
pub(super) fn initiative_order(
    store: &Store,
    encounter: EncounterId,
    tokens: &[TokenId],
    rolls: &[u32],
) -> Result<Vec<(TokenId, i64)>> {
    existing_encounter(store, encounter)?;
    let mut seen = std::collections::BTreeSet::new();
    let mut rolled = Vec::with_capacity(tokens.len());
    for (index, (token, roll)) in tokens.iter().zip(rolls).enumerate() {
        let found = existing_token(store, *token)?;
        if found.encounter != encounter || !seen.insert(*token) {
            return Err(Error::InvalidAction(
                "initiative is rolled once for each token of this encounter".into(),
            ));
        }
        let bonus = found
            .actor
            .and_then(|actor| store.actor(actor))
            .map_or(0, crate::actor::Actor::initiative_bonus);
        rolled.push((i64::from(*roll) + bonus, bonus, index, *token));
    }
    rolled.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
    Ok(rolled
        .into_iter()
        .map(|(total, _, _, token)| (token, total))
        .collect())
}

/// `token` joins the fight at `roll` plus its actor's bonus: after every
/// token whose total is at least its own (a token placed by hand, without
/// a total, counts as higher), the token acting now keeping its turn.
pub(super) fn join_initiative(
    store: &Store,
    encounter: EncounterId,
    token: TokenId,
    roll: u32,
    by: UserId,
) -> Result<Vec<Change>> {
    let initiative = &existing_encounter(store, encounter)?.initiative;
    if initiative.phase != Phase::Combat {
        return Err(Error::InvalidAction(
            "combat has not started: the GM rolls initiative to start it".into(),
        ));
    }
    let found = existing_token(store, token)?;
    if found.encounter != encounter {
        return Err(Error::InvalidAction(
            "the token is not on this encounter".into(),
        ));
    }
    if initiative.order.contains(&token) {
        return Err(Error::InvalidAction(
            "this token already has its place in the order".into(),
        ));
    }
    if !(1..=20).contains(&roll) {
        return Err(Error::InvalidAction("initiative is one d20".into()));
    }
    let bonus = found
        .actor
        .and_then(|actor| store.actor(actor))
        .map_or(0, crate::actor::Actor::initiative_bonus);
    let total = i64::from(roll) + bonus;
    let at = initiative
        .order
        .iter()
        .position(|t| initiative.totals.get(t).is_some_and(|other| *other < total))
        .unwrap_or(initiative.order.len());
    let mut joined = initiative.clone();
    joined.order.insert(at, token);
    joined.totals.insert(token, total);
    if at <= joined.turn as usize && initiative.order.len() > joined.turn as usize {
        joined.turn += 1;
    }
    let text = format!(
        "{} rolls initiative: {roll} {} → {total}",
        found.name,
        crate::sheet::signed(bonus)
    );
    let mut changes = vec![Change::set(
        Entity::Encounter(encounter).at(&["initiative"]),
        to_value(&joined),
    )];
    changes.extend(log_line(encounter, by, LogKind::Roll, text));
    Ok(changes)
}

pub(super) fn next_turn(store: &Store, encounter: EncounterId) -> Result<Vec<Change>> {
    let initiative = &existing_encounter(store, encounter)?.initiative;
    if initiative.phase != Phase::Combat || initiative.order.is_empty() {
        return Err(Error::InvalidAction(
            "the encounter is not in combat".into(),
        ));
    }
    let next = initiative.turn + 1;
    if (next as usize) < initiative.order.len() {
        return Ok(vec![Change::set(
            Entity::Encounter(encounter).at(&["initiative", "turn"]),
            next,
        )]);
    }
    // A new round: back to the top, and effects on this encounter's tokens
    // count down, ending at zero.
    let mut changes = vec![
        Change::set(Entity::Encounter(encounter).at(&["initiative", "turn"]), 0),
        Change::increment(Entity::Encounter(encounter).at(&["initiative", "round"]), 1),
    ];
    let mut effects: Vec<&Effect> = store
        .tokens_in(encounter)
        .flat_map(|token| store.effects_on(token.id))
        .filter(|effect| effect.remaining_rounds.is_some())
        .collect();
    effects.sort_by_key(|effect| effect.id);
    effects.dedup_by_key(|effect| effect.id);
    for effect in effects {
        let path = Entity::Effect(effect.id).path();
        changes.push(match effect.remaining_rounds {
            Some(0 | 1) => Change::delete(path),
            _ => Change::increment(path.child("remaining_rounds"), -1),
        });
    }
    Ok(changes)
}
