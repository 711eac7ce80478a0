//! Benchmarks of the shared core: batch apply, rebase, viewport queries,
//! and commit encoding. Results and how to run them: docs/BENCHMARKS.md.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;
use shared::{
    change::{Change, Commit},
    geometry::{Point, Rect},
    id::{ActionId, EncounterId, TokenId},
    optimistic::Optimistic,
    path::Path,
    protocol::ServerMessage,
    store::Store,
};
use uuid::Uuid;

const ENCOUNTER: u128 = 0xE;

fn encounter() -> EncounterId {
    EncounterId(Uuid::from_u128(ENCOUNTER))
}

fn token(n: usize) -> TokenId {
    TokenId(Uuid::from_u128(0x7000_0000 + n as u128))
}

/// Deterministic pseudo-random coordinates on a 10,000 x 10,000 px map.
fn coordinate(n: usize, salt: u64) -> f64 {
    let mut z = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt;
    z = (z ^ (z >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    (z % 10_000) as f64
}

/// One encounter (70 px grid) with `tokens` tokens spread over the map.
fn store_with(tokens: usize) -> Store {
    let mut store = Store::new();
    let id = encounter();
    store
        .apply(&Change::set(
            path(&format!("encounters/{id}")),
            json!({"id": id, "name": "Bench", "map": {"grid_size": 70.0}}),
        ))
        .unwrap();
    for n in 0..tokens {
        let t = token(n);
        store
            .apply(&Change::set(
                path(&format!("tokens/{t}")),
                json!({"id": t, "encounter": id, "name": "Goblin", "position": {"x": coordinate(n, 1), "y": coordinate(n, 2)}}),
            ))
            .unwrap();
    }
    store
}

fn path(text: &str) -> Path {
    Path::parse(text).unwrap()
}

fn moves(count: usize, of: usize, salt: u64) -> Vec<Change> {
    (0..count)
        .map(|n| {
            let t = token((n * 7919) % of);
            Change::set(
                path(&format!("tokens/{t}/position")),
                json!({"x": coordinate(n, salt), "y": coordinate(n, salt + 1)}),
            )
        })
        .collect()
}

fn batch_apply(c: &mut Criterion) {
    let mut group = c.benchmark_group("apply_commit_of_moves");
    let store = store_with(10_000);
    for count in [100, 1_000, 10_000] {
        let changes = moves(count, 10_000, 11);
        group.throughput(Throughput::Elements(count as u64));
        group.bench_with_input(
            BenchmarkId::new("store_10k_tokens", count),
            &changes,
            |b, changes| {
                // Each iteration applies to a fresh copy; the copy is not timed.
                b.iter_batched(
                    || store.clone(),
                    |mut store| {
                        let undo = store.apply_all(black_box(changes)).unwrap();
                        (store, undo)
                    },
                    criterion::BatchSize::LargeInput,
                );
            },
        );
    }
    group.finish();
}

fn rebase(c: &mut Criterion) {
    let mut group = c.benchmark_group("rebase");
    group.sample_size(10);
    let store = store_with(10_000);
    // 100 of my moves pending, then 1,000 foreign commits of one move each
    // (a quarter of them touching tokens I moved, so the rules run).
    let pending: Vec<Vec<Change>> = (0..100).map(|n| moves(1, 10_000, 1000 + n)).collect();
    let commits: Vec<Commit> = (0..1_000u64)
        .map(|n| Commit {
            version: n + 1,
            action: None,
            changes: moves(1, if n % 4 == 0 { 100 } else { 10_000 }, 5000 + n),
        })
        .collect();
    group.throughput(Throughput::Elements(commits.len() as u64));
    group.bench_function("100_pending_over_1000_commits", |b| {
        b.iter_batched(
            || {
                let mut client = Optimistic::new(store.clone(), 0);
                for (n, changes) in pending.iter().enumerate() {
                    client
                        .propose(ActionId(Uuid::from_u128(n as u128)), changes.clone())
                        .unwrap();
                }
                client
            },
            |mut client| {
                for commit in &commits {
                    client.commit(black_box(commit)).unwrap();
                }
                client
            },
            criterion::BatchSize::LargeInput,
        );
    });
    group.finish();
}

fn viewport(c: &mut Criterion) {
    let mut group = c.benchmark_group("viewport_query");
    // A 1920 x 1080 viewport at zoom 1 on a 10,000 px map.
    let view = Rect::from_origin(Point::new(4_000.0, 4_000.0), 1_920.0, 1_080.0);
    // 10,000 is the most one encounter may hold (shared::limits).
    for tokens in [1_000, 10_000] {
        let store = store_with(tokens);
        let found = store.tokens_in_rect(encounter(), &view).len();
        group.throughput(Throughput::Elements(found as u64));
        group.bench_with_input(BenchmarkId::new("tokens", tokens), &store, |b, store| {
            b.iter(|| store.tokens_in_rect(encounter(), black_box(&view)));
        });
    }
    group.finish();
}

fn codec(c: &mut Criterion) {
    let mut group = c.benchmark_group("commit_codec");
    let commit = ServerMessage::Commit(Commit {
        version: 42,
        action: None,
        changes: moves(1_000, 10_000, 3),
    });
    let bytes = commit.encode();
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("encode_1000_changes", |b| {
        b.iter(|| black_box(&commit).encode())
    });
    group.bench_function("decode_1000_changes", |b| {
        b.iter(|| ServerMessage::decode(black_box(&bytes)).unwrap())
    });
    group.finish();
}

/// What one relayed ruler costs the server per reader: the fog check of
/// each of its points (fog on, 100,000 cells lifted) and the frame, and
/// what its label costs a browser.
fn ruler(c: &mut Criterion) {
    let mut store = store_with(1_000);
    let id = encounter();
    let cells: Vec<_> = (0..100_000).map(|n| json!([n % 400, n / 400])).collect();
    for change in [
        Change::set(path(&format!("encounters/{id}/fog/enabled")), json!(true)),
        Change::set(path(&format!("encounters/{id}/fog/revealed")), json!(cells)),
    ] {
        store.apply(&change).unwrap();
    }
    let points: Vec<Point> = (0..shared::measure::MAX_RULER_POINTS)
        .map(|n| Point::new(35.0 + 70.0 * (n as f64) * 3.0, 35.0 + 70.0 * (n as f64)))
        .collect();
    let map = store.encounter(id).map(|e| e.map).unwrap();
    let mut group = c.benchmark_group("ruler");
    group.bench_function("fog_check_32_points", |b| {
        b.iter(|| {
            black_box(&points).iter().all(|at| {
                shared::sight::point_seen(&store, shared::id::UserId(Uuid::from_u128(1)), id, *at)
            })
        });
    });
    group.bench_function("frame_32_points", |b| {
        b.iter(|| {
            shared::protocol::encode(&ServerMessage::Measured {
                encounter: id,
                path: black_box(&points).clone(),
                by: shared::id::UserId(Uuid::from_u128(1)),
            })
        });
    });
    group.bench_function("feet_along_32_points", |b| {
        b.iter(|| map.feet_along(black_box(&points)));
    });
    group.finish();
}

/// An evening of 10,000 commits on a map of 200 tokens, fog on with a
/// quarter of the map lifted: nine in ten commits move a token (some of
/// them hidden, so a player's filter drops or turns them into deletions),
/// one in ten hides or shows one. Replayed for a player (the server's
/// filter), and applied whole by a client (a browser seeking to the end).
fn replay(c: &mut Criterion) {
    use shared::{
        id::{SessionId, UserId},
        rules::{Participant, Role},
    };
    const COMMITS: usize = 10_000;
    const TOKENS: usize = 200;
    let mut start = store_with(TOKENS);
    let id = encounter();
    let lifted: Vec<[i64; 2]> = (0..72).flat_map(|x| (0..72).map(move |y| [x, y])).collect();
    start
        .apply_all(&[
            Change::set(path(&format!("encounters/{id}/fog/enabled")), json!(true)),
            Change::set(
                path(&format!("encounters/{id}/fog/revealed")),
                json!(lifted),
            ),
        ])
        .unwrap();
    let mut authority = shared::authority::Authority::new(start.clone(), 0);
    let mut commits = Vec::with_capacity(COMMITS);
    for n in 0..COMMITS {
        let t = token(n % TOKENS);
        let change = if n % 10 == 9 {
            let hidden = if n % 20 == 19 { "hidden" } else { "visible" };
            Change::set(path(&format!("tokens/{t}/visibility")), json!(hidden))
        } else {
            Change::set(
                path(&format!("tokens/{t}/position")),
                json!({"x": coordinate(n, 3), "y": coordinate(n, 4)}),
            )
        };
        commits.push(authority.commit(None, vec![change]).unwrap().0);
    }
    let player = Participant {
        user: UserId(Uuid::from_u128(7)),
        role: Role::Player,
    };
    let gm = Participant {
        user: UserId(Uuid::from_u128(1)),
        role: Role::Gm,
    };
    let mut group = c.benchmark_group("replay");
    group.sample_size(10);
    group.bench_function("filter_10000_commits_for_a_player", |b| {
        b.iter(|| {
            shared::replay::as_seen_by(
                &player,
                start.entities().clone(),
                black_box(commits.clone()),
            )
            .unwrap()
        })
    });
    group.bench_function("filter_10000_commits_for_the_gm", |b| {
        b.iter(|| {
            shared::replay::as_seen_by(&gm, start.entities().clone(), black_box(commits.clone()))
                .unwrap()
        })
    });
    let (first, seen) =
        shared::replay::as_seen_by(&player, start.entities().clone(), commits.clone()).unwrap();
    let session = SessionId(Uuid::from_u128(5));
    group.bench_function("client_seeks_to_the_end_of_10000", |b| {
        b.iter(|| {
            let mut client = shared::client::Client::new(session);
            client.receive(ServerMessage::Welcome {
                session,
                you: player,
                version: 0,
                dice: None,
            });
            client.receive(ServerMessage::Snapshot {
                version: 0,
                entities: first.clone(),
            });
            for commit in &seen {
                client.receive(ServerMessage::Commit(commit.clone()));
            }
            assert_eq!(client.view().map(|_| ()), Some(()));
            client
        })
    });
    let evening = shared::replay::Evening {
        session,
        you: player,
        start: first.clone(),
        steps: seen
            .iter()
            .map(|commit| shared::replay::Step {
                commit: commit.clone(),
                kind: Some("move_token".into()),
                by: Some(player.user),
                at_ms: 1_764_950_400_000,
            })
            .collect(),
        truncated: false,
        ended: true,
    };
    group.bench_function("encode_10000_step_evening_json", |b| {
        b.iter(|| serde_json::to_vec(black_box(&evening)).unwrap().len())
    });
    group.finish();
}

/// Drawings at their worst: a map holding 1,000 drawings of 512 points
/// each (the limits), fog on, one cell lifted. What lifting a cell costs
/// the server per player (every drawing's bounds asked of the fog, the
/// ones that come into sight sent whole), and what the browser's pen costs
/// to thin a 2,000-point stroke.
fn drawings(c: &mut Criterion) {
    use shared::{
        drawing::{
            Color, Drawing, MAX_DRAWING_POINTS, MAX_DRAWINGS_PER_ENCOUNTER, Stroke, simplify,
        },
        id::{DrawingId, UserId},
        rules::{Participant, Role},
        sight::{CommitView, SeenBefore},
    };
    let mut store = store_with(1_000);
    let id = encounter();
    store
        .apply(&Change::set(
            path(&format!("encounters/{id}/fog/enabled")),
            json!(true),
        ))
        .unwrap();
    let author = UserId(Uuid::from_u128(0xA));
    for n in 0..MAX_DRAWINGS_PER_ENCOUNTER {
        let (x, y) = (coordinate(n, 7), coordinate(n, 8));
        let points = (0..MAX_DRAWING_POINTS)
            .map(|i| Point::new(x + (i % 40) as f64 * 3.0, y + (i / 40) as f64 * 5.0))
            .collect();
        let drawing = Drawing {
            id: DrawingId(Uuid::from_u128(0xD000_0000 + n as u128)),
            encounter: id,
            author,
            shape: Stroke::Freehand { points },
            color: Color::PALETTE[0].1,
            width: 4,
        };
        store
            .apply(&Change::set(
                path(&format!("drawings/{}", drawing.id)),
                serde_json::to_value(&drawing).unwrap(),
            ))
            .unwrap();
    }
    let lift = vec![Change::append(
        path(&format!("encounters/{id}/fog/revealed")),
        json!([[70, 70]]),
    )];
    let player = Participant {
        user: UserId(Uuid::from_u128(0xB)),
        role: Role::Player,
    };
    let mut hexagons = store.clone();
    hexagons
        .apply(&Change::set(
            path(&format!("encounters/{id}/map/grid")),
            json!("hex_rows"),
        ))
        .unwrap();
    let mut group = c.benchmark_group("drawings");
    group.sample_size(20);
    for (name, store) in [
        ("lift_one_cell_over_1000_drawings_for_a_player", &store),
        (
            "lift_one_cell_over_1000_drawings_for_a_player_on_hexagons",
            &hexagons,
        ),
    ] {
        group.bench_function(name, |b| {
            b.iter_batched(
                || store.clone(),
                |mut after| {
                    let before = SeenBefore::new(&after, &lift);
                    after.apply_all(&lift).unwrap();
                    let commit = Commit {
                        version: 1,
                        action: None,
                        changes: lift.clone(),
                    };
                    let sent = CommitView::new(&commit, &before, &after)
                        .for_participant(&player)
                        .changes
                        .len();
                    // Returned, so that dropping the map is not timed.
                    (after, black_box(sent))
                },
                criterion::BatchSize::LargeInput,
            );
        });
    }
    let stroke: Vec<Point> = (0..2_000)
        .map(|i| {
            let t = i as f64 / 50.0;
            Point::new(t * 40.0 + t.sin() * 3.0, (t * 1.7).cos() * 60.0)
        })
        .collect();
    group.bench_function("simplify_2000_point_stroke", |b| {
        b.iter(|| simplify(black_box(&stroke), 1.5, MAX_DRAWING_POINTS).len());
    });
    group.finish();
}

/// Sight among walls (issue 17): one eye's visibility polygon among 300
/// wall segments, ten eyes (a party, each recomputed), and the wall check
/// of one move.
fn sight(c: &mut Criterion) {
    use shared::sight::polygon::{Segment, visibility};
    let mut group = c.benchmark_group("sight");
    // A 2,000 px room with 300 short walls scattered in it (a cave).
    let room = Rect {
        min: Point::new(0.0, 0.0),
        max: Point::new(2_000.0, 2_000.0),
    };
    let walls: Vec<Segment> = (0..300)
        .map(|n| {
            let a = Point::new(coordinate(n, 11) / 5.0, coordinate(n, 12) / 5.0);
            let d = Point::new(
                coordinate(n, 13) / 50.0 - 100.0,
                coordinate(n, 14) / 50.0 - 100.0,
            );
            Segment::new(a, Point::new(a.x + d.x, a.y + d.y))
        })
        .collect();
    let eyes: Vec<Point> = (0..10)
        .map(|n| Point::new(200.0 + 160.0 * n as f64, 1_000.0 + 7.0 * n as f64))
        .collect();
    group.bench_function("one_eye_300_walls", |b| {
        b.iter(|| {
            visibility(black_box(eyes[0]), black_box(&walls), room)
                .vertices
                .len()
        });
    });
    group.sample_size(20);
    group.bench_function("ten_eyes_300_walls", |b| {
        b.iter(|| {
            eyes.iter()
                .map(|eye| visibility(*eye, black_box(&walls), room).vertices.len())
                .sum::<usize>()
        });
    });
    let built: Vec<shared::wall::Wall> = walls
        .iter()
        .enumerate()
        .map(|(n, s)| shared::wall::Wall {
            id: shared::id::WallId(Uuid::from_u128(0xB000 + n as u128)),
            encounter: encounter(),
            from: s.a,
            to: s.b,
            kind: shared::wall::WallKind::Wall,
            door: None,
        })
        .collect();
    // The filter as the server runs it now: a map where walls hide, 300
    // walls, 100 monsters and a player's 10 tokens; one of hers moves and
    // the commit is filtered for her (every token of the map re-decided,
    // each by line of sight from her 10 tokens).
    use shared::{
        id::UserId,
        rules::{Participant, Role},
        sight::{CommitView, SeenBefore},
    };
    let player = Participant {
        user: UserId(Uuid::from_u128(0xB)),
        role: Role::Player,
    };
    let mut hiding = store_with(100);
    let id = encounter();
    let actor = Uuid::from_u128(0xA000_0001);
    let mut setup = vec![
        Change::set(path(&format!("encounters/{id}/map/vision")), json!(true)),
        Change::set(
            path(&format!("actors/{actor}")),
            json!({"id": actor, "name": "Party", "kind": "character", "owner": player.user}),
        ),
    ];
    for wall in &built {
        setup.push(Change::set(
            path(&format!("walls/{}", wall.id)),
            serde_json::to_value(wall).unwrap(),
        ));
    }
    for (n, eye) in eyes.iter().enumerate() {
        let t = TokenId(Uuid::from_u128(0x7100_0000 + n as u128));
        setup.push(Change::set(
            path(&format!("tokens/{t}")),
            json!({"id": t, "encounter": id, "actor": actor, "name": "Hero", "position": {"x": eye.x - 35.0, "y": eye.y - 35.0}}),
        ));
    }
    hiding.apply_all(&setup).unwrap();
    let step = vec![Change::set(
        path(&format!(
            "tokens/{}/position",
            TokenId(Uuid::from_u128(0x7100_0000))
        )),
        json!({"x": eyes[0].x + 35.0, "y": eyes[0].y - 35.0}),
    )];
    group.bench_function("filter_one_move_10_viewers_300_walls_100_tokens", |b| {
        b.iter_batched(
            || hiding.clone(),
            |mut after| {
                let before = SeenBefore::new(&after, &step);
                after.apply_all(&step).unwrap();
                let commit = Commit {
                    version: 1,
                    action: None,
                    changes: step.clone(),
                };
                let sent = CommitView::new(&commit, &before, &after)
                    .for_participant(&player)
                    .changes
                    .len();
                (after, black_box(sent))
            },
            criterion::BatchSize::LargeInput,
        );
    });
    // What the player's browser works out after her view changes: the
    // cells her 10 tokens see in daylight among the 300 walls (her whole
    // explored area, every cell of the room in some token's polygon).
    let view = shared::sight::view(&hiding, player.user, id).unwrap();
    let map = hiding.encounter(id).unwrap().map;
    group.bench_function("explored_10_eyes_300_walls", |b| {
        b.iter(|| shared::sight::explored(black_box(&view), &map).len());
    });
    group.bench_function("one_move_against_300_walls", |b| {
        b.iter(|| {
            shared::wall::blocking(
                black_box(&built),
                Point::new(10.0, 10.0),
                Point::new(1_990.0, 1_990.0),
            )
            .is_some()
        });
    });
    group.finish();
}

criterion_group!(
    benches,
    batch_apply,
    rebase,
    viewport,
    codec,
    ruler,
    replay,
    drawings,
    sight
);
criterion_main!(benches);
