//! The seed's cross-data queries on the real SRD and generated campaign data.

mod support;

use serde_json::json;
use server::{
    actor::{self, NewActor},
    compendium::srd,
    report::{self, Difficulty},
};
use shared::{campaign::NewCampaign, id::CampaignId, rules::Role};
use sqlx::PgPool;
use uuid::Uuid;

async fn campaign_with_gm(db: &PgPool, gm: &str) -> (CampaignId, shared::id::UserId) {
    let (user, _) = support::signed_in(db, gm).await;
    let campaign = server::campaign::create(
        db,
        user.id,
        &NewCampaign::parse("Reports", "dnd5e").unwrap(),
    )
    .await
    .unwrap();
    (campaign.id, user.id)
}

async fn character(
    db: &PgPool,
    campaign: CampaignId,
    gm: shared::id::UserId,
    name: &str,
    level: i32,
    base: serde_json::Value,
) -> Uuid {
    let new = NewActor {
        campaign,
        name: None,
        actor_type: "character".into(),
        level: Some(level),
        character_class: Some("Wizard".into()),
        owner: None,
        created_by: gm,
    };
    actor::create_custom(db, &new, name, &base).await.unwrap().0
}

async fn give_spell(db: &PgPool, campaign: CampaignId, owner: Uuid, slug: &str) {
    sqlx::query(
        "insert into campaign_items (id, campaign_id, name, item_type, compendium_ref, base_properties, owner_actor_id)
         values ($1, $2, $3, 'spell', $4, '{}', $5)",
    )
    .bind(Uuid::new_v4())
    .bind(campaign.0)
    .bind(slug)
    .bind(format!("dnd5e:spells:{slug}"))
    .bind(owner)
    .execute(db)
    .await
    .unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn level_five_casters_with_their_high_level_spells(db: PgPool) {
    srd::import(&db, &support::srd_dir()).await.unwrap();
    let (campaign, gm) = campaign_with_gm(&db, "reports_gm").await;
    let caster = json!({"spellcasting_ability": "int"});
    let wizard = character(&db, campaign, gm, "Elminster", 7, caster.clone()).await;
    let apprentice = character(&db, campaign, gm, "Apprentice", 3, caster.clone()).await;
    let fighter = character(&db, campaign, gm, "Brute", 9, json!({})).await;
    for slug in ["fireball", "magic-missile", "cone-of-cold"] {
        give_spell(&db, campaign, wizard, slug).await;
    }
    give_spell(&db, campaign, apprentice, "fireball").await;
    give_spell(&db, campaign, fighter, "fireball").await;

    let casters = report::high_level_spellcasters(&db, campaign)
        .await
        .unwrap();
    assert_eq!(casters.len(), 1, "{casters:?}");
    let elminster = &casters[0];
    assert_eq!(
        (
            elminster.name.as_str(),
            elminster.level,
            elminster.spellcasting_ability.as_str()
        ),
        ("Elminster", 7, "int")
    );
    let spells: Vec<(&str, i32)> = elminster
        .spells
        .iter()
        .map(|s| (s.name.as_str(), s.level))
        .collect();
    assert_eq!(spells, [("Cone of Cold", 5), ("Fireball", 3)]);
    assert_eq!(elminster.spells[1].school.as_deref(), Some("evocation"));

    // Another campaign's data never leaks in.
    let (other, _) = campaign_with_gm(&db, "reports_other").await;
    assert!(
        report::high_level_spellcasters(&db, other)
            .await
            .unwrap()
            .is_empty()
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn a_level_three_party_gets_cr_one_to_seven_with_difficulty_and_loot(db: PgPool) {
    srd::import(&db, &support::srd_dir()).await.unwrap();
    let (campaign, gm) = campaign_with_gm(&db, "builder_gm").await;
    assert!(
        report::encounter_builder(&db, campaign)
            .await
            .unwrap()
            .is_empty(),
        "no party, no suggestions"
    );
    for name in ["A", "B", "C"] {
        character(&db, campaign, gm, name, 3, json!({})).await;
    }
    // A monster drops a longsword.
    sqlx::query(
        "insert into compendium_relationships (id, source_item_id, target_item_id, relationship_type)
         select gen_random_uuid(), m.id, i.id, 'drops' from compendium_items m, compendium_items i
          where m.ref_key = 'dnd5e:monsters:ogre' and i.ref_key = 'dnd5e:items:longsword'",
    )
    .execute(&db)
    .await
    .unwrap();

    let suggestions = report::encounter_builder(&db, campaign).await.unwrap();
    assert!(suggestions.len() > 20, "{}", suggestions.len());
    assert!(
        suggestions
            .iter()
            .all(|s| (1.0..=7.0).contains(&s.challenge_rating))
    );
    assert!(
        suggestions
            .windows(2)
            .all(|w| w[0].challenge_rating <= w[1].challenge_rating)
    );
    for s in &suggestions {
        let expected = match s.challenge_rating {
            cr if cr <= 1.0 => Difficulty::Easy,
            cr if cr <= 3.0 => Difficulty::Medium,
            cr if cr <= 5.0 => Difficulty::Hard,
            _ => Difficulty::Deadly,
        };
        assert_eq!(s.difficulty, expected, "{}", s.name);
    }
    let ogre = suggestions
        .iter()
        .find(|s| s.name == "Ogre")
        .expect("the ogre (CR 2) is suggested");
    assert_eq!(ogre.loot, ["Longsword"]);
}

#[sqlx::test(migrations = "../migrations")]
async fn actors_copy_their_compendium_entry(db: PgPool) {
    srd::import(&db, &support::srd_dir()).await.unwrap();
    let (campaign, gm) = campaign_with_gm(&db, "actor_gm").await;
    let new = NewActor {
        campaign,
        name: None,
        actor_type: "monster".into(),
        level: None,
        character_class: None,
        owner: None,
        created_by: gm,
    };
    let id = actor::create_from_compendium(&db, &new, "dnd5e:monsters:aboleth")
        .await
        .unwrap();
    let (name, hp): (String, i64) =
        sqlx::query_as("select name, (base_stats ->> 'hp')::bigint from actors where id = $1")
            .bind(id.0)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!((name.as_str(), hp), ("Aboleth", 150));
    assert!(
        actor::create_from_compendium(&db, &new, "dnd5e:monsters:tarrasque-jr")
            .await
            .is_err()
    );
    let bad = NewActor {
        actor_type: "dragonlord".into(),
        ..new
    };
    assert!(matches!(
        actor::create_from_compendium(&db, &bad, "dnd5e:monsters:aboleth").await,
        Err(server::Error::Refused(_))
    ));
}

async fn media(db: &PgPool, campaign: CampaignId, name: &str, size: i64, tags: &[&str]) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query(
        "insert into media_blobs (checksum, byte_size, mime_type, tier, location)
         values ($1, $2, 'image/png', 'filesystem', $1)",
    )
    .bind(format!("{:064x}", id.as_u128()))
    .bind(size)
    .execute(db)
    .await
    .unwrap();
    sqlx::query(
        "insert into media_files (id, campaign_id, filename, original_name, mime_type, file_size, checksum, media_type, tags)
         values ($1, $2, $3, $4, 'image/png', $5, $3, 'map', $6)",
    )
    .bind(id)
    .bind(campaign.0)
    .bind(format!("{:064x}", id.as_u128()))
    .bind(name)
    .bind(size)
    .bind(tags)
    .execute(db)
    .await
    .unwrap();
    id
}

#[sqlx::test(migrations = "../migrations")]
async fn one_search_covers_actors_compendium_and_media(db: PgPool) {
    srd::import(&db, &support::srd_dir()).await.unwrap();
    let (campaign, gm) = campaign_with_gm(&db, "search_gm").await;
    character(&db, campaign, gm, "Dragonslayer Kira", 5, json!({})).await;
    media(
        &db,
        campaign,
        "red-dragon-lair.png",
        1024,
        &["dragon", "cave"],
    )
    .await;
    let (other, other_gm) = campaign_with_gm(&db, "search_other").await;
    character(&db, other, other_gm, "Dragon Tamer", 5, json!({})).await;

    let hits = report::search_campaign(&db, campaign, gm, Role::Gm, "dragon")
        .await
        .unwrap();
    let kinds: std::collections::BTreeSet<String> =
        hits.iter().map(|h| format!("{:?}", h.kind)).collect();
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        ["Actor", "Compendium", "Media"],
        "{hits:?}"
    );
    assert!(hits.iter().any(|h| h.name == "Dragonslayer Kira"));
    assert!(hits.iter().any(|h| h.name == "red-dragon-lair.png"));
    assert!(
        !hits.iter().any(|h| h.name == "Dragon Tamer"),
        "another campaign's actor leaked"
    );
    assert!(hits.windows(2).all(|w| w[0].relevance >= w[1].relevance));
    assert!(hits.len() <= 20);
    assert!(
        report::search_campaign(&db, campaign, gm, Role::Gm, " !! ")
            .await
            .unwrap()
            .is_empty()
    );
    // A player finds the compendium, not the GM's hidden map nor an
    // actor that is not theirs.
    let (player, _) = support::signed_in(&db, "search_player").await;
    let invitation = server::membership::invite(&db, campaign, gm, Role::Player)
        .await
        .unwrap();
    server::membership::accept(&db, player.id, &invitation.token)
        .await
        .unwrap();
    let theirs = report::search_campaign(&db, campaign, player.id, Role::Player, "dragon")
        .await
        .unwrap();
    assert!(!theirs.is_empty());
    assert!(
        theirs.iter().all(|h| h.kind == report::HitKind::Compendium),
        "{theirs:?}"
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn analytics_count_without_join_fan_out(db: PgPool) {
    let (campaign, gm) = campaign_with_gm(&db, "analytics_gm").await;
    for name in ["A", "B"] {
        character(&db, campaign, gm, name, 1, json!({})).await;
    }
    for (n, size) in [(1, 1000i64), (2, 2000)] {
        media(&db, campaign, &format!("map{n}.png"), size, &[]).await;
    }
    sqlx::query("insert into campaign_items (id, campaign_id, name, item_type, base_properties) select gen_random_uuid(), $1, 'Torch', 'gear', '{}' from generate_series(1, 3)")
        .bind(campaign.0)
        .execute(&db)
        .await
        .unwrap();
    let stats = report::campaign_analytics(&db, campaign).await.unwrap();
    assert_eq!(
        (stats.characters, stats.items, stats.media_files),
        (2, 3, 2)
    );
    // The seed's single join would report 3000 x 2 actors x 3 items.
    assert_eq!(stats.media_bytes, 3000);
}

#[sqlx::test(migrations = "../migrations")]
async fn large_maps_are_reported_with_their_usage(db: PgPool) {
    let (campaign, _) = campaign_with_gm(&db, "maps_gm").await;
    const MIB: i64 = 1024 * 1024;
    let huge = media(&db, campaign, "world.png", 60 * MIB, &[]).await;
    media(&db, campaign, "city.png", 12 * MIB, &[]).await;
    media(&db, campaign, "room.png", MIB, &[]).await;
    for name in ["One", "Two"] {
        sqlx::query("insert into encounters (id, campaign_id, name, map_id) values (gen_random_uuid(), $1, $2, $3)")
            .bind(campaign.0)
            .bind(name)
            .bind(huge)
            .execute(&db)
            .await
            .unwrap();
    }
    let maps = report::large_maps(&db).await.unwrap();
    let summary: Vec<(&str, &str, i64)> = maps
        .iter()
        .map(|m| {
            (
                m.original_name.as_str(),
                m.size_category.as_str(),
                m.encounter_usage,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [("world.png", "large", 2), ("city.png", "medium", 0)]
    );
}
