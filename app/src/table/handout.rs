//! Handouts at the table: the GM shows an image or a PDF of the campaign's
//! media to the whole table or to chosen players. The server records who
//! may read the file (`sessions/hand_out`), then a
//! [`Action::ShowHandout`] puts a line in the log that only its readers
//! receive; each reader's viewer opens on it, and the table's handouts
//! list and the log keep it to open again.

use std::collections::BTreeSet;

use leptos::prelude::*;
use shared::{
    action::Action,
    encounter::LogKind,
    id::{MediaId, UserId},
    media::{Handout, HandoutFormat},
    rules::Role,
};

use super::{Table, Tone, page::Members};

/// The handouts shown at this table that I read, last shown first, each
/// once.
fn shown_here(table: Table) -> Vec<Handout> {
    table
        .with_encounter(|e| {
            let mut seen = BTreeSet::new();
            e.log
                .iter()
                .rev()
                .filter(|line| line.kind == LogKind::Handout)
                .filter_map(|line| line.handout.clone())
                .filter(|handout| seen.insert(handout.media))
                .collect()
        })
        .unwrap_or_default()
}

/// The table's handouts card: what was shown here to open again, and for
/// the GM, what to show next and to whom.
#[component]
pub fn Handouts() -> impl IntoView {
    let table = expect_context::<Table>();
    // Read once per change of the log, for the list and whether it shows.
    let shown = Memo::new(move |_| shown_here(table));
    let listed = move || {
        shown
            .get()
            .into_iter()
            .map(|handout| {
                let name = handout.name.as_str().to_owned();
                view! {
                    <li>
                        <button type="button" class="link" data-test="handout-open"
                            on:click=move |_| table.viewing.set(Some(handout.clone()))>
                            {name}
                        </button>
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <section class="card handouts" aria-labelledby="handouts-heading" data-test="handouts">
            {super::fold::fold("handouts", "handouts-heading", view! { "Handouts" }.into_any(), view! {
                <Show
                    when=move || shown.with(|shown| !shown.is_empty())
                    fallback=move || view! {
                        <p class="muted">{move || if table.is_gm_or_assistant() {
                            "Nothing shown yet: pick an image or a PDF of the campaign's media below."
                        } else {
                            "What the GM shows you opens here, and stays in this list."
                        }}</p>
                    }
                >
                    <ul class="handout-list" data-test="handout-list">{listed}</ul>
                </Show>
                <Show when=move || table.is_gm_or_assistant() && !table.replaying>
                    <HandOutForm />
                </Show>
            }.into_any())}
        </section>
    }
    .into_any()
}

/// The GM's form: a file, to whom, and Show.
#[component]
fn HandOutForm() -> impl IntoView {
    let table = expect_context::<Table>();
    let session = table.session;
    let files = LocalResource::new(move || crate::media::session_media(session));
    let picked = RwSignal::new(String::new());
    let everyone = RwSignal::new(true);
    let chosen = RwSignal::new(BTreeSet::<UserId>::new());
    let players = move || {
        use_context::<Members>()
            .and_then(|members| members.0.get())
            .and_then(Result::ok)
            .unwrap_or_default()
            .into_iter()
            .filter(|m| matches!(m.role, Role::Player | Role::Observer))
            .collect::<Vec<_>>()
    };
    let show =
        leptos::prelude::Action::new_local(move |(file, to): &(MediaId, Option<Vec<UserId>>)| {
            let (file, to) = (*file, to.clone());
            async move {
                let Some(encounter) = table.encounter() else {
                    return;
                };
                match crate::media::hand_out(session, file, to.clone()).await {
                    Ok(handout) => {
                        table.toast(Tone::Info, format!("Showing {}", handout.name.as_str()));
                        table.ask(Action::ShowHandout {
                            encounter,
                            handout,
                            to,
                        });
                    }
                    Err(error) => table.toast(Tone::Bad, error.to_string()),
                }
            }
        });
    let submit = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        let Ok(file) = picked.get_untracked().parse::<uuid::Uuid>() else {
            table.toast(Tone::Bad, "Pick the file to show".into());
            return;
        };
        let to = if everyone.get_untracked() {
            None
        } else {
            let to: Vec<UserId> = chosen.get_untracked().into_iter().collect();
            if to.is_empty() {
                table.toast(Tone::Bad, "Tick whom to show it to".into());
                return;
            }
            Some(to)
        };
        show.dispatch((MediaId(file), to));
    };
    let options = move || {
        files
            .get()
            .and_then(Result::ok)
            .unwrap_or_default()
            .into_iter()
            .filter(|file| HandoutFormat::of(&file.mime_type).is_ok())
            .map(|file| {
                view! { <option value=file.id.to_string()>{file.name.as_str().to_owned()}</option> }
            })
            .collect_view()
    };
    view! {
        <form class="show-handout" on:submit=submit data-test="show-handout">
            <label>"File "
                <select bind:value=picked data-test="handout-file">
                    <option value="">"Choose an image or PDF…"</option>
                    {options}
                </select>
            </label>
            // Files uploaded since the table opened (in another tab, say).
            <button type="button" class="link" data-test="handout-files-refresh"
                title="Load the files uploaded since the table opened"
                on:click=move |_| files.refetch()>
                "Refresh the list"
            </button>
            <fieldset>
                <legend>"Show to"</legend>
                <label><input type="radio" name="handout-to" prop:checked=move || everyone.get()
                    on:change=move |_| everyone.set(true) data-test="handout-everyone" />" Everyone"</label>
                <label><input type="radio" name="handout-to" prop:checked=move || !everyone.get()
                    on:change=move |_| everyone.set(false) data-test="handout-chosen" />" Chosen players:"</label>
                <ul class="handout-readers">
                    {move || players().into_iter().map(|member| {
                        let user = member.user;
                        view! {
                            <li><label>
                                <input type="checkbox" data-test="handout-reader"
                                    disabled=move || everyone.get()
                                    prop:checked=move || chosen.with(|c| c.contains(&user))
                                    on:change=move |e| {
                                        let on = event_target_checked(&e);
                                        chosen.update(|c| { if on { c.insert(user); } else { c.remove(&user); } });
                                    } />
                                " " {member.display_name}
                            </label></li>
                        }
                    }).collect_view()}
                </ul>
            </fieldset>
            <button type="submit" class="small" disabled=move || show.pending().get() data-test="handout-show">"Show"</button>
            <p class="muted">"Upload files on the campaign page, under Media; each stays GM-only until shown."</p>
        </form>
    }
}

/// The viewer: the handout I was just shown, or chose to open again, over
/// the table until closed (Escape or Close).
#[component]
pub fn HandoutViewer() -> impl IntoView {
    let table = expect_context::<Table>();
    viewer(table.viewing)
}

/// A viewer over the page for whatever `viewing` holds; the campaign page
/// shares it.
pub(crate) fn viewer(viewing: RwSignal<Option<Handout>>) -> impl IntoView {
    let close = NodeRef::<leptos::html::Button>::new();
    // The close button takes the focus, so Escape and Enter work at once.
    Effect::new(move |_| {
        if viewing.with(Option::is_some)
            && let Some(button) = close.get()
        {
            let _ = button.focus();
        }
    });
    move || {
        viewing.get().map(|handout| {
            let url = format!("/media/{}", handout.media);
            let name = handout.name.as_str().to_owned();
            let body = match handout.format {
                HandoutFormat::Image => {
                    view! { <img src=url.clone() alt=name.clone() data-test="handout-image" /> }
                        .into_any()
                }
                HandoutFormat::Pdf => view! {
                    <object data=url.clone() type="application/pdf" data-test="handout-pdf">
                        <p>"This browser shows no PDF here: "
                            <a href=url.clone() target="_blank" rel="noopener">"open it"</a>"."</p>
                    </object>
                }
                .into_any(),
            };
            view! {
                <div class="handout-backdrop" on:click=move |_| viewing.set(None)>
                    <div class="handout-viewer card" role="dialog" aria-modal="true" aria-label=name.clone()
                        data-test="handout-viewer"
                        on:click=|e| e.stop_propagation()
                        on:keydown=move |e| if e.key() == "Escape" { viewing.set(None) }>
                        <header>
                            <h2>{name.clone()}</h2>
                            <a href=url target="_blank" rel="noopener" class="small">"Open in a new tab"</a>
                            <button type="button" class="small" node_ref=close data-test="handout-close"
                                on:click=move |_| viewing.set(None)>"Close"</button>
                        </header>
                        <div class="handout-body">{body}</div>
                    </div>
                </div>
            }
        })
    }
}
