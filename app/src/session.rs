//! Server functions for encounters and live sessions: list and create
//! encounters, place tokens (the GM's encounter editor), start a session,
//! and who sits at a session's table.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use shared::{
    campaign::SessionSummary,
    encounter::{EncounterSummary, MapSettings, NewToken},
    id::{CampaignId, EncounterId, MediaId, SessionId, TokenId},
    membership::Member,
    token::Token,
};

use crate::AppError;

/// A campaign and the caller's role in it, for its members.
#[server(endpoint = "campaigns/overview", input = Json)]
pub async fn campaign_overview(
    campaign: CampaignId,
) -> Result<shared::campaign::CampaignOverview, AppError> {
    crate::backend::answer(async move {
        let (backend, user) = crate::account::session::require_user().await?;
        backend.campaign_overview(&user, campaign).await
    })
    .await
}

/// The encounters of a campaign, for its members.
#[server(endpoint = "encounters/list", input = Json)]
pub async fn list_encounters(campaign: CampaignId) -> Result<Vec<EncounterSummary>, AppError> {
    crate::backend::answer(async move {
        let (backend, user) = crate::account::session::require_user().await?;
        backend.list_encounters(&user, campaign).await
    })
    .await
}

/// Creates an encounter on a map of the campaign (GM and assistant GMs).
#[server(endpoint = "encounters/create", input = Json)]
pub async fn create_encounter(
    campaign: CampaignId,
    name: String,
    map: MapSettings,
    image: Option<MediaId>,
) -> Result<EncounterId, AppError> {
    crate::backend::answer(async move {
        let (backend, user) = crate::account::session::require_user().await?;
        backend
            .create_encounter(&user, campaign, name, map, image)
            .await
    })
    .await
}

/// Every token of an encounter, hidden ones included (GM and assistant GMs).
#[server(endpoint = "encounters/tokens", input = Json)]
pub async fn encounter_tokens(
    campaign: CampaignId,
    encounter: EncounterId,
) -> Result<Vec<Token>, AppError> {
    crate::backend::answer(async move {
        let (backend, user) = crate::account::session::require_user().await?;
        backend.encounter_tokens(&user, campaign, encounter).await
    })
    .await
}

/// Places a token on an encounter (GM and assistant GMs).
#[server(endpoint = "encounters/place_token", input = Json)]
pub async fn place_token(
    campaign: CampaignId,
    encounter: EncounterId,
    token: NewToken,
) -> Result<TokenId, AppError> {
    crate::backend::answer(async move {
        let (backend, user) = crate::account::session::require_user().await?;
        backend.place_token(&user, campaign, encounter, token).await
    })
    .await
}

/// The sessions of a campaign still being played, newest first.
#[server(endpoint = "sessions/list", input = Json)]
pub async fn list_sessions(campaign: CampaignId) -> Result<Vec<SessionSummary>, AppError> {
    crate::backend::answer(async move {
        let (backend, user) = crate::account::session::require_user().await?;
        backend.list_sessions(&user, campaign).await
    })
    .await
}

/// Starts a live session on an encounter (GM and assistant GMs).
#[server(endpoint = "sessions/start", input = Json)]
pub async fn start_session(
    campaign: CampaignId,
    encounter: EncounterId,
) -> Result<SessionId, AppError> {
    crate::backend::answer(async move {
        let (backend, user) = crate::account::session::require_user().await?;
        backend.start_session(&user, campaign, encounter).await
    })
    .await
}

/// The members of a session's campaign, for those at its table.
#[server(endpoint = "sessions/members", input = Json)]
pub async fn session_members(session: SessionId) -> Result<Vec<Member>, AppError> {
    crate::backend::answer(async move {
        let (backend, user) = crate::account::session::require_user().await?;
        backend.session_members(&user, session).await
    })
    .await
}
