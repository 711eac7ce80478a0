//! The sheet at the table: the selected token's actor (or, for a player
//! with nothing selected, the first character they play), with a button
//! for every ability check, save and skill, and its numbers to change.
//!
//! Everything here is an action: a check is rolled by the server with the
//! live actor's bonus and lands in the log; a changed number or
//! proficiency goes through the GM's approval rules (`Sheets`) like any
//! other request, and is written back to the campaign when the session
//! ends.

use leptos::prelude::*;
use shared::{
    action::Action,
    actor::{Actor, modifier},
    id::ActorId,
    sheet::{Ability, Check, Edge, Skill, Stat},
};

use super::board::BoardStoreFields;
use super::{Table, Tone};

/// The sheet panel; nothing when there is no sheet I may use.
#[component]
pub fn TableSheet() -> impl IntoView {
    let table = expect_context::<Table>();
    let shown = Memo::new(move |_| shown_actor(table));
    let edge = RwSignal::new(Edge::Normal);
    move || {
        shown.get().map(|id| {
            let actor = move || table.with_actor(id, Clone::clone);
            let name = move || actor().map(|a| a.name).unwrap_or_default();
            let edges = edge_picker(edge);
            let abilities = abilities(table, id, edge);
            let skills = skills(table, id, edge);
            let attacks = attacks(table, id, edge);
            let numbers = numbers(table, id);
            view! {
                <section class="table-sheet card" aria-labelledby="table-sheet-heading" data-test="table-sheet">
                    {super::fold::fold("sheet", "table-sheet-heading", view! { {move || format!("{}: sheet", name())} }.into_any(), view! {
                    {edges}
                    {attacks}
                    {abilities}
                    {skills}
                    {numbers}
                    }.into_any())}
                </section>
            }
            .into_any()
        })
    }
}

/// Whose sheet the panel shows: the selected token's actor if I may use
/// it (the GM any, a player their own), else a player's first character.
fn shown_actor(table: Table) -> Option<ActorId> {
    let me = table.me.get()?;
    if me.role == shared::rules::Role::Observer {
        return None;
    }
    let mine = |actor: &Actor| me.role.is_gm_or_assistant() || actor.owner == Some(me.user);
    let selected = table
        .selected
        .get()
        .and_then(|token| table.with_token(token, |t| t.actor))
        .flatten()
        .filter(|actor| table.with_actor(*actor, mine).unwrap_or(false));
    selected.or_else(|| {
        if me.role.is_gm_or_assistant() {
            return None;
        }
        table
            .board
            .actors()
            .read()
            .values()
            .find(|a| a.owner == Some(me.user))
            .map(|a| a.id)
    })
}

fn edge_picker(edge: RwSignal<Edge>) -> AnyView {
    let option = move |value: Edge, label: &'static str| {
        view! {
            <label class="edge-option">
                <input type="radio" name="sheet-edge"
                    prop:checked=move || edge.get() == value
                    on:change=move |_| edge.set(value) />
                {label}
            </label>
        }
    };
    view! {
        <div class="edge" role="radiogroup" aria-label="Roll with">
            {option(Edge::Normal, "Normal")}
            {option(Edge::Advantage, "Advantage")}
            {option(Edge::Disadvantage, "Disadvantage")}
        </div>
    }
    .into_any()
}

/// A button that rolls `check` for the actor, showing its bonus.
fn roll_button(table: Table, actor: ActorId, check: Check, edge: RwSignal<Edge>) -> AnyView {
    let bonus = move || {
        table
            .with_actor(actor, |a| check.bonus(a))
            .unwrap_or_default()
    };
    let roll = move |_| {
        let Some(encounter) = table.encounter() else {
            table.toast(Tone::Bad, "there is no table to roll at".into());
            return;
        };
        table.ask(Action::RollCheck {
            encounter,
            actor,
            check,
            edge: edge.get_untracked(),
            rolls: None,
        });
    };
    view! {
        <button type="button" class="roll" data-check=check.to_string()
            aria-label=move || format!("Roll {}, {:+}", check.label(), bonus())
            on:click=roll>
            {move || format!("{:+}", bonus())}
        </button>
    }
    .into_any()
}

/// A checkbox that makes the actor proficient in `check`, or no longer.
fn proficiency_box(table: Table, actor: ActorId, check: Check) -> AnyView {
    let proficient = move || {
        table
            .with_actor(actor, |a| a.proficiencies.contains(&check))
            .unwrap_or(false)
    };
    view! {
        <input type="checkbox" class="proficient" data-proficiency=check.to_string()
            aria-label=format!("Proficient in {}", check.label())
            prop:checked=proficient
            on:change=move |e| table.ask(Action::SetProficiency {
                actor,
                check,
                proficient: event_target_checked(&e),
            }) />
    }
    .into_any()
}

/// A number input that asks to set `stat` when it changes.
fn stat_input(table: Table, actor: ActorId, stat: Stat) -> AnyView {
    let value = move || {
        table
            .with_actor(actor, |a| stat.value(a))
            .flatten()
            .map(|v| v.to_string())
            .unwrap_or_default()
    };
    let (low, high) = (*stat.range().start(), *stat.range().end());
    let change = move |e: leptos::ev::Event| {
        let raw = event_target_value(&e);
        match raw
            .trim()
            .parse::<i64>()
            .map_err(|_| ())
            .and_then(|v| stat.check(v).map_err(|_| ()))
        {
            Ok(value) => table.ask(Action::SetStat { actor, stat, value }),
            Err(()) => table.toast(
                Tone::Bad,
                format!("{} is from {low} to {high}", stat.label()),
            ),
        }
    };
    view! {
        <input type="number" class="stat" data-stat=stat.key()
            min=low max=high
            // A blank score counts as 10.
            placeholder=matches!(stat, Stat::Ability(_)).then_some("10")
            aria-label=stat.label()
            prop:value=value
            on:change=change />
    }
    .into_any()
}

fn abilities(table: Table, actor: ActorId, edge: RwSignal<Edge>) -> AnyView {
    let rows = Ability::ALL
        .into_iter()
        .map(|ability| {
            let score = move || {
                table
                    .with_actor(actor, |a| a.stats.get(ability.name()).copied())
                    .flatten()
                    .unwrap_or(10)
            };
            view! {
                <tr>
                    <th scope="row">{ability.title()}</th>
                    <td>{stat_input(table, actor, Stat::Ability(ability))}</td>
                    <td class="muted">{move || format!("{:+}", modifier(score()))}</td>
                    <td>{roll_button(table, actor, Check::Ability(ability), edge)}</td>
                    <td class="save">
                        {proficiency_box(table, actor, Check::Save(ability))}
                        {roll_button(table, actor, Check::Save(ability), edge)}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="sheet-abilities">
            <caption class="visually-hidden">"Abilities: score, modifier, check and save"</caption>
            <thead><tr>
                <th scope="col">"Ability"</th><th scope="col">"Score"</th><th scope="col">"Mod"</th>
                <th scope="col">"Check"</th><th scope="col">"Save"</th>
            </tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

/// The actor's attacks: a button each rolls to hit and damage.
fn attacks(table: Table, actor: ActorId, edge: RwSignal<Edge>) -> AnyView {
    let list = move || {
        table
            .with_actor(actor, |a| {
                a.attacks
                    .iter()
                    .enumerate()
                    .map(|(index, attack)| {
                        let damage = attack
                            .damage_expression(a, false)
                            .map(|d| d.to_string())
                            .unwrap_or_default();
                        // The button says what the roll is against: a
                        // bonus to hit, the DC a target saves against, or
                        // nothing for a spell that simply hits.
                        let (button, aria) = if attack.rolls_to_hit() {
                            let to_hit = attack.to_hit(a);
                            (
                                format!("{to_hit:+}"),
                                format!("Attack with {}, {to_hit:+} to hit", attack.name),
                            )
                        } else if let Some((ability, dc)) = attack.save(a) {
                            (
                                format!("DC {dc}"),
                                format!("Cast {}, DC {dc} {} save", attack.name, ability.title()),
                            )
                        } else {
                            ("Cast".to_owned(), format!("Cast {}", attack.name))
                        };
                        (
                            index,
                            attack.name.clone(),
                            button,
                            aria,
                            damage,
                            attack.damage_type.clone(),
                            attack.area,
                        )
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    (move || {
        let rows = list();
        (!rows.is_empty()).then(|| {
            let rows = rows
                .into_iter()
                .map(|(index, name, button, aria, damage, kind, area)| {
                    let roll = move |_| {
                        let Some(encounter) = table.encounter() else {
                            return;
                        };
                        table.ask(Action::RollAttack {
                            encounter,
                            actor,
                            attack: index,
                            edge: edge.get_untracked(),
                            rolls: None,
                        });
                    };
                    // A spell with an area offers its template.
                    let aim = area.map(|shape| {
                        let spell = name.clone();
                        let title = format!("Place {spell}'s {} on the map", shape.label());
                        view! {
                            <button type="button" class="aim" data-test="aim" title=title.clone()
                                aria-label=title
                                on:click=move |_| table.aim(shape, Some(spell.clone()))>
                                {format!("\u{25ce} {}", shape.label())}
                            </button>
                        }
                    });
                    view! {
                        <li>
                            <span class="attack-name">{name.clone()}</span>
                            <span class="muted">{format!(" {damage} {kind}")}</span>
                            <button type="button" class="roll" data-attack=index
                                aria-label=aria.clone() title=aria
                                on:click=roll>
                                {button}
                            </button>
                            {aim}
                        </li>
                    }
                })
                .collect_view();
            view! {
                <h3>"Attacks and spells"</h3>
                <ul class="attack-list" data-test="attacks">{rows}</ul>
            }
        })
    })
    .into_any()
}

fn skills(table: Table, actor: ActorId, edge: RwSignal<Edge>) -> AnyView {
    let rows = Skill::all()
        .map(|skill| {
            let check = Check::Skill(skill);
            view! {
                <li>
                    {proficiency_box(table, actor, check)}
                    <span class="skill-name">{check.label()}</span>
                    <span class="muted">{format!(" ({})", skill.ability().short().to_uppercase())}</span>
                    {roll_button(table, actor, check, edge)}
                </li>
            }
        })
        .collect_view();
    view! {
        <details class="sheet-skills" open>
            <summary>"Skills"</summary>
            <ul class="skill-list">{rows}</ul>
        </details>
    }
    .into_any()
}

fn numbers(table: Table, actor: ActorId) -> AnyView {
    let fields = [
        Stat::ArmorClass,
        Stat::Speed,
        Stat::Hp,
        Stat::HpMax,
        Stat::HpTemp,
        Stat::ProficiencyBonus,
    ]
    .into_iter()
    .map(|stat| {
        view! {
            <label class="field">{stat.label()} {stat_input(table, actor, stat)}</label>
        }
    })
    .collect_view();
    view! {
        <details class="sheet-numbers">
            <summary>"Armor, speed, hit points"</summary>
            <div class="sheet-number-fields">{fields}</div>
        </details>
    }
    .into_any()
}
