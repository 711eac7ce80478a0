//! Accounts and login sessions.
//!
//! Passwords are hashed with Argon2id (off the async threads); a login
//! session is a random 256-bit token in an HttpOnly cookie, of which only
//! the SHA-256 is stored.

use std::time::Duration;

use argon2::{
    Argon2,
    password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};
use shared::{
    account::{DisplayName, LoginName, Password, User},
    id::UserId,
};
use sqlx::PgPool;
use uuid::Uuid;

use crate::{Error, Result};

/// How long a login lasts without being used.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

/// A login session's secret: the cookie value.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    /// Wraps a cookie value.
    pub fn from_cookie(value: &str) -> Self {
        Self(value.to_owned())
    }

    /// The cookie value.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn generate() -> Result<Self> {
        random_token().map(Self)
    }

    fn hash(&self) -> Vec<u8> {
        token_hash(&self.0)
    }
}

/// 256 random bits, URL-safe: session tokens and invitation links.
pub(crate) fn random_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|error| Error::Internal(format!("no randomness: {error}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// What is stored of a token: its SHA-256, so a leaked table grants nothing.
pub(crate) fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(..)")
    }
}

/// Creates an account.
pub async fn sign_up(
    db: &PgPool,
    login: &LoginName,
    display_name: &DisplayName,
    password: &Password,
) -> Result<User> {
    let hash = hash_password(password.clone()).await?;
    let id = Uuid::new_v4();
    sqlx::query(
        "insert into users (id, login, display_name, password_hash) values ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(login.as_str())
    .bind(display_name.as_str())
    .bind(hash)
    .execute(db)
    .await
    .map_err(
        |error| match error.as_database_error().and_then(|e| e.constraint()) {
            Some("users_login_key") => Error::Refused(shared::Error::LoginTaken),
            _ => Error::Database(error),
        },
    )?;
    Ok(User {
        id: UserId(id),
        login: login.as_str().to_owned(),
        display_name: display_name.as_str().to_owned(),
    })
}

/// Checks a login name and password. Unknown names and wrong passwords get
/// the same error, after the same work.
pub async fn authenticate(db: &PgPool, login: &str, password: &str) -> Result<User> {
    let row: Option<(Uuid, String, String, String)> = sqlx::query_as(
        "select id, login, display_name, password_hash from users where lower(login) = lower($1)",
    )
    .bind(login.trim())
    .fetch_optional(db)
    .await?;
    let (stored, user) = match row {
        Some((id, login, display_name, hash)) => (
            hash,
            Some(User {
                id: UserId(id),
                login,
                display_name,
            }),
        ),
        None => (dummy_hash().await?, None),
    };
    let password = password.to_owned();
    let valid = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored).is_ok_and(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
    })
    .await
    .map_err(|error| Error::Internal(format!("password check failed: {error}")))?;
    match user {
        Some(user) if valid => Ok(user),
        _ => Err(Error::Refused(shared::Error::WrongCredentials)),
    }
}

/// Starts a login session and returns its token.
pub async fn start_session(db: &PgPool, user: UserId) -> Result<SessionToken> {
    let token = SessionToken::generate()?;
    sqlx::query(
        "insert into login_sessions (token_hash, user_id, expires_at) values ($1, $2, now() + make_interval(secs => $3))",
    )
    .bind(token.hash())
    .bind(user.0)
    .bind(SESSION_LIFETIME.as_secs_f64())
    .execute(db)
    .await?;
    Ok(token)
}

/// The user a token belongs to, if the session is alive; using it extends
/// it.
pub async fn user_for(db: &PgPool, token: &SessionToken) -> Result<Option<User>> {
    let row: Option<(Uuid, String, String)> = sqlx::query_as(
        "update login_sessions s
            set last_seen_at = now(), expires_at = now() + make_interval(secs => $2)
           from users u
          where s.token_hash = $1 and s.user_id = u.id and s.expires_at > now()
      returning u.id, u.login, u.display_name",
    )
    .bind(token.hash())
    .bind(SESSION_LIFETIME.as_secs_f64())
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(id, login, display_name)| User {
        id: UserId(id),
        login,
        display_name,
    }))
}

/// Ends a login session.
pub async fn end_session(db: &PgPool, token: &SessionToken) -> Result<()> {
    sqlx::query("delete from login_sessions where token_hash = $1")
        .bind(token.hash())
        .execute(db)
        .await?;
    Ok(())
}

async fn hash_password(password: Password) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.expose().as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|error| Error::Internal(format!("password hashing failed: {error}")))
    })
    .await
    .map_err(|error| Error::Internal(format!("password hashing failed: {error}")))?
}

/// A hash of a random password with the current parameters, verified
/// against when the login name is unknown so that both cases take the same
/// time (and say nothing about which names exist).
async fn dummy_hash() -> Result<String> {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DUMMY
        .get_or_try_init(|| async {
            let secret = SessionToken::generate()?;
            let password = Password::parse(secret.as_str()).map_err(Error::Refused)?;
            hash_password(password).await
        })
        .await
        .cloned()
}
