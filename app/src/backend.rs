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
use shared::campaign::{Campaign, NewCampaign};

use crate::AppError;

/// Storage and services the server functions need.
#[async_trait::async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Every campaign, newest first.
    async fn list_campaigns(&self) -> Result<Vec<Campaign>, AppError>;

    /// Creates a campaign and returns it as stored.
    async fn create_campaign(&self, campaign: NewCampaign) -> Result<Campaign, AppError>;
}

/// Runs a server function's body and sets the HTTP status from its outcome,
/// so that API clients see 400 for refused input rather than a blanket 500.
pub(crate) async fn answer<T>(
    body: impl Future<Output = Result<T, AppError>>,
) -> Result<T, AppError> {
    let result = body.await;
    if let Err(error) = &result
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
