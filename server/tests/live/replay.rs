//! Replay of an evening: the GM's at any time, a player's once the
//! session has ended, and a player's holding exactly what her socket
//! carried at the table.

use super::*;
use app::{AppError, Backend};

/// The state a replay shows after all its steps.
fn replayed(evening: &shared::replay::Evening) -> Store {
    let mut store = Store::from_entities(evening.start.clone()).unwrap();
    for step in &evening.steps {
        store.apply_all(&step.commit.changes).unwrap();
    }
    store
}

#[sqlx::test(migrations = "../migrations")]
async fn a_players_replay_is_what_her_socket_carried_and_opens_when_the_session_ends(db: PgPool) {
    let table = table(db.clone()).await;
    let (mut gm, mut gm_store) = join(&table, &table.gm.cookie).await;
    let (mut alice, mut alice_store) = join(&table, &table.alice.cookie).await;
    let state = support::state(db.clone());
    // Her move, the GM's hidden token's move, Bruno's token moved by the GM.
    let hers = alice.request(move_to(table.alice.token, 150.0)).await;
    assert!(matches!(
        alice.status(hers).await,
        Ok(RequestStatus::Applied { .. })
    ));
    for (token, x) in [(table.hidden, 450.0), (table.bruno.token, 250.0)] {
        let id = gm.request(move_to(token, x)).await;
        assert!(matches!(
            gm.status(id).await,
            Ok(RequestStatus::Applied { .. })
        ));
    }
    gm.follow(&mut gm_store, 0, 3).await;
    alice.follow(&mut alice_store, 0, 3).await;

    // While it runs: the GM replays it, she may not, an outsider never.
    let running = state.replay(&table.gm.user, table.session).await.unwrap();
    assert_eq!(running.steps.len(), 3);
    assert!(!running.ended);
    assert_eq!(replayed(&running).entities(), gm_store.entities());
    assert_eq!(running.steps[1].kind.as_deref(), Some("move_token"));
    assert_eq!(running.steps[1].by, Some(table.gm.user.id));
    assert!(matches!(
        state.replay(&table.alice.user, table.session).await,
        Err(AppError::Invalid(shared::Error::Forbidden(_)))
    ));
    let (outsider, _) = support::signed_in(&db, "outsider").await;
    assert!(matches!(
        state.replay(&outsider, table.session).await,
        Err(AppError::Forbidden)
    ));

    gm.send(&ClientMessage::EndSession).await;
    gm.until(|m| matches!(m, ServerMessage::Ended { .. }).then_some(()))
        .await;

    let evening = state
        .replay(&table.alice.user, table.session)
        .await
        .unwrap();
    assert!(evening.ended);
    assert_eq!(evening.you.user, table.alice.user.id);
    assert_eq!(evening.steps.len(), 3, "every version, as live");
    // Exactly the state her socket left her with.
    assert_eq!(replayed(&evening).entities(), alice_store.entities());
    // The hidden token's move: its version, nothing of what or who.
    let unseen = &evening.steps[1];
    assert!(unseen.commit.changes.is_empty());
    assert_eq!((unseen.kind.as_deref(), unseen.by), (None, None));
    assert_eq!(evening.steps[0].by, Some(table.alice.user.id));
    let bytes = serde_json::to_string(&evening).unwrap();
    assert!(!bytes.contains(&table.hidden.to_string()), "{bytes}");
    // The GM's, after the end, is still everything.
    let whole = state.replay(&table.gm.user, table.session).await.unwrap();
    assert!(bytes.len() < serde_json::to_string(&whole).unwrap().len());
    assert!(
        serde_json::to_string(&whole)
            .unwrap()
            .contains(&table.hidden.to_string())
    );
}

/// A session nobody opened has nothing to replay, and says so.
#[sqlx::test(migrations = "../migrations")]
async fn a_session_nobody_opened_has_nothing_to_replay(db: PgPool) {
    let table = table(db.clone()).await;
    let state = support::state(db.clone());
    let error = state
        .replay(&table.gm.user, table.session)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("nothing to replay"), "{error}");
}
