//! The handles every request shares.

use app::{AppError, Backend};
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use redis::aio::ConnectionManager;
use shared::campaign::{Campaign, NewCampaign};
use sqlx::PgPool;

use crate::{Config, Result, cache, campaign, db};

/// Shared by every request; cloning is cheap (every field is a handle).
#[derive(Clone, FromRef)]
pub struct AppState {
    /// The PostgreSQL pool.
    pub db: PgPool,
    /// Redis, when configured; `None` on a single node without it.
    pub redis: Option<ConnectionManager>,
    /// Where the built site is and how to serve it.
    pub leptos: LeptosOptions,
}

impl AppState {
    /// Connects to everything the configuration names and applies the
    /// migrations. Each failure names the setting to fix.
    pub async fn connect(config: &Config, leptos: LeptosOptions) -> Result<Self> {
        let db = db::connect(config).await?;
        db::migrate(&db).await?;
        let redis = match config.redis() {
            Some(info) => Some(cache::connect(info).await?),
            None => None,
        };
        Ok(Self { db, redis, leptos })
    }
}

#[async_trait::async_trait]
impl Backend for AppState {
    async fn list_campaigns(&self) -> Result<Vec<Campaign>, AppError> {
        Ok(campaign::list(&self.db).await?)
    }

    async fn create_campaign(&self, new: NewCampaign) -> Result<Campaign, AppError> {
        let created = campaign::create(&self.db, &new).await?;
        tracing::info!(campaign = %created.id, "campaign created");
        Ok(created)
    }
}
