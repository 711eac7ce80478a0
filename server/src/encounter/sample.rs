//! The sample encounter a new GM is offered, so that a table is on screen
//! within a minute of signing up: a grid, three goblins from the SRD (one
//! hidden, waiting in ambush), and the campaign's characters at the other
//! side.

use serde_json::json;
use shared::{
    actor::ActorKind,
    geometry::Cell,
    id::{ActorId, UserId},
    rules::Role,
    token::Visibility,
};

use super::*;
use crate::actor;

/// The SRD entry the goblins are made from.
pub const GOBLIN: &str = "dnd5e:monsters:goblin-warrior";

/// A goblin's statblock when the compendium has none (an instance set up
/// without the SRD): the SRD goblin warrior's numbers.
fn goblin_statblock() -> serde_json::Value {
    json!({
        "hp": 10, "ac": 15, "cr": 0.25, "creature_size": "small", "creature_type": "humanoid",
        "ability_scores": {"str": 8, "dex": 15, "con": 10, "int": 10, "wis": 8, "cha": 8},
        "movement": {"walk": 30}, "skills": {"stealth": 6},
        "attacks": [{"name": "Scimitar", "damage": "1d6", "damage_type": "slashing", "finesse": true}],
    })
}

/// Creates the sample encounter in `campaign` for its GM `gm`.
pub async fn create(db: &PgPool, campaign: CampaignId, gm: UserId) -> Result<EncounterId> {
    let map = MapSettings {
        grid_size: 70.0,
        ..MapSettings::default()
    };
    let encounter = super::create(
        db,
        &NewEncounter {
            campaign,
            name: "Sample: the goblin ambush".into(),
            map: None,
            settings: map,
        },
    )
    .await?;
    let place = async |actor: Option<ActorId>, name: &str, cell: Cell, visibility| {
        let token = NewToken {
            actor,
            name: name.to_owned(),
            position: map.cell_origin(cell),
            visibility,
            scale: 1.0,
        };
        place_token(db, campaign, encounter, &token).await
    };
    for (name, cell, visibility) in [
        ("Goblin lookout", Cell(9, 3), Visibility::Visible),
        ("Goblin archer", Cell(10, 6), Visibility::Visible),
        ("Goblin in the brush", Cell(7, 8), Visibility::Hidden),
    ] {
        let goblin = goblin(db, campaign, gm, name).await?;
        place(Some(goblin), name, cell, visibility).await?;
    }
    let characters = actor::list_visible(db, campaign, gm, Role::Gm).await?;
    for (row, character) in characters
        .iter()
        .filter(|a| a.kind == ActorKind::Character)
        .take(8)
        .enumerate()
    {
        let row = i32::try_from(row).unwrap_or(0);
        place(
            Some(character.id),
            &character.name,
            Cell(2, 2 + row),
            Visibility::Visible,
        )
        .await?;
    }
    tracing::info!(%campaign, %encounter, "sample encounter created");
    Ok(encounter)
}

/// One goblin: the SRD's, or the same numbers typed in when the compendium
/// does not have it.
async fn goblin(db: &PgPool, campaign: CampaignId, gm: UserId, name: &str) -> Result<ActorId> {
    let new = actor::NewActor {
        campaign,
        name: Some(name.to_owned()),
        actor_type: ActorKind::Monster.slug().to_owned(),
        level: None,
        character_class: None,
        owner: None,
        created_by: gm,
    };
    match actor::create_from_compendium(db, &new, GOBLIN).await {
        Err(Error::Refused(shared::Error::UnknownEntity { .. })) => {
            actor::create_custom(db, &new, name, &goblin_statblock()).await
        }
        made => made,
    }
}
