//! Membership, invitations, roles, and the campaign-scoped server functions
//! (members, actors, items, media list) called through the router: who may
//! do what, and that outsiders get 403 and learn nothing.
//!
//! Longer than 500 lines on purpose: every file under `tests/` is its own
//! test binary linking the whole server, so one subject stays one file.

mod support;

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use shared::{campaign::NewCampaign, id::CampaignId, rules::Role};
use sqlx::PgPool;
use tower::ServiceExt;

/// A JSON server-function call with a session cookie.
async fn call(router: &Router, endpoint: &str, cookie: &str, body: Value) -> (StatusCode, Value) {
    let response = router
        .clone()
        .oneshot(
            Request::post(format!("/api/{endpoint}"))
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::ACCEPT, "application/json")
                .header(header::COOKIE, cookie)
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()));
    (status, value)
}

async fn campaign(db: &PgPool, gm: &shared::account::User) -> CampaignId {
    server::campaign::create(db, gm.id, &NewCampaign::parse("Keep", "dnd5e").unwrap())
        .await
        .unwrap()
        .id
}

/// Invites each user with their role and has them accept.
async fn add_members<'u>(
    db: &PgPool,
    campaign: CampaignId,
    gm: &shared::account::User,
    users: impl IntoIterator<Item = (&'u shared::account::User, Role)>,
) {
    for (user, role) in users {
        let invitation = server::membership::invite(db, campaign, gm.id, role)
            .await
            .unwrap();
        server::membership::accept(db, user.id, &invitation.token)
            .await
            .unwrap();
    }
}

async fn member_count(db: &PgPool, campaign: CampaignId) -> i64 {
    sqlx::query_scalar("select count(*) from campaign_members where campaign_id = $1")
        .bind(campaign.0)
        .fetch_one(db)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn an_invitation_link_works_once_and_grants_its_role(db: PgPool) {
    let router = server::router(support::state(db.clone()));
    let (gm, gm_cookie) = support::signed_in(&db, "gamemaster").await;
    let (player, player_cookie) = support::signed_in(&db, "player").await;
    let (_late, late_cookie) = support::signed_in(&db, "late").await;
    let campaign = campaign(&db, &gm).await;

    let (status, invitation) = call(
        &router,
        "campaigns/invite",
        &gm_cookie,
        json!({"campaign": campaign, "role": "player"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{invitation}");
    let token = invitation["token"].as_str().unwrap().to_owned();
    assert!(token.len() >= 40);
    // Only its hash is stored.
    let stored: i64 =
        sqlx::query_scalar("select count(*) from campaign_invitations where token_hash = $1")
            .bind(token.as_bytes())
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(stored, 0);

    let (status, joined) = call(
        &router,
        "campaigns/join",
        &player_cookie,
        json!({"token": token}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{joined}");
    assert_eq!(joined, json!([campaign, "player"]));
    assert_eq!(
        server::campaign::role_of(&db, campaign, player.id)
            .await
            .unwrap(),
        Role::Player
    );

    let (status, refused) = call(
        &router,
        "campaigns/join",
        &late_cookie,
        json!({"token": token}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(refused, json!({"Invalid": "InvalidInvitation"}));
    let (status, _) = call(
        &router,
        "campaigns/join",
        &late_cookie,
        json!({"token": "forged"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(member_count(&db, campaign).await, 2);

    // An expired link joins nobody.
    let expired = server::membership::invite(&db, campaign, gm.id, Role::Observer)
        .await
        .unwrap();
    sqlx::query("update campaign_invitations set expires_at = now() - interval '1 second' where accepted_at is null")
        .execute(&db)
        .await
        .unwrap();
    let (status, _) = call(
        &router,
        "campaigns/join",
        &late_cookie,
        json!({"token": expired.token}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(member_count(&db, campaign).await, 2);

    let (status, members) = call(
        &router,
        "campaigns/members",
        &player_cookie,
        json!({"campaign": campaign}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let roles: Vec<(&str, &str)> = members
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["display_name"].as_str().unwrap(),
                m["role"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(roles, [("gamemaster", "gm"), ("player", "player")]);
}

#[sqlx::test(migrations = "../migrations")]
async fn only_the_gm_delegates_assistant_gm(db: PgPool) {
    let router = server::router(support::state(db.clone()));
    let (gm, gm_cookie) = support::signed_in(&db, "gamemaster").await;
    let (helper, helper_cookie) = support::signed_in(&db, "helper").await;
    let (other, other_cookie) = support::signed_in(&db, "other").await;
    let campaign = campaign(&db, &gm).await;
    for user in [&helper, &other] {
        let invitation = server::membership::invite(&db, campaign, gm.id, Role::Player)
            .await
            .unwrap();
        server::membership::accept(&db, user.id, &invitation.token)
            .await
            .unwrap();
    }

    let set = async |cookie: &str, member: &shared::account::User, role: &str| {
        call(
            &router,
            "campaigns/set_role",
            cookie,
            json!({"campaign": campaign, "member": member.id, "role": role}),
        )
        .await
    };
    let (status, _) = set(&other_cookie, &other, "assistant_gm").await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a player cannot promote themselves"
    );
    let (status, _) = set(&gm_cookie, &helper, "assistant_gm").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        server::campaign::role_of(&db, campaign, helper.id)
            .await
            .unwrap(),
        Role::AssistantGm
    );
    let (status, _) = set(&helper_cookie, &other, "assistant_gm").await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "delegation does not delegate further"
    );
    let (status, _) = set(&gm_cookie, &helper, "gm").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "one GM per campaign");
    let (status, _) = set(&helper_cookie, &gm, "player").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        server::campaign::role_of(&db, campaign, gm.id)
            .await
            .unwrap(),
        Role::Gm
    );

    // An assistant GM invites players, not other assistants.
    let (status, _) = call(
        &router,
        "campaigns/invite",
        &helper_cookie,
        json!({"campaign": campaign, "role": "player"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(
        &router,
        "campaigns/invite",
        &helper_cookie,
        json!({"campaign": campaign, "role": "assistant_gm"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(
        &router,
        "campaigns/invite",
        &other_cookie,
        json!({"campaign": campaign, "role": "player"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Revoking is the same call.
    let (status, _) = set(&gm_cookie, &helper, "observer").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        server::campaign::role_of(&db, campaign, helper.id)
            .await
            .unwrap(),
        Role::Observer
    );

    server::membership::remove(&db, campaign, other.id, other.id)
        .await
        .unwrap();
    assert!(
        server::membership::remove(&db, campaign, gm.id, gm.id)
            .await
            .is_err()
    );
    assert_eq!(member_count(&db, campaign).await, 2);
}

#[sqlx::test(migrations = "../migrations")]
async fn outsiders_get_403_from_every_campaign_function_and_nothing_changes(db: PgPool) {
    let router = server::router(support::state(db.clone()));
    let (gm, _) = support::signed_in(&db, "gamemaster").await;
    let (_stranger, cookie) = support::signed_in(&db, "stranger").await;
    let campaign = campaign(&db, &gm).await;
    let unknown = CampaignId(uuid::Uuid::new_v4());
    let item = uuid::Uuid::new_v4();

    for target in [campaign, unknown] {
        let calls = [
            ("campaigns/members", json!({"campaign": target})),
            (
                "campaigns/invite",
                json!({"campaign": target, "role": "player"}),
            ),
            (
                "campaigns/set_role",
                json!({"campaign": target, "member": gm.id, "role": "player"}),
            ),
            ("actors/list", json!({"campaign": target})),
            (
                "actors/create",
                json!({"campaign": target, "actor": {"compendium_ref": null, "name": "Spy", "kind": "npc", "level": null, "character_class": null, "owner": null}}),
            ),
            ("items/list", json!({"campaign": target})),
            (
                "items/create",
                json!({"campaign": target, "item": {"compendium_ref": "x", "owner": null, "container": null, "quantity": 1}}),
            ),
            (
                "items/move",
                json!({"campaign": target, "item": item, "owner": null, "container": null}),
            ),
            ("media/list", json!({"campaign": target})),
        ];
        for (endpoint, body) in calls {
            let (status, answer) = call(&router, endpoint, &cookie, body).await;
            // The same answer whether the campaign exists or not.
            assert_eq!(
                (status, answer),
                (StatusCode::FORBIDDEN, json!("Forbidden")),
                "{endpoint}"
            );
        }
    }
    // Without a login: 401.
    let (status, _) = call(&router, "actors/list", "", json!({"campaign": campaign})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let actors: i64 = sqlx::query_scalar("select count(*) from actors")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(actors, 0);
    assert_eq!(member_count(&db, campaign).await, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn players_see_their_own_and_shared_actors_and_items_never_the_gms_secrets(db: PgPool) {
    let router = server::router(support::state(db.clone()));
    let (gm, gm_cookie) = support::signed_in(&db, "gamemaster").await;
    let (player, player_cookie) = support::signed_in(&db, "player").await;
    let (watcher, watcher_cookie) = support::signed_in(&db, "watcher").await;
    let campaign = campaign(&db, &gm).await;
    add_members(
        &db,
        campaign,
        &gm,
        [(&player, Role::Player), (&watcher, Role::Observer)],
    )
    .await;
    sqlx::query(
        "insert into compendium_sources (id, name, version, game_system) values ($1, 'Test', '1', 'dnd5e')",
    )
    .bind(uuid::Uuid::new_v4())
    .execute(&db)
    .await
    .unwrap();
    sqlx::query(
        "insert into compendium_items (id, source_id, ref_key, name, item_type, data)
         select gen_random_uuid(), id, k, n, t, jsonb_build_object('name', n) from compendium_sources,
                (values ('rope', 'Rope', 'item'), ('bag', 'Bag', 'item'), ('goblin', 'Goblin', 'monster')) v (k, n, t)",
    )
    .execute(&db)
    .await
    .unwrap();

    let create = async |cookie: &str, actor: Value| {
        call(
            &router,
            "actors/create",
            cookie,
            json!({"campaign": campaign, "actor": actor}),
        )
        .await
    };
    let (status, hero) = create(&player_cookie, json!({"compendium_ref": null, "name": "Hero", "kind": "character", "level": 3, "character_class": "Wizard", "owner": player.id})).await;
    assert_eq!(status, StatusCode::OK, "{hero}");
    let (status, _) = create(&player_cookie, json!({"compendium_ref": "goblin", "name": null, "kind": "monster", "level": null, "character_class": null, "owner": null})).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "players make only their own characters"
    );
    let (status, _) = create(&watcher_cookie, json!({"compendium_ref": null, "name": "Me", "kind": "character", "level": 1, "character_class": null, "owner": watcher.id})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "observers make nothing");
    let (status, goblin) = create(&gm_cookie, json!({"compendium_ref": "goblin", "name": "Ambusher", "kind": "monster", "level": null, "character_class": null, "owner": null})).await;
    assert_eq!(status, StatusCode::OK, "{goblin}");
    let (status, _) = create(&gm_cookie, json!({"compendium_ref": "no-such-entry", "name": null, "kind": "monster", "level": null, "character_class": null, "owner": null})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (_, gm_view) = call(
        &router,
        "actors/list",
        &gm_cookie,
        json!({"campaign": campaign}),
    )
    .await;
    let names = |list: &Value| {
        list.as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&gm_view), ["Ambusher", "Hero"]);
    let ambusher = gm_view
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "Ambusher")
        .unwrap();
    assert_eq!(
        ambusher["base_stats"]["name"], "Goblin",
        "base stats copied from the entry"
    );
    assert_eq!(ambusher["compendium_ref"], "goblin");
    let (_, player_view) = call(
        &router,
        "actors/list",
        &player_cookie,
        json!({"campaign": campaign}),
    )
    .await;
    assert_eq!(
        names(&player_view),
        ["Hero"],
        "the GM's monster stays hidden"
    );

    let give = async |cookie: &str, item: Value| {
        call(
            &router,
            "items/create",
            cookie,
            json!({"campaign": campaign, "item": item}),
        )
        .await
    };
    let (status, bag) = give(
        &gm_cookie,
        json!({"compendium_ref": "bag", "owner": hero, "container": null, "quantity": 1}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{bag}");
    let (status, rope) = give(
        &gm_cookie,
        json!({"compendium_ref": "rope", "owner": hero, "container": bag["id"], "quantity": 2}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rope}");
    let (status, loot) = give(
        &gm_cookie,
        json!({"compendium_ref": "rope", "owner": goblin, "container": null, "quantity": 1}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = give(
        &player_cookie,
        json!({"compendium_ref": "rope", "owner": hero, "container": null, "quantity": 1}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "players do not conjure items"
    );

    let (_, player_items) = call(
        &router,
        "items/list",
        &player_cookie,
        json!({"campaign": campaign}),
    )
    .await;
    assert_eq!(
        player_items.as_array().unwrap().len(),
        2,
        "the hero's bag and rope, not the goblin's loot: {player_items}"
    );
    let (_, gm_items) = call(
        &router,
        "items/list",
        &gm_cookie,
        json!({"campaign": campaign}),
    )
    .await;
    assert_eq!(gm_items.as_array().unwrap().len(), 3);

    // A bag cannot go inside the rope it contains.
    let (status, answer) = call(
        &router,
        "items/move",
        &gm_cookie,
        json!({"campaign": campaign, "item": bag["id"], "owner": hero, "container": rope["id"]}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    // The player cannot take the goblin's loot, and the refusal does not
    // confirm it exists.
    let (status, answer) = call(
        &router,
        "items/move",
        &player_cookie,
        json!({"campaign": campaign, "item": loot["id"], "owner": hero, "container": null}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(answer.to_string().contains("UnknownEntity"), "{answer}");
    // ... nor give their rope to the goblin, but may take it out of the bag.
    let (status, _) = call(
        &router,
        "items/move",
        &player_cookie,
        json!({"campaign": campaign, "item": rope["id"], "owner": goblin, "container": null}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(
        &router,
        "items/move",
        &player_cookie,
        json!({"campaign": campaign, "item": rope["id"], "owner": hero, "container": null}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let container: Option<uuid::Uuid> =
        sqlx::query_scalar("select container_item_id from campaign_items where id = $1")
            .bind(uuid::Uuid::parse_str(rope["id"].as_str().unwrap()).unwrap())
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(container, None);
}

#[sqlx::test(migrations = "../migrations")]
async fn characters_from_the_form_are_checked_as_the_form_checks_them(db: PgPool) {
    let router = server::router(support::state(db.clone()));
    let (gm, gm_cookie) = support::signed_in(&db, "gamemaster").await;
    let (player, player_cookie) = support::signed_in(&db, "player").await;
    let (watcher, watcher_cookie) = support::signed_in(&db, "watcher").await;
    let (_, outsider_cookie) = support::signed_in(&db, "outsider").await;
    let campaign = campaign(&db, &gm).await;
    add_members(
        &db,
        campaign,
        &gm,
        [(&player, Role::Player), (&watcher, Role::Observer)],
    )
    .await;
    // Point buy: 2 + 9 + 7 + 0 + 5 + 4 = 27 points.
    let draft = json!({
        "name": " Aria ", "species": "Elf", "class": "Ranger", "level": 3,
        "method": "point_buy", "abilities": [10, 15, 14, 8, 13, 12],
        "hp_max": 24, "armor_class": 15, "speed": 35,
        "saves": ["dex", "str"], "skills": ["stealth", "survival"], "portrait": null,
    });
    let create = async |cookie: &str, draft: &Value, kind: &str, owner: Value| {
        call(
            &router,
            "actors/create",
            cookie,
            json!({"campaign": campaign, "actor": {
                "compendium_ref": null, "name": null, "kind": kind, "level": null,
                "character_class": null, "owner": owner, "character": draft,
            }}),
        )
        .await
    };
    let actors = async || -> i64 {
        sqlx::query_scalar("select count(*) from actors")
            .fetch_one(&db)
            .await
            .unwrap()
    };

    let (status, id) = create(&player_cookie, &draft, "character", json!(player.id)).await;
    assert_eq!(status, StatusCode::OK, "{id}");
    let id: uuid::Uuid = serde_json::from_value(id).unwrap();
    let (name, level, class, owner, stats): (
        String,
        Option<i32>,
        Option<String>,
        Option<uuid::Uuid>,
        Value,
    ) = sqlx::query_as(
        "select name, level, character_class, owner_user_id, base_stats from actors where id = $1",
    )
    .bind(id)
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(
        (name.as_str(), level, class.as_deref(), owner),
        ("Aria", Some(3), Some("Ranger"), Some(player.id.0))
    );
    assert_eq!(
        (
            &stats["dexterity"],
            &stats["hp"],
            &stats["speed"],
            &stats["skills"]
        ),
        (
            &json!(15),
            &json!(24),
            &json!(35),
            &json!(["stealth", "survival"])
        )
    );

    // What the form would flag, the server refuses, saying all of it.
    let mut bad = draft.clone();
    bad["abilities"] = json!([15, 15, 15, 15, 8, 8]);
    bad["hp_max"] = json!(0);
    let (status, answer) = create(&player_cookie, &bad, "character", json!(player.id)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let answer = answer.to_string();
    assert!(
        answer.contains("point buy has 27") && answer.contains("Hit points are from 1 to 999"),
        "{answer}"
    );
    // A portrait that is not an image of this campaign.
    let mut foreign = draft.clone();
    foreign["portrait"] = json!(uuid::Uuid::new_v4());
    let (status, answer) = create(&player_cookie, &foreign, "character", json!(player.id)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    // A player builds only their own characters; observers and outsiders none.
    let (status, _) = create(&player_cookie, &draft, "character", json!(gm.id)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = create(&player_cookie, &draft, "npc", Value::Null).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = create(&watcher_cookie, &draft, "character", json!(watcher.id)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = create(&outsider_cookie, &draft, "character", Value::Null).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(actors().await, 1, "nothing refused was stored");

    // The GM builds an NPC, and a character for the player.
    let (status, _) = create(&gm_cookie, &draft, "npc", Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = create(&gm_cookie, &draft, "character", json!(player.id)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(actors().await, 3);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_character_form_offers_the_compendiums_classes_species_weapons_and_spells(db: PgPool) {
    let router = server::router(support::state(db.clone()));
    let (_, cookie) = support::signed_in(&db, "player").await;
    sqlx::query(
        "insert into compendium_sources (id, name, version, game_system) values ($1, 'Test', '1', 'dnd5e')",
    )
    .bind(uuid::Uuid::new_v4())
    .execute(&db)
    .await
    .unwrap();
    sqlx::query(
        r#"insert into compendium_items (id, source_id, ref_key, name, item_type, category, level, data)
           select gen_random_uuid(), id, k, n, t, c, l, d::jsonb from compendium_sources,
                  (values ('fighter', 'Fighter', 'class', null, null, '{"hit_die": "d10", "saving_throws": ["str", "con"]}'),
                          ('odd', 'Odd', 'class', null, null, '{}'),
                          ('dwarf', 'Dwarf', 'species', null, null, '{"movement": {"walk": 25}}'),
                          ('rope', 'Rope', 'item', 'gear', null, '{}'),
                          ('dagger', 'Dagger', 'item', 'weapon', null,
                           '{"damage_parts": [{"dice": "1d4", "damage_type": "piercing"}], "properties": ["finesse"], "range": {"kind": "melee"}}'),
                          ('net', 'Net', 'item', 'weapon', null, '{"damage_parts": []}'),
                          ('fireball', 'Fireball', 'spell', 'spell', 3,
                           '{"activities": [{"kind": "save", "save": {"ability": ["dex"]},
                             "damage": {"on_save": "half", "parts": [{"number": 8, "denomination": 6, "bonus": "", "types": ["fire"]}]}}]}'),
                          ('shield', 'Shield', 'spell', 'spell', 1, '{"activities": [{"kind": "utility"}]}'),
                          ('sacred-flame', 'Sacred Flame', 'spell', 'spell', 0,
                           '{"activities": [{"kind": "save", "save": {"ability": ["dex"]},
                             "damage": {"on_save": "none", "parts": [{"number": 1, "denomination": 8, "bonus": "", "types": ["radiant"]}]}}]}')
                  ) v (k, n, t, c, l, d)"#,
    )
    .execute(&db)
    .await
    .unwrap();
    let (status, options) = call(&router, "characters/options", &cookie, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{options}");
    assert_eq!(
        options,
        json!({
            "classes": [{"name": "Fighter", "hit_die": 10, "saves": ["str", "con"]}],
            "species": [{"name": "Dwarf", "speed": 25}],
            "weapons": [{"name": "Dagger", "damage": "1d4", "damage_type": "piercing",
                         "finesse": true, "ranged": false, "bonus": 0}],
            "spells": [
                {"name": "Sacred Flame", "damage": "1d8", "damage_type": "radiant", "finesse": false,
                 "ranged": false, "bonus": 0, "spell": {"lands": "save", "ability": "dexterity", "half": false}},
                {"name": "Fireball", "damage": "8d6", "damage_type": "fire", "finesse": false,
                 "ranged": false, "bonus": 0, "spell": {"lands": "save", "ability": "dexterity", "half": true}},
            ],
        }),
        "a weapon without damage (the net) and a spell without (Shield) are no attacks; \
         spells by level"
    );
    let (status, _) = call(&router, "characters/options", "", json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // An entry's detail, for any signed-in user; an unknown key is a clear
    // refusal.
    let (status, detail) = call(
        &router,
        "compendium/detail",
        &cookie,
        json!({"ref_key": "dagger"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(detail["name"], "Dagger");
    assert_eq!(detail["facts"][0], json!(["Damage", "1d4 piercing"]));
    let (status, refused) = call(
        &router,
        "compendium/detail",
        &cookie,
        json!({"ref_key": "nope"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    let long = "x".repeat(300);
    let (status, _) = call(
        &router,
        "compendium/detail",
        &cookie,
        json!({"ref_key": long}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = call(
        &router,
        "compendium/detail",
        "",
        json!({"ref_key": "dagger"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrations = "../migrations")]
async fn only_the_gm_gives_an_actor_to_a_member(db: PgPool) {
    let router = server::router(support::state(db.clone()));
    let (gm, gm_cookie) = support::signed_in(&db, "gamemaster").await;
    let (player, player_cookie) = support::signed_in(&db, "player").await;
    let (watcher, watcher_cookie) = support::signed_in(&db, "watcher").await;
    let (outsider, outsider_cookie) = support::signed_in(&db, "outsider").await;
    let campaign = campaign(&db, &gm).await;
    let elsewhere = server::campaign::create(
        &db,
        outsider.id,
        &NewCampaign::parse("Other", "dnd5e").unwrap(),
    )
    .await
    .unwrap()
    .id;
    add_members(
        &db,
        campaign,
        &gm,
        [(&player, Role::Player), (&watcher, Role::Observer)],
    )
    .await;
    let npc = |campaign: CampaignId, by: shared::id::UserId, name: &'static str| {
        let db = db.clone();
        async move {
            let new = server::actor::NewActor {
                campaign,
                name: None,
                actor_type: "npc".into(),
                level: None,
                character_class: None,
                owner: None,
                created_by: by,
            };
            server::actor::create_custom(&db, &new, name, &json!({}))
                .await
                .unwrap()
        }
    };
    let guide = npc(campaign, gm.id, "Guide").await;
    let foreign = npc(elsewhere, outsider.id, "Spy").await;
    let give = async |cookie: &str, actor: shared::id::ActorId, owner: Value| {
        call(
            &router,
            "actors/set_owner",
            cookie,
            json!({"campaign": campaign, "actor": actor, "owner": owner}),
        )
        .await
        .0
    };
    let owner = async |actor: shared::id::ActorId| -> Option<uuid::Uuid> {
        sqlx::query_scalar("select owner_user_id from actors where id = $1")
            .bind(actor.0)
            .fetch_one(&db)
            .await
            .unwrap()
    };

    assert_eq!(
        give(&player_cookie, guide, json!(player.id)).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        give(&watcher_cookie, guide, json!(watcher.id)).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        give(&outsider_cookie, guide, json!(outsider.id)).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(owner(guide).await, None, "nobody else gave it");
    assert_eq!(
        give(&gm_cookie, guide, json!(outsider.id)).await,
        StatusCode::BAD_REQUEST,
        "an owner must be a member"
    );
    assert_eq!(
        give(&gm_cookie, foreign, json!(player.id)).await,
        StatusCode::FORBIDDEN,
        "an actor of another campaign is not this GM's"
    );
    assert_eq!(owner(foreign).await, None);
    assert_eq!(
        give(&gm_cookie, guide, json!(player.id)).await,
        StatusCode::OK
    );
    assert_eq!(owner(guide).await, Some(player.id.0));
    assert_eq!(give(&gm_cookie, guide, Value::Null).await, StatusCode::OK);
    assert_eq!(owner(guide).await, None);
}

/// A campaign with its GM, a player and an observer, and an outsider who
/// has a login but no seat; each with a session cookie.
struct Cast {
    campaign: CampaignId,
    gm: (shared::account::User, String),
    player: (shared::account::User, String),
    watcher: (shared::account::User, String),
    outsider: (shared::account::User, String),
}

async fn cast(db: &PgPool) -> Cast {
    let gm = support::signed_in(db, "gamemaster").await;
    let player = support::signed_in(db, "player").await;
    let watcher = support::signed_in(db, "watcher").await;
    let outsider = support::signed_in(db, "outsider").await;
    let campaign = campaign(db, &gm.0).await;
    add_members(
        db,
        campaign,
        &gm.0,
        [(&player.0, Role::Player), (&watcher.0, Role::Observer)],
    )
    .await;
    Cast {
        campaign,
        gm,
        player,
        watcher,
        outsider,
    }
}

/// Between sessions the sheet page changes an actor: its player and the GM
/// may, nobody else; a value out of range changes nothing; while a session
/// runs the table holds the actor, and the page is refused.
#[sqlx::test(migrations = "../migrations")]
async fn a_sheet_is_changed_between_sessions_by_its_player_and_the_gm_only(db: PgPool) {
    let router = server::router(support::state(db.clone()));
    let Cast {
        campaign,
        gm: (gm, gm_cookie),
        player: (player, player_cookie),
        watcher: (_, watcher_cookie),
        outsider: (_, outsider_cookie),
    } = cast(&db).await;
    let (other, other_cookie) = support::signed_in(&db, "other").await;
    add_members(&db, campaign, &gm, [(&other, Role::Player)]).await;
    let new = server::actor::NewActor {
        campaign,
        name: None,
        actor_type: "character".into(),
        level: Some(1),
        character_class: None,
        owner: Some(player.id),
        created_by: gm.id,
    };
    let aria = server::actor::create_custom(
        &db,
        &new,
        "Aria",
        &json!({"dexterity": 12, "saves": ["dex"]}),
    )
    .await
    .unwrap();
    let change = async |cookie: &str, change: Value| {
        call(
            &router,
            "actors/update_sheet",
            cookie,
            json!({"campaign": campaign, "actor": aria, "change": change}),
        )
        .await
    };
    let current = async || -> Value {
        sqlx::query_scalar("select current_stats from actors where id = $1")
            .bind(aria.0)
            .fetch_one(&db)
            .await
            .unwrap()
    };
    let raise = json!({"change": "stat", "stat": {"ability": "dexterity"}, "value": 16});

    for (who, cookie) in [
        ("another player", &other_cookie),
        ("an observer", &watcher_cookie),
        ("an outsider", &outsider_cookie),
    ] {
        let (status, _) = change(cookie, raise.clone()).await;
        assert!(
            status.is_client_error(),
            "{who} changed the sheet: {status}"
        );
    }
    assert_eq!(current().await, json!({}), "nobody else changed it");

    assert_eq!(change(&player_cookie, raise).await.0, StatusCode::OK);
    let learn = json!({"change": "proficiency", "check": "skill:stealth", "proficient": true});
    assert_eq!(change(&gm_cookie, learn).await.0, StatusCode::OK);
    let notes = json!({"change": "notes", "text": "Owes Bruno 5 gp"});
    assert_eq!(change(&player_cookie, notes).await.0, StatusCode::OK);
    let (status, body) = change(
        &gm_cookie,
        json!({"change": "stat", "stat": "armor_class", "value": 99}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.to_string().contains("Armor class is from 1 to 30"),
        "{body}"
    );
    // A portrait must be an image of this campaign; none is initials.
    let (status, body) = change(
        &player_cookie,
        json!({"change": "portrait", "portrait": uuid::Uuid::new_v4()}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.to_string()
            .contains("must be an image of this campaign"),
        "{body}"
    );
    let none = json!({"change": "portrait", "portrait": null});
    assert_eq!(change(&player_cookie, none).await.0, StatusCode::OK);
    assert_eq!(
        current().await,
        json!({"dexterity": 16, "saves": ["dexterity"], "skills": ["stealth"], "notes": "Owes Bruno 5 gp", "portrait": null})
    );

    // A session: the table holds the actor now.
    server::event_log::start_session(
        &db,
        campaign,
        None,
        gm.id,
        &shared::rules::ApprovalPolicy::default(),
    )
    .await
    .unwrap();
    let before = current().await;
    let (status, body) = change(
        &player_cookie,
        json!({"change": "stat", "stat": "speed", "value": 35}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.to_string().contains("change the sheet at the table"),
        "{body}"
    );
    assert_eq!(current().await, before);
}

/// The sample encounter a new GM is offered: the GM's alone to create, and
/// a table to play at once (goblins with their statblock and an attack, one
/// hidden; the party's characters placed).
#[sqlx::test(migrations = "../migrations")]
async fn only_the_gm_sets_out_the_sample_encounter_and_it_is_ready_to_play(db: PgPool) {
    let router = server::router(support::state(db.clone()));
    let Cast {
        campaign,
        gm: (gm, gm_cookie),
        player: (player, player_cookie),
        watcher: (_, watcher_cookie),
        outsider: (_, outsider_cookie),
    } = cast(&db).await;
    let new = server::actor::NewActor {
        campaign,
        name: None,
        actor_type: "character".into(),
        level: Some(1),
        character_class: None,
        owner: Some(player.id),
        created_by: player.id,
    };
    let aria = server::actor::create_custom(&db, &new, "Aria", &json!({}))
        .await
        .unwrap();
    let body = json!({ "campaign": campaign });
    for cookie in [&player_cookie, &watcher_cookie, &outsider_cookie] {
        let (status, _) = call(&router, "encounters/sample", cookie, body.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let encounters: i64 =
        sqlx::query_scalar("select count(*) from encounters where campaign_id = $1")
            .bind(campaign.0)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(encounters, 0, "nobody else set one out");

    let (status, id) = call(&router, "encounters/sample", &gm_cookie, body).await;
    assert_eq!(status, StatusCode::OK, "{id}");
    let id: shared::id::EncounterId = serde_json::from_value(id).unwrap();
    let server::encounter::Loaded { tokens, .. } =
        server::encounter::load(&db, campaign, id).await.unwrap();
    let hidden: Vec<&str> = tokens
        .iter()
        .filter(|t| t.visibility == shared::token::Visibility::Hidden)
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(hidden, vec!["Goblin in the brush"]);
    assert_eq!(tokens.len(), 4, "three goblins and Aria");
    assert!(tokens.iter().any(|t| t.actor == Some(aria)));
    let goblins = server::actor::list_visible(&db, campaign, gm.id, Role::Gm)
        .await
        .unwrap();
    let goblin = goblins.iter().find(|a| a.name == "Goblin archer").unwrap();
    let block = shared::actor::Statblock::read(&goblin.base_stats, &goblin.current_stats);
    assert_eq!(block.armor_class, Some(15));
    assert_eq!(block.attacks[0].name, "Scimitar");
}

/// The GM adds a monster to a running table: made from the compendium in
/// the session's campaign and returned as the table holds it. Nobody else
/// may, and not once the session ended.
#[sqlx::test(migrations = "../migrations")]
async fn only_the_gm_makes_a_monster_for_a_running_table(db: PgPool) {
    let router = server::router(support::state(db.clone()));
    let Cast {
        campaign,
        gm: (gm, gm_cookie),
        player: (_, player_cookie),
        watcher: (_, watcher_cookie),
        outsider: (_, outsider_cookie),
    } = cast(&db).await;
    sqlx::query(
        "insert into compendium_sources (id, name, version, game_system) values ($1, 'Test', '1', 'dnd5e')",
    )
    .bind(uuid::Uuid::new_v4())
    .execute(&db)
    .await
    .unwrap();
    sqlx::query(
        r#"insert into compendium_items (id, source_id, ref_key, name, item_type, category, data)
           select gen_random_uuid(), id, 'goblin', 'Goblin', 'actor', 'monster',
                  '{"hit_points": 7, "armor_class": 15, "speed": 30}'::jsonb from compendium_sources"#,
    )
    .execute(&db)
    .await
    .unwrap();
    let session = server::event_log::start_session(
        &db,
        campaign,
        None,
        gm.id,
        &shared::rules::ApprovalPolicy::default(),
    )
    .await
    .unwrap();
    let body = json!({"session": session, "compendium_ref": "goblin"});
    let actors = async || -> i64 {
        sqlx::query_scalar("select count(*) from actors where campaign_id = $1")
            .bind(campaign.0)
            .fetch_one(&db)
            .await
            .unwrap()
    };
    for (who, cookie) in [
        ("a player", &player_cookie),
        ("an observer", &watcher_cookie),
        ("an outsider", &outsider_cookie),
    ] {
        let (status, _) = call(&router, "sessions/new_monster", cookie, body.clone()).await;
        assert!(status.is_client_error(), "{who}: {status}");
    }
    assert_eq!(actors().await, 0, "nobody else made one");

    let (status, made) = call(&router, "sessions/new_monster", &gm_cookie, body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{made}");
    let made: shared::actor::Actor = serde_json::from_value(made).unwrap();
    assert_eq!(made.name, "Goblin");
    assert_eq!(made.kind, shared::actor::ActorKind::Monster);
    assert_eq!(made.hp.map(|hp| hp.max), Some(7));
    assert_eq!(actors().await, 1, "it is the campaign's");

    let (status, _) = call(
        &router,
        "sessions/new_monster",
        &gm_cookie,
        json!({"session": session, "compendium_ref": "no-such-thing"}),
    )
    .await;
    assert!(status.is_client_error(), "{status}");

    sqlx::query("update play_sessions set ended_at = now() where id = $1")
        .bind(session.0)
        .execute(&db)
        .await
        .unwrap();
    let (status, _) = call(&router, "sessions/new_monster", &gm_cookie, body).await;
    assert!(status.is_client_error(), "after the end: {status}");
    assert_eq!(actors().await, 1);
}

/// The campaign's tools: its numbers and the encounter builder are the
/// GM's; search is every member's, filtered to what each may see; an
/// outsider gets none of them.
#[sqlx::test(migrations = "../migrations")]
async fn the_campaign_tools_answer_members_as_they_may_see(db: PgPool) {
    let router = server::router(support::state(db.clone()));
    let Cast {
        campaign,
        gm: (gm, gm_cookie),
        player: (_, player_cookie),
        watcher: (_, watcher_cookie),
        outsider: (_, outsider_cookie),
    } = cast(&db).await;
    let new = server::actor::NewActor {
        campaign,
        name: None,
        actor_type: "npc".into(),
        level: Some(5),
        character_class: None,
        owner: None,
        created_by: gm.id,
    };
    server::actor::create_custom(&db, &new, "Secret Dragon Cultist", &json!({}))
        .await
        .unwrap();
    let body = json!({ "campaign": campaign });
    for endpoint in ["campaigns/stats", "encounters/builder"] {
        for (who, cookie) in [
            ("a player", &player_cookie),
            ("an observer", &watcher_cookie),
            ("an outsider", &outsider_cookie),
        ] {
            let (status, _) = call(&router, endpoint, cookie, body.clone()).await;
            assert!(status.is_client_error(), "{who} on {endpoint}: {status}");
        }
        let (status, answer) = call(&router, endpoint, &gm_cookie, body.clone()).await;
        assert_eq!(status, StatusCode::OK, "{endpoint}: {answer}");
    }
    let (_, stats) = call(&router, "campaigns/stats", &gm_cookie, body).await;
    assert_eq!(stats["npcs"], 1, "{stats}");

    let search = json!({ "campaign": campaign, "text": "dragon" });
    let (status, hits) = call(&router, "campaigns/search", &gm_cookie, search.clone()).await;
    assert_eq!(status, StatusCode::OK, "{hits}");
    assert!(hits.to_string().contains("Secret Dragon Cultist"), "{hits}");
    let (status, hits) = call(&router, "campaigns/search", &player_cookie, search.clone()).await;
    assert_eq!(status, StatusCode::OK, "{hits}");
    assert!(
        !hits.to_string().contains("Cultist"),
        "the GM's NPC: {hits}"
    );
    let (status, _) = call(&router, "campaigns/search", &outsider_cookie, search).await;
    assert!(status.is_client_error(), "{status}");
    let long = json!({ "campaign": campaign, "text": "x".repeat(201) });
    let (status, _) = call(&router, "campaigns/search", &gm_cookie, long).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// The chat of the campaign's sessions stays with the campaign, read back
/// from the event log: every member reads it, newest first, a page at a
/// time; a line whose commit was undone is not there; an outsider and a
/// logged-out caller read nothing.
#[sqlx::test(migrations = "../migrations")]
async fn the_campaign_keeps_its_sessions_chat_for_its_members(db: PgPool) {
    use shared::{
        change::{Change, Commit},
        encounter::{LogEntry, LogKind},
        id::EncounterId,
        path::Entity,
    };
    let router = server::router(support::state(db.clone()));
    let Cast {
        campaign,
        gm: (gm, gm_cookie),
        player: (player, player_cookie),
        watcher: (_, watcher_cookie),
        outsider: (_, outsider_cookie),
    } = cast(&db).await;
    let session = server::event_log::start_session(
        &db,
        campaign,
        None,
        gm.id,
        &shared::rules::ApprovalPolicy::default(),
    )
    .await
    .unwrap();
    let encounter = EncounterId(uuid::Uuid::new_v4());
    let said = async |version: i64,
                      by: shared::id::UserId,
                      text: String,
                      status: &str,
                      to: Option<Vec<shared::id::UserId>>| {
        let line = LogEntry {
            by: Some(by),
            kind: LogKind::Chat,
            text,
            to,
            handout: None,
        };
        let commit = Commit {
            version: version as u64,
            action: None,
            changes: vec![Change::append(
                Entity::Encounter(encounter).at(&["log"]),
                serde_json::to_value(&line).unwrap(),
            )],
        };
        sqlx::query(
            "insert into event_log (session_id, version, event_type, status, initiated_by, event_data, state_changes, applied_at)
             values ($1, $2, 'chat', $3, $4, '{}', $5, now())",
        )
        .bind(session.0)
        .bind(version)
        .bind(status)
        .bind(by.0)
        .bind(serde_json::to_value(&commit).unwrap())
        .execute(&db)
        .await
        .unwrap();
    };
    let lines = shared::report::CHAT_PAGE + 5;
    for n in 1..=lines {
        said(n as i64, player.id, format!("line {n}"), "applied", None).await;
    }
    said(
        lines as i64 + 1,
        gm.id,
        "taken back".into(),
        "rolled_back",
        None,
    )
    .await;
    // A whisper from the player to the GM, then a line for the GM alone:
    // each member reads the history as they read the table.
    let (whisper, gm_alone) = (lines as i64 + 2, lines as i64 + 3);
    said(
        whisper,
        player.id,
        "psst".into(),
        "applied",
        Some(vec![player.id]),
    )
    .await;
    said(
        gm_alone,
        gm.id,
        "for my eyes".into(),
        "applied",
        Some(vec![]),
    )
    .await;

    let read = async |cookie: &str, before: Value| {
        call(
            &router,
            "campaigns/chat",
            cookie,
            json!({"campaign": campaign, "before": before}),
        )
        .await
    };
    for (cookie, private, first) in [
        (&gm_cookie, 2, "for my eyes".to_owned()),
        (&player_cookie, 1, "psst".to_owned()),
        (&watcher_cookie, 0, format!("line {lines}")),
    ] {
        let (status, page) = read(cookie, Value::Null).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let page = page.as_array().unwrap();
        assert_eq!(page.len(), shared::report::CHAT_PAGE);
        assert_eq!(page[0]["text"], *first, "newest first");
        assert_eq!(page[private]["text"], format!("line {lines}"));
        assert_eq!(page[private]["by"], "player", "{}", page[private]);
        assert_eq!(
            page.iter().filter(|l| l["private"] == true).count(),
            private,
            "{page:?}"
        );
        assert!(page.iter().all(|l| l["text"] != "taken back"), "undone");
        let last = page.last().unwrap()["id"].clone();
        let (_, older) = read(cookie, last).await;
        let older: Vec<&str> = older
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["text"].as_str().unwrap())
            .collect();
        let expected: Vec<String> = (1..=5 + private)
            .rev()
            .map(|n| format!("line {n}"))
            .collect();
        assert_eq!(older, expected);
    }
    let (status, _) = read(&outsider_cookie, Value::Null).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = read("", Value::Null).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// Where the table may move is the GM's to know: the GM reads the
/// campaign's encounters from the session; a player, an observer and an
/// outsider are refused (a player would read the names of what is ahead),
/// and an unknown session reads as not being a member.
#[sqlx::test(migrations = "../migrations")]
async fn only_the_gm_lists_where_the_table_may_move(db: PgPool) {
    let router = server::router(support::state(db.clone()));
    let Cast {
        campaign,
        gm: (gm, gm_cookie),
        player: (_, player_cookie),
        watcher: (_, watcher_cookie),
        outsider: (_, outsider_cookie),
    } = cast(&db).await;
    let mut names = Vec::new();
    for name in ["Crossroads", "Dragon's lair"] {
        server::encounter::create(
            &db,
            &server::encounter::NewEncounter {
                campaign,
                name: name.into(),
                map: None,
                settings: shared::encounter::MapSettings::default(),
            },
        )
        .await
        .unwrap();
        names.push(name);
    }
    let session = server::event_log::start_session(
        &db,
        campaign,
        None,
        gm.id,
        &shared::rules::ApprovalPolicy::default(),
    )
    .await
    .unwrap();
    let list = async |cookie: &str, session: Value| {
        call(
            &router,
            "sessions/encounters",
            cookie,
            json!({ "session": session }),
        )
        .await
    };
    let (status, listed) = list(&gm_cookie, json!(session)).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let mut listed: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    listed.sort_unstable();
    assert_eq!(listed, names);
    for cookie in [&player_cookie, &watcher_cookie, &outsider_cookie] {
        let (status, body) = list(cookie, json!(session)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    }
    let (status, _) = list(&gm_cookie, json!(uuid::Uuid::new_v4())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = list("", json!(session)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
