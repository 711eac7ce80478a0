//! The encounter builder on the editor: monsters for the party's level
//! from the compendium (challenge rating, difficulty, loot), each placed on
//! this encounter with one click, made as a monster of the campaign.

use leptos::prelude::*;
use shared::{
    actor::ActorKind,
    encounter::NewToken,
    geometry::Cell,
    id::{CampaignId, EncounterId},
    report::Suggestion,
    token::Visibility,
};

use crate::AppError;

/// Makes the suggested monster in the campaign and places it on the
/// encounter's top row, at the first column no token starts in.
async fn add_to_encounter(
    campaign: CampaignId,
    encounter: EncounterId,
    suggestion: Suggestion,
) -> Result<String, AppError> {
    let summary = super::list_encounters(campaign)
        .await?
        .into_iter()
        .find(|e| e.id == encounter)
        .ok_or(AppError::Forbidden)?;
    let taken: Vec<Cell> = super::encounter_tokens(campaign, encounter)
        .await?
        .iter()
        .map(|t| summary.map.token_cell(t.position))
        .collect();
    let column = (0..)
        .find(|c| !taken.contains(&Cell(*c, 0)))
        .unwrap_or_default();
    let actor = crate::content::create_actor(
        campaign,
        crate::content::NewActorRequest {
            compendium_ref: Some(suggestion.ref_key.clone()),
            name: None,
            kind: ActorKind::Monster,
            level: None,
            character_class: None,
            owner: None,
            character: None,
        },
    )
    .await?;
    super::place_token(
        campaign,
        encounter,
        NewToken {
            actor: Some(actor),
            name: suggestion.name.clone(),
            position: summary.map.cell_origin(Cell(column, 0)),
            visibility: Visibility::Visible,
            scale: 1.0,
        },
    )
    .await?;
    Ok(suggestion.name)
}

/// "Suggest monsters for the party", then "Add" on any of them.
#[component]
pub(super) fn EncounterBuilder(
    campaign: CampaignId,
    encounter: EncounterId,
    /// Bumped once a token is placed, to show the encounter again.
    changed: RwSignal<u32>,
) -> impl IntoView {
    let suggest = Action::new(move |(): &()| crate::tools::encounter_suggestions(campaign));
    let add = Action::new(move |suggestion: &Suggestion| {
        let suggestion = suggestion.clone();
        async move {
            let done = add_to_encounter(campaign, encounter, suggestion).await;
            if done.is_ok() {
                crate::storage::QueryCache::get()
                    .invalidate(&crate::storage::QueryCache::key(campaign, "actors"));
                changed.update(|n| *n += 1);
            }
            done
        }
    });
    let row = move |s: Suggestion| {
        let label = format!("Add {} to this encounter", s.name);
        let loot = if s.loot.is_empty() {
            String::new()
        } else {
            format!("drops {}", s.loot.join(", "))
        };
        let cr = shared::report::challenge_label(s.challenge_rating);
        let difficulty = s.difficulty;
        view! {
            <tr>
                <td>{s.name.clone()}</td>
                <td>{cr}</td>
                <td><span class=format!("chip difficulty-{}", difficulty.label().to_lowercase())>{difficulty.label()}</span></td>
                <td class="muted">{loot}</td>
                <td>
                    <button type="button" class="small" aria-label=label
                        disabled=move || add.pending().get()
                        on:click=move |_| { add.dispatch(s.clone()); }>"Add"</button>
                </td>
            </tr>
        }
    };
    view! {
        <section class="card encounter-builder" aria-labelledby="builder-heading" data-test="encounter-builder">
            <h2 id="builder-heading">"Encounter builder"</h2>
            <p class="muted">"Monsters from the compendium for your party's average level, from two below it to four above. Each one added becomes a monster of the campaign, placed on the top row."</p>
            <button type="button" on:click=move |_| { suggest.dispatch(()); } disabled=move || suggest.pending().get() data-test="suggest-monsters">
                "Suggest monsters for the party"
            </button>
            {move || add.value().get().map(|done| match done {
                Ok(name) => view! { <p role="status" data-test="builder-added">{format!("{name} added to the encounter.")}</p> }.into_any(),
                Err(error) => view! { <p role="alert" class="error">{error.to_string()}</p> }.into_any(),
            })}
            {move || suggest.value().get().map(|answer| match answer {
                Ok(list) if list.is_empty() => view! {
                    <p class="muted" data-test="no-suggestions">"No suggestions: the builder needs the party's characters, with their levels, and the SRD compendium."</p>
                }.into_any(),
                Ok(list) => view! {
                    <table class="suggestions" data-test="suggestions">
                        <thead><tr><th>"Monster"</th><th>"CR"</th><th>"For the party"</th><th>"Loot"</th><th></th></tr></thead>
                        <tbody>{list.into_iter().map(row).collect_view()}</tbody>
                    </table>
                }.into_any(),
                Err(error) => view! { <p role="alert" class="error">{error.to_string()}</p> }.into_any(),
            })}
        </section>
    }
    .into_any()
}
