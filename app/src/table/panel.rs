//! The GM panel: the requests waiting for a decision (approve, modify,
//! reject with a reason, several at once), the session's auto-approval
//! rules, assistant GMs, and who is connected.
//!
//! Just over 500 lines on purpose: the queue and the rules share the
//! request descriptions and the GM's decision helpers; the panel is one
//! screen.

use std::collections::BTreeSet;

use leptos::prelude::*;
use shared::{
    action::{Action, ActionKind},
    encounter::MapSettings,
    id::{ActionId, TokenId, UserId},
    protocol::{ClientMessage, GmDecision, QueuedRequest, Verdict},
    rules::{ApprovalPolicy, AutoApprove, Role},
    store::Store,
};

use super::{Table, describe};

/// The panel, for the GM and assistant GMs.
#[component]
pub fn GmPanel() -> impl IntoView {
    let table = expect_context::<Table>();
    let prefs = crate::storage::use_prefs();
    // Open or folded as the GM left it last (preferences).
    let toggled = move |e: leptos::ev::Event| {
        use wasm_bindgen::JsCast;
        let open = e
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlDetailsElement>().ok())
            .map(|d| d.open());
        if let Some(open) = open
            && open != prefs.with_untracked(|p| p.gm_panel_open)
        {
            crate::storage::update_prefs(prefs, |p| p.gm_panel_open = open);
        }
    };
    view! {
        <section class="gm-panel card" aria-labelledby="gm-panel-heading" data-test="gm-panel">
            <details prop:open=move || prefs.with(|p| p.gm_panel_open) on:toggle=toggled>
                <summary>
                    <h2 id="gm-panel-heading">
                        "GM panel"
                        <span class="muted">{move || match table.queue.with(Vec::len) {
                            0 => String::new(),
                            n => format!(" · {n} waiting"),
                        }}</span>
                    </h2>
                </summary>
                <Queue />
                <RecentChanges />
                <Rules />
                <Participants />
            </details>
        </section>
    }
    .into_any()
}

/// The latest changes at the table, anyone's, newest first, each to take
/// back by choice; the server refuses, with the reason, one that a later
/// change stands in the way of.
#[component]
fn RecentChanges() -> impl IntoView {
    let table = expect_context::<Table>();
    let listed = move || {
        table.revision.track();
        table.with_client(|c| {
            let view = c.view();
            c.recent()
                .map(|r| (r.version, r.action, describe::changes(&r.changes, view)))
                .collect::<Vec<_>>()
        })
    };
    view! {
        <div class="recent-changes" data-test="recent-changes">
            <h3>"Recent changes"</h3>
            <Show
                when=move || !listed().is_empty()
                fallback=|| view! { <p class="muted">"Nothing changed yet this session."</p> }
            >
                <ol class="recent-list">
                    <For
                        each=listed
                        key=|(version, _, _)| *version
                        children=move |(version, action, what)| view! {
                            <li data-test="recent-change">
                                <span class="muted">{format!("v{version} · ")}</span>
                                {what}
                                " "
                                <button type="button" class="link" data-test="undo-recent"
                                    title="Take this change back as a new change; refused if something changed it since"
                                    on:click=move |_| table.ask(Action::Undo { of: action, changes: Vec::new() })>
                                    "Undo"
                                </button>
                            </li>
                        }
                    />
                </ol>
            </Show>
        </div>
    }
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

/// What the GM may change in a request before approving it, or suggest
/// instead of it: the amount of a hit-point change, the cell of a move.
#[derive(Clone, Copy)]
enum Editable {
    Amount(RwSignal<String>),
    Cell {
        column: RwSignal<String>,
        row: RwSignal<String>,
    },
}

impl Editable {
    /// The fields for `action`, filled with what it asks; `None` for
    /// requests that are taken or left whole.
    fn of(action: &Action, view: Option<&Store>) -> Option<Self> {
        match action {
            Action::AdjustHp { delta, .. } => Some(Self::Amount(RwSignal::new(delta.to_string()))),
            Action::MoveToken { token, to } => {
                let map = map_of(view?, *token)?;
                let cell = map.token_cell(*to);
                Some(Self::Cell {
                    column: RwSignal::new((cell.0 + 1).to_string()),
                    row: RwSignal::new((cell.1 + 1).to_string()),
                })
            }
            _ => None,
        }
    }

    /// `action` as the fields now say.
    fn apply(self, action: &Action, view: Option<&Store>) -> Result<Action, String> {
        match (action, self) {
            (Action::AdjustHp { actor, .. }, Self::Amount(amount)) => amount
                .get_untracked()
                .trim()
                .parse::<i64>()
                .map(|delta| Action::AdjustHp {
                    actor: *actor,
                    delta,
                })
                .map_err(|_| "the amount must be a whole number".to_owned()),
            (Action::MoveToken { token, .. }, Self::Cell { column, row }) => {
                let cell =
                    crate::encounter::typed_cell(&column.get_untracked(), &row.get_untracked())
                        .ok_or_else(|| "columns and rows count from 1".to_owned())?;
                let map = view
                    .and_then(|v| map_of(v, *token))
                    .ok_or_else(|| "the token is no longer on the map".to_owned())?;
                Ok(Action::MoveToken {
                    token: *token,
                    to: map.cell_origin(cell),
                })
            }
            _ => Err("this request cannot be changed".to_owned()),
        }
    }
}

fn map_of(view: &Store, token: TokenId) -> Option<MapSettings> {
    let token = view.token(token)?;
    view.encounter(token.encounter).map(|e| e.map)
}

/// One waiting request: who, what, the context, and the answers: approve,
/// approve changed, reject with a reason (and the change as a
/// suggestion).
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
            table.revision.track();
            table.with_client(|c| describe::queued(&action, c.view()))
        }
    };
    let context = {
        let action = queued.request.action.clone();
        move || {
            table.revision.track();
            table
                .with_client(|c| describe::context(&action, c.view()))
                .join(" · ")
        }
    };
    let note = queued.request.context.note.clone();
    let reason = RwSignal::new(String::new());
    let rejecting = RwSignal::new(false);
    let suggest = RwSignal::new(false);
    let editable = table.with_client(|c| Editable::of(&queued.request.action, c.view()));
    // The request as the GM's fields now say, with what it changes.
    let changed = {
        let action = queued.request.action.clone();
        move || -> Result<Action, String> {
            let edit = editable.ok_or_else(|| "this request cannot be changed".to_owned())?;
            table.with_client(|c| edit.apply(&action, c.view()))
        }
    };
    let approve = move |_| {
        table.decide(GmDecision {
            action: id,
            verdict: Verdict::Approve,
        })
    };
    let modify = {
        let changed = changed.clone();
        let requester = queued.from.user;
        move |_| {
            let decided = changed().and_then(|modified| {
                table.with_client(|c| {
                    let view = c
                        .view()
                        .ok_or_else(|| "the table has not loaded".to_owned())?;
                    let changes = modified
                        .changes(view, requester)
                        .map_err(|e| e.to_string())?;
                    Ok((changes, describe::action(&modified, Some(view))))
                })
            });
            match decided {
                Ok((changes, said)) => table.decide(GmDecision {
                    action: id,
                    verdict: Verdict::Modify {
                        changes,
                        note: Some(format!("the GM changed it: {said}")),
                    },
                }),
                Err(error) => table.toast(super::Tone::Bad, error),
            }
        }
    };
    let reject = move |_: leptos::ev::MouseEvent| {
        let text = reason.get_untracked();
        let reason = if text.trim().is_empty() {
            "the GM said no".to_owned()
        } else {
            text.trim().to_owned()
        };
        let alternative = if suggest.get_untracked() {
            match changed() {
                Ok(alternative) => Some(alternative),
                Err(error) => {
                    table.toast(super::Tone::Bad, error);
                    return;
                }
            }
        } else {
            None
        };
        table.decide(GmDecision {
            action: id,
            verdict: Verdict::Reject {
                reason,
                alternative,
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
    let fields = editable.map(|edit| match edit {
        Editable::Amount(amount) => view! {
            <label class="modify">
                "Amount "
                <input type="number" size="4" bind:value=amount aria-label="Changed amount" data-test="modify-amount" />
            </label>
        }
        .into_any(),
        Editable::Cell { column, row } => view! {
            <label class="modify">
                "Column "
                <input type="number" min="1" size="3" bind:value=column aria-label="Changed column" data-test="modify-column" />
            </label>
            <label class="modify">
                "Row "
                <input type="number" min="1" size="3" bind:value=row aria-label="Changed row" data-test="modify-row" />
            </label>
        }
        .into_any(),
    });
    let can_change = editable.is_some();
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
            <p class="muted queued-context" data-test="queued-context">{context}</p>
            <p class="muted queued-reason">{queued.reason.clone()}</p>
            <div class="queued-actions">
                <button type="button" class="approve" on:click=approve data-test="approve">
                    "Approve"
                </button>
                {fields}
                {can_change.then(|| view! {
                    <button type="button" on:click=modify.clone() data-test="approve-changed">"Approve changed"</button>
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
                    {can_change.then(|| view! {
                        <label class="check">
                            <input type="checkbox" bind:checked=suggest data-test="suggest" />
                            " Suggest the changed request instead"
                        </label>
                    })}
                    <button type="button" on:click=reject.clone() data-test="confirm-reject">
                        "Reject"
                    </button>
                </div>
            </Show>
        </li>
    }
    .into_any()
}

/// The kinds of request, in the order the rules are listed.
const KINDS: [(ActionKind, &str); 12] = [
    (ActionKind::MoveToken, "Moves"),
    (ActionKind::AdjustHp, "Hit points"),
    (ActionKind::Condition, "Conditions"),
    (ActionKind::Effect, "Effects"),
    (ActionKind::Initiative, "Turns"),
    (ActionKind::Chat, "Chat"),
    (ActionKind::Roll, "Dice"),
    (ActionKind::Sheet, "Sheets"),
    (ActionKind::Draw, "Drawings"),
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
    let super::Members(members) = expect_context::<super::Members>();
    let i_am_gm = move || table.me.get().is_some_and(|me| me.role == Role::Gm);
    view! {
        <div class="participants">
            <h3>"At the table"</h3>
            <Suspense fallback=|| view! { <p class="muted">"Loading members…"</p> }>
                {move || Suspend::new(async move {
                    let members = match members.await {
                        Ok(members) => members,
                        Err(error) => {
                            return view! { <p role="alert" class="error">{error.to_string()}</p> }
                                .into_any();
                        }
                    };
                    let rows = members
                        .into_iter()
                        .map(|member| {
                            let user: UserId = member.user;
                            let online = move || table.online.get().contains(&user);
                            let role = RwSignal::new(member.role);
                            let delegate = move |assistant: bool| {
                                if table.link.get_untracked() != shared::client::Link::Live {
                                    table.toast(
                                        super::Tone::Bad,
                                        "not connected: the role was not changed".into(),
                                    );
                                    return;
                                }
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
                        .collect_view();
                    view! { <ul class="participant-list">{rows}</ul> }.into_any()
                })}
            </Suspense>
        </div>
    }
    .into_any()
}
