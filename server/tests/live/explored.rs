//! What a player has explored of the map, over real sockets and a real
//! PostgreSQL: her browser tells the new cells; they are hers alone (her
//! other browsers hear of them, nobody else does), sent whole after each
//! welcome, refused from the GM, for another encounter or past the
//! limits, kept with the encounter while the session runs and when it
//! ends, and forgotten on the GM's word.

use std::collections::BTreeSet;

use super::*;
use shared::geometry::Cell;

fn explored(message: &ServerMessage) -> Option<(BTreeSet<Cell>, bool)> {
    match message {
        ServerMessage::Explored { cells, whole, .. } => Some((cells.clone(), *whole)),
        _ => None,
    }
}

fn error(message: &ServerMessage) -> Option<String> {
    match message {
        ServerMessage::Error { error, .. } => Some(error.to_string()),
        _ => None,
    }
}

/// Every message the server sent `client` before it answers a ping now:
/// anything meant for it from earlier messages of other sockets is there.
async fn settled(client: &mut Client, nonce: u64) {
    client.send(&ClientMessage::Ping { nonce }).await;
    client
        .until(|m| matches!(m, ServerMessage::Pong { nonce: n } if *n == nonce).then_some(()))
        .await;
}

fn explored_frames(client: &Client) -> usize {
    client
        .raw
        .iter()
        .filter(|frame| frame.contains(r#""type":"explored""#))
        .count()
}

async fn kept(db: &PgPool, campaign: CampaignId, encounter: EncounterId) -> Vec<BTreeSet<Cell>> {
    let mut kept: Vec<_> = server::encounter::explored::load(db, campaign, encounter)
        .await
        .unwrap()
        .into_values()
        .collect();
    kept.sort();
    kept
}

#[sqlx::test(migrations = "../migrations")]
async fn a_players_explored_map_is_hers_kept_with_the_encounter_and_forgotten_on_the_gms_word(
    db: PgPool,
) {
    let table = table(db.clone()).await;
    let encounter = table.encounter;
    let (mut gm, _) = join(&table, &table.gm.cookie).await;
    let (mut alice, _) = join(&table, &table.alice.cookie).await;
    let (mut alice_too, _) = join(&table, &table.alice.cookie).await;
    let (mut bruno, _) = join(&table, &table.bruno.cookie).await;
    for player in [&alice, &alice_too, &bruno] {
        assert_eq!(
            player.explored,
            Some(BTreeSet::new()),
            "the welcome brings what she explored: nothing yet"
        );
    }
    assert_eq!(gm.explored, None, "the GM's brings nothing");

    let seen = BTreeSet::from([Cell(1, 1), Cell(2, 1), Cell(2, 2)]);
    let explore = |cells: &[Cell]| ClientMessage::Explore {
        encounter,
        cells: cells.iter().copied().collect(),
    };
    alice
        .send(&explore(&[Cell(1, 1), Cell(2, 1), Cell(2, 2)]))
        .await;
    assert_eq!(alice_too.until(explored).await, (seen.clone(), false));
    alice.send(&explore(&[Cell(2, 2), Cell(3, 2)])).await;
    assert_eq!(
        alice_too.until(explored).await,
        (BTreeSet::from([Cell(3, 2)]), false),
        "only the new cell goes to her other browser"
    );
    settled(&mut bruno, 1).await;
    settled(&mut gm, 2).await;
    settled(&mut alice, 3).await;
    assert_eq!(explored_frames(&bruno), 1, "Bruno hears nothing of hers");
    assert_eq!(explored_frames(&gm), 0, "nor does the GM");
    assert_eq!(
        explored_frames(&alice),
        1,
        "nor her own browser, which told it"
    );

    // Refused, with nothing kept: the GM, another encounter, a cell no map
    // reaches, more than the limit in all.
    gm.send(&explore(&[Cell(-9, -9)])).await;
    let refused = gm.until(error).await;
    assert!(refused.contains("only players explore"), "{refused}");
    alice
        .send(&ClientMessage::Explore {
            encounter: EncounterId(Uuid::new_v4()),
            cells: BTreeSet::from([Cell(-9, -9)]),
        })
        .await;
    let refused = alice.until(error).await;
    assert!(refused.starts_with("no encounter"), "{refused}");
    alice
        .send(&explore(&[Cell(-9, -9), Cell(0, 2_000_000)]))
        .await;
    let refused = alice.until(error).await;
    assert!(refused.contains("explored cell's row"), "{refused}");
    // The limit in all, in messages that each fit a frame.
    let per = shared::client::EXPLORE_CELLS_PER_MESSAGE as i32;
    let limit = shared::limits::MAX_EXPLORED_CELLS as i32;
    let mut from = 100;
    let refused = loop {
        let cells: Vec<Cell> = (from..from + per)
            .map(|i| Cell(i % 1_000, i / 1_000))
            .collect();
        alice.send(&explore(&cells)).await;
        from += per;
        let nonce = from as u64;
        alice.send(&ClientMessage::Ping { nonce }).await;
        let answer = alice
            .until(|m| match m {
                ServerMessage::Error { error, .. } => Some(Some(error.to_string())),
                ServerMessage::Pong { nonce: n } if *n == nonce => Some(None),
                _ => None,
            })
            .await;
        if let Some(refused) = answer {
            break refused;
        }
        assert!(from < 2 * limit, "the limit was never met");
    };
    assert!(refused.contains("explored cells on one map"), "{refused}");
    settled(&mut alice_too, 7).await;

    // A new socket of hers is welcomed with all she explored that was kept.
    let (mut again, _) = join(&table, &table.alice.cookie).await;
    let whole = again.explored.clone().unwrap_or_default();
    assert!(whole.is_superset(&seen) && whole.contains(&Cell(3, 2)));
    assert!(whole.len() <= limit as usize && !whole.contains(&Cell(-9, -9)));

    // Kept in PostgreSQL while the session runs (written within a second),
    // for her alone, and for this campaign alone.
    assert!(
        eventually(|| async { kept(&db, table.campaign, encounter).await == vec![whole.clone()] })
            .await
    );
    let elsewhere = CampaignId(Uuid::new_v4());
    assert!(kept(&db, elsewhere, encounter).await.is_empty());

    // Only the GM makes the players forget; every player's browser is told.
    alice.send(&ClientMessage::ForgetExplored).await;
    let refused = alice.until(error).await;
    assert!(refused.contains("only the GM"), "{refused}");
    gm.send(&ClientMessage::ForgetExplored).await;
    for player in [&mut alice, &mut alice_too, &mut bruno, &mut again] {
        assert_eq!(
            player
                .until(|m| explored(m).filter(|(_, whole)| *whole))
                .await,
            (BTreeSet::new(), true)
        );
    }
    assert!(kept(&db, table.campaign, encounter).await.is_empty());

    // What she explores next is kept when the session ends.
    bruno.send(&explore(&[Cell(5, 5)])).await;
    settled(&mut bruno, 8).await;
    gm.send(&ClientMessage::EndSession).await;
    gm.until(|m| matches!(m, ServerMessage::Ended { .. }).then_some(()))
        .await;
    assert_eq!(
        kept(&db, table.campaign, encounter).await,
        vec![BTreeSet::from([Cell(5, 5)])]
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn the_gm_previews_one_players_explored_map_and_hears_it_grow_until_she_looks_away(
    db: PgPool,
) {
    let table = table(db.clone()).await;
    let encounter = table.encounter;
    let (mut gm, _) = join(&table, &table.gm.cookie).await;
    let (mut other_gm_tab, _) = join(&table, &table.gm.cookie).await;
    let (mut alice, _) = join(&table, &table.alice.cookie).await;
    let (mut bruno, _) = join(&table, &table.bruno.cookie).await;
    let explore = |cells: &[Cell]| ClientMessage::Explore {
        encounter,
        cells: cells.iter().copied().collect(),
    };
    alice.send(&explore(&[Cell(1, 1), Cell(2, 1)])).await;
    bruno.send(&explore(&[Cell(9, 9)])).await;
    settled(&mut alice, 1).await;
    settled(&mut bruno, 2).await;

    // The GM previews Alice: her cells, whole, and Bruno's are not in it.
    let preview = |player| ClientMessage::PreviewExplored { player };
    gm.send(&preview(Some(table.alice.user.id))).await;
    assert_eq!(
        gm.until(explored).await,
        (BTreeSet::from([Cell(1, 1), Cell(2, 1)]), true)
    );
    // What she explores next reaches the previewing tab; Bruno's does not.
    alice.send(&explore(&[Cell(3, 1)])).await;
    assert_eq!(
        gm.until(explored).await,
        (BTreeSet::from([Cell(3, 1)]), false)
    );
    bruno.send(&explore(&[Cell(9, 8)])).await;
    settled(&mut bruno, 3).await;
    settled(&mut gm, 4).await;
    settled(&mut other_gm_tab, 5).await;
    assert_eq!(explored_frames(&gm), 2, "nothing of Bruno's");
    assert_eq!(
        explored_frames(&other_gm_tab),
        0,
        "nor anything to a GM tab that previews nobody"
    );

    // A player may not preview anyone.
    bruno.send(&preview(Some(table.alice.user.id))).await;
    let refused = bruno.until(error).await;
    assert!(refused.contains("only the GM"), "{refused}");
    settled(&mut bruno, 6).await;
    assert_eq!(
        explored_frames(&bruno),
        1,
        "nothing of hers comes to him (the one is his welcome's)"
    );

    // Looking away: an empty whole, then nothing more of hers.
    gm.send(&preview(None)).await;
    assert_eq!(gm.until(explored).await, (BTreeSet::new(), true));
    alice.send(&explore(&[Cell(4, 1)])).await;
    settled(&mut alice, 7).await;
    settled(&mut gm, 8).await;
    assert_eq!(explored_frames(&gm), 3);
}
