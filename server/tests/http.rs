//! The router: health, server functions and server-side rendering, called
//! in-process against a real PostgreSQL (and Redis where noted).
//!
//! Longer than 500 lines on purpose: every file under `tests/` is its own
//! test binary linking the whole server, so one subject stays one file.

mod support;

use app::AppError;
use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use http_body_util::BodyExt;
use serde_json::Value;
use shared::{
    account::User,
    campaign::{Campaign, NewCampaign},
};
use sqlx::PgPool;
use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use tokio_tungstenite::tungstenite::{
    self, client::IntoClientRequest, http::HeaderValue as WsHeaderValue,
};
use tower::ServiceExt;

async fn send(router: &Router, request: Request<Body>) -> (StatusCode, String) {
    let uri = request.uri().clone();
    // Once, in CI, a page render never finished: a bound turns that into a
    // failure that names the page instead of a run that waits forever.
    let answer = async {
        let response = router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    };
    tokio::time::timeout(Duration::from_secs(60), answer)
        .await
        .unwrap_or_else(|_| panic!("{uri} did not answer within 60 s"))
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

/// A server-function call as the hydrated page makes it (form-encoded, JSON
/// back), with a session cookie if given.
fn call(endpoint: &str, form: &str, cookie: Option<&str>) -> Request<Body> {
    let mut request = Request::post(format!("/api/{endpoint}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request.body(Body::from(form.to_owned())).unwrap()
}

async fn campaign_count(db: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from campaigns")
        .fetch_one(db)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn healthz_reports_the_database_and_disabled_redis(db: PgPool) {
    let router = server::router(support::state(db));
    let (status, body) = send(&router, get("/healthz")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let health: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["database"]["status"], "ok");
    assert!(health["database"]["latency_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(health["redis"]["status"], "disabled");
}

#[sqlx::test(migrations = "../migrations")]
async fn healthz_reports_a_real_redis(db: PgPool) {
    let info = redis::IntoConnectionInfo::into_connection_info(support::redis_url()).unwrap();
    let mut state = support::state(db);
    state.redis = Some(server::redis_conn::connect(&info).await.unwrap());
    let (status, body) = send(&server::router(state), get("/healthz")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let health: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["redis"]["status"], "ok");
}

#[sqlx::test(migrations = "../migrations")]
async fn healthz_answers_503_when_the_database_is_gone(db: PgPool) {
    let state = support::state(db.clone());
    db.close().await;
    let (status, body) = send(&server::router(state), get("/healthz")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let health: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["database"]["status"], "down");
}

#[sqlx::test(migrations = "../migrations")]
async fn members_create_and_list_their_campaigns(db: PgPool) {
    let (_, anna) = support::signed_in(&db, "anna").await;
    let (_, bob) = support::signed_in(&db, "bob").await;
    let router = server::router(support::state(db));

    let (status, body) = send(
        &router,
        call(
            "campaigns/create",
            "name=Tomb+of+Annihilation&game_system=dnd5e",
            Some(&anna),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let created: Campaign = serde_json::from_str(&body).unwrap();
    assert_eq!(created.name.as_str(), "Tomb of Annihilation");

    let (status, body) = send(&router, call("campaigns/list", "", Some(&anna))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        serde_json::from_str::<Vec<Campaign>>(&body).unwrap(),
        vec![created]
    );

    // Another user sees none of it.
    let (status, body) = send(&router, call("campaigns/list", "", Some(&bob))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        serde_json::from_str::<Vec<Campaign>>(&body).unwrap(),
        vec![]
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn without_a_live_session_campaigns_are_401_and_nothing_is_written(db: PgPool) {
    let router = server::router(support::state(db.clone()));
    let forged = format!("{}=not-a-real-token", app::account::SESSION_COOKIE);
    for cookie in [None, Some(forged.as_str())] {
        for (endpoint, form) in [
            ("campaigns/list", ""),
            ("campaigns/create", "name=Sneaky&game_system=dnd5e"),
        ] {
            let (status, body) = send(&router, call(endpoint, form, cookie)).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{endpoint} {cookie:?}: {body}"
            );
            assert_eq!(
                serde_json::from_str::<AppError>(&body).unwrap(),
                AppError::Unauthorized
            );
        }
    }
    assert_eq!(campaign_count(&db).await, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn cross_site_writes_are_refused(db: PgPool) {
    let (_, anna) = support::signed_in(&db, "anna").await;
    let router = server::router(support::state(db.clone()));
    let mut request = call(
        "campaigns/create",
        "name=Forged&game_system=dnd5e",
        Some(&anna),
    );
    request
        .headers_mut()
        .insert(header::ORIGIN, "https://evil.example".parse().unwrap());
    request
        .headers_mut()
        .insert(header::HOST, "127.0.0.1:3000".parse().unwrap());
    let (status, _) = send(&router, request).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(campaign_count(&db).await, 0);

    // The same request from the site itself goes through.
    let mut request = call(
        "campaigns/create",
        "name=Mine&game_system=dnd5e",
        Some(&anna),
    );
    request
        .headers_mut()
        .insert(header::ORIGIN, "http://127.0.0.1:3000".parse().unwrap());
    request
        .headers_mut()
        .insert(header::HOST, "127.0.0.1:3000".parse().unwrap());
    let (status, body) = send(&router, request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[sqlx::test(migrations = "../migrations")]
async fn sign_up_log_in_and_log_out(db: PgPool) {
    let router = server::router(support::state(db.clone()));
    let sign_up = call(
        "account/sign_up",
        "login=Cleric_7&display_name=Mira&password=sanctuary!",
        None,
    );
    let response = router.clone().oneshot(sign_up).await.unwrap();
    assert!(
        response.status().is_success() || response.status().is_redirection(),
        "{}",
        response.status()
    );
    let cookie = response
        .headers()
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.starts_with(&format!("{}=", app::account::SESSION_COOKIE)),
        "{cookie}"
    );
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }
    let session = cookie.split(';').next().unwrap().to_owned();

    let (status, body) = send(&router, call("account/me", "", Some(&session))).await;
    assert_eq!(status, StatusCode::OK);
    let me: Option<User> = serde_json::from_str(&body).unwrap();
    assert_eq!(me.unwrap().display_name, "Mira");

    // Taken names (in any case), weak passwords, wrong credentials.
    for (endpoint, form, expected) in [
        (
            "account/sign_up",
            "login=cleric_7&display_name=X&password=longenough",
            shared::Error::LoginTaken,
        ),
        (
            "account/sign_up",
            "login=newbie&display_name=X&password=short",
            shared::Error::WeakPassword { min: 8 },
        ),
        (
            "account/log_in",
            "login=cleric_7&password=wrong-password",
            shared::Error::WrongCredentials,
        ),
        (
            "account/log_in",
            "login=nobody&password=sanctuary!",
            shared::Error::WrongCredentials,
        ),
    ] {
        let (status, body) = send(&router, call(endpoint, form, None)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{form}: {body}");
        assert_eq!(
            serde_json::from_str::<AppError>(&body).unwrap(),
            AppError::Invalid(expected),
            "{form}"
        );
    }

    // Logging in from an invitation goes back to it; never off the site.
    for (next, expected) in [
        ("%2Fjoin%2Fabc-DEF_1", "/join/abc-DEF_1"),
        ("%2F%2Fevil.example%2Fx", "/"),
        ("https%3A%2F%2Fevil.example", "/"),
        ("", "/"),
    ] {
        let response = router
            .clone()
            .oneshot(call(
                "account/log_in",
                &format!("login=cleric_7&password=sanctuary!&next={next}"),
                None,
            ))
            .await
            .unwrap();
        let to = response
            .headers()
            .get(header::LOCATION)
            .or_else(|| response.headers().get("serverfnredirect"))
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(to.as_deref(), Some(expected), "next={next}");
    }

    // Logging in again (name in another case) starts a second session.
    let response = router
        .clone()
        .oneshot(call(
            "account/log_in",
            "login=CLERIC_7&password=sanctuary!",
            None,
        ))
        .await
        .unwrap();
    assert!(response.headers().get(header::SET_COOKIE).is_some());

    // Logging out ends this session: the cookie no longer works.
    let response = router
        .clone()
        .oneshot(call("account/log_out", "", Some(&session)))
        .await
        .unwrap();
    let cleared = response
        .headers()
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let (_, body) = send(&router, call("account/me", "", Some(&session))).await;
    assert_eq!(serde_json::from_str::<Option<User>>(&body).unwrap(), None);
    let users: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(users, 1);
}

#[sqlx::test(migrations = "../migrations")]
async fn invalid_campaigns_get_a_clear_400_and_write_nothing(db: PgPool) {
    let (_, anna) = support::signed_in(&db, "anna").await;
    let router = server::router(support::state(db.clone()));
    let long = "x".repeat(101);
    for (form, message) in [
        (
            "name=&game_system=dnd5e".to_owned(),
            "A campaign needs a name.",
        ),
        (
            "name=+++&game_system=dnd5e".to_owned(),
            "A campaign needs a name.",
        ),
        (
            format!("name={long}&game_system=dnd5e"),
            "A campaign name can have at most 100 characters; this one has 101.",
        ),
        (
            "name=Ok&game_system=gurps".to_owned(),
            "Unknown game system \"gurps\".",
        ),
        ("game_system=dnd5e".to_owned(), "A campaign needs a name."),
        ("name=Ok".to_owned(), "Unknown game system \"\"."),
    ] {
        let (status, body) = send(&router, call("campaigns/create", &form, Some(&anna))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{form}: {body}");
        // The body is the typed error the page decodes; its message is what
        // the page shows, as a sentence.
        let error: AppError = serde_json::from_str(&body).unwrap();
        assert!(error.to_string().contains(message), "{form}: {error}");
    }
    assert_eq!(campaign_count(&db).await, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn the_page_is_rendered_on_the_server_for_its_member_only(db: PgPool) {
    let (anna, cookie) = support::signed_in(&db, "anna").await;
    let campaign = server::campaign::create(
        &db,
        anna.id,
        &NewCampaign::parse("Rime of the Frostmaiden", "dnd5e").unwrap(),
    )
    .await
    .unwrap();
    let router = server::router(support::state(db));
    let page = |cookie: Option<&str>| {
        let mut request = Request::get("/");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        request.body(Body::empty()).unwrap()
    };
    let (status, html) = send(&router, page(Some(&cookie))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Rime of the Frostmaiden"), "{html}");
    assert!(
        html.contains(&format!("data-campaign-id=\"{}\"", campaign.id)),
        "{html}"
    );
    assert!(html.contains("/pkg/tabletop"), "{html}");

    let (status, html) = send(&router, page(None)).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(!html.contains("Rime of the Frostmaiden"));
    assert!(html.contains("log-in-prompt"), "{html}");
}

#[sqlx::test(migrations = "../migrations")]
async fn unknown_pages_are_404(db: PgPool) {
    let router = server::router(support::state(db));
    let (status, html) = send(&router, get("/no/such/page")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("Page not found"), "{html}");
}

// ---------------------------------------------------------------------
// HTTP hygiene: the serve loop over real sockets, the origin check, the
// server-function bodies, log-in throttling.
// ---------------------------------------------------------------------

/// Serves `state` on a free port with the real serve loop.
async fn serve(state: server::AppState) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(server::serve(listener, state, std::future::pending()));
    addr
}

/// Reads until the server closes the connection (EOF or reset), for at
/// most `limit`; `None` if it is still open then.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    let read_all = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(limit, read_all).await.ok()?;
    Some(String::from_utf8_lossy(&received).into_owned())
}

/// A GET on an open connection, kept alive; its response (head and body).
async fn get_kept_alive(stream: &mut TcpStream, path: &str) -> String {
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("a response within 10 s")
            .unwrap_or(0);
        if n == 0 {
            break;
        }
        response.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&response).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if body.len() >= length {
                return text;
            }
        }
    }
    String::from_utf8_lossy(&response).into_owned()
}

/// Whether a new connection is closed unserved: it sends a request and
/// gets no response at all.
async fn refused(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect(addr).await else {
        return true;
    };
    // The write may already fail on a closed socket: refused as well.
    let _ = stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .await;
    read_until_closed(&mut stream, Duration::from_secs(10))
        .await
        .expect("a refused or served connection ends")
        .is_empty()
}

/// Waits until a new connection is served again (a place was given back).
async fn served_again(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while refused(addr).await {
        assert!(
            Instant::now() < deadline,
            "no place was given back within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_silent_connection_is_closed_after_the_header_timeout(db: PgPool) {
    let mut state = support::state(db);
    state.http.header_read_timeout = Duration::from_millis(300);
    let addr = serve(state).await;

    let mut silent = TcpStream::connect(addr).await.unwrap();
    let opened = Instant::now();
    let received = read_until_closed(&mut silent, Duration::from_secs(5))
        .await
        .expect("a connection that sends nothing is closed, not kept for ever");
    assert!(opened.elapsed() >= Duration::from_millis(250));
    assert!(!received.contains(" 200 "), "{received}");

    // A client that sends its request in time is served.
    let mut prompt = TcpStream::connect(addr).await.unwrap();
    let response = get_kept_alive(&mut prompt, "/healthz").await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
}

#[sqlx::test(migrations = "../migrations")]
async fn a_header_sent_a_line_at_a_time_is_closed_after_the_timeout(db: PgPool) {
    let mut state = support::state(db);
    state.http.header_read_timeout = Duration::from_millis(500);
    let addr = serve(state).await;

    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    // A slowloris: each line well within the timeout, the whole header
    // never done.
    let dribble = tokio::spawn(async move {
        if writer
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n")
            .await
            .is_err()
        {
            return;
        }
        for n in 0..100 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let line = format!("X-Slow-{n}: 1\r\n");
            if writer.write_all(line.as_bytes()).await.is_err() {
                return;
            }
        }
    });
    let opened = Instant::now();
    let mut received = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), reader.read_to_end(&mut received))
        .await
        .is_ok();
    dribble.abort();
    assert!(closed, "a header that never ends is closed within 5 s");
    assert!(opened.elapsed() >= Duration::from_millis(400));
    let received = String::from_utf8_lossy(&received);
    assert!(!received.contains(" 200 "), "{received}");
}

#[sqlx::test(migrations = "../migrations")]
async fn connections_past_the_limits_are_closed_and_places_come_back(db: PgPool) {
    // Per address, then in all (per address off).
    for (total, per_address) in [(100, 2), (2, 0)] {
        let mut state = support::state(db.clone());
        state.http.max_connections = total;
        state.http.max_connections_per_address = per_address;
        let addr = serve(state).await;

        let mut first = TcpStream::connect(addr).await.unwrap();
        let mut second = TcpStream::connect(addr).await.unwrap();
        for stream in [&mut first, &mut second] {
            let response = get_kept_alive(stream, "/healthz").await;
            assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        }
        assert!(
            refused(addr).await,
            "a third connection ({total} in all, {per_address} per address)"
        );
        // The two open ones are still served.
        let response = get_kept_alive(&mut second, "/healthz").await;
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");

        drop(first);
        served_again(addr).await;
    }
}

/// Opens the session's WebSocket with these headers; the handshake's
/// answer (101 when it upgraded).
async fn open_socket(
    addr: SocketAddr,
    table: &support::table::Table,
    cookie: &str,
    origin: Option<&str>,
) -> Result<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>,
    StatusCode,
> {
    let mut request = format!("ws://{addr}/ws/sessions/{}", table.session)
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("cookie", WsHeaderValue::from_str(cookie).unwrap());
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("origin", WsHeaderValue::from_str(origin).unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, response)) => {
            assert_eq!(response.status().as_u16(), 101);
            Ok(socket)
        }
        Err(tungstenite::Error::Http(response)) => {
            Err(StatusCode::from_u16(response.status().as_u16()).unwrap())
        }
        Err(error) => panic!("the handshake failed: {error}"),
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn a_websocket_keeps_its_place_until_it_closes(db: PgPool) {
    let table = support::table::table(db.clone()).await;
    let mut state = support::state(db);
    state.http.max_connections_per_address = 2;
    let addr = serve(state).await;

    let gm = open_socket(addr, &table, &table.gm.cookie, None)
        .await
        .unwrap();
    let player = open_socket(addr, &table, &table.alice.cookie, None)
        .await
        .unwrap();
    // Both handshakes are over: hyper has handed the sockets to the
    // upgrades and ended their HTTP connections. They still count.
    assert!(
        refused(addr).await,
        "two open WebSockets fill a limit of two"
    );
    drop(player);
    served_again(addr).await;
    drop(gm);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_websocket_from_another_origin_is_refused_before_the_upgrade(db: PgPool) {
    let table = support::table::table(db.clone()).await;
    let mut state = support::state(db.clone());
    state.http.allowed_origins =
        server::http::AllowedOrigins::parse("https://play.example.com").unwrap();
    let addr = serve(state.clone()).await;
    let gm = &table.gm.cookie;

    assert_eq!(
        open_socket(addr, &table, gm, Some("http://evil.example"))
            .await
            .err(),
        Some(StatusCode::FORBIDDEN)
    );
    assert_eq!(
        open_socket(addr, &table, gm, Some("null")).await.err(),
        Some(StatusCode::FORBIDDEN)
    );
    // The site itself, a configured origin, and a client that sends no
    // origin (not a browser, so no victim's cookie) are let through.
    for origin in [
        Some(format!("http://{addr}")),
        Some("https://play.example.com".to_owned()),
        None,
    ] {
        let socket = open_socket(addr, &table, gm, origin.as_deref()).await;
        assert!(socket.is_ok(), "{origin:?}: {:?}", socket.err());
    }

    // ALLOWED_ORIGINS applies to writes as well.
    let (_, anna) = support::signed_in(&db, "anna").await;
    let router = server::router(state);
    for (origin, expected) in [
        ("https://play.example.com", StatusCode::OK),
        ("https://evil.example", StatusCode::FORBIDDEN),
    ] {
        let mut request = call(
            "campaigns/create",
            "name=Elsewhere&game_system=dnd5e",
            Some(&anna),
        );
        request
            .headers_mut()
            .insert(header::ORIGIN, origin.parse().unwrap());
        request
            .headers_mut()
            .insert(header::HOST, "127.0.0.1:3000".parse().unwrap());
        let (status, body) = send(&router, request).await;
        assert_eq!(status, expected, "{origin}: {body}");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn metrics_are_served_on_their_own_address_only(db: PgPool) {
    let state = support::state(db);
    let (status, _) = send(&server::router(state.clone()), get("/metrics")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(server::http::serve_metrics(
        listener,
        state,
        std::future::pending(),
    ));
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let response = get_kept_alive(&mut stream, "/metrics").await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("tabletop_sockets"), "{response}");
    // And nothing else is there.
    let response = get_kept_alive(&mut stream, "/healthz").await;
    assert!(response.starts_with("HTTP/1.1 404"), "{response}");
}

/// A server-function call with a JSON body (the `input = Json` ones).
fn call_json(endpoint: &str, body: Vec<u8>, cookie: &str) -> Request<Body> {
    Request::post(format!("/api/{endpoint}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/json")
        .header(header::COOKIE, cookie)
        .body(Body::from(body))
        .unwrap()
}

#[sqlx::test(migrations = "../migrations")]
async fn oversize_server_function_bodies_are_413_with_the_limit(db: PgPool) {
    let (_, anna) = support::signed_in(&db, "anna").await;
    let router = server::router(support::state(db.clone()));
    let max = server::http::MAX_SERVER_FN_BODY;
    let form = |len: usize| {
        let prefix = "game_system=dnd5e&name=";
        format!("{prefix}{}", "x".repeat(len - prefix.len()))
    };

    // At the limit: read and judged (the name is too long).
    let (status, body) = send(&router, call("campaigns/create", &form(max), Some(&anna))).await;
    let start: String = body.chars().take(200).collect();
    assert_eq!(status, StatusCode::BAD_REQUEST, "{start}");
    let judged: AppError = serde_json::from_str(&body).unwrap();
    assert!(
        matches!(
            judged,
            AppError::Invalid(shared::Error::CampaignNameTooLong { max: 100, .. })
        ),
        "{start}"
    );

    // One past it: refused unread, whether the length is declared...
    let mut declared = call("campaigns/create", &form(max + 1), Some(&anna));
    declared
        .headers_mut()
        .insert(header::CONTENT_LENGTH, (max + 1).into());
    // ... or only found out while reading.
    let streamed = call("campaigns/create", &form(max + 1), Some(&anna));
    for request in [declared, streamed] {
        let (status, body) = send(&router, request).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
        let error: AppError = serde_json::from_str(&body).unwrap();
        assert_eq!(
            error,
            AppError::Invalid(shared::Error::OverLimit {
                what: "a server function's request body (bytes)".into(),
                max,
            })
        );
        assert!(error.to_string().contains(&max.to_string()), "{error}");
    }
    assert_eq!(campaign_count(&db).await, 0);
}

#[sqlx::test(migrations = "../migrations")]
async fn malformed_server_function_bodies_are_400_with_the_typed_error(db: PgPool) {
    let (_, anna) = support::signed_in(&db, "anna").await;
    let router = server::router(support::state(db));
    let unreadable = AppError::Transport(leptos::server_fn::error::ServerFnErrorErr::Args(
        "the request's arguments could not be read".into(),
    ));
    for request in [
        call_json("compendium/search", b"{not json".to_vec(), &anna),
        call_json("compendium/search", br#"{"query": 42}"#.to_vec(), &anna),
        // Not UTF-8.
        call("campaigns/create", "", Some(&anna)).map(|_| Body::from(vec![b'n', 0xff, 0xfe])),
    ] {
        let (status, body) = send(&router, request).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(serde_json::from_str::<AppError>(&body).unwrap(), unreadable);
        assert!(!body.contains("line 1"), "no parser text: {body}");
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn nul_in_a_server_function_body_is_400_and_writes_nothing(db: PgPool) {
    let (_, anna) = support::signed_in(&db, "anna").await;
    let router = server::router(support::state(db.clone()));
    let unstorable = AppError::Invalid(shared::Error::UnstorableText {
        what: "the request".into(),
    });
    let mut raw = b"game_system=dnd5e&name=a".to_vec();
    raw.push(0);
    for request in [
        call(
            "campaigns/create",
            "game_system=dnd5e&name=a%00b",
            Some(&anna),
        ),
        call("campaigns/create", "", Some(&anna)).map(|_| Body::from(raw.clone())),
        // Would otherwise reach PostgreSQL as a search term.
        call_json(
            "compendium/search",
            br#"{"query":{"text":"fire\u0000ball"}}"#.to_vec(),
            &anna,
        ),
    ] {
        let (status, body) = send(&router, request).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(serde_json::from_str::<AppError>(&body).unwrap(), unstorable);
    }
    // An escaped backslash before u0000 is text, and goes through.
    let (status, body) = send(
        &router,
        call_json(
            "compendium/search",
            br#"{"query":{"text":"fire\\u0000ball"}}"#.to_vec(),
            &anna,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(campaign_count(&db).await, 0);
}

/// A server-function call as if from `client` (what the serve loop puts
/// in every request).
fn from(client: &str, mut request: Request<Body>) -> Request<Body> {
    let addr: SocketAddr = format!("{client}:40000").parse().unwrap();
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(addr));
    request
}

#[sqlx::test(migrations = "../migrations")]
async fn log_in_backs_off_per_account_with_a_typed_error_naming_the_wait(db: PgPool) {
    support::signed_in(&db, "victim").await;
    let router = server::router(support::state(db));
    let log_in = |password: &str, client: &str| {
        from(
            client,
            call(
                "account/log_in",
                &format!("login=victim&password={password}"),
                None,
            ),
        )
    };
    // Five free failures, from anywhere.
    for n in 0..5 {
        let (status, body) = send(&router, log_in("wrong-guess", &format!("192.0.2.{n}"))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
    let response = router
        .clone()
        .oneshot(log_in("wrong-guess", "192.0.2.99"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()[header::RETRY_AFTER], "1");
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let error: AppError = serde_json::from_slice(&body).unwrap();
    assert_eq!(error, AppError::TooManyAttempts { retry_after: 1 });
    assert_eq!(error.to_string(), "Too many attempts; try again in 1 s.");

    // The right password is refused too while the account waits...
    let (status, _) = send(&router, log_in("correct+horse+battery", "192.0.2.100")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // ... and let in once the wait is over, which starts it afresh.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let response = router
        .clone()
        .oneshot(log_in("correct+horse+battery", "192.0.2.100"))
        .await
        .unwrap();
    assert!(
        response.headers().get(header::SET_COOKIE).is_some(),
        "{}",
        response.status()
    );
    let (status, body) = send(&router, log_in("wrong-guess", "192.0.2.100")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[sqlx::test(migrations = "../migrations")]
async fn log_in_and_sign_up_back_off_per_address(db: PgPool) {
    support::signed_in(&db, "victim").await;
    let router = server::router(support::state(db));
    let log_in = |login: &str, client: &str| {
        from(
            client,
            call(
                "account/log_in",
                &format!("login={login}&password=wrong-guess"),
                None,
            ),
        )
    };
    // One address guessing at many accounts (one failure each).
    for n in 0..20 {
        let (status, body) = send(&router, log_in(&format!("user{n}"), "198.51.100.7")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{n}: {body}");
    }
    let (status, body) = send(&router, log_in("victim", "198.51.100.7")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(matches!(
        serde_json::from_str::<AppError>(&body).unwrap(),
        AppError::TooManyAttempts { retry_after: 1 }
    ));
    // Another address is not held back.
    let (status, body) = send(&router, log_in("victim", "198.51.100.8")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // Sign-ups: five from one address, then a wait.
    let sign_up = |n: usize, client: &str| {
        from(
            client,
            call(
                "account/sign_up",
                &format!("login=newcomer{n}&display_name=N&password=long+enough"),
                None,
            ),
        )
    };
    for n in 0..5 {
        let response = router
            .clone()
            .oneshot(sign_up(n, "203.0.113.5"))
            .await
            .unwrap();
        assert!(
            response.status().is_success() || response.status().is_redirection(),
            "{n}: {}",
            response.status()
        );
    }
    let (status, body) = send(&router, sign_up(5, "203.0.113.5")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let response = router
        .clone()
        .oneshot(sign_up(5, "203.0.113.6"))
        .await
        .unwrap();
    assert!(
        response.status().is_success() || response.status().is_redirection(),
        "{}",
        response.status()
    );
}
