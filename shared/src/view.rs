//! What each participant may see: the snapshot and every commit, filtered
//! per recipient before it is sent.
//!
//! The GM and assistant GMs see everything. Players and observers see
//! tokens visible to players, the actors they own or that stand on the map
//! as a visible token, what those actors carry, and effects whose tokens
//! they all see. Something hidden is absent, not marked: a player's socket
//! never carries a `gm_only` or `hidden` token, nor a hint that it exists.
//! When a token is revealed the player receives it whole; when it is
//! hidden, a deletion.

use std::collections::{BTreeMap, BTreeSet};

use crate::{
    change::{Change, Commit},
    id::{ActorId, EffectId, ItemId, TokenId, UserId},
    path::Path,
    rules::Participant,
    store::{Entities, Store, to_value},
};

/// Whether a player (`user`) sees the token: it exists and is visible.
fn token_seen(entities: &Entities, token: TokenId) -> bool {
    entities
        .tokens
        .get(&token)
        .is_some_and(|t| t.visibility.players_see())
}

fn actor_seen(entities: &Entities, user: UserId, actor: ActorId) -> bool {
    entities
        .actors
        .get(&actor)
        .is_some_and(|a| a.owner == Some(user))
        || entities
            .tokens
            .values()
            .any(|t| t.actor == Some(actor) && t.visibility.players_see())
}

/// The part of the state `who` may see.
pub fn entities_for(who: &Participant, entities: &Entities) -> Entities {
    if who.role.is_gm() {
        return entities.clone();
    }
    let actors: BTreeMap<_, _> = entities
        .actors
        .iter()
        .filter(|(id, _)| actor_seen(entities, who.user, **id))
        .map(|(id, actor)| (*id, actor.clone()))
        .collect();
    Entities {
        items: entities
            .items
            .iter()
            .filter(|(_, item)| item.owner.is_some_and(|owner| actors.contains_key(&owner)))
            .map(|(id, item)| (*id, item.clone()))
            .collect(),
        encounters: entities.encounters.clone(),
        tokens: entities
            .tokens
            .iter()
            .filter(|(_, token)| token.visibility.players_see())
            .map(|(id, token)| (*id, token.clone()))
            .collect(),
        effects: entities
            .effects
            .iter()
            .filter(|(_, effect)| {
                effect
                    .targets
                    .iter()
                    .chain(effect.source.iter())
                    .all(|token| token_seen(entities, *token))
            })
            .map(|(id, effect)| (*id, effect.clone()))
            .collect(),
        actors,
    }
}

/// Whether players saw each token and effect a commit touches, before it
/// applied. The server computes this on the state before the commit and
/// passes it to [`commit_for`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeenBefore {
    tokens: BTreeMap<TokenId, bool>,
    effects: BTreeMap<EffectId, bool>,
}

impl SeenBefore {
    /// Reads the state before `changes` apply.
    pub fn new(store: &Store, changes: &[Change]) -> Self {
        let entities = store.entities();
        let mut seen = Self::default();
        for change in changes {
            if let Some(token) = token_of(&change.path) {
                seen.tokens.insert(token, token_seen(entities, token));
            }
            if let Some(effect) = effect_of(&change.path) {
                seen.effects.insert(effect, effect_seen(entities, effect));
            }
        }
        seen
    }
}

fn effect_seen(entities: &Entities, effect: EffectId) -> bool {
    entities.effects.get(&effect).is_some_and(|effect| {
        effect
            .targets
            .iter()
            .chain(effect.source.iter())
            .all(|token| token_seen(entities, *token))
    })
}

/// The commit as `who` receives it: same version (so gaps stay detectable),
/// with only the changes they may see. `before` is
/// [`tokens_seen_before`]; `after` is the state once the commit applied.
pub fn commit_for(
    who: &Participant,
    commit: &Commit,
    before: &SeenBefore,
    after: &Store,
) -> Commit {
    if who.role.is_gm() {
        return commit.clone();
    }
    let entities = after.entities();
    let mut changes = Vec::with_capacity(commit.changes.len());
    let mut replaced: BTreeSet<TokenId> = BTreeSet::new();
    for change in &commit.changes {
        let segments = change.path.segments();
        let keep = match segments.first().map(String::as_str) {
            Some("tokens") => {
                let Some(token) = token_of(&change.path) else {
                    continue;
                };
                let was = before.tokens.get(&token).copied().unwrap_or(false);
                match (was, token_seen(entities, token)) {
                    (true, true) => true,
                    (false, false) => false,
                    // Revealed: the whole token, once. Hidden: gone, once.
                    (false, true) => {
                        if replaced.insert(token)
                            && let Some(whole) = entities.tokens.get(&token)
                        {
                            changes.push(Change::set(token_path(token), to_value(whole)));
                        }
                        false
                    }
                    (true, false) => {
                        if replaced.insert(token) {
                            changes.push(Change::delete(token_path(token)));
                        }
                        false
                    }
                }
            }
            Some("effects") => effect_of(&change.path).is_some_and(|effect| {
                // A seen effect that ended still reaches the player.
                effect_seen(entities, effect)
                    || before.effects.get(&effect).copied().unwrap_or(false)
            }),
            Some("actors") => segments
                .get(1)
                .and_then(|id| id.parse::<ActorId>().ok())
                .is_some_and(|actor| actor_seen(entities, who.user, actor)),
            Some("items") => segments
                .get(1)
                .and_then(|id| id.parse::<ItemId>().ok())
                .and_then(|id| entities.items.get(&id))
                .and_then(|item| item.owner)
                .is_some_and(|owner| actor_seen(entities, who.user, owner)),
            _ => true,
        };
        if keep {
            changes.push(change.clone());
        }
    }
    Commit {
        version: commit.version,
        action: commit.action,
        changes,
    }
}

fn effect_of(path: &Path) -> Option<EffectId> {
    match path.segments() {
        [kind, id, ..] if kind == "effects" => id.parse().ok(),
        _ => None,
    }
}

fn token_of(path: &Path) -> Option<TokenId> {
    match path.segments() {
        [kind, id, ..] if kind == "tokens" => id.parse().ok(),
        _ => None,
    }
}

fn token_path(token: TokenId) -> Path {
    Path::from_segments(["tokens".to_owned(), token.to_string()])
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{authority::Authority, rules::Role, testing::*};

    fn player() -> Participant {
        Participant {
            user: UserId(uuid::Uuid::from_u128(77)),
            role: Role::Player,
        }
    }

    fn gm() -> Participant {
        Participant {
            user: UserId(uuid::Uuid::from_u128(1)),
            role: Role::Gm,
        }
    }

    /// Commits `changes` and returns what the player receives.
    fn commit_as_player(authority: &mut Authority, changes: Vec<Change>) -> Commit {
        let before = SeenBefore::new(authority.store(), &changes);
        let (commit, _) = authority.commit(None, changes).unwrap();
        commit_for(&player(), &commit, &before, authority.store())
    }

    fn hide(n: u128) -> Change {
        set(&format!("tokens/{}/visibility", tid(n)), json!("hidden"))
    }

    #[test]
    fn players_never_receive_hidden_tokens_and_the_gm_sees_all() {
        let mut store = sample();
        store.apply(&hide(2)).unwrap();
        let seen = entities_for(&player(), store.entities());
        assert!(seen.tokens.contains_key(&tid(1)));
        assert!(!seen.tokens.contains_key(&tid(2)));
        assert_eq!(entities_for(&gm(), store.entities()), *store.entities());
        let bytes = serde_json::to_string(&seen).unwrap();
        assert!(
            !bytes.contains(&tid(2).to_string()),
            "no trace of the hidden token"
        );
    }

    #[test]
    fn moves_of_hidden_tokens_are_dropped_but_the_version_arrives() {
        let mut authority = Authority::new(sample(), 0);
        authority.commit(None, vec![hide(2)]).unwrap();
        let received = commit_as_player(
            &mut authority,
            vec![
                set(
                    &format!("tokens/{}/position", tid(2)),
                    json!({"x": 1.0, "y": 1.0}),
                ),
                set(
                    &format!("tokens/{}/position", tid(1)),
                    json!({"x": 2.0, "y": 2.0}),
                ),
            ],
        );
        assert_eq!(received.version, 2);
        assert_eq!(received.changes.len(), 1);
        assert_eq!(
            received.changes[0].path,
            path(&format!("tokens/{}/position", tid(1)))
        );
    }

    #[test]
    fn a_revealed_token_arrives_whole_and_a_hidden_one_is_deleted() {
        let mut authority = Authority::new(sample(), 0);
        authority.commit(None, vec![hide(2)]).unwrap();
        let revealed = commit_as_player(
            &mut authority,
            vec![set(
                &format!("tokens/{}/visibility", tid(2)),
                json!("visible"),
            )],
        );
        assert_eq!(revealed.changes.len(), 1);
        assert_eq!(
            revealed.changes[0].path,
            path(&format!("tokens/{}", tid(2)))
        );
        let hidden = commit_as_player(&mut authority, vec![hide(1)]);
        assert_eq!(
            hidden.changes,
            [Change::delete(path(&format!("tokens/{}", tid(1))))]
        );
    }

    /// Whatever the GM does, a player who applies their filtered commits to
    /// their filtered snapshot holds exactly their filtered view of the
    /// state.
    #[test]
    fn filtered_commits_keep_a_player_in_step_with_their_view() {
        for seed in 0..300u64 {
            let mut authority = Authority::new(sample(), 0);
            let mut mirror =
                Store::from_entities(entities_for(&player(), authority.store().entities()))
                    .unwrap();
            let mut r = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            for _ in 0..20 {
                r ^= r << 13;
                r ^= r >> 7;
                r ^= r << 17;
                let change = match r % 4 {
                    0 => hide((r >> 8) as u128 % 4),
                    1 => set(
                        &format!("tokens/{}/visibility", tid((r >> 8) as u128 % 4)),
                        json!("visible"),
                    ),
                    _ => random_change(r >> 3),
                };
                let changes = vec![change];
                let before = SeenBefore::new(authority.store(), &changes);
                let Ok((commit, _)) = authority.commit(None, changes) else {
                    continue;
                };
                let received = commit_for(&player(), &commit, &before, authority.store());
                mirror
                    .apply_all(&received.changes)
                    .unwrap_or_else(|error| panic!("seed {seed}: {error} applying {received:?}"));
                assert_eq!(
                    mirror.entities().tokens,
                    entities_for(&player(), authority.store().entities()).tokens,
                    "seed {seed}"
                );
            }
        }
    }
}
