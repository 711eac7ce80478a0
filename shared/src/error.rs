//! The crate's one error type.

use serde::{Deserialize, Serialize};

/// Everything the pure core can refuse.
///
/// Messages are written for the person who typed the input: the browser shows
/// them as they are. The type is serializable because the server sends it to
/// the browser unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum Error {
    /// A campaign name that is empty once surrounding whitespace is removed.
    #[error("a campaign needs a name")]
    EmptyCampaignName,
    /// A campaign name over [`crate::campaign::CampaignName::MAX_CHARS`].
    #[error("a campaign name can have at most {max} characters; this one has {len}")]
    CampaignNameTooLong {
        /// Characters in the rejected name.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A game system the product does not know.
    #[error("unknown game system {0:?}")]
    UnknownGameSystem(String),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
