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

    let (loaded, tokens) = encounter::load(&db, campaign, crypt).await.unwrap();
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
