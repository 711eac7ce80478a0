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
use shared::campaign::{Campaign, NewCampaign};
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
/// back).
fn call(endpoint: &str, form: &str) -> Request<Body> {
    Request::post(format!("/api/{endpoint}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .body(Body::from(form.to_owned()))
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
async fn server_functions_create_and_list_campaigns(db: PgPool) {
    let router = server::router(support::state(db));

    let (status, body) = send(
        &router,
        call(
            "campaigns/create",
            "name=Tomb+of+Annihilation&game_system=dnd5e",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let created: Campaign = serde_json::from_str(&body).unwrap();
    assert_eq!(created.name.as_str(), "Tomb of Annihilation");

    let (status, body) = send(&router, call("campaigns/list", "")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let listed: Vec<Campaign> = serde_json::from_str(&body).unwrap();
    assert_eq!(listed, vec![created]);
}

#[sqlx::test(migrations = "../migrations")]
async fn invalid_campaigns_get_a_clear_400_and_write_nothing(db: PgPool) {
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
        let (status, body) = send(&router, call("campaigns/create", &form)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{form}: {body}");
        // The body is the typed error the page decodes; its message is what
        // the page shows.
        let error: AppError = serde_json::from_str(&body).unwrap();
        assert!(error.to_string().contains(message), "{form}: {error}");
    }
    assert!(server::campaign::list(&db).await.unwrap().is_empty());
}

#[sqlx::test(migrations = "../migrations")]
async fn the_page_is_rendered_on_the_server_with_the_campaigns(db: PgPool) {
    let campaign = server::campaign::create(
        &db,
        &NewCampaign::parse("Rime of the Frostmaiden", "dnd5e").unwrap(),
    )
    .await
    .unwrap();
    let router = server::router(support::state(db));
    let (status, html) = send(&router, get("/")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Rime of the Frostmaiden"), "{html}");
    assert!(
        html.contains(&format!("data-campaign-id=\"{}\"", campaign.id)),
        "{html}"
    );
    // The hydration script for the wasm bundle is linked.
    assert!(html.contains("/pkg/tabletop"), "{html}");
}

#[sqlx::test(migrations = "../migrations")]
async fn unknown_pages_are_404(db: PgPool) {
    let router = server::router(support::state(db));
    let (status, html) = send(&router, get("/no/such/page")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("Page not found"), "{html}");
}
