//! `GET /metrics`: the server's numbers in the Prometheus text format
//! (`prometheus-client`): sockets, live sessions (owned here, and served
//! here through their owner on another node), waiting requests, commit
//! latency, send-queue depth, requests by outcome.

use std::sync::{
    Arc,
    atomic::{AtomicI64, AtomicU64},
};

use axum::{
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

use crate::AppState;

/// How a request ended, as a label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Outcome {
    /// `applied`, `queued`, `rejected`, `expired` or `repeated`.
    pub outcome: &'static str,
}

/// Every metric, cheap to clone (each is a shared handle).
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    /// Open WebSockets.
    pub sockets: Gauge,
    /// Session actors running on this node (the sessions it owns).
    pub sessions: Gauge,
    /// Sessions another node owns that sockets here are served through
    /// (Redis engine).
    pub proxied: Gauge,
    /// Requests waiting for a GM, over all sessions here.
    pub pending: Gauge,
    /// Seconds to write a commit batch to the event log.
    pub commit_seconds: Histogram,
    /// Commits written.
    pub commits: Counter,
    /// Requests written alone after their batch failed (one bad row).
    pub written_alone: Counter,
    /// Frames queued for the slowest socket at the last fan-out.
    pub send_queue_depth: Gauge<i64, AtomicI64>,
    /// Requests by outcome.
    pub requests: Family<Outcome, Counter<u64, AtomicU64>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let sockets = Gauge::default();
        let sessions = Gauge::default();
        let pending = Gauge::default();
        let proxied = Gauge::default();
        // 100 µs to about 3.3 s.
        let commit_seconds = Histogram::new(exponential_buckets(0.0001, 2.0, 16));
        let commits = Counter::default();
        let written_alone = Counter::default();
        let send_queue_depth = Gauge::default();
        let requests = Family::default();
        let mut registry = Registry::with_prefix("tabletop");
        registry.register("sockets", "Open WebSockets", sockets.clone());
        registry.register(
            "live_sessions",
            "Session actors running on this node",
            sessions.clone(),
        );
        registry.register(
            "proxied_sessions",
            "Sessions owned by another node that sockets here are served through",
            proxied.clone(),
        );
        registry.register(
            "pending_requests",
            "Requests waiting for a GM",
            pending.clone(),
        );
        registry.register(
            "commit_seconds",
            "Time to write a commit batch to the event log",
            commit_seconds.clone(),
        );
        registry.register(
            "commits",
            "Commits written to the event log",
            commits.clone(),
        );
        registry.register(
            "written_alone",
            "Requests written alone after their batch could not be written",
            written_alone.clone(),
        );
        registry.register(
            "send_queue_depth",
            "Frames queued for the slowest socket at the last fan-out",
            send_queue_depth.clone(),
        );
        registry.register("requests", "Action requests by outcome", requests.clone());
        Self {
            registry: Arc::new(registry),
            sockets,
            sessions,
            proxied,
            pending,
            commit_seconds,
            commits,
            written_alone,
            send_queue_depth,
            requests,
        }
    }
}

impl Metrics {
    /// Counts a request's outcome.
    pub fn request(&self, outcome: &'static str) {
        self.requests.get_or_create(&Outcome { outcome }).inc();
    }

    /// The text exposition.
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<AppState>) -> Response {
    match state.metrics.render() {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                ),
            )],
            text,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "cannot render metrics");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
