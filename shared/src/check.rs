//! The invariants the fuzz target checks, as a function, so crashers found
//! by fuzzing replay as ordinary tests (`tests/fuzz_regressions.rs`).
//!
//! Not part of the API; public only for the fuzz crate.

use std::sync::OnceLock;

use serde_json::json;

use crate::{
    change::Change,
    id::UserId,
    path::Path,
    protocol::{ClientMessage, Verdict},
    rules::{self, ApprovalPolicy, Participant, Role},
    store::Store,
};

/// Decodes `data` as a client frame and, if it is a request or a GM
/// decision, validates it and applies its changes to a small table.
/// Panics if any invariant breaks: a refused change must leave the store
/// untouched, an accepted one must keep the indices exact and undo
/// exactly. Never panics on bad input alone.
pub fn decode_validate_apply(data: &[u8]) {
    let Ok(message) = ClientMessage::decode(data) else {
        return;
    };
    let store = table();
    let player = Participant {
        user: UserId(uuid::Uuid::from_u128(1)),
        role: Role::Player,
    };
    let gm = Participant {
        user: UserId(uuid::Uuid::from_u128(2)),
        role: Role::Gm,
    };
    let changes = match message {
        ClientMessage::Request(request) => {
            let _ = rules::authorize(&player, &request.action, store);
            let _ = ApprovalPolicy::default().decide(&player, &request.action, store);
            let _ = ApprovalPolicy::default().decide(&gm, &request.action, store);
            match request.action.changes(store, player.user) {
                Ok(changes) => changes,
                Err(_) => return,
            }
        }
        ClientMessage::Decide(decision) => match decision.verdict {
            Verdict::Modify { changes, .. } => changes,
            _ => return,
        },
        _ => return,
    };
    let mut copy = store.clone();
    match copy.apply_all(&changes) {
        Ok(undo) => {
            assert!(copy.indices_are_consistent(), "indices diverged");
            let encoded = serde_json::to_string(copy.entities()).unwrap_or_default();
            copy.undo(undo);
            assert!(copy == *store, "undo did not restore the state");
            // Applying again gives the same state.
            let mut again = store.clone();
            if again.apply_all(&changes).is_ok() {
                assert_eq!(
                    serde_json::to_string(again.entities()).unwrap_or_default(),
                    encoded
                );
            }
        }
        Err(_) => assert!(copy == *store, "a refused change altered the state"),
    }
}

/// An encounter with a visible, a hidden and a GM-only token, two actors,
/// an item and an effect.
fn table() -> &'static Store {
    static TABLE: OnceLock<Store> = OnceLock::new();
    TABLE.get_or_init(|| {
        let e = "00000000-0000-0000-0000-00000000e001";
        let a = ["00000000-0000-0000-0000-00000000a001", "00000000-0000-0000-0000-00000000a002"];
        let t = [
            "00000000-0000-0000-0000-000000007001",
            "00000000-0000-0000-0000-000000007002",
            "00000000-0000-0000-0000-000000007003",
        ];
        let set = |path: String, value| Change::set(Path::from_segments(path.split('/').map(str::to_owned)), value);
        let mut store = Store::new();
        let changes = vec![
            set(format!("encounters/{e}"), json!({"id": e, "name": "Fuzz", "map": {"grid_size": 50.0}})),
            set(
                format!("actors/{}", a[0]),
                json!({"id": a[0], "name": "Hero", "kind": "character", "owner": "00000000-0000-0000-0000-000000000001", "hp": {"current": 10, "max": 10}}),
            ),
            set(format!("actors/{}", a[1]), json!({"id": a[1], "name": "Orc", "kind": "monster", "hp": {"current": 15, "max": 15}})),
            set(format!("tokens/{}", t[0]), json!({"id": t[0], "encounter": e, "actor": a[0], "name": "Hero", "position": {"x": 0.0, "y": 0.0}})),
            set(
                format!("tokens/{}", t[1]),
                json!({"id": t[1], "encounter": e, "actor": a[1], "name": "Orc", "position": {"x": 100.0, "y": 0.0}, "visibility": "hidden"}),
            ),
            set(
                format!("tokens/{}", t[2]),
                json!({"id": t[2], "encounter": e, "name": "Trap", "position": {"x": 50.0, "y": 50.0}, "visibility": "gm_only"}),
            ),
            set(
                "items/00000000-0000-0000-0000-000000001001".into(),
                json!({"id": "00000000-0000-0000-0000-000000001001", "name": "Rope", "owner": a[0]}),
            ),
            set(
                "effects/00000000-0000-0000-0000-00000000f001".into(),
                json!({"id": "00000000-0000-0000-0000-00000000f001", "name": "Bless", "targets": [t[0]], "remaining_rounds": 3}),
            ),
        ];
        // The fixture is fixed and valid; a failure here is a bug caught by
        // the regression test on first use.
        store.apply_all(&changes).map(drop).unwrap_or_else(|error| panic!("fuzz fixture: {error}"));
        store
    })
}

/// Reads `data` as an eye and up to 64 walls (each coordinate one signed
/// byte times 4, so ends coincide, walls run collinear and pass through
/// corners often) in an 800 px room, and checks the visibility polygon:
/// every vertex is a finite point in the room, seen from the eye (the way
/// to it crosses no wall), and an eye clear of every wall sees a polygon.
/// Panics when one of those breaks; never on the input alone.
pub fn visibility(data: &[u8]) {
    use crate::{
        geometry::{Point, Rect},
        sight::polygon::{Segment, visibility},
    };
    let coordinate = |b: u8| f64::from(b as i8) * 4.0;
    let [ex, ey, rest @ ..] = data else {
        return;
    };
    let eye = Point::new(coordinate(*ex), coordinate(*ey));
    let walls: Vec<Segment> = rest
        .chunks_exact(4)
        .take(64)
        .map(|w| {
            Segment::new(
                Point::new(coordinate(w[0]), coordinate(w[1])),
                Point::new(coordinate(w[2]), coordinate(w[3])),
            )
        })
        .collect();
    let room = Rect {
        min: Point::new(-400.0, -400.0),
        max: Point::new(400.0, 400.0),
    };
    let polygon = visibility(eye, &walls, room);
    let side = |a: Point, b: Point, p: Point| (b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x);
    // Clearly on one side: past rounding of products of coordinates up
    // to 800 apart.
    let clear = |d: f64| d.abs() > 1e-6;
    for v in &polygon.vertices {
        assert!(v.is_finite(), "vertex {v:?}");
        assert!(
            (-400.0 - 1e-9..=400.0 + 1e-9).contains(&v.x)
                && (-400.0 - 1e-9..=400.0 + 1e-9).contains(&v.y),
            "vertex {v:?} outside the room"
        );
        // Short of the vertex, the way from the eye crosses no wall.
        let short = Point::new(eye.x + (v.x - eye.x) * 0.999, eye.y + (v.y - eye.y) * 0.999);
        for w in &walls {
            let (d1, d2) = (side(w.a, w.b, eye), side(w.a, w.b, short));
            let (d3, d4) = (side(eye, short, w.a), side(eye, short, w.b));
            let crosses = clear(d1)
                && clear(d2)
                && clear(d3)
                && clear(d4)
                && (d1 > 0.0) != (d2 > 0.0)
                && (d3 > 0.0) != (d4 > 0.0);
            assert!(!crosses, "vertex {v:?} is behind wall {w:?} from {eye:?}");
        }
    }
    let inside = eye.x > -400.0 && eye.x < 400.0 && eye.y > -400.0 && eye.y < 400.0;
    let free = walls
        .iter()
        .all(|w| w.a != w.b && crate::drawing::segment_distance(eye, w.a, w.b) > 1.0);
    if inside && free {
        assert!(polygon.vertices.len() >= 3, "{eye:?} sees {polygon:?}");
    }
}
