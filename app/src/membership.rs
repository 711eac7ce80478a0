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
    crate::backend::answer(async move {
        let (backend, user) = crate::account::session::require_user().await?;
        backend.list_members(&user, campaign).await
    })
    .await
}

/// Creates an invitation link granting `role` (GM: any role but GM;
/// assistant GM: player or observer).
#[server(endpoint = "campaigns/invite", input = Json)]
pub async fn invite(campaign: CampaignId, role: Role) -> Result<Invitation, AppError> {
    crate::backend::answer(async move {
        let (backend, user) = crate::account::session::require_user().await?;
        backend.invite(&user, campaign, role).await
    })
    .await
}

/// Joins a campaign with an invitation token.
#[server(endpoint = "campaigns/join", input = Json)]
pub async fn join(token: String) -> Result<(CampaignId, Role), AppError> {
    crate::backend::answer(async move {
        let (backend, user) = crate::account::session::require_user().await?;
        backend.join(&user, token).await
    })
    .await
}

/// Changes a member's role; only the GM may (delegating assistant GM).
#[server(endpoint = "campaigns/set_role", input = Json)]
pub async fn set_role(campaign: CampaignId, member: UserId, role: Role) -> Result<(), AppError> {
    crate::backend::answer(async move {
        let (backend, user) = crate::account::session::require_user().await?;
        backend.set_role(&user, campaign, member, role).await
    })
    .await
}
