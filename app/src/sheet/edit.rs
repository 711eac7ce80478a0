//! The sheet page's editor, for the actor's player and the GM, between
//! sessions: every field saves on its own (`actors/update_sheet`), and the
//! sheet is read again so that what shows is what is stored. While a
//! session runs the server refuses, and says to change it at the table.

use leptos::prelude::*;
use shared::{
    actor::Statblock,
    id::{ActorId, CampaignId},
    sheet::{Ability, Check, MAX_NOTES_CHARS, SheetChange, Skill, Stat},
};

use crate::content::update_sheet;

/// The editor.
#[component]
pub fn SheetEditor(
    campaign: CampaignId,
    actor: ActorId,
    stats: Statblock,
    /// Bumped once a change is saved, to read the sheet again.
    moved: RwSignal<u32>,
) -> impl IntoView {
    let save = Action::new(move |change: &SheetChange| {
        let change = change.clone();
        async move {
            let done = update_sheet(campaign, actor, change).await;
            if done.is_ok() {
                moved.update(|n| *n += 1);
            }
            done
        }
    });
    let score = |ability: Ability| {
        stats
            .abilities
            .iter()
            .find(|(name, _)| *name == ability.name())
            .map_or(10, |(_, score)| *score)
    };
    let number = move |stat: Stat, value: Option<i64>| {
        let (low, high) = (*stat.range().start(), *stat.range().end());
        view! {
            <label class="field">
                {stat.label()}
                <input type="number" min=low max=high data-edit=stat.key()
                    value=value.map(|v| v.to_string()).unwrap_or_default()
                    on:change=move |e| {
                        if let Ok(value) = event_target_value(&e).trim().parse::<i64>() {
                            save.dispatch(SheetChange::Stat { stat, value });
                        }
                    } />
            </label>
        }
    };
    let proficiency = move |check: Check, proficient: bool| {
        view! {
            <label class="check">
                <input type="checkbox" checked=proficient data-edit=check.to_string()
                    on:change=move |e| {
                        save.dispatch(SheetChange::Proficiency { check, proficient: event_target_checked(&e) });
                    } />
                {check.label()}
            </label>
        }
    };
    let abilities = Ability::ALL
        .into_iter()
        .map(|ability| number(Stat::Ability(ability), Some(score(ability))))
        .collect_view();
    let saves = Ability::ALL
        .into_iter()
        .map(|ability| {
            let check = Check::Save(ability);
            proficiency(check, stats.proficiencies.contains(&check))
        })
        .collect_view();
    let skills = Skill::all()
        .map(|skill| {
            let check = Check::Skill(skill);
            proficiency(check, stats.proficiencies.contains(&check))
        })
        .collect_view();
    let numbers = view! {
        {number(Stat::ArmorClass, stats.armor_class)}
        {number(Stat::Speed, stats.speed.map(i64::from))}
        {number(Stat::HpMax, stats.hp.map(|hp| hp.max))}
        {number(Stat::HpTemp, stats.hp.map(|hp| hp.temp))}
        {number(Stat::ProficiencyBonus, stats.proficiency_bonus)}
        {number(Stat::Initiative, stats.initiative)}
    }
    .into_any();
    let notes = RwSignal::new(stats.notes.clone());
    let notes_part = view! {
        <label class="field notes">"Notes"
            <textarea rows="5" maxlength=MAX_NOTES_CHARS data-edit="notes" bind:value=notes></textarea>
        </label>
        <button type="button" data-test="save-notes"
            on:click=move |_| { save.dispatch(SheetChange::Notes { text: notes.get_untracked() }); }>
            "Save the notes"
        </button>
    }
    .into_any();
    view! {
        <section class="card sheet-editor" aria-labelledby="sheet-editor-heading" data-test="sheet-editor">
            <h2 id="sheet-editor-heading">"Change the sheet"</h2>
            <p class="muted">"Each field is saved when you leave it. During a session, change the sheet at the table."</p>
            <fieldset><legend>"Ability scores"</legend><div class="sheet-number-fields">{abilities}</div></fieldset>
            <fieldset><legend>"Armor, speed, hit points"</legend><div class="sheet-number-fields">{numbers}</div></fieldset>
            <fieldset><legend>"Saving throws"</legend><div class="checks">{saves}</div></fieldset>
            <fieldset><legend>"Skills"</legend><div class="checks">{skills}</div></fieldset>
            {notes_part}
            {move || save.value().get().map(|done| match done {
                Ok(()) => view! { <p role="status" class="muted" data-test="sheet-saved">"Saved."</p> }.into_any(),
                Err(error) => view! { <p role="alert" class="error" data-test="sheet-error">{error.to_string()}</p> }.into_any(),
            })}
        </section>
    }
    .into_any()
}
