//! The port between server functions and storage.
//!
//! Server functions live in this crate (the browser needs their client half),
//! but the database belongs to the `server` crate, which depends on this one.
//! So server functions reach storage through this trait: `server` implements
//! it on its state and provides it as `Arc<dyn Backend>` in the Leptos context
//! of every request. Server functions stay thin: check who is asking, call the
//! backend, return `shared` types.

use std::sync::Arc;

use leptos::prelude::use_context;
use shared::{
    account::{DisplayName, LoginName, Password, User},
    campaign::{Campaign, NewCampaign},
    compendium::{CompendiumEntry, CompendiumQuery},
};

use crate::AppError;

/// Storage and services the server functions need.
#[async_trait::async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Creates an account and logs it in; returns the session token.
    async fn sign_up(
        &self,
        login: LoginName,
        display_name: DisplayName,
        password: Password,
    ) -> Result<(User, String), AppError>;

    /// Checks credentials and starts a session; returns its token.
    async fn log_in(&self, login: String, password: String) -> Result<(User, String), AppError>;

    /// Ends the session of a token.
    async fn log_out(&self, token: String) -> Result<(), AppError>;

    /// The user of a live session token.
    async fn user(&self, token: String) -> Result<Option<User>, AppError>;

    /// Whether session cookies must be `Secure` (served over HTTPS).
    fn secure_cookies(&self) -> bool;

    /// Searches the compendium.
    async fn search_compendium(
        &self,
        query: CompendiumQuery,
    ) -> Result<Vec<CompendiumEntry>, AppError>;

    /// The campaigns `user` belongs to, newest first.
    async fn list_campaigns(&self, user: &User) -> Result<Vec<Campaign>, AppError>;

    /// Creates a campaign with `user` as its GM.
    async fn create_campaign(
        &self,
        user: &User,
        campaign: NewCampaign,
    ) -> Result<Campaign, AppError>;
}

/// Runs a server function's body and sets the HTTP status from its outcome,
/// so that API clients see 400 for refused input rather than a blanket 500.
///
/// Only when the request is the server-function call itself: during
/// server-side rendering a page calls server functions in-process, and a
/// resource that fails (say, 401 for a visitor) must not turn the whole page
/// into an error response.
pub(crate) async fn answer<T>(
    body: impl Future<Output = Result<T, AppError>>,
) -> Result<T, AppError> {
    let result = body.await;
    let is_api_call = use_context::<http::request::Parts>()
        .is_some_and(|parts| parts.uri.path().starts_with("/api/"));
    if let Err(error) = &result
        && is_api_call
        && let Some(response) = use_context::<leptos_axum::ResponseOptions>()
    {
        response.set_status(error.status());
    }
    result
}

/// The backend of the current request.
pub(crate) fn backend() -> Result<Arc<dyn Backend>, AppError> {
    use_context::<Arc<dyn Backend>>().ok_or_else(|| {
        tracing::error!("no Backend in the Leptos context: the router was built without it");
        AppError::Internal
    })
}
