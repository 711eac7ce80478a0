//! Server-function calls: a bounded body, no text the database cannot
//! store, and 400 (not 500) for arguments that do not decode.
//!
//! Leptos reads a server function's body whole and answers any failure to
//! decode it with 500 and the parser's message. Here the body is read first,
//! up to [`MAX_SERVER_FN_BODY`] (413 past it), checked for U+0000 (400:
//! PostgreSQL stores no NUL in text or JSON, and a value holding one would
//! otherwise fail its write with a 500), and a decoding failure that comes
//! back is answered 400. Every refusal is the typed [`AppError`] the page
//! decodes. The streaming endpoints under `/api/` (uploads, import) are not
//! server functions and keep their own limits.

use std::{collections::HashSet, sync::LazyLock};

use app::AppError;
use axum::{
    Json,
    body::{Body, Bytes},
    extract::Request,
    http::{HeaderMap, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use futures_util::StreamExt;
use leptos::server_fn::{self, error::ServerFnErrorErr};

/// The largest server-function body accepted, in bytes. The largest real
/// one (an encounter's settings, a form) is a few kilobytes.
pub const MAX_SERVER_FN_BODY: usize = 1024 * 1024;

/// What the refusal of an oversize body says is limited.
const BODY_LIMIT_NAME: &str = "a server function's request body (bytes)";

/// Error bodies read back to look at; leptos' are a few hundred bytes.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// The paths of the server functions that take a body.
static POSTED: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    server_fn::axum::server_fn_paths()
        .filter(|(_, method)| method == Method::POST)
        .map(|(path, _)| path)
        .collect()
});

/// Bounds and checks a server function's body, and answers a body that
/// does not decode with 400.
pub(super) async fn bounded_bodies(request: Request, next: Next) -> Response {
    if request.method() != Method::POST || !POSTED.contains(request.uri().path()) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|length| length.to_str().ok())
        .and_then(|length| length.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_SERVER_FN_BODY as u64) {
        return too_large();
    }
    let bytes = match read_at_most(body, MAX_SERVER_FN_BODY).await {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return too_large(),
        Err(error) => {
            tracing::debug!(%error, "a server-function body could not be read");
            return unreadable();
        }
    };
    if holds_nul(&parts.headers, &bytes) {
        return refuse(
            StatusCode::BAD_REQUEST,
            AppError::Invalid(shared::Error::UnstorableText {
                what: "the request".into(),
            }),
        );
    }
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    undecodable_is_400(response).await
}

/// The body, or `None` when it is longer than `max`.
async fn read_at_most(body: Body, max: usize) -> Result<Option<Bytes>, axum::Error> {
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if bytes.len() + chunk.len() > max {
            return Ok(None);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Some(bytes.into()))
}

/// Whether the body would carry U+0000 into an argument: raw, as the form
/// escape `%00`, or as the JSON escape `\u0000` (a cheap scan first; only a
/// body that may hold one is decoded to be sure, since `\\u0000` is text).
fn holds_nul(headers: &HeaderMap, body: &[u8]) -> bool {
    if body.contains(&0) {
        return true;
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("application/json") {
        contains(body, b"\\u0000")
            && serde_json::from_slice::<serde_json::Value>(body)
                .is_ok_and(|value| shared::limits::json_has_nul(&value))
    } else {
        // Form-encoded (the server functions' default), whatever the
        // header says: leptos decodes the body by the function, not by it.
        contains(body, b"%00")
            && form_urlencoded::parse(body)
                .any(|(key, value)| key.contains('\0') || value.contains('\0'))
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// Leptos answers arguments it cannot decode with 500, and the parser's
/// message, before the function (and its status) runs: that is the
/// client's mistake, so 400, with a message that does not echo the parser.
async fn undecodable_is_400(response: Response) -> Response {
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response
            .headers()
            .contains_key(server_fn::error::SERVER_FN_ERROR_HEADER)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        return refuse(StatusCode::INTERNAL_SERVER_ERROR, AppError::Internal);
    };
    match serde_json::from_slice::<AppError>(&bytes) {
        Ok(AppError::Transport(
            ServerFnErrorErr::Args(detail) | ServerFnErrorErr::Deserialization(detail),
        )) => {
            tracing::debug!(%detail, "server-function arguments did not decode");
            unreadable()
        }
        Ok(AppError::Transport(ServerFnErrorErr::MissingArg(_))) => {
            parts.status = StatusCode::BAD_REQUEST;
            Response::from_parts(parts, Body::from(bytes))
        }
        _ => Response::from_parts(parts, Body::from(bytes)),
    }
}

fn too_large() -> Response {
    refuse(
        StatusCode::PAYLOAD_TOO_LARGE,
        AppError::Invalid(shared::Error::OverLimit {
            what: BODY_LIMIT_NAME.into(),
            max: MAX_SERVER_FN_BODY,
        }),
    )
}

fn unreadable() -> Response {
    refuse(
        StatusCode::BAD_REQUEST,
        AppError::Transport(ServerFnErrorErr::Args(
            "the request's arguments could not be read".into(),
        )),
    )
}

fn refuse(status: StatusCode, error: AppError) -> Response {
    (status, Json(error)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(content_type: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, content_type.parse().unwrap());
        headers
    }

    #[test]
    fn nul_is_found_raw_form_encoded_and_json_escaped() {
        let form = typed("application/x-www-form-urlencoded");
        let json = typed("application/json");
        assert!(holds_nul(&form, b"name=a\0b"));
        assert!(holds_nul(&form, b"name=a%00b&x=1"));
        assert!(holds_nul(&form, b"na%00me=ab"));
        assert!(!holds_nul(&form, b"name=a%2500b"), "an escaped percent");
        assert!(!holds_nul(&form, b"name=plain"));
        assert!(holds_nul(&json, br#"{"name":"a\u0000b"}"#));
        assert!(holds_nul(&json, br#"{"a\u0000":1}"#));
        assert!(
            !holds_nul(&json, br#"{"name":"a\\u0000b"}"#),
            "an escaped backslash"
        );
        assert!(!holds_nul(&json, br#"{"name":"ok"}"#));
    }
}
