//! What each participant may see: the snapshot and every commit, filtered
//! per recipient before it is sent.
//!
//! The GM and assistant GMs see everything. A player sees:
//! - a token when it is visible to players and either stands for an
//!   actor the player owns (you always know where you are) or stands
//!   where the fog of war is lifted (fog off, or a cell under it
//!   revealed) and, on a map where walls hide
//!   ([`MapSettings::vision`]), in sight of a token of theirs: a line
//!   from its middle to the token's middle or a point just inside a
//!   corner passes no wall that stops sight;
//! - an actor they own, or one standing on the map as a token they see;
//!   its hit points only when a token of it allows (see [`HpShown`]): for
//!   the actor's owner, unless a token of it keeps them for the GM; for
//!   anyone else, when a token of it they see shows them to everyone;
//! - an item carried by an actor they see;
//! - an effect whose targets and source they all see;
//! - a drawing they drew, or one where the fog is lifted (any cell under
//!   it) and, where walls hide, in sight as a token is;
//! - every wall (see [`crate::wall`]);
//! - every encounter, with only the tokens they see in its turn order and
//!   the log lines meant for them (a whisper or a secret roll names its
//!   readers: [`crate::encounter::LogEntry::to`]).
//!
//! Something a player does not see is absent, not marked: their socket
//! never carries a `gm_only`, `hidden` or fogged token, nor a hint that it
//! exists, nor hit points they may not read (the actor arrives without
//! them). When something comes into sight the player receives it whole;
//! when it leaves, a deletion. Observers see what a player who owns nothing
//! sees.
//!
//! Sight changes with the state, so a commit is filtered against the state
//! before it ([`SeenBefore`], recorded by the server before applying) and
//! after it (the store).

mod commit;
mod explored;
pub mod polygon;
mod seeing;

use commit::Followed;
pub use commit::{CommitView, SeenBefore, commit_for};
pub use explored::{check_explored, explored};
use seeing::{Eye, Lamp, Seeing, SightCache, Surroundings, WallGrid};
pub use seeing::{EyeView, LightView, View, view};

use std::{
    borrow::Cow,
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
};

use crate::{
    actor::{Actor, ActorKind},
    change::{Change, Commit, Op},
    drawing::Drawing,
    encounter::{Encounter, Fog, Initiative, MapSettings},
    geometry::{Point, Rect},
    id::{ActorId, DrawingId, EffectId, EncounterId, ItemId, TokenId, UserId, WallId},
    path::Path,
    rules::Participant,
    store::{Entities, Store, to_value},
    token::{HpShown, Token},
    wall::Wall,
};
use polygon::Segment;

/// Whether `user`, a player, sees the token now.
pub fn token_seen(store: &Store, user: UserId, token: TokenId) -> bool {
    World::after(store).token_seen(user, token)
}

/// Whether `user`, a player, sees the actor now.
pub fn actor_seen(store: &Store, user: UserId, actor: ActorId) -> bool {
    World::after(store).actor_seen(user, actor)
}

/// Whether `user`, a player, may read the actor's hit points now.
pub fn hp_seen(store: &Store, user: UserId, actor: ActorId) -> bool {
    World::after(store).hp_seen(user, actor)
}

/// Whether `user` may watch the token being dragged to `at`: they see the
/// token, and see it there (the drag does not pull it out of the fog
/// without the drop being decided).
pub fn preview_seen(store: &Store, user: UserId, token: TokenId, at: Point) -> bool {
    let world = World::after(store);
    let Some(found) = store.token(token) else {
        return false;
    };
    let moved = Token {
        position: at,
        ..found.clone()
    };
    world.token_seen(user, token) && world.sees(user, &moved)
}

/// Whether `user`, a player, sees the drawing now.
pub fn drawing_seen(store: &Store, user: UserId, drawing: DrawingId) -> bool {
    World::after(store).drawing_seen(user, drawing)
}

/// Whether `user`, a player, sees the place `at` of an encounter's map:
/// the fog is off or lifted there and, where walls hide, a token of
/// theirs sees it.
pub fn point_seen(store: &Store, user: UserId, encounter: EncounterId, at: Point) -> bool {
    let world = World::after(store);
    let here = Rect::from_origin(at, 0.0, 0.0);
    world.grid_and_fog(encounter).is_some_and(|(map, fog)| {
        fog.shows(map, &here) && (!map.vision || world.in_sight(user, encounter, &here))
    })
}

/// The part of the state `who` may see.
pub fn entities_for(who: &Participant, store: &Store) -> Entities {
    let entities = store.entities();
    if who.role.is_gm_or_assistant() {
        return entities.clone();
    }
    let cache = SightCache::default();
    let world = World::after_with(store, &cache);
    let user = who.user;
    Entities {
        actors: entities
            .actors
            .iter()
            .filter(|(id, _)| world.actor_seen(user, **id))
            .map(|(id, actor)| (*id, world.actor_for(user, actor)))
            .collect(),
        items: entities
            .items
            .iter()
            .filter(|(id, _)| world.item_seen(user, **id))
            .map(|(id, item)| (*id, item.clone()))
            .collect(),
        encounters: entities
            .encounters
            .iter()
            .map(|(id, encounter)| (*id, world.encounter_for(user, encounter)))
            .collect(),
        tokens: entities
            .tokens
            .iter()
            .filter(|(_, token)| world.sees(user, token))
            .map(|(id, token)| (*id, token.clone()))
            .collect(),
        effects: entities
            .effects
            .iter()
            .filter(|(id, _)| world.effect_seen(user, **id))
            .map(|(id, effect)| (*id, effect.clone()))
            .collect(),
        drawings: entities
            .drawings
            .values()
            .filter(|drawing| world.sees_drawing(user, drawing))
            .map(|drawing| (drawing.id, drawing.clone()))
            .collect(),
        walls: entities.walls.clone(),
    }
}

/// The state as sight reads it: the store after a commit, or, with what
/// the commit touched put back, the state before it.
#[derive(Clone, Copy)]
struct World<'a> {
    store: &'a Store,
    before: Option<&'a SeenBefore>,
    /// What each player sees by, kept while this world is asked about many
    /// tokens (a commit's filter, a snapshot).
    cache: Option<&'a SightCache>,
}

impl<'a> World<'a> {
    fn after(store: &'a Store) -> Self {
        Self {
            store,
            before: None,
            cache: None,
        }
    }

    /// The store as it is, remembering what each player sees by in `cache`.
    fn after_with(store: &'a Store, cache: &'a SightCache) -> Self {
        Self {
            store,
            before: None,
            cache: Some(cache),
        }
    }

    fn token(&self, id: TokenId) -> Option<&'a Token> {
        match self.before.and_then(|b| b.tokens.get(&id)) {
            Some(was) => was.as_ref(),
            None => self.store.token(id),
        }
    }

    /// What sight reads of an actor; `None` when there is no such actor.
    fn actor_sight(&self, id: ActorId) -> Option<ActorSight> {
        match self.before.and_then(|b| b.actors.get(&id)) {
            Some(was) => *was,
            None => self.store.actor(id).map(ActorSight::of),
        }
    }

    /// The actor's owner; `None` when there is no such actor.
    fn actor_owner(&self, id: ActorId) -> Option<Option<UserId>> {
        self.actor_sight(id).map(|a| a.owner)
    }

    fn item_owner(&self, id: ItemId) -> Option<Option<ActorId>> {
        match self.before.and_then(|b| b.items.get(&id)) {
            Some(was) => *was,
            None => self.store.item(id).map(|i| i.owner),
        }
    }

    fn grid_and_fog(&self, id: EncounterId) -> Option<(&'a MapSettings, &'a Fog)> {
        match self.before.and_then(|b| b.encounters.get(&id)) {
            Some(was) => was.as_ref().map(|(map, fog)| (map, fog)),
            None => self.store.encounter(id).map(|e| (&e.map, &e.fog)),
        }
    }

    /// The tokens standing for an actor.
    fn tokens_of(&self, actor: ActorId) -> impl Iterator<Item = TokenId> + use<'a> {
        let before = self.before;
        let now = self
            .store
            .tokens_of(actor)
            .map(|t| t.id)
            .filter(move |id| before.is_none_or(|b| !b.tokens.contains_key(id)));
        let was = before
            .into_iter()
            .flat_map(|b| b.tokens.values())
            .flatten()
            .filter(move |t| t.actor == Some(actor))
            .map(|t| t.id);
        now.chain(was)
    }

    /// Whether `user` sees `token` (as it stands in this world).
    fn sees(&self, user: UserId, token: &Token) -> bool {
        if !token.visibility.players_see() {
            return false;
        }
        if self.owns(user, token) {
            return true;
        }
        self.grid_and_fog(token.encounter)
            .is_some_and(|(map, fog)| {
                let bounds = token.bounds(map.grid_size);
                let in_sight = || self.in_sight(user, token.encounter, &bounds);
                fog.shows(map, &bounds)
                    && (!map.vision
                        || match self.cache {
                            Some(cache) => cache.token(user, token.id, in_sight),
                            None => in_sight(),
                        })
            })
    }

    /// Whether `token` stands for an actor `user` owns.
    fn owns(&self, user: UserId, token: &Token) -> bool {
        token
            .actor
            .and_then(|a| self.actor_owner(a))
            .is_some_and(|owner| owner == Some(user))
    }

    /// The tokens on an encounter's map, as they stand in this world.
    fn tokens_in(&self, encounter: EncounterId) -> impl Iterator<Item = &'a Token> + use<'a> {
        let before = self.before;
        let now = self
            .store
            .tokens_in(encounter)
            .filter(move |t| before.is_none_or(|b| !b.tokens.contains_key(&t.id)));
        let was = before
            .into_iter()
            .flat_map(|b| b.tokens.values())
            .flatten()
            .filter(move |t| t.encounter == encounter);
        now.chain(was)
    }

    /// The walls on an encounter's map, as they stand in this world.
    fn walls_in(&self, encounter: EncounterId) -> impl Iterator<Item = &'a Wall> + use<'a> {
        let before = self.before;
        let now = self
            .store
            .walls_in(encounter)
            .filter(move |w| before.is_none_or(|b| !b.walls.contains_key(&w.id)));
        let was = before
            .into_iter()
            .flat_map(|b| b.walls.values())
            .flatten()
            .filter(move |w| w.encounter == encounter);
        now.chain(was)
    }

    /// Whether a token of `user`'s on the encounter's map sees some of
    /// `area` ([`Seeing::sees_area`]).
    fn in_sight(&self, user: UserId, encounter: EncounterId, area: &Rect) -> bool {
        match self.cache {
            Some(cache) => cache
                .get(user, encounter, || self.seeing(user, encounter))
                .is_some_and(|seeing| seeing.sees_area(area)),
            None => self
                .seeing(user, encounter)
                .is_some_and(|seeing| seeing.sees_area(area)),
        }
    }

    /// What `user` sees by on an encounter's map: their tokens there that
    /// players see, its walls that stop sight, every light on it. `None`
    /// when they have no token there or there is no such map.
    fn seeing(&self, user: UserId, encounter: EncounterId) -> Option<Seeing> {
        let (map, _) = self.grid_and_fog(encounter)?;
        let eyes: Vec<Eye> = self
            .tokens_in(encounter)
            .filter(|t| t.visibility.players_see() && self.owns(user, t))
            .map(|t| Eye::of(t, map))
            .collect();
        if eyes.is_empty() {
            return None;
        }
        let build = || {
            let walls = WallGrid::new(
                self.walls_in(encounter)
                    .filter(|w| w.blocks_sight())
                    .map(Wall::segment)
                    .collect(),
            );
            let lamps = if map.daylight {
                Vec::new()
            } else {
                self.tokens_in(encounter)
                    .filter_map(|t| Lamp::of(t, map))
                    .collect()
            };
            Arc::new(Surroundings {
                walls,
                lamps,
                daylight: map.daylight,
            })
        };
        let around = match self.cache {
            Some(cache) => cache.around(encounter, build),
            None => build(),
        };
        Some(Seeing { eyes, around })
    }

    fn drawing(&self, id: DrawingId) -> Option<&'a Drawing> {
        match self.before.and_then(|b| b.drawings.get(&id)) {
            Some(was) => was.as_ref(),
            None => self.store.drawing(id),
        }
    }

    /// Whether `user` sees `drawing`: they drew it, or the fog shows some
    /// of it (and, where walls hide, a token of theirs sees some of it).
    fn sees_drawing(&self, user: UserId, drawing: &Drawing) -> bool {
        drawing.author == user
            || self
                .grid_and_fog(drawing.encounter)
                .is_some_and(|(map, fog)| {
                    let bounds = drawing.bounds();
                    fog.shows(map, &bounds)
                        && (!map.vision || self.in_sight(user, drawing.encounter, &bounds))
                })
    }

    fn drawing_seen(&self, user: UserId, id: DrawingId) -> bool {
        self.drawing(id).is_some_and(|d| self.sees_drawing(user, d))
    }

    fn token_seen(&self, user: UserId, id: TokenId) -> bool {
        self.token(id).is_some_and(|t| self.sees(user, t))
    }

    fn actor_seen(&self, user: UserId, id: ActorId) -> bool {
        match self.actor_owner(id) {
            None => false,
            Some(owner) => {
                owner == Some(user) || self.tokens_of(id).any(|t| self.token_seen(user, t))
            }
        }
    }

    /// Whether `user` may read the actor's hit points: they see the actor,
    /// and either own it and no token of it keeps them for the GM, or see
    /// a token of it that shows them to everyone.
    fn hp_seen(&self, user: UserId, id: ActorId) -> bool {
        let Some(actor) = self.actor_sight(id) else {
            return false;
        };
        let mut tokens = self.tokens_of(id).filter_map(|t| self.token(t));
        if actor.owner == Some(user) {
            tokens.all(|t| t.hp_shown_for(actor.kind) != HpShown::Gm)
        } else {
            tokens.any(|t| t.hp_shown_for(actor.kind) == HpShown::Everyone && self.sees(user, t))
        }
    }

    /// The actor as `user` receives it: without hit points they may not
    /// read.
    fn actor_for(&self, user: UserId, actor: &Actor) -> Actor {
        let mut shown = actor.clone();
        if !self.hp_seen(user, actor.id) {
            shown.hp = None;
        }
        shown
    }

    fn item_seen(&self, user: UserId, id: ItemId) -> bool {
        self.item_owner(id)
            .flatten()
            .is_some_and(|actor| self.actor_seen(user, actor))
    }

    fn effect_seen(&self, user: UserId, id: EffectId) -> bool {
        match self.before.and_then(|b| b.effects.get(&id)) {
            Some(was) => was
                .as_ref()
                .is_some_and(|tokens| tokens.iter().all(|t| self.token_seen(user, *t))),
            None => self.store.effect(id).is_some_and(|e| {
                e.targets
                    .iter()
                    .chain(&e.source)
                    .all(|t| self.token_seen(user, *t))
            }),
        }
    }

    fn seen(&self, user: UserId, entity: Followed) -> bool {
        match entity {
            Followed::Token(id) => self.token_seen(user, id),
            Followed::Actor(id) => self.actor_seen(user, id),
            // Followed only while the actor stays in sight.
            Followed::Hp(id) => self.actor_seen(user, id) && self.hp_seen(user, id),
            Followed::Item(id) => self.item_seen(user, id),
            Followed::Effect(id) => self.effect_seen(user, id),
            Followed::Drawing(id) => self.drawing_seen(user, id),
        }
    }

    /// The turn order with only the tokens `user` sees. While an unseen
    /// token acts, the turn points past the end: nobody they see is acting.
    fn initiative_for(&self, user: UserId, initiative: &Initiative) -> Initiative {
        let seen: Vec<TokenId> = initiative
            .order
            .iter()
            .copied()
            .filter(|token| self.token_seen(user, *token))
            .collect();
        let turn = initiative
            .order
            .get(initiative.turn as usize)
            .and_then(|current| seen.iter().position(|t| t == current))
            .unwrap_or(seen.len());
        Initiative {
            totals: initiative
                .totals
                .iter()
                .filter(|(token, _)| seen.contains(token))
                .map(|(token, total)| (*token, *total))
                .collect(),
            order: seen,
            turn: u32::try_from(turn).unwrap_or(u32::MAX),
            ..initiative.clone()
        }
    }

    fn encounter_for(&self, user: UserId, encounter: &Encounter) -> Encounter {
        Encounter {
            initiative: self.initiative_for(user, &encounter.initiative),
            log: log_for(user, &encounter.log),
            ..encounter.clone()
        }
    }
}

/// The log lines `user`, a player or observer, reads.
fn log_for(user: UserId, log: &[crate::encounter::LogEntry]) -> Vec<crate::encounter::LogEntry> {
    log.iter()
        .filter(|line| line.read_by_player(user))
        .cloned()
        .collect()
}

/// Whether any line of the log is not for the whole table.
fn has_private(log: &[crate::encounter::LogEntry]) -> bool {
    log.iter().any(|line| line.to.is_some())
}

/// What sight reads of an actor: who owns it, and its kind (whose
/// default decides who reads its hit points).
#[derive(Debug, Clone, Copy, PartialEq)]
struct ActorSight {
    owner: Option<UserId>,
    kind: ActorKind,
}

impl ActorSight {
    fn of(actor: &Actor) -> Self {
        Self {
            owner: actor.owner,
            kind: actor.kind,
        }
    }
}

#[cfg(test)]
mod tests;
