//! Server function for the media library. Uploads are not a server
//! function: they stream as the raw request body to
//! `POST /api/campaigns/{id}/media?name=…&kind=…`, which answers with a
//! [`shared::media::UploadReceipt`], and files are read from `/media/{id}`.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use shared::{id::CampaignId, media::MediaFile};

use crate::AppError;

/// The media files of a campaign, newest first, for its members.
#[server(endpoint = "media/list", input = Json)]
pub async fn list_media(campaign: CampaignId) -> Result<Vec<MediaFile>, AppError> {
    crate::backend::answer(async move {
        let (backend, user) = crate::account::session::require_user().await?;
        backend.list_media(&user, campaign).await
    })
    .await
}
