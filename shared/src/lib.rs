//! The pure core of the tabletop.
//!
//! Everything here is deterministic and does no IO, so the same code decides
//! on the server and predicts in the browser (it compiles to
//! `wasm32-unknown-unknown`; the test command checks that).
//!
//! # Layout
//! - [`id`]: typed ids, so a campaign id can never be passed where another
//!   entity's id is expected.
//! - [`campaign`]: campaigns and the validation of what a user types for one.
//! - [`error`]: the crate's one error type.

pub mod campaign;
pub mod error;
pub mod id;

pub use error::{Error, Result};
