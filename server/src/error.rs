//! The crate's one error type.

use app::AppError;

/// Everything the server can fail at.
///
/// Start-up variants name the setting to fix, because their message is the
/// only thing an operator sees before the process exits.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting is malformed; the message names it.
    #[error("configuration error: {0}")]
    Config(String),
    /// PostgreSQL could not be reached or refused the login.
    #[error(
        "cannot connect to PostgreSQL at {target} (from DATABASE_URL): {source}. \
         Start PostgreSQL (the run command does this for you) or set DATABASE_URL to a reachable server"
    )]
    DatabaseUnreachable {
        /// Host, port and database, without credentials.
        target: String,
        /// What the driver reported.
        source: sqlx::Error,
    },
    /// The migrations in `migrations/` could not be applied.
    #[error("applying the database migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Redis is configured but could not be reached.
    #[error(
        "cannot connect to Redis at {target} (from REDIS_URL): {reason}. \
         Start Redis (the run command does this for you), or unset REDIS_URL to run on a single node without it"
    )]
    RedisUnreachable {
        /// Host and port, without credentials.
        target: String,
        /// What the client reported.
        reason: String,
    },
    /// A listening socket could not be opened.
    #[error(
        "cannot listen on {addr} (from {setting}): {source}. Stop what uses that port or choose another address"
    )]
    Bind {
        /// The setting that names the address (`LEPTOS_SITE_ADDR`,
        /// `METRICS_ADDR`).
        setting: &'static str,
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// What the OS reported.
        source: std::io::Error,
    },
    /// Serving failed after start-up.
    #[error("the server stopped with an error: {0}")]
    Serve(#[source] std::io::Error),
    /// A query failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A request the domain rules refuse (taken login, wrong password, ...);
    /// its message goes to the user.
    #[error("{0}")]
    Refused(shared::Error),
    /// Not a member of the campaign (or it does not exist: the two are not
    /// told apart).
    #[error("not a member of that campaign")]
    NotMember,
    /// A commit under a fencing epoch that is no longer the session's:
    /// another node owns it now. Nothing was written.
    #[error("session {session} is owned by another node")]
    Fenced {
        /// The session.
        session: shared::id::SessionId,
    },
    /// Compendium data that cannot be imported; names the file.
    #[error("import failed: {0}")]
    Import(String),
    /// A Redis command failed (the Redis engine's leases and messages).
    #[error("Redis error: {0}")]
    Redis(#[from] redis::RedisError),
    /// A fault with no better category and no cause underneath (an
    /// impossible value, a task that went away).
    #[error("internal error: {0}")]
    Internal(String),
    /// A fault with no better category, and what caused it: kept as the
    /// error's source, so the whole chain is there for whoever reads it.
    #[error("{doing}: {source}")]
    Failed {
        /// What was being done, in a few words.
        doing: &'static str,
        /// What failed underneath.
        #[source]
        source: BoxError,
    },
    /// Too many failed log-ins (or sign-ups) for an account or from an
    /// address: refused before any password work.
    #[error("too many attempts; retry in {retry_after:?}")]
    TooManyAttempts {
        /// How long until the next attempt may run.
        retry_after: std::time::Duration,
    },
    /// Every password hasher stayed taken for the whole wait.
    #[error("every password hasher is busy")]
    Busy,
    /// A row in the database breaks a domain rule (a corrupt or foreign row).
    #[error("a stored row is invalid: {0}")]
    CorruptRow(shared::Error),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Any error, as the cause of an [`Error::Failed`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

impl Error {
    /// Wraps the cause of a fault, saying what was being done:
    /// `.map_err(Error::failed("serializing the rules"))`.
    pub fn failed<E: Into<BoxError>>(doing: &'static str) -> impl FnOnce(E) -> Self + Copy {
        move |source| Error::Failed {
            doing,
            source: source.into(),
        }
    }

    /// A failed statement as the caller should hear of it: the refusal
    /// `refusal` gives for the constraint it broke (a taken login, an
    /// action already processed), else the database error itself. The one
    /// place where constraint names become refusals.
    pub fn on_constraint(
        error: sqlx::Error,
        refusal: impl FnOnce(&str) -> Option<shared::Error>,
    ) -> Self {
        let refused = error
            .as_database_error()
            .and_then(|e| e.constraint())
            .and_then(refusal);
        match refused {
            Some(refused) => Error::Refused(refused),
            None => Error::Database(error),
        }
    }

    /// True when retrying later can succeed: the database is down or
    /// overloaded rather than the request being wrong.
    fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::Database(
                sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed
            ) | Error::DatabaseUnreachable { .. }
                | Error::RedisUnreachable { .. }
                | Error::Redis(_)
        )
    }
}

/// What the browser may learn of a server error: the kind, never the text.
/// The full error is logged here, once.
impl From<Error> for AppError {
    fn from(error: Error) -> Self {
        if let Error::Refused(refusal) = error {
            return AppError::Invalid(refusal);
        }
        if let Error::NotMember = error {
            return AppError::Forbidden;
        }
        if let Error::TooManyAttempts { retry_after } = error {
            // Whole seconds, rounded up: never "try again in 0 s".
            let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            return AppError::TooManyAttempts {
                retry_after: seconds.max(1),
            };
        }
        if let Error::Busy = error {
            tracing::warn!("request refused: every password hasher is busy");
            return AppError::Busy;
        }
        if error.is_transient() {
            tracing::warn!(%error, "request failed: storage unavailable");
            AppError::Unavailable
        } else {
            tracing::error!(%error, "request failed");
            AppError::Internal
        }
    }
}
