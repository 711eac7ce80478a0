//! The router and the serve loop.
//!
//! The serve loop is our own accept loop around hyper's HTTP/1 connection
//! rather than `axum::serve`, which has neither a header timer nor a
//! connection limit: a client that opens sockets and sends nothing (or a
//! header a byte at a time) would hold them open for ever.
//!
//! # Layout
//! - [`origin`]: writes and WebSocket upgrades from other sites refused.
//! - `auth`: who is asking ([`CurrentUser`]) and errors as JSON
//!   ([`ApiError`]), for the routes that are not server functions.
//! - `server_fn`: server-function bodies bounded and checked, decoding
//!   failures answered 400.
//! - `connection`: how many connections are open, in all and per client
//!   address.

use std::{
    net::{IpAddr, Ipv6Addr},
    pin::pin,
    sync::Arc,
    time::Duration,
};

use app::{App, Backend, shell};
use axum::{
    Router,
    body::Body,
    extract::{ConnectInfo, Request},
    middleware,
    routing::get,
};
use hyper::{body::Incoming, server::conn::http1};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    service::TowerToHyperService,
};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tokio::{net::TcpListener, sync::watch};
use tower::ServiceExt;
use tower_http::trace::TraceLayer;

use crate::{AppState, Result, api, health, live, metrics};

mod auth;
mod connection;
pub mod origin;
mod server_fn;

pub(crate) use auth::user;
pub use auth::{ApiError, CurrentUser};
pub use origin::AllowedOrigins;
pub use server_fn::MAX_SERVER_FN_BODY;

/// How long a client has to send a request's headers, by default.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections open at once, by default.
pub const DEFAULT_MAX_CONNECTIONS: usize = 20_000;
/// Connections open at once from one client address, by default.
pub const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS: usize = 1_000;

/// What the serve loop and the origin check take from the configuration.
#[derive(Clone, Debug)]
pub struct Settings {
    /// How long a client has to send a request's headers, counted from the
    /// connection's opening (or, on a kept-alive connection, from the
    /// previous response). Silent and slow clients are disconnected.
    pub header_read_timeout: Duration,
    /// Connections open at once, WebSockets included; more are closed as
    /// soon as they are accepted.
    pub max_connections: usize,
    /// The same for one client address (an IPv6 /64 counts as one
    /// address); 0: no limit per address.
    pub max_connections_per_address: usize,
    /// Origins besides the site's own that may write and open WebSockets.
    pub allowed_origins: AllowedOrigins,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_connections_per_address: DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
            allowed_origins: AllowedOrigins::default(),
        }
    }
}

/// Every public route: health, the server functions, the pages and static
/// files. `/metrics` is not among them: see [`metrics_router`].
pub fn router(state: AppState) -> Router {
    let backend: Arc<dyn Backend> = Arc::new(state.clone());
    let routes = generate_route_list(App);
    let origins = state.http.allowed_origins.clone();
    Router::new()
        .route("/healthz", get(health::healthz))
        // Every domain's routes that are not pages or server functions,
        // merged here and nowhere else.
        .merge(api::routes())
        .merge(live::routes())
        .leptos_routes_with_context(&state, routes, move || provide_context(backend.clone()), {
            let options = state.leptos.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        // The last layer runs first: the origin check refuses before a
        // body is read.
        .layer(middleware::from_fn(server_fn::bounded_bodies))
        .layer(middleware::from_fn_with_state(origins, origin::same_origin))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// `GET /metrics` alone, for the metrics address (`METRICS_ADDR`): the
/// numbers say how busy the server is and are not for the public.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics::metrics))
        .with_state(state)
}

/// Serves [`router`] until `shutdown` completes, then lets in-flight
/// requests finish and closes the database pool.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let db = state.db.clone();
    let settings = state.http.clone();
    serve_router(listener, router(state), &settings, shutdown).await;
    db.close().await;
    Ok(())
}

/// Serves [`metrics_router`] until `shutdown` completes.
pub async fn serve_metrics(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let settings = state.http.clone();
    serve_router(listener, metrics_router(state), &settings, shutdown).await;
    Ok(())
}

/// The address the per-address limits count by: IPv4 as is, IPv6 by its
/// /64 (one subscriber usually holds a whole /64, so counting single
/// addresses would let one client take 2^64 places). An IPv4 client of a
/// dual-stack listener counts as its IPv4 address.
pub fn client_address(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
        v4 => v4,
    }
}

/// The accept loop: one task per connection, each speaking HTTP/1 with a
/// header timer, within the connection limits.
///
/// HTTP/1 only (as `axum::serve` without its `http2` feature, which this
/// server never enabled): hyper's HTTP/1 header timer starts when the
/// connection does, so a client that sends nothing is closed too, whereas
/// the automatic HTTP/1-or-2 builder first waits for bytes to tell the
/// versions apart, with no timer. Browsers only speak HTTP/2 over TLS, which
/// a proxy in front terminates.
async fn serve_router(
    listener: TcpListener,
    router: Router,
    settings: &Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let admission = connection::Admission::new(
        settings.max_connections,
        settings.max_connections_per_address,
    );
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(settings.header_read_timeout);
    // `stop` closes when shutdown begins; `done` closes when the last
    // connection task has ended.
    let (stop_tx, stop_rx) = watch::channel(());
    tokio::spawn(async move {
        shutdown.await;
        drop(stop_rx);
    });
    let (done_tx, done_rx) = watch::channel(());
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    accept_failed(error).await;
                    continue;
                }
            },
            () = stop_tx.closed() => break,
        };
        // Over a limit the socket is dropped here, which closes it: the
        // client learns at once, and the backlog does not fill with
        // connections nobody will serve.
        let Some(place) = admission.admit(peer.ip()) else {
            continue;
        };
        // Live sessions send small frames back to back; Nagle's algorithm
        // would hold each behind the previous one's acknowledgement (40 ms
        // with delayed ACKs).
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::warn!(%error, "cannot set TCP_NODELAY");
        }
        let io = TokioIo::new(connection::Admitted::new(tcp, place));
        let service = TowerToHyperService::new(router.clone().map_request(
            move |request: Request<Incoming>| {
                let mut request = request.map(Body::new);
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            },
        ));
        let serving = http.serve_connection(io, service).with_upgrades();
        let stop = stop_tx.clone();
        let done = done_rx.clone();
        tokio::spawn(async move {
            let mut serving = pin!(serving);
            let mut stopping = pin!(stop.closed());
            let mut asked_to_stop = false;
            loop {
                tokio::select! {
                    served = serving.as_mut() => {
                        if let Err(error) = served {
                            tracing::debug!(%error, %peer, "connection ended with an error");
                        }
                        break;
                    }
                    () = &mut stopping, if !asked_to_stop => {
                        // Finishes the request in flight, then closes.
                        asked_to_stop = true;
                        serving.as_mut().graceful_shutdown();
                    }
                }
            }
            drop(done);
        });
    }
    drop(done_rx);
    drop(listener);
    done_tx.closed().await;
}

/// A failed `accept`: a connection that died in the queue is nobody's
/// concern; anything else (out of file descriptors) is logged and waited
/// out, so the loop does not spin.
async fn accept_failed(error: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(%error, "cannot accept connections; retrying in a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM (what service managers send).
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("interrupt received, shutting down"),
        () = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_count_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_address(a), client_address(b));
        assert_ne!(client_address(a), client_address(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(
            client_address(mapped),
            "192.0.2.7".parse::<IpAddr>().unwrap()
        );
    }
}
