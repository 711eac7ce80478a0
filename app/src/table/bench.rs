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
    let table = Table::new(SessionId(uuid::Uuid::from_u128(7)));
    provide_context(table);
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
        let _ = table.receive_local(ServerMessage::Snapshot {
            version: 0,
            entities: entities(count, art),
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
