//! Periodic database upkeep: event-log partitions ahead of time, and the
//! campaign statistics view (refreshed on a timer, never per write).

use std::time::Duration;

use sqlx::PgPool;

use crate::Result;

/// Months of event-log partitions kept ready beyond the current one.
pub const PARTITIONS_AHEAD: i32 = 3;

/// How often the upkeep runs.
pub const INTERVAL: Duration = Duration::from_secs(10 * 60);

/// Creates missing event-log partitions; returns how many. Start-up runs
/// this before serving, so the first write finds its month.
pub async fn ensure_partitions(db: &PgPool) -> Result<i32> {
    Ok(sqlx::query_scalar!(
        r#"select ensure_event_log_partitions($1) as "created!""#,
        PARTITIONS_AHEAD
    )
    .fetch_one(db)
    .await?)
}

/// One round of upkeep: missing partitions (returns how many created), then
/// the statistics, refreshed without blocking readers.
pub async fn run_once(db: &PgPool) -> Result<i32> {
    let created = ensure_partitions(db).await?;
    sqlx::query!("refresh materialized view concurrently campaign_stats")
        .execute(db)
        .await?;
    Ok(created)
}

/// Runs the upkeep now and then every [`INTERVAL`] until the process ends,
/// in the background (the statistics refresh need not delay start-up). Failures are
/// logged and retried at the next round: the partitions are made months
/// ahead, so one missed round costs nothing.
pub fn spawn(db: PgPool) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut timer = tokio::time::interval(INTERVAL);
        timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            timer.tick().await;
            match run_once(&db).await {
                Ok(0) => tracing::debug!("database upkeep done"),
                Ok(created) => tracing::info!(created, "created event-log partitions"),
                Err(error) => tracing::warn!(%error, "database upkeep failed; retrying next round"),
            }
        }
    })
}
