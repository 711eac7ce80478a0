//! Live sessions over real WebSockets, against a server bound to a port
//! and a real PostgreSQL, one concern per module: [`requests`] (identity,
//! the action flow, idempotency, the audit trail), [`gm`] (approval,
//! rules, expiry, the end), [`sight`] (what a player's bytes never hold),
//! [`sheet`] (checks and sheet changes at the table),
//! [`connection`] (bad frames, resume, flow control, encodings, idle
//! sessions) and [`nodes`] (Redis, and several nodes sharing sessions).
//! The whole suite runs again with `LIVE_ENGINE=redis` (the test command
//! does both).

#[path = "../support/mod.rs"]
mod support;

mod connection;
mod dice;
mod explored;
mod gm;
mod nodes;
mod replay;
mod requests;
mod sheet;
mod sight;
mod tools;
mod undo;
mod walls;

use support::table::{
    engine_state, http_get, http_get_as, join, spawn_node, spawn_server, spawn_server_with, table,
};
use support::ws::{Client, closed, join_at, move_to, open, request, resume};

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;
use server::{encounter, event_log};
use shared::{
    action::Action,
    change::Version,
    geometry::Point,
    id::{ActionId, CampaignId, EncounterId, SessionId, TokenId},
    protocol::{ClientMessage, GmDecision, RequestStatus, ServerMessage, Verdict},
    rules::{ApprovalPolicy, Role},
    store::Store,
    token::{HpShown, Visibility},
};
use sqlx::PgPool;
use tokio_tungstenite::tungstenite::{self, Message};
use uuid::Uuid;

async fn applied_events(db: &PgPool, session: SessionId) -> i64 {
    sqlx::query_scalar(
        "select count(*) from event_log where session_id = $1 and status = 'applied'",
    )
    .bind(session.0)
    .fetch_one(db)
    .await
    .unwrap()
}

/// Whether `holds` comes true within five seconds (asked every 50 ms).
async fn eventually<F: Future<Output = bool>>(holds: impl Fn() -> F) -> bool {
    for _ in 0..100 {
        if holds().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}
