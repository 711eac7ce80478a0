//! The live session's HTTP routes: starting a session, its WebSocket, and
//! differential sync; and who is asking about a session.

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;
use shared::id::{CampaignId, EncounterId, SessionId};

use crate::{
    AppState, event_log,
    http::{ApiError, CurrentUser},
};

/// The routes of the live session.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/campaigns/{campaign}/sessions", post(start_session))
        .route("/ws/sessions/{session}", get(super::socket::connect))
        .route(
            "/api/sessions/{session}/state",
            get(super::sync::state_since),
        )
}

/// What starting a session needs.
#[derive(Debug, Deserialize)]
struct StartSession {
    #[serde(default)]
    encounter: Option<EncounterId>,
}

/// `POST /api/campaigns/{campaign}/sessions` with `{"encounter": id}`: the
/// GM (or an assistant GM) starts a live session; answers 201 with its id,
/// which players join at `/ws/sessions/{id}`.
async fn start_session(
    State(state): State<AppState>,
    Path(campaign): Path<CampaignId>,
    CurrentUser(user): CurrentUser,
    Json(start): Json<StartSession>,
) -> Result<Response, ApiError> {
    let (session, new) = super::start(&state.db, campaign, start.encounter, user.id).await?;
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(session)).into_response())
}

/// Who is asking about a session: the logged-in user (else 401) as a
/// member of the session's campaign (else 403, alike for a session that
/// does not exist), and the session's record.
pub(crate) async fn participant(
    state: &crate::AppState,
    headers: &axum::http::HeaderMap,
    session: SessionId,
) -> std::result::Result<(shared::rules::Participant, event_log::SessionInfo), ApiError> {
    let user = crate::http::user(state, headers).await?;
    let info = event_log::session_info(&state.db, session)
        .await?
        .ok_or(crate::Error::NotMember)?;
    let role = crate::campaign::role_of(&state.db, info.campaign, user.id).await?;
    Ok((
        shared::rules::Participant {
            user: user.id,
            role,
        },
        info,
    ))
}
