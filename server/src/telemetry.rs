//! Logging.

use std::io::IsTerminal;

use tracing_subscriber::{EnvFilter, fmt};

/// Logs to stderr, filtered by `RUST_LOG` (default: `info`, with sqlx's
/// per-query lines only when slow).
pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    // A second init (tests) keeps the first subscriber.
    let _ = fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, not in log files.
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
