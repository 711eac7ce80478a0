//! A commit as each participant may see it: the state before it
//! ([`SeenBefore`]) and after it decide what arrives whole, what as a
//! deletion, and what not at all.

use super::*;
use crate::path;
use serde_json::Value;

/// What sight depends on, as it was before a commit, for every entity the
/// commit touches: together with the state after the commit, the state
/// before it as far as sight goes. The server records it before applying
/// and passes it to [`CommitView::new`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeenBefore {
    /// Tokens as they were (`None`: it did not exist).
    pub(super) tokens: BTreeMap<TokenId, Option<Token>>,
    /// Actors' owners and kinds (`None`: the actor did not exist).
    pub(super) actors: BTreeMap<ActorId, Option<ActorSight>>,
    /// Items' carriers.
    pub(super) items: BTreeMap<ItemId, Option<Option<ActorId>>>,
    /// Effects' targets and source.
    pub(super) effects: BTreeMap<EffectId, Option<Vec<TokenId>>>,
    /// Drawings as they were (`None`: it did not exist).
    pub(super) drawings: BTreeMap<DrawingId, Option<Drawing>>,
    /// Walls as they were (`None`: it did not exist): where walls hide,
    /// a door opening brings what is behind it into sight.
    pub(super) walls: BTreeMap<WallId, Option<Wall>>,
    /// Encounters' grid and fog, when the commit changes either.
    pub(super) encounters: BTreeMap<EncounterId, Option<(MapSettings, Fog)>>,
    /// Whether an encounter's log held a private line, when the commit
    /// changes the log.
    pub(super) private_logs: BTreeMap<EncounterId, bool>,
    /// What each player sees by before the commit and after it, filled
    /// while the commit is filtered: worked out once per player, not once
    /// per token asked about.
    pub(super) sight_before: SightCache,
    pub(super) sight_after: SightCache,
}

impl SeenBefore {
    /// Reads the state before `changes` apply.
    pub fn new(store: &Store, changes: &[Change]) -> Self {
        let mut seen = Self::default();
        for change in changes {
            match Named::of(&change.path) {
                Some(Named::Token(id)) => {
                    seen.tokens
                        .entry(id)
                        .or_insert_with(|| store.token(id).cloned());
                }
                Some(Named::Actor(id, _) | Named::Hp(id)) => {
                    seen.actors
                        .entry(id)
                        .or_insert_with(|| store.actor(id).map(ActorSight::of));
                }
                Some(Named::Item(id)) => {
                    seen.items
                        .entry(id)
                        .or_insert_with(|| store.item(id).map(|i| i.owner));
                }
                Some(Named::Effect(id)) => {
                    seen.effects.entry(id).or_insert_with(|| {
                        store
                            .effect(id)
                            .map(|e| e.targets.iter().chain(&e.source).copied().collect())
                    });
                }
                Some(Named::Drawing(id)) => {
                    seen.drawings
                        .entry(id)
                        .or_insert_with(|| store.drawing(id).cloned());
                }
                Some(Named::Wall(id)) => {
                    seen.walls
                        .entry(id)
                        .or_insert_with(|| store.wall(id).cloned());
                }
                Some(Named::Encounter(id, part)) => {
                    if matches!(part, Part::Whole | Part::Sight) {
                        seen.encounters
                            .entry(id)
                            .or_insert_with(|| store.encounter(id).map(|e| (e.map, e.fog.clone())));
                    }
                    if matches!(part, Part::Whole | Part::Log) {
                        seen.private_logs.entry(id).or_insert_with(|| {
                            store
                                .encounter(id)
                                .is_some_and(|e| super::has_private(&e.log))
                        });
                    }
                }
                None => {}
            }
        }
        seen
    }
}

/// A commit ready to be filtered for each recipient: what it may bring
/// into or out of sight, worked out once for all of them.
pub struct CommitView<'a> {
    commit: &'a Commit,
    before: World<'a>,
    after: World<'a>,
    /// Entities whose sight the commit may change.
    affected: Affected,
    /// The indices of the first and the last change touching each entity.
    span: BTreeMap<Followed, (usize, usize)>,
    /// The index of the last change touching each encounter.
    last_encounter: BTreeMap<EncounterId, usize>,
    /// Encounters whose log held, holds or gains a private line, with how
    /// a player receives their log changes.
    private_logs: BTreeMap<EncounterId, LogDelivery>,
    /// The lines those logs gain, by change index: decoded once for every
    /// recipient.
    appended: BTreeMap<usize, crate::encounter::LogEntry>,
}

/// How a player receives the log changes of a commit that touches a
/// private line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LogDelivery {
    /// Lines only appended, none dropped for room: each line a player
    /// reads passes as it is, the others not at all.
    LineByLine,
    /// Anything else (an undo, the oldest lines dropped): their log as it
    /// ends up, filtered, once, at the commit's last log change (indices
    /// in a player's log are not the table's).
    Whole(usize),
}

impl<'a> CommitView<'a> {
    /// Prepares `commit`, given what it touched before it applied and the
    /// store after.
    pub fn new(commit: &'a Commit, before: &'a SeenBefore, after: &'a Store) -> Self {
        let before_world = World {
            store: after,
            before: Some(before),
            cache: Some(&before.sight_before),
        };
        let after_world = World::after_with(after, &before.sight_after);
        let mut span = BTreeMap::new();
        let mut last_encounter = BTreeMap::new();
        for (index, change) in commit.changes.iter().enumerate() {
            match Named::of(&change.path) {
                Some(Named::Encounter(id, _)) => {
                    last_encounter.insert(id, index);
                }
                Some(touched) => {
                    for entity in touched.followed() {
                        span.entry(entity)
                            .and_modify(|(_, last)| *last = index)
                            .or_insert((index, index));
                    }
                }
                None => {}
            }
        }
        let affected = Affected::gather(before, before_world, after_world);
        let (private_logs, appended) = private_logs(commit, before, after);
        Self {
            commit,
            before: before_world,
            after: after_world,
            affected,
            span,
            last_encounter,
            private_logs,
            appended,
        }
    }

    /// The commit as `who` receives it: same version (so gaps stay
    /// detectable), with only what they may see. Borrowed when that is the
    /// whole commit (always for the GM; for a player, when nothing in it
    /// comes into or out of their sight), so recipients who see the same
    /// can share one encoding.
    pub fn for_participant(&self, who: &Participant) -> Cow<'a, Commit> {
        if who.role.is_gm_or_assistant() {
            return Cow::Borrowed(self.commit);
        }
        let user = who.user;
        let mut flips: BTreeMap<Followed, Flip> = self
            .affected
            .reach(user, self.before, self.after)
            .entities()
            .map(|entity| {
                let flip = match (
                    self.before.seen(user, entity),
                    self.after.seen(user, entity),
                ) {
                    (false, true) => Flip::Appears,
                    (true, false) => Flip::Leaves,
                    (true, true) => Flip::Stays,
                    (false, false) => Flip::Unseen,
                };
                (entity, flip)
            })
            .collect();
        // Hit points follow their own sight only while the actor stays:
        // an actor arriving brings the ones the player may read, and one
        // leaving takes them along.
        for (entity, flip) in flips.clone() {
            if let Followed::Hp(actor) = entity
                && flips.get(&Followed::Actor(actor)) != Some(&Flip::Stays)
                && flip != Flip::Unseen
            {
                flips.insert(entity, Flip::Unseen);
            }
        }
        if self.passes_whole(&flips) {
            return Cow::Borrowed(self.commit);
        }
        let mut out = Vec::with_capacity(self.commit.changes.len());
        let mut whole_encounters: BTreeSet<EncounterId> = BTreeSet::new();
        let mut initiatives: BTreeSet<EncounterId> = BTreeSet::new();
        let mut leaving_actors: Vec<Followed> = Vec::new();
        for (index, change) in self.commit.changes.iter().enumerate() {
            match Named::of(&change.path) {
                // Every member receives the walls, as they do the map.
                Some(Named::Wall(_)) => out.push(change.clone()),
                Some(Named::Encounter(id, part)) => {
                    if whole_encounters.contains(&id) {
                        // Already sent as it ends up.
                        continue;
                    }
                    match self.after.store.encounter(id) {
                        None => {
                            // Gone by the end: one deletion, if they had it.
                            let last = self.last_encounter.get(&id) == Some(&index);
                            if last && self.before.grid_and_fog(id).is_some() {
                                out.push(Change::delete(path::Entity::Encounter(id).path()));
                            }
                        }
                        Some(encounter) => {
                            if part == Part::Whole && !matches!(change.op, Op::Delete) {
                                whole_encounters.insert(id);
                                out.push(Change::set(
                                    path::Entity::Encounter(id).path(),
                                    to_value(&self.after.encounter_for(user, encounter)),
                                ));
                            } else if let (Part::Log, Some(delivery)) =
                                (part, self.private_logs.get(&id))
                            {
                                match delivery {
                                    LogDelivery::LineByLine => {
                                        if self
                                            .appended
                                            .get(&index)
                                            .is_some_and(|line| line.read_by_player(user))
                                        {
                                            out.push(change.clone());
                                        }
                                    }
                                    LogDelivery::Whole(last) if *last == index => {
                                        out.push(Change::set(
                                            path::Entity::Encounter(id).at(&["log"]),
                                            to_value(&super::log_for(user, &encounter.log)),
                                        ));
                                    }
                                    LogDelivery::Whole(_) => {}
                                }
                            } else if part == Part::Initiative {
                                // The turn order names tokens: sent
                                // filtered, once, at the end.
                                initiatives.insert(id);
                            } else {
                                out.push(change.clone());
                            }
                        }
                    }
                }
                Some(touched) => {
                    for (nth, entity) in touched.followed().enumerate() {
                        // Into sight as it ends up, so at its last change;
                        // out of sight at its first (nothing after needs
                        // it). Hit points leave at the end: their actor
                        // stays, and may be replaced on the way.
                        let (first, last) = self.span.get(&entity).copied().unwrap_or_default();
                        let leaves_at = match entity {
                            Followed::Hp(_) => last,
                            _ => first,
                        };
                        match flips.get(&entity).copied() {
                            // Changed more than once: whole, as it ends
                            // up, so that no state between (a token of
                            // another's actor for a moment) is named.
                            Some(Flip::Stays) if first != last && index == last && nth == 0 => {
                                out.extend(self.flip(user, entity, Flip::Appears));
                            }
                            Some(Flip::Stays) if first != last => {}
                            // A whole actor names its hit points too, but
                            // passes once, as the actor.
                            Some(Flip::Stays) if nth == 0 => {
                                out.push(self.without_hidden_hp(user, touched, change));
                            }
                            Some(flip @ Flip::Appears) if index == last => {
                                out.extend(self.flip(user, entity, flip));
                            }
                            // An actor leaves last: a token leaving may
                            // still name it until then.
                            Some(Flip::Leaves)
                                if index == leaves_at
                                    && matches!(entity, Followed::Actor(_) | Followed::Hp(_)) =>
                            {
                                leaving_actors.push(entity);
                            }
                            Some(flip @ Flip::Leaves) if index == leaves_at => {
                                out.extend(self.flip(user, entity, flip));
                            }
                            _ => {}
                        }
                    }
                }
                None => out.push(change.clone()),
            }
        }
        // What came into or out of sight without being named: tokens under
        // lifted fog, the actor of a token revealed, its items and effects.
        let untouched = |entity: &Followed| !self.span.contains_key(entity);
        for (entity, flip) in flips.iter().filter(|(e, _)| untouched(e)) {
            if *flip == Flip::Appears {
                out.extend(self.flip(user, *entity, *flip));
            }
        }
        for (entity, flip) in flips.iter().rev().filter(|(e, _)| untouched(e)) {
            if *flip == Flip::Leaves {
                out.extend(self.flip(user, *entity, *flip));
            }
        }
        for entity in leaving_actors {
            out.extend(self.flip(user, entity, Flip::Leaves));
        }
        // A token in the turn order coming into or out of sight changes
        // the order the player sees.
        for (entity, flip) in &flips {
            if let (Followed::Token(token), Flip::Appears | Flip::Leaves) = (entity, flip) {
                let in_order = [self.after.token(*token), self.before.token(*token)]
                    .into_iter()
                    .flatten()
                    .map(|t| t.encounter)
                    .filter(|encounter| {
                        self.after
                            .store
                            .encounter(*encounter)
                            .is_some_and(|e| e.initiative.order.contains(token))
                    });
                initiatives.extend(in_order);
            }
        }
        for id in initiatives.difference(&whole_encounters) {
            if let Some(encounter) = self.after.store.encounter(*id) {
                out.push(Change::set(
                    path::Entity::Encounter(*id).at(&["initiative"]),
                    to_value(&self.after.initiative_for(user, &encounter.initiative)),
                ));
            }
        }
        Cow::Owned(Commit {
            version: self.commit.version,
            action: self.commit.action,
            changes: out,
        })
    }

    /// True when a recipient with these flips receives the commit as it
    /// is: nothing comes into or out of their sight, nothing they do not
    /// see is named, and no turn order or whole encounter is rewritten.
    fn passes_whole(&self, flips: &BTreeMap<Followed, Flip>) -> bool {
        let changed_sight = flips.iter().any(|(entity, flip)| match flip {
            // Changed more than once: sent whole, as it ends up.
            Flip::Stays => self
                .span
                .get(entity)
                .is_some_and(|(first, last)| first != last),
            Flip::Appears | Flip::Leaves => true,
            Flip::Unseen => self.span.contains_key(entity),
        });
        let rewritten = self.commit.changes.iter().any(|change| {
            matches!(
                Named::of(&change.path),
                Some(Named::Encounter(_, Part::Whole | Part::Initiative))
            )
        });
        !changed_sight && !rewritten && self.private_logs.is_empty()
    }

    /// A change to a whole actor without the hit points `user` may not
    /// read; any other change as it is.
    fn without_hidden_hp(&self, user: UserId, touched: Named, change: &Change) -> Change {
        let Named::Actor(id, true) = touched else {
            return change.clone();
        };
        match &change.op {
            Op::Set(Value::Object(fields)) | Op::Merge(Value::Object(fields))
                if fields.contains_key("hp") && !self.after.hp_seen(user, id) =>
            {
                let mut fields = fields.clone();
                fields.remove("hp");
                let op = match change.op {
                    Op::Merge(_) => Op::Merge(Value::Object(fields)),
                    _ => Op::Set(Value::Object(fields)),
                };
                Change {
                    op,
                    ..change.clone()
                }
            }
            _ => change.clone(),
        }
    }

    /// The change that brings an entity into sight (whole, as it is now,
    /// with what `user` may read) or takes it out (a deletion; hit points
    /// are unset, their actor stays).
    fn flip(&self, user: UserId, entity: Followed, flip: Flip) -> Option<Change> {
        let store = self.after.store;
        if flip == Flip::Leaves {
            return Some(match entity {
                Followed::Hp(_) => Change::set(entity.path(), Value::Null),
                _ => Change::delete(entity.path()),
            });
        }
        let value = match entity {
            Followed::Token(id) => to_value(store.token(id)?),
            Followed::Actor(id) => to_value(&self.after.actor_for(user, store.actor(id)?)),
            Followed::Hp(id) => to_value(&store.actor(id)?.hp),
            Followed::Item(id) => to_value(store.item(id)?),
            Followed::Effect(id) => to_value(store.effect(id)?),
            Followed::Drawing(id) => to_value(store.drawing(id)?),
        };
        Some(Change::set(entity.path(), value))
    }
}

/// The encounters whose log changes some player may not receive as they
/// are (a private line was in the log, is in it, or is appended), and the
/// lines appended to logs, by change index.
fn private_logs(
    commit: &Commit,
    before: &SeenBefore,
    after: &Store,
) -> (
    BTreeMap<EncounterId, LogDelivery>,
    BTreeMap<usize, crate::encounter::LogEntry>,
) {
    let mut logs: BTreeMap<EncounterId, (bool, bool, usize)> = BTreeMap::new();
    let mut appended = BTreeMap::new();
    for (index, change) in commit.changes.iter().enumerate() {
        let Some(Named::Encounter(id, Part::Log)) = Named::of(&change.path) else {
            continue;
        };
        let (private, appends_only, last) = logs.entry(id).or_insert((false, true, index));
        *last = index;
        match &change.op {
            // The store accepted the commit, so the line decodes; one that
            // did not would reach no player.
            Op::Append(value) => {
                if let Ok(line) =
                    serde_json::from_value::<crate::encounter::LogEntry>(value.clone())
                {
                    *private |= line.to.is_some();
                    appended.insert(index, line);
                }
            }
            _ => *appends_only = false,
        }
    }
    let deliveries = logs
        .into_iter()
        .filter_map(|(id, (appended_private, appends_only, last))| {
            let now = after.encounter(id);
            let private = appended_private
                || before.private_logs.get(&id).copied().unwrap_or(false)
                || now.is_some_and(|e| super::has_private(&e.log));
            let room = now.is_some_and(|e| e.log.len() < crate::limits::MAX_LOG_LINES);
            private.then_some((
                id,
                if appends_only && room {
                    LogDelivery::LineByLine
                } else {
                    LogDelivery::Whole(last)
                },
            ))
        })
        .collect();
    (deliveries, appended)
}

/// The commit as `who` receives it. `before` is the [`SeenBefore`] of the
/// commit's changes; `after` the state once it applied. For several
/// recipients, make one [`CommitView`] and ask it for each.
pub fn commit_for(
    who: &Participant,
    commit: &Commit,
    before: &SeenBefore,
    after: &Store,
) -> Commit {
    CommitView::new(commit, before, after)
        .for_participant(who)
        .into_owned()
}

/// How a commit changes whether a recipient sees an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flip {
    /// Seen before and after: its changes pass.
    Stays,
    /// Seen by neither state: its changes are dropped.
    Unseen,
    /// Comes into sight: sent whole.
    Appears,
    /// Leaves sight: sent as a deletion.
    Leaves,
}

/// An entity whose sight a recipient's view follows. Ordered so that, in
/// order, what others refer to comes first (actors before the tokens
/// standing for them); deletions go in reverse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Followed {
    Actor(ActorId),
    /// An actor's hit points, which some who see the actor may not read.
    Hp(ActorId),
    Item(ItemId),
    Token(TokenId),
    Effect(EffectId),
    Drawing(DrawingId),
}

impl Followed {
    fn path(self) -> Path {
        match self {
            Followed::Actor(id) => path::Entity::Actor(id).path(),
            Followed::Hp(id) => path::Entity::Actor(id).at(&["hp"]),
            Followed::Item(id) => path::Entity::Item(id).path(),
            Followed::Token(id) => path::Entity::Token(id).path(),
            Followed::Effect(id) => path::Entity::Effect(id).path(),
            Followed::Drawing(id) => path::Entity::Drawing(id).path(),
        }
    }
}

/// What a change's path names, as sight sorts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Named {
    Token(TokenId),
    /// An actor; `true` when the change is to the whole of it.
    Actor(ActorId, bool),
    /// An actor's hit points or one of them.
    Hp(ActorId),
    Item(ItemId),
    Effect(EffectId),
    Drawing(DrawingId),
    Wall(WallId),
    Encounter(EncounterId, Part),
}

/// Which part of an encounter a change touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// The whole encounter.
    Whole,
    /// Its grid or fog, which decide what players see.
    Sight,
    /// Its turn order, which names tokens.
    Initiative,
    /// Its log, whose private lines only their readers receive.
    Log,
    /// Anything else (its name, its notes).
    Other,
}

impl Named {
    fn of(path: &Path) -> Option<Self> {
        let path::Target { entity, field } = path.target().ok()?;
        Some(match entity {
            path::Entity::Token(id) => Named::Token(id),
            path::Entity::Actor(id) => match field.first().map(String::as_str) {
                Some("hp") => Named::Hp(id),
                first => Named::Actor(id, first.is_none()),
            },
            path::Entity::Item(id) => Named::Item(id),
            path::Entity::Effect(id) => Named::Effect(id),
            path::Entity::Drawing(id) => Named::Drawing(id),
            path::Entity::Wall(id) => Named::Wall(id),
            path::Entity::Encounter(id) => {
                let part = match field.first().map(String::as_str) {
                    None => Part::Whole,
                    Some("map" | "fog") => Part::Sight,
                    Some("initiative") => Part::Initiative,
                    Some("log") => Part::Log,
                    Some(_) => Part::Other,
                };
                Named::Encounter(id, part)
            }
        })
    }

    /// The followed entities the change touches: its own first, then,
    /// for a whole actor, its hit points.
    fn followed(self) -> impl Iterator<Item = Followed> {
        let (own, also) = match self {
            Named::Token(id) => (Some(Followed::Token(id)), None),
            Named::Actor(id, whole) => {
                (Some(Followed::Actor(id)), whole.then_some(Followed::Hp(id)))
            }
            Named::Hp(id) => (Some(Followed::Hp(id)), None),
            Named::Item(id) => (Some(Followed::Item(id)), None),
            Named::Effect(id) => (Some(Followed::Effect(id)), None),
            Named::Drawing(id) => (Some(Followed::Drawing(id)), None),
            Named::Encounter(..) | Named::Wall(_) => (None, None),
        };
        own.into_iter().chain(also)
    }
}

/// The entities whose sight a commit may change. For anyone: those it
/// names, the tokens under fog it changed, and, following sight's
/// dependencies, the actors of those tokens, their items and the effects
/// on the tokens, in the state before and after. Where walls hide, what a
/// player sees also hangs on where each of their tokens stands, on every
/// wall and on every light: a commit that moves one of her tokens may
/// bring anything on that map into her sight or out of it, so she is
/// asked about the whole map (`wide`); a player none of whose tokens it
/// touched only about what it names (`narrow`), unless it touched a wall,
/// the map or a light, which are everyone's.
#[derive(Debug, Default)]
struct Affected {
    narrow: Reach,
    /// `narrow` and every token and drawing of the maps where walls hide
    /// that the commit touched; `None` when there is no such map.
    wide: Option<Reach>,
    /// The tokens the commit touched on maps where walls hide: their
    /// owners, before or after, are asked about `wide`.
    eyes: Vec<TokenId>,
    /// Whether every player is asked about `wide`.
    everyone_wide: bool,
}

/// A set of entities to decide for a recipient.
#[derive(Debug, Default, Clone)]
struct Reach {
    tokens: BTreeSet<TokenId>,
    actors: BTreeSet<ActorId>,
    items: BTreeSet<ItemId>,
    effects: BTreeSet<EffectId>,
    drawings: BTreeSet<DrawingId>,
}

impl Affected {
    fn gather(recorded: &SeenBefore, before: World<'_>, after: World<'_>) -> Self {
        let mut narrow = Reach {
            tokens: recorded.tokens.keys().copied().collect(),
            actors: recorded.actors.keys().copied().collect(),
            items: recorded.items.keys().copied().collect(),
            effects: recorded.effects.keys().copied().collect(),
            drawings: recorded.drawings.keys().copied().collect(),
        };
        for encounter in recorded.encounters.keys() {
            narrow
                .tokens
                .extend(after.store.tokens_in(*encounter).map(|t| t.id));
            narrow
                .drawings
                .extend(after.store.drawings_in(*encounter).map(|d| d.id));
        }
        for actor in recorded.actors.keys() {
            for world in [before, after] {
                narrow.tokens.extend(world.tokens_of(*actor));
            }
        }
        let hides = |encounter: EncounterId| {
            [before, after].iter().any(|world| {
                world
                    .grid_and_fog(encounter)
                    .is_some_and(|(map, _)| map.vision)
            })
        };
        let as_it_was_or_is = |id: &TokenId| [before, after].map(|world| world.token(*id));
        let eyes: Vec<TokenId> = narrow
            .tokens
            .iter()
            .filter(|id| {
                as_it_was_or_is(id)
                    .into_iter()
                    .flatten()
                    .any(|t| hides(t.encounter))
            })
            .copied()
            .collect();
        let mut maps: BTreeSet<EncounterId> = eyes
            .iter()
            .flat_map(as_it_was_or_is)
            .flatten()
            .map(|t| t.encounter)
            .collect();
        let mut walls_or_map = false;
        for (id, was) in &recorded.walls {
            for wall in [was.as_ref(), after.store.wall(*id)].into_iter().flatten() {
                walls_or_map |= hides(wall.encounter);
                maps.insert(wall.encounter);
            }
        }
        walls_or_map |= recorded.encounters.keys().any(|e| hides(*e));
        let light = eyes
            .iter()
            .flat_map(as_it_was_or_is)
            .flatten()
            .any(|t| t.sight.light.is_some());
        let mut wide: Option<Reach> = None;
        for encounter in maps.into_iter().filter(|e| hides(*e)) {
            let wide = wide.get_or_insert_with(|| narrow.clone());
            for world in [before, after] {
                wide.tokens.extend(world.tokens_in(encounter).map(|t| t.id));
            }
            wide.drawings
                .extend(after.store.drawings_in(encounter).map(|d| d.id));
        }
        narrow.follow(before, after);
        if let Some(wide) = &mut wide {
            wide.follow(before, after);
        }
        Affected {
            narrow,
            wide,
            eyes,
            everyone_wide: walls_or_map || light,
        }
    }

    /// What `user` is asked about.
    fn reach(&self, user: UserId, before: World<'_>, after: World<'_>) -> &Reach {
        match &self.wide {
            Some(wide)
                if self.everyone_wide
                    || self.eyes.iter().any(|id| {
                        [before, after]
                            .iter()
                            .any(|world| world.token(*id).is_some_and(|t| world.owns(user, t)))
                    }) =>
            {
                wide
            }
            _ => &self.narrow,
        }
    }
}

impl Reach {
    /// Adds what hangs on its tokens and actors: the actors of its tokens,
    /// the effects on them and from them, and the actors' items.
    fn follow(&mut self, before: World<'_>, after: World<'_>) {
        for token in &self.tokens {
            for world in [before, after] {
                self.actors
                    .extend(world.token(*token).and_then(|t| t.actor));
            }
            self.effects
                .extend(after.store.effects_on(*token).map(|e| e.id));
            self.effects
                .extend(after.store.effects_from(*token).map(|e| e.id));
        }
        for actor in &self.actors {
            self.items
                .extend(after.store.items_of(*actor).map(|i| i.id));
        }
    }

    fn entities(&self) -> impl Iterator<Item = Followed> + '_ {
        self.actors
            .iter()
            .map(|id| Followed::Actor(*id))
            .chain(self.actors.iter().map(|id| Followed::Hp(*id)))
            .chain(self.items.iter().map(|id| Followed::Item(*id)))
            .chain(self.tokens.iter().map(|id| Followed::Token(*id)))
            .chain(self.effects.iter().map(|id| Followed::Effect(*id)))
            .chain(self.drawings.iter().map(|id| Followed::Drawing(*id)))
    }
}
