//! "Verify the dice": a campaign's sessions with the hash of their dice
//! seed, and, once a session has ended, the check of every roll of it, run
//! here in the browser with the same code the server rolled with
//! ([`shared::fair`]). Nothing is taken on the server's word but the event
//! log's record of what was rolled, which every player saw at the table.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use shared::{
    fair::{DiceRecord, DiceSession, Mismatch, Verified},
    id::{CampaignId, SessionId},
};
use time::macros::format_description;

use crate::AppError;

/// The campaign's newest sessions whose dice can be checked (every member).
#[server(endpoint = "campaigns/dice", input = Json)]
pub async fn list_dice_sessions(campaign: CampaignId) -> Result<Vec<DiceSession>, AppError> {
    crate::backend::as_user(
        |backend, user| async move { backend.dice_sessions(&user, campaign).await },
    )
    .await
}

/// A session's dice as the caller saw them at the table, with the seed
/// once the session has ended (every member of its campaign).
#[server(endpoint = "sessions/dice", input = Json)]
pub async fn read_dice_record(session: SessionId) -> Result<DiceRecord, AppError> {
    crate::backend::as_user(
        |backend, user| async move { backend.dice_record(&user, session).await },
    )
    .await
}

/// What checking a session's dice found.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    /// Every roll matches the revealed seed.
    Fair(Verified, bool),
    /// The session still runs: its seed is secret.
    Sealed,
    /// A roll or the seed does not match.
    Broken(Mismatch),
}

fn check(record: &DiceRecord) -> Outcome {
    match (record.commitment, record.seed) {
        (Some(commitment), Some(seed)) => {
            match shared::fair::verify(commitment, &seed, &record.rolls) {
                Ok(verified) => Outcome::Fair(verified, record.truncated),
                Err(mismatch) => Outcome::Broken(mismatch),
            }
        }
        _ => Outcome::Sealed,
    }
}

/// The first characters of a hash, enough to compare by eye.
fn short(hash: impl ToString) -> String {
    let full = hash.to_string();
    format!("{}…", &full[..full.len().min(12)])
}

/// The campaign page's card: its sessions, each with "Verify the dice".
#[component]
pub fn FairDice(campaign: CampaignId) -> impl IntoView {
    let sessions = Resource::new(|| (), move |()| list_dice_sessions(campaign));
    view! {
        <section class="card fair-dice" aria-labelledby="fair-dice-heading" data-test="fair-dice">
            <h2 id="fair-dice-heading">"Fair dice"</h2>
            <p class="muted">
                "Every die of a session comes from a secret seed whose hash the server publishes before the first roll. "
                "When the session ends the seed is revealed: check every roll you saw, here in your browser."
            </p>
            <Suspense fallback=|| view! { <p class="muted">"Loading the sessions…"</p> }>
                {move || Suspend::new(async move {
                    match sessions.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="muted">"No session yet."</p>
                        }.into_any(),
                        Ok(list) => view! {
                            <ul class="dice-sessions">
                                {list.into_iter().map(|session| view! { <SessionDice session /> }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(error) => view! { <p role="alert" class="error">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn SessionDice(session: DiceSession) -> impl IntoView {
    let id = session.id;
    let verify = Action::new_local(move |_: &()| async move {
        read_dice_record(id).await.map(|record| check(&record))
    });
    let when = session
        .started_at
        .format(format_description!(
            "[year]-[month]-[day] [hour]:[minute] UTC"
        ))
        .unwrap_or_default();
    let name = session.encounter.unwrap_or_else(|| "A session".into());
    let commitment = session.commitment.to_string();
    view! {
        <li class="dice-session" data-test="dice-session">
            <div class="dice-session-head">
                <strong>{name}</strong>
                <span class="muted">{format!(" · {when} · {}", if session.ended { "ended" } else { "running" })}</span>
            </div>
            <div class="dice-session-hash muted">
                "Seed hash "<code title=commitment.clone()>{short(&commitment)}</code>
                " \u{b7} "
                <a href=format!("/sessions/{id}/replay") data-test="replay-link"
                    title="Scrub through the evening: the map at any version, as you saw it">
                    "Replay the evening"
                </a>
            </div>
            {if session.ended {
                view! {
                    <button type="button" class="small" data-test="verify-dice"
                        disabled=move || verify.pending().get()
                        on:click=move |_| { verify.dispatch(()); }>
                        "Verify the dice"
                    </button>
                }.into_any()
            } else {
                view! { <p class="muted">"The seed is revealed when the GM ends the session."</p> }.into_any()
            }}
            {move || verify.value().get().map(|outcome| match outcome {
                Ok(Outcome::Fair(verified, truncated)) => view! {
                    <p class="dice-verdict fair" role="status" data-test="dice-verdict">
                        {format!(
                            "✓ All {} rolls ({} dice) you saw match the revealed seed, and the seed matches the hash published before the first roll.{}",
                            verified.rolls,
                            verified.dice,
                            if truncated { " (The first 50,000 rolls were checked.)" } else { "" },
                        )}
                    </p>
                }.into_any(),
                Ok(Outcome::Sealed) => view! {
                    <p class="muted" role="status" data-test="dice-verdict">"The seed is still secret: the session runs."</p>
                }.into_any(),
                Ok(Outcome::Broken(mismatch)) => view! {
                    <p class="dice-verdict broken" role="alert" data-test="dice-verdict">{format!("✗ {mismatch}")}</p>
                }.into_any(),
                Err(error) => view! { <p role="alert" class="error">{error.to_string()}</p> }.into_any(),
            })}
        </li>
    }
}
