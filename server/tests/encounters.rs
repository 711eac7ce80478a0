//! The encounter repository against a real PostgreSQL: what is placed loads
//! back as the `shared` types, and nothing crosses campaigns.

mod support;

use server::encounter::{self, NewEncounter, NewToken};
use shared::{
    actor::ActorKind,
    campaign::NewCampaign,
    encounter::MapSettings,
    geometry::Point,
    id::{CampaignId, EncounterId, MediaId},
    token::Visibility,
};
use sqlx::PgPool;

async fn campaign(db: &PgPool, gm: &shared::account::User, name: &str) -> CampaignId {
    server::campaign::create(db, gm.id, &NewCampaign::parse(name, "dnd5e").unwrap())
        .await
        .unwrap()
        .id
}

fn new_encounter(campaign: CampaignId, name: &str) -> NewEncounter {
    NewEncounter {
        campaign,
        name: name.into(),
        map: None,
        settings: MapSettings {
            grid_size: 50.0,
            ..MapSettings::default()
        },
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn placed_tokens_load_back_with_their_visibility(db: PgPool) {
    let (gm, _) = support::signed_in(&db, "gamemaster").await;
    let campaign = campaign(&db, &gm, "Maps").await;
    let ogre = server::actor::create_custom(
        &db,
        &server::actor::NewActor {
            campaign,
            name: None,
            actor_type: ActorKind::Monster.slug().into(),
            level: None,
            character_class: None,
            owner: None,
            created_by: gm.id,
        },
        "Ogre",
        &serde_json::json!({}),
    )
    .await
    .unwrap();
    let crypt = encounter::create(&db, &new_encounter(campaign, " Crypt "))
        .await
        .unwrap();
    let visible = encounter::place_token(
        &db,
        campaign,
        crypt,
        &NewToken {
            actor: Some(ogre),
            name: "Ogre".into(),
            position: Point { x: 100.0, y: 150.0 },
            visibility: Visibility::Visible,
            scale: 2.0,
        },
    )
    .await
    .unwrap();
    let secret = encounter::place_token(
        &db,
        campaign,
        crypt,
        &NewToken {
            actor: None,
            name: "Trap".into(),
            position: Point { x: 0.5, y: 0.0 },
            visibility: Visibility::GmOnly,
            scale: 1.0,
        },
    )
    .await
    .unwrap();

    let encounter::Loaded {
        encounter: loaded,
        tokens,
        ..
    } = encounter::load(&db, campaign, crypt).await.unwrap();
    assert_eq!(loaded.id, crypt);
    assert_eq!(loaded.name, "Crypt");
    assert_eq!(loaded.map.grid_size, 50.0);
    let summary: Vec<_> = tokens
        .iter()
        .map(|t| {
            (
                t.id,
                t.actor,
                t.name.as_str(),
                t.position,
                t.scale,
                t.visibility,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                visible,
                Some(ogre),
                "Ogre",
                Point { x: 100.0, y: 150.0 },
                2.0,
                Visibility::Visible
            ),
            (
                secret,
                None,
                "Trap",
                Point { x: 0.5, y: 0.0 },
                1.0,
                Visibility::GmOnly
            ),
        ]
    );
    assert!(tokens.iter().all(|t| t.encounter == crypt));
}

#[sqlx::test(migrations = "../migrations")]
async fn nothing_crosses_campaigns_and_bad_shapes_are_refused(db: PgPool) {
    let (gm, _) = support::signed_in(&db, "gamemaster").await;
    let ours = campaign(&db, &gm, "Ours").await;
    let theirs = campaign(&db, &gm, "Theirs").await;
    let their_encounter = encounter::create(&db, &new_encounter(theirs, "Elsewhere"))
        .await
        .unwrap();
    let token = NewToken {
        actor: None,
        name: "Rock".into(),
        position: Point { x: 1.0, y: 1.0 },
        visibility: Visibility::Visible,
        scale: 1.0,
    };

    assert!(
        encounter::place_token(&db, ours, their_encounter, &token)
            .await
            .is_err()
    );
    assert!(encounter::load(&db, ours, their_encounter).await.is_err());
    assert!(
        encounter::load(&db, ours, EncounterId(uuid::Uuid::new_v4()))
            .await
            .is_err()
    );
    let foreign_map = NewEncounter {
        map: Some(MediaId(uuid::Uuid::new_v4())),
        ..new_encounter(ours, "Map")
    };
    assert!(encounter::create(&db, &foreign_map).await.is_err());
    assert!(
        encounter::create(&db, &new_encounter(ours, "   "))
            .await
            .is_err()
    );
    let no_grid = NewEncounter {
        settings: MapSettings {
            grid_size: 0.0,
            ..MapSettings::default()
        },
        ..new_encounter(ours, "Flat")
    };
    assert!(encounter::create(&db, &no_grid).await.is_err());
    let ours_encounter = encounter::create(&db, &new_encounter(ours, "Here"))
        .await
        .unwrap();
    let huge = NewToken {
        scale: 1000.0,
        ..token.clone()
    };
    assert!(
        encounter::place_token(&db, ours, ours_encounter, &huge)
            .await
            .is_err()
    );
    let nowhere = NewToken {
        position: Point {
            x: f64::NAN,
            y: 0.0,
        },
        ..token
    };
    assert!(
        encounter::place_token(&db, ours, ours_encounter, &nowhere)
            .await
            .is_err()
    );

    let count: i64 = sqlx::query_scalar("select count(*) from encounter_tokens")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(count, 0);
    let encounters: i64 = sqlx::query_scalar("select count(*) from encounters")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(encounters, 2);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_editor_changes_the_map_and_the_tokens_of_its_own_campaign_only(db: PgPool) {
    let (gm, _) = support::signed_in(&db, "gamemaster").await;
    let ours = campaign(&db, &gm, "Ours").await;
    let theirs = campaign(&db, &gm, "Theirs").await;
    let crypt = encounter::create(&db, &new_encounter(ours, "Crypt"))
        .await
        .unwrap();
    let elsewhere = encounter::create(&db, &new_encounter(theirs, "Elsewhere"))
        .await
        .unwrap();
    let rock = NewToken {
        actor: None,
        name: "Rock".into(),
        position: Point { x: 0.0, y: 0.0 },
        visibility: Visibility::Visible,
        scale: 1.0,
    };
    let token = encounter::place_token(&db, ours, crypt, &rock)
        .await
        .unwrap();

    let wider = MapSettings {
        grid: shared::encounter::Grid::HexColumns,
        grid_size: 80.0,
        offset: Point { x: 10.0, y: 5.0 },
        feet_per_cell: 10,
        players_draw: true,
        vision: true,
        daylight: false,
        diagonals: shared::measure::Diagonals::Alternating,
        image: None,
    };
    encounter::update(&db, ours, crypt, "Flooded crypt", &wider)
        .await
        .unwrap();
    let moved = NewToken {
        name: "Boulder".into(),
        position: Point { x: 160.0, y: 80.0 },
        visibility: Visibility::Hidden,
        scale: 2.0,
        ..rock.clone()
    };
    encounter::update_token(&db, ours, crypt, token, &moved)
        .await
        .unwrap();
    let encounter::Loaded {
        encounter: loaded,
        tokens,
        ..
    } = encounter::load(&db, ours, crypt).await.unwrap();
    assert_eq!(loaded.name, "Flooded crypt");
    assert_eq!(loaded.map, wider);
    assert_eq!(tokens.len(), 1);
    assert_eq!(
        (
            tokens[0].name.as_str(),
            tokens[0].position,
            tokens[0].scale,
            tokens[0].visibility
        ),
        (
            "Boulder",
            Point { x: 160.0, y: 80.0 },
            2.0,
            Visibility::Hidden
        )
    );

    // Through another campaign, or onto a map of another campaign, or in
    // a bad shape: refused, and nothing changes.
    let foreign_image = MapSettings {
        image: Some(MediaId(uuid::Uuid::new_v4())),
        ..wider
    };
    assert!(
        encounter::update(&db, ours, crypt, "X", &foreign_image)
            .await
            .is_err()
    );
    assert!(
        encounter::update(&db, theirs, crypt, "X", &wider)
            .await
            .is_err()
    );
    assert!(
        encounter::update(&db, ours, crypt, " ", &wider)
            .await
            .is_err()
    );
    let tiny = MapSettings {
        grid_size: 2.0,
        ..wider
    };
    assert!(
        encounter::update(&db, ours, crypt, "X", &tiny)
            .await
            .is_err()
    );
    assert!(
        encounter::update_token(&db, theirs, crypt, token, &rock)
            .await
            .is_err()
    );
    assert!(
        encounter::update_token(&db, ours, elsewhere, token, &rock)
            .await
            .is_err()
    );
    let unnamed = NewToken {
        name: "  ".into(),
        ..rock.clone()
    };
    assert!(
        encounter::update_token(&db, ours, crypt, token, &unnamed)
            .await
            .is_err()
    );
    assert!(
        encounter::remove_token(&db, theirs, crypt, token)
            .await
            .is_err()
    );
    let encounter::Loaded {
        encounter: unchanged,
        tokens,
        ..
    } = encounter::load(&db, ours, crypt).await.unwrap();
    assert_eq!(
        (unchanged.name.as_str(), unchanged.map),
        ("Flooded crypt", wider)
    );
    assert_eq!(tokens[0].name, "Boulder");

    encounter::remove_token(&db, ours, crypt, token)
        .await
        .unwrap();
    assert!(
        encounter::load(&db, ours, crypt)
            .await
            .unwrap()
            .tokens
            .is_empty()
    );
    assert!(
        encounter::remove_token(&db, ours, crypt, token)
            .await
            .is_err(),
        "gone already"
    );
}
