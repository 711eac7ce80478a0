use serde_json::{Value, json};

use super::*;
use crate::{
    authority::Authority,
    geometry::{Cell, Point},
    limits,
    protocol::{Encoding, ServerMessage},
    rules::Role,
    testing::{self, *},
    wall::WallKind,
};

fn as_player(user: UserId) -> Participant {
    Participant {
        user,
        role: Role::Player,
    }
}

fn me() -> Participant {
    as_player(testing::player())
}

fn gm() -> Participant {
    Participant {
        user: UserId(uuid::Uuid::from_u128(1)),
        role: Role::Gm,
    }
}

fn observer() -> Participant {
    Participant {
        user: UserId(uuid::Uuid::from_u128(0x0B5)),
        role: Role::Observer,
    }
}

/// Commits `changes` and returns what `who` receives.
fn commit_as(authority: &mut Authority, who: &Participant, changes: Vec<Change>) -> Commit {
    let before = SeenBefore::new(authority.store(), &changes);
    let (commit, _) = authority.commit(None, changes).unwrap();
    commit_for(who, &commit, &before, authority.store())
}

fn hide(n: u128) -> Change {
    set(&format!("tokens/{}/visibility", tid(n)), json!("hidden"))
}

fn fog_on() -> Change {
    set(&format!("encounters/{}/fog/enabled", eid(1)), json!(true))
}

fn reveal(x: i32, y: i32) -> Change {
    Change::append(
        path(&format!("encounters/{}/fog/revealed", eid(1))),
        json!([[x, y]]),
    )
}

fn move_to(n: u128, x: f64, y: f64) -> Change {
    set(
        &format!("tokens/{}/position", tid(n)),
        json!({"x": x, "y": y}),
    )
}

/// [`testing::table`] with the monster's token 2 away from the others, at
/// cell (4, 4) of the 50 px grid.
fn table() -> Store {
    let mut store = testing::table();
    store.apply(&move_to(2, 200.0, 200.0)).unwrap();
    store
}

#[test]
fn players_never_receive_hidden_tokens_and_the_gm_sees_all() {
    let mut store = sample();
    store.apply(&hide(2)).unwrap();
    let seen = entities_for(&me(), &store);
    assert!(seen.tokens.contains_key(&tid(1)));
    assert!(!seen.tokens.contains_key(&tid(2)));
    assert_eq!(entities_for(&gm(), &store), *store.entities());
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
    let received = commit_as(
        &mut authority,
        &me(),
        vec![move_to(2, 1.0, 1.0), move_to(1, 2.0, 2.0)],
    );
    assert_eq!(received.version, 2);
    assert_eq!(received.changes, [move_to(1, 2.0, 2.0)]);
}

#[test]
fn a_revealed_token_arrives_whole_and_a_hidden_one_is_deleted() {
    let mut authority = Authority::new(sample(), 0);
    authority.commit(None, vec![hide(2)]).unwrap();
    let revealed = commit_as(
        &mut authority,
        &me(),
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
    let hidden = commit_as(&mut authority, &me(), vec![hide(1)]);
    assert_eq!(
        hidden.changes,
        [Change::delete(path(&format!("tokens/{}", tid(1))))]
    );
}

#[test]
fn fog_hides_other_tokens_and_their_actors_but_never_your_own() {
    let mut store = table();
    store.apply(&fog_on()).unwrap();
    let seen = entities_for(&me(), &store);
    // Token 1 is mine (actor 1); token 5 is another player's, token 2 a
    // monster's, both under fog.
    assert!(seen.tokens.contains_key(&tid(1)));
    assert!(!seen.tokens.contains_key(&tid(5)));
    assert!(!seen.tokens.contains_key(&tid(2)));
    assert!(seen.actors.contains_key(&aid(1)));
    assert!(
        !seen.actors.contains_key(&aid(2)),
        "the monster's sheet stays dark"
    );
    let bytes = serde_json::to_string(&seen).unwrap();
    for hidden in [tid(2).to_string(), tid(5).to_string(), aid(2).to_string()] {
        assert!(!bytes.contains(&hidden), "no trace of {hidden}");
    }
    // The other player sees their own token, not mine.
    let other = entities_for(&as_player(other_player()), &store);
    assert!(other.tokens.contains_key(&tid(5)));
    assert!(!other.tokens.contains_key(&tid(1)));
    // Observers own nothing: under fog they see no token at all.
    assert!(entities_for(&observer(), &store).tokens.is_empty());
    assert_eq!(entities_for(&gm(), &store), *store.entities());
}

#[test]
fn lifting_the_fog_sends_the_token_and_its_actor_whole() {
    let mut authority = Authority::new(table(), 0);
    authority.commit(None, vec![fog_on()]).unwrap();
    let received = commit_as(&mut authority, &me(), vec![reveal(4, 4)]);
    let paths: Vec<String> = received
        .changes
        .iter()
        .map(|c| c.path.to_string())
        .collect();
    assert_eq!(
        paths,
        [
            format!("encounters/{}/fog/revealed", eid(1)),
            format!("actors/{}", aid(2)),
            format!("tokens/{}", tid(2)),
        ]
    );
    // Covering it again takes both away.
    let covered = commit_as(
        &mut authority,
        &me(),
        vec![Change::delete(path(&format!(
            "encounters/{}/fog/revealed/4,4",
            eid(1)
        )))],
    );
    assert_eq!(
        covered.changes[1..],
        [
            Change::delete(path(&format!("tokens/{}", tid(2)))),
            Change::delete(path(&format!("actors/{}", aid(2)))),
        ]
    );
}

#[test]
fn a_token_walking_into_the_fog_is_deleted_for_players_and_moves_for_its_owner() {
    let mut store = table();
    store.apply(&fog_on()).unwrap();
    store.apply(&reveal(0, 0)).unwrap();
    let mut authority = Authority::new(store, 0);
    // Token 5 (the other player's) stands at (0, 0), revealed.
    let mine = commit_as(&mut authority, &me(), vec![move_to(5, 300.0, 0.0)]);
    // The token, and the sheet only it showed.
    assert_eq!(
        mine.changes,
        [
            Change::delete(path(&format!("tokens/{}", tid(5)))),
            Change::delete(path(&format!("actors/{}", aid(5)))),
        ]
    );
    let theirs = commit_as(
        &mut authority,
        &as_player(other_player()),
        vec![move_to(5, 350.0, 0.0)],
    );
    assert_eq!(theirs.changes, [move_to(5, 350.0, 0.0)]);
}

#[test]
fn a_large_token_is_seen_when_any_cell_under_it_is_revealed() {
    let mut store = table();
    store.apply(&fog_on()).unwrap();
    store
        .apply(&set(&format!("tokens/{}/scale", tid(2)), json!(2.0)))
        .unwrap();
    // Token 2 covers cells (4, 4) to (5, 5).
    assert!(!token_seen(&store, testing::player(), tid(2)));
    store.apply(&reveal(5, 5)).unwrap();
    assert!(token_seen(&store, testing::player(), tid(2)));
    // A cell it only touches does not count.
    let mut store = table();
    store.apply(&fog_on()).unwrap();
    store.apply(&reveal(6, 4)).unwrap();
    store.apply(&move_to(2, 250.0, 200.0)).unwrap();
    assert!(!token_seen(&store, testing::player(), tid(2)));
}

#[test]
fn the_turn_order_shows_players_only_the_tokens_they_see() {
    let mut authority = Authority::new(table(), 0);
    let order = json!({
        "order": [tid(3), tid(1), tid(2)],
        "turn": 0,
        "round": 1,
        "phase": "combat",
        "totals": {tid(3).to_string(): 19, tid(1).to_string(): 14, tid(2).to_string(): 7},
    });
    let received = commit_as(
        &mut authority,
        &me(),
        vec![set(&format!("encounters/{}/initiative", eid(1)), order)],
    );
    let initiative: Initiative = serde_json::from_value(match &received.changes[..] {
        [
            Change {
                op: Op::Set(value), ..
            },
        ] => value.clone(),
        other => panic!("expected one set, got {other:?}"),
    })
    .unwrap();
    // The hidden token 3 acts: nobody the player sees is acting, and its
    // total is not sent either.
    assert_eq!(initiative.order, [tid(1), tid(2)]);
    assert_eq!(
        initiative.totals,
        std::collections::BTreeMap::from([(tid(1), 14), (tid(2), 7)])
    );
    assert!(
        !serde_json::to_string(&received)
            .unwrap()
            .contains(&tid(3).to_string())
    );
    assert_eq!(initiative.current(), None);
    let next = commit_as(
        &mut authority,
        &me(),
        vec![Change::increment(
            path(&format!("encounters/{}/initiative/turn", eid(1))),
            1,
        )],
    );
    let value = match &next.changes[..] {
        [
            Change {
                op: Op::Set(value), ..
            },
        ] => value.clone(),
        other => panic!("expected one set, got {other:?}"),
    };
    let initiative: Initiative = serde_json::from_value(value).unwrap();
    assert_eq!(initiative.current(), Some(tid(1)));
    assert!(
        !serde_json::to_string(&next)
            .unwrap()
            .contains(&tid(3).to_string())
    );
}

#[test]
fn drag_previews_stop_at_the_fog() {
    let mut store = table();
    store.apply(&fog_on()).unwrap();
    store.apply(&reveal(4, 4)).unwrap();
    let me = testing::player();
    assert!(preview_seen(&store, me, tid(2), Point::new(210.0, 210.0)));
    assert!(!preview_seen(&store, me, tid(2), Point::new(400.0, 400.0)));
    // Another player's token in the fog: its owner watches it, I do not.
    assert!(preview_seen(
        &store,
        other_player(),
        tid(5),
        Point::new(400.0, 0.0)
    ));
    assert!(!preview_seen(&store, me, tid(5), Point::new(400.0, 0.0)));
}

/// A drawing under the fog reaches its author and the GM alone; the fog
/// lifted over any part of it sends it whole, covered again it is
/// deleted: checked on the bytes each recipient receives.
#[test]
fn a_drawing_under_the_fog_reaches_only_its_author_until_the_fog_lifts() {
    let mut authority = Authority::new(table(), 0);
    commit_as(&mut authority, &gm(), vec![fog_on()]);
    let other = as_player(other_player());
    let id = did(1).to_string();
    let whole = format!("drawings/{id}");
    // A 4 px line from (310, 310): all of it in cell (6, 6).
    let draw = set(&whole, drawing_json(1, 1, other_player(), 310.0, 310.0));
    let before = SeenBefore::new(authority.store(), std::slice::from_ref(&draw));
    let (commit, _) = authority.commit(None, vec![draw]).unwrap();
    let view = CommitView::new(&commit, &before, authority.store());
    let bytes = |who: &Participant| serde_json::to_string(&*view.for_participant(who)).unwrap();
    assert!(bytes(&gm()).contains(&id));
    assert!(
        bytes(&other).contains(&id),
        "its author keeps it under the fog"
    );
    assert!(
        !bytes(&me()).contains(&id),
        "another player's bytes do not name it"
    );
    assert!(!bytes(&observer()).contains(&id));
    assert!(!drawing_seen(authority.store(), testing::player(), did(1)));
    let snapshot = serde_json::to_string(&entities_for(&me(), authority.store())).unwrap();
    assert!(!snapshot.contains(&id), "nor does their snapshot");

    // The next cell lifted: still dark where the drawing is.
    assert!(
        !serde_json::to_string(&commit_as(&mut authority, &me(), vec![reveal(5, 5)]))
            .unwrap()
            .contains(&id)
    );
    let lifted = commit_as(&mut authority, &me(), vec![reveal(6, 6)]);
    assert!(
        lifted
            .changes
            .iter()
            .any(|c| c.path.to_string() == whole && matches!(c.op, Op::Set(_))),
        "the fog lifted sends it whole: {lifted:?}"
    );
    let covered = commit_as(
        &mut authority,
        &me(),
        vec![Change::delete(path(&format!(
            "encounters/{}/fog/revealed/{}",
            eid(1),
            Cell(6, 6)
        )))],
    );
    assert!(
        covered
            .changes
            .iter()
            .any(|c| c.path.to_string() == whole && c.op == Op::Delete),
        "covered again, it is deleted for them: {covered:?}"
    );
    // Its author erasing it under the fog: the others hear nothing.
    let erased = commit_as(&mut authority, &me(), vec![Change::delete(path(&whole))]);
    assert!(!serde_json::to_string(&erased).unwrap().contains(&id));
}

fn hp_shown(n: u128, shown: &str) -> Change {
    set(&format!("tokens/{}/hp_shown", tid(n)), json!(shown))
}

fn damage(actor: u128, by: i64) -> Change {
    Change::increment(path(&format!("actors/{}/hp/current", aid(actor))), by)
}

#[test]
fn a_monsters_hit_points_never_reach_a_player_unless_its_token_shows_them() {
    let mut authority = Authority::new(table(), 0);
    let seen = entities_for(&me(), authority.store());
    let monster = &seen.actors[&aid(2)];
    assert_eq!(monster.hp, None, "a monster's HP is the GM's by default");
    assert!(seen.actors[&aid(1)].hp.is_some(), "I read my own");
    assert!(seen.actors[&aid(5)].hp.is_some(), "and my party's");
    let bytes = serde_json::to_value(monster).unwrap();
    assert!(bytes.get("hp").is_none(), "no hp field at all: {bytes}");
    assert!(
        entities_for(&gm(), authority.store()).actors[&aid(2)]
            .hp
            .is_some()
    );

    // Damage the player may not read: the version arrives, nothing else.
    let hurt = commit_as(&mut authority, &me(), vec![damage(2, -4)]);
    assert_eq!(hurt.version, 1);
    assert!(hurt.changes.is_empty(), "{hurt:?}");
    // The GM shows the goblin's HP: the player receives them whole.
    let shown = commit_as(&mut authority, &me(), vec![hp_shown(2, "everyone")]);
    assert!(
        shown.changes.contains(&set(
            &format!("actors/{}/hp", aid(2)),
            json!({"current": 6, "max": 10, "temp": 0})
        )),
        "{shown:?}"
    );
    let hurt = commit_as(&mut authority, &me(), vec![damage(2, -1)]);
    assert_eq!(hurt.changes, [damage(2, -1)]);
    // Kept for the GM again: taken back.
    let kept = commit_as(&mut authority, &me(), vec![hp_shown(2, "gm")]);
    assert!(
        kept.changes
            .contains(&set(&format!("actors/{}/hp", aid(2)), json!(null))),
        "{kept:?}"
    );
    // A token the player does not see shows them nothing, whatever it says.
    let hidden = commit_as(&mut authority, &me(), vec![hp_shown(3, "everyone")]);
    assert!(hidden.changes.is_empty(), "{hidden:?}");
}

#[test]
fn a_whole_actor_arrives_without_the_hit_points_its_reader_may_not_see() {
    let mut authority = Authority::new(table(), 0);
    let mut goblin = actor_json(2, "monster");
    goblin["hp"] = json!({"current": 7, "max": 7});
    let replaced = commit_as(
        &mut authority,
        &me(),
        vec![set(&format!("actors/{}", aid(2)), goblin)],
    );
    assert_eq!(replaced.changes.len(), 1, "{replaced:?}");
    let text = serde_json::to_string(&replaced).unwrap();
    assert!(!text.contains("\"hp\""), "{text}");
    let gm_view = commit_as(&mut authority, &gm(), vec![damage(2, -2)]);
    assert_eq!(gm_view.changes, [damage(2, -2)]);
}

#[test]
fn an_owner_reads_their_hit_points_unless_a_token_keeps_them_for_the_gm() {
    let mut authority = Authority::new(table(), 0);
    let other = as_player(other_player());
    // The other player reads my character's HP (party default) ...
    assert!(
        entities_for(&other, authority.store()).actors[&aid(1)]
            .hp
            .is_some()
    );
    // ... until the GM keeps them to me.
    let owner_only = commit_as(&mut authority, &other, vec![hp_shown(1, "owner")]);
    assert!(
        owner_only
            .changes
            .contains(&set(&format!("actors/{}/hp", aid(1)), json!(null)))
    );
    assert!(
        entities_for(&me(), authority.store()).actors[&aid(1)]
            .hp
            .is_some()
    );
    // GM only: not even I read them.
    let gm_only = commit_as(&mut authority, &me(), vec![hp_shown(1, "gm")]);
    assert!(
        gm_only
            .changes
            .contains(&set(&format!("actors/{}/hp", aid(1)), json!(null))),
        "{gm_only:?}"
    );
    assert_eq!(
        entities_for(&me(), authority.store()).actors[&aid(1)].hp,
        None
    );
    assert!(hp_seen(authority.store(), other_player(), aid(5)));
    assert!(!hp_seen(authority.store(), testing::player(), aid(1)));
}

/// A log line with a random audience: the table, one player, the other
/// player or the GM alone.
fn random_line(r: u64) -> Value {
    let to = [
        json!(null),
        json!([testing::player()]),
        json!([other_player()]),
        json!([]),
    ][(r % 4) as usize]
        .clone();
    json!({"by": null, "kind": "chat", "text": format!("line {r}"), "to": to})
}

/// A random commit of one to three changes on [`table`]: moves in and out
/// of the fog, fog and visibility flips, ownership, initiative, effects,
/// items and log lines (whispers, undone lines, a full log dropping its
/// oldest), with the store's generic random changes mixed in.
fn random_commit(r: &mut u64) -> Vec<Change> {
    let mut next = || {
        *r ^= *r << 13;
        *r ^= *r >> 7;
        *r ^= *r << 17;
        *r
    };
    let count = 1 + next() % 3;
    (0..count)
        .map(|_| {
            let r = next();
            let token = u128::from((r >> 8) % 6);
            let cell = |shift: u32| f64::from(((r >> shift) % 5) as u32) * 50.0;
            let user = [json!(testing::player()), json!(other_player()), json!(null)]
                [((r >> 12) % 3) as usize]
                .clone();
            match r % 32 {
                0 => fog_on(),
                1 => set(&format!("encounters/{}/fog/enabled", eid(1)), json!(false)),
                2 => reveal(((r >> 16) % 5) as i32, ((r >> 20) % 5) as i32),
                3 => Change::delete(path(&format!(
                    "encounters/{}/fog/revealed/{}",
                    eid(1),
                    Cell(((r >> 16) % 5) as i32, ((r >> 20) % 5) as i32)
                ))),
                4 | 5 => move_to(token, cell(16), cell(20)),
                6 => set(
                    &format!("tokens/{}/visibility", tid(token)),
                    json!(["visible", "hidden", "gm_only"][((r >> 16) % 3) as usize]),
                ),
                7 => set(
                    &format!("actors/{}/owner", aid([1, 2, 5][((r >> 16) % 3) as usize])),
                    user,
                ),
                8 => set(
                    &format!("tokens/{}/actor", tid(token)),
                    json!(aid([1, 2, 5][((r >> 16) % 3) as usize])),
                ),
                9 => set(
                    &format!("encounters/{}/initiative", eid(1)),
                    json!({
                        "order": [tid(token), tid((token + 1) % 6), tid((token + 2) % 6)],
                        "turn": (r >> 16) % 3,
                        "round": 1,
                        "phase": "combat",
                    }),
                ),
                10 => Change::increment(
                    path(&format!("encounters/{}/initiative/turn", eid(1))),
                    1,
                ),
                11 => set(
                    &format!("effects/{}", fid(token)),
                    json!({
                        "id": fid(token),
                        "name": "Bless",
                        "targets": [tid((r >> 16) as u128 % 6)],
                        "source": tid((r >> 20) as u128 % 6),
                    }),
                ),
                12 => set(
                    &format!("items/{}", iid(token)),
                    json!({"id": iid(token), "name": "Torch", "owner": aid([1, 2, 5][((r >> 16) % 3) as usize])}),
                ),
                13 => set(
                    &format!("tokens/{}/scale", tid(token)),
                    json!(1 + (r >> 16) % 3),
                ),
                14 => set(
                    &format!("tokens/{}/hp_shown", tid(token)),
                    [json!("everyone"), json!("owner"), json!("gm"), json!(null)][((r >> 16) % 4) as usize].clone(),
                ),
                15 => Change::increment(
                    path(&format!(
                        "actors/{}/hp/current",
                        aid([1, 2, 5][((r >> 16) % 3) as usize])
                    )),
                    -1,
                ),
                16 => {
                    let n = [1, 2, 5][((r >> 16) % 3) as usize];
                    let mut actor = actor_json(n, ["character", "monster"][((r >> 20) % 2) as usize]);
                    actor["owner"] = user;
                    actor["hp"] = json!({"current": (r >> 24) % 30, "max": 30});
                    set(&format!("actors/{}", aid(n)), actor)
                }
                17 | 18 => Change::append(
                    path(&format!("encounters/{}/log", eid(1))),
                    random_line(r >> 16),
                ),
                // An undone line (fails on a log too short, as it may).
                19 => Change::delete(path(&format!(
                    "encounters/{}/log/{}",
                    eid(1),
                    (r >> 16) % 4
                ))),
                // A log at or near its limit: the next line drops the
                // oldest.
                20 => set(
                    &format!("encounters/{}/log", eid(1)),
                    Value::Array(
                        (0..limits::MAX_LOG_LINES as u64 - (r >> 16) % 2)
                            .map(|n| random_line((r >> 20).wrapping_add(n * 7)))
                            .collect(),
                    ),
                ),
                // A drawing by a player or the GM, in or out of the fog.
                21 => {
                    let author = [testing::player(), other_player(), gm().user][((r >> 12) % 3) as usize];
                    set(
                        &format!("drawings/{}", did(token)),
                        drawing_json(token, 1, author, cell(16), cell(20)),
                    )
                }
                22 => Change::delete(path(&format!("drawings/{}", did(token)))),
                // Walls that hide, or not; a wall or a door across the
                // map, a door opening or closing, a wall taken away.
                23 => set(
                    &format!("encounters/{}/map/vision", eid(1)),
                    json!((r >> 16) % 4 != 0),
                ),
                24 | 25 => {
                    let kind = [WallKind::Wall, WallKind::Door, WallKind::Window, WallKind::Terrain]
                        [((r >> 12) % 4) as usize];
                    let (x, y) = (cell(16) + 20.0, cell(20) - 40.0);
                    let end = if (r >> 24) % 2 == 0 {
                        (x, y + 50.0 * f64::from(1 + ((r >> 26) % 4) as u32))
                    } else {
                        (x + 50.0 * f64::from(1 + ((r >> 26) % 4) as u32), y)
                    };
                    set(
                        &format!("walls/{}", wid(token)),
                        to_value(&testing::wall(token, kind, (x, y), end)),
                    )
                }
                26 => set(
                    &format!("walls/{}/door", wid(token)),
                    json!(["open", "closed", "locked"][((r >> 16) % 3) as usize]),
                ),
                27 => Change::delete(path(&format!("walls/{}", wid(token)))),
                // Day and night; a token's range, darkvision and light.
                28 => set(
                    &format!("encounters/{}/map/daylight", eid(1)),
                    json!((r >> 16) % 3 == 0),
                ),
                29 | 30 => {
                    let feet = |shift: u32| [0, 10, 20, 60][((r >> shift) % 4) as usize];
                    let mut sight = json!({"darkvision": feet(16)});
                    if (r >> 18) % 3 == 0 {
                        sight["range"] = json!(feet(20) + 5);
                    }
                    if (r >> 22) % 2 == 0 {
                        sight["light"] = json!({"bright": feet(24), "dim": feet(24) + feet(26)});
                    }
                    set(&format!("tokens/{}/sight", tid(token)), sight)
                }
                _ => random_change(r >> 4),
            }
        })
        .collect()
}

/// Whatever the GM does, each recipient who applies their filtered
/// commits to their filtered snapshot holds exactly their filtered view of
/// the state: tokens, actors, items, effects and encounters. And the bytes
/// each recipient's socket is sent (JSON and MessagePack) never name an
/// entity the recipient holds neither before the commit nor after it: a
/// hidden or `gm_only` token, its actor, an effect on it, a drawing under
/// the fog.
#[test]
fn filtered_commits_keep_every_recipient_in_step_with_their_view() {
    let viewers = [me(), as_player(other_player()), observer(), gm()];
    let mut commits = 0;
    let mut named_nowhere = 0;
    // Drag previews a player was sent, and withheld.
    let mut previews = [0u32; 2];
    for seed in 0..400u64 {
        // As in a session: the encounters are the snapshot's.
        let start = Store::from_entities(table().entities().clone()).unwrap();
        let mut authority = Authority::new(start, 0);
        let mut mirrors: Vec<Store> = viewers
            .iter()
            .map(|who| Store::from_entities(entities_for(who, authority.store())).unwrap())
            .collect();
        let mut r = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        // The previews' own sequence, so the histories stay the same.
        let mut p = r.rotate_left(17) | 1;
        for _ in 0..30 {
            let changes = random_commit(&mut r);
            let before = SeenBefore::new(authority.store(), &changes);
            let before_entities = authority.store().entities().clone();
            let Ok((commit, _)) = authority.commit(None, changes) else {
                continue;
            };
            commits += 1;
            let view = CommitView::new(&commit, &before, authority.store());
            let ids = entity_ids(&before_entities, authority.store().entities());
            for (who, mirror) in viewers.iter().zip(&mut mirrors) {
                let received = view.for_participant(who);
                let held_before = mirror.entities().clone();
                mirror.apply_all(&received.changes).unwrap_or_else(|error| {
                    panic!("seed {seed}, {who:?}: {error} applying {received:?} for {commit:?}")
                });
                // The frames as the socket sends them: no entity the
                // recipient holds neither before nor after is named in them.
                let held = entity_ids(&held_before, mirror.entities());
                let message = ServerMessage::Commit(received.clone().into_owned());
                for encoding in [Encoding::Json, Encoding::MessagePack] {
                    let bytes = message.encode_with(encoding);
                    for id in ids.iter().filter(|id| !held.contains(id)) {
                        assert!(
                            !names(&bytes, *id),
                            "seed {seed}, {who:?}, {encoding:?}: {id} is in the frame {received:?} of {commit:?}"
                        );
                        named_nowhere += 1;
                    }
                }
                assert_eq!(
                    *mirror.entities(),
                    entities_for(who, authority.store()),
                    "seed {seed}, {who:?}, after {commit:?}"
                );
                // Someone drags each token somewhere: a player is sent the
                // preview (which names the token) only for a token they hold.
                if who.role.is_gm_or_assistant() {
                    continue;
                }
                for token in authority.store().entities().tokens.keys() {
                    p ^= p << 13;
                    p ^= p >> 7;
                    p ^= p << 17;
                    let at = Point::new((p % 300) as f64, ((p >> 16) % 300) as f64);
                    if preview_seen(authority.store(), who.user, *token, at) {
                        assert!(
                            mirror.entities().tokens.contains_key(token),
                            "seed {seed}, {who:?}: a preview of {token} it does not hold"
                        );
                        previews[0] += 1;
                    } else {
                        previews[1] += 1;
                    }
                }
            }
        }
    }
    assert!(commits > 4_000, "only {commits} commits applied");
    assert!(
        previews.iter().all(|&n| n > 1_000),
        "previews sent and withheld: {previews:?}"
    );
    // The byte check ran where it could fail: on ids kept from someone.
    assert!(
        named_nowhere > 10_000,
        "only {named_nowhere} ids checked absent"
    );
}

/// Every entity id of the two states (tokens, actors, items, effects,
/// drawings, encounters).
fn entity_ids(before: &Entities, after: &Entities) -> std::collections::BTreeSet<uuid::Uuid> {
    let mut ids = std::collections::BTreeSet::new();
    for e in [before, after] {
        ids.extend(e.tokens.keys().map(|id| id.0));
        ids.extend(e.actors.keys().map(|id| id.0));
        ids.extend(e.items.keys().map(|id| id.0));
        ids.extend(e.effects.keys().map(|id| id.0));
        ids.extend(e.drawings.keys().map(|id| id.0));
        ids.extend(e.encounters.keys().map(|id| id.0));
    }
    ids
}

/// Whether a frame names `id`, as text or as its 16 bytes.
fn names(bytes: &[u8], id: uuid::Uuid) -> bool {
    let text = id.to_string();
    let raw = id.as_bytes();
    bytes.windows(text.len()).any(|w| w == text.as_bytes())
        || bytes.windows(raw.len()).any(|w| w == raw)
}

/// A whisper and the two secret rolls, as the actions write them, reach
/// the bytes of their readers only.
#[test]
fn whispers_and_secret_rolls_reach_only_their_readers_bytes() {
    use crate::action::{Action, Secrecy};
    let viewers = [me(), as_player(other_player()), observer(), gm()];
    let bytes = |authority: &mut Authority, by: UserId, action: Action| {
        let changes = action.changes(authority.store(), by).unwrap();
        let before = SeenBefore::new(authority.store(), &changes);
        let (commit, _) = authority.commit(None, changes).unwrap();
        let view = CommitView::new(&commit, &before, authority.store());
        viewers.map(|who| serde_json::to_string(&*view.for_participant(&who)).unwrap())
    };
    let mut authority = Authority::new(table(), 0);
    let [mine, other, watching, gm_reads] = bytes(
        &mut authority,
        testing::player(),
        Action::Chat {
            encounter: eid(1),
            text: "the password is swordfish".into(),
            to: Some(vec![]),
            rolls: Vec::new(),
        },
    );
    for (reader, seen) in [
        (true, &mine),
        (false, &other),
        (false, &watching),
        (true, &gm_reads),
    ] {
        assert_eq!(seen.contains("swordfish"), reader, "{seen}");
    }

    let mut roll = |secrecy| {
        let mut action = Action::Roll {
            encounter: eid(1),
            dice: "1d20+7".into(),
            roll: None,
            secrecy,
        };
        action.roll_dice(authority.store(), |_| 13);
        bytes(&mut authority, other_player(), action)
    };
    // A GM roll: the roller and the GM read the result.
    let [mine, other, watching, gm_reads] = roll(Secrecy::Gm);
    for (reader, seen) in [
        (false, &mine),
        (true, &other),
        (false, &watching),
        (true, &gm_reads),
    ] {
        assert_eq!(seen.contains("13 → 20"), reader, "{seen}");
    }
    // A blind roll: the roller learns they rolled, the GM alone the result.
    let [mine, other, watching, gm_reads] = roll(Secrecy::Blind);
    for (reader, seen) in [
        (false, &mine),
        (false, &other),
        (false, &watching),
        (true, &gm_reads),
    ] {
        assert_eq!(seen.contains("13 → 20"), reader, "{seen}");
    }
    assert!(other.contains("rolled blind"), "{other}");
    assert!(!mine.contains("rolled blind"), "{mine}");

    // The snapshot a player joins with holds their lines only.
    let lines = |who: &Participant| {
        entities_for(who, authority.store()).encounters[&eid(1)]
            .log
            .iter()
            .map(|l| l.text.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(lines(&me()), ["the password is swordfish"]);
    assert_eq!(lines(&observer()), Vec::<String>::new());
    assert_eq!(lines(&gm()).len(), 4);
}

fn vision(on: bool) -> Change {
    set(&format!("encounters/{}/map/vision", eid(1)), json!(on))
}

fn door(state: &str) -> Change {
    set(&format!("walls/{}/door", wid(1)), json!(state))
}

fn names_token(commit: &Commit, n: u128) -> bool {
    let token = tid(n).to_string();
    commit
        .changes
        .iter()
        .any(|c| c.path.segments().get(1) == Some(&token))
}

/// Where walls hide, a player receives a token only while one of theirs
/// sees it: a closed door keeps the monster off their socket, opening it
/// brings the monster whole, closing it takes it away, and walking round
/// the wall's end brings it again. Every member has the walls; the GM has
/// everything; a player with no line of sight is sent nothing of it.
#[test]
fn where_walls_hide_a_player_receives_only_what_their_tokens_see() {
    // My token 1 stands at the origin (its middle at 25, 25), the monster's
    // token 2 at (200, 200); a door runs down x = 100 to y = 400.
    let mut store = table();
    store
        .apply(&set(
            &format!("walls/{}", wid(1)),
            to_value(&testing::wall(
                1,
                WallKind::Door,
                (100.0, -100.0),
                (100.0, 400.0),
            )),
        ))
        .unwrap();
    let seen = |store: &Store, who: &Participant, n: u128| {
        entities_for(who, store).tokens.contains_key(&tid(n))
    };
    assert!(
        seen(&store, &me(), 2),
        "walls hide nothing until the GM says so"
    );
    store.apply(&vision(true)).unwrap();
    assert!(!seen(&store, &me(), 2));
    assert!(seen(&store, &me(), 1), "my own token");
    assert!(seen(&store, &me(), 5), "the other player's, on my side");
    assert!(seen(&store, &gm(), 2));
    assert!(entities_for(&me(), &store).walls.contains_key(&wid(1)));
    assert!(
        !entities_for(&observer(), &store)
            .tokens
            .contains_key(&tid(2))
    );

    let mut authority = Authority::new(store, 0);
    let opened = commit_as(&mut authority, &me(), vec![door("open")]);
    assert!(
        opened.changes.contains(&set(
            &format!("tokens/{}", tid(2)),
            to_value(authority.store().token(tid(2)).unwrap())
        )),
        "{opened:?}"
    );
    let closed = commit_as(&mut authority, &me(), vec![door("closed")]);
    assert!(
        closed
            .changes
            .contains(&Change::delete(path(&format!("tokens/{}", tid(2))))),
        "{closed:?}"
    );
    // The monster moves behind the closed door: nothing of it for me.
    let hidden = commit_as(&mut authority, &me(), vec![move_to(2, 250.0, 200.0)]);
    assert!(!names_token(&hidden, 2), "{hidden:?}");
    assert_eq!(hidden.version, 3, "the version arrives all the same");
    // Round the wall's end (it stops at y = 400): in sight again.
    let round = commit_as(&mut authority, &me(), vec![move_to(1, 0.0, 500.0)]);
    assert!(names_token(&round, 2), "{round:?}");
    // The other player's token stays behind the wall: not for them.
    let theirs = commit_as(
        &mut authority,
        &as_player(other_player()),
        vec![move_to(1, 0.0, 550.0)],
    );
    assert!(!names_token(&theirs, 2), "{theirs:?}");
    let store = authority.store();
    assert!(seen(store, &me(), 2) && !seen(store, &as_player(other_player()), 2));
}

fn daylight(on: bool) -> Change {
    set(&format!("encounters/{}/map/daylight", eid(1)), json!(on))
}

fn sight_of(n: u128, sight: serde_json::Value) -> Change {
    set(&format!("tokens/{}/sight", tid(n)), sight)
}

/// In the dark, a player's token sees only by its darkvision and by the
/// light tokens shed, a light reaching only where no wall stops it; in
/// daylight, as far as its range. My token's middle is at (25, 25), the
/// monster's square runs from (200, 200) to (250, 250); ten pixels to the
/// foot, and reaches are measured from a token's middle plus half its
/// side (25 pixels).
#[test]
fn in_the_dark_a_player_sees_by_darkvision_and_by_light() {
    let mut store = table();
    store.apply(&vision(true)).unwrap();
    let seen = |store: &Store, n: u128| entities_for(&me(), store).tokens.contains_key(&tid(n));
    assert!(seen(&store, 2), "daylight, no walls: everything");
    store.apply(&sight_of(1, json!({"range": 10}))).unwrap();
    assert!(!seen(&store, 2), "beyond my 10 ft (125 px) range");
    store.apply(&sight_of(1, json!({}))).unwrap();
    store.apply(&daylight(false)).unwrap();
    assert!(!seen(&store, 2), "in the dark, without darkvision");
    assert!(seen(&store, 1), "my own token, dark or not");
    store
        .apply(&sight_of(1, json!({"darkvision": 10})))
        .unwrap();
    assert!(!seen(&store, 2), "10 ft of darkvision reach 125 px");
    store
        .apply(&sight_of(1, json!({"darkvision": 30})))
        .unwrap();
    assert!(
        seen(&store, 2),
        "30 ft reach 325 px: the monster's near corner is 250 away"
    );
    // A light the GM placed, hidden: 20 ft of light reach 225 px from (425, 225).
    store.apply(&sight_of(1, json!({}))).unwrap();
    let lamp = tid(9);
    store
        .apply(&set(
            &format!("tokens/{lamp}"),
            json!({"id": lamp, "encounter": eid(1), "name": "Brazier", "position": {"x": 400.0, "y": 200.0},
                   "visibility": "hidden", "sight": {"light": {"bright": 10, "dim": 20}}}),
        ))
        .unwrap();
    assert!(seen(&store, 2), "the brazier lights the monster");
    assert!(
        !seen(&store, 9),
        "a hidden light is not sent, only its light"
    );
    let walls = |store: &mut Store, n: u128, x: f64| {
        store
            .apply(&set(
                &format!("walls/{}", wid(n)),
                to_value(&testing::wall(n, WallKind::Wall, (x, 0.0), (x, 400.0))),
            ))
            .unwrap();
    };
    walls(&mut store, 1, 350.0);
    assert!(
        !seen(&store, 2),
        "a wall between the brazier and the monster"
    );
    store
        .apply(&Change::delete(path(&format!("walls/{}", wid(1)))))
        .unwrap();
    walls(&mut store, 1, 150.0);
    assert!(
        !seen(&store, 2),
        "lit, but a wall between me and the monster"
    );
    store
        .apply(&Change::delete(path(&format!("walls/{}", wid(1)))))
        .unwrap();

    // The commits: day breaks, the monster arrives whole; night falls, it
    // goes; it lights a torch, it is back.
    store
        .apply(&Change::delete(path(&format!("tokens/{lamp}"))))
        .unwrap();
    let mut authority = Authority::new(store, 0);
    let day = commit_as(&mut authority, &me(), vec![daylight(true)]);
    assert!(names_token(&day, 2), "day breaks: {day:?}");
    let night = commit_as(&mut authority, &me(), vec![daylight(false)]);
    assert!(
        night
            .changes
            .contains(&Change::delete(path(&format!("tokens/{}", tid(2))))),
        "night falls: {night:?}"
    );
    let lit = commit_as(
        &mut authority,
        &me(),
        vec![sight_of(2, json!({"light": {"bright": 20, "dim": 40}}))],
    );
    assert!(names_token(&lit, 2), "the monster lights a torch: {lit:?}");
    // Where walls hide, a ping is relayed to whoever sees its place.
    let store = authority.store();
    assert!(point_seen(
        store,
        testing::player(),
        eid(1),
        Point::new(225.0, 225.0)
    ));
    assert!(!point_seen(
        store,
        testing::player(),
        eid(1),
        Point::new(2000.0, 2000.0)
    ));
}
