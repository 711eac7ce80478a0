//! A hostile member, over real sockets and a real PostgreSQL: one test per
//! class of issue 12 (docs/SECURITY.md), then a random walk of a hostile
//! GM's messages that checks after every step that no row of another
//! campaign changed and the server still answers.
//!
//! Each test can fail: the closing note of issue 12 lists the code each was
//! seen failing against.
//!
//! Longer than 500 lines on purpose: every file under `tests/` is its own
//! test binary linking the whole server, so one subject stays one file.

mod support;

use support::table::{Gm, Player, Table, spawn_node, spawn_server_with, table};
use support::ws::{Client, closed, join_at, move_to, open, request};

use std::time::Duration;

use app::Backend;
use serde_json::{Value, json};
use server::{
    AppState,
    encounter::{self, NewEncounter, NewToken},
    event_log,
};
use shared::{
    action::Action,
    campaign::NewCampaign,
    change::Change,
    encounter::MapSettings,
    geometry::Point,
    id::{ActionId, CampaignId, EncounterId, SessionId, TokenId},
    path::Path,
    protocol::{ClientMessage, GmDecision, RequestStatus, ServerMessage, Verdict},
    rules::{ApprovalPolicy, Role},
    token::Visibility,
};
use sqlx::PgPool;
use uuid::Uuid;

/// A GM of another campaign, with an encounter, a token and a session of
/// their own: the strongest stranger there is.
struct Stranger {
    gm: Gm,
    encounter: EncounterId,
    session: SessionId,
}

async fn stranger(db: &PgPool, login: &str) -> Stranger {
    let (user, cookie) = support::signed_in(db, login).await;
    let gm = Gm { user, cookie };
    let campaign = server::campaign::create(
        db,
        gm.user.id,
        &NewCampaign::parse("Elsewhere", "dnd5e").unwrap(),
    )
    .await
    .unwrap()
    .id;
    let encounter = encounter::create(
        db,
        &NewEncounter {
            campaign,
            name: "Lair".into(),
            map: None,
            settings: MapSettings::default(),
        },
    )
    .await
    .unwrap();
    encounter::place_token(
        db,
        campaign,
        encounter,
        &NewToken {
            actor: None,
            name: "Own".into(),
            position: Point { x: 0.0, y: 0.0 },
            visibility: Visibility::Visible,
            scale: 1.0,
        },
    )
    .await
    .unwrap();
    let session = event_log::start_session(
        db,
        campaign,
        Some(encounter),
        gm.user.id,
        &ApprovalPolicy::default(),
    )
    .await
    .unwrap();
    Stranger {
        gm,
        encounter,
        session,
    }
}

/// Every row a campaign owns, as text: equal digests, untouched rows.
async fn digest(db: &PgPool, campaign: CampaignId) -> String {
    sqlx::query_scalar(
        "select coalesce((select string_agg(e::text, '|' order by e.id) from encounters e where e.campaign_id = $1), '')
             || '#' || coalesce((select string_agg(t::text, '|' order by t.id)
                                   from encounter_tokens t join encounters e on e.id = t.encounter_id
                                  where e.campaign_id = $1), '')
             || '#' || coalesce((select string_agg(a::text, '|' order by a.id) from actors a where a.campaign_id = $1), '')
             || '#' || coalesce((select string_agg(m::text, '|' order by m.user_id) from campaign_members m where m.campaign_id = $1), '')
             || '#' || coalesce((select string_agg(x::text, '|' order by x.user_id)
                                   from explored_areas x join encounters e on e.id = x.encounter_id
                                  where e.campaign_id = $1), '')",
    )
    .bind(campaign.0)
    .fetch_one(db)
    .await
    .unwrap()
}

/// How a request ended: its status, or the text of its rejection or error.
async fn outcome(client: &mut Client, action: ActionId) -> Result<RequestStatus, String> {
    client
        .until(|m| match m {
            ServerMessage::Received { action: a, status } if *a == action => {
                Some(Ok(status.clone()))
            }
            ServerMessage::Rejected {
                action: a, reason, ..
            } if *a == action => Some(Err(reason.clone())),
            ServerMessage::Error {
                action: Some(a),
                error,
            } if *a == action => Some(Err(error.to_string())),
            _ => None,
        })
        .await
}

fn edit(changes: Vec<Change>) -> Action {
    Action::Edit { changes }
}

fn path(text: &str) -> Path {
    Path::parse(text).unwrap()
}

/// A server of the test's own over `db`, with its state at hand (to act
/// as the HTTP handlers do and to read its metrics).
async fn serve(db: &PgPool) -> (AppState, std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let state = support::table::engine_state(db.clone(), Default::default()).await;
    let (addr, server) = spawn_server_with(state.clone()).await;
    (state, addr, server)
}

/// Class 1: a GM's live edit names an encounter and tokens of another
/// campaign (ids every member of it has seen). The browser-side store
/// refuses what would create or move rows there, and the write-back when
/// the session ends leaves the other campaign's rows as they were, even
/// for a token the edit re-created under the same id on the GM's own map.
#[sqlx::test(migrations = "../migrations")]
async fn a_live_edit_reaches_no_row_of_another_campaign(db: PgPool) {
    let victim = table(db.clone()).await;
    let mallory = stranger(&db, "mallory").await;
    let before = digest(&db, victim.campaign).await;
    let (mut gm, _) = join_at(victim.addr, mallory.session, &mallory.gm.cookie).await;

    let hidden = victim.hidden;
    let token_on = |id: TokenId, encounter: EncounterId, name: &str| json!({"id": id, "encounter": encounter, "name": name, "position": {"x": 5.0, "y": 5.0}});
    let refused = [
        // A token onto the victim's encounter.
        vec![Change::set(
            path(&format!("tokens/{hidden}")),
            token_on(hidden, victim.encounter, "stolen"),
        )],
        // The victim's encounter itself, into this session's state.
        vec![Change::set(
            path(&format!("encounters/{}", victim.encounter)),
            json!({"id": victim.encounter, "name": "Mine now"}),
        )],
        // Its own encounter away, to make room for another.
        vec![Change::delete(path(&format!(
            "encounters/{}",
            mallory.encounter
        )))],
    ];
    for changes in refused {
        let id = gm.request(edit(changes.clone())).await;
        let answer = outcome(&mut gm, id).await;
        assert!(answer.is_err(), "{changes:?} was accepted: {answer:?}");
    }
    // The victim's token id, re-created on Mallory's own map: the store
    // cannot know the id is taken elsewhere; the database write must.
    for victim_token in [hidden, victim.alice.token] {
        let id = gm
            .request(edit(vec![Change::set(
                path(&format!("tokens/{victim_token}")),
                token_on(victim_token, mallory.encounter, "overwritten"),
            )]))
            .await;
        assert!(
            matches!(
                outcome(&mut gm, id).await,
                Ok(RequestStatus::Applied { .. })
            ),
            "an edit of its own map is the GM's to make"
        );
    }
    gm.send(&ClientMessage::EndSession).await;
    gm.until(|m| matches!(m, ServerMessage::Ended { .. }).then_some(()))
        .await;

    assert_eq!(digest(&db, victim.campaign).await, before);
    let hidden_row: (Uuid, String, String) =
        sqlx::query_as("select encounter_id, name, visibility from encounter_tokens where id = $1")
            .bind(hidden.0)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(
        hidden_row,
        (victim.encounter.0, "T".to_owned(), "hidden".to_owned())
    );
}

/// Class 2: a role taken away on an open socket is taken away at once,
/// over the socket (the GM's delegation) and over HTTP (the members
/// page): the socket is welcomed again as a player, without the hidden
/// token, and the assistant's GM edit is refused.
#[sqlx::test(migrations = "../migrations")]
async fn a_demoted_assistant_gm_loses_gm_sight_and_powers_at_once(db: PgPool) {
    let table = table(db.clone()).await;
    let (state, addr, _server) = serve(&db).await;
    let Player {
        user: alice,
        cookie: alice_cookie,
        ..
    } = table.alice.clone();
    let (mut gm, _) = join_at(addr, table.session, &table.gm.cookie).await;
    let (mut assistant, seen) = join_at(addr, table.session, &alice_cookie).await;
    assert!(seen.token(table.hidden).is_none());

    gm.send(&ClientMessage::Delegate {
        user: alice.id,
        role: Role::AssistantGm,
    })
    .await;
    let welcomed = |role: Role| {
        move |m: &ServerMessage| match m {
            ServerMessage::Welcome { you, .. } if you.role == role => Some(()),
            _ => None,
        }
    };
    tokio::time::timeout(
        Duration::from_secs(1),
        assistant.until(welcomed(Role::AssistantGm)),
    )
    .await
    .expect("promoted within a second");
    let snapshot = assistant
        .until(|m| match m {
            ServerMessage::Snapshot { entities, .. } => Some(entities.clone()),
            _ => None,
        })
        .await;
    assert!(snapshot.tokens.contains_key(&table.hidden));

    // Demoted over HTTP, as from the members page.
    state
        .set_role(&table.gm.user, table.campaign, alice.id, Role::Player)
        .await
        .unwrap();
    tokio::time::timeout(
        Duration::from_secs(1),
        assistant.until(welcomed(Role::Player)),
    )
    .await
    .expect("demoted within a second");
    let snapshot = assistant
        .until(|m| match m {
            ServerMessage::Snapshot { entities, .. } => Some(entities.clone()),
            _ => None,
        })
        .await;
    assert!(
        !snapshot.tokens.contains_key(&table.hidden),
        "a player's view after demotion holds the hidden token"
    );
    let id = assistant
        .request(edit(vec![Change::set(
            path(&format!("tokens/{}/visibility", table.hidden)),
            json!("visible"),
        )]))
        .await;
    let answer = outcome(&mut assistant, id).await;
    assert!(
        answer.as_ref().is_err_and(|e| e.contains("not allowed")),
        "{answer:?}"
    );
}

/// The socket is told why within a second (an error naming `why`), then
/// closed.
async fn told_and_closed(player: &mut Client, why: &str) {
    let told = tokio::time::timeout(
        Duration::from_secs(1),
        player.until(|m| match m {
            ServerMessage::Error { error, .. } => Some(error.to_string()),
            _ => None,
        }),
    )
    .await
    .expect("told within a second");
    assert!(told.contains(why), "{told}");
    closed(player).await;
}

/// Class 2: a socket opened with a login stops acting when that login
/// ends (log-out), told why.
#[sqlx::test(migrations = "../migrations")]
async fn logging_out_closes_the_sockets_of_that_login(db: PgPool) {
    let table = table(db.clone()).await;
    let (state, addr, _server) = serve(&db).await;
    let cookie = table.alice.cookie.clone();
    let (mut player, _) = join_at(addr, table.session, &cookie).await;
    let token = cookie.split_once('=').unwrap().1.to_owned();
    state.log_out(token).await.unwrap();
    told_and_closed(&mut player, "no longer signed in").await;
    // And it cannot come back with the same cookie.
    assert!(open(addr, table.session, &cookie).await.is_err());
}

/// Class 2: a password change signs out the account's other logins, and
/// the tables opened with them are told and closed at once; the table of
/// the login that changed it plays on.
#[sqlx::test(migrations = "../migrations")]
async fn a_password_change_closes_the_tables_of_the_other_logins(db: PgPool) {
    let table = table(db.clone()).await;
    let (state, addr, _server) = serve(&db).await;
    let Player {
        user: alice,
        cookie: here,
        ..
    } = table.alice.clone();
    let elsewhere = server::account::start_login(&db, alice.id).await.unwrap();
    let elsewhere = format!("{}={}", app::account::SESSION_COOKIE, elsewhere.as_str());
    let (mut kept, _) = join_at(addr, table.session, &here).await;
    let (mut stolen, _) = join_at(addr, table.session, &elsewhere).await;

    let token = here.split_once('=').unwrap().1.to_owned();
    let new = shared::account::Password::parse("a much newer phrase").unwrap();
    let ended = state
        .change_password(token, "correct horse battery".into(), new)
        .await
        .unwrap();
    assert_eq!(ended, 1);
    told_and_closed(&mut stolen, "no longer signed in").await;
    assert!(open(addr, table.session, &elsewhere).await.is_err());
    let chat = kept
        .request(Action::Chat {
            encounter: table.encounter,
            text: "still here".into(),
            to: None,
            rolls: Vec::new(),
        })
        .await;
    assert!(matches!(
        outcome(&mut kept, chat).await,
        Ok(RequestStatus::Applied { .. })
    ));
}

/// Class 2: a member removed from the campaign (by the GM, from the
/// members list's server function) is told and closed at once, and cannot
/// come back.
#[sqlx::test(migrations = "../migrations")]
async fn a_removed_member_is_closed_at_once(db: PgPool) {
    use app::Backend;
    let table = table(db.clone()).await;
    let (state, addr, _server) = serve(&db).await;
    let Player {
        user: alice,
        cookie,
        ..
    } = table.alice.clone();
    let (mut player, _) = join_at(addr, table.session, &cookie).await;
    state
        .remove_member(&table.gm.user, table.campaign, alice.id)
        .await
        .unwrap();
    told_and_closed(&mut player, "no longer a member").await;
    assert!(open(addr, table.session, &cookie).await.is_err());
}

/// Class 3: live edits obey the field limits (at the limit accepted, past
/// it refused and named), the GM's queue is capped per player and arrives
/// as changes, not whole, and a member's sockets per session are capped.
#[sqlx::test(migrations = "../migrations")]
async fn members_cannot_grow_the_table_without_bound(db: PgPool) {
    let table = table(db.clone()).await;
    let (mut gm, _) = join_at(table.addr, table.session, &table.gm.cookie).await;
    let token = table.alice.token;
    let scale = |value: f64| {
        edit(vec![Change::set(
            path(&format!("tokens/{token}/scale")),
            value,
        )])
    };
    let id = gm.request(scale(shared::limits::MAX_SCALE)).await;
    assert!(matches!(
        outcome(&mut gm, id).await,
        Ok(RequestStatus::Applied { .. })
    ));
    let id = gm.request(scale(2000.0)).await;
    let refused = outcome(&mut gm, id).await.unwrap_err();
    assert!(refused.contains("0.1 to 99"), "{refused}");
    let id = gm
        .request(edit(vec![Change::set(
            path(&format!("tokens/{token}/name")),
            "x".repeat(shared::limits::MAX_NAME_CHARS + 1),
        )]))
        .await;
    let refused = outcome(&mut gm, id).await.unwrap_err();
    assert!(refused.contains("at most 100"), "{refused}");

    // The queue: a player's far moves wait for the GM, up to the cap.
    let (mut gm, _) = join_at(table.addr, table.session, &table.gm.cookie).await;
    let Player {
        cookie: alice_cookie,
        token: alice_token,
        ..
    } = table.alice.clone();
    let (mut alice, _) = join_at(table.addr, table.session, &alice_cookie).await;
    let max = shared::limits::MAX_QUEUED_PER_MEMBER;
    for n in 0..max {
        let id = alice
            .request(move_to(alice_token, 5_000.0 + n as f64 * 10.0))
            .await;
        assert!(matches!(
            outcome(&mut alice, id).await,
            Ok(RequestStatus::WaitingForGm { .. })
        ));
    }
    let id = alice.request(move_to(alice_token, 9_000.0)).await;
    let refused = outcome(&mut alice, id).await.unwrap_err();
    assert!(refused.contains(&format!("at most {max}")), "{refused}");
    // The GM heard of each one by one; nothing re-sent the whole queue.
    for _ in 0..max {
        gm.until(|m| matches!(m, ServerMessage::Queued { .. }).then_some(()))
            .await;
    }
    assert!(
        !gm.raw
            .iter()
            .any(|frame| frame.contains("\"type\":\"queue\"")
                && frame.matches("\"from\"").count() > 1),
        "the whole queue was sent again"
    );

    // Sockets: one member's sockets in one session are capped.
    let bruno = table.bruno.cookie.clone();
    let mut open_sockets = Vec::new();
    for _ in 0..shared::limits::MAX_SOCKETS_PER_MEMBER {
        open_sockets.push(join_at(table.addr, table.session, &bruno).await.0);
    }
    let mut one_more = open(table.addr, table.session, &bruno).await.unwrap();
    one_more
        .send(&ClientMessage::Hello { resume_from: None })
        .await;
    let told = one_more
        .until(|m| match m {
            ServerMessage::Error { error, .. } => Some(error.to_string()),
            _ => None,
        })
        .await;
    assert!(told.contains("at most"), "{told}");
    closed(&mut one_more).await;
}

/// Class 4: text PostgreSQL cannot store is refused when parsed, and a
/// row that still fails in a batch fails alone: a trigger poisons one
/// chat among many of three members written together, and only its
/// sender hears of it.
#[sqlx::test(migrations = "../migrations")]
async fn a_poisoned_request_fails_alone(db: PgPool) {
    let table = table(db.clone()).await;
    let (state, addr, _server) = serve(&db).await;
    let (mut gm, _) = join_at(addr, table.session, &table.gm.cookie).await;
    let (mut alice, _) = join_at(addr, table.session, &table.alice.cookie).await;
    let (mut bruno, _) = join_at(addr, table.session, &table.bruno.cookie).await;

    // U+0000, as JSON carries it: refused at once, naming why.
    let chat = |text: &str| Action::Chat {
        encounter: table.encounter,
        text: text.into(),
        to: None,
        rolls: Vec::new(),
    };
    let id = ActionId(Uuid::new_v4());
    let frame = String::from_utf8(ClientMessage::Request(request(id, chat("hi_there"))).encode())
        .unwrap()
        .replace("hi_there", "hi\\u0000there");
    bruno.send_text(frame).await;
    let told = bruno
        .until(|m| match m {
            ServerMessage::Error { error, .. } => Some(error.to_string()),
            _ => None,
        })
        .await;
    assert!(told.contains("NUL"), "{told}");

    // A row the database refuses anyway; the first write is slowed so the
    // rest gather into one batch behind it.
    sqlx::raw_sql(
        "create function poison() returns trigger language plpgsql as $$
         begin
           if new.event_data::text like '%SLOW%' then perform pg_sleep(0.3); end if;
           if new.event_data::text like '%POISON%' then raise exception 'poisoned row'; end if;
           return new;
         end $$;
         create trigger poison before insert on event_log for each row execute function poison();",
    )
    .execute(&db)
    .await
    .unwrap();
    let slow = gm.request(chat("SLOW")).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut sent = Vec::new();
    for n in 0..8 {
        sent.push((0, gm.request(chat(&format!("gm {n}"))).await));
        sent.push((1, alice.request(chat(&format!("alice {n}"))).await));
        let text = if n == 4 {
            "POISON".to_owned()
        } else {
            format!("bruno {n}")
        };
        sent.push((2, bruno.request(chat(&text)).await));
    }
    assert!(matches!(
        outcome(&mut gm, slow).await,
        Ok(RequestStatus::Applied { .. })
    ));
    let mut failed = Vec::new();
    for (who, id) in sent {
        let client = match who {
            0 => &mut gm,
            1 => &mut alice,
            _ => &mut bruno,
        };
        if outcome(client, id).await.is_err() {
            failed.push(who);
        }
    }
    assert_eq!(
        failed,
        vec![2],
        "only the poisoned request's sender hears of it"
    );
    let written_alone = state.metrics.render().unwrap();
    assert!(
        written_alone
            .lines()
            .any(|line| line.starts_with("tabletop_written_alone_total ") && !line.ends_with(" 0")),
        "the batch was never written request by request:\n{written_alone}"
    );
}

/// Makes the commit of a chat saying STALL take a second; sends one from
/// `client`, then a hundred more while the actor waits on it. Returns the
/// ids: the stalled chat's and the flood's.
async fn flood_a_stalled_session(
    db: &PgPool,
    client: &mut Client,
    encounter: EncounterId,
) -> (ActionId, Vec<ActionId>) {
    sqlx::raw_sql(
        "create function stall() returns trigger language plpgsql as $$
         begin
           if new.event_data::text like '%STALL%' then perform pg_sleep(1); end if;
           return new;
         end $$;
         create trigger stall before insert on event_log for each row execute function stall();",
    )
    .execute(db)
    .await
    .unwrap();
    let chat = |text: String| Action::Chat {
        encounter,
        text,
        to: None,
        rolls: Vec::new(),
    };
    let stall = client.request(chat("STALL".into())).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut flood = Vec::new();
    for n in 0..100 {
        flood.push(client.request(chat(format!("flood {n}"))).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    (stall, flood)
}

/// Class 7: a member who floods a session while it waits on a slow commit
/// holds up nobody else. The GM's request, sent after a hundred of the
/// player's, is written before all of them (the GM's lane is read first);
/// another player's waits at most for the flooder's room in the mailbox
/// (`mailbox::IN_FLIGHT`), not for the whole flood.
#[sqlx::test(migrations = "../migrations")]
async fn a_flooding_member_holds_up_nobody_else(db: PgPool) {
    let table = table(db.clone()).await;
    let (_state, addr, _server) = serve(&db).await;
    let (mut gm, _) = join_at(addr, table.session, &table.gm.cookie).await;
    let (mut alice, _) = join_at(addr, table.session, &table.alice.cookie).await;
    let (mut bruno, _) = join_at(addr, table.session, &table.bruno.cookie).await;
    let chat = |text: &str| Action::Chat {
        encounter: table.encounter,
        text: text.into(),
        to: None,
        rolls: Vec::new(),
    };
    let (stall, flood) = flood_a_stalled_session(&db, &mut alice, table.encounter).await;
    let from_gm = gm.request(chat("the GM")).await;
    let from_bruno = bruno.request(chat("bruno")).await;

    let applied = |status: Result<RequestStatus, String>| match status {
        Ok(RequestStatus::Applied { version }) => version,
        other => panic!("a chat is applied at once, got {other:?}"),
    };
    let stalled = applied(outcome(&mut alice, stall).await);
    let gm_version = applied(outcome(&mut gm, from_gm).await);
    let bruno_version = applied(outcome(&mut bruno, from_bruno).await);
    let mut flooded = Vec::new();
    for id in flood {
        flooded.push(applied(outcome(&mut alice, id).await));
    }
    assert!(stalled < gm_version);
    let ahead_of_gm = flooded.iter().filter(|v| **v < gm_version).count();
    assert_eq!(ahead_of_gm, 0, "the GM waited for the flood");
    let ahead_of_bruno = flooded.iter().filter(|v| **v < bruno_version).count();
    assert!(
        ahead_of_bruno <= server::live::mailbox::IN_FLIGHT && ahead_of_bruno < flooded.len(),
        "another player waited for {ahead_of_bruno} of the flood"
    );
}

/// Class 7, across nodes: the owner's delivery serves every session, so it
/// never waits for a flooder's room; a socket on another node that outruns
/// it is closed (and resumes, as a slow one does), and the GM's request
/// on the owner is written before the flood all the same.
#[sqlx::test(migrations = "../migrations")]
async fn a_flood_through_another_node_closes_only_the_flooder(db: PgPool) {
    let table = table(db.clone()).await;
    let lease = Duration::from_secs(2);
    let (a, _a_server, _hub_a) = spawn_node(db.clone(), lease).await;
    let (b, _b_server, _hub_b) = spawn_node(db.clone(), lease).await;
    let (mut gm, _) = join_at(a, table.session, &table.gm.cookie).await;
    let (mut alice, _) = join_at(b, table.session, &table.alice.cookie).await;
    let chat = |text: &str| Action::Chat {
        encounter: table.encounter,
        text: text.into(),
        to: None,
        rolls: Vec::new(),
    };
    flood_a_stalled_session(&db, &mut alice, table.encounter).await;
    let from_gm = gm.request(chat("the GM")).await;
    closed(&mut alice).await;
    let Ok(RequestStatus::Applied { version }) = outcome(&mut gm, from_gm).await else {
        panic!("the GM's chat is applied");
    };
    let first: i64 = sqlx::query_scalar(
        "select min(version) from event_log where session_id = $1 and event_data::text like '%STALL%'",
    )
    .bind(table.session.0)
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(version, first as u64 + 1, "the GM waited for the flood");
    // What was let in before the socket was closed is written, in order.
    let flooded: i64 = sqlx::query_scalar(
        "select count(*) from event_log where session_id = $1 and event_data::text like '%flood %'",
    )
    .bind(table.session.0)
    .fetch_one(&db)
    .await
    .unwrap();
    assert!(
        (1..100).contains(&flooded),
        "{flooded} of the flood were let in"
    );
}

/// Class 6: two starts of a session on one encounter at once give one
/// session, held by the schema, not by a check before the insert.
#[sqlx::test(migrations = "../migrations")]
async fn two_starts_at_once_give_one_session(db: PgPool) {
    let table = table(db.clone()).await;
    let fresh = encounter::create(
        &db,
        &NewEncounter {
            campaign: table.campaign,
            name: "Fresh".into(),
            map: None,
            settings: MapSettings::default(),
        },
    )
    .await
    .unwrap();
    let gm = table.gm.user.id;
    for _ in 0..5 {
        let (a, b) = tokio::join!(
            server::live::start(&db, table.campaign, Some(fresh), gm),
            server::live::start(&db, table.campaign, Some(fresh), gm),
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.0, b.0, "two sessions on one encounter");
        sqlx::query("update play_sessions set ended_at = now() where id = $1")
            .bind(a.0.0)
            .execute(&db)
            .await
            .unwrap();
    }
    // Even a writer that skips the check cannot insert a second one.
    server::live::start(&db, table.campaign, Some(fresh), gm)
        .await
        .unwrap();
    assert!(
        event_log::start_session(
            &db,
            table.campaign,
            Some(fresh),
            gm,
            &ApprovalPolicy::default()
        )
        .await
        .is_err()
    );
}

/// Class 6: a player's encounter list does not count the GM's hidden
/// tokens (a count is a leak too).
#[sqlx::test(migrations = "../migrations")]
async fn encounter_counts_are_per_viewer(db: PgPool) {
    let table = table(db.clone()).await;
    let state = support::state(db.clone());
    let count = |list: Vec<shared::encounter::EncounterSummary>| {
        list.into_iter()
            .find(|e| e.id == table.encounter)
            .unwrap()
            .tokens
    };
    let gm = state
        .list_encounters(&table.gm.user, table.campaign)
        .await
        .unwrap();
    let player = state
        .list_encounters(&table.alice.user, table.campaign)
        .await
        .unwrap();
    assert_eq!((count(gm), count(player)), (3, 2));
}

/// Class 7: an action id is its sender's. Another member replaying it (ids
/// travel in every commit) learns nothing of its outcome, and approving
/// re-checks the requester as they are now.
#[sqlx::test(migrations = "../migrations")]
async fn action_ids_and_approvals_are_checked_as_they_are_now(db: PgPool) {
    let table = table(db.clone()).await;
    let (mut gm, _) = join_at(table.addr, table.session, &table.gm.cookie).await;
    let Player {
        user: alice,
        cookie: alice_cookie,
        token: alice_token,
        ..
    } = table.alice.clone();
    let (mut alice_socket, _) = join_at(table.addr, table.session, &alice_cookie).await;
    let (mut bruno, _) = join_at(table.addr, table.session, &table.bruno.cookie).await;

    let near = alice_socket.request(move_to(alice_token, 110.0)).await;
    assert!(matches!(
        outcome(&mut alice_socket, near).await,
        Ok(RequestStatus::Applied { .. })
    ));
    let far = alice_socket.request(move_to(alice_token, 6_000.0)).await;
    assert!(matches!(
        outcome(&mut alice_socket, far).await,
        Ok(RequestStatus::WaitingForGm { .. })
    ));
    for taken in [near, far] {
        bruno
            .send(&ClientMessage::Request(request(
                taken,
                Action::Chat {
                    encounter: table.encounter,
                    text: "mine?".into(),
                    to: None,
                    rolls: Vec::new(),
                },
            )))
            .await;
        let answer = outcome(&mut bruno, taken).await;
        assert!(
            answer.as_ref().is_err_and(|e| e.contains("taken")),
            "{answer:?}"
        );
    }

    // Alice leaves the campaign before the GM approves: the approval is
    // refused, and her token stays where it was.
    server::membership::remove(&db, table.campaign, table.gm.user.id, alice.id)
        .await
        .unwrap();
    gm.send(&ClientMessage::Decide(GmDecision {
        action: far,
        verdict: Verdict::Approve,
    }))
    .await;
    gm.until(|m| matches!(m, ServerMessage::Dequeued { action } if *action == far).then_some(()))
        .await;
    let answer = outcome(&mut alice_socket, far).await;
    assert!(
        answer
            .as_ref()
            .is_err_and(|e| e.contains("no longer a member")),
        "{answer:?}"
    );
}

/// The random walk: a GM of another campaign sends random messages, many
/// naming the victim's ids, some malformed. After every step no row of
/// the victim's campaign has changed; every few steps the server still
/// answers its health check; and the process's memory stays bounded.
/// `TABLETOP_SEED` replays a run.
#[sqlx::test(migrations = "../migrations")]
async fn a_hostile_gm_changes_nothing_of_another_campaign(db: PgPool) {
    let victim: Table = table(db.clone()).await;
    let mallory = stranger(&db, "mallory").await;
    // What Alice explored of the victim's map, which Mallory's forgetting
    // must not touch.
    let mut tx = db.acquire().await.unwrap();
    let cells = std::collections::BTreeSet::from([shared::geometry::Cell(1, 2)]);
    server::encounter::explored::save(
        &mut tx,
        victim.campaign,
        victim.encounter,
        victim.alice.user.id,
        &cells,
    )
    .await
    .unwrap();
    drop(tx);
    let before = digest(&db, victim.campaign).await;
    assert!(before.contains("[[1, 2]]"), "{before}");
    let seed = std::env::var("TABLETOP_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand_seed);
    eprintln!("TABLETOP_SEED={seed}");
    let mut rng = Rng(seed | 1);
    let (mut gm, _) = join_at(victim.addr, mallory.session, &mallory.gm.cookie).await;
    gm.send(&ClientMessage::PreviewExplored {
        player: Some(victim.alice.user.id),
    })
    .await;
    let previewed = gm
        .until(|m| match m {
            ServerMessage::Explored { cells, .. } => Some(cells.clone()),
            _ => None,
        })
        .await;
    assert!(previewed.is_empty(), "{previewed:?}");
    let memory_before = resident_bytes();
    let victim_ids: Vec<Uuid> = [victim.encounter.0, victim.hidden.0]
        .into_iter()
        .chain(
            victim
                .players()
                .into_iter()
                .flat_map(|p| [p.actor.0, p.token.0, p.user.id.0]),
        )
        .collect();
    let own = [mallory.encounter.0, Uuid::new_v4()];
    for step in 0..200u64 {
        let id = |rng: &mut Rng| {
            if rng.below(3) == 0 {
                own[rng.below(own.len())]
            } else {
                victim_ids[rng.below(victim_ids.len())]
            }
        };
        let (a, b) = (id(&mut rng), id(&mut rng));
        let message = hostile_message(&mut rng, a, b, victim.encounter);
        match message {
            Hostile::Raw(text) => gm.send_text(text).await,
            Hostile::Message(message) => gm.send(&message).await,
        }
        // Under the socket's rate limit, so every message is acted on.
        tokio::time::sleep(Duration::from_millis(20)).await;
        // Let the server act on it before looking.
        if step % 10 == 9 {
            let ping = ClientMessage::Ping { nonce: step };
            gm.send(&ping).await;
            gm.until(|m| {
                matches!(m, ServerMessage::Pong { nonce } if *nonce == step).then_some(())
            })
            .await;
            assert_eq!(
                digest(&db, victim.campaign).await,
                before,
                "seed {seed}, step {step}"
            );
            assert!(
                support::table::http_ok(victim.addr, "/healthz").await,
                "seed {seed}, step {step}: the server stopped answering"
            );
        }
    }
    // Previewing a victim's player shows Mallory nothing she explored.
    assert!(
        !gm.raw.iter().any(|frame| frame.contains("[[1,2]]")),
        "seed {seed}: Alice's explored cells reached Mallory"
    );
    gm.send(&ClientMessage::EndSession).await;
    gm.until(|m| matches!(m, ServerMessage::Ended { .. }).then_some(()))
        .await;
    assert_eq!(digest(&db, victim.campaign).await, before, "seed {seed}");
    let grown = resident_bytes().saturating_sub(memory_before);
    assert!(
        grown < 512 * 1024 * 1024,
        "seed {seed}: the process grew by {grown} bytes"
    );
}

enum Hostile {
    Raw(String),
    Message(Box<ClientMessage>),
}

fn hostile_message(rng: &mut Rng, a: Uuid, b: Uuid, victim_encounter: EncounterId) -> Hostile {
    let collections = [
        "tokens",
        "encounters",
        "actors",
        "items",
        "effects",
        "walls",
    ];
    let values = [
        json!({"id": a, "encounter": b, "name": "x", "position": {"x": 1.0, "y": 1.0}}),
        json!({"id": a, "name": "y"}),
        json!({"id": a, "kind": "monster", "name": "z"}),
        json!(2000.0),
        json!(-1e300),
        json!("x".repeat(300)),
        json!({"id": a, "encounter": victim_encounter, "name": "w", "position": {"x": 0.0, "y": 0.0}, "scale": 1e6}),
        json!([[1, 2], [3, 4]]),
        Value::Null,
    ];
    let fields = [
        "",
        "/name",
        "/scale",
        "/encounter",
        "/position",
        "/log",
        "/fog/revealed",
        "/hp/current",
        "/door",
    ];
    let change = |rng: &mut Rng| {
        let path = format!(
            "{}/{a}{}",
            collections[rng.below(collections.len())],
            fields[rng.below(fields.len())]
        );
        let Ok(path) = Path::parse(&path) else {
            return Change::delete(Path::parse("tokens/x").unwrap());
        };
        let value = values[rng.below(values.len())].clone();
        match rng.below(4) {
            0 => Change::set(path, value),
            1 => Change::merge(path, value),
            2 => Change::append(path, value),
            _ => Change::delete(path),
        }
    };
    let id = ActionId(Uuid::new_v4());
    let token = TokenId(a);
    let wall = shared::wall::Wall {
        id: shared::id::WallId(a),
        encounter: EncounterId(b),
        from: Point { x: 0.0, y: 0.0 },
        to: Point { x: 50.0, y: 0.0 },
        kind: shared::wall::WallKind::Door,
        door: Some(shared::wall::DoorState::Open),
    };
    let message = match rng.below(15) {
        0..=2 => {
            let changes = (0..1 + rng.below(3)).map(|_| change(rng)).collect();
            ClientMessage::Request(request(id, edit(changes)))
        }
        3 => ClientMessage::Request(request(id, move_to(token, rng.below(4000) as f64))),
        4 => ClientMessage::Request(request(
            id,
            Action::Chat {
                encounter: EncounterId(b),
                text: "chat".into(),
                to: None,
                rolls: Vec::new(),
            },
        )),
        5 => ClientMessage::DragPreview {
            token,
            position: Point { x: 1.0, y: 2.0 },
        },
        6 => ClientMessage::Delegate {
            user: shared::id::UserId(a),
            role: Role::AssistantGm,
        },
        7 => ClientMessage::Decide(GmDecision {
            action: ActionId(a),
            verdict: Verdict::Approve,
        }),
        8 => ClientMessage::Request(request(id, Action::BuildWalls { walls: vec![wall] })),
        9 => ClientMessage::Request(request(
            id,
            Action::RemoveWalls {
                walls: vec![shared::id::WallId(a)],
            },
        )),
        10 => ClientMessage::Request(request(
            id,
            Action::SetDoor {
                wall: shared::id::WallId(a),
                state: shared::wall::DoorState::Locked,
            },
        )),
        11 => ClientMessage::Explore {
            encounter: EncounterId(b),
            cells: std::collections::BTreeSet::from([shared::geometry::Cell(7, 7)]),
        },
        12 => ClientMessage::ForgetExplored,
        13 => ClientMessage::PreviewExplored {
            player: Some(shared::id::UserId(a)),
        },
        _ => {
            return Hostile::Raw(match rng.below(3) {
                0 => "{\"v\":1,\"msg\":{\"type\":\"request\"".into(),
                1 => format!(
                    "{{\"v\":1,\"msg\":{{\"type\":\"resume\",\"from\":{}}}}}",
                    u64::MAX
                ),
                _ => "\u{0}".into(),
            });
        }
    };
    Hostile::Message(Box::new(message))
}

/// xorshift: enough randomness for a walk, and replayable from its seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn rand_seed() -> u64 {
    u64::from(Uuid::new_v4().as_u128() as u32)
}

/// This process's resident memory (the server runs in it), from /proc.
fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|statm| statm.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}
