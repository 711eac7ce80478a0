//! The campaign repository against a real PostgreSQL: creation makes the
//! creator the GM, and every read is scoped to members.

mod support;

use shared::{
    campaign::{GameSystem, NewCampaign},
    id::CampaignId,
    rules::Role,
};
use sqlx::PgPool;

#[sqlx::test(migrations = "../migrations")]
async fn members_see_their_campaigns_newest_first(db: PgPool) {
    let (gm, _) = support::signed_in(&db, "gm_anna").await;
    let (stranger, _) = support::signed_in(&db, "stranger").await;
    assert!(
        server::campaign::list_for(&db, gm.id)
            .await
            .unwrap()
            .is_empty()
    );

    let first = server::campaign::create(
        &db,
        gm.id,
        &NewCampaign::parse("Phandelver", "dnd5e").unwrap(),
    )
    .await
    .unwrap();
    let second = server::campaign::create(
        &db,
        gm.id,
        &NewCampaign::parse("  Abomination Vaults ", "pf2e").unwrap(),
    )
    .await
    .unwrap();

    assert_eq!(second.name.as_str(), "Abomination Vaults");
    assert_eq!(second.game_system, GameSystem::Pathfinder2e);
    assert_eq!(
        server::campaign::list_for(&db, gm.id).await.unwrap(),
        vec![second.clone(), first]
    );
    assert!(
        server::campaign::list_for(&db, stranger.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        server::campaign::role_of(&db, second.id, gm.id)
            .await
            .unwrap(),
        Role::Gm
    );
    assert!(matches!(
        server::campaign::role_of(&db, second.id, stranger.id).await,
        Err(server::Error::NotMember)
    ));
    // A campaign that does not exist looks the same as one you are not in.
    assert!(matches!(
        server::campaign::role_of(&db, CampaignId(uuid::Uuid::new_v4()), gm.id).await,
        Err(server::Error::NotMember)
    ));
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
    let count: i64 = sqlx::query_scalar("select count(*) from campaigns")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(count, 0);
}
