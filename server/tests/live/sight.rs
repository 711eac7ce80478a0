//! What a player's socket may carry: hidden tokens and fog of war, checked
//! on the bytes.

use super::*;

#[sqlx::test(migrations = "../migrations")]
async fn a_players_socket_never_carries_a_hidden_token(db: PgPool) {
    let table = table(db.clone()).await;
    let (mut gm, mut gm_store) = join(&table, &table.gm.cookie).await;
    let (mut alice, mut alice_store) = join(&table, &table.alice.cookie).await;
    let hidden = table.hidden.to_string();

    // The GM moves it, marks it, then moves a visible token.
    let first = gm.request(move_to(table.hidden, 800.0)).await;
    let second = gm
        .request(Action::AddCondition {
            token: table.hidden,
            condition: "invisible".into(),
        })
        .await;
    let third = gm.request(move_to(table.bruno.token, 300.0)).await;
    for id in [first, second, third] {
        assert!(matches!(
            gm.status(id).await,
            Ok(RequestStatus::Applied { .. })
        ));
    }
    gm.follow(&mut gm_store, 0, 3).await;
    alice.follow(&mut alice_store, 0, 3).await;
    assert!(
        gm.raw.iter().any(|frame| frame.contains(&hidden)),
        "the GM sees it"
    );
    assert!(
        alice.raw.iter().all(|frame| !frame.contains(&hidden)),
        "not one byte of the hidden token reaches a player"
    );
    assert_eq!(
        alice_store.token(table.bruno.token).unwrap().position.x,
        300.0
    );

    // A player naming it is refused exactly as for a token that does not exist.
    let probe = alice.request(move_to(table.hidden, 0.0)).await;
    let nowhere = TokenId(Uuid::new_v4());
    let unknown = alice.request(move_to(nowhere, 0.0)).await;
    let refused_hidden = alice.status(probe).await.unwrap_err();
    let refused_unknown = alice.status(unknown).await.unwrap_err();
    assert!(refused_hidden.starts_with("no token"), "{refused_hidden}");
    assert_eq!(
        refused_hidden.replace(&hidden, "?"),
        refused_unknown.replace(&nowhere.to_string(), "?")
    );

    // Revealed, it arrives whole.
    let reveal = gm
        .request(Action::SetVisibility {
            token: table.hidden,
            visibility: Visibility::Visible,
        })
        .await;
    assert!(matches!(
        gm.status(reveal).await,
        Ok(RequestStatus::Applied { version: 4 })
    ));
    alice.follow(&mut alice_store, 3, 4).await;
    assert_eq!(alice_store.token(table.hidden).unwrap().position.x, 800.0);
}

#[sqlx::test(migrations = "../migrations")]
async fn fog_of_war_keeps_what_it_covers_off_a_players_socket(db: PgPool) {
    let table = table(db.clone()).await;
    let (mut gm, mut gm_store) = join(&table, &table.gm.cookie).await;
    let (mut alice, mut alice_store) = join(&table, &table.alice.cookie).await;
    let (mut bruno, mut bruno_store) = join(&table, &table.bruno.cookie).await;
    let bruno_token = table.bruno.token;
    let alice_token = table.alice.token;
    let fog = |field: &str| {
        shared::path::Path::parse(&format!("encounters/{}/fog/{field}", table.encounter)).unwrap()
    };
    // Fog over the map; alice's cell (2, 2) is lit, bruno's (4, 2) is not.
    let dark = gm
        .request(Action::Edit {
            changes: vec![
                shared::change::Change::set(fog("enabled"), json!(true)),
                shared::change::Change::append(fog("revealed"), json!([[2, 2]])),
            ],
        })
        .await;
    assert!(matches!(
        gm.status(dark).await,
        Ok(RequestStatus::Applied { version: 1 })
    ));
    for (client, store) in [
        (&mut gm, &mut gm_store),
        (&mut alice, &mut alice_store),
        (&mut bruno, &mut bruno_store),
    ] {
        client.follow(store, 0, 1).await;
    }
    assert!(
        alice_store.token(bruno_token).is_none(),
        "bruno is in the dark"
    );
    assert!(
        bruno_store.token(bruno_token).is_some(),
        "bruno knows where he is"
    );
    assert!(
        bruno_store.token(alice_token).is_some(),
        "alice stands in the light"
    );

    // Bruno walks in the dark: alice hears nothing of where to, not even
    // the drag.
    alice.raw.clear();
    bruno
        .send(&ClientMessage::DragPreview {
            token: bruno_token,
            position: Point {
                x: 311.75,
                y: 100.0,
            },
        })
        .await;
    let walk = bruno.request(move_to(bruno_token, 357.25)).await;
    assert!(matches!(
        bruno.status(walk).await,
        Ok(RequestStatus::Applied { version: 2 })
    ));
    gm.until(|m| matches!(m, ServerMessage::DragPreview { .. }).then_some(()))
        .await;
    alice.follow(&mut alice_store, 1, 2).await;
    assert!(
        alice
            .raw
            .iter()
            .all(|frame| !frame.contains("357.25") && !frame.contains("311.75")),
        "no position from the dark: {:?}",
        alice.raw
    );
    // A player naming it is told it does not exist.
    let probe = alice
        .request(Action::AddCondition {
            token: bruno_token,
            condition: "prone".into(),
        })
        .await;
    assert!(
        alice
            .status(probe)
            .await
            .unwrap_err()
            .starts_with("no token")
    );
    // A fresh snapshot of alice's has no trace of it.
    let (_, fresh) = join(&table, &table.alice.cookie).await;
    assert!(fresh.token(bruno_token).is_none());
    assert!(fresh.actor(table.bruno.actor).is_none(), "nor of his sheet");

    // The GM lights his cell: he arrives whole, where he is.
    let light = gm
        .request(Action::RevealFog {
            encounter: table.encounter,
            cells: vec![shared::geometry::Cell(7, 2)],
        })
        .await;
    assert!(matches!(
        gm.status(light).await,
        Ok(RequestStatus::Applied { version: 3 })
    ));
    alice.follow(&mut alice_store, 2, 3).await;
    assert_eq!(alice_store.token(bruno_token).unwrap().position.x, 357.25);
    assert_eq!(
        alice_store
            .actor(table.bruno.actor)
            .map(|a| a.name.as_str()),
        Some("bruno")
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_players_socket_carries_a_monsters_hit_points_only_once_the_gm_shows_them(db: PgPool) {
    let table = table(db.clone()).await;
    let (mut gm, mut gm_store) = join(&table, &table.gm.cookie).await;
    let (mut alice, mut alice_store) = join(&table, &table.alice.cookie).await;
    let monster = gm_store.token(table.hidden).unwrap().actor.unwrap();
    let applied = |status: Result<RequestStatus, String>| {
        assert!(
            matches!(status, Ok(RequestStatus::Applied { .. })),
            "{status:?}"
        )
    };
    // The GM reveals the lurker and hurts it: alice sees it, not its HP.
    for action in [
        Action::SetVisibility {
            token: table.hidden,
            visibility: Visibility::Visible,
        },
        Action::AdjustHp {
            actor: monster,
            delta: -7,
        },
    ] {
        let asked = gm.request(action).await;
        applied(gm.status(asked).await);
    }
    gm.follow(&mut gm_store, 0, 2).await;
    alice.follow(&mut alice_store, 0, 2).await;
    assert_eq!(gm_store.actor(monster).unwrap().hp.unwrap().current, 13);
    let seen = alice_store.actor(monster).expect("she sees the lurker");
    assert_eq!(seen.hp, None);
    let about_it: Vec<&String> = alice
        .raw
        .iter()
        .filter(|frame| frame.contains(&monster.to_string()))
        .collect();
    assert!(!about_it.is_empty());
    assert!(
        about_it
            .iter()
            .all(|frame| !frame.contains("\"hp\"") && !frame.contains("hp/")),
        "no hit points of the monster in a player's bytes: {about_it:?}"
    );
    // Her own character's hit points she reads.
    assert!(alice_store.actor(table.alice.actor).unwrap().hp.is_some());

    // A player may not choose who reads them.
    let refused = alice
        .request(Action::SetHpShown {
            token: table.hidden,
            shown: HpShown::Everyone,
        })
        .await;
    assert!(alice.status(refused).await.is_err());

    // Shown to everyone: they arrive, and so does the next hit.
    let shown = gm
        .request(Action::SetHpShown {
            token: table.hidden,
            shown: HpShown::Everyone,
        })
        .await;
    applied(gm.status(shown).await);
    let hit = gm
        .request(Action::AdjustHp {
            actor: monster,
            delta: -3,
        })
        .await;
    applied(gm.status(hit).await);
    alice.follow(&mut alice_store, 2, 4).await;
    assert_eq!(alice_store.actor(monster).unwrap().hp.unwrap().current, 10);

    // The setting outlives the session.
    gm.send(&ClientMessage::EndSession).await;
    gm.until(|m| matches!(m, ServerMessage::Ended { .. }).then_some(()))
        .await;
    let encounter::Loaded { tokens, .. } = encounter::load(&db, table.campaign, table.encounter)
        .await
        .unwrap();
    let kept = tokens.iter().find(|t| t.id == table.hidden).unwrap();
    assert_eq!(kept.hp_shown, Some(HpShown::Everyone));
}

/// A whisper and the secret rolls reach the sockets of their readers only:
/// live commits and a newcomer's snapshot.
#[sqlx::test(migrations = "../migrations")]
async fn whispers_and_secret_rolls_reach_only_their_readers_sockets(db: PgPool) {
    use shared::action::Secrecy;
    let table = table(db.clone()).await;
    let (mut gm, mut gm_store) = join(&table, &table.gm.cookie).await;
    let (mut alice, mut alice_store) = join(&table, &table.alice.cookie).await;
    let (mut bruno, mut bruno_store) = join(&table, &table.bruno.cookie).await;
    let encounter = table.encounter;

    let whisper = alice
        .request(Action::Chat {
            encounter,
            text: "the password is swordfish".into(),
            to: Some(vec![table.bruno.user.id]),
            rolls: Vec::new(),
        })
        .await;
    let gm_roll = bruno
        .request(Action::Roll {
            encounter,
            dice: "1d20+1 sneaking".into(),
            roll: None,
            secrecy: Secrecy::Gm,
        })
        .await;
    let blind = alice
        .request(Action::Roll {
            encounter,
            dice: "1d20+2 insight".into(),
            roll: None,
            secrecy: Secrecy::Blind,
        })
        .await;
    for id in [whisper, blind] {
        let status = alice.status(id).await;
        assert!(
            matches!(status, Ok(RequestStatus::Applied { .. })),
            "{status:?}"
        );
    }
    let status = bruno.status(gm_roll).await;
    assert!(
        matches!(status, Ok(RequestStatus::Applied { .. })),
        "{status:?}"
    );
    for (client, store) in [
        (&mut gm, &mut gm_store),
        (&mut alice, &mut alice_store),
        (&mut bruno, &mut bruno_store),
    ] {
        client.follow(store, 0, 3).await;
    }
    let carried = |raw: &[String], text: &str| raw.iter().any(|frame| frame.contains(text));
    // Who carries what: (text, GM, Alice, Bruno).
    for (text, by_gm, by_alice, by_bruno) in [
        ("swordfish", true, true, true),
        ("sneaking:", true, false, true),
        ("insight: rolled blind", true, true, false),
        ("blind: 1d20 + 2 insight:", true, false, false),
    ] {
        assert_eq!(carried(&gm.raw, text), by_gm, "GM, {text}");
        assert_eq!(carried(&alice.raw, text), by_alice, "Alice, {text}");
        assert_eq!(carried(&bruno.raw, text), by_bruno, "Bruno, {text}");
    }
    let texts = |store: &Store| {
        store
            .encounter(encounter)
            .map(|e| e.log.iter().map(|l| l.text.clone()).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    assert_eq!(
        (
            texts(&gm_store).len(),
            texts(&alice_store).len(),
            texts(&bruno_store).len()
        ),
        (4, 2, 2)
    );
    assert!(texts(&alice_store)[1].contains("rolled blind"));
    // Alice's and Bruno's requests come over two sockets: either may
    // commit first.
    assert!(texts(&bruno_store).iter().any(|t| t.contains("sneaking")));

    // A newcomer's snapshot: Bruno again, from nothing.
    let (again, again_store) = join(&table, &table.bruno.cookie).await;
    assert!(again.raw.iter().all(|frame| !frame.contains("insight:")));
    assert_eq!(texts(&again_store), texts(&bruno_store));
}

/// A handout shown to Alice reaches her socket and the GM's, never
/// Bruno's (live or in a snapshot); a player cannot show one.
#[sqlx::test(migrations = "../migrations")]
async fn a_handout_reaches_only_its_readers_sockets(db: PgPool) {
    use shared::media::{DisplayFileName, Handout, HandoutFormat};
    let table = table(db.clone()).await;
    let (mut gm, mut gm_store) = join(&table, &table.gm.cookie).await;
    let (mut alice, mut alice_store) = join(&table, &table.alice.cookie).await;
    let (mut bruno, _) = join(&table, &table.bruno.cookie).await;
    let letter = Handout {
        media: shared::id::MediaId(Uuid::new_v4()),
        name: DisplayFileName::sanitize("letter-from-the-duke.png"),
        format: HandoutFormat::Image,
    };
    let show = |to: Option<Vec<shared::id::UserId>>| Action::ShowHandout {
        encounter: table.encounter,
        handout: letter.clone(),
        to,
    };

    let forged = bruno.request(show(None)).await;
    let refused = bruno.status(forged).await;
    assert!(
        matches!(&refused, Err(reason) if reason.contains("only the GM")),
        "{refused:?}"
    );
    let shown = gm.request(show(Some(vec![table.alice.user.id]))).await;
    assert!(matches!(
        gm.status(shown).await,
        Ok(RequestStatus::Applied { .. })
    ));
    gm.follow(&mut gm_store, 0, 1).await;
    alice.follow(&mut alice_store, 0, 1).await;
    // Bruno's socket gets the version and nothing of what it holds: a
    // later whisper to the table proves his socket is live and caught up.
    let said = gm
        .request(Action::Chat {
            encounter: table.encounter,
            text: "all aboard".into(),
            to: None,
            rolls: Vec::new(),
        })
        .await;
    assert!(matches!(
        gm.status(said).await,
        Ok(RequestStatus::Applied { .. })
    ));
    bruno
        .until(|m| match m {
            ServerMessage::Commit(c) if c.version == 2 => Some(()),
            _ => None,
        })
        .await;
    let media = letter.media.to_string();
    for (who, raw, carries) in [
        ("GM", &gm.raw, true),
        ("Alice", &alice.raw, true),
        ("Bruno", &bruno.raw, false),
    ] {
        assert_eq!(
            raw.iter()
                .any(|f| f.contains("letter-from-the-duke") || f.contains(&media)),
            carries,
            "{who}"
        );
    }
    let line = alice_store
        .encounter(table.encounter)
        .and_then(|e| e.log.last().cloned())
        .unwrap();
    assert_eq!(line.handout, Some(letter.clone()));
    let (again, _) = join(&table, &table.bruno.cookie).await;
    assert!(again.raw.iter().all(|f| !f.contains(&media)));
}

/// Drawings over the socket: a player draws only once the GM allows it;
/// one drawn under the fog reaches its author and the GM and none of
/// another player's bytes; a player erases their own drawings alone (one
/// they cannot see does not exist for them); and the map's drawings, with
/// whether players draw, outlast the session.
#[sqlx::test(migrations = "../migrations")]
async fn a_drawing_reaches_only_those_who_see_it_and_outlasts_the_session(db: PgPool) {
    use shared::drawing::{Color, Drawing, Stroke};
    let table = table(db.clone()).await;
    let (mut gm, mut gm_store) = join(&table, &table.gm.cookie).await;
    let (mut alice, mut alice_store) = join(&table, &table.alice.cookie).await;
    let (mut bruno, mut bruno_store) = join(&table, &table.bruno.cookie).await;
    let encounter = table.encounter;
    // Fog on, one cell lifted (grid 50: the cell from 350,100).
    lift_fog(
        [(&mut gm, &mut gm_store), (&mut alice, &mut alice_store)],
        encounter,
        vec![shared::geometry::Cell(7, 2)],
    )
    .await;
    bruno.follow(&mut bruno_store, 0, 2).await;
    bruno.raw.clear();
    let line = |author: shared::id::UserId, x: f64, y: f64| Drawing {
        id: shared::id::DrawingId(Uuid::new_v4()),
        encounter,
        author,
        shape: Stroke::Line {
            from: Point::new(x, y),
            to: Point::new(x + 20.0, y + 20.0),
        },
        color: Color::PALETTE[1].1,
        width: 3,
    };
    let draw = |drawing: &Drawing| Action::Draw {
        drawing: Box::new(drawing.clone()),
    };

    // In the dark, before the GM allows it: refused.
    let secret = line(table.alice.user.id, 620.0, 420.0);
    let early = alice.request(draw(&secret)).await;
    let refused = alice.status(early).await;
    assert!(
        matches!(&refused, Err(reason) if reason.contains("not let players draw")),
        "{refused:?}"
    );
    let allow = gm
        .request(Action::Edit {
            changes: vec![shared::change::Change::set(
                shared::path::Entity::Encounter(encounter).at(&["map", "players_draw"]),
                json!(true),
            )],
        })
        .await;
    assert!(matches!(
        gm.status(allow).await,
        Ok(RequestStatus::Applied { .. })
    ));
    // Signed in someone else's name: refused.
    let forged = alice
        .request(draw(&line(table.bruno.user.id, 360.0, 110.0)))
        .await;
    assert!(alice.status(forged).await.is_err());
    let drawn = alice.request(draw(&secret)).await;
    assert!(matches!(
        alice.status(drawn).await,
        Ok(RequestStatus::Applied { .. })
    ));
    let open = line(table.gm.user.id, 355.0, 105.0);
    let shown = gm.request(draw(&open)).await;
    assert!(matches!(
        gm.status(shown).await,
        Ok(RequestStatus::Applied { .. })
    ));
    for (client, store) in [
        (&mut gm, &mut gm_store),
        (&mut alice, &mut alice_store),
        (&mut bruno, &mut bruno_store),
    ] {
        client.follow(store, 2, 5).await;
    }
    assert!(gm_store.drawing(secret.id).is_some());
    assert_eq!(alice_store.drawing(secret.id), Some(&secret));
    assert_eq!(bruno_store.drawing(open.id), Some(&open));
    let hidden = secret.id.to_string();
    assert!(
        bruno.raw.iter().all(|frame| !frame.contains(&hidden)),
        "a drawing in the dark is not in another player's bytes"
    );
    let (again, _) = join(&table, &table.bruno.cookie).await;
    assert!(again.raw.iter().all(|frame| !frame.contains(&hidden)));
    assert!(
        again
            .raw
            .iter()
            .any(|frame| frame.contains(&open.id.to_string()))
    );

    // Bruno cannot erase what he cannot see, nor the GM's drawing.
    let erase = |id| Action::Erase { drawings: vec![id] };
    let unseen = bruno.request(erase(secret.id)).await;
    let refused = bruno.status(unseen).await;
    assert!(
        matches!(&refused, Err(reason) if reason.contains("drawing") && !reason.contains("own")),
        "{refused:?}"
    );
    let not_his = bruno.request(erase(open.id)).await;
    let refused = bruno.status(not_his).await;
    assert!(
        matches!(&refused, Err(reason) if reason.contains("your own drawings")),
        "{refused:?}"
    );

    // The end: both drawings stay with the map, and so does the GM's
    // leave to draw.
    gm.send(&ClientMessage::EndSession).await;
    gm.until(|m| matches!(m, ServerMessage::Ended { .. }).then_some(()))
        .await;
    let kept = encounter::load(&db, table.campaign, encounter)
        .await
        .unwrap();
    let mut ids: Vec<_> = kept.drawings.iter().map(|d| d.id).collect();
    ids.sort();
    let mut expected = vec![secret.id, open.id];
    expected.sort();
    assert_eq!(ids, expected);
    assert!(kept.encounter.map.players_draw);
    assert_eq!(kept.drawings.iter().find(|d| d.id == open.id), Some(&open));
}

/// A ping reaches whoever sees the place: the GM always, a player where
/// the fog is lifted; never its sender, never an unknown encounter, and a
/// socket's pings are spaced out.
#[sqlx::test(migrations = "../migrations")]
async fn a_ping_reaches_whoever_sees_the_place(db: PgPool) {
    let table = table(db.clone()).await;
    let (mut gm, mut gm_store) = join(&table, &table.gm.cookie).await;
    let (mut alice, mut alice_store) = join(&table, &table.alice.cookie).await;
    let encounter = table.encounter;
    let pings = |raw: &[String]| {
        raw.iter()
            .filter_map(|frame| match ServerMessage::decode(frame.as_bytes()) {
                Ok(ServerMessage::PointedAt { at, by, .. }) => Some((at.x, at.y, by)),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    // Fog on, one cell lifted (grid 50: the cell from 350,100).
    lift_fog(
        [(&mut gm, &mut gm_store), (&mut alice, &mut alice_store)],
        encounter,
        vec![shared::geometry::Cell(7, 2)],
    )
    .await;

    let point = |encounter, x, y| ClientMessage::PointAt {
        encounter,
        at: Point::new(x, y),
    };
    // Under the fog, then in the lifted cell (after the spacing), then at
    // an encounter that does not exist.
    gm.send(&point(encounter, 620.0, 420.0)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    gm.send(&point(encounter, 360.0, 110.0)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    gm.send(&point(EncounterId(Uuid::new_v4()), 360.0, 110.0))
        .await;
    // Alice twice at once: the second is too soon.
    alice.send(&point(encounter, 365.0, 120.0)).await;
    alice.send(&point(encounter, 366.0, 121.0)).await;

    // A commit after them all marks the end of what each socket got.
    mark_the_end(
        [(&mut gm, &mut gm_store), (&mut alice, &mut alice_store)],
        encounter,
    )
    .await;
    assert_eq!(
        pings(&alice.raw),
        [(360.0, 110.0, table.gm.user.id)],
        "the lifted cell only, and not her own"
    );
    assert_eq!(
        pings(&gm.raw),
        [(365.0, 120.0, table.alice.user.id)],
        "the GM sees hers, once"
    );
}

/// A ruler reaches whoever sees every point of it: the GM always, a
/// player only while it stays where the fog is lifted. A player shown it
/// is told when it goes under the fog, is put away or its socket closes;
/// a ruler too long, not finite or on another encounter is dropped.
#[sqlx::test(migrations = "../migrations")]
async fn a_ruler_reaches_whoever_sees_all_of_it(db: PgPool) {
    let table = table(db.clone()).await;
    let (mut gm, mut gm_store) = join(&table, &table.gm.cookie).await;
    let (mut alice, mut alice_store) = join(&table, &table.alice.cookie).await;
    let encounter = table.encounter;
    let rulers = |raw: &[String]| {
        raw.iter()
            .filter_map(|frame| match ServerMessage::decode(frame.as_bytes()) {
                Ok(ServerMessage::Measured { path, by, .. }) => {
                    Some((path.iter().map(|p| (p.x, p.y)).collect::<Vec<_>>(), by))
                }
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    // Fog on, two cells lifted (grid 50): from 350,100 and from 400,100.
    lift_fog(
        [(&mut gm, &mut gm_store), (&mut alice, &mut alice_store)],
        encounter,
        vec![shared::geometry::Cell(7, 2), shared::geometry::Cell(8, 2)],
    )
    .await;

    let measure = |encounter, path: &[(f64, f64)]| ClientMessage::Measure {
        encounter,
        path: path.iter().map(|&(x, y)| Point::new(x, y)).collect(),
    };
    let lifted = [(375.0, 125.0), (425.0, 125.0)];
    gm.send(&measure(encounter, &lifted)).await;
    // On under the fog: she is told it is gone, once.
    gm.send(&measure(encounter, &[(375.0, 125.0), (625.0, 425.0)]))
        .await;
    gm.send(&measure(encounter, &[(375.0, 125.0), (675.0, 425.0)]))
        .await;
    // Refused outright.
    gm.send(&measure(EncounterId(Uuid::new_v4()), &lifted))
        .await;
    gm.send(&measure(encounter, &[(f64::NAN, 1.0)])).await;
    let too_long = vec![(375.0, 125.0); shared::measure::MAX_RULER_POINTS + 1];
    gm.send(&measure(encounter, &too_long)).await;
    // Hers, under the fog: the GM sees it all the same.
    alice
        .send(&measure(encounter, &[(625.0, 425.0), (675.0, 475.0)]))
        .await;

    mark_the_end(
        [(&mut gm, &mut gm_store), (&mut alice, &mut alice_store)],
        encounter,
    )
    .await;
    let by_gm = table.gm.user.id;
    assert_eq!(
        rulers(&alice.raw),
        [(lifted.to_vec(), by_gm), (Vec::new(), by_gm)],
        "the lifted ruler, then its end; nothing under the fog, nothing refused"
    );
    let hers = vec![(625.0, 425.0), (675.0, 475.0)];
    assert_eq!(rulers(&gm.raw), [(hers.clone(), table.alice.user.id)]);

    // Her socket closes: the GM is told her ruler is gone.
    drop(alice);
    let gone = gm
        .until(|m| match m {
            ServerMessage::Measured { path, by, .. } if path.is_empty() => Some(*by),
            _ => None,
        })
        .await;
    assert_eq!(gone, table.alice.user.id);
}

/// An area template goes to whoever sees its point, like a ruler: a
/// player's bytes never carry one placed under the fog; one that moves
/// there is taken off her map; one that cannot be drawn is answered with
/// why and reaches nobody.
#[sqlx::test(migrations = "../migrations")]
async fn a_template_reaches_whoever_sees_its_point(db: PgPool) {
    use shared::template::{Shape, Template};
    let table = table(db.clone()).await;
    let (mut gm, mut gm_store) = join(&table, &table.gm.cookie).await;
    let (mut alice, mut alice_store) = join(&table, &table.alice.cookie).await;
    let encounter = table.encounter;
    let templates = |raw: &[String]| {
        raw.iter()
            .filter_map(|frame| match ServerMessage::decode(frame.as_bytes()) {
                Ok(ServerMessage::TemplateShown { template, by, .. }) => {
                    Some((template.map(|t| (t.origin.x, t.origin.y, t.shape)), by))
                }
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    lift_fog(
        [(&mut gm, &mut gm_store), (&mut alice, &mut alice_store)],
        encounter,
        vec![shared::geometry::Cell(7, 2), shared::geometry::Cell(8, 2)],
    )
    .await;

    let fireball = Shape::Circle { radius: 20 };
    let show = |encounter, at: (f64, f64), shape| ClientMessage::ShowTemplate {
        encounter,
        template: Some(Template {
            shape,
            origin: Point::new(at.0, at.1),
            direction: 90.0,
        }),
    };
    gm.send(&show(encounter, (400.0, 125.0), fireball)).await;
    // Moved under the fog: she is told it is gone, once.
    gm.send(&show(encounter, (600.0, 400.0), fireball)).await;
    gm.send(&show(encounter, (650.0, 400.0), fireball)).await;
    // Refused: another encounter, no size, a point that is not a number.
    gm.send(&show(EncounterId(Uuid::new_v4()), (400.0, 125.0), fireball))
        .await;
    gm.send(&show(
        encounter,
        (400.0, 125.0),
        Shape::Circle { radius: 0 },
    ))
    .await;
    gm.send(&show(encounter, (f64::INFINITY, 125.0), fireball))
        .await;
    // Hers, under the fog: the GM sees it all the same.
    let cone = Shape::Cone { length: 15 };
    alice.send(&show(encounter, (625.0, 425.0), cone)).await;

    mark_the_end(
        [(&mut gm, &mut gm_store), (&mut alice, &mut alice_store)],
        encounter,
    )
    .await;
    let by_gm = table.gm.user.id;
    assert_eq!(
        templates(&alice.raw),
        [(Some((400.0, 125.0, fireball)), by_gm), (None, by_gm)],
        "the template on lifted ground, then its end; nothing under the fog, nothing refused"
    );
    assert_eq!(
        templates(&gm.raw),
        [(Some((625.0, 425.0, cone)), table.alice.user.id)]
    );
    let answered = gm
        .raw
        .iter()
        .filter(|frame| {
            matches!(
                ServerMessage::decode(frame.as_bytes()),
                Ok(ServerMessage::Error { action: None, .. })
            )
        })
        .count();
    assert_eq!(answered, 2, "the zero-foot and the infinite template");

    // Her socket closes: the GM is told her template is gone.
    drop(alice);
    let gone = gm
        .until(|m| match m {
            ServerMessage::TemplateShown {
                template: None, by, ..
            } => Some(*by),
            _ => None,
        })
        .await;
    assert_eq!(gone, table.alice.user.id);
}

/// Turns the fog on with `cells` lifted (the GM asks; both follow), and
/// forgets what the sockets got so far.
async fn lift_fog(
    clients: [(&mut Client, &mut Store); 2],
    encounter: EncounterId,
    cells: Vec<shared::geometry::Cell>,
) {
    let [(gm, gm_store), (other, other_store)] = clients;
    for action in [
        Action::SetFog {
            encounter,
            enabled: true,
        },
        Action::RevealFog { encounter, cells },
    ] {
        let id = gm.request(action).await;
        assert!(matches!(
            gm.status(id).await,
            Ok(RequestStatus::Applied { .. })
        ));
    }
    gm.follow(gm_store, 0, 2).await;
    other.follow(other_store, 0, 2).await;
    other.raw.clear();
    gm.raw.clear();
}

/// A commit (the third) after everything sent before it: once both have
/// it, each socket holds all it was going to get of what came before.
async fn mark_the_end(clients: [(&mut Client, &mut Store); 2], encounter: EncounterId) {
    let [(gm, gm_store), (other, other_store)] = clients;
    // The two sockets reach the session independently: a pong to the other
    // proves the session took what she sent before it, so whatever that
    // showed the GM is queued ahead of the marker.
    other.send(&ClientMessage::Ping { nonce: 7 }).await;
    other
        .until(|m| matches!(m, ServerMessage::Pong { nonce: 7 }).then_some(()))
        .await;
    let marker = gm
        .request(Action::Chat {
            encounter,
            text: "marker".into(),
            to: None,
            rolls: Vec::new(),
        })
        .await;
    assert!(matches!(
        gm.status(marker).await,
        Ok(RequestStatus::Applied { .. })
    ));
    gm.follow(gm_store, 2, 3).await;
    other.follow(other_store, 2, 3).await;
}
