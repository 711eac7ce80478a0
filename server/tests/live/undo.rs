//! The GM's undo: a new commit built from the exact inverse the server
//! kept, followed by every browser; refused with the reason when a later
//! change would be lost, when already taken back, and for a player.

use super::*;

fn undo(of: ActionId) -> Action {
    Action::Undo {
        of,
        changes: Vec::new(),
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn the_gm_takes_back_a_move_and_puts_it_back_and_everyone_follows(db: PgPool) {
    let table = table(db.clone()).await;
    let (mut gm, mut gm_store) = join(&table, &table.gm.cookie).await;
    let (mut alice, mut alice_store) = join(&table, &table.alice.cookie).await;
    let token = table.bruno.token;
    let x = |store: &Store| store.token(token).unwrap().position.x;
    let started = x(&alice_store);

    let moved = gm.request(move_to(token, 600.0)).await;
    assert!(matches!(
        gm.status(moved).await,
        Ok(RequestStatus::Applied { .. })
    ));
    let undone = gm.request(undo(moved)).await;
    assert!(matches!(
        gm.status(undone).await,
        Ok(RequestStatus::Applied { .. })
    ));
    gm.follow(&mut gm_store, 0, 2).await;
    alice.follow(&mut alice_store, 0, 2).await;
    assert_eq!(
        x(&alice_store),
        started,
        "back where it stood, for everyone"
    );
    assert_eq!(x(&gm_store), started);

    // Taken back twice: refused, nothing changes.
    let again = gm.request(undo(moved)).await;
    let refused = gm.status(again).await.unwrap_err();
    assert!(refused.contains("taken back already"), "{refused}");

    // The undo taken back is a redo.
    let redone = gm.request(undo(undone)).await;
    assert!(matches!(
        gm.status(redone).await,
        Ok(RequestStatus::Applied { .. })
    ));
    alice.follow(&mut alice_store, 2, 3).await;
    assert_eq!(x(&alice_store), 600.0);

    // A later change to the same thing: the earlier one cannot be taken
    // back without losing it, until the later one is.
    let first = gm.request(move_to(token, 700.0)).await;
    let second = gm.request(move_to(token, 800.0)).await;
    for id in [first, second] {
        assert!(matches!(
            gm.status(id).await,
            Ok(RequestStatus::Applied { .. })
        ));
    }
    let early = gm.request(undo(first)).await;
    let refused = gm.status(early).await.unwrap_err();
    assert!(refused.contains("changed since"), "{refused}");
    for id in [second, first] {
        let back = gm.request(undo(id)).await;
        assert!(matches!(
            gm.status(back).await,
            Ok(RequestStatus::Applied { .. })
        ));
    }
    alice.follow(&mut alice_store, 3, 7).await;
    assert_eq!(x(&alice_store), 600.0);

    // A player cannot take anything back, even with changes of her own.
    let mine = alice.request(move_to(table.alice.token, 150.0)).await;
    let _ = alice.status(mine).await;
    let forged = alice
        .request(Action::Undo {
            of: mine,
            changes: vec![shared::change::Change::set(
                shared::path::Path::parse(&format!("tokens/{token}/position")).unwrap(),
                json!({"x": 0.0, "y": 0.0}),
            )],
        })
        .await;
    let refused = alice.status(forged).await.unwrap_err();
    assert!(refused.contains("only the GM"), "{refused}");
    let marker = gm.request(move_to(table.alice.token, 100.0)).await;
    let Ok(RequestStatus::Applied { version }) = gm.status(marker).await else {
        panic!("the GM's move applies");
    };
    gm.follow(&mut gm_store, 2, version).await;
    assert_eq!(x(&gm_store), 600.0, "the forged undo changed nothing");
}

/// By choice, the GM takes back any member's action, not only their own:
/// a player's move, as the list of recent changes offers it.
#[sqlx::test(migrations = "../migrations")]
async fn the_gm_takes_back_a_players_move(db: PgPool) {
    let table = table(db.clone()).await;
    let (mut gm, mut gm_store) = join(&table, &table.gm.cookie).await;
    let (mut alice, mut alice_store) = join(&table, &table.alice.cookie).await;
    let token = table.alice.token;
    let x = |store: &Store| store.token(token).unwrap().position.x;
    let started = x(&alice_store);
    let moved = alice.request(move_to(token, 150.0)).await;
    assert!(matches!(
        alice.status(moved).await,
        Ok(RequestStatus::Applied { .. })
    ));
    let undone = gm.request(undo(moved)).await;
    assert!(matches!(
        gm.status(undone).await,
        Ok(RequestStatus::Applied { .. })
    ));
    gm.follow(&mut gm_store, 0, 2).await;
    alice.follow(&mut alice_store, 0, 2).await;
    assert_eq!((x(&gm_store), x(&alice_store)), (started, started));
}
