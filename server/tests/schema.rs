//! The schema's own guarantees, against a real PostgreSQL with every
//! migration applied to an empty database.

use sqlx::{PgPool, Row};
use uuid::Uuid;

async fn campaign(db: &PgPool) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query("insert into campaigns (id, name, game_system) values ($1, 'Test', 'dnd5e')")
        .bind(id)
        .execute(db)
        .await
        .unwrap();
    id
}

async fn source(db: &PgPool) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query("insert into compendium_sources (id, name, version, game_system) values ($1, 'SRD', '5.1', 'dnd5e')")
        .bind(id)
        .execute(db)
        .await
        .unwrap();
    id
}

async fn compendium_item(
    db: &PgPool,
    source: Uuid,
    name: &str,
    tags: Option<Vec<&str>>,
    description: &str,
) {
    sqlx::query(
        "insert into compendium_items (id, source_id, ref_key, name, item_type, tags, data)
         values ($1, $2, $3, $4, 'spell', coalesce($5, '{}'), jsonb_build_object('description', $6::text))",
    )
    .bind(Uuid::new_v4())
    .bind(source)
    .bind(format!("test:{name}"))
    .bind(name)
    .bind(tags)
    .bind(description)
    .execute(db)
    .await
    .unwrap();
}

fn constraint(error: sqlx::Error) -> String {
    error
        .as_database_error()
        .and_then(|e| e.constraint())
        .unwrap_or_default()
        .to_owned()
}

#[sqlx::test(migrations = "../migrations")]
async fn search_ranks_name_matches_first_and_untagged_rows_are_searchable(db: PgPool) {
    let source = source(&db).await;
    compendium_item(
        &db,
        source,
        "Torch",
        Some(vec!["light"]),
        "A torch burns with fire for an hour.",
    )
    .await;
    compendium_item(&db, source, "Fire Bolt", None, "You hurl a mote of flame.").await;
    compendium_item(&db, source, "Rope", None, "Fifty feet of hempen rope.").await;

    let ranked: Vec<String> = sqlx::query_scalar(
        "select name from compendium_items, websearch_to_tsquery('english', 'fire') q
          where search_vector @@ q order by ts_rank(search_vector, q) desc",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(ranked, ["Fire Bolt", "Torch"]);
    // The seed's vector was null for every untagged row.
    let nulls: i64 =
        sqlx::query_scalar("select count(*) from compendium_items where search_vector is null")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(nulls, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn challenge_ratings_are_exact_and_ref_keys_unique(db: PgPool) {
    let source = source(&db).await;
    compendium_item(&db, source, "Kobold", None, "").await;
    sqlx::query("update compendium_items set computed_cr = 0.125")
        .execute(&db)
        .await
        .unwrap();
    let cr: String = sqlx::query_scalar("select computed_cr::text from compendium_items")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(cr, "0.125");
    let duplicate = sqlx::query("insert into compendium_items (id, source_id, ref_key, name, item_type, data) values ($1, $2, 'test:Kobold', 'K', 'actor', '{}')")
        .bind(Uuid::new_v4())
        .bind(source)
        .execute(&db)
        .await
        .unwrap_err();
    assert_eq!(
        constraint(duplicate),
        "compendium_items_source_id_ref_key_key"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn event_log_partitions_exist_ahead_and_rows_land_in_their_month(db: PgPool) {
    // The migration made this month and the next three.
    let created: i32 = sqlx::query_scalar("select ensure_event_log_partitions(3)")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(created, 0);
    let created: i32 = sqlx::query_scalar("select ensure_event_log_partitions(5)")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(created, 2);

    sqlx::query("insert into event_log (session_id, event_type, event_data, status) values ($1, 'chat', '{}', 'pending')")
        .bind(Uuid::new_v4())
        .execute(&db)
        .await
        .unwrap();
    let row = sqlx::query(
        "select tableoid::regclass::text as partition,
                'event_log_' || to_char(now() at time zone 'utc', 'YYYY_MM') as expected
           from event_log",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(
        row.get::<String, _>("partition"),
        row.get::<String, _>("expected")
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn replay_returns_applied_changes_in_version_order(db: PgPool) {
    let session = Uuid::new_v4();
    let other = Uuid::new_v4();
    for (session, version, status) in [
        (session, Some(3i64), "applied"),
        (session, Some(1), "applied"),
        (session, None, "pending"),
        (session, None, "rejected"),
        (session, Some(2), "applied"),
        (other, Some(4), "applied"),
    ] {
        sqlx::query(
            "insert into event_log (session_id, version, event_type, event_data, state_changes, status)
             values ($1, $2, 'move', '{}', jsonb_build_array($2), $3)",
        )
        .bind(session)
        .bind(version)
        .bind(status)
        .execute(&db)
        .await
        .unwrap();
    }
    let versions: Vec<i64> = sqlx::query_scalar("select version from replay_session_events($1, 1)")
        .bind(session)
        .fetch_all(&db)
        .await
        .unwrap();
    assert_eq!(versions, [2, 3]);

    let unversioned = sqlx::query("insert into event_log (session_id, event_type, event_data, status) values ($1, 'move', '{}', 'applied')")
        .bind(session)
        .execute(&db)
        .await
        .unwrap_err();
    assert_eq!(constraint(unversioned), "event_log_applied_has_version");
}

#[sqlx::test(migrations = "../migrations")]
async fn one_version_and_one_outcome_per_action(db: PgPool) {
    let campaign = campaign(&db).await;
    let session = Uuid::new_v4();
    sqlx::query("insert into play_sessions (id, campaign_id) values ($1, $2)")
        .bind(session)
        .bind(campaign)
        .execute(&db)
        .await
        .unwrap();
    let record = |action: Uuid, version: i64| {
        sqlx::query("insert into session_actions (session_id, action_id, version, outcome) values ($1, $2, $3, '{}')")
            .bind(session)
            .bind(action)
            .bind(version)
            .execute(&db)
    };
    let action = Uuid::new_v4();
    record(action, 1).await.unwrap();
    assert_eq!(
        constraint(record(action, 2).await.unwrap_err()),
        "session_actions_pkey"
    );
    assert_eq!(
        constraint(record(Uuid::new_v4(), 1).await.unwrap_err()),
        "session_actions_session_id_version_key"
    );

    // The fenced version bump: a stale epoch updates nothing.
    let bumped: Option<i64> = sqlx::query_scalar("update play_sessions set version = version + 1 where id = $1 and epoch = $2 returning version")
        .bind(session)
        .bind(7i64)
        .fetch_optional(&db)
        .await
        .unwrap();
    assert_eq!(bumped, None);
    let bumped: Option<i64> = sqlx::query_scalar("update play_sessions set version = version + 1 where id = $1 and epoch = 0 returning version")
        .bind(session)
        .fetch_optional(&db)
        .await
        .unwrap();
    assert_eq!(bumped, Some(1));
}

#[sqlx::test(migrations = "../migrations")]
async fn campaign_stats_refresh_concurrently(db: PgPool) {
    let campaign = campaign(&db).await;
    for (kind, level) in [
        ("character", Some(3)),
        ("character", Some(5)),
        ("monster", None),
    ] {
        sqlx::query("insert into actors (id, campaign_id, name, actor_type, level, base_stats) values ($1, $2, 'A', $3, $4, '{}')")
            .bind(Uuid::new_v4())
            .bind(campaign)
            .bind(kind)
            .bind(level)
            .execute(&db)
            .await
            .unwrap();
    }
    sqlx::query("refresh materialized view concurrently campaign_stats")
        .execute(&db)
        .await
        .unwrap();
    let row = sqlx::query("select actor_count, character_count, avg_level::float8 as avg_level from campaign_stats where id = $1")
        .bind(campaign)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(row.get::<i64, _>("actor_count"), 3);
    assert_eq!(row.get::<i64, _>("character_count"), 2);
    assert_eq!(row.get::<f64, _>("avg_level"), 4.0);
}

#[sqlx::test(migrations = "../migrations")]
async fn deleting_a_campaign_removes_its_content(db: PgPool) {
    let campaign = campaign(&db).await;
    let actor = Uuid::new_v4();
    let encounter = Uuid::new_v4();
    sqlx::query("insert into actors (id, campaign_id, name, actor_type, base_stats) values ($1, $2, 'Orc', 'monster', '{}')")
        .bind(actor)
        .bind(campaign)
        .execute(&db)
        .await
        .unwrap();
    sqlx::query("insert into campaign_items (id, campaign_id, name, item_type, base_properties, owner_actor_id) values ($1, $2, 'Axe', 'weapon', '{}', $3)")
        .bind(Uuid::new_v4())
        .bind(campaign)
        .bind(actor)
        .execute(&db)
        .await
        .unwrap();
    sqlx::query("insert into encounters (id, campaign_id, name) values ($1, $2, 'Ambush')")
        .bind(encounter)
        .bind(campaign)
        .execute(&db)
        .await
        .unwrap();
    sqlx::query("insert into encounter_tokens (id, encounter_id, actor_id, position) values ($1, $2, $3, '{\"x\":0,\"y\":0}')")
        .bind(Uuid::new_v4())
        .bind(encounter)
        .bind(actor)
        .execute(&db)
        .await
        .unwrap();
    sqlx::query("delete from campaigns where id = $1")
        .bind(campaign)
        .execute(&db)
        .await
        .unwrap();
    let left: i64 = sqlx::query_scalar(
        "select (select count(*) from actors) + (select count(*) from campaign_items)
              + (select count(*) from encounters) + (select count(*) from encounter_tokens)",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(left, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn media_blobs_name_exactly_their_tiers_location_and_records_need_a_blob(db: PgPool) {
    let campaign = campaign(&db).await;
    let blob = |checksum: String,
                tier: &'static str,
                data: Option<Vec<u8>>,
                location: Option<&'static str>,
                bucket: Option<&'static str>| {
        sqlx::query(
            "insert into media_blobs (checksum, byte_size, mime_type, tier, data, location, s3_bucket)
             values ($1, 3, 'image/png', $2, $3, $4, $5)",
        )
        .bind(checksum)
        .bind(tier)
        .bind(data)
        .bind(location)
        .bind(bucket)
        .execute(&db)
    };
    let sha = |c: char| c.to_string().repeat(64);
    blob(sha('a'), "database", Some(vec![1, 2, 3]), None, None)
        .await
        .unwrap();
    blob(sha('b'), "filesystem", None, Some("bb/bb/b"), None)
        .await
        .unwrap();
    blob(sha('c'), "s3", None, Some("cc/cc/c"), Some("media"))
        .await
        .unwrap();
    for (tier, data, location, bucket) in [
        ("database", Some(vec![1]), None, None),
        ("database", Some(vec![1, 2, 3]), Some("x"), None),
        ("database", None, None, None),
        ("filesystem", None, None, None),
        ("filesystem", None, Some("x"), Some("media")),
        ("s3", None, Some("x"), None),
    ] {
        assert_eq!(
            constraint(
                blob(sha('d'), tier, data.clone(), location, bucket)
                    .await
                    .unwrap_err()
            ),
            "media_blobs_tier_location",
            "{tier} {data:?} {location:?} {bucket:?}"
        );
    }
    assert_eq!(
        constraint(
            blob("not-a-sha".into(), "filesystem", None, Some("x"), None)
                .await
                .unwrap_err()
        ),
        "media_blobs_checksum_shape"
    );
    let record = |checksum: String| {
        sqlx::query(
            "insert into media_files (id, campaign_id, filename, original_name, mime_type, file_size, checksum, media_type)
             values ($1, $2, $3, 'map.png', 'image/png', 3, $3, 'map')",
        )
        .bind(Uuid::new_v4())
        .bind(campaign)
        .bind(checksum)
        .execute(&db)
    };
    record(sha('a')).await.unwrap();
    record(sha('a')).await.unwrap();
    assert_eq!(
        constraint(record(sha('e')).await.unwrap_err()),
        "media_files_blob_fkey"
    );
    // Bytes cannot be deleted while a record points at them.
    let deleted = sqlx::query("delete from media_blobs where checksum = $1")
        .bind(sha('a'))
        .execute(&db)
        .await;
    assert_eq!(constraint(deleted.unwrap_err()), "media_files_blob_fkey");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_campaign_has_one_gm_and_logins_are_case_insensitive(db: PgPool) {
    let campaign = campaign(&db).await;
    let user = |login: &'static str| {
        let db = db.clone();
        async move {
            let id = Uuid::new_v4();
            sqlx::query("insert into users (id, login, display_name, password_hash) values ($1, $2, $2, 'x')")
                .bind(id)
                .bind(login)
                .execute(&db)
                .await
                .map(|_| id)
        }
    };
    let alice = user("alice").await.unwrap();
    let bob = user("bob").await.unwrap();
    assert_eq!(
        constraint(user("ALICE").await.unwrap_err()),
        "users_login_key"
    );
    let member = |user: Uuid, role: &'static str| {
        sqlx::query("insert into campaign_members (campaign_id, user_id, role) values ($1, $2, $3)")
            .bind(campaign)
            .bind(user)
            .bind(role)
            .execute(&db)
    };
    member(alice, "gm").await.unwrap();
    assert_eq!(
        constraint(member(bob, "gm").await.unwrap_err()),
        "campaign_members_one_gm"
    );
    assert_eq!(
        constraint(member(bob, "king").await.unwrap_err()),
        "campaign_members_role_known"
    );
    member(bob, "player").await.unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn upkeep_keeps_partitions_ahead_and_refreshes_statistics(db: PgPool) {
    // Drop the partition three months ahead, as if time had passed.
    let last: String = sqlx::query_scalar(
        "select 'event_log_' || to_char(date_trunc('month', now() at time zone 'utc') + interval '3 months', 'YYYY_MM')",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    sqlx::query(&format!("drop table {last}"))
        .execute(&db)
        .await
        .unwrap();
    let campaign = campaign(&db).await;
    sqlx::query("insert into actors (id, campaign_id, name, actor_type, base_stats) values ($1, $2, 'A', 'npc', '{}')")
        .bind(Uuid::new_v4())
        .bind(campaign)
        .execute(&db)
        .await
        .unwrap();

    assert_eq!(server::maintenance::run_once(&db).await.unwrap(), 1);
    let exists: bool = sqlx::query_scalar("select to_regclass($1) is not null")
        .bind(&last)
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(exists);
    let actors: i64 = sqlx::query_scalar("select actor_count from campaign_stats where id = $1")
        .bind(campaign)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(actors, 1);
    assert_eq!(server::maintenance::run_once(&db).await.unwrap(), 0);
}
