//! The handles every request shares.

use app::{AppError, Backend};
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use redis::aio::ConnectionManager;
use shared::{
    account::{DisplayName, LoginName, Password, User},
    campaign::{Campaign, NewCampaign},
    compendium::{CompendiumEntry, CompendiumQuery},
};
use sqlx::PgPool;

use crate::{
    Config, Result,
    account::{self, SessionToken},
    cache, campaign, compendium, db,
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
        Ok(Self {
            db,
            redis,
            leptos,
            secure_cookies: config.secure_cookies,
        })
    }
}

#[async_trait::async_trait]
impl Backend for AppState {
    async fn sign_up(
        &self,
        login: LoginName,
        display_name: DisplayName,
        password: Password,
    ) -> Result<(User, String), AppError> {
        let user = account::sign_up(&self.db, &login, &display_name, &password).await?;
        let token = account::start_session(&self.db, user.id).await?;
        tracing::info!(user = %user.id, "account created");
        Ok((user, token.as_str().to_owned()))
    }

    async fn log_in(&self, login: String, password: String) -> Result<(User, String), AppError> {
        let user = account::authenticate(&self.db, &login, &password).await?;
        let token = account::start_session(&self.db, user.id).await?;
        Ok((user, token.as_str().to_owned()))
    }

    async fn log_out(&self, token: String) -> Result<(), AppError> {
        Ok(account::end_session(&self.db, &SessionToken::from_cookie(&token)).await?)
    }

    async fn user(&self, token: String) -> Result<Option<User>, AppError> {
        Ok(account::user_for(&self.db, &SessionToken::from_cookie(&token)).await?)
    }

    fn secure_cookies(&self) -> bool {
        self.secure_cookies
    }

    async fn search_compendium(
        &self,
        query: CompendiumQuery,
    ) -> Result<Vec<CompendiumEntry>, AppError> {
        Ok(compendium::search(&self.db, &query).await?)
    }

    async fn list_campaigns(&self, user: &User) -> Result<Vec<Campaign>, AppError> {
        Ok(campaign::list_for(&self.db, user.id).await?)
    }

    async fn create_campaign(&self, user: &User, new: NewCampaign) -> Result<Campaign, AppError> {
        let created = campaign::create(&self.db, user.id, &new).await?;
        tracing::info!(campaign = %created.id, gm = %user.id, "campaign created");
        Ok(created)
    }
}
