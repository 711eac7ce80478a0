//! Beside the map: the initiative tracker, the selected token (hit points,
//! conditions, effects), and the chat and dice log.

use leptos::prelude::*;
use shared::{
    action::Action,
    chat::Said,
    effect::Effect,
    encounter::{LogKind, Phase},
    id::{EffectId, TokenId},
    rules,
    token::HpShown,
};

use super::board::BoardStoreFields;
use super::{Table, Tone};

/// Turn order, round, whose turn it is; the GM starts combat and anyone
/// whose turn it is ends it.
#[component]
pub fn Initiative() -> impl IntoView {
    let table = expect_context::<Table>();
    let initiative = move || table.with_encounter(|e| e.initiative.clone());
    let name = move |token: TokenId| {
        table
            .with_token(token, |t| t.name.clone())
            .unwrap_or_else(|| "Someone unseen".into())
    };
    // The server rolls a d20 for every token that stands for an actor
    // (scenery takes no turn) and orders them by total; or only for the
    // GM's own (no player plays them), the players rolling their own.
    let start = move |players_too: bool| {
        let Some(encounter) = table.encounter() else {
            return;
        };
        let tokens: Vec<TokenId> = table
            .board
            .tokens()
            .read_untracked()
            .values()
            .filter(|t| t.encounter == encounter)
            .filter(|t| {
                t.actor.is_some_and(|actor| {
                    players_too
                        || table
                            .with_actor(actor, |a| a.owner.is_none())
                            .unwrap_or(true)
                })
            })
            .map(|t| t.id)
            .collect();
        if tokens.is_empty() {
            table.toast(
                Tone::Bad,
                "no token on the map stands for an actor: nobody rolls".into(),
            );
            return;
        }
        table.ask(Action::RollInitiative {
            encounter,
            tokens,
            rolls: None,
        });
    };
    let end = move |_| {
        if let Some(encounter) = table.encounter() {
            table.ask(Action::EndCombat { encounter });
        }
    };
    let in_combat = move || initiative().is_some_and(|i| i.phase == Phase::Combat);
    // "Next turn" is shown to whom the rules let end it: the GM, or the
    // player whose turn it is. The reads first wake this when the turn or
    // the current token's player changes; the answer is the rule's own.
    let may_end_turn = move || {
        let Some(encounter) = table.encounter() else {
            return false;
        };
        if let Some(token) = initiative().and_then(|i| i.current())
            && let Some(Some(actor)) = table.with_token(token, |t| t.actor)
        {
            table.with_actor(actor, |a| a.owner);
        }
        table.me.get().is_some_and(|me| {
            table.with_client(|client| {
                client.view().is_some_and(|view| {
                    rules::authorize(&me, &Action::NextTurn { encounter }, view).is_ok()
                })
            })
        })
    };
    let next = move |_| {
        if let Some(encounter) = table.encounter() {
            table.ask(Action::NextTurn { encounter });
        }
    };
    // A player's tokens that have no place in the fight yet: each rolls its
    // own initiative (the server's d20) and joins the order.
    let latecomers = move || {
        let (Some(me), Some(encounter)) = (table.me.get(), table.encounter()) else {
            return Vec::new();
        };
        let Some(order) = initiative()
            .filter(|i| i.phase == Phase::Combat)
            .map(|i| i.order)
        else {
            return Vec::new();
        };
        if me.role.is_gm_or_assistant() {
            return Vec::new();
        }
        let mut mine: Vec<(TokenId, String)> = table
            .board
            .tokens()
            .read()
            .values()
            .filter(|t| t.encounter == encounter && !order.contains(&t.id))
            .filter(|t| {
                t.actor
                    .and_then(|a| table.with_actor(a, |a| a.owner))
                    .flatten()
                    == Some(me.user)
            })
            .map(|t| (t.id, t.name.clone()))
            .collect();
        mine.sort();
        mine
    };
    let join = move |token: TokenId| {
        if let Some(encounter) = table.encounter() {
            table.ask(Action::JoinInitiative {
                encounter,
                token,
                roll: None,
            });
        }
    };
    view! {
        <section class="initiative card" aria-labelledby="initiative-heading">
            {super::fold::fold("initiative", "initiative-heading", view! { {move || match initiative() {
                    Some(i) if i.phase == Phase::Combat => format!("Initiative, round {}", i.round),
                    _ => "Initiative".to_owned(),
                }} }.into_any(), view! {
            {move || {
                let Some(initiative) = initiative() else {
                    return view! { <p class="muted">"No encounter."</p> }.into_any();
                };
                if initiative.phase != Phase::Combat {
                    return view! { <p class="muted">"Not in combat."</p> }.into_any();
                }
                let current = initiative.current();
                view! {
                    <ol class="turn-order">
                        {initiative
                            .order
                            .iter()
                            .map(|token| {
                                let token = *token;
                                let now = current == Some(token);
                                let total = initiative.totals.get(&token).copied();
                                view! {
                                    <li class:current=now aria-current=now.then_some("true")>
                                        <span class="name">{move || name(token)}</span>
                                        {total.map(|total| view! { <span class="total" data-test="initiative-total">{total}</span> })}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ol>
                }
                .into_any()
            }}
            <div class="initiative-actions">
                <Show when=move || table.is_gm_or_assistant()>
                    <button type="button" on:click=move |_| start(true) data-test="roll-initiative"
                        title="The server rolls a d20 for every token that stands for an actor">
                        {move || if in_combat() { "Roll again" } else { "Roll for all" }}
                    </button>
                    <Show when=move || !in_combat()>
                        <button type="button" class="secondary" on:click=move |_| start(false) data-test="roll-initiative-gm"
                            title="The server rolls for the GM's tokens; each player rolls for their own">
                            "Mine only"
                        </button>
                    </Show>
                    <Show when=in_combat>
                        <button type="button" on:click=end>"End combat"</button>
                    </Show>
                </Show>
                <Show when=move || in_combat() && may_end_turn()>
                    <button type="button" on:click=next data-test="next-turn">"Next turn"</button>
                </Show>
                {move || latecomers().into_iter().map(|(token, name)| view! {
                    <button type="button" data-test="join-initiative" on:click=move |_| join(token)>
                        {format!("Roll initiative for {name}")}
                    </button>
                }).collect_view()}
            </div>
            }.into_any())}
        </section>
    }
    .into_any()
}

/// The selected token: name, hit points, conditions, effects, and what I
/// may do to it.
#[component]
pub fn SelectedToken() -> impl IntoView {
    let table = expect_context::<Table>();
    let token = move || {
        let id = table.selected.get()?;
        table.with_token(id, Clone::clone)
    };
    let actor = move || {
        let actor = token()?.actor?;
        table.with_actor(actor, Clone::clone)
    };
    let amount = RwSignal::new("1".to_owned());
    let condition = RwSignal::new(String::new());
    let effect_name = RwSignal::new(String::new());
    let effect_rounds = RwSignal::new("10".to_owned());
    let hp = move |sign: i64| {
        let Some(actor) = actor() else { return };
        match amount.get_untracked().trim().parse::<i64>() {
            Ok(n) if n > 0 => table.ask(Action::AdjustHp {
                actor: actor.id,
                delta: sign * n,
            }),
            _ => table.toast(Tone::Bad, "enter a positive number of hit points".into()),
        }
    };
    let add_condition = move |_| {
        let Some(token) = table.selected.get_untracked() else {
            return;
        };
        let name = condition.get_untracked().trim().to_lowercase();
        if name.is_empty() {
            return;
        }
        table.ask(Action::AddCondition {
            token,
            condition: name,
        });
        condition.set(String::new());
    };
    let add_effect = move |_| {
        let Some(token) = table.selected.get_untracked() else {
            return;
        };
        let name = effect_name.get_untracked().trim().to_owned();
        if name.is_empty() {
            return;
        }
        let rounds = effect_rounds.get_untracked().trim().parse::<u32>().ok();
        table.ask(Action::ApplyEffect {
            effect: Effect {
                id: EffectId(super::new_action_id().0),
                name,
                targets: [token].into(),
                remaining_rounds: rounds,
                source: None,
                properties: Default::default(),
            },
        });
        effect_name.set(String::new());
    };
    let effects = move || {
        let Some(id) = table.selected.get() else {
            return Vec::new();
        };
        // Which effects exist, then each one read through its own entry
        // (so a round counting down wakes this list).
        let ids: Vec<EffectId> = table.board.effects().read().keys().copied().collect();
        ids.into_iter()
            .filter_map(|effect| {
                table
                    .board
                    .effects()
                    .at_key(effect)
                    .try_with(|e| e.targets.contains(&id).then(|| e.clone()))
                    .flatten()
            })
            .collect::<Vec<_>>()
    };
    // Turning is offered to whoever may move the token (the map's rule).
    let may_turn = move || {
        let (Some(me), Some(id)) = (table.me.get(), table.selected.get()) else {
            return false;
        };
        table.with_token(id, |_| ());
        table.with_client(|client| {
            client
                .view()
                .is_some_and(|view| rules::may_move_token(&me, view, id))
        })
    };
    let turn = move |by: f64| {
        let Some(id) = table.selected.get_untracked() else {
            return;
        };
        let now = table.with_token(id, |t| t.rotation).unwrap_or(0.0);
        table.ask(Action::RotateToken {
            token: id,
            degrees: now + by,
        });
    };
    let visibility = move |visibility: shared::token::Visibility| {
        if let Some(token) = table.selected.get_untracked() {
            table.ask(Action::SetVisibility { token, visibility });
        }
    };
    // Who reads the actor's hit points: the token's choice, or its kind's
    // default.
    let hp_shown = move || {
        let token = token()?;
        let kind = actor()?.kind;
        Some(token.hp_shown_for(kind))
    };
    let set_hp_shown = move |ev: leptos::ev::Event| {
        let (Some(token), Ok(shown)) = (
            table.selected.get_untracked(),
            event_target_value(&ev).parse::<HpShown>(),
        ) else {
            return;
        };
        table.ask(Action::SetHpShown { token, shown });
    };
    let duplicate = move |_| {
        if let Some(t) = token() {
            super::place::duplicate(table, &t);
        }
    };
    let remove = move |_| {
        if let Some(token) = table.selected.get_untracked() {
            table.ask(Action::RemoveToken { token });
            table.selected.set(None);
        }
    };
    let gm_controls = move || {
        view! {
                <Show when=move || table.is_gm_or_assistant()>
                    <div class="token-tools" role="group" aria-label="The token itself">
                        <button type="button" class="small" data-test="duplicate-token" on:click=duplicate
                            title="Another token of the same actor, one cell to the right">"Duplicate"</button>
                        <button type="button" class="small reject" data-test="remove-token" on:click=remove>"Remove from the map"</button>
                    </div>
                    <div class="visibility" role="group" aria-label="Who sees this token">
                        <button type="button" on:click=move |_| visibility(shared::token::Visibility::Visible)>"Visible"</button>
                        <button type="button" on:click=move |_| visibility(shared::token::Visibility::GmOnly)>"GM only"</button>
                        <button type="button" on:click=move |_| visibility(shared::token::Visibility::Hidden)>"Hidden"</button>
                    </div>
                    <crate::table::sight::TokenSight />
                    <Show when=move || hp_shown().is_some()>
                        <label class="hp-shown">"Hit points shown to "
                            <select data-test="hp-shown" on:change=set_hp_shown>
                                {HpShown::ALL.into_iter().map(|choice| view! {
                                    <option value=choice.slug() selected=move || hp_shown() == Some(choice)>{choice.label()}</option>
                                }).collect_view()}
                            </select>
                        </label>
                    </Show>
                </Show>
    }
        .into_any()
    };
    view! {
        <section class="selected card" aria-labelledby="selected-heading" data-test="selected-token">
            {super::fold::fold("selected", "selected-heading", view! { {move || token().map(|t| t.name).unwrap_or_else(|| "No token selected".into())} }.into_any(), view! {
            {move || {
                let grouped = table.group.with(std::collections::BTreeSet::len);
                (grouped > 1).then(|| view! {
                    <p class="muted" data-test="group-hint">
                        {format!("{grouped} tokens selected: drag one to move them together (Escape to let go).")}
                    </p>
                })
            }}
            <Show when=move || token().is_some()>
                {move || actor().map(|actor| view! {
                    <p class="hp" data-test="hp">
                        {match actor.hp {
                            Some(hp) => format!(
                                "HP {} / {}{}",
                                hp.current,
                                hp.max,
                                if hp.temp > 0 { format!(" (+{} temporary)", hp.temp) } else { String::new() }
                            ),
                            None => "HP known to the GM".to_owned(),
                        }}
                    </p>
                    <div class="hp-controls">
                        <label>"Amount " <input type="number" min="1" size="4" bind:value=amount /></label>
                        <button type="button" on:click=move |_| hp(-1)>"Damage"</button>
                        <button type="button" on:click=move |_| hp(1)>"Heal"</button>
                    </div>
                })}
                <Show when=may_turn>
                    <div class="turn-token" role="group" aria-label="Turn the token">
                        <button type="button" class="small" data-test="turn-left" aria-label="Turn 45 degrees left" on:click=move |_| turn(-45.0)>"⟲ 45°"</button>
                        <button type="button" class="small" data-test="turn-right" aria-label="Turn 45 degrees right" on:click=move |_| turn(45.0)>"⟳ 45°"</button>
                    </div>
                </Show>
                <div class="conditions">
                    <h3>"Conditions"</h3>
                    <ul>
                        {move || token().map(|t| t.conditions.into_iter().map(|c| {
                            let name = c.clone();
                            let remove = move |_| {
                                if let Some(token) = table.selected.get_untracked() {
                                    table.ask(Action::RemoveCondition { token, condition: name.clone() });
                                }
                            };
                            view! {
                                <li class="chip">
                                    {c.clone()}
                                    <button type="button" class="small" aria-label=format!("Remove {c}") on:click=remove>"×"</button>
                                </li>
                            }
                        }).collect_view())}
                    </ul>
                    <label>"Add " <input type="text" placeholder="prone" bind:value=condition /></label>
                    <button type="button" on:click=add_condition>"Add condition"</button>
                </div>
                <div class="effects">
                    <h3>"Effects"</h3>
                    <ul>
                        {move || effects().into_iter().map(|e| {
                            let id = e.id;
                            view! {
                                <li class="chip">
                                    {match e.remaining_rounds {
                                        Some(n) => format!("{} ({n} rounds)", e.name),
                                        None => e.name.clone(),
                                    }}
                                    <button type="button" class="small" aria-label=format!("End {}", e.name) on:click=move |_| table.ask(Action::EndEffect { effect: id })>"×"</button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                    <label>"Effect " <input type="text" placeholder="Bless" bind:value=effect_name /></label>
                    <label>"Rounds " <input type="number" min="1" size="3" bind:value=effect_rounds /></label>
                    <button type="button" on:click=add_effect>"Add effect"</button>
                </div>
                {gm_controls}
            </Show>
            }.into_any())}
        </section>
    }
    .into_any()
}

/// Chat and dice: the encounter's log, and a line to write in. `/r 1d20+5`
/// rolls (on the server; the forms are [`shared::dice`]'s).
#[component]
pub fn Log() -> impl IntoView {
    let table = expect_context::<Table>();
    let line = RwSignal::new(String::new());
    // The last hundred lines, each keyed by who said what and how many
    // times before in the window: not by place, which at the log's cap
    // stays the same while the lines under it move on.
    let entries = move || {
        table
            .with_encounter(|e| {
                let skip = e.log.len().saturating_sub(100);
                let mut said: std::collections::HashMap<(Option<shared::id::UserId>, &str), usize> =
                    std::collections::HashMap::new();
                e.log
                    .iter()
                    .skip(skip)
                    .map(|line| {
                        let before = said.entry((line.by, line.text.as_str())).or_default();
                        let key = (line.by, line.text.clone(), *before);
                        *before += 1;
                        (key, line.clone())
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    let name = move |by: Option<shared::id::UserId>| match by {
        Some(user) => table
            .names
            .get()
            .get(&user)
            .cloned()
            .unwrap_or_else(|| "Someone".into()),
        None => "Table".into(),
    };
    let send = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        let text = line.get_untracked().trim().to_owned();
        let Some(encounter) = table.encounter() else {
            return;
        };
        if text.is_empty() {
            return;
        }
        let members: Vec<(shared::id::UserId, String)> = table
            .names
            .with_untracked(|names| names.iter().map(|(id, name)| (*id, name.clone())).collect());
        let action = match shared::chat::read_line(&text, &members) {
            Ok(Said::Chat { text, to }) => Action::Chat {
                encounter,
                text,
                to,
                rolls: Vec::new(),
            },
            Ok(Said::Roll { dice, secrecy }) => Action::Roll {
                encounter,
                dice,
                roll: None,
                secrecy,
            },
            Err(problem) => {
                // Kept in the box, to be corrected.
                table.toast(Tone::Bad, problem);
                return;
            }
        };
        table.ask(action);
        line.set(String::new());
    };
    view! {
        <section class="log card" aria-labelledby="log-heading">
            {super::fold::fold("log", "log-heading", view! { "Chat and dice" }.into_any(), view! {
            // A new line adds one element (and one announcement), the
            // others stay as they are.
            <ol class="log-lines" role="log" aria-live="polite" data-test="log">
                <For
                    each=entries
                    key=|(key, _)| key.clone()
                    let:line
                >
                    {
                        let (_, entry) = line;
                        let class = match entry.kind {
                            LogKind::Chat => "chat",
                            LogKind::Roll => "roll",
                            LogKind::Event => "event",
                            LogKind::Handout => "handout",
                        };
                        let by = entry.by;
                        let handout = entry.handout.clone();
                        // A whisper or secret roll says who reads it.
                        let kind = entry.kind;
                        let private = entry.to.clone().map(|to| {
                            let alone = to.is_empty();
                            let others: Vec<shared::id::UserId> =
                                to.into_iter().filter(|u| Some(*u) != by).collect();
                            move || match (kind, alone, others.is_empty()) {
                                (LogKind::Roll, true, _) => "(blind) ".to_owned(),
                                (LogKind::Roll, false, _) => "(GM roll) ".to_owned(),
                                (LogKind::Handout, _, _) => {
                                    let readers: Vec<String> =
                                        others.iter().map(|u| name(Some(*u))).collect();
                                    format!("(for {}) ", readers.join(", "))
                                }
                                (_, _, true) => "(whisper to the GM) ".to_owned(),
                                (_, _, false) => {
                                    let readers: Vec<String> =
                                        others.iter().map(|u| name(Some(*u))).collect();
                                    format!("(whisper to {}) ", readers.join(", "))
                                }
                            }
                        });
                        let class = if private.is_some() { format!("{class} private") } else { class.to_owned() };
                        view! {
                            <li class=class>
                                <strong>{move || name(by)}</strong>
                                ": "
                                {private.map(|p| view! { <em class="private-mark">{p}</em> })}
                                {entry.text}
                                {handout.map(|handout| view! {
                                    " "
                                    <button type="button" class="link" data-test="log-handout"
                                        on:click=move |_| table.viewing.set(Some(handout.clone()))>
                                        "Open"
                                    </button>
                                })}
                            </li>
                        }
                    }
                </For>
            </ol>
            <form on:submit=send>
                <label for="log-line" class="visually-hidden">"Say something, or /r 1d20 to roll"</label>
                <input id="log-line" type="text" bind:value=line placeholder="Say something, or /r 1d20+5 to hit" autocomplete="off"
                    title="/r rolls dice on the server: 1d20+5, adv+5 or dis, 4d6kh3 (keep highest; kl, dh, dl), 1d6! (explode), 1d6r1 (reroll ones), parts with labels: 1d20+5 to hit, 2d6+3 slashing; [[1d20+3]] rolls inside a line. /gmr rolls for you and the GM, /br for the GM alone; /w Name text whispers (/w gm text to the GM)" />
                <button type="submit">"Send"</button>
            </form>
            }.into_any())}
        </section>
    }
    .into_any()
}
