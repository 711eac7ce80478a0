//! The reactive copy of the table that the page renders: a
//! `reactive_stores` store keyed by id, kept equal to the client's view
//! (`shared::client`) one entity at a time, so that a token moving
//! re-renders that token and nothing else.

use std::collections::BTreeMap;

use leptos::prelude::*;
use reactive_stores::Store;
use shared::{
    actor::Actor,
    client::Touched,
    drawing::Drawing,
    effect::Effect,
    encounter::Encounter,
    id::{ActorId, DrawingId, EffectId, EncounterId, ItemId, TokenId, WallId},
    item::Item,
    store::Store as View,
    token::Token,
    wall::Wall,
};

/// What the page shows of the table.
#[derive(Debug, Clone, Default, Store)]
pub struct Board {
    /// Tokens by id; each one its own reactive entry.
    #[store(key: TokenId = |(id, _)| *id)]
    pub tokens: BTreeMap<TokenId, Token>,
    /// Actors by id.
    #[store(key: ActorId = |(id, _)| *id)]
    pub actors: BTreeMap<ActorId, Actor>,
    /// Encounters by id (map, initiative, fog, log).
    #[store(key: EncounterId = |(id, _)| *id)]
    pub encounters: BTreeMap<EncounterId, Encounter>,
    /// Effects by id.
    #[store(key: EffectId = |(id, _)| *id)]
    pub effects: BTreeMap<EffectId, Effect>,
    /// Items by id.
    #[store(key: ItemId = |(id, _)| *id)]
    pub items: BTreeMap<ItemId, Item>,
    /// Drawings by id.
    #[store(key: DrawingId = |(id, _)| *id)]
    pub drawings: BTreeMap<DrawingId, Drawing>,
    /// Walls by id.
    #[store(key: WallId = |(id, _)| *id)]
    pub walls: BTreeMap<WallId, Wall>,
}

/// Brings one keyed collection of the board in line with the view for the
/// ids given (all of them when `ids` is `None`). Changed entries are
/// written in place without a notification, then each one's own readers
/// are woken (not the collection's, not the other entries'); entries that
/// appeared or went away change the collection, which wakes the lists
/// iterating it. Returns whether the collection's membership changed.
macro_rules! sync_keyed {
    ($board:expr, $field:ident, $source:expr, $ids:expr) => {{
        let board = $board;
        let source = $source;
        let ids: Vec<_> = match $ids {
            Some(ids) => ids.iter().copied().collect(),
            None => {
                let mut all: std::collections::BTreeSet<_> = source.keys().copied().collect();
                all.extend(board.read_untracked().$field.keys().copied());
                all.into_iter().collect()
            }
        };
        let mut added = Vec::new();
        let mut removed = Vec::new();
        let mut changed = Vec::new();
        {
            let mut all = board.write_untracked();
            for id in ids {
                match (source.get(&id), all.$field.get_mut(&id)) {
                    (Some(now), Some(held)) => {
                        if *held != *now {
                            *held = now.clone();
                            changed.push(id);
                        }
                    }
                    (Some(now), None) => added.push((id, now.clone())),
                    (None, Some(_)) => removed.push(id),
                    (None, None) => {}
                }
            }
        }
        for id in changed {
            board.$field().at_key(id).notify();
        }
        let membership = !added.is_empty() || !removed.is_empty();
        if membership {
            let field = board.$field();
            let mut map = field.write();
            for id in removed {
                map.remove(&id);
            }
            map.extend(added);
        }
        membership
    }};
}

/// Syncs the board with `view` for what `touched` names (or everything).
/// Returns true when tokens appeared, went away or moved, which changes
/// what the map culls.
pub fn sync(board: Store<Board>, view: &View, touched: Option<&Touched>) -> bool {
    let entities = view.entities();
    let tokens_changed = match touched {
        Some(t) => !t.tokens.is_empty(),
        None => true,
    };
    sync_keyed!(board, tokens, &entities.tokens, touched.map(|t| &t.tokens));
    sync_keyed!(board, actors, &entities.actors, touched.map(|t| &t.actors));
    sync_keyed!(
        board,
        encounters,
        &entities.encounters,
        touched.map(|t| &t.encounters)
    );
    sync_keyed!(
        board,
        effects,
        &entities.effects,
        touched.map(|t| &t.effects)
    );
    sync_keyed!(board, items, &entities.items, touched.map(|t| &t.items));
    sync_keyed!(
        board,
        drawings,
        &entities.drawings,
        touched.map(|t| &t.drawings)
    );
    sync_keyed!(board, walls, &entities.walls, touched.map(|t| &t.walls));
    tokens_changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::{change::Change, path::Path};

    fn view_with(tokens: &[(u128, f64)]) -> View {
        let encounter = EncounterId(uuid::Uuid::from_u128(1));
        let mut changes = vec![Change::set(
            Path::parse(&format!("encounters/{encounter}")).unwrap(),
            serde_json::json!({"id": encounter, "name": "E"}),
        )];
        for (n, x) in tokens {
            let id = TokenId(uuid::Uuid::from_u128(*n));
            changes.push(Change::set(
                Path::parse(&format!("tokens/{id}")).unwrap(),
                serde_json::json!({"id": id, "encounter": encounter, "name": "T", "position": {"x": x, "y": 0.0}}),
            ));
        }
        let mut view = View::new();
        view.apply_all(&changes).unwrap();
        view
    }

    /// One token moving wakes the readers of that token, not those of
    /// the others.
    #[test]
    fn a_move_wakes_only_that_tokens_readers() {
        let owner = Owner::new();
        owner.set();
        let board = Store::new(Board::default());
        sync(board, &view_with(&[(1, 0.0), (2, 0.0)]), None);
        let [one, two] = [1u128, 2].map(|n| TokenId(uuid::Uuid::from_u128(n)));
        let runs = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        // A memo reruns only when what it read changed: it counts who woke.
        let readers: Vec<ArcMemo<f64>> = [one, two]
            .into_iter()
            .map(|id| {
                let runs = runs.clone();
                let entry = board.tokens().at_key(id);
                ArcMemo::new(move |_| {
                    runs.lock().unwrap().push(id);
                    entry.get().position.x
                })
            })
            .collect();
        for reader in &readers {
            reader.get();
        }
        runs.lock().unwrap().clear();

        let mut touched = Touched::default();
        touched.tokens.insert(one);
        assert!(sync(
            board,
            &view_with(&[(1, 70.0), (2, 0.0)]),
            Some(&touched)
        ));
        assert_eq!(readers[0].get(), 70.0);
        assert_eq!(readers[1].get(), 0.0);
        assert_eq!(
            *runs.lock().unwrap(),
            [one],
            "only the moved token's reader ran"
        );

        // A new token joins the collection, a snapshot without it takes it
        // away again.
        let three = TokenId(uuid::Uuid::from_u128(3));
        let mut touched = Touched::default();
        touched.tokens.insert(three);
        sync(
            board,
            &view_with(&[(1, 70.0), (2, 0.0), (3, 5.0)]),
            Some(&touched),
        );
        assert!(board.tokens().read_untracked().contains_key(&three));
        sync(board, &view_with(&[(1, 70.0), (2, 0.0)]), None);
        assert_eq!(board.tokens().read_untracked().len(), 2);
    }
}
