//! Messages from a browser to the server.

use serde::{Deserialize, Serialize};

use std::collections::BTreeSet;

use crate::{
    action::Action,
    change::{Change, Version},
    geometry::{Cell, Point},
    id::{ActionId, EncounterId, TokenId, UserId},
    rules::{ApprovalPolicy, Role},
};

/// What a client sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// The first message on a connection.
    Hello {
        /// The last version this client applied; `None` asks for a
        /// snapshot.
        resume_from: Option<Version>,
    },
    /// Ask for a change.
    Request(ActionRequest),
    /// The GM's answer to a waiting request.
    Decide(GmDecision),
    /// Everything up to `version` arrived; the server may forget it for
    /// this client.
    Ack {
        /// The highest version applied.
        version: Version,
    },
    /// Commits were missed (a gap): send everything after `from`.
    Resume {
        /// The last version applied.
        from: Version,
    },
    /// Where a token being dragged is now. Shown to others as a preview;
    /// never stored. The drop is a [`crate::action::Action::MoveToken`].
    DragPreview {
        /// The token.
        token: TokenId,
        /// Its current position.
        position: Point,
    },
    /// Points at a place on the map (a long press): whoever sees that
    /// place is shown a ping there for a moment. Never stored.
    PointAt {
        /// The encounter whose map it is.
        encounter: EncounterId,
        /// Where, in map pixels.
        at: Point,
    },
    /// Draws a ruler on the map (its start, waypoints and end, at most
    /// [`crate::measure::MAX_RULER_POINTS`]), or with no points takes it
    /// away: whoever sees every point of it is shown it. Never stored.
    Measure {
        /// The encounter whose map it is.
        encounter: EncounterId,
        /// The points, in map pixels.
        path: Vec<Point>,
    },
    /// Shows my area template on the map, or with none takes it away:
    /// whoever sees its origin is shown it (which tokens are inside, each
    /// reader finds among the tokens it has). Never stored.
    ShowTemplate {
        /// The encounter whose map it is.
        encounter: EncounterId,
        /// The template, checked by [`crate::template::Template::check`].
        #[serde(default, skip_serializing_if = "Option::is_none")]
        template: Option<crate::template::Template>,
    },
    /// The GM (or an assistant GM) changes the session's auto-approval
    /// rules; everyone receives the new [`super::ServerMessage::Rules`].
    SetRules {
        /// The rules from now on.
        policy: ApprovalPolicy,
    },
    /// The GM makes a player an assistant GM, or an assistant GM a player
    /// again (kept in the campaign's membership). Their sockets are
    /// welcomed again under the new role, with what it may see.
    Delegate {
        /// Whose role changes.
        user: UserId,
        /// [`Role::AssistantGm`] or [`Role::Player`].
        role: Role,
    },
    /// The GM (or an assistant GM) ends the session: requests still
    /// waiting are refused, what the table ended with is written to the
    /// campaign (the encounter, its tokens, the actors' hit points), every
    /// socket is told ([`super::ServerMessage::Ended`]) and nothing more
    /// is accepted.
    EndSession,
    /// The GM (or an assistant GM) moves the table to another encounter
    /// of the campaign without ending the evening: in one transaction this
    /// session ends as [`Self::EndSession`] ends it (written back, so the
    /// characters' hit points carry over) and a session starts on
    /// `encounter` (or the one already running there is joined, with
    /// these rules); every socket is told where the table went
    /// ([`super::ServerMessage::Ended`] with `next`).
    MoveTable {
        /// Where the table goes: an encounter of the same campaign, not
        /// the one on the table.
        encounter: EncounterId,
    },
    /// A player's browser saw these cells of the table's map
    /// ([`crate::sight::explored`]) for the first time: the server adds
    /// them to what she has explored (at most
    /// [`crate::limits::MAX_EXPLORED_CELLS`]), tells her other browsers,
    /// and keeps it with the encounter. Only ever the map, never what
    /// stands on it, so it is hers to report.
    Explore {
        /// The encounter on the table.
        encounter: EncounterId,
        /// The cells newly seen.
        cells: BTreeSet<Cell>,
    },
    /// The GM (or an assistant GM) makes every player forget what they
    /// explored of the table's map (a new night, a changed dungeon).
    ForgetExplored,
    /// The GM (or an assistant GM) previews a player's view: the server
    /// sends that player's explored cells whole
    /// ([`super::ServerMessage::Explored`]), then those she explores, to
    /// this socket, until it names another player or none.
    PreviewExplored {
        /// Whose, or nobody's (the GM sees everything again).
        player: Option<UserId>,
    },
    /// Keep-alive; answered by a pong with the same nonce.
    Ping {
        /// Echoed back.
        nonce: u64,
    },
}

/// A request to change the shared state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionRequest {
    /// Chosen by the client; the idempotency key: the same id sent twice
    /// is processed once and answered with its first outcome.
    pub id: ActionId,
    /// What is asked.
    pub action: Action,
    /// What the GM sees beside it.
    #[serde(default)]
    pub context: RequestContext,
    /// The version the client saw when asking; the server rebases the
    /// request over what was committed since.
    pub base_version: Version,
}

/// Context shown to the GM with a request.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RequestContext {
    /// The encounter it happens in.
    #[serde(default)]
    pub encounter: Option<EncounterId>,
    /// The round it happens in.
    #[serde(default)]
    pub round: Option<u32>,
    /// The tokens it targets.
    #[serde(default)]
    pub targets: Vec<TokenId>,
    /// The token acting.
    #[serde(default)]
    pub source: Option<TokenId>,
    /// The player's words ("I swing at the goblin").
    #[serde(default)]
    pub note: Option<String>,
}

/// The GM's answer to a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GmDecision {
    /// The request answered.
    pub action: ActionId,
    /// The answer.
    pub verdict: Verdict,
}

/// Approve, approve with changes, or reject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// Apply it as asked.
    Approve,
    /// Apply these changes instead.
    Modify {
        /// The changes to commit.
        changes: Vec<Change>,
        /// Shown to the player.
        #[serde(default)]
        note: Option<String>,
    },
    /// Do not apply it.
    Reject {
        /// Shown to the player.
        reason: String,
        /// What the GM would accept instead.
        #[serde(default)]
        alternative: Option<Action>,
    },
}
