//! `GET /api/sessions/{id}/state?since=V`: differential sync over HTTP (the
//! seed's "state since version V"), for clients that poll or that want to
//! check a version without a socket.
//!
//! 304 when `since` is the current version; otherwise a JSON array of the
//! same messages the socket would send to catch up (the commits missed, or
//! a snapshot), filtered for the caller.

use axum::{
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use shared::{change::Version, id::SessionId};
use tokio::sync::oneshot;

use super::{Budget, Command};
use crate::{AppState, Error, http::ApiError};

/// The query: the caller's version, if any.
#[derive(Debug, Deserialize)]
pub struct Since {
    #[serde(default)]
    since: Option<Version>,
}

/// Answers with what brings the caller to the current version.
pub async fn state_since(
    State(state): State<AppState>,
    Path(session): Path<SessionId>,
    Query(query): Query<Since>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (who, _) = super::participant(&state, &headers, session).await?;
    let mailbox = state.hub.session(session).await?;
    let (reply, answer) = oneshot::channel();
    let asked = Command::StateSince {
        who,
        since: query.since,
        reply,
    };
    let unavailable = || Error::Internal("the session stopped while answering".into());
    let budget = Budget::for_role(who.role);
    mailbox
        .send(asked, &budget)
        .await
        .map_err(|_| unavailable())?;
    let frames = answer.await.map_err(|_| unavailable())?;
    if frames.is_empty() {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    let mut body = Vec::with_capacity(frames.iter().map(|f| f.len() + 1).sum::<usize>() + 2);
    body.push(b'[');
    for (i, frame) in frames.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(frame);
    }
    body.push(b']');
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}
