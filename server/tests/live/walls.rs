//! Walls and doors over the socket: the GM builds them and every member
//! receives them; a player's move through a wall or a closed door is
//! refused by the server whatever their browser let through; where walls
//! hide, a player's socket drops what is beyond a closed door and brings
//! it back when the door opens; a player beside a door opens it without
//! the GM, never a locked one; and the walls, with each door's state,
//! outlast the session.

use super::*;
use shared::wall::{DoorState, Wall, WallKind};

fn applied(status: Result<RequestStatus, String>) -> bool {
    matches!(status, Ok(RequestStatus::Applied { .. }))
}

#[sqlx::test(migrations = "../migrations")]
async fn walls_stop_players_doors_open_beside_them_and_both_outlast_the_session(db: PgPool) {
    let table = table(db.clone()).await;
    let (mut gm, mut gm_store) = join(&table, &table.gm.cookie).await;
    let (mut alice, mut alice_store) = join(&table, &table.alice.cookie).await;
    let encounter = table.encounter;
    // Alice's token covers 100..150 (centre 125, 125), Bruno's 200..250. A
    // wall at x = 160 runs down the map with a door from y = 100 to 150.
    let segment = |from: (f64, f64), to: (f64, f64), kind: WallKind| Wall {
        id: shared::id::WallId(Uuid::new_v4()),
        encounter,
        from: Point::new(from.0, from.1),
        to: Point::new(to.0, to.1),
        kind,
        door: (kind == WallKind::Door).then_some(DoorState::Closed),
    };
    let walls = vec![
        segment((160.0, 0.0), (160.0, 100.0), WallKind::Wall),
        segment((160.0, 100.0), (160.0, 150.0), WallKind::Door),
        segment((160.0, 150.0), (160.0, 1000.0), WallKind::Wall),
    ];
    let door = walls[1].id;
    let build = Action::BuildWalls {
        walls: walls.clone(),
    };

    // Only the GM builds.
    let forged = alice.request(build.clone()).await;
    let refused = alice.status(forged).await;
    assert!(
        matches!(&refused, Err(reason) if reason.contains("only the GM")),
        "{refused:?}"
    );
    let built = gm.request(build).await;
    assert!(applied(gm.status(built).await));
    gm.follow(&mut gm_store, 0, 1).await;
    alice.follow(&mut alice_store, 0, 1).await;
    assert_eq!(
        alice_store.walls_in(encounter).count(),
        3,
        "a player has the walls"
    );
    assert!(alice_store.token(table.bruno.token).is_some());

    // The GM makes the walls hide: Bruno's token, beyond the closed door,
    // leaves Alice's table.
    let hide = gm
        .request(Action::Edit {
            changes: vec![shared::change::Change::set(
                shared::path::Entity::Encounter(encounter).at(&["map", "vision"]),
                json!(true),
            )],
        })
        .await;
    assert!(applied(gm.status(hide).await));
    alice.follow(&mut alice_store, 1, 2).await;
    assert!(alice_store.token(table.bruno.token).is_none());

    // Through the closed door: refused, and nothing moved.
    let through = alice.request(move_to(table.alice.token, 250.0)).await;
    let refused = alice.status(through).await;
    assert!(
        matches!(&refused, Err(reason) if reason.contains("closed door")),
        "{refused:?}"
    );
    // Opened from beside it, without the GM; then the same move applies.
    let open = alice
        .request(Action::SetDoor {
            wall: door,
            state: DoorState::Open,
        })
        .await;
    assert!(applied(alice.status(open).await));
    let through = alice.request(move_to(table.alice.token, 250.0)).await;
    assert!(applied(alice.status(through).await));
    alice.follow(&mut alice_store, 2, 4).await;
    assert!(
        alice_store.token(table.bruno.token).is_some(),
        "the open door shows him again"
    );
    assert_eq!(
        alice_store.token(table.alice.token).map(|t| t.position.x),
        Some(250.0)
    );
    // Straight through the wall beside the door: refused.
    let back = alice
        .request(Action::MoveToken {
            token: table.alice.token,
            to: Point::new(100.0, 300.0),
        })
        .await;
    let refused = alice.status(back).await;
    assert!(
        matches!(&refused, Err(reason) if reason.contains("wall is in the way")),
        "{refused:?}"
    );

    // The GM closes and locks it: Alice cannot open it again, nor lock it.
    let locked = gm
        .request(Action::SetDoor {
            wall: door,
            state: DoorState::Locked,
        })
        .await;
    assert!(applied(gm.status(locked).await));
    for state in [DoorState::Open, DoorState::Locked] {
        let asked = alice.request(Action::SetDoor { wall: door, state }).await;
        let refused = alice.status(asked).await;
        assert!(
            matches!(&refused, Err(reason) if reason.contains("locked")),
            "{state:?}: {refused:?}"
        );
    }
    // Unknown walls are refused as unknown.
    let unknown = alice
        .request(Action::SetDoor {
            wall: shared::id::WallId(Uuid::new_v4()),
            state: DoorState::Open,
        })
        .await;
    assert!(alice.status(unknown).await.is_err());

    // Night falls and Bruno lights a torch (the GM's to hand out: Alice
    // may not set even her own token's sight). Beside her, he stays lit.
    let sight = |token: shared::id::TokenId, value: serde_json::Value| Action::Edit {
        changes: vec![shared::change::Change::set(
            shared::path::Entity::Token(token).at(&["sight"]),
            value,
        )],
    };
    let own = alice
        .request(sight(table.alice.token, json!({"darkvision": 120})))
        .await;
    assert!(
        alice.status(own).await.is_err(),
        "a player's sight is the GM's"
    );
    let torch = json!({"darkvision": 60, "light": {"bright": 20, "dim": 40}});
    let lit = gm.request(sight(table.bruno.token, torch.clone())).await;
    assert!(applied(gm.status(lit).await));
    let night = gm
        .request(Action::Edit {
            changes: vec![shared::change::Change::set(
                shared::path::Entity::Encounter(encounter).at(&["map", "daylight"]),
                json!(false),
            )],
        })
        .await;
    assert!(applied(gm.status(night).await));
    let too_far = gm
        .request(sight(table.bruno.token, json!({"darkvision": 6000})))
        .await;
    let refused = gm.status(too_far).await;
    assert!(
        matches!(&refused, Err(reason) if reason.contains("5,000 feet")),
        "{refused:?}"
    );

    // The end: the walls stay with the map, the door locked.
    gm.send(&ClientMessage::EndSession).await;
    gm.until(|m| matches!(m, ServerMessage::Ended { .. }).then_some(()))
        .await;
    let kept = encounter::load(&db, table.campaign, encounter)
        .await
        .unwrap();
    let mut expected = walls;
    expected[1].door = Some(DoorState::Locked);
    let mut got = kept.walls;
    got.sort_by_key(|w| w.from.y.to_bits());
    assert_eq!(got, expected);
    assert!(kept.encounter.map.vision, "the walls still hide next time");
    assert!(!kept.encounter.map.daylight, "and the night goes on");
    let bruno = kept.tokens.iter().find(|t| t.id == table.bruno.token);
    assert_eq!(
        bruno.map(|t| serde_json::to_value(t.sight).unwrap()),
        Some(torch),
        "his torch and darkvision are kept"
    );
}
