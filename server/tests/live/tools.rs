//! The GM's live tools over the socket: a monster put on the running map
//! (its actor brought along), a token duplicated and removed, a group of
//! tokens moved as one request; all of it filtered per recipient and
//! written back at the end.

use super::*;
use shared::{
    action::TokenMove,
    actor::ActorKind,
    token::{HpShown, Token},
};

fn applied(status: Result<RequestStatus, String>) {
    assert!(
        matches!(status, Ok(RequestStatus::Applied { .. })),
        "{status:?}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn the_gm_adds_moves_and_removes_tokens_live_and_the_table_keeps_them(db: PgPool) {
    let table = table(db.clone()).await;
    let (mut gm, mut gm_store) = join(&table, &table.gm.cookie).await;
    let (mut alice, mut alice_store) = join(&table, &table.alice.cookie).await;
    // A monster made after the session started: the table does not hold
    // it, the request brings it.
    let gm_user = &table.gm.user;
    let wolf = support::table::actor(
        &db,
        table.campaign,
        gm_user,
        "Wolf",
        ActorKind::Monster,
        None,
    )
    .await;
    let live_wolf = server::live::load::actor(&db, table.campaign, wolf)
        .await
        .unwrap();
    assert!(gm_store.actor(wolf).is_none());
    let token = Token {
        id: TokenId(Uuid::new_v4()),
        encounter: table.encounter,
        actor: Some(wolf),
        name: "Wolf".into(),
        position: Point::new(150.0, 150.0),
        rotation: 0.0,
        scale: 1.0,
        visibility: Visibility::Visible,
        conditions: Default::default(),
        stats: Default::default(),
        hp_shown: None,
        sight: Default::default(),
    };
    // Players may not.
    let refused = alice
        .request(Action::PlaceToken {
            token: Box::new(token.clone()),
            actor: Some(Box::new(live_wolf.clone())),
        })
        .await;
    assert!(alice.status(refused).await.is_err());
    let placed = gm
        .request(Action::PlaceToken {
            token: Box::new(token.clone()),
            actor: Some(Box::new(live_wolf)),
        })
        .await;
    applied(gm.status(placed).await);
    gm.follow(&mut gm_store, 0, 1).await;
    alice.follow(&mut alice_store, 0, 1).await;
    assert_eq!(gm_store.actor(wolf).unwrap().hp.unwrap().max, 20);
    assert_eq!(alice_store.token(token.id).unwrap().name, "Wolf");
    assert_eq!(
        alice_store.actor(wolf).unwrap().hp,
        None,
        "a monster's hit points stay the GM's"
    );

    // A copy of it (the same actor), then both moved together.
    let copy = Token {
        id: TokenId(Uuid::new_v4()),
        position: Point::new(200.0, 150.0),
        ..token.clone()
    };
    let duplicated = gm
        .request(Action::PlaceToken {
            token: Box::new(copy.clone()),
            actor: None,
        })
        .await;
    applied(gm.status(duplicated).await);
    let pack = gm
        .request(Action::MoveTokens {
            moves: vec![
                TokenMove {
                    token: token.id,
                    to: Point::new(150.0, 300.0),
                },
                TokenMove {
                    token: copy.id,
                    to: Point::new(200.0, 300.0),
                },
            ],
        })
        .await;
    applied(gm.status(pack).await);
    alice.follow(&mut alice_store, 1, 3).await;
    assert_eq!(alice_store.token(token.id).unwrap().position.y, 300.0);
    assert_eq!(alice_store.token(copy.id).unwrap().position.y, 300.0);
    assert_eq!(alice_store.tokens_of(wolf).count(), 2);

    // Alice moves her token with a wolf: refused whole; her own alone,
    // within her speed, applies at once.
    let mine = table.alice.token;
    let grab = alice
        .request(Action::MoveTokens {
            moves: vec![
                TokenMove {
                    token: mine,
                    to: Point::new(100.0, 50.0),
                },
                TokenMove {
                    token: copy.id,
                    to: Point::new(250.0, 300.0),
                },
            ],
        })
        .await;
    assert!(alice.status(grab).await.is_err());
    let alone = alice
        .request(Action::MoveTokens {
            moves: vec![TokenMove {
                token: mine,
                to: Point::new(100.0, 50.0),
            }],
        })
        .await;
    applied(alice.status(alone).await);

    // The copy leaves the map; the GM shows the wolf's hit points.
    let removed = gm.request(Action::RemoveToken { token: copy.id }).await;
    applied(gm.status(removed).await);
    let shown = gm
        .request(Action::SetHpShown {
            token: token.id,
            shown: HpShown::Everyone,
        })
        .await;
    applied(gm.status(shown).await);
    alice.follow(&mut alice_store, 3, 6).await;
    assert!(alice_store.token(copy.id).is_none());
    assert_eq!(alice_store.actor(wolf).unwrap().hp.unwrap().max, 20);

    // The end: the wolf's token is the encounter's, with its actor.
    gm.send(&ClientMessage::EndSession).await;
    gm.until(|m| matches!(m, ServerMessage::Ended { .. }).then_some(()))
        .await;
    let encounter::Loaded { tokens, .. } = encounter::load(&db, table.campaign, table.encounter)
        .await
        .unwrap();
    let kept = tokens.iter().find(|t| t.id == token.id).expect("kept");
    assert_eq!(kept.actor, Some(wolf));
    assert_eq!(kept.position, Point::new(150.0, 300.0));
    assert_eq!(kept.hp_shown, Some(HpShown::Everyone));
    assert!(tokens.iter().all(|t| t.id != copy.id), "the copy is gone");
}
