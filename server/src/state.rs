//! The handles every request shares.

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use redis::aio::ConnectionManager;
use sqlx::PgPool;

use crate::{
    Config, Error, Result, account, config::Engine, db, live::Hub, media::MediaStore,
    metrics::Metrics, redis_conn,
};

/// Shared by every request; cloning is cheap (every field is a handle).
#[derive(Clone, FromRef)]
pub struct AppState {
    /// The PostgreSQL pool.
    pub db: PgPool,
    /// Redis, when configured; `None` on a single node without it.
    pub redis: Option<ConnectionManager>,
    /// Where the built site is and how to serve it.
    pub leptos: LeptosOptions,
    /// Mark session cookies `Secure` (the site is served over HTTPS).
    pub secure_cookies: bool,
    /// Where media bytes are stored.
    pub media: MediaStore,
    /// The live sessions running on this node.
    pub hub: Hub,
    /// What `/metrics` reports.
    pub metrics: Metrics,
    /// The serve loop's limits and the allowed origins.
    pub http: crate::http::Settings,
    /// Log-in and sign-up throttling, and the bound on password hashing.
    pub gate: account::Gate,
}

impl AppState {
    /// Connects to everything the configuration names and applies the
    /// migrations. Each failure names the setting to fix.
    pub async fn connect(config: &Config, leptos: LeptosOptions) -> Result<Self> {
        let db = db::connect(config).await?;
        db::migrate(&db).await?;
        let redis = match config.redis() {
            Some(info) => Some(redis_conn::connect(info).await?),
            None => None,
        };
        let media = MediaStore::open(
            &config.media_dir,
            config.s3().as_ref(),
            config.media_limits(),
        )?;
        let metrics = Metrics::default();
        let mut hub = Hub::new(db.clone(), redis.clone(), metrics.clone());
        if config.live_engine == Engine::Redis {
            let info = config.redis().ok_or_else(|| {
                Error::Config("LIVE_ENGINE=redis needs REDIS_URL to name a Redis".into())
            })?;
            hub = hub.clustered(info, config.session_lease()).await?;
        }
        Ok(Self {
            db,
            redis,
            leptos,
            secure_cookies: config.secure_cookies,
            media,
            hub,
            metrics,
            http: config.http(),
            gate: account::Gate::new(config.gate()),
        })
    }
}
