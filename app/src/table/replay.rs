//! `/sessions/:id/replay`: an evening scrubbed through in the browser. The
//! server sends the session's starting state and every commit as the
//! reader saw them at the table (`shared::replay`); this page feeds them to
//! a read-only [`Table`] (no socket) up to the version chosen on the
//! timeline, so the map, the turn order and the log are the table's own
//! components, showing the table as it stood then. Going back replays from
//! the start: the client's store applies ten thousand commits in a few
//! tens of milliseconds (docs/BENCHMARKS.md), less than a frame of
//! scrubbing costs to draw.

use leptos::{prelude::*, server_fn::codec::Json};
use leptos_meta::Title;
use shared::{
    client::{Changed, Client},
    id::SessionId,
    protocol::ServerMessage,
    replay::Evening,
};

use super::{Table, describe, map, sidebar};

/// A session's evening as the caller saw it: the GM and assistant GMs at
/// any time, the other members once the session has ended.
#[server(endpoint = "sessions/replay", input = Json)]
pub async fn load_evening(session: SessionId) -> Result<Evening, crate::AppError> {
    crate::backend::as_user(|backend, user| async move { backend.replay(&user, session).await })
        .await
}

/// How many steps a second "play" advances, by choice.
const SPEEDS: [u32; 4] = [1, 4, 16, 64];

impl Table {
    /// Shows the table as it stood after the first `to` steps of
    /// `evening`, from `now` steps applied: onwards from there, or from
    /// the start when going back.
    fn seek(&self, evening: &Evening, now: usize, to: usize) {
        let to = to.min(evening.steps.len());
        let from = if to < now || self.client.with_value(|c| c.view().is_none()) {
            let mut client = Client::new(self.session);
            client.receive(ServerMessage::Welcome {
                session: self.session,
                you: evening.you,
                version: 0,
                dice: None,
            });
            client.receive(ServerMessage::Snapshot {
                version: 0,
                entities: evening.start.clone(),
            });
            self.client.set_value(client);
            self.me.set(Some(evening.you));
            0
        } else {
            now
        };
        self.client.update_value(|client| {
            for step in &evening.steps[from..to] {
                client.receive(ServerMessage::Commit(step.commit.clone()));
            }
        });
        self.apply(Changed {
            everything: true,
            ..Changed::default()
        });
    }
}

/// The replay page.
#[component]
pub fn ReplayPage() -> impl IntoView {
    super::page::for_session(|session| view! { <Replay session /> }.into_any())
}

/// The replay of one session, loaded once hydrated.
#[component]
fn Replay(session: SessionId) -> impl IntoView {
    let table = Table {
        replaying: true,
        ..Table::new(session)
    };
    provide_context(table);
    super::page::load_names(table);
    let evening = StoredValue::new(None::<Evening>);
    // The steps the reader saw something of (a player's timeline lists
    // only those), found once when the evening loads.
    let seen_steps = StoredValue::new(Vec::<usize>::new());
    let loaded = RwSignal::new(None::<Result<(), crate::AppError>>);
    // How many steps are applied now, and how many there are.
    let at = RwSignal::new(0_usize);
    let total = RwSignal::new(0_usize);
    let playing = RwSignal::new(false);
    let speed = RwSignal::new(SPEEDS[1]);
    // Effects run after hydration only: the server's page and the first
    // client render agree (both "Loading…").
    Effect::new(move |_| {
        leptos::task::spawn_local(async move {
            match load_evening(session).await {
                Ok(loaded_evening) => {
                    total.set(loaded_evening.steps.len());
                    seen_steps.set_value(
                        (0..loaded_evening.steps.len())
                            .filter(|i| loaded_evening.steps[*i].kind.is_some())
                            .collect(),
                    );
                    table.seek(&loaded_evening, 0, 0);
                    evening.set_value(Some(loaded_evening));
                    at.set(0);
                    loaded.set(Some(Ok(())));
                }
                Err(error) => loaded.set(Some(Err(error))),
            }
        });
    });
    let go = move |to: usize| {
        let now = at.get_untracked();
        evening.with_value(|e| {
            if let Some(e) = e {
                table.seek(e, now, to);
            }
        });
        at.set(to.min(total.get_untracked()));
    };
    // Play: a step at a time, `speed` a second, until the end.
    #[cfg(feature = "hydrate")]
    {
        let timer = StoredValue::new(None::<leptos::prelude::IntervalHandle>);
        Effect::new(move |_| {
            if let Some(handle) = timer.try_update_value(Option::take).flatten() {
                handle.clear();
            }
            if !playing.get() {
                return;
            }
            let every = std::time::Duration::from_millis(u64::from(1000 / speed.get().max(1)));
            let handle = set_interval_with_handle(
                move || {
                    let now = at.get_untracked();
                    if now >= total.get_untracked() {
                        playing.set(false);
                    } else {
                        go(now + 1);
                    }
                },
                every,
            )
            .ok();
            timer.set_value(handle);
        });
        on_cleanup(move || {
            if let Some(handle) = timer.try_update_value(Option::take).flatten() {
                handle.clear();
            }
        });
    }
    let step_text = move |index: usize| -> String {
        evening.with_value(|e| {
            let Some(step) = e.as_ref().and_then(|e| e.steps.get(index)) else {
                return String::new();
            };
            let who = step
                .by
                .and_then(|by| table.names.with(|names| names.get(&by).cloned()))
                .unwrap_or_else(|| {
                    if step.kind.is_some() {
                        "The table".into()
                    } else {
                        "Unseen".into()
                    }
                });
            let what = step
                .kind
                .as_deref()
                .map(|kind| kind.replace('_', " "))
                .unwrap_or_else(|| "something you did not see".into());
            format!("{} \u{b7} {who} \u{b7} {what}", clock(step.at_ms))
        })
    };
    let where_text = move || {
        let (now, all) = (at.get(), total.get());
        let when = if now == 0 {
            "the start".to_owned()
        } else {
            step_text(now - 1)
        };
        format!("Version {now} of {all} \u{2014} {when}")
    };
    // The steps around the cursor that the reader saw something of.
    let nearby = move || {
        let now = at.get();
        seen_steps.with_value(|seen| {
            let here = seen.partition_point(|i| *i < now);
            let first = here.saturating_sub(4);
            seen[first..(here + 4).min(seen.len())].to_vec()
        })
    };
    let who = move || {
        table
            .me
            .get()
            .map(|me| {
                if me.role.is_gm_or_assistant() {
                    "Everything, as the GM saw it".to_owned()
                } else {
                    format!("What you saw, {}", describe::role(me.role))
                }
            })
            .unwrap_or_default()
    };

    view! {
        <Title text="Replay" />
        <div class="table-page replay-page" data-test="replay">
            <header class="table-bar replay-bar">
                <strong>"Replay"</strong>
                <span class="muted">{who}</span>
                <a href=format!("/sessions/{session}") class="small">"Open the table"</a>
            </header>
            {move || match loaded.get() {
                None => view! { <p class="muted">"Loading the evening…"</p> }.into_any(),
                Some(Err(error)) => view! {
                    <p role="alert" class="error" data-test="replay-error">{error.to_string()}</p>
                }.into_any(),
                Some(Ok(())) => view! {
                    <section class="card timeline" aria-label="Timeline">
                        <div class="timeline-controls">
                            <button type="button" class="small" aria-label="To the start"
                                on:click=move |_| { playing.set(false); go(0); }>"\u{ab} Start"</button>
                            <button type="button" class="small" data-test="replay-play"
                                aria-pressed=move || playing.get().to_string()
                                on:click=move |_| {
                                    if at.get_untracked() >= total.get_untracked() {
                                        go(0);
                                    }
                                    playing.update(|p| *p = !*p);
                                }>
                                {move || if playing.get() { "\u{23f8} Pause" } else { "\u{25b6} Play" }}
                            </button>
                            <button type="button" class="small" aria-label="To the end"
                                on:click=move |_| { playing.set(false); go(total.get_untracked()); }>"End \u{bb}"</button>
                            <label class="muted">"Speed "
                                <select on:change=move |e| {
                                    if let Ok(value) = event_target_value(&e).parse::<u32>() {
                                        speed.set(value);
                                    }
                                } prop:value=move || speed.get().to_string()>
                                    {SPEEDS.iter().map(|s| view! {
                                        <option value=s.to_string()>{format!("{s} / s")}</option>
                                    }).collect_view()}
                                </select>
                            </label>
                            {move || evening.with_value(|e| e.as_ref().is_some_and(|e| e.truncated)).then(|| view! {
                                <span class="muted">{format!("The first {} commits", shared::replay::MAX_REPLAY_COMMITS)}</span>
                            })}
                        </div>
                        <input type="range" class="scrubber" data-test="replay-scrubber" min="0"
                            max=move || total.get().to_string()
                            prop:value=move || at.get().to_string()
                            aria-label="Version"
                            on:input=move |e| {
                                if let Ok(to) = event_target_value(&e).parse::<usize>() {
                                    playing.set(false);
                                    go(to);
                                }
                            } />
                        <p class="replay-where" data-test="replay-where" aria-live="polite">{where_text}</p>
                        <ol class="replay-steps">
                            {move || nearby().into_iter().map(|index| {
                                let current = at.get() == index + 1;
                                view! {
                                    <li class:current=current>
                                        <button type="button" class="link" data-test="replay-step"
                                            on:click=move |_| { playing.set(false); go(index + 1); }>
                                            {format!("v{} \u{b7} {}", index + 1, step_text(index))}
                                        </button>
                                    </li>
                                }
                            }).collect_view()}
                        </ol>
                    </section>
                }.into_any(),
            }}
            <div class="table-layout">
                <map::BattleMap />
                <aside class="table-side" aria-label="The table then">
                    <sidebar::Initiative />
                    <sidebar::Log />
                </aside>
            </div>
            <super::handout::HandoutViewer />
        </div>
    }
    .into_any()
}

/// `21:03:12 UTC` from milliseconds since the epoch.
fn clock(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|at| {
            at.format(time::macros::format_description!(
                "[hour]:[minute]:[second] UTC"
            ))
            .ok()
        })
        .unwrap_or_default()
}
