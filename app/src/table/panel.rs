//! The GM panel: the requests waiting for a decision (approve, modify,
//! reject with a reason, several at once), the session's auto-approval
//! rules, assistant GMs, and who is connected.

use std::collections::BTreeSet;

use leptos::prelude::*;
use shared::{
    action::{Action, ActionKind},
    id::{ActionId, UserId},
    protocol::{ClientMessage, GmDecision, QueuedRequest, Verdict},
    rules::{ApprovalPolicy, AutoApprove, Role},
};

use super::board::BoardStoreFields;
use super::{Table, describe};

/// The panel, for the GM and assistant GMs.
#[component]
pub fn GmPanel() -> impl IntoView {
    view! {
        <section class="gm-panel card" aria-labelledby="gm-panel-heading" data-test="gm-panel">
            <h2 id="gm-panel-heading">"GM panel"</h2>
            <Queue />
            <Rules />
            <Participants />
        </section>
    }
    .into_any()
}

/// The requests waiting for a decision, oldest first.
#[component]
fn Queue() -> impl IntoView {
    let table = expect_context::<Table>();
    let chosen = RwSignal::new(BTreeSet::<ActionId>::new());
    let approve = move |ids: Vec<ActionId>| {
        for action in ids {
            table.decide(GmDecision {
                action,
                verdict: Verdict::Approve,
            });
        }
        chosen.set(BTreeSet::new());
    };
    let approve_chosen = move |_| approve(chosen.get_untracked().into_iter().collect());
    let approve_all = move |_| {
        approve(
            table
                .queue
                .get_untracked()
                .iter()
                .map(|q| q.request.id)
                .collect(),
        )
    };
    view! {
        <div class="queue" aria-live="polite">
            <h3>{move || format!("Waiting for you ({})", table.queue.get().len())}</h3>
            <Show
                when=move || !table.queue.get().is_empty()
                fallback=|| view! { <p class="muted">"Nothing waits for a decision."</p> }
            >
                <div class="queue-batch">
                    <button type="button" on:click=approve_all data-test="approve-all">
                        "Approve all"
                    </button>
                    <button
                        type="button"
                        on:click=approve_chosen
                        disabled=move || chosen.get().is_empty()
                    >
                        {move || format!("Approve selected ({})", chosen.get().len())}
                    </button>
                </div>
                <ul class="queue-list">
                    <For
                        each=move || table.queue.get()
                        key=|queued| queued.request.id
                        let:queued
                    >
                        <QueuedItem queued chosen />
                    </For>
                </ul>
            </Show>
        </div>
    }
    .into_any()
}

/// One waiting request: who, what, why it waits, and the three answers.
#[component]
fn QueuedItem(queued: QueuedRequest, chosen: RwSignal<BTreeSet<ActionId>>) -> impl IntoView {
    let table = expect_context::<Table>();
    let id = queued.request.id;
    let who = {
        let user = queued.from.user;
        move || {
            table
                .names
                .get()
                .get(&user)
                .cloned()
                .unwrap_or_else(|| "A player".into())
        }
    };
    let what = {
        let action = queued.request.action.clone();
        move || {
            table.board.tokens().track();
            table.with_client(|c| describe::action(&action, c.view()))
        }
    };
    let note = queued.request.context.note.clone();
    let reason = RwSignal::new(String::new());
    let rejecting = RwSignal::new(false);
    // A change of amount is the common modification (less damage, a
    // shorter move is a reject with a suggestion).
    let amount = match &queued.request.action {
        Action::AdjustHp { delta, .. } => Some(RwSignal::new(delta.to_string())),
        _ => None,
    };
    let approve = move |_| {
        table.decide(GmDecision {
            action: id,
            verdict: Verdict::Approve,
        })
    };
    let modify = {
        let action = queued.request.action.clone();
        let requester = queued.from.user;
        move |_| {
            let (Action::AdjustHp { actor, .. }, Some(amount)) = (&action, amount) else {
                return;
            };
            let Ok(delta) = amount.get_untracked().trim().parse::<i64>() else {
                table.toast(super::Tone::Bad, "the amount must be a whole number".into());
                return;
            };
            let modified = Action::AdjustHp {
                actor: *actor,
                delta,
            };
            let changes = table.with_client(|c| {
                c.view()
                    .map(|view| modified.changes(view, requester))
                    .unwrap_or_else(|| Err(shared::Error::InvalidAction("no table".into())))
            });
            match changes {
                Ok(changes) => table.decide(GmDecision {
                    action: id,
                    verdict: Verdict::Modify {
                        changes,
                        note: Some(format!("the GM changed it to {delta}")),
                    },
                }),
                Err(error) => table.toast(super::Tone::Bad, error.to_string()),
            }
        }
    };
    let reject = move |_| {
        let text = reason.get_untracked();
        let reason = if text.trim().is_empty() {
            "the GM said no".to_owned()
        } else {
            text.trim().to_owned()
        };
        table.decide(GmDecision {
            action: id,
            verdict: Verdict::Reject {
                reason,
                alternative: None,
            },
        });
    };
    let toggle = move |_| {
        chosen.update(|c| {
            if !c.remove(&id) {
                c.insert(id);
            }
        })
    };
    let checkbox_id = format!("pick-{id}");
    view! {
        <li class="queued" data-test="queued">
            <div class="queued-head">
                <input
                    type="checkbox"
                    id=checkbox_id.clone()
                    prop:checked=move || chosen.get().contains(&id)
                    on:change=toggle
                />
                <label for=checkbox_id>
                    <strong>{who}</strong>
                    " asks to "
                    <span class="queued-what">{what}</span>
                </label>
            </div>
            {note.map(|note| view! { <p class="queued-note">{format!("\u{201c}{note}\u{201d}")}</p> })}
            <p class="muted queued-reason">{queued.reason.clone()}</p>
            <div class="queued-actions">
                <button type="button" class="approve" on:click=approve data-test="approve">
                    "Approve"
                </button>
                {amount.map(|amount| view! {
                    <label class="modify">
                        "Amount "
                        <input type="number" size="4" bind:value=amount aria-label="Modified amount" />
                    </label>
                    <button type="button" on:click=modify.clone()>"Approve changed"</button>
                })}
                <button
                    type="button"
                    class="reject"
                    on:click=move |_| rejecting.set(true)
                    data-test="reject"
                >
                    "Reject…"
                </button>
            </div>
            <Show when=move || rejecting.get()>
                <div class="queued-reject">
                    <label>
                        "Reason "
                        <input
                            type="text"
                            bind:value=reason
                            placeholder="Too far this turn"
                            data-test="reject-reason"
                        />
                    </label>
                    <button type="button" on:click=reject data-test="confirm-reject">
                        "Reject"
                    </button>
                </div>
            </Show>
        </li>
    }
    .into_any()
}

/// The kinds of request, in the order the rules are listed.
const KINDS: [(ActionKind, &str); 10] = [
    (ActionKind::MoveToken, "Moves"),
    (ActionKind::AdjustHp, "Hit points"),
    (ActionKind::Condition, "Conditions"),
    (ActionKind::Effect, "Effects"),
    (ActionKind::Initiative, "Turns"),
    (ActionKind::Chat, "Chat"),
    (ActionKind::Roll, "Dice"),
    (ActionKind::Visibility, "Visibility"),
    (ActionKind::Fog, "Fog"),
    (ActionKind::Edit, "Edits"),
];

fn rule_slug(rule: AutoApprove) -> &'static str {
    match rule {
        AutoApprove::Never => "never",
        AutoApprove::Always => "always",
        AutoApprove::OwnTokenWithinSpeed { on_own_turn: true } => "own-turn",
        AutoApprove::OwnTokenWithinSpeed { on_own_turn: false } => "own-speed",
    }
}

fn rule_from(slug: &str) -> AutoApprove {
    match slug {
        "always" => AutoApprove::Always,
        "own-turn" => AutoApprove::OwnTokenWithinSpeed { on_own_turn: true },
        "own-speed" => AutoApprove::OwnTokenWithinSpeed { on_own_turn: false },
        _ => AutoApprove::Never,
    }
}

/// The session's auto-approval rules, one choice per kind of request.
#[component]
fn Rules() -> impl IntoView {
    let table = expect_context::<Table>();
    let set = move |kind: ActionKind, rule: AutoApprove| {
        let mut policy: ApprovalPolicy = table.rules.get_untracked().unwrap_or_default();
        policy.rules.insert(kind, rule);
        table.send_rules(policy);
    };
    view! {
        <details class="rules">
            <summary>"Auto-approval rules"</summary>
            <ul>
                {KINDS
                    .into_iter()
                    .map(|(kind, label)| {
                        let current = move || {
                            table
                                .rules
                                .get()
                                .and_then(|p| p.rules.get(&kind).copied())
                                .unwrap_or(AutoApprove::Never)
                        };
                        let select_id = format!("rule-{kind:?}");
                        let moves = kind == ActionKind::MoveToken;
                        view! {
                            <li>
                                <label for=select_id.clone()>{label}</label>
                                <select
                                    id=select_id
                                    data-test=format!("rule-{}", label.to_lowercase().replace(' ', "-"))
                                    on:change=move |e| set(kind, rule_from(&event_target_value(&e)))
                                    prop:value=move || rule_slug(current())
                                >
                                    <option value="never">"Wait for me"</option>
                                    <option value="always">"Apply at once"</option>
                                    {moves.then(|| view! {
                                        <option value="own-turn">"Own token, within speed, on its turn"</option>
                                        <option value="own-speed">"Own token, within speed"</option>
                                    })}
                                </select>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </details>
    }
    .into_any()
}

/// Who is in the campaign, who is connected, and assistant GMs.
#[component]
fn Participants() -> impl IntoView {
    let table = expect_context::<Table>();
    let members = Resource::new(move || table.session, crate::session::session_members);
    let i_am_gm = move || table.me.get().is_some_and(|me| me.role == Role::Gm);
    view! {
        <div class="participants">
            <h3>"At the table"</h3>
            <Suspense fallback=|| view! { <p class="muted">"Loading members…"</p> }>
                {move || Suspend::new(async move {
                    let members = members.await.unwrap_or_default();
                    members
                        .into_iter()
                        .map(|member| {
                            let user: UserId = member.user;
                            let online = move || table.online.get().contains(&user);
                            let role = RwSignal::new(member.role);
                            let delegate = move |assistant: bool| {
                                let new = if assistant { Role::AssistantGm } else { Role::Player };
                                table.send_all([ClientMessage::Delegate { user, role: new }]);
                                role.set(new);
                            };
                            view! {
                                <li class="participant" data-online=move || online().to_string()>
                                    <span class=move || if online() { "dot on" } else { "dot off" } aria-hidden="true"></span>
                                    <span>{member.display_name.clone()}</span>
                                    <span class="muted">
                                        {move || format!(" {}, {}", describe::role(role.get()), if online() { "connected" } else { "away" })}
                                    </span>
                                    <Show when=move || i_am_gm() && matches!(role.get(), Role::Player | Role::AssistantGm)>
                                        <button type="button" class="small" on:click=move |_| delegate(role.get_untracked() == Role::Player)>
                                            {move || if role.get() == Role::Player { "Make assistant GM" } else { "Make player" }}
                                        </button>
                                    </Show>
                                </li>
                            }
                        })
                        .collect_view()
                })}
            </Suspense>
        </div>
    }
    .into_any()
}
