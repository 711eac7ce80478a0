//! Messages from the server to a browser.

use serde::{Deserialize, Serialize};

use super::ActionRequest;
use crate::{
    Error,
    action::Action,
    change::{Commit, Version},
    fair::Commitment,
    geometry::Point,
    id::{ActionId, EncounterId, SessionId, TokenId, UserId},
    rules::{ApprovalPolicy, Participant},
    store::Entities,
};

/// What the server sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// The answer to hello.
    Welcome {
        /// The session.
        session: SessionId,
        /// Who the server takes this client for.
        you: Participant,
        /// The session's current version.
        version: Version,
        /// The hash of the secret every die of the session comes from,
        /// revealed when the session ends ([`crate::fair`]); none for a
        /// session whose dice cannot be checked.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dice: Option<Commitment>,
    },
    /// The whole state the recipient may see, at a version.
    Snapshot {
        /// The version.
        version: Version,
        /// The entities.
        entities: Entities,
    },
    /// An accepted change, in version order.
    Commit(Commit),
    /// A request arrived; how it stands.
    Received {
        /// The request.
        action: ActionId,
        /// How it stands.
        status: RequestStatus,
    },
    /// A request was refused (by the GM, or by the rules).
    Rejected {
        /// The request.
        action: ActionId,
        /// Why.
        reason: String,
        /// What the GM would accept instead.
        #[serde(default)]
        alternative: Option<Action>,
    },
    /// Something the client sent could not be processed.
    Error {
        /// The request it concerns, if any.
        #[serde(default)]
        action: Option<ActionId>,
        /// What went wrong.
        error: Error,
    },
    /// For the GM, when joining: every request waiting for a decision,
    /// oldest first. Later changes come one by one ([`Self::Queued`],
    /// [`Self::Dequeued`]), so a long queue is not sent again and again.
    Queue {
        /// The requests.
        pending: Vec<QueuedRequest>,
    },
    /// For the GM: one more request waits, after the others.
    Queued {
        /// The request.
        pending: QueuedRequest,
    },
    /// For the GM: a request no longer waits (decided, expired or
    /// withdrawn).
    Dequeued {
        /// Its action id.
        action: ActionId,
    },
    /// Someone is dragging a token.
    DragPreview {
        /// The token.
        token: TokenId,
        /// Where it is now.
        position: Point,
        /// Who drags it.
        by: UserId,
    },
    /// Someone pointed at a place on the map
    /// ([`super::ClientMessage::PointAt`]); sent only to those who see it.
    PointedAt {
        /// The encounter whose map it is.
        encounter: EncounterId,
        /// Where, in map pixels.
        at: Point,
        /// Who pointed.
        by: UserId,
    },
    /// Someone's ruler ([`super::ClientMessage::Measure`]): sent only to
    /// those who see every point of it; no points when it is taken away
    /// (or goes where the reader no longer sees it).
    Measured {
        /// The encounter whose map it is.
        encounter: EncounterId,
        /// The points, in map pixels.
        path: Vec<Point>,
        /// Whose ruler.
        by: UserId,
    },
    /// Someone's area template ([`super::ClientMessage::ShowTemplate`]):
    /// sent only to those who see its origin; none when it is taken away
    /// (or goes where the reader no longer sees it).
    TemplateShown {
        /// The encounter whose map it is.
        encounter: EncounterId,
        /// The template.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        template: Option<crate::template::Template>,
        /// Whose template.
        by: UserId,
    },
    /// Someone joined, left, or lost their connection.
    Presence {
        /// Who.
        user: UserId,
        /// Whether they are connected now.
        connected: bool,
    },
    /// The session's auto-approval rules: after the welcome, and whenever
    /// the GM changes them.
    Rules {
        /// The rules.
        policy: ApprovalPolicy,
    },
    /// The GM ended the session: what the table did is kept in the
    /// campaign, and this socket closes.
    Ended {
        /// Who ended it.
        by: UserId,
        /// Where the table went, when the GM moved it to another encounter
        /// rather than ending the evening: every browser follows.
        #[serde(default)]
        next: Option<SessionId>,
    },
    /// For a player: what she has explored of the table's map
    /// ([`super::ClientMessage::Explore`]), whole after the welcome and
    /// when the GM makes everyone forget, then the cells another browser
    /// of hers explored. For a GM previewing a player
    /// ([`super::ClientMessage::PreviewExplored`]): the same of hers.
    Explored {
        /// The encounter on the table.
        encounter: EncounterId,
        /// The cells.
        cells: std::collections::BTreeSet<crate::geometry::Cell>,
        /// Whether these are all of them (else they are added).
        whole: bool,
    },
    /// The answer to a ping.
    Pong {
        /// The ping's nonce.
        nonce: u64,
    },
}

/// How a request stands once received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RequestStatus {
    /// Committed as this version.
    Applied {
        /// The version.
        version: Version,
    },
    /// Waiting for the GM.
    WaitingForGm {
        /// Why it waits.
        reason: String,
    },
}

/// A request waiting for the GM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuedRequest {
    /// The request.
    pub request: ActionRequest,
    /// Who asked.
    pub from: Participant,
    /// Why it waits.
    pub reason: String,
}
