//! Dice anyone at the table can check after the evening.
//!
//! When a session starts the server draws a secret [`Seed`] and publishes
//! its [`Commitment`] (`SHA-256(seed)`) in every welcome. Every die of the
//! session is derived from the seed and the id of the action that rolled
//! it, the id the *client* chose at random:
//!
//! ```text
//! block(n) = SHA-256(seed ‖ action id (16 bytes) ‖ n as 4 bytes big-endian)
//! value    = the first 8 bytes of the block, big-endian
//! ```
//!
//! `n` counts the blocks drawn for one action from 0; a value in the
//! uneven top of the range is skipped (rejection sampling), so every face
//! of a die is equally likely: the face is `value % sides + 1`.
//!
//! When the session ends the server reveals the seed, and [`verify`]
//! re-derives every roll of the event log from it. The commitment binds the
//! server to the seed before any roll; the client's action id means the
//! server could not have picked a seed that favours rolls it did not yet
//! know of. What it proves, and what it does not, is in
//! `docs/VERIFIABLE_DICE.md`.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::{
    action::{Action, Secrecy},
    dice::{DiceExpression, Roll},
    id::{ActionId, SessionId, UserId},
    rules::Participant,
};

/// A session's secret: 32 random bytes, drawn by the server.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Seed(pub [u8; 32]);

/// The published hash of a [`Seed`]: `SHA-256(seed)`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Commitment(pub [u8; 32]);

impl Seed {
    /// What the server publishes before the first roll.
    pub fn commitment(&self) -> Commitment {
        Commitment(Sha256::digest(self.0).into())
    }

    /// The dice of one action.
    pub fn dice(&self, action: ActionId) -> FairDice {
        FairDice {
            seed: *self,
            action,
            block: 0,
        }
    }
}

// A seed is a secret until revealed: never printed by accident.
impl fmt::Debug for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Seed(..)")
    }
}

impl fmt::Debug for Commitment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Commitment({self})")
    }
}

/// The seed's hexadecimal form: how it is revealed.
impl fmt::Display for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Display for Commitment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

fn from_hex(text: &str) -> Result<[u8; 32], hex::FromHexError> {
    let mut bytes = [0; 32];
    hex::decode_to_slice(text, &mut bytes)?;
    Ok(bytes)
}

impl FromStr for Seed {
    type Err = hex::FromHexError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        from_hex(text).map(Seed)
    }
}

impl FromStr for Commitment {
    type Err = hex::FromHexError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        from_hex(text).map(Commitment)
    }
}

macro_rules! hex_serde {
    ($type:ty) => {
        impl Serialize for $type {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

hex_serde!(Seed);
hex_serde!(Commitment);

/// The dice stream of one action: [`FairDice::face`] throws the next die.
#[derive(Debug, Clone)]
pub struct FairDice {
    seed: Seed,
    action: ActionId,
    block: u32,
}

impl FairDice {
    /// Throws a die with `sides` sides (at least 1): a face from 1 to
    /// `sides`, every face equally likely.
    pub fn face(&mut self, sides: u32) -> u32 {
        let sides = u64::from(sides.max(1));
        // 2^64 mod sides: the values from 2^64 - rest up would make the low
        // faces likelier, so they are skipped.
        let rest = (u64::MAX % sides + 1) % sides;
        loop {
            let value = self.next_value();
            if value <= u64::MAX - rest {
                // Below `sides`, so it fits.
                return u32::try_from(value % sides).unwrap_or(0) + 1;
            }
        }
    }

    fn next_value(&mut self) -> u64 {
        let mut hash = Sha256::new();
        hash.update(self.seed.0);
        hash.update(self.action.0.as_bytes());
        hash.update(self.block.to_be_bytes());
        self.block = self.block.wrapping_add(1);
        let block: [u8; 32] = hash.finalize().into();
        let mut first = [0; 8];
        first.copy_from_slice(&block[..8]);
        u64::from_be_bytes(first)
    }
}

/// One die as the log records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throw {
    /// How many sides.
    pub sides: u32,
    /// The face recorded.
    pub face: u32,
}

impl Action {
    /// Every die this action threw, in the order
    /// [`Action::roll_dice`] threw them; empty for an action without dice
    /// or not yet rolled.
    pub fn thrown(&self) -> Vec<Throw> {
        let d20 = |faces: &[u32]| {
            faces
                .iter()
                .map(|&face| Throw { sides: 20, face })
                .collect::<Vec<_>>()
        };
        let of_roll = |roll: &Roll| {
            roll.dice
                .iter()
                .map(|die| Throw {
                    sides: die.sides,
                    face: die.face,
                })
                .collect::<Vec<_>>()
        };
        match self {
            Action::Roll { roll, .. } => roll.as_ref().map(of_roll).unwrap_or_default(),
            Action::Chat { rolls, .. } => rolls.iter().flat_map(of_roll).collect(),
            Action::RollInitiative { rolls, .. } | Action::RollCheck { rolls, .. } => {
                rolls.as_deref().map(d20).unwrap_or_default()
            }
            Action::JoinInitiative { roll, .. } => d20(roll.as_slice()),
            Action::RollAttack { rolls, .. } => rolls
                .as_ref()
                .map(|attack| {
                    let mut all = d20(&attack.d20);
                    all.extend(of_roll(&attack.damage));
                    all
                })
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// Whether `reader` saw this action's dice when `roller` threw them
    /// (and so may check them): a whisper's and a secret roll's only their
    /// readers, every other roll the whole table.
    pub fn dice_seen_by(&self, roller: UserId, reader: Participant) -> bool {
        if reader.role.is_gm_or_assistant() {
            return true;
        }
        match self {
            Action::Roll { secrecy, .. } => match secrecy {
                Secrecy::Open => true,
                Secrecy::Gm => reader.user == roller,
                Secrecy::Blind => false,
            },
            Action::Chat { to: Some(to), .. } => reader.user == roller || to.contains(&reader.user),
            _ => true,
        }
    }

    /// The rolls written with an expression (a roll from the chat box, a
    /// chat line's inline rolls), each with it: their totals can be checked
    /// as well as their dice.
    fn expressed(&self) -> Vec<(&str, &Roll)> {
        match self {
            Action::Roll {
                roll: Some(roll), ..
            } => vec![(roll.expression.as_str(), roll)],
            Action::Chat { rolls, .. } => rolls
                .iter()
                .map(|roll| (roll.expression.as_str(), roll))
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// One roll of the evening, as the event log keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedRoll {
    /// The action's id (the client's).
    pub id: ActionId,
    /// The action, with the dice the server threw.
    pub action: Action,
}

/// The most rolls one record carries: an evening of one roll a second for
/// five hours is 18,000.
pub const MAX_RECORDED_ROLLS: usize = 50_000;

/// A session's dice, as one member may check them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiceRecord {
    /// The session.
    pub session: SessionId,
    /// The hash published in every welcome (none: dice from before they
    /// could be checked).
    pub commitment: Option<Commitment>,
    /// The seed, once the session has ended.
    pub seed: Option<Seed>,
    /// The rolls this member saw, in the order they were asked for.
    pub rolls: Vec<RecordedRoll>,
    /// Whether there were more than [`MAX_RECORDED_ROLLS`].
    pub truncated: bool,
}

/// A session whose dice a member may check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiceSession {
    /// The session.
    pub id: SessionId,
    /// Its encounter's name, if the encounter still exists.
    pub encounter: Option<String>,
    /// When it started.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: time::OffsetDateTime,
    /// Whether it has ended (its seed revealed).
    pub ended: bool,
    /// The published hash of its seed.
    pub commitment: Commitment,
}

/// Why a roll does not check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mismatch {
    /// The revealed seed is not the one committed to.
    #[error("the revealed seed does not hash to the commitment published before the first roll")]
    Seed,
    /// A die shows another face than the seed gives.
    #[error("action {action}: die {die} (d{sides}) shows {recorded}, the seed gives {derived}")]
    Face {
        /// The action.
        action: ActionId,
        /// Which die, from 1.
        die: usize,
        /// Its sides.
        sides: u32,
        /// The face in the log.
        recorded: u32,
        /// The face the seed gives.
        derived: u32,
    },
    /// A total is not what its dice and expression make.
    #[error("action {action}: {reason}")]
    Total {
        /// The action.
        action: ActionId,
        /// What is wrong.
        reason: String,
    },
}

/// What [`verify`] checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Verified {
    /// Actions with dice.
    pub rolls: usize,
    /// Dice.
    pub dice: usize,
}

/// Checks that `seed` is the one `commitment` was published for, and that
/// every die of every roll is the face the seed gives for its action, in
/// order, with the totals its expression makes.
pub fn verify(
    commitment: Commitment,
    seed: &Seed,
    rolls: &[RecordedRoll],
) -> Result<Verified, Mismatch> {
    if seed.commitment() != commitment {
        return Err(Mismatch::Seed);
    }
    let mut verified = Verified::default();
    for recorded in rolls {
        let thrown = recorded.action.thrown();
        let mut dice = seed.dice(recorded.id);
        for (index, throw) in thrown.iter().enumerate() {
            let derived = dice.face(throw.sides);
            if derived != throw.face {
                return Err(Mismatch::Face {
                    action: recorded.id,
                    die: index + 1,
                    sides: throw.sides,
                    recorded: throw.face,
                    derived,
                });
            }
        }
        for (expression, roll) in recorded.action.expressed() {
            expression
                .parse::<DiceExpression>()
                .and_then(|parsed| parsed.check(roll))
                .map_err(|error| Mismatch::Total {
                    action: recorded.id,
                    reason: error.to_string(),
                })?;
        }
        if !thrown.is_empty() {
            verified.rolls += 1;
            verified.dice += thrown.len();
        }
    }
    Ok(verified)
}

#[cfg(test)]
mod tests;
