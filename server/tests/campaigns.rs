//! The campaign repository against a real PostgreSQL.

use shared::campaign::{GameSystem, NewCampaign};
use sqlx::PgPool;

#[sqlx::test(migrations = "../migrations")]
async fn created_campaigns_are_listed_newest_first(db: PgPool) {
    assert!(server::campaign::list(&db).await.unwrap().is_empty());

    let first = server::campaign::create(&db, &NewCampaign::parse("Phandelver", "dnd5e").unwrap())
        .await
        .unwrap();
    let second = server::campaign::create(
        &db,
        &NewCampaign::parse("  Abomination Vaults ", "pf2e").unwrap(),
    )
    .await
    .unwrap();

    assert_eq!(second.name.as_str(), "Abomination Vaults");
    assert_eq!(second.game_system, GameSystem::Pathfinder2e);
    assert_ne!(first.id, second.id);
    let listed = server::campaign::list(&db).await.unwrap();
    assert_eq!(listed, vec![second, first]);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_database_refuses_rows_the_domain_would_refuse(db: PgPool) {
    let insert = |name: &'static str, system: &'static str| {
        sqlx::query(
            "insert into campaigns (id, name, game_system) values (gen_random_uuid(), $1, $2)",
        )
        .bind(name)
        .bind(system)
        .execute(&db)
    };
    for (name, system, constraint) in [
        ("", "dnd5e", "campaigns_name_length"),
        (" padded ", "dnd5e", "campaigns_name_length"),
        ("Fine", "gurps", "campaigns_game_system_known"),
    ] {
        let error = insert(name, system).await.unwrap_err();
        let db_error = error.as_database_error().expect("a constraint violation");
        assert_eq!(
            db_error.constraint(),
            Some(constraint),
            "{name:?} {system:?}"
        );
    }
    let long = "x".repeat(101);
    let error = sqlx::query(
        "insert into campaigns (id, name, game_system) values (gen_random_uuid(), $1, 'dnd5e')",
    )
    .bind(&long)
    .execute(&db)
    .await
    .unwrap_err();
    assert_eq!(
        error.as_database_error().and_then(|e| e.constraint()),
        Some("campaigns_name_length")
    );
    assert!(server::campaign::list(&db).await.unwrap().is_empty());
}
