//! The crate's one error type.

use serde::{Deserialize, Serialize};

pub use crate::id::EntityKind;

/// Everything the pure core can refuse.
///
/// Messages are written for the person who caused them (a player, a GM, or a
/// developer reading a log) and are shown as they are. The type is
/// serializable because the server sends it to the browser unchanged.
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

    /// A login name, display name or password of the wrong shape.
    #[error("{0}")]
    InvalidLogin(String),
    /// A password shorter than the minimum.
    #[error("a password needs at least {min} characters")]
    WeakPassword {
        /// The minimum.
        min: usize,
    },
    /// Sign-up with a login name someone has.
    #[error("that login name is taken")]
    LoginTaken,
    /// Log-in with an unknown name or a wrong password (which one is not
    /// said).
    #[error("wrong login name or password")]
    WrongCredentials,
    /// A password change whose current password is not the account's.
    #[error("the current password is not right")]
    WrongPassword,

    /// A path that is not well formed, or names no field.
    #[error("bad path {path:?}: {reason}")]
    BadPath {
        /// The path as written.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A path that names an entity the state does not have.
    #[error("no {kind} with id {id}")]
    UnknownEntity {
        /// What kind of entity.
        kind: EntityKind,
        /// The id from the path.
        id: String,
    },
    /// An operation the target of a path does not support (e.g. `increment`
    /// on a name).
    #[error("{op} is not possible at {path:?}")]
    UnsupportedOperation {
        /// The operation's name.
        op: String,
        /// The path.
        path: String,
    },
    /// A value of the wrong shape for its path.
    #[error("wrong value at {path:?}: {reason}")]
    WrongType {
        /// The path.
        path: String,
        /// What was expected and what came.
        reason: String,
    },
    /// A change that would break an invariant of the state (a number out of
    /// range, a token on an encounter that does not exist, ...).
    #[error("invalid change at {path:?}: {reason}")]
    InvalidChange {
        /// The path.
        path: String,
        /// Which rule it breaks.
        reason: String,
    },

    /// A commit that does not follow the last one applied.
    #[error("expected version {expected}, got {got}")]
    VersionGap {
        /// The version that should come next.
        expected: u64,
        /// The version that came.
        got: u64,
    },
    /// No pending action with that id.
    #[error("no pending action {0}")]
    UnknownAction(String),

    /// The sender may not do this.
    #[error("not allowed: {0}")]
    Forbidden(String),
    /// An action that cannot apply to the current state.
    #[error("{0}")]
    InvalidAction(String),
    /// A move that a wall stops ("a wall is in the way").
    #[error("{0}")]
    Blocked(String),

    /// An upload over the size limit; nothing was stored.
    #[error("the file is larger than the limit of {max} bytes")]
    UploadTooLarge {
        /// The limit.
        max: u64,
    },
    /// An upload whose content is not a kind of file the tabletop accepts.
    #[error("{0}")]
    UnsupportedMedia(String),
    /// An invitation that does not exist, has expired or was used.
    #[error("this invitation is not valid (it may have expired or been used)")]
    InvalidInvitation,
    /// A campaign document that cannot be imported.
    #[error("cannot import the campaign: {0}")]
    InvalidExport(String),

    /// Something past one of the limits in [`crate::limits`]; nothing
    /// changed.
    #[error("{what} can have at most {max}")]
    OverLimit {
        /// What is limited ("a token's name (characters)").
        what: String,
        /// The limit.
        max: usize,
    },
    /// A number outside its range (or not finite); nothing changed.
    #[error("{what} must be from {range}")]
    OutOfRange {
        /// What is limited.
        what: String,
        /// The range, as shown to people (`0.1 to 99`).
        range: String,
    },
    /// Text holding U+0000, which the database cannot store; nothing
    /// changed.
    #[error("{what} contains a NUL character (U+0000), which cannot be stored")]
    UnstorableText {
        /// Where it was.
        what: String,
    },

    /// A message over the size limit; it was not parsed.
    #[error("message of {len} bytes exceeds the limit of {max}")]
    MessageTooLarge {
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A message that does not decode.
    #[error("malformed message: {0}")]
    MalformedMessage(String),
    /// A peer speaking another protocol version.
    #[error("protocol version {got} is not supported (this side speaks {supported})")]
    UnsupportedProtocol {
        /// The version received.
        got: u16,
        /// The version spoken here.
        supported: u16,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
