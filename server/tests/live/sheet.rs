//! The sheet at the table: checks rolled by the server with the live
//! actor's bonus, sheet changes through the approval rules, who may use
//! whose sheet, and the sheet as played written back when the session
//! ends.

use shared::sheet::{Ability, Check, Edge, Stat};

use super::*;

fn applied(status: Result<RequestStatus, String>) -> Version {
    match status {
        Ok(RequestStatus::Applied { version }) => version,
        other => panic!("not applied: {other:?}"),
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_sheet_rolls_and_changes_through_the_rules_and_is_kept_when_the_session_ends(db: PgPool) {
    let table = table(db.clone()).await;
    let (mut gm, _) = join(&table, &table.gm.cookie).await;
    let (mut alice, mut alice_store) = join(&table, &table.alice.cookie).await;
    let actor = table.alice.actor;
    let stealth: Check = "skill:stealth".parse().unwrap();

    // A number on her sheet waits for the GM (the default rule) ...
    let raise = alice
        .request(Action::SetStat {
            actor,
            stat: Stat::Ability(Ability::Dexterity),
            value: 16,
        })
        .await;
    assert!(matches!(
        alice.status(raise).await,
        Ok(RequestStatus::WaitingForGm { .. })
    ));
    gm.send(&ClientMessage::Decide(GmDecision {
        action: raise,
        verdict: Verdict::Approve,
    }))
    .await;
    // ... and the GM's own change applies at once.
    let taught = gm
        .request(Action::SetProficiency {
            actor,
            check: stealth,
            proficient: true,
        })
        .await;
    let version = applied(gm.status(taught).await);
    alice.follow(&mut alice_store, 0, version).await;
    let live = alice_store.actor(actor).unwrap().clone();
    assert_eq!(live.stats.get("dexterity"), Some(&16));
    assert!(live.proficiencies.contains(&stealth));
    let bonus = stealth.bonus(&live);
    assert_eq!(bonus, 3 + 2, "dexterity 16, proficiency +2");

    // Her check: the server rolls, whatever faces she sends, and adds the
    // bonus of the live actor.
    let rolled = alice
        .request(Action::RollCheck {
            encounter: table.encounter,
            actor,
            check: stealth,
            edge: Edge::Normal,
            rolls: Some(vec![20]),
        })
        .await;
    let version = applied(alice.status(rolled).await);
    alice.follow(&mut alice_store, version - 1, version).await;
    let line = alice_store
        .encounter(table.encounter)
        .and_then(|e| e.log.last().cloned())
        .unwrap();
    assert_eq!(line.by, Some(table.alice.user.id));
    let (face, total) = line
        .text
        .strip_prefix("alice: Stealth: ")
        .and_then(|rest| rest.split_once(" + 5 → "))
        .unwrap_or_else(|| panic!("{}", line.text));
    let (face, total): (i64, i64) = (face.parse().unwrap(), total.parse().unwrap());
    assert!((1..=20).contains(&face));
    assert_eq!(total, face + bonus);

    // Her attack: the GM gives her a sword (a raw edit, as the sheet page
    // would between sessions), and the server rolls to hit and damage.
    let sword = shared::sheet::Attack {
        name: "Longsword".into(),
        damage: "1d8".into(),
        damage_type: "slashing".into(),
        finesse: false,
        ranged: false,
        bonus: 0,
        spell: None,
        area: None,
    };
    let armed = gm
        .request(Action::Edit {
            changes: vec![shared::change::Change::set(
                shared::path::Entity::Actor(actor).at(&["attacks"]),
                json!([sword]),
            )],
        })
        .await;
    applied(gm.status(armed).await);
    let swing = alice
        .request(Action::RollAttack {
            encounter: table.encounter,
            actor,
            attack: 0,
            edge: Edge::Normal,
            rolls: None,
        })
        .await;
    let version = applied(alice.status(swing).await);
    alice.follow(&mut alice_store, version - 2, version).await;
    let line = alice_store
        .encounter(table.encounter)
        .and_then(|e| e.log.last().cloned())
        .unwrap();
    // Strength 10 (+0) and proficiency +2 to hit; 1d8 + 0 damage.
    assert!(
        line.text.starts_with("alice: Longsword: to hit ") && line.text.contains("+ 2 → "),
        "{}",
        line.text
    );
    assert!(line.text.contains("; damage 1d8"), "{}", line.text);

    // Bruno may not roll for her or change her sheet; an observer may use
    // no sheet at all; nothing of it is in the log.
    let (observer, observer_cookie) = super::support::signed_in(&db, "watcher").await;
    let invitation =
        server::membership::invite(&db, table.campaign, table.gm.user.id, Role::Observer)
            .await
            .unwrap();
    server::membership::accept(&db, observer.id, &invitation.token)
        .await
        .unwrap();
    let (mut bruno, _) = join(&table, &table.bruno.cookie).await;
    let (mut watcher, _) = join(&table, &observer_cookie).await;
    for client in [&mut bruno, &mut watcher] {
        for action in [
            Action::RollCheck {
                encounter: table.encounter,
                actor,
                check: stealth,
                edge: Edge::Advantage,
                rolls: None,
            },
            Action::RollAttack {
                encounter: table.encounter,
                actor,
                attack: 0,
                edge: Edge::Normal,
                rolls: None,
            },
            Action::SetStat {
                actor,
                stat: Stat::ArmorClass,
                value: 30,
            },
            Action::SetProficiency {
                actor,
                check: stealth,
                proficient: false,
            },
        ] {
            let asked = client.request(action).await;
            let refused = client.status(asked).await.unwrap_err();
            assert!(
                refused.contains("only its player or the GM") || refused.contains("observers"),
                "{refused}"
            );
        }
    }
    // A value out of range is refused for the GM too.
    let silly = gm
        .request(Action::SetStat {
            actor,
            stat: Stat::ArmorClass,
            value: 99,
        })
        .await;
    assert!(
        gm.status(silly)
            .await
            .unwrap_err()
            .contains("Armor class is from 1 to 30")
    );

    gm.send(&ClientMessage::EndSession).await;
    gm.until(|m| matches!(m, ServerMessage::Ended { .. }).then_some(()))
        .await;
    let stats: serde_json::Value =
        sqlx::query_scalar("select current_stats from actors where id = $1")
            .bind(actor.0)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(stats["dexterity"], json!(16), "{stats}");
    assert_eq!(stats["skills"], json!(["stealth"]), "{stats}");
    assert!(stats.get("armor_class").is_none_or(|ac| ac != &json!(30)));

    // The next session's actor plays as this one ended.
    let next = event_log::start_session(
        &db,
        table.campaign,
        Some(table.encounter),
        table.gm.user.id,
        &ApprovalPolicy::default(),
    )
    .await
    .unwrap();
    let (_, resumed) = join_at(table.addr, next, &table.alice.cookie).await;
    let again = resumed.actor(actor).unwrap();
    assert_eq!(stealth.bonus(again), bonus);
    assert_eq!(again.stats.get("dexterity"), Some(&16));
}
