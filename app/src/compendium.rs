//! Compendium search for signed-in users. (The browser page is the client
//! issue's; this is its server function.)

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use shared::compendium::{CompendiumEntry, CompendiumQuery};

use crate::AppError;

/// Searches the compendium with text and filters.
#[server(endpoint = "compendium/search", input = Json)]
pub async fn search_compendium(query: CompendiumQuery) -> Result<Vec<CompendiumEntry>, AppError> {
    crate::backend::answer(async move {
        let (backend, _user) = crate::account::session::require_user().await?;
        backend.search_compendium(query).await
    })
    .await
}
