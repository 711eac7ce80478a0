//! The pure core of the tabletop.
//!
//! Everything here is deterministic and does no IO, so the same code decides
//! on the server and predicts in the browser (it compiles to
//! `wasm32-unknown-unknown`; the test command checks that).
//!
//! # A client and the server converging, in memory
//!
//! ```
//! use serde_json::json;
//! use shared::{
//!     action::Action,
//!     authority::Authority,
//!     change::Change,
//!     geometry::Point,
//!     id::{ActionId, EncounterId, TokenId, UserId},
//!     optimistic::Optimistic,
//!     path::Entity,
//!     protocol::{ActionRequest, ClientMessage, ServerMessage},
//!     store::Store,
//! };
//!
//! let encounter: EncounterId = "6c2f3b9e-0000-4000-8000-000000000001".parse().unwrap();
//! let token: TokenId = "6c2f3b9e-0000-4000-8000-000000000002".parse().unwrap();
//! let mut start = Store::new();
//! start.apply_all(&[
//!     Change::set(Entity::Encounter(encounter).path(), json!({"id": encounter, "name": "Cave"})),
//!     Change::set(
//!         Entity::Token(token).path(),
//!         json!({"id": token, "encounter": encounter, "name": "Ranger", "position": {"x": 0.0, "y": 0.0}}),
//!     ),
//! ])?;
//! let mut server = Authority::new(start.clone(), 0);
//! let mut client = Optimistic::new(start, 0);
//! let me = UserId(uuid::Uuid::from_u128(7));
//!
//! // The client shows its move at once and sends the request.
//! let request = ActionRequest {
//!     id: ActionId(uuid::Uuid::from_u128(1)),
//!     action: Action::MoveToken { token, to: Point::new(140.0, 70.0) },
//!     context: Default::default(),
//!     base_version: client.version(),
//! };
//! client.propose(request.id, request.action.changes(client.view(), me)?)?;
//! assert_eq!(client.view().token(token).unwrap().position.x, 140.0);
//! let wire = ClientMessage::Request(request).encode();
//!
//! // The server decodes it, rebases it over anything newer, commits it.
//! let ClientMessage::Request(request) = ClientMessage::decode(&wire)? else { unreachable!() };
//! let changes = request.action.changes(server.store(), me)?;
//! let rebased = server.rebase(&changes, request.base_version)?;
//! let (commit, _undo) = server.commit(Some(request.id), rebased.kept)?;
//! let wire = ServerMessage::Commit(commit).encode();
//!
//! // The commit confirms the client's guess: nothing pending, same state.
//! let ServerMessage::Commit(commit) = ServerMessage::decode(&wire)? else { unreachable!() };
//! client.commit(&commit)?;
//! assert!(client.pending().is_empty());
//! assert_eq!(client.view(), server.store());
//! # Ok::<(), shared::Error>(())
//! ```
//!
//! # Layout
//! - [`id`]: typed ids, so a token id can never be passed where an actor
//!   id is expected.
//! - [`account`]: users, and validation of login names and passwords.
//! - [`compendium`]: compendium search queries and results.
//! - [`campaign`]: campaigns and the validation of what a user types for one.
//! - Domain types of the live state: [`actor`], [`item`], [`encounter`]
//!   (map, initiative, fog, log), [`token`], [`effect`], [`geometry`].
//! - [`path`] and [`change`]: state changes (path, operation, value),
//!   undo, commits.
//! - [`store`]: the normalized store with its indices; applies changes
//!   atomically and returns exact undos.
//! - [`spatial`]: the grid index answering "which tokens are in this
//!   viewport".
//! - [`action`]: typed requests and the changes each makes.
//! - [`rules`]: roles, who may request what, and the approval policy that
//!   decides what applies at once and what waits for the GM.
//! - [`ot`]: the conflict rules between a pending change and a committed one.
//! - [`optimistic`]: the client's view, confirmed state plus pending
//!   actions, with rollback and rebase.
//! - [`authority`]: the server's copy, which versions commits and rebases
//!   requests made against older versions.
//! - [`protocol`]: the messages between browser and server, with a
//!   version and a size limit on decode.
//! - [`sight`]: what each participant may see of the state and of each
//!   commit.
//! - [`client`]: a browser's side of a live session without the socket:
//!   the view, the outbox resent on reconnect, the GM's queue, and what
//!   each server message changes.
//! - [`wall`]: walls, doors and windows, and which paths they stop.
//! - [`limits`]: every bound on what a member can grow.
//! - [`error`]: the crate's one error type.

pub mod account;
pub mod action;
pub mod actor;
pub mod authority;
pub mod campaign;
pub mod change;
pub mod character;
pub mod chat;
#[doc(hidden)]
pub mod check;
pub mod client;
pub mod compendium;
pub mod dice;
pub mod drawing;
pub mod effect;
pub mod encounter;
pub mod error;
pub mod fair;
pub mod geometry;
pub mod grid;
pub mod id;
pub mod item;
pub mod limits;
pub mod measure;
pub mod media;
pub mod membership;
pub mod optimistic;
pub mod ot;
pub mod path;
pub mod protocol;
pub mod replay;
pub mod report;
pub mod rules;
pub mod sheet;
pub mod sight;
pub mod spatial;
pub mod store;
pub mod template;
pub mod token;
pub mod wall;

#[cfg(test)]
pub(crate) mod testing;

pub use error::{Error, Result};
