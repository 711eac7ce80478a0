//! Accounts and login sessions.
//!
//! Passwords are hashed with Argon2id (off the async threads, a bounded
//! number at once); a login session is a random 256-bit token in an
//! HttpOnly cookie, of which only the SHA-256 is stored. Log-ins back off
//! per account and per client address after repeated failures, and
//! sign-ups per address (see [`Gate`]).

use std::{
    collections::HashMap,
    hash::Hash,
    net::IpAddr,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

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
use tokio::sync::Semaphore;
use uuid::Uuid;

use crate::{Error, Result, http::client_address};

mod gate;

pub use gate::{Attempt, Gate, GatePolicy};

/// How long a login lasts without being used.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

/// A login session's secret: the cookie value.
#[derive(Clone, PartialEq, Eq)]
pub struct LoginToken(String);

impl LoginToken {
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
    getrandom::fill(&mut bytes).map_err(Error::failed("drawing random bytes"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// What is stored of a token: its SHA-256, so a leaked table grants nothing.
pub(crate) fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

impl std::fmt::Debug for LoginToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoginToken(..)")
    }
}

/// Creates an account (the password hashed within `gate`'s bound).
pub async fn sign_up(
    db: &PgPool,
    gate: &Gate,
    login: &LoginName,
    display_name: &DisplayName,
    password: &Password,
) -> Result<User> {
    let hash = hash_password(gate, password.clone()).await?;
    let id = Uuid::new_v4();
    sqlx::query!(
        "insert into users (id, login, display_name, password_hash) values ($1, $2, $3, $4)",
        id,
        login.as_str(),
        display_name.as_str(),
        hash,
    )
    .execute(db)
    .await
    .map_err(|error| {
        Error::on_constraint(error, |constraint| {
            (constraint == "users_login_key").then_some(shared::Error::LoginTaken)
        })
    })?;
    Ok(User {
        id: UserId(id),
        login: login.as_str().to_owned(),
        display_name: display_name.as_str().to_owned(),
    })
}

/// A log-in from `client`: refused while the account or the address is
/// backing off, otherwise counted as a failure before the password is
/// checked (so that guesses sent together cannot all be checked) and
/// forgiven if it was right.
pub async fn log_in(
    db: &PgPool,
    gate: &Gate,
    login: &str,
    password: &str,
    client: Option<IpAddr>,
) -> Result<User> {
    let attempt = gate.log_in_attempt(login, client)?;
    match authenticate(db, gate, login, password).await {
        Ok(user) => {
            attempt.succeeded();
            Ok(user)
        }
        Err(error @ Error::Refused(shared::Error::WrongCredentials)) => Err(error),
        // The password was never judged (busy, database down): no failure.
        Err(error) => {
            attempt.not_judged();
            Err(error)
        }
    }
}

/// Checks a login name and password. Unknown names and wrong passwords get
/// the same error, after the same work. No throttling: see [`log_in`].
pub async fn authenticate(db: &PgPool, gate: &Gate, login: &str, password: &str) -> Result<User> {
    let row = sqlx::query!(
        "select id, login, display_name, password_hash from users where lower(login) = lower($1)",
        login.trim(),
    )
    .fetch_optional(db)
    .await?;
    let (stored, user) = match row {
        Some(row) => (
            row.password_hash,
            Some(User {
                id: UserId(row.id),
                login: row.login,
                display_name: row.display_name,
            }),
        ),
        None => (dummy_hash(gate).await?, None),
    };
    let password = password.to_owned();
    let valid = gate
        .run(move || {
            PasswordHash::new(&stored).is_ok_and(|hash| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &hash)
                    .is_ok()
            })
        })
        .await?;
    match user {
        Some(user) if valid => Ok(user),
        _ => Err(Error::Refused(shared::Error::WrongCredentials)),
    }
}

/// Changes `user`'s password, logged in as `token`, once the current one
/// is checked. A wrong current password counts as a failed log-in of the
/// account (a stolen cookie guesses no faster than the log-in form), and is
/// told apart from the other errors. Every other login of the account ends
/// in the same transaction, so a browser someone else signed in with is
/// signed out; the caller rechecks the user's open tables. Returns how many
/// other logins ended.
pub async fn change_password(
    db: &PgPool,
    gate: &Gate,
    user: &User,
    token: &LoginToken,
    current: &str,
    new: &Password,
    client: Option<IpAddr>,
) -> Result<u64> {
    let attempt = gate.log_in_attempt(&user.login, client)?;
    match authenticate(db, gate, &user.login, current).await {
        Ok(checked) if checked.id == user.id => attempt.succeeded(),
        Ok(_) | Err(Error::Refused(shared::Error::WrongCredentials)) => {
            return Err(Error::Refused(shared::Error::WrongPassword));
        }
        Err(error) => {
            attempt.not_judged();
            return Err(error);
        }
    }
    let hash = hash_password(gate, new.clone()).await?;
    let mut tx = db.begin().await?;
    sqlx::query!(
        "update users set password_hash = $2 where id = $1",
        user.id.0,
        hash,
    )
    .execute(&mut *tx)
    .await?;
    let ended = sqlx::query!(
        "delete from login_sessions where user_id = $1 and token_hash <> $2",
        user.id.0,
        token.hash(),
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    tracing::info!(user = %user.id, ended, "password changed; the account's other logins ended");
    Ok(ended)
}

/// Starts a login session and returns its token.
pub async fn start_login(db: &PgPool, user: UserId) -> Result<LoginToken> {
    let token = LoginToken::generate()?;
    sqlx::query!(
        "insert into login_sessions (token_hash, user_id, expires_at) values ($1, $2, now() + make_interval(secs => $3))",
        token.hash(),
        user.0,
        SESSION_LIFETIME.as_secs_f64(),
    )
    .execute(db)
    .await?;
    Ok(token)
}

/// The user a token belongs to, if the session is alive; using it extends
/// it.
pub async fn user_for(db: &PgPool, token: &LoginToken) -> Result<Option<User>> {
    let row = sqlx::query!(
        "update login_sessions s
            set last_seen_at = now(), expires_at = now() + make_interval(secs => $2)
           from users u
          where s.token_hash = $1 and s.user_id = u.id and s.expires_at > now()
      returning u.id, u.login, u.display_name",
        token.hash(),
        SESSION_LIFETIME.as_secs_f64(),
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|row| User {
        id: UserId(row.id),
        login: row.login,
        display_name: row.display_name,
    }))
}

/// Ends a login session.
pub async fn end_login(db: &PgPool, token: &LoginToken) -> Result<()> {
    sqlx::query!(
        "delete from login_sessions where token_hash = $1",
        token.hash()
    )
    .execute(db)
    .await?;
    Ok(())
}

async fn hash_password(gate: &Gate, password: Password) -> Result<String> {
    gate.run(move || {
        Argon2::default()
            .hash_password(password.expose().as_bytes())
            .map(|hash| hash.to_string())
            .map_err(Error::failed("hashing a password"))
    })
    .await?
}

/// A hash of a random password with the current parameters, verified
/// against when the login name is unknown so that both cases take the same
/// time (and say nothing about which names exist).
async fn dummy_hash(gate: &Gate) -> Result<String> {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DUMMY
        .get_or_try_init(|| async {
            let secret = LoginToken::generate()?;
            let password = Password::parse(secret.as_str()).map_err(Error::Refused)?;
            hash_password(gate, password).await
        })
        .await
        .cloned()
}
