//! Accounts and login sessions against a real PostgreSQL.

mod support;

use std::time::Duration;

use server::{
    Error,
    account::{self, Gate, GatePolicy, LoginToken},
};
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
        account::authenticate(
            &db,
            &account::Gate::default(),
            "HASHCHECK",
            "correct horse battery"
        )
        .await
        .unwrap(),
        user
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn only_a_hash_of_the_token_is_stored_and_expired_sessions_are_dead(db: PgPool) {
    let (user, cookie) = support::signed_in(&db, "sessions").await;
    let token = LoginToken::from_cookie(cookie.split_once('=').unwrap().1);
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
        account::user_for(&db, &LoginToken::from_cookie("garbage"))
            .await
            .unwrap(),
        None
    );
}

/// A gate with this many hashers, waiting this long for one.
fn gate(hashers: usize, wait: Duration) -> Gate {
    Gate::new(GatePolicy {
        hashers,
        hasher_wait: wait,
        ..GatePolicy::default()
    })
}

#[sqlx::test(migrations = "../migrations")]
async fn guesses_sent_together_are_counted_before_any_is_checked(db: PgPool) {
    support::signed_in(&db, "anna").await;
    let gate = Gate::default();
    let guesses = (0..20).map(|_| account::log_in(&db, &gate, "anna", "wrong-guess", None));
    let outcomes = futures_util::future::join_all(guesses).await;
    let wrong = outcomes
        .iter()
        .filter(|o| matches!(o, Err(Error::Refused(shared::Error::WrongCredentials))))
        .count();
    let held_back = outcomes
        .iter()
        .filter(|o| matches!(o, Err(Error::TooManyAttempts { .. })))
        .count();
    assert_eq!((wrong, held_back), (5, 15), "{outcomes:?}");
    assert_eq!(gate.hashes_run(), 5, "only the free guesses were hashed");

    // The right password is refused as well, without hashing.
    let outcome = account::log_in(&db, &gate, "ANNA", "correct horse battery", None).await;
    assert!(
        matches!(outcome, Err(Error::TooManyAttempts { retry_after }) if retry_after <= Duration::from_secs(1)),
        "{outcome:?}"
    );
    assert_eq!(gate.hashes_run(), 5);
    // What the browser is told.
    assert_eq!(
        app::AppError::from(Error::TooManyAttempts {
            retry_after: Duration::from_millis(1500)
        }),
        app::AppError::TooManyAttempts { retry_after: 2 }
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn an_address_guessing_at_many_accounts_backs_off(db: PgPool) {
    support::signed_in(&db, "anna").await;
    let gate = Gate::new(GatePolicy {
        address_free_failures: 3,
        ..GatePolicy::default()
    });
    let here = Some("192.0.2.1".parse().unwrap());
    let there = Some("192.0.2.2".parse().unwrap());
    for login in ["bob", "carol", "dave"] {
        let outcome = account::log_in(&db, &gate, login, "wrong-guess", here).await;
        assert!(
            matches!(
                outcome,
                Err(Error::Refused(shared::Error::WrongCredentials))
            ),
            "{outcome:?}"
        );
    }
    let outcome = account::log_in(&db, &gate, "anna", "correct horse battery", here).await;
    assert!(
        matches!(outcome, Err(Error::TooManyAttempts { .. })),
        "{outcome:?}"
    );
    // The account itself is not held back from elsewhere.
    account::log_in(&db, &gate, "anna", "correct horse battery", there)
        .await
        .unwrap();
}

#[sqlx::test(migrations = "../migrations")]
async fn password_hashing_runs_within_its_bound(db: PgPool) {
    let mut logins = Vec::new();
    for n in 0..8 {
        let login = format!("player{n}");
        support::signed_in(&db, &login).await;
        logins.push(login);
    }
    let gate = gate(2, Duration::from_secs(60));
    let checks = logins
        .iter()
        .map(|login| account::authenticate(&db, &gate, login, "correct horse battery"));
    for outcome in futures_util::future::join_all(checks).await {
        outcome.unwrap();
    }
    assert_eq!(gate.hashes_run(), 8);
    assert!(gate.hashing_peak() <= 2, "{} at once", gate.hashing_peak());
}

#[sqlx::test(migrations = "../migrations")]
async fn a_saturated_hasher_answers_busy(db: PgPool) {
    support::signed_in(&db, "anna").await;
    let gate = gate(1, Duration::ZERO);
    let checks = (0..6).map(|_| account::authenticate(&db, &gate, "anna", "correct horse battery"));
    let outcomes = futures_util::future::join_all(checks).await;
    assert!(outcomes.iter().any(Result::is_ok), "{outcomes:?}");
    assert!(
        outcomes.iter().any(|o| matches!(o, Err(Error::Busy))),
        "{outcomes:?}"
    );
    let busy = app::AppError::from(Error::Busy);
    assert_eq!(busy, app::AppError::Busy);
    assert_eq!(busy.status(), axum::http::StatusCode::SERVICE_UNAVAILABLE);
}

#[sqlx::test(migrations = "../migrations")]
async fn a_cancelled_check_keeps_its_hasher_until_the_hash_is_done(db: PgPool) {
    support::signed_in(&db, "anna").await;
    let gate = gate(1, Duration::ZERO);
    {
        let mut check = std::pin::pin!(account::authenticate(
            &db,
            &gate,
            "anna",
            "correct horse battery"
        ));
        // Poll it until its hash runs, then drop it (the client went away).
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while gate.hashing_now() == 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "the hash never started"
            );
            tokio::select! {
                biased;
                _ = check.as_mut() => panic!("the check ended before it could be cancelled"),
                () = tokio::time::sleep(Duration::from_micros(200)) => {}
            }
        }
    }
    // The abandoned hash runs on, and holds the only hasher until it is
    // done (read in this order, a hasher seen free cannot belong to a hash
    // still running).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut seen_running = 0;
    loop {
        let free = gate.hashers_free();
        if gate.hashing_now() == 0 {
            break;
        }
        assert_eq!(
            free, 0,
            "a cancelled request gave back a hasher still hashing"
        );
        seen_running += 1;
        assert!(std::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
    assert!(seen_running > 0, "the hash outlived its request");
    account::authenticate(&db, &gate, "anna", "correct horse battery")
        .await
        .unwrap();
}

/// A password change checks the current password (a wrong one changes
/// nothing and counts as a failed log-in), and ends every other login of
/// the account, not the one that asked.
#[sqlx::test(migrations = "../migrations")]
async fn a_password_change_checks_the_current_one_and_ends_the_other_logins(db: PgPool) {
    let (user, here) = support::signed_in(&db, "rotate").await;
    let elsewhere = account::start_login(&db, user.id).await.unwrap();
    let here = LoginToken::from_cookie(here.split_once('=').unwrap().1);
    let (old, new) = ("correct horse battery", "a much newer phrase");
    let new_password = shared::account::Password::parse(new).unwrap();
    let gate = Gate::new(GatePolicy {
        account_free_failures: 2,
        ..GatePolicy::default()
    });

    let wrong =
        account::change_password(&db, &gate, &user, &here, "guess", &new_password, None).await;
    assert!(
        matches!(wrong, Err(Error::Refused(shared::Error::WrongPassword))),
        "{wrong:?}"
    );
    account::authenticate(&db, &gate, "rotate", old)
        .await
        .unwrap();
    assert!(account::user_for(&db, &elsewhere).await.unwrap().is_some());

    let ended = account::change_password(&db, &gate, &user, &here, old, &new_password, None)
        .await
        .unwrap();
    assert_eq!(ended, 1);
    assert_eq!(account::user_for(&db, &here).await.unwrap(), Some(user));
    assert_eq!(account::user_for(&db, &elsewhere).await.unwrap(), None);
    account::authenticate(&db, &gate, "rotate", new)
        .await
        .unwrap();
    assert!(
        account::authenticate(&db, &gate, "rotate", old)
            .await
            .is_err()
    );

    // Guesses through the change form are log-in failures of the account.
    let user = account::user_for(&db, &here).await.unwrap().unwrap();
    for _ in 0..2 {
        let outcome =
            account::change_password(&db, &gate, &user, &here, "guess", &new_password, None).await;
        assert!(matches!(outcome, Err(Error::Refused(_))), "{outcome:?}");
    }
    let held_back =
        account::change_password(&db, &gate, &user, &here, new, &new_password, None).await;
    assert!(
        matches!(held_back, Err(Error::TooManyAttempts { .. })),
        "{held_back:?}"
    );
}
