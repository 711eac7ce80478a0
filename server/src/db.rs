//! Connecting to PostgreSQL and applying the migrations.

use std::time::Duration;

use sqlx::{Connection, PgConnection, PgPool, postgres::PgPoolOptions};

use crate::{Config, Error, Result, config::describe_database};

/// The migrations in the workspace's `migrations/` folder, embedded at build
/// time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// How long start-up waits for PostgreSQL, and a request for a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens the pool and checks that the database answers.
///
/// Fails within a few seconds, naming the target and the driver's reason
/// (refused, wrong password, no such database), rather than leaving the
/// first request to find out.
pub async fn connect(config: &Config) -> Result<PgPool> {
    let options = &config.database_url;
    let unreachable = |source| Error::DatabaseUnreachable {
        target: describe_database(options),
        source,
    };
    // One direct connection first: the pool would retry until its timeout
    // and then report only "timed out", hiding the reason.
    let probe = tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(options))
        .await
        .map_err(|_| unreachable(sqlx::Error::PoolTimedOut))?
        .map_err(unreachable)?;
    probe.close().await.map_err(unreachable)?;
    PgPoolOptions::new()
        .max_connections(config.database_max_connections)
        .acquire_timeout(CONNECT_TIMEOUT)
        .connect_with(options.clone())
        .await
        .map_err(unreachable)
}

/// Applies every migration not yet applied. Safe to run from several
/// processes at once: sqlx serializes them with an advisory lock.
pub async fn migrate(pool: &PgPool) -> Result<()> {
    MIGRATOR.run(pool).await?;
    Ok(())
}
