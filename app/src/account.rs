//! Signing up, logging in and out, and knowing who is asking.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use shared::account::User;
#[cfg(feature = "ssr")]
use shared::account::{DisplayName, LoginName, Password};

use crate::AppError;

/// The cookie that carries the login session's token.
pub const SESSION_COOKIE: &str = "tabletop_session";

/// Creates an account, logs it in, and goes to the campaign list (or
/// back to `next`, a page of this site such as the invitation opened
/// first).
#[server(endpoint = "account/sign_up")]
pub async fn sign_up(
    #[server(default)] login: String,
    #[server(default)] display_name: String,
    #[server(default)] password: String,
    #[server(default)] next: String,
) -> Result<User, AppError> {
    crate::backend::answer(async move {
        let login = LoginName::parse(&login)?;
        let display_name = DisplayName::parse(&display_name)?;
        let password = Password::parse(&password)?;
        let backend = crate::backend::backend()?;
        let (user, token) = backend.sign_up(login, display_name, password).await?;
        login::set_cookie(&token, backend.secure_cookies());
        leptos_axum::redirect(shared::account::after_login(&next));
        Ok(user)
    })
    .await
}

/// Logs in and goes to the campaign list (or back to `next`).
#[server(endpoint = "account/log_in")]
pub async fn log_in(
    #[server(default)] login: String,
    #[server(default)] password: String,
    #[server(default)] next: String,
) -> Result<User, AppError> {
    crate::backend::answer(async move {
        let backend = crate::backend::backend()?;
        let (user, token) = backend.log_in(login, password).await?;
        login::set_cookie(&token, backend.secure_cookies());
        leptos_axum::redirect(shared::account::after_login(&next));
        Ok(user)
    })
    .await
}

/// Ends this browser's session.
#[server(endpoint = "account/log_out")]
pub async fn log_out() -> Result<(), AppError> {
    crate::backend::answer(async move {
        let backend = crate::backend::backend()?;
        if let Some(token) = login::token() {
            backend.log_out(token).await?;
        }
        login::clear_cookie(backend.secure_cookies());
        leptos_axum::redirect("/login");
        Ok(())
    })
    .await
}

/// Changes the password of the account logged in here; every other login
/// of the account ends (and its open tables close). Returns how many did.
#[server(endpoint = "account/change_password")]
pub async fn change_password(
    #[server(default)] current: String,
    #[server(default)] new_password: String,
    #[server(default)] confirm: String,
) -> Result<u64, AppError> {
    crate::backend::answer(async move {
        let new = Password::parse(&new_password)?;
        if new_password != confirm {
            return Err(shared::Error::InvalidLogin(
                "the new password and its confirmation differ".into(),
            )
            .into());
        }
        let backend = crate::backend::backend()?;
        let token = login::token().ok_or(AppError::Unauthorized)?;
        backend.change_password(token, current, new).await
    })
    .await
}

/// Who is logged in, if anyone.
#[server(endpoint = "account/me")]
pub async fn current_user() -> Result<Option<User>, AppError> {
    crate::backend::answer(async move {
        let backend = crate::backend::backend()?;
        match login::token() {
            Some(token) => backend.user(token).await,
            None => Ok(None),
        }
    })
    .await
}

/// The session cookie, read and written on the server.
#[cfg(feature = "ssr")]
pub mod login {
    use std::sync::Arc;

    use cookie::{Cookie, SameSite};
    use http::header::{COOKIE, SET_COOKIE};
    use leptos::prelude::use_context;
    use shared::account::User;

    use super::SESSION_COOKIE;
    use crate::{AppError, Backend};

    /// The session token the request carries.
    pub(crate) fn token() -> Option<String> {
        let parts = use_context::<http::request::Parts>()?;
        token_in(&parts.headers)
    }

    /// The session token in a request's `Cookie` headers, for endpoints
    /// outside Leptos (the server's streaming routes).
    pub fn token_in(headers: &http::HeaderMap) -> Option<String> {
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(Cookie::split_parse)
            .filter_map(Result::ok)
            .find(|cookie| cookie.name() == SESSION_COOKIE)
            .map(|cookie| cookie.value().to_owned())
    }

    /// The backend and the logged-in user, or [`AppError::Unauthorized`].
    pub(crate) async fn require_user() -> Result<(Arc<dyn Backend>, User), AppError> {
        let backend = crate::backend::backend()?;
        let token = token().ok_or(AppError::Unauthorized)?;
        let user = backend.user(token).await?.ok_or(AppError::Unauthorized)?;
        Ok((backend, user))
    }

    pub(crate) fn set_cookie(token: &str, secure: bool) {
        write(
            Cookie::build((SESSION_COOKIE, token.to_owned()))
                .max_age(cookie::time::Duration::days(30)),
            secure,
        );
    }

    pub(crate) fn clear_cookie(secure: bool) {
        write(
            Cookie::build((SESSION_COOKIE, "")).max_age(cookie::time::Duration::ZERO),
            secure,
        );
    }

    /// HttpOnly: scripts cannot read it. SameSite=Lax: other sites' forms and
    /// fetches do not carry it, which (with the server's Origin check)
    /// protects every state-changing request from cross-site forgery.
    fn write(cookie: cookie::CookieBuilder<'static>, secure: bool) {
        let cookie = cookie
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(secure)
            .build();
        if let (Some(response), Ok(value)) = (
            use_context::<leptos_axum::ResponseOptions>(),
            http::HeaderValue::from_str(&cookie.to_string()),
        ) {
            response.append_header(SET_COOKIE, value);
        }
    }
}

/// The page to come back to after logging in (`?next=`), if it is one of
/// this site's.
fn next_param() -> String {
    let query = leptos_router::hooks::use_query_map();
    let raw = query.read_untracked().get("next").unwrap_or_default();
    shared::account::after_login(&raw).to_owned()
}

/// `page` carrying `next` along, when there is somewhere to come back to.
pub fn with_next(page: &str, next: &str) -> String {
    if next == "/" {
        page.to_owned()
    } else {
        let encoded: String = url_escape(next);
        format!("{page}?next={encoded}")
    }
}

/// Percent-encodes what a query value cannot hold as is (`after_login`
/// already allows only a few characters).
fn url_escape(raw: &str) -> String {
    raw.chars()
        .map(|c| match c {
            '?' => "%3F".to_owned(),
            '&' => "%26".to_owned(),
            '=' => "%3D".to_owned(),
            '%' => "%25".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// The log-in page.
#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<LogIn>::new();
    let next = next_param();
    let signup = with_next("/signup", &next);
    forget_cached_on(action.version());
    view! {
        <Title text="Log in" />
        <h1>"Log in"</h1>
        <ActionForm action attr:class="card account-form">
            <div class="field">
                <label for="login">"Login name"</label>
                <input id="login" name="login" autocomplete="username" required />
            </div>
            <div class="field">
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="current-password" required />
            </div>
            <input type="hidden" name="next" value=next />
            <button type="submit">"Log in"</button>
            <Problem error=Signal::derive(move || action.value().get().and_then(Result::err)) />
        </ActionForm>
        <p>"New here? " <A href=signup>"Create an account"</A></p>
    }
}

/// The sign-up page.
#[component]
pub fn SignupPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let next = next_param();
    let login = with_next("/login", &next);
    forget_cached_on(action.version());
    view! {
        <Title text="Sign up" />
        <h1>"Create an account"</h1>
        <ActionForm action attr:class="card account-form">
            <div class="field">
                <label for="login">"Login name"</label>
                <input id="login" name="login" autocomplete="username" required />
            </div>
            <div class="field">
                <label for="display-name">"Display name"</label>
                <input id="display-name" name="display_name" autocomplete="nickname" required />
            </div>
            <div class="field">
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="new-password" required minlength="8" />
                <small class="muted">"At least 8 characters."</small>
            </div>
            <input type="hidden" name="next" value=next />
            <button type="submit">"Sign up"</button>
            <Problem error=Signal::derive(move || action.value().get().and_then(Result::err)) />
        </ActionForm>
        <p>"Have an account? " <A href=login>"Log in"</A></p>
    }
}

/// The account page: who is logged in, and a new password.
#[component]
pub fn AccountPage() -> impl IntoView {
    let me = Resource::new(|| (), |()| current_user());
    let action = ServerAction::<ChangePassword>::new();
    let (current, new_password, confirm) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    // Passwords do not stay on the page once changed.
    Effect::new(move |_| {
        if matches!(action.value().get(), Some(Ok(_))) {
            for field in [current, new_password, confirm] {
                field.set(String::new());
            }
        }
    });
    let done = move || match action.value().get() {
        Some(Ok(0)) => Some("Password changed.".to_owned()),
        Some(Ok(1)) => {
            Some("Password changed. One other login of this account was signed out.".to_owned())
        }
        Some(Ok(ended)) => Some(format!(
            "Password changed. {ended} other logins of this account were signed out."
        )),
        _ => None,
    };
    view! {
        <Title text="Account" />
        <h1>"Account"</h1>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(user)) => view! {
                        <p class="muted">
                            "Logged in as " <strong>{user.display_name}</strong>
                            " (login name " <code>{user.login}</code> ")."
                        </p>
                        <h2>"Change password"</h2>
                        <ActionForm action attr:class="card account-form">
                            <div class="field">
                                <label for="current">"Current password"</label>
                                <input id="current" name="current" type="password" autocomplete="current-password" required bind:value=current />
                            </div>
                            <div class="field">
                                <label for="new-password">"New password"</label>
                                <input id="new-password" name="new_password" type="password" autocomplete="new-password" required minlength="8" bind:value=new_password />
                                <small class="muted">"At least 8 characters. Every other browser logged in to this account is signed out."</small>
                            </div>
                            <div class="field">
                                <label for="confirm">"New password again"</label>
                                <input id="confirm" name="confirm" type="password" autocomplete="new-password" required minlength="8" bind:value=confirm />
                            </div>
                            <button type="submit">"Change password"</button>
                            {move || done().map(|text| view! { <p role="status" class="notice">{text}</p> })}
                            <Problem error=Signal::derive(move || action.value().get().and_then(Result::err)) />
                        </ActionForm>
                    }
                    .into_any(),
                    _ => view! {
                        <p>"You are not logged in. " <A href="/login">"Log in"</A></p>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

/// Empties the query cache once an account form is sent: whatever it holds
/// was fetched as the account that is leaving.
fn forget_cached_on(submitted: RwSignal<usize>) {
    let cache = crate::storage::QueryCache::get();
    Effect::new(move |_| {
        if submitted.get() > 0 {
            cache.invalidate("");
        }
    });
}

/// The error of the last submission, if it failed.
#[component]
fn Problem(error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error
            .get()
            .map(|error| view! { <p role="alert" class="error">{error.to_string()}</p> })
    }
}

/// The header's account corner: who is logged in, and log out; or links to
/// log in and sign up.
#[component]
pub fn AccountMenu() -> impl IntoView {
    // Asked again on every navigation: logging in or out ends with one, and
    // the answer must follow.
    let location = leptos_router::hooks::use_location();
    let me = Resource::new(move || location.pathname.get(), |_| current_user());
    let log_out = ServerAction::<LogOut>::new();
    forget_cached_on(log_out.version());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(user)) => view! {
                        <span class="account">
                            <A href="/account" attr:title="Your account">
                                <span data-test="signed-in-as">{user.display_name}</span>
                            </A>
                            <ActionForm action=log_out attr:class="inline">
                                <button type="submit" class="link">"Log out"</button>
                            </ActionForm>
                        </span>
                    }
                    .into_any(),
                    _ => view! {
                        <span class="account">
                            <A href="/login">"Log in"</A>
                            <A href="/signup">"Sign up"</A>
                        </span>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}
