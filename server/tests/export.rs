//! Campaign export and import against a real PostgreSQL: a round trip gives
//! the same document, and a document that fails a check writes nothing.

mod support;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use server::export::{self, CampaignDocument};
use shared::{
    account::User,
    actor::ActorKind,
    campaign::NewCampaign,
    id::CampaignId,
    media::{DisplayFileName, MediaKind},
    rules::Role,
};
use sqlx::PgPool;
use tower::ServiceExt;
use uuid::Uuid;

/// A campaign with a character, a monster, a bag with a rope in it, a map,
/// an encounter on it with two tokens (one hidden from players), and what a
/// player explored of its map.
async fn furnished_campaign(db: &PgPool, gm: &User) -> CampaignId {
    let campaign =
        server::campaign::create(db, gm.id, &NewCampaign::parse("Exported", "dnd5e").unwrap())
            .await
            .unwrap()
            .id;
    let new = |name: &str, kind: ActorKind| server::actor::NewActor {
        campaign,
        name: Some(name.into()),
        actor_type: kind.slug().into(),
        level: Some(4),
        character_class: Some("Rogue".into()),
        owner: Some(gm.id),
        created_by: gm.id,
    };
    let hero = server::actor::create_custom(
        db,
        &new("Hero", ActorKind::Character),
        "Hero",
        &json!({"hp": 30}),
    )
    .await
    .unwrap();
    let ogre = server::actor::create_custom(
        db,
        &new("Ogre", ActorKind::Monster),
        "Ogre",
        &json!({"hp": 59}),
    )
    .await
    .unwrap();
    let bag = Uuid::new_v4();
    sqlx::query(
        "insert into campaign_items (id, campaign_id, name, item_type, base_properties, owner_actor_id, container_item_id)
         values ($1, $2, 'Bag', 'gear', '{}', $3, null), ($4, $2, 'Rope', 'gear', '{\"feet\": 50}', $3, $1)",
    )
    .bind(bag)
    .bind(campaign.0)
    .bind(hero.0)
    .bind(Uuid::new_v4())
    .execute(db)
    .await
    .unwrap();
    let map = upload_map(db, campaign, gm).await;
    let encounter = Uuid::new_v4();
    sqlx::query(
        "insert into encounters (id, campaign_id, name, map_id, map_settings, fog, drawings, walls)
         values ($1, $2, 'Crypt', $3, '{\"grid\": 70}', $4, $5, $6)",
    )
    .bind(encounter)
    .bind(campaign.0)
    .bind(map.file.id.0)
    // The fog, drawings and walls the table ended with travel too.
    .bind(json!({"enabled": true, "revealed": [[1, 2]]}))
    .bind(json!([{
        "id": Uuid::new_v4(),
        "encounter": encounter,
        "author": gm.id,
        "shape": {"kind": "line", "from": {"x": 0.0, "y": 0.0}, "to": {"x": 70.0, "y": 70.0}},
        "color": "#d62828",
        "width": 4,
    }]))
    .bind(json!([{
        "id": Uuid::new_v4(),
        "encounter": encounter,
        "from": {"x": 0.0, "y": 0.0},
        "to": {"x": 0.0, "y": 140.0},
        "kind": "door",
        "door": "locked",
    }]))
    .execute(db)
    .await
    .unwrap();
    sqlx::query(
        "insert into encounter_tokens (id, encounter_id, actor_id, position, visibility)
         values ($1, $2, $3, '{\"x\": 1, \"y\": 2}', 'visible'), ($4, $2, $5, '{\"x\": 9, \"y\": 9}', 'hidden')",
    )
    .bind(Uuid::new_v4())
    .bind(encounter)
    .bind(hero.0)
    .bind(Uuid::new_v4())
    .bind(ogre.0)
    .execute(db)
    .await
    .unwrap();
    let (scout, _) = support::signed_in(db, "scout").await;
    sqlx::query("insert into explored_areas (encounter_id, user_id, cells) values ($1, $2, $3)")
        .bind(encounter)
        .bind(scout.id.0)
        .bind(json!([[0, 0], [0, 1], [-3, 7]]))
        .execute(db)
        .await
        .unwrap();
    campaign
}

/// The fixture's map (the same bytes every time), uploaded to `campaign`
/// by `by`.
async fn upload_map(db: &PgPool, campaign: CampaignId, by: &User) -> shared::media::UploadReceipt {
    let (store, _dir) = support::media_store(None, Default::default());
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(std::iter::repeat_n(7u8, 5000));
    server::media::upload(
        db,
        &store,
        &server::media::NewUpload {
            campaign,
            uploaded_by: by.id,
            name: DisplayFileName::sanitize("crypt.png"),
            kind: MediaKind::Map,
            shown: false,
        },
        futures_util::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(png))]),
    )
    .await
    .unwrap()
}

async fn row_count(db: &PgPool, table: &str) -> i64 {
    sqlx::query_scalar(&format!("select count(*) from {table}"))
        .fetch_one(db)
        .await
        .unwrap()
}

async fn delete(db: &PgPool, campaign: CampaignId) {
    sqlx::query("delete from campaigns where id = $1")
        .bind(campaign.0)
        .execute(db)
        .await
        .unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn export_then_import_gives_the_same_campaign(db: PgPool) {
    let (gm, _) = support::signed_in(&db, "gamemaster").await;
    let campaign = furnished_campaign(&db, &gm).await;
    let before = export::export(&db, campaign, gm.id).await.unwrap();
    assert_eq!(
        before.counts,
        export::Counts {
            actors: 2,
            items: 2,
            media: 1,
            encounters: 1,
            tokens: 2,
            explored: 1,
        }
    );
    // Through JSON text, as a file would carry it.
    let text = serde_json::to_string(&before).unwrap();
    delete(&db, campaign).await;
    assert_eq!(row_count(&db, "actors").await, 0);

    let mut document: CampaignDocument = serde_json::from_str(&text).unwrap();
    // A player with no account on this server: her explored area is left
    // out, and the rest comes in.
    let mut stranger = document.explored[0].clone();
    stranger["user_id"] = json!(Uuid::new_v4());
    document.explored.push(stranger);
    document.counts.explored = 2;
    let imported = export::import(&db, &document, gm.id).await.unwrap();
    assert_eq!(imported, campaign);
    assert_eq!(
        server::campaign::role_of(&db, campaign, gm.id)
            .await
            .unwrap(),
        Role::Gm
    );
    let after = export::export(&db, campaign, gm.id).await.unwrap();
    assert_eq!(
        CampaignDocument {
            exported_at: before.exported_at,
            ..after
        },
        before
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_document_that_fails_a_check_writes_nothing(db: PgPool) {
    let (gm, _) = support::signed_in(&db, "gamemaster").await;
    let campaign = furnished_campaign(&db, &gm).await;
    let good = export::export(&db, campaign, gm.id).await.unwrap();
    delete(&db, campaign).await;
    let tables = [
        "campaigns",
        "actors",
        "campaign_items",
        "media_files",
        "encounters",
        "encounter_tokens",
        "explored_areas",
    ];
    let mut counts = Vec::new();
    for table in tables {
        counts.push(row_count(&db, table).await);
    }

    let mut wrong_count = good.clone();
    wrong_count.counts.actors = 3;
    let mut missing_row = good.clone();
    missing_row.tokens.pop();
    let mut dangling = good.clone();
    dangling.items[0]["owner_actor_id"] = json!(Uuid::new_v4());
    let mut foreign = good.clone();
    foreign.actors[0]["campaign_id"] = json!(Uuid::new_v4());
    let mut bad_value = good.clone();
    bad_value.tokens[0]["visibility"] = json!("invisible-ish");
    let mut unknown_bytes = good.clone();
    unknown_bytes.media[0]["checksum"] = json!("f".repeat(64));
    let mut far_cells = good.clone();
    far_cells.explored[0]["cells"] = json!([[0, 0], [200_000, 0]]);
    let mut unread_cells = good.clone();
    unread_cells.explored[0]["cells"] = json!("everywhere");
    let mut elsewhere = good.clone();
    elsewhere.explored[0]["encounter_id"] = json!(Uuid::new_v4());
    let mut far_sight = good.clone();
    far_sight.tokens[0]["sight"] = json!({"darkvision": 9_999});
    let mut wall_off_the_map = good.clone();
    wall_off_the_map.encounters[0]["walls"][0]["to"] = json!({"x": 0.0, "y": 1e12});
    let mut other_format = good.clone();
    other_format.format_version = 99;
    for (label, document) in [
        ("wrong count", wrong_count),
        ("missing row", missing_row),
        ("dangling reference", dangling),
        ("row of another campaign", foreign),
        ("value the schema refuses", bad_value),
        ("media bytes not on this server", unknown_bytes),
        ("explored cells off any map", far_cells),
        ("explored cells that do not read", unread_cells),
        ("explored area of another encounter", elsewhere),
        ("darkvision past the limit", far_sight),
        ("a wall off any map", wall_off_the_map),
        ("other format version", other_format),
    ] {
        let refused = export::import(&db, &document, gm.id).await;
        assert!(
            matches!(
                refused,
                Err(server::Error::Refused(shared::Error::InvalidExport(_)))
            ),
            "{label}: {refused:?}"
        );
        for (table, expected) in tables.iter().zip(&counts) {
            assert_eq!(
                row_count(&db, table).await,
                *expected,
                "{label} wrote to {table}"
            );
        }
    }

    // And a campaign already here is not overwritten.
    export::import(&db, &good, gm.id).await.unwrap();
    assert!(matches!(
        export::import(&db, &good, gm.id).await,
        Err(server::Error::Refused(shared::Error::InvalidExport(_)))
    ));
}

#[sqlx::test(migrations = "../migrations")]
async fn only_the_gm_exports_and_import_makes_the_caller_gm(db: PgPool) {
    let (gm, gm_cookie) = support::signed_in(&db, "gamemaster").await;
    let (player, player_cookie) = support::signed_in(&db, "player").await;
    let (mover, mover_cookie) = support::signed_in(&db, "mover").await;
    let campaign = furnished_campaign(&db, &gm).await;
    let invitation = server::membership::invite(&db, campaign, gm.id, Role::Player)
        .await
        .unwrap();
    server::membership::accept(&db, player.id, &invitation.token)
        .await
        .unwrap();
    let router = server::router(support::state(db.clone()));
    let get = |cookie: &str| {
        Request::get(format!("/api/campaigns/{campaign}/export"))
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap()
    };

    let response = router.clone().oneshot(get(&player_cookie)).await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = router.clone().oneshot(get(&mover_cookie)).await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = router.clone().oneshot(get(&gm_cookie)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let document = response.into_body().collect().await.unwrap().to_bytes();
    delete(&db, campaign).await;

    let import = |body: Vec<u8>| {
        Request::post("/api/campaigns/import")
            .header(header::COOKIE, &mover_cookie)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap()
    };
    let response = router
        .clone()
        .oneshot(import(b"{not json".to_vec()))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // The document names the GM's map by its checksum: the mover holds no
    // such file, so the import is refused until they bring the bytes.
    let response = router
        .clone()
        .oneshot(import(document.to_vec()))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(row_count(&db, "campaigns").await, 0);
    let own =
        server::campaign::create(&db, mover.id, &NewCampaign::parse("Mine", "dnd5e").unwrap())
            .await
            .unwrap()
            .id;
    upload_map(&db, own, &mover).await;
    let response = router
        .clone()
        .oneshot(import(document.to_vec()))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value =
        serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(body, json!(campaign));
    assert_eq!(
        server::campaign::role_of(&db, campaign, mover.id)
            .await
            .unwrap(),
        Role::Gm
    );
    assert!(
        server::campaign::role_of(&db, campaign, gm.id)
            .await
            .is_err(),
        "accounts do not travel"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_checksum_copied_from_another_campaign_opens_nothing(db: PgPool) {
    let (gm, _) = support::signed_in(&db, "gamemaster").await;
    let (outsider, _) = support::signed_in(&db, "outsider").await;
    let victim = furnished_campaign(&db, &gm).await;
    let private = export::export(&db, victim, gm.id).await.unwrap();
    let secret = private.media[0]["checksum"].clone();

    // The outsider's own campaign, exported, with its media row now naming
    // the victim's private map by checksum (which any former member saw).
    let own = server::campaign::create(
        &db,
        outsider.id,
        &NewCampaign::parse("Heist", "dnd5e").unwrap(),
    )
    .await
    .unwrap()
    .id;
    // Every id renumbered, so that nothing but the media could refuse it.
    let mut forged = private.clone();
    let mut renumbered = std::collections::HashMap::new();
    for row in std::iter::once(&forged.campaign)
        .chain(&forged.actors)
        .chain(&forged.items)
        .chain(&forged.media)
        .chain(&forged.encounters)
        .chain(&forged.tokens)
    {
        renumbered.insert(
            row["id"].as_str().unwrap().to_owned(),
            Uuid::new_v4().to_string(),
        );
    }
    fn renumber(value: &mut Value, ids: &std::collections::HashMap<String, String>) {
        match value {
            Value::String(text) => {
                if let Some(new) = ids.get(text.as_str()) {
                    *text = new.clone();
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| renumber(item, ids)),
            Value::Object(fields) => fields.values_mut().for_each(|field| renumber(field, ids)),
            _ => {}
        }
    }
    renumber(&mut forged.campaign, &renumbered);
    for rows in [
        &mut forged.actors,
        &mut forged.items,
        &mut forged.media,
        &mut forged.encounters,
        &mut forged.tokens,
    ] {
        rows.iter_mut().for_each(|row| renumber(row, &renumbered));
    }
    let fresh = uuid_field(&forged.campaign);
    let refused = export::import(&db, &forged, outsider.id).await;
    let Err(server::Error::Refused(shared::Error::InvalidExport(stolen))) = refused else {
        panic!("a copied checksum was accepted: {refused:?}");
    };
    // Bytes stored elsewhere and bytes stored nowhere get the same answer.
    forged.media[0]["checksum"] = json!("e".repeat(64));
    let Err(server::Error::Refused(shared::Error::InvalidExport(nowhere))) =
        export::import(&db, &forged, outsider.id).await
    else {
        panic!("unknown bytes were accepted");
    };
    assert_eq!(
        stolen.replace(secret.as_str().unwrap(), "X"),
        nowhere.replace(&"e".repeat(64), "X")
    );
    assert_eq!(row_count(&db, "campaigns").await, 2, "{own}");
    assert!(
        server::campaign::role_of(&db, CampaignId(fresh), outsider.id)
            .await
            .is_err()
    );
}

fn uuid_field(row: &Value) -> Uuid {
    row["id"].as_str().unwrap().parse().unwrap()
}
