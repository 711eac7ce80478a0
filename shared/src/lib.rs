//! The pure core of the tabletop.
//!
//! Everything here is deterministic and does no IO, so the same code decides
//! on the server and predicts in the browser (it compiles to
//! `wasm32-unknown-unknown`; the test command checks that).
//!
//! # Layout
//! - [`id`]: typed ids, so a token id can never be passed where an actor
//!   id is expected.
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
//! - [`error`]: the crate's one error type.

pub mod action;
pub mod actor;
pub mod authority;
pub mod campaign;
pub mod change;
pub mod effect;
pub mod encounter;
pub mod error;
pub mod geometry;
pub mod id;
pub mod item;
pub mod optimistic;
pub mod ot;
pub mod path;
pub mod rules;
pub mod spatial;
pub mod store;
pub mod token;

#[cfg(test)]
pub(crate) mod testing;

pub use error::{Error, Result};
