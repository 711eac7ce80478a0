//! Who is asking, for the routes that are not server functions: the login
//! cookie resolved to a user ([`CurrentUser`], an extractor), and errors
//! answered as the same JSON [`AppError`] the server functions send
//! ([`ApiError`]).

use app::{AppError, account::login};
use axum::{
    Json,
    extract::FromRequestParts,
    http::{HeaderMap, request::Parts},
    response::{IntoResponse, Response},
};
use shared::account::User;

use crate::{AppState, Error, account};

/// An [`AppError`] as an HTTP response: its status and itself as JSON.
pub struct ApiError(pub AppError);

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        Self(error.into())
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        Self(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0.status(), Json(self.0)).into_response()
    }
}

/// The logged-in user of a request; a handler that takes it answers 401
/// to a request without a live login.
pub struct CurrentUser(pub User);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        user(state, &parts.headers).await.map(CurrentUser)
    }
}

/// The logged-in user of a request, or 401 (for callers that keep the
/// headers, as a socket does to check the login again later).
pub(crate) async fn user(state: &AppState, headers: &HeaderMap) -> Result<User, ApiError> {
    let token = login::token_in(headers).ok_or(AppError::Unauthorized)?;
    account::user_for(&state.db, &account::LoginToken::from_cookie(&token))
        .await?
        .ok_or(ApiError(AppError::Unauthorized))
}
