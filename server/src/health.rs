//! `GET /healthz`: whether the server can reach what it depends on.
//!
//! Answers 200 when every configured dependency answers, 503 otherwise, with
//! a JSON body a person or a load balancer can read. Reasons are short and
//! generic; details go to the log.

use std::time::{Duration, Instant};

use axum::{Json, extract::State, http::StatusCode};
use serde::Serialize;

use crate::{AppState, redis_conn};

/// How long one dependency may take before it counts as down.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The whole report.
#[derive(Debug, Serialize)]
pub struct Health {
    /// `ok` when every dependency is `ok` or `disabled`, else `degraded`.
    pub status: &'static str,
    /// PostgreSQL.
    pub database: Check,
    /// Redis.
    pub redis: Check,
}

/// One dependency's state.
#[derive(Debug, Serialize)]
pub struct Check {
    /// `ok`, `down` or `disabled`.
    pub status: &'static str,
    /// Round-trip time of the check, when it answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    /// Why it is down.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'static str>,
}

impl Check {
    fn is_healthy(&self) -> bool {
        self.status != "down"
    }
}

/// The handler.
pub async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let (database, redis) = tokio::join!(check_database(&state), check_redis(&state));
    let healthy = database.is_healthy() && redis.is_healthy();
    let code = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let status = if healthy { "ok" } else { "degraded" };
    (
        code,
        Json(Health {
            status,
            database,
            redis,
        }),
    )
}

async fn check_database(state: &AppState) -> Check {
    timed(async {
        sqlx::query_scalar!("select 1 as one")
            .fetch_one(&state.db)
            .await
            .map(drop)
            .map_err(|error| tracing::warn!(%error, "health check: database"))
    })
    .await
}

async fn check_redis(state: &AppState) -> Check {
    let Some(manager) = &state.redis else {
        return Check {
            status: "disabled",
            latency_ms: None,
            error: None,
        };
    };
    let mut manager = manager.clone();
    timed(async move {
        redis_conn::ping(&mut manager)
            .await
            .map_err(|error| tracing::warn!(%error, "health check: redis"))
    })
    .await
}

async fn timed(check: impl Future<Output = Result<(), ()>>) -> Check {
    let start = Instant::now();
    match tokio::time::timeout(CHECK_TIMEOUT, check).await {
        Ok(Ok(())) => Check {
            status: "ok",
            latency_ms: Some(start.elapsed().as_secs_f64() * 1000.0),
            error: None,
        },
        Ok(Err(())) => Check {
            status: "down",
            latency_ms: None,
            error: Some("unreachable"),
        },
        Err(_) => Check {
            status: "down",
            latency_ms: None,
            error: Some("timed out"),
        },
    }
}
