//! The tabletop's HTTP server.
//!
//! It serves the server-rendered Leptos app and its server functions, owns
//! the PostgreSQL pool and the optional Redis connection, and reports health.
//! `main.rs` only wires these together; tests build the same [`router`] and
//! call it directly or bind it to port 0.
//!
//! # Layout
//! - [`config`]: the one configuration struct, read from the environment.
//! - [`state`]: [`AppState`], the shared handles every request uses.
//! - `backend`: the app's `Backend` port implemented over the repositories:
//!   every server function's body and its checks.
//! - [`db`] and [`redis_conn`]: connecting to PostgreSQL (and migrating) and Redis.
//! - [`account`]: accounts, password hashing and login sessions; the gate
//!   that throttles log-ins and bounds hashing.
//! - [`campaign`]: the campaign repository, scoped to members.
//! - [`compendium`]: rules content; the SRD importer.
//! - [`actor`]: the actor repository (create from a compendium entry).
//! - [`report`]: the seed's cross-data queries (spellcasters, encounter
//!   builder).
//! - [`media`]: uploads, deduplicated by SHA-256, in three storage tiers.
//! - [`membership`]: members, roles and invitations.
//! - [`item`]: campaign items and inventories.
//! - [`encounter`]: encounters and their tokens, loaded as `shared` types.
//! - [`live`]: live sessions: the WebSocket, the session actor, the hub.
//! - [`event_log`]: the session event log: requests, decisions, commits,
//!   replay and snapshots.
//! - [`export`]: a campaign as one JSON document, and back.
//! - [`maintenance`]: event-log partitions and statistics on a timer.
//! - [`health`]: `GET /healthz`.
//! - [`metrics`]: `GET /metrics` (Prometheus), served on its own address.
//! - [`api`]: the streaming endpoints: media upload and download, campaign
//!   export and import.
//! - [`http`]: the router, its origin and body checks, and the serve loop
//!   (header timeout, connection limits, graceful shutdown).
//! - [`telemetry`]: `tracing` set-up.
//! - [`error`]: the crate's one error type.

pub mod account;
pub mod actor;
pub mod api;
mod backend;
pub mod campaign;
pub mod compendium;
pub mod config;
pub mod db;
pub mod encounter;
pub mod error;
pub mod event_log;
pub mod export;
pub mod health;
pub mod http;
pub mod item;
pub mod live;
pub mod maintenance;
pub mod media;
pub mod membership;
pub mod metrics;
pub mod redis_conn;
pub mod replay;
pub mod report;
pub mod state;
pub mod telemetry;

pub use config::Config;
pub use error::{Error, Result};
pub use http::{router, serve};
pub use state::AppState;
