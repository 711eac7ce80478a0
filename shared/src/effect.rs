//! Effects: spells and conditions that last a number of rounds.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::id::{EffectId, TokenId};

/// An effect on one or more tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Effect {
    /// Its id.
    pub id: EffectId,
    /// Its name ("Bless", "Hunter's Mark").
    pub name: String,
    /// The tokens it affects (indexed: `effects by target`).
    pub targets: BTreeSet<TokenId>,
    /// Rounds left; `None` lasts until removed.
    #[serde(default)]
    pub remaining_rounds: Option<u32>,
    /// Who cast or caused it.
    #[serde(default)]
    pub source: Option<TokenId>,
    /// System-specific details.
    #[serde(default)]
    pub properties: BTreeMap<String, Value>,
}
