//! The router: health, server functions and server-side rendering, called
//! in-process against a real PostgreSQL (and Redis where noted).

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
use tower::ServiceExt;

async fn send(router: &Router, request: Request<Body>) -> (StatusCode, String) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
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
    state.redis = Some(server::cache::connect(&info).await.unwrap());
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
            "a campaign needs a name",
        ),
        (
            "name=+++&game_system=dnd5e".to_owned(),
            "a campaign needs a name",
        ),
        (
            format!("name={long}&game_system=dnd5e"),
            "a campaign name can have at most 100 characters; this one has 101",
        ),
        (
            "name=Ok&game_system=gurps".to_owned(),
            "unknown game system \"gurps\"",
        ),
        ("game_system=dnd5e".to_owned(), "a campaign needs a name"),
        ("name=Ok".to_owned(), "unknown game system \"\""),
    ] {
        let (status, body) = send(&router, call("campaigns/create", &form, Some(&anna))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{form}: {body}");
        // The body is the typed error the page decodes; its message is what
        // the page shows.
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
