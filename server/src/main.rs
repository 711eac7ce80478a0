//! Starts the server: configuration, PostgreSQL (migrated), Redis, then
//! serving until SIGINT or SIGTERM.

use std::process::ExitCode;

use server::{AppState, Config, Error, http::shutdown_signal, telemetry};
use tokio::net::TcpListener;

// The live session allocates and frees small buffers on every frame;
// mimalloc costs less per call than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    telemetry::init();
    match run().await {
        Ok(()) => {
            tracing::info!("shut down cleanly");
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!("{error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> server::Result<()> {
    let config = Config::from_env()?;
    let leptos = Config::leptos_options()?;
    let addr = leptos.site_addr;
    let state = AppState::connect(&config, leptos).await?;
    if let Some(dir) = &config.srd_dir {
        match server::compendium::srd::ensure_imported(&state.db, dir).await? {
            Some(report) => tracing::info!(
                entries = report.total(),
                "imported the SRD into the compendium"
            ),
            None => tracing::info!("the SRD is already in the compendium"),
        }
    }
    // Partitions must exist before the first write; the rest of the upkeep
    // (statistics) starts in the background.
    server::maintenance::ensure_partitions(&state.db).await?;
    let upkeep = server::maintenance::spawn(state.db.clone());
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Bind {
            setting: "LEPTOS_SITE_ADDR",
            addr,
            source,
        })?;
    // Metrics on their own address (loopback by default), never on the
    // public one; they stop with the process.
    let metrics = match config.metrics_addr() {
        Some(metrics_addr) => {
            let metrics_listener =
                TcpListener::bind(metrics_addr)
                    .await
                    .map_err(|source| Error::Bind {
                        setting: "METRICS_ADDR",
                        addr: metrics_addr,
                        source,
                    })?;
            tracing::info!("metrics at http://{metrics_addr}/metrics");
            Some(tokio::spawn(server::http::serve_metrics(
                metrics_listener,
                state.clone(),
                std::future::pending(),
            )))
        }
        None => None,
    };
    tracing::info!(
        redis = if state.redis.is_some() {
            "connected"
        } else {
            "disabled"
        },
        "serving at http://{addr}"
    );
    let served = server::serve(listener, state, shutdown_signal()).await;
    upkeep.abort();
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    served
}
