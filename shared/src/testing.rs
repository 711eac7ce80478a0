//! Fixtures for this crate's tests: deterministic ids, entity JSON, a small
//! store, and random changes from entropy.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    change::Change,
    id::{ActorId, DrawingId, EffectId, EncounterId, ItemId, TokenId, WallId},
    path::Path,
    store::Store,
};

pub(crate) fn path(text: &str) -> Path {
    Path::parse(text).unwrap()
}

pub(crate) fn eid(n: u128) -> EncounterId {
    EncounterId(Uuid::from_u128(0xE000 + n))
}
pub(crate) fn tid(n: u128) -> TokenId {
    TokenId(Uuid::from_u128(0x7000 + n))
}
pub(crate) fn aid(n: u128) -> ActorId {
    ActorId(Uuid::from_u128(0xA000 + n))
}
pub(crate) fn iid(n: u128) -> ItemId {
    ItemId(Uuid::from_u128(0x1000 + n))
}
pub(crate) fn fid(n: u128) -> EffectId {
    EffectId(Uuid::from_u128(0xF000 + n))
}
pub(crate) fn did(n: u128) -> DrawingId {
    DrawingId(Uuid::from_u128(0xD000 + n))
}

pub(crate) fn wid(n: u128) -> WallId {
    WallId(Uuid::from_u128(0xB000 + n))
}

/// A wall of `kind` on encounter 1 from (`ax`, `ay`) to (`bx`, `by`); a
/// door starts closed.
pub(crate) fn wall(
    n: u128,
    kind: crate::wall::WallKind,
    a: (f64, f64),
    b: (f64, f64),
) -> crate::wall::Wall {
    use crate::geometry::Point;
    crate::wall::Wall {
        id: wid(n),
        encounter: eid(1),
        from: Point::new(a.0, a.1),
        to: Point::new(b.0, b.1),
        kind,
        door: (kind == crate::wall::WallKind::Door).then_some(crate::wall::DoorState::Closed),
    }
}

/// A 4 px line drawing by `author` on encounter `encounter`, from
/// (`x`, `y`) 10 px right and down.
pub(crate) fn drawing_json(
    n: u128,
    encounter: u128,
    author: crate::id::UserId,
    x: f64,
    y: f64,
) -> Value {
    json!({
        "id": did(n),
        "encounter": eid(encounter),
        "author": author,
        "shape": {"kind": "line", "from": {"x": x, "y": y}, "to": {"x": x + 10.0, "y": y + 10.0}},
        "color": "#d62828",
        "width": 4,
    })
}

pub(crate) fn encounter_json(n: u128) -> Value {
    json!({"id": eid(n), "name": format!("Encounter {n}"), "map": {"grid_size": 50.0}})
}
pub(crate) fn token_json(n: u128, encounter: u128, x: f64, y: f64) -> Value {
    json!({"id": tid(n), "encounter": eid(encounter), "name": format!("Token {n}"), "position": {"x": x, "y": y}})
}
pub(crate) fn actor_json(n: u128, kind: &str) -> Value {
    json!({"id": aid(n), "name": format!("Actor {n}"), "kind": kind, "hp": {"current": 10, "max": 10}})
}

pub(crate) fn set(p: &str, value: Value) -> Change {
    Change::set(path(p), value)
}

/// A store with two encounters, three tokens, two actors.
pub(crate) fn sample() -> Store {
    let mut store = Store::new();
    let changes = [
        set(&format!("encounters/{}", eid(1)), encounter_json(1)),
        set(&format!("encounters/{}", eid(2)), encounter_json(2)),
        set(&format!("tokens/{}", tid(1)), token_json(1, 1, 0.0, 0.0)),
        set(
            &format!("tokens/{}", tid(2)),
            token_json(2, 1, 500.0, 500.0),
        ),
        set(&format!("tokens/{}", tid(3)), token_json(3, 2, 0.0, 0.0)),
        set(&format!("actors/{}", aid(1)), actor_json(1, "character")),
        set(&format!("actors/{}", aid(2)), actor_json(2, "monster")),
    ];
    store.apply_all(&changes).unwrap();
    store
}

/// A random change from entropy: mostly well-formed changes on known
/// entities, with unknown ids, wrong types and bad operations mixed in.
pub(crate) fn random_change(r: u64) -> Change {
    let pick = |shift: u32, n: u64| (r >> shift) % n;
    let n = u128::from(pick(8, 6));
    let f = |shift: u32| ((r >> shift) % 2000) as f64 - 500.0;
    let int = |shift: u32| ((r >> shift) % 41) as i64 - 20;
    match pick(0, 26) {
        0 => set(&format!("encounters/{}", eid(n % 3)), encounter_json(n % 3)),
        1 if pick(40, 3) == 0 => set(
            &format!("encounters/{}/map/grid", eid(n % 3)),
            json!(["square", "hex_rows", "hex_columns"][pick(16, 3) as usize]),
        ),
        1 => set(
            &format!("encounters/{}/map/grid_size", eid(n % 3)),
            json!(f(16).abs() + 1.0),
        ),
        2 => Change::delete(path(&format!("encounters/{}", eid(n % 3)))),
        3 | 4 => set(
            &format!("tokens/{}", tid(n)),
            token_json(n, u128::from(pick(20, 3)), f(24), f(36)),
        ),
        5 | 6 => set(
            &format!("tokens/{}/position", tid(n)),
            json!({"x": f(16), "y": f(28)}),
        ),
        7 => Change::increment(path(&format!("tokens/{}/position/y", tid(n))), int(16)),
        8 => set(
            &format!("tokens/{}/encounter", tid(n)),
            json!(eid(u128::from(pick(16, 4)))),
        ),
        9 => Change::delete(path(&format!("tokens/{}", tid(n)))),
        10 => set(&format!("tokens/{}/scale", tid(n)), json!(int(16))),
        11 => Change::append(
            path(&format!("tokens/{}/conditions", tid(n))),
            ["prone", "stunned"][pick(16, 2) as usize],
        ),
        12 => Change::delete(path(&format!("tokens/{}/conditions/prone", tid(n)))),
        13 => set(
            &format!("actors/{}", aid(n)),
            actor_json(n, ["character", "npc", "monster"][pick(16, 3) as usize]),
        ),
        14 => set(
            &format!("actors/{}/kind", aid(n)),
            json!(["character", "npc", "monster", "dragon"][pick(16, 4) as usize]),
        ),
        15 => Change::increment(path(&format!("actors/{}/hp/current", aid(n))), int(16)),
        16 => Change::delete(path(&format!("actors/{}", aid(n)))),
        17 => set(
            &format!("items/{}", iid(n)),
            json!({"id": iid(n), "name": "Torch", "owner": aid(u128::from(pick(16, 4)))}),
        ),
        18 => set(
            &format!("items/{}/owner", iid(n)),
            if pick(16, 3) == 0 {
                Value::Null
            } else {
                json!(aid(u128::from(pick(18, 4))))
            },
        ),
        19 => set(
            &format!("effects/{}", fid(n)),
            json!({"id": fid(n), "name": "Bless", "targets": [tid(n), tid(u128::from(pick(16, 6)))]}),
        ),
        20 => Change::append(
            path(&format!("effects/{}/targets", fid(n))),
            json!(tid(u128::from(pick(16, 6)))),
        ),
        21 => Change::merge(
            path(&format!("tokens/{}", tid(n))),
            json!({"rotation": f(16), "scale": int(26)}),
        ),
        22 => set(
            &format!("effects/{}/source", fid(n)),
            json!(tid(u128::from(pick(16, 6)))),
        ),
        23 => set(
            &format!("drawings/{}", did(n)),
            drawing_json(n, n % 3, player(), f(16), f(28)),
        ),
        24 => Change::delete(path(&format!("drawings/{}", did(n)))),
        _ => Change::append(
            path(&format!("encounters/{}/fog/revealed", eid(n % 3))),
            json!([[int(16), int(24)]]),
        ),
    }
}

/// The store's entities as JSON: equal strings mean bit-for-bit equal
/// numbers (unlike `==` on floats, which equates 0.0 and -0.0).
pub(crate) fn exact(store: &Store) -> String {
    serde_json::to_string(store.entities()).unwrap()
}

/// A player's account in [`table`].
pub(crate) fn player() -> crate::id::UserId {
    crate::id::UserId(Uuid::from_u128(0x5E11))
}

/// Another player's account.
pub(crate) fn other_player() -> crate::id::UserId {
    crate::id::UserId(Uuid::from_u128(0x5E12))
}

/// A table: encounter 1 (grid 50 px, 5 ft) with the player's token 1
/// (actor 1, speed 30) at the origin, a monster's token 2 visible, a
/// hidden token 3 and a GM-only token 4, and the other player's token 5.
pub(crate) fn table() -> Store {
    let mut store = Store::new();
    let mut changes = vec![set(&format!("encounters/{}", eid(1)), encounter_json(1))];
    let actors = [
        (1, "character", Some(player())),
        (2, "monster", None),
        (5, "character", Some(other_player())),
    ];
    for (n, kind, owner) in actors {
        let mut actor = actor_json(n, kind);
        actor["owner"] = json!(owner);
        changes.push(set(&format!("actors/{}", aid(n)), actor));
    }
    for (n, actor, visibility) in [
        (1, 1, "visible"),
        (2, 2, "visible"),
        (3, 2, "hidden"),
        (4, 2, "gm_only"),
        (5, 5, "visible"),
    ] {
        let mut token = token_json(n, 1, 0.0, 0.0);
        token["actor"] = json!(aid(actor));
        token["visibility"] = json!(visibility);
        changes.push(set(&format!("tokens/{}", tid(n)), token));
    }
    store.apply_all(&changes).unwrap();
    store
}
