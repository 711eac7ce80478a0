//! The one error type that crosses from the server to the browser.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

/// Why a server function failed, in words a user can act on.
///
/// Internal causes (database text, stack traces) never reach this type: the
/// server logs them and sends [`AppError::Internal`].
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
pub enum AppError {
    /// The input was refused by the domain rules.
    #[error("{}", sentence(&.0.to_string()))]
    Invalid(#[from] shared::Error),
    /// The request needs a logged-in user.
    #[error("Log in first.")]
    Unauthorized,
    /// The user may not see or do this. Said the same way whether the thing
    /// exists or not.
    #[error("You do not have access to that.")]
    Forbidden,
    /// A store the server needs is down; retrying later can succeed.
    #[error("The server cannot reach its database right now; try again in a moment.")]
    Unavailable,
    /// A fault on the server, logged there.
    #[error("Something went wrong on the server; it has been logged.")]
    Internal,
    /// Too many failed log-ins (or sign-ups) for this account or from this
    /// address: nothing was checked, and the next try may come after
    /// `retry_after` seconds.
    #[error("Too many attempts; try again in {retry_after} s.")]
    TooManyAttempts {
        /// Seconds to wait.
        retry_after: u64,
    },
    /// The server is at capacity for this kind of work (password checks);
    /// retrying in a moment can succeed.
    #[error("The server is busy; try again in a moment.")]
    Busy,
    /// The call itself failed: network, encoding, an unknown endpoint.
    #[error("{}", sentence(&.0.to_string()))]
    Transport(ServerFnErrorErr),
}

/// A message as a sentence for the page: the domain's messages are
/// lowercase fragments ("an actor needs a name"), fit for logs and for
/// joining; shown alone they start with a capital and end with a stop.
fn sentence(message: &str) -> String {
    let message = message.trim();
    let mut chars = message.chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    let mut out: String = first.to_uppercase().chain(chars).collect();
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        Self::Transport(value)
    }
}

#[cfg(feature = "ssr")]
impl AppError {
    /// The HTTP status that describes this error.
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            // A member asking for something their role does not allow.
            Self::Invalid(shared::Error::Forbidden(_)) => StatusCode::FORBIDDEN,
            Self::Invalid(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Busy => StatusCode::SERVICE_UNAVAILABLE,
            Self::Transport(ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_)) => {
                StatusCode::BAD_REQUEST
            }
            Self::Transport(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}
