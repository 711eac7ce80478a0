//! `/bench/map?tokens=N[&art=MEDIA]`: the battle map over a local table of
//! N tokens, no server and no socket, for the in-browser benchmarks
//! (`end2end/bench/`): pan and zoom frame times, and the time to apply one
//! commit of a thousand token moves to the browser's store. With `art`,
//! every token's actor wears that image (a file of a campaign the browser's
//! user may read), as a table where every token has its portrait.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use shared::{
    change::{Change, Commit},
    client::Changed,
    id::{ActorId, EncounterId, MediaId, SessionId, TokenId, UserId},
    path::Entity,
    protocol::ServerMessage,
    rules::{Participant, Role},
    store::Entities,
};

use super::{Table, map::BattleMap};

/// The player whose sight the walled benchmark map previews.
const VIEWER: UserId = UserId(uuid::Uuid::from_u128(0xB));

/// The ids of the viewer's ten tokens on a walled benchmark map.
fn eye(n: usize) -> TokenId {
    TokenId(uuid::Uuid::from_u128(0x7100_0000 + n as u128))
}

/// `walls` walls where walls hide, as the criterion benchmark's cave has
/// them (short walls scattered over the map, from a fixed sequence), and
/// ten tokens of a player's, spread across the middle of the map.
fn wall_in(entities: &mut Entities, walls: usize, side: f64) {
    let encounter = EncounterId(uuid::Uuid::from_u128(1));
    if let Some(e) = entities.encounters.get_mut(&encounter) {
        e.map.vision = true;
    }
    // A fixed sequence (xorshift), so every run builds the same cave.
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    for n in 0..walls {
        let (x, y) = (next() * side, next() * side);
        let wall = serde_json::json!({
            "id": uuid::Uuid::from_u128(0xB000 + n as u128),
            "encounter": encounter,
            "from": {"x": x, "y": y},
            "to": {"x": x + next() * 200.0 - 100.0, "y": y + next() * 200.0 - 100.0},
            "kind": "wall",
        });
        if let Ok(wall) = serde_json::from_value::<shared::wall::Wall>(wall) {
            entities.walls.insert(wall.id, wall);
        }
    }
    let party = ActorId(uuid::Uuid::from_u128(0xA000_0001));
    if let Ok(actor) = serde_json::from_value(serde_json::json!({
        "id": party, "name": "Party", "kind": "character", "owner": VIEWER,
    })) {
        entities.actors.insert(party, actor);
    }
    for n in 0..10 {
        let token = serde_json::json!({
            "id": eye(n),
            "encounter": encounter,
            "actor": party,
            "name": format!("Hero {n}"),
            "position": {"x": side * (0.1 + 0.08 * n as f64), "y": side / 2.0 + 7.0 * n as f64},
        });
        if let Ok(token) = serde_json::from_value::<shared::token::Token>(token) {
            entities.tokens.insert(token.id, token);
        }
    }
}

/// A square map of `count` tokens, one per 70 px cell, each standing for
/// its own actor (wearing `art` when given).
fn entities(count: usize, art: Option<MediaId>) -> Entities {
    let encounter = EncounterId(uuid::Uuid::from_u128(1));
    let side = (count as f64).sqrt().ceil() as usize;
    let mut entities = Entities::default();
    entities.encounters.insert(
        encounter,
        shared::encounter::Encounter {
            id: encounter,
            name: "Benchmark".into(),
            map: Default::default(),
            initiative: Default::default(),
            fog: Default::default(),
            log: Vec::new(),
        },
    );
    for n in 0..count {
        let id = TokenId(uuid::Uuid::from_u128(0x1000 + n as u128));
        let actor = ActorId(uuid::Uuid::from_u128(0x10_0000 + n as u128));
        if art.is_some() {
            let worn = serde_json::json!({
                "id": actor,
                "name": format!("T{n}"),
                "kind": "monster",
                "hp": {"current": 7, "max": 10},
                "portrait": art,
            });
            if let Ok(worn) = serde_json::from_value(worn) {
                entities.actors.insert(actor, worn);
            }
        }
        let token = serde_json::json!({
            "id": id,
            "encounter": encounter,
            "actor": actor,
            "name": format!("T{n}"),
            "position": {"x": (n % side) as f64 * 70.0, "y": (n / side) as f64 * 70.0},
        });
        if let Ok(token) = serde_json::from_value(token) {
            entities.tokens.insert(id, token);
        }
    }
    entities
}

/// The benchmark page.
#[component]
pub fn MapBenchPage() -> impl IntoView {
    let query = use_query_map();
    let count = query
        .read_untracked()
        .get("tokens")
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(10_000)
        .min(200_000);
    let art = query
        .read_untracked()
        .get("art")
        .and_then(|id| id.parse::<uuid::Uuid>().ok())
        .map(MediaId);
    // With `walls`, a map where walls hide, previewed as a player sees it.
    let walls = query
        .read_untracked()
        .get("walls")
        .and_then(|n| n.parse::<usize>().ok())
        .map(|n| n.min(shared::wall::MAX_WALLS_PER_ENCOUNTER));
    let table = Table::new(SessionId(uuid::Uuid::from_u128(7)));
    provide_context(table);
    let sighted = RwSignal::new(Vec::<f64>::new());
    let applied = RwSignal::new(Vec::<f64>::new());
    let decoding = RwSignal::new(Vec::<f64>::new());
    let storing = RwSignal::new(Vec::<f64>::new());
    let version = StoredValue::new(0u64);
    let loaded = RwSignal::new(false);
    Effect::new(move |_| {
        let you = Participant {
            user: UserId(uuid::Uuid::from_u128(1)),
            role: Role::Gm,
        };
        let _ = table.receive_local(ServerMessage::Welcome {
            session: table.session,
            you,
            version: 0,
            dice: None,
        });
        let mut all = entities(count, art);
        if let Some(walls) = walls {
            let side = (count as f64).sqrt().ceil() * 70.0;
            wall_in(&mut all, walls, side.max(2_000.0));
            table.sight_as.set(Some(VIEWER));
        }
        let _ = table.receive_local(ServerMessage::Snapshot {
            version: 0,
            entities: all,
        });
        loaded.set(true);
    });
    // One commit moving a thousand tokens one cell right: decoding the
    // frame, then applying it to the client's store and bringing the board
    // in step, timed apart (the DOM updates at the next frame, for the
    // tokens in view).
    let apply = move |_| {
        let next = version.get_value() + 1;
        version.set_value(next);
        let changes: Vec<Change> = (0..1000usize.min(count))
            .map(|n| {
                let id = TokenId(uuid::Uuid::from_u128(0x1000 + n as u128));
                Change::increment(Entity::Token(id).at(&["position", "x"]), 70)
            })
            .collect();
        let frame = ServerMessage::Commit(Commit {
            version: next,
            action: None,
            changes,
        })
        .encode();
        let started = now();
        let decoded = ServerMessage::decode(&frame);
        let read = now();
        let stored = match decoded {
            Ok(message) => table.receive_local(message),
            Err(_) => f64::NAN,
        };
        let done = now();
        decoding.update(|all| all.push(read - started));
        storing.update(|all| all.push(stored));
        applied.update(|all| all.push(done - read));
    };
    // Sight after one of the player's tokens moves, as the server works it
    // out for her socket: the commit filtered against the state before and
    // after it (every token of the map re-decided by line of sight from
    // her ten tokens), here in wasm.
    let sight = move |_| {
        let step = vec![Change::increment(
            Entity::Token(eye(0)).at(&["position", "x"]),
            70,
        )];
        let viewer = Participant {
            user: VIEWER,
            role: Role::Player,
        };
        let mut store = match table.with_client(|c| c.view().cloned()) {
            Some(store) => store,
            None => return,
        };
        let started = now();
        let before = shared::sight::SeenBefore::new(&store, &step);
        if store.apply_all(&step).is_err() {
            return;
        }
        let commit = Commit {
            version: 1,
            action: None,
            changes: step,
        };
        let sent = shared::sight::CommitView::new(&commit, &before, &store)
            .for_participant(&viewer)
            .changes
            .len();
        let done = now();
        if sent > 0 {
            sighted.update(|all| all.push(done - started));
        }
    };
    view! {
        <leptos_meta::Title text="Map benchmark" />
        <div class="table-page" data-test="bench" data-loaded=move || loaded.get().to_string()>
            <p>
                {format!("{count} tokens. ")}
                <button type="button" on:click=apply data-test="apply-1000">"Apply 1,000 moves"</button>
                " "
                "applied in (ms): "
                <span data-test="apply-ms">
                    {move || applied.get().iter().map(|ms| format!("{ms:.3}")).collect::<Vec<_>>().join(" ")}
                </span>
                "; of which the store (ms): "
                <span data-test="store-ms">
                    {move || storing.get().iter().map(|ms| format!("{ms:.3}")).collect::<Vec<_>>().join(" ")}
                </span>
                "; decoded in (ms): "
                <span data-test="decode-ms">
                    {move || decoding.get().iter().map(|ms| format!("{ms:.3}")).collect::<Vec<_>>().join(" ")}
                </span>
                " "
                <button type="button" on:click=sight data-test="sight-1">"Filter one move by sight"</button>
                " in (ms): "
                <span data-test="sight-ms">
                    {move || sighted.get().iter().map(|ms| format!("{ms:.3}")).collect::<Vec<_>>().join(" ")}
                </span>
            </p>
            <BattleMap />
        </div>
    }
    .into_any()
}

fn now() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        window().performance().map(|p| p.now()).unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0.0
    }
}

impl Table {
    /// Takes in a message as if it came from the server (a table with no
    /// server: the benchmark page); returns how long the client's store
    /// took, before the board was brought in step.
    pub fn receive_local(&self, message: ServerMessage) -> f64 {
        let started = now();
        let changed: Option<Changed> = self.client.try_update_value(|c| c.receive(message));
        let stored = now() - started;
        if let Some(changed) = changed {
            self.apply(changed);
        }
        stored
    }
}
