//! Accounts and login sessions against a real PostgreSQL.

mod support;

use server::account::{self, SessionToken};
use sqlx::PgPool;

#[sqlx::test(migrations = "../migrations")]
async fn passwords_are_stored_as_argon2id_hashes(db: PgPool) {
    let (user, _) = support::signed_in(&db, "hashcheck").await;
    let hash: String = sqlx::query_scalar("select password_hash from users where id = $1")
        .bind(user.id.0)
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains("correct horse battery"));
    assert_eq!(
        account::authenticate(&db, "HASHCHECK", "correct horse battery")
            .await
            .unwrap(),
        user
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn only_a_hash_of_the_token_is_stored_and_expired_sessions_are_dead(db: PgPool) {
    let (user, cookie) = support::signed_in(&db, "sessions").await;
    let token = SessionToken::from_cookie(cookie.split_once('=').unwrap().1);
    assert_eq!(account::user_for(&db, &token).await.unwrap(), Some(user));
    let stored: Vec<Vec<u8>> = sqlx::query_scalar("select token_hash from login_sessions")
        .fetch_all(&db)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].len(), 32, "a SHA-256, not the token");
    assert_ne!(stored[0], token.as_str().as_bytes());

    sqlx::query("update login_sessions set expires_at = now() - interval '1 second'")
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(account::user_for(&db, &token).await.unwrap(), None);
    assert_eq!(
        account::user_for(&db, &SessionToken::from_cookie("garbage"))
            .await
            .unwrap(),
        None
    );
}
