//! Verifiable dice: the commitment in every welcome, every die derived from
//! the session's seed, the seed kept secret until the end, and each
//! member's record holding only the rolls they saw.

use super::*;
use app::Backend;
use shared::{
    account::User,
    action::Secrecy,
    fair::{self, Commitment, DiceRecord},
};

/// A member's record, read the way the page reads it: through the
/// backend, which checks who asks.
async fn record_for(db: &PgPool, table: &support::table::Table, reader: &User) -> DiceRecord {
    support::state(db.clone())
        .dice_record(reader, table.session)
        .await
        .unwrap()
}

fn applied(status: Result<RequestStatus, String>) {
    assert!(
        matches!(status, Ok(RequestStatus::Applied { .. })),
        "{status:?}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn every_roll_checks_against_the_seed_revealed_when_the_session_ends(db: PgPool) {
    let table = table(db.clone()).await;
    let (mut gm, _) = join(&table, &table.gm.cookie).await;
    let (mut alice, _) = join(&table, &table.alice.cookie).await;
    let (mut bruno, _) = join(&table, &table.bruno.cookie).await;
    let encounter = table.encounter;
    let welcomed = |raw: &[String]| -> Option<Commitment> {
        raw.iter()
            .find_map(|frame| match ServerMessage::decode(frame.as_bytes()) {
                Ok(ServerMessage::Welcome { dice, .. }) => dice,
                _ => None,
            })
    };
    let commitment = welcomed(&gm.raw).expect("the welcome publishes the seed's hash");
    assert_eq!(welcomed(&alice.raw), Some(commitment));

    let roll = |dice: &str, secrecy| Action::Roll {
        encounter,
        dice: dice.into(),
        roll: None,
        secrecy,
    };
    let open = alice
        .request(roll("4d6kh3 + 1d20 + 2", Secrecy::Open))
        .await;
    applied(alice.status(open).await);
    let blind = alice.request(roll("1d20 insight", Secrecy::Blind)).await;
    applied(alice.status(blind).await);
    let secret = bruno.request(roll("1d20 + 1 sneaking", Secrecy::Gm)).await;
    applied(bruno.status(secret).await);
    let inline = bruno
        .request(Action::Chat {
            encounter,
            text: "I swing [[1d20+5]] for [[1d8!]]".into(),
            to: None,
            rolls: Vec::new(),
        })
        .await;
    applied(bruno.status(inline).await);
    let initiative = gm
        .request(Action::RollInitiative {
            encounter,
            tokens: vec![table.alice.token, table.bruno.token, table.hidden],
            rolls: None,
        })
        .await;
    applied(gm.status(initiative).await);

    let gm_reader = &table.gm.user;
    // While the session runs the seed stays the server's.
    let running = record_for(&db, &table, gm_reader).await;
    assert_eq!(running.commitment, Some(commitment));
    assert_eq!(running.seed, None);
    assert_eq!(running.rolls.len(), 5);

    gm.send(&ClientMessage::EndSession).await;
    gm.until(|m| matches!(m, ServerMessage::Ended { .. }).then_some(()))
        .await;

    let ids = |record: &DiceRecord| record.rolls.iter().map(|r| r.id).collect::<Vec<_>>();
    let everything = record_for(&db, &table, gm_reader).await;
    let seed = everything.seed.expect("revealed at the end");
    assert_eq!(seed.commitment(), commitment);
    // Nobody's socket carried it while the session ran.
    for client in [&gm, &alice, &bruno] {
        assert!(
            !client
                .raw
                .iter()
                .any(|frame| frame.contains(&seed.to_string()))
        );
    }
    assert_eq!(ids(&everything), [open, blind, secret, inline, initiative]);
    let verified = fair::verify(commitment, &seed, &everything.rolls).unwrap();
    // 4 + 1 + 1 + 1 + 1 + (at least one d8) + 3.
    assert_eq!(verified.rolls, 5);
    assert!(verified.dice >= 12, "{verified:?}");

    // Each player checks what they saw: Alice not her blind roll nor
    // Bruno's GM roll; Bruno his own GM roll.
    let alice_record = record_for(&db, &table, &table.alice.user).await;
    assert_eq!(ids(&alice_record), [open, inline, initiative]);
    assert!(fair::verify(commitment, &seed, &alice_record.rolls).is_ok());
    let bruno_record = record_for(&db, &table, &table.bruno.user).await;
    assert_eq!(ids(&bruno_record), [open, secret, inline, initiative]);

    // A log altered after the fact does not check: one face of the open
    // roll changed in the event log.
    sqlx::query(
        "update event_log
            set event_data = jsonb_set(event_data, '{action,roll,dice,0,face}',
                to_jsonb(((event_data #>> '{action,roll,dice,0,face}')::int % 6) + 1))
          where action_id = $1",
    )
    .bind(open.0)
    .execute(&db)
    .await
    .unwrap();
    let forged = record_for(&db, &table, gm_reader).await;
    assert!(matches!(
        fair::verify(commitment, &seed, &forged.rolls),
        Err(fair::Mismatch::Face { action, die: 1, .. }) if action == open
    ));
}

/// Someone outside the campaign reads nothing of its dice, even with the
/// session's id.
#[sqlx::test(migrations = "../migrations")]
async fn an_outsider_reads_no_dice_record(db: PgPool) {
    let table = table(db.clone()).await;
    let (outsider, _) = support::signed_in(&db, "outsider").await;
    let state = support::state(db.clone());
    assert!(state.dice_record(&outsider, table.session).await.is_err());
    assert!(
        state
            .dice_sessions(&outsider, table.campaign)
            .await
            .is_err()
    );
    // A member lists the session, with the hash its welcome publishes.
    let listed = state
        .dice_sessions(&table.alice.user, table.campaign)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, table.session);
    assert!(!listed[0].ended);
}
