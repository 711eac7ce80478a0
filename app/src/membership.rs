//! Server functions for campaign membership: members, invitations, roles.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use shared::{
    id::{CampaignId, UserId},
    membership::{Invitation, Member},
    rules::Role,
};

use crate::AppError;

/// The members of a campaign, for its members.
#[server(endpoint = "campaigns/members", input = Json)]
pub async fn list_members(campaign: CampaignId) -> Result<Vec<Member>, AppError> {
    crate::backend::as_user(
        |backend, user| async move { backend.list_members(&user, campaign).await },
    )
    .await
}

/// Creates an invitation link granting `role` (GM: any role but GM;
/// assistant GM: player or observer).
#[server(endpoint = "campaigns/invite", input = Json)]
pub async fn invite(campaign: CampaignId, role: Role) -> Result<Invitation, AppError> {
    crate::backend::as_user(
        |backend, user| async move { backend.invite(&user, campaign, role).await },
    )
    .await
}

/// Joins a campaign with an invitation token.
#[server(endpoint = "campaigns/join", input = Json)]
pub async fn join(token: String) -> Result<(CampaignId, Role), AppError> {
    crate::backend::as_user(|backend, user| async move { backend.join(&user, token).await }).await
}

/// Changes a member's role; only the GM may (delegating assistant GM).
#[server(endpoint = "campaigns/set_role", input = Json)]
pub async fn set_role(campaign: CampaignId, member: UserId, role: Role) -> Result<(), AppError> {
    crate::backend::as_user(|backend, user| async move {
        backend.set_role(&user, campaign, member, role).await
    })
    .await
}

/// Removes a member from the campaign (the GM), or leaves it (anyone else,
/// naming themselves). Their open tables of the campaign close.
#[server(endpoint = "campaigns/remove_member", input = Json)]
pub async fn remove_member(campaign: CampaignId, member: UserId) -> Result<(), AppError> {
    crate::backend::as_user(|backend, user| async move {
        backend.remove_member(&user, campaign, member).await
    })
    .await
}

/// The campaign's members, their roles, and (for the GM and assistants)
/// invitation links.
#[component]
pub fn MembersSection(campaign: CampaignId, role: Role) -> impl IntoView {
    use crate::storage::{QueryCache, Staleness};
    let cache = QueryCache::get();
    let changed = RwSignal::new(0u32);
    let members = cache.resource(
        QueryCache::key(campaign, "members"),
        Staleness::Campaign,
        move || changed.get(),
        move || list_members(campaign),
    );
    let invite_action = Action::new(move |role: &Role| invite(campaign, *role));
    let set_role_action = Action::new(move |(member, role): &(UserId, Role)| {
        let (member, role) = (*member, *role);
        async move {
            let done = set_role(campaign, member, role).await;
            if done.is_ok() {
                cache.invalidate(&QueryCache::key(campaign, "members"));
                changed.update(|n| *n += 1);
            }
            done
        }
    });
    let remove_action = Action::new(move |member: &UserId| {
        let member = *member;
        async move {
            let done = remove_member(campaign, member).await;
            if done.is_ok() {
                cache.invalidate(&QueryCache::key(campaign, "members"));
                changed.update(|n| *n += 1);
            }
            done
        }
    });
    let removal_failed = move || {
        remove_action
            .value()
            .get()
            .and_then(Result::err)
            .map(|error| {
                view! { <p role="alert" class="error">{error.to_string()}</p> }
            })
    };
    let link = move || {
        invite_action.value().get().map(|made| match made {
            Ok(invitation) => {
                let url = format!("{}/join/{}", origin(), invitation.token);
                let copied = RwSignal::new(false);
                let copy = {
                    let url = url.clone();
                    move |_| {
                        copy_to_clipboard(&url);
                        copied.set(true);
                    }
                };
                view! {
                    <p class="invite-link">
                        "Send this link: "
                        <code data-test="invite-link">{url}</code>
                        " "
                        <button type="button" class="secondary" data-test="copy-invite" on:click=copy>
                            {move || if copied.get() { "Copied" } else { "Copy" }}
                        </button>
                    </p>
                }
                .into_any()
            }
            Err(error) => {
                view! { <p role="alert" class="error">{error.to_string()}</p> }.into_any()
            }
        })
    };
    view! {
        <section class="card members" aria-labelledby="members-heading">
            <h2 id="members-heading">"Members"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading members…"</p> }>
                {move || Suspend::new(async move {
                    match members.await {
                        Ok(list) => view! {
                            <ul class="member-list">
                                {list.into_iter().map(|member| {
                                    let user = member.user;
                                    let can_delegate = role == Role::Gm
                                        && matches!(member.role, Role::Player | Role::AssistantGm);
                                    let next = if member.role == Role::Player { Role::AssistantGm } else { Role::Player };
                                    let name = member.display_name.clone();
                                    view! {
                                        <li>
                                            <strong>{member.display_name}</strong>
                                            <span class="muted">{format!(" {}", member.role.slug().replace('_', " "))}</span>
                                            {can_delegate.then(|| view! {
                                                <button type="button" class="small" on:click=move |_| { set_role_action.dispatch((user, next)); }>
                                                    {if next == Role::AssistantGm { "Make assistant GM" } else { "Make player" }}
                                                </button>
                                            })}
                                            {(role == Role::Gm && member.role != Role::Gm).then(|| {
                                                view! {
                                                    <button
                                                        type="button"
                                                        class="small danger"
                                                        data-test="remove-member"
                                                        on:click=move |_| {
                                                            #[cfg(feature = "hydrate")]
                                                            {
                                                                let asked = web_sys::window().and_then(|w| {
                                                                    w.confirm_with_message(&format!("Remove {name} from the campaign?")).ok()
                                                                });
                                                                if asked != Some(true) {
                                                                    return;
                                                                }
                                                            }
                                                            #[cfg(not(feature = "hydrate"))]
                                                            let _ = &name;
                                                            remove_action.dispatch(user);
                                                        }
                                                    >
                                                        "Remove"
                                                    </button>
                                                }
                                            })}
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(error) => view! { <p role="alert" class="error">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            {removal_failed}
            <Show when=move || role.is_gm_or_assistant()>
                <div class="invite">
                    <button type="button" on:click=move |_| { invite_action.dispatch(Role::Player); }>"Invite a player"</button>
                    <button type="button" on:click=move |_| { invite_action.dispatch(Role::Observer); }>"Invite an observer"</button>
                </div>
                {link}
            </Show>
        </section>
    }
    .into_any()
}

/// `/join/:token`: accepts an invitation when the user says so. Joining is
/// a button, not the page load: a link preview, a prefetch or the server's
/// rendering of the page must not spend a single-use invitation.
#[component]
pub fn JoinPage() -> impl IntoView {
    use leptos_router::components::A;
    let params = leptos_router::hooks::use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let accept = Action::new(move |token: &String| join(token.clone()));
    view! {
        <leptos_meta::Title text="Join a campaign" />
        <h1>"Join a campaign"</h1>
        <p>"You were invited to a campaign. The link works once and for seven days."</p>
        <button
            type="button"
            data-test="accept-invitation"
            disabled=move || accept.pending().get() || matches!(accept.value().get(), Some(Ok(_)))
            on:click=move |_| {
                accept.dispatch(token());
            }
        >
            {move || if accept.pending().get() { "Joining…" } else { "Join the campaign" }}
        </button>
        {move || accept.value().get().map(|joined| match joined {
            Ok((campaign, _)) => view! {
                <p role="status">
                    "You are in. "
                    <A href=format!("/campaigns/{campaign}")>"Open the campaign"</A>
                </p>
            }.into_any(),
            Err(AppError::Unauthorized) => {
                let here = format!("/join/{}", token());
                view! {
                    <p role="alert" class="error">
                        <A href=crate::account::with_next("/login", &here)>"Log in"</A>" or "
                        <A href=crate::account::with_next("/signup", &here) attr:data-test="join-sign-up">"create an account"</A>
                        ": you come back here to join."
                    </p>
                }.into_any()
            }
            Err(error) => view! { <p role="alert" class="error">{error.to_string()}</p> }.into_any(),
        })}
    }
}

/// The site's origin (`https://table.example`), for links to paste
/// elsewhere; empty while rendering on the server.
fn origin() -> String {
    #[cfg(feature = "hydrate")]
    {
        window().location().origin().unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        String::new()
    }
}

/// Puts `text` on the clipboard; where the browser refuses (no secure
/// context), the link stays on screen to copy by hand.
fn copy_to_clipboard(text: &str) {
    #[cfg(feature = "hydrate")]
    {
        let _ = window().navigator().clipboard().write_text(text);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = text;
}
