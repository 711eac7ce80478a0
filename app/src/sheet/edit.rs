//! The sheet page's editor, for the actor's player and the GM, between
//! sessions: every field saves on its own (`actors/update_sheet`), and the
//! sheet is read again so that what shows is what is stored. While a
//! session runs the server refuses, and says to change it at the table.

use leptos::prelude::*;
use shared::{
    actor::Statblock,
    id::{ActorId, CampaignId, MediaId},
    sheet::{Ability, Attack, Check, MAX_NOTES_CHARS, SheetChange, Skill, Spell, Stat},
};

use crate::content::update_sheet;

/// How an attack reads in a list: `Longsword (1d8 slashing)`, `Fireball
/// (Dexterity save, 8d6 fire)`.
pub fn attack_label(attack: &Attack) -> String {
    let lands = match attack.spell {
        None => String::new(),
        Some(Spell::Attack { .. }) => "spell attack, ".into(),
        Some(Spell::Save { ability, .. }) => format!("{} save, ", ability.title()),
        Some(Spell::Hits) => "always hits, ".into(),
    };
    format!(
        "{} ({lands}{} {})",
        attack.name, attack.damage, attack.damage_type
    )
}

/// A menu that adds one of `choices` to the sheet.
fn add_menu(
    label: &'static str,
    test: &'static str,
    choices: RwSignal<Vec<Attack>>,
    save: Action<SheetChange, Result<(), crate::AppError>>,
) -> impl IntoView {
    view! {
        <label class="field">{label}
            <select data-test=test on:change=move |e| {
                let chosen = event_target_value(&e);
                let found = choices.with_untracked(|all| all.iter().find(|w| w.name == chosen).cloned());
                if let Some(attack) = found {
                    save.dispatch(SheetChange::AddAttack { attack });
                }
            }>
                <option value="">"Choose from the compendium…"</option>
                {move || choices.get().into_iter().map(|w| view! {
                    <option value=w.name.clone()>{attack_label(&w)}</option>
                }).collect_view()}
            </select>
        </label>
    }
}

/// The sheet's attacks and spells, each with a button that takes it off,
/// and menus of the compendium's weapons and damaging spells to add one.
/// The choices are fetched once hydrated (by an effect the server never
/// runs), so the server's HTML and the hydrating page agree.
fn attack_list(
    stats: &Statblock,
    save: Action<SheetChange, Result<(), crate::AppError>>,
) -> AnyView {
    let weapons = RwSignal::new(Vec::<Attack>::new());
    let spells = RwSignal::new(Vec::<Attack>::new());
    Effect::new(move |_| {
        leptos::task::spawn_local(async move {
            if let Ok(options) = crate::content::character_options().await {
                weapons.set(options.weapons);
                spells.set(options.spells);
            }
        });
    });
    let kept = stats
        .attacks
        .iter()
        .enumerate()
        .map(|(index, attack)| {
            let name = attack.name.clone();
            view! {
                <li>
                    {attack_label(attack)}
                    <button type="button" class="small" aria-label=format!("Remove {name}")
                        on:click=move |_| { save.dispatch(SheetChange::RemoveAttack { index }); }>
                        "×"
                    </button>
                </li>
            }
        })
        .collect_view();
    let empty = stats.attacks.is_empty();
    view! {
        {if empty {
            view! { <p class="muted">"No attacks or spells yet."</p> }.into_any()
        } else {
            view! { <ul class="chips attack-chips" data-test="sheet-attacks">{kept}</ul> }.into_any()
        }}
        <div class="row">
            {add_menu("Add a weapon", "add-weapon", weapons, save)}
            {add_menu("Add a spell", "add-spell", spells, save)}
        </div>
    }
    .into_any()
}

/// The editor.
#[component]
pub fn SheetEditor(
    campaign: CampaignId,
    actor: ActorId,
    stats: Statblock,
    /// Bumped once a change is saved, to read the sheet again.
    moved: RwSignal<u32>,
    /// The last save's outcome, kept by the page across the sheet drawn
    /// again.
    saved: RwSignal<Option<Result<String, crate::AppError>>>,
) -> impl IntoView {
    let save: Action<SheetChange, Result<(), crate::AppError>> =
        Action::new(move |change: &SheetChange| {
            let change = change.clone();
            async move {
                // The notes show nowhere else: nothing to read again.
                let notes = matches!(change, SheetChange::Notes { .. });
                let what = match &change {
                    SheetChange::Stat { stat, .. } => stat.label(),
                    SheetChange::Proficiency { check, .. } => check.label(),
                    SheetChange::Notes { .. } => "the notes".into(),
                    SheetChange::AddAttack { attack } => attack.name.clone(),
                    SheetChange::RemoveAttack { .. } => "the attacks".into(),
                    SheetChange::Portrait { .. } => "the portrait".into(),
                };
                let done = update_sheet(campaign, actor, change).await;
                saved.set(Some(done.clone().map(|()| what)));
                if done.is_ok() && !notes {
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
        {number(Stat::Hp, stats.hp.map(|hp| hp.current))}
        {number(Stat::HpMax, stats.hp.map(|hp| hp.max))}
        {number(Stat::HpTemp, stats.hp.map(|hp| hp.temp))}
        {number(Stat::ProficiencyBonus, stats.proficiency_bonus)}
        {number(Stat::Initiative, stats.initiative)}
    }
    .into_any();
    let attacks = attack_list(&stats, save);
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
    let portrait = stats.portrait;
    let portrait_part = view! {
        <label class="field">"Portrait (also the art on its tokens)"
            <select data-edit="portrait" on:change=move |ev| {
                let portrait = event_target_value(&ev).parse::<uuid::Uuid>().ok().map(MediaId);
                save.dispatch(SheetChange::Portrait { portrait });
            }>
                <option value="">"None (initials)"</option>
                <crate::media::ImageOptions campaign selected=portrait />
            </select>
        </label>
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
            <fieldset><legend>"Attacks"</legend>{attacks}</fieldset>
            {portrait_part}
            {notes_part}
            {move || saved.get().map(|done| match done {
                Ok(what) => view! { <p role="status" class="muted" data-test="sheet-saved">{format!("Saved: {what}.")}</p> }.into_any(),
                Err(error) => view! { <p role="alert" class="error" data-test="sheet-error">{error.to_string()}</p> }.into_any(),
            })}
        </section>
    }
    .into_any()
}
