//! Requests a browser sends on another site's behalf are refused.
//!
//! Browsers send `Origin` with every cross-site POST (forms and fetches) and
//! with every WebSocket handshake. A state-changing request or a WebSocket
//! upgrade whose origin is neither this host nor one of the configured
//! [`AllowedOrigins`] is a forgery attempt (another site using the
//! visitor's cookie) and is refused with 403 before anything runs; for a
//! WebSocket that means before the upgrade, so the socket never opens.
//! Requests without `Origin` come from non-browser clients, which cannot
//! carry a victim's cookie. The session cookie is also `SameSite=Lax`, so
//! for writes this is the second of two locks; for WebSockets (a GET, which
//! `Lax` lets through) it is the only one.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::{HeaderMap, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// Origins besides the site's own that may write and open WebSockets
/// (`ALLOWED_ORIGINS`), each as `scheme://host[:port]`, lowercase.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowedOrigins(Arc<[String]>);

impl AllowedOrigins {
    /// Parses a comma-separated list such as
    /// `https://play.example.com, http://localhost:3000`; empty: none.
    pub fn parse(list: &str) -> Result<Self, String> {
        let origins = list
            .split(',')
            .map(str::trim)
            .filter(|origin| !origin.is_empty())
            .map(|origin| {
                let normal = origin.trim_end_matches('/').to_ascii_lowercase();
                let host = normal
                    .strip_prefix("https://")
                    .or_else(|| normal.strip_prefix("http://"));
                match host {
                    Some(host)
                        if !host.is_empty()
                            && !host.contains(['/', '?', '#', '@'])
                            && !host.contains(char::is_whitespace) =>
                    {
                        Ok(normal)
                    }
                    _ => Err(format!(
                        "{origin:?} is not an origin; use the form https://play.example.com"
                    )),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self(origins.into()))
    }

    /// The origins, as configured (normalized).
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    /// Whether a request with this `Origin` and this `Host` comes from the
    /// site itself or from an allowed origin.
    fn allows(&self, origin: &str, host: Option<&str>) -> bool {
        let origin = origin.trim_end_matches('/');
        let Some((_, origin_host)) = origin.split_once("://") else {
            // `null` (sandboxed frames, some redirects) and garbage.
            return false;
        };
        host.is_some_and(|host| origin_host.eq_ignore_ascii_case(host))
            || self
                .0
                .iter()
                .any(|allowed| allowed.eq_ignore_ascii_case(origin))
    }
}

/// Refuses state-changing requests and WebSocket upgrades from other sites.
pub(super) async fn same_origin(
    State(allowed): State<AllowedOrigins>,
    request: Request,
    next: Next,
) -> Response {
    let upgrade = is_websocket_upgrade(request.headers());
    if !upgrade
        && matches!(
            *request.method(),
            Method::GET | Method::HEAD | Method::OPTIONS
        )
    {
        return next.run(request).await;
    }
    let headers = request.headers();
    if let Some(origin) = headers.get(header::ORIGIN) {
        let host = headers
            .get(header::HOST)
            .and_then(|host| host.to_str().ok())
            .or_else(|| request.uri().authority().map(|a| a.as_str()));
        let allowed = origin
            .to_str()
            .is_ok_and(|origin| allowed.allows(origin, host));
        if !allowed {
            let what = if upgrade { "WebSocket" } else { "write" };
            tracing::warn!(?origin, ?host, path = %request.uri().path(), "cross-site {what} refused");
            return (
                StatusCode::FORBIDDEN,
                format!("cross-site {what} refused: origin not allowed"),
            )
                .into_response();
        }
    }
    next.run(request).await
}

/// A WebSocket handshake: `Upgrade: websocket` (any case; browsers send
/// it on a GET).
fn is_websocket_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::UPGRADE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|protocol| protocol.trim().eq_ignore_ascii_case("websocket"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_parsed_normalized_and_checked() {
        let allowed =
            AllowedOrigins::parse(" https://Play.Example.com/ ,http://localhost:3000,").unwrap();
        assert_eq!(
            allowed.as_slice(),
            ["https://play.example.com", "http://localhost:3000"]
        );
        assert!(AllowedOrigins::parse("").unwrap().as_slice().is_empty());
        for bad in [
            "play.example.com",
            "ftp://x",
            "https://",
            "https://x/path",
            "https://a b",
        ] {
            let error = AllowedOrigins::parse(bad).unwrap_err();
            assert!(error.contains("https://play.example.com"), "{error}");
        }
    }

    #[test]
    fn the_site_itself_and_allowed_origins_pass() {
        let allowed = AllowedOrigins::parse("https://play.example.com").unwrap();
        let host = Some("127.0.0.1:3000");
        assert!(allowed.allows("http://127.0.0.1:3000", host));
        assert!(allowed.allows("https://PLAY.example.com", host));
        assert!(!allowed.allows("http://evil.example", host));
        assert!(!allowed.allows("https://play.example.com.evil.example", host));
        assert!(!allowed.allows("null", host));
        assert!(!allowed.allows("http://127.0.0.1:3000", None));
    }

    #[test]
    fn upgrades_are_recognized_in_any_case() {
        let mut headers = HeaderMap::new();
        assert!(!is_websocket_upgrade(&headers));
        headers.insert(header::UPGRADE, "WebSocket".parse().unwrap());
        assert!(is_websocket_upgrade(&headers));
    }
}
