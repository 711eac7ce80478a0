//! HTTP endpoints that are not server functions, because they stream:
//! media upload and download, and campaign export and import.
//!
//! They authenticate from the same login cookie as the server functions,
//! answer errors as the same JSON [`AppError`] with the same statuses, and
//! sit behind the same cross-site write check (see [`crate::http`]).

use app::AppError;
use axum::{
    Json, Router,
    body::Body,
    extract::{DefaultBodyLimit, Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;
use shared::{
    id::{CampaignId, MediaId},
    media::{DisplayFileName, MediaKind},
    rules::Role,
};

use crate::{
    AppState, Error,
    campaign::role_of,
    export::{self, CampaignDocument},
    http::{ApiError, CurrentUser},
    media::{self, NewUpload},
};

/// The largest campaign document accepted for import.
pub const MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;

/// The routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/campaigns/{campaign}/media", post(upload))
        .route("/media/{media}", get(download))
        .route("/api/campaigns/{campaign}/export", get(export_campaign))
        .route(
            "/api/campaigns/import",
            post(import_campaign).layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES)),
        )
}

/// Query of an upload: the display name and what the file is for.
#[derive(Debug, Deserialize)]
struct UploadQuery {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: Option<String>,
}

/// `POST /api/campaigns/{campaign}/media?name=cave.png&kind=map`, the raw
/// bytes as the body. Members other than observers may upload. Answers 201
/// with the receipt (which says whether the bytes were already stored).
async fn upload(
    State(state): State<AppState>,
    Path(campaign): Path<CampaignId>,
    Query(query): Query<UploadQuery>,
    CurrentUser(user): CurrentUser,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let role = role_of(&state.db, campaign, user.id).await?;
    if role == Role::Observer {
        return Err(Error::Refused(shared::Error::Forbidden(
            "observers cannot upload media".into(),
        ))
        .into());
    }
    let kind = match query.kind.as_deref() {
        None | Some("") => MediaKind::Other,
        Some(raw) => raw.parse().map_err(Error::Refused)?,
    };
    // Refuse at once what announces itself as too large; the stream is
    // still counted, for bodies that lie or send no length.
    let max = state.media.limits().max_upload;
    if let Some(length) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok())
        && length > max
    {
        return Err(Error::Refused(shared::Error::UploadTooLarge { max }).into());
    }
    let new = NewUpload {
        campaign,
        uploaded_by: user.id,
        name: DisplayFileName::sanitize(&query.name),
        kind,
        shown: !role.is_gm_or_assistant(),
    };
    let receipt = media::upload(&state.db, &state.media, &new, body.into_data_stream()).await?;
    Ok((StatusCode::CREATED, Json(receipt)).into_response())
}

/// `GET /media/{id}`: the bytes, streamed, to members of its campaign who
/// may see the file (the GM always; others once it is shown).
async fn download(
    State(state): State<AppState>,
    Path(id): Path<MediaId>,
    CurrentUser(user): CurrentUser,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    // Membership and visibility are checked in the query that finds the
    // bytes: nothing is read from storage for a reader who may not see it.
    let content = media::open(&state.db, &state.media, id, user.id).await?;
    let etag = format!("\"{}\"", content.checksum);
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|value| value.as_bytes() == etag.as_bytes())
    {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    let mut response = Response::new(Body::from_stream(content.body));
    let headers = response.headers_mut();
    let value = |text: &str| HeaderValue::from_str(text).map_err(|_| ApiError(AppError::Internal));
    headers.insert(header::CONTENT_TYPE, value(&content.mime_type)?);
    headers.insert(header::CONTENT_LENGTH, value(&content.size.to_string())?);
    headers.insert(header::ETAG, value(&etag)?);
    // The bytes under an id never change; only members may fetch them.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    // Served from our own origin: never let a browser reinterpret or run it.
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox"),
    );
    Ok(response)
}

/// `GET /api/campaigns/{campaign}/export`: the campaign document, for its
/// GM and assistant GMs.
async fn export_campaign(
    State(state): State<AppState>,
    Path(campaign): Path<CampaignId>,
    CurrentUser(user): CurrentUser,
) -> Result<Response, ApiError> {
    let document = export::export(&state.db, campaign, user.id).await?;
    let disposition = format!("attachment; filename=\"campaign-{campaign}.json\"");
    Ok((
        [(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_str(&disposition).map_err(|_| ApiError(AppError::Internal))?,
        )],
        Json(document),
    )
        .into_response())
}

/// `POST /api/campaigns/import`: a campaign document as JSON; the caller
/// becomes its GM. Answers 201 with the campaign id.
async fn import_campaign(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let document: CampaignDocument = serde_json::from_slice(&body).map_err(|error| {
        Error::Refused(shared::Error::InvalidExport(format!(
            "not a campaign document: {error}"
        )))
    })?;
    let campaign = export::import(&state.db, &document, user.id).await?;
    Ok((StatusCode::CREATED, Json(campaign)).into_response())
}
