//! The messages between browser and server, both ways, and their encoding.
//!
//! Bytes in, messages out: nothing here touches a socket. Every frame
//! carries the protocol version (`{"v": 1, "msg": {...}}`) and is refused
//! unparsed when over the size limit of its direction.
//!
//! A session, as the two sides see it:
//!
//! 1. The client sends [`ClientMessage::Hello`] with the last version it
//!    holds; the server answers [`ServerMessage::Welcome`], then either the
//!    commits it missed or a [`ServerMessage::Snapshot`].
//! 2. The client sends [`ClientMessage::Request`]s (showing each at once
//!    through [`crate::optimistic`]); the server answers each with
//!    [`ServerMessage::Received`] (applied, or waiting for the GM), then a
//!    [`ServerMessage::Commit`] or a [`ServerMessage::Rejected`].
//! 3. The GM receives the [`ServerMessage::Queue`] of waiting requests and
//!    answers with [`ClientMessage::Decide`].
//! 4. Commits arrive in version order; a client that sees a gap sends
//!    [`ClientMessage::Resume`].

mod client;
mod server;

use serde::{Deserialize, Serialize, de::DeserializeOwned};

pub use client::{ActionRequest, ClientMessage, GmDecision, RequestContext, Verdict};
pub use server::{QueuedRequest, RequestStatus, ServerMessage};

use crate::{Error, Result, change::Commit};

/// The protocol version both sides must speak.
pub const PROTOCOL_VERSION: u16 = 1;

/// The largest frame a client may send: requests are small; this leaves
/// room for a GM's bulk edit.
pub const MAX_CLIENT_FRAME: usize = 256 * 1024;

/// The largest frame a server may send: a snapshot of a large map.
pub const MAX_SERVER_FRAME: usize = 32 * 1024 * 1024;

#[derive(Serialize)]
struct FrameOut<'a, M> {
    v: u16,
    msg: &'a M,
}

#[derive(Deserialize)]
struct FrameIn<M> {
    v: u16,
    msg: M,
}

/// Only the version, to tell "newer protocol" from "garbage".
#[derive(Deserialize)]
struct VersionOnly {
    v: u16,
}

/// Encodes a message as a frame.
pub fn encode<M: Serialize>(message: &M) -> Vec<u8> {
    // The protocol's types have string keys and finite numbers only, so
    // serialization cannot fail.
    serde_json::to_vec(&FrameOut {
        v: PROTOCOL_VERSION,
        msg: message,
    })
    .unwrap_or_default()
}

/// Decodes a JSON frame of at most `limit` bytes.
pub fn decode<M: DeserializeOwned>(bytes: &[u8], limit: usize) -> Result<M> {
    decode_with(bytes, limit, Encoding::Json)
}

/// How a connection's frames are encoded, chosen by the client when it
/// connects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// JSON text frames: readable in browser tools, the default.
    #[default]
    Json,
    /// MessagePack binary frames: ids as 16 bytes instead of 36 characters,
    /// numbers in binary.
    #[serde(rename = "msgpack")]
    MessagePack,
}

/// Encodes a message as a frame in `encoding`.
pub fn encode_with<M: Serialize>(message: &M, encoding: Encoding) -> Vec<u8> {
    match encoding {
        Encoding::Json => encode(message),
        // Named fields: the protocol's tagged enums and defaulted fields
        // need keys. Cannot fail for the protocol's types.
        Encoding::MessagePack => rmp_serde::to_vec_named(&FrameOut {
            v: PROTOCOL_VERSION,
            msg: message,
        })
        .unwrap_or_default(),
    }
}

/// Decodes a frame in `encoding` of at most `limit` bytes.
pub fn decode_with<M: DeserializeOwned>(
    bytes: &[u8],
    limit: usize,
    encoding: Encoding,
) -> Result<M> {
    if bytes.len() > limit {
        return Err(Error::MessageTooLarge {
            len: bytes.len(),
            max: limit,
        });
    }
    fn parse<T: DeserializeOwned>(bytes: &[u8], encoding: Encoding) -> Result<T, String> {
        match encoding {
            Encoding::Json => serde_json::from_slice(bytes).map_err(|e| e.to_string()),
            Encoding::MessagePack => rmp_serde::from_slice(bytes).map_err(|e| e.to_string()),
        }
    }
    match parse::<FrameIn<M>>(bytes, encoding) {
        Ok(frame) if frame.v == PROTOCOL_VERSION => Ok(frame.msg),
        Ok(frame) => Err(unsupported(frame.v)),
        // Readable enough to carry a version: say it is another protocol
        // rather than garbage.
        Err(error) => match parse::<VersionOnly>(bytes, encoding) {
            Ok(VersionOnly { v }) if v != PROTOCOL_VERSION => Err(unsupported(v)),
            _ => Err(Error::MalformedMessage(error)),
        },
    }
}

/// [`ServerMessage::Commit`] as a frame, from a borrowed commit: the same
/// bytes, without copying the commit into a message first (the server
/// sends every commit to every socket).
pub fn encode_commit(commit: &Commit) -> Vec<u8> {
    #[derive(Serialize)]
    #[serde(tag = "type", rename_all = "snake_case")]
    enum Borrowed<'a> {
        Commit(&'a Commit),
    }
    encode(&Borrowed::Commit(commit))
}

fn unsupported(got: u16) -> Error {
    Error::UnsupportedProtocol {
        got,
        supported: PROTOCOL_VERSION,
    }
}

impl ClientMessage {
    /// Encodes this message.
    pub fn encode(&self) -> Vec<u8> {
        encode(self)
    }

    /// Decodes a JSON frame from a client, within [`MAX_CLIENT_FRAME`].
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        Self::decode_with(bytes, Encoding::Json)
    }

    /// Encodes this message in `encoding`.
    pub fn encode_with(&self, encoding: Encoding) -> Vec<u8> {
        encode_with(self, encoding)
    }

    /// Decodes a frame from a client in `encoding`. Text holding U+0000,
    /// which the database cannot store, is refused here, before anything
    /// acts on it.
    pub fn decode_with(bytes: &[u8], encoding: Encoding) -> Result<Self> {
        let message: Self = decode_with(bytes, MAX_CLIENT_FRAME, encoding)?;
        if may_hold_nul(bytes, encoding) && holds_nul(&message) {
            return Err(Error::UnstorableText {
                what: "the message".into(),
            });
        }
        if let ClientMessage::Request(request) = &message {
            let context = &request.context;
            if let Some(note) = &context.note {
                crate::limits::text(
                    "a request's note (characters)",
                    note,
                    crate::limits::MAX_NOTE_CHARS,
                )?;
            }
            crate::limits::count(
                "a request's targets",
                context.targets.len(),
                crate::limits::MAX_EFFECT_TARGETS,
            )?;
        }
        Ok(message)
    }
}

/// A cheap look at the raw frame: JSON can only carry U+0000 as the escape
/// `\u0000` (a raw control character does not parse), so most frames are
/// cleared without a second walk. MessagePack strings carry it raw.
fn may_hold_nul(bytes: &[u8], encoding: Encoding) -> bool {
    match encoding {
        Encoding::Json => bytes
            .windows(6)
            .any(|w| w[0] == b'\\' && w[1] == b'u' && w[2..].iter().all(|b| *b == b'0')),
        Encoding::MessagePack => bytes.contains(&0),
    }
}

/// Whether any string or key of a decoded message holds U+0000.
fn holds_nul<M: Serialize>(message: &M) -> bool {
    serde_json::to_value(message).map_or(true, |value| crate::limits::json_has_nul(&value))
}

impl ServerMessage {
    /// Encodes this message.
    pub fn encode(&self) -> Vec<u8> {
        encode(self)
    }

    /// Decodes a frame from the server, within [`MAX_SERVER_FRAME`].
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        decode(bytes, MAX_SERVER_FRAME)
    }

    /// Encodes this message in `encoding`.
    pub fn encode_with(&self, encoding: Encoding) -> Vec<u8> {
        encode_with(self, encoding)
    }

    /// Decodes a frame from the server in `encoding`.
    pub fn decode_with(bytes: &[u8], encoding: Encoding) -> Result<Self> {
        decode_with(bytes, MAX_SERVER_FRAME, encoding)
    }
}

#[cfg(test)]
mod tests;
