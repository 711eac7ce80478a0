//! Every bound on what a member can grow, in one place.
//!
//! The store checks the live state against these on every write (a live
//! edit, a drag preview and a form obey the same numbers), the protocol
//! checks frames, and the server checks what it keeps per campaign. A
//! value past a limit is refused with [`Error::OverLimit`] or
//! [`Error::OutOfRange`], which name the limit; nothing changes.
//!
//! The values are generous for play and small enough that one hostile
//! member cannot make the server (or every browser at the table) allocate
//! without end: a snapshot, a queue and a history all stay bounded.

use serde_json::Value;

use crate::{Error, Result};

/// Characters in the name of an actor, item, token or effect.
pub const MAX_NAME_CHARS: usize = 100;
/// Characters in an encounter's name.
pub const MAX_ENCOUNTER_NAME_CHARS: usize = 200;
/// Characters in a condition's name.
pub const MAX_CONDITION_CHARS: usize = 40;
/// Conditions on one token.
pub const MAX_CONDITIONS: usize = 32;
/// Characters in a stat's name.
pub const MAX_STAT_NAME_CHARS: usize = 40;
/// Stats on one actor or token.
pub const MAX_STATS: usize = 64;
/// The largest distance of a token from the map's origin, in map pixels
/// (a thousand cells of 1,000 pixels).
pub const MAX_COORDINATE: f64 = 1_000_000.0;
/// The largest rotation either way, in degrees.
pub const MAX_ROTATION: f64 = 9_999.0;
/// The smallest token, in grid cells per side.
pub const MIN_SCALE: f64 = 0.1;
/// The largest token, in grid cells per side: a token is listed in every
/// bucket of the spatial index it covers, so its size bounds that cost.
pub const MAX_SCALE: f64 = 99.0;

/// The farthest a token sees or a light reaches, in feet (a mile, with
/// room to spare): the bound keeps the pixel arithmetic finite and a
/// light's circle drawable.
pub const MAX_SIGHT_FEET: u32 = 5_000;
/// The smallest grid cell, in map pixels.
pub const MIN_GRID_SIZE: f64 = 10.0;
/// The largest grid cell, in map pixels.
pub const MAX_GRID_SIZE: f64 = 400.0;
/// The most feet one cell can stand for.
pub const MAX_FEET_PER_CELL: u32 = 1_000;
/// Revealed fog cells on one encounter.
pub const MAX_FOG_CELLS: usize = 100_000;
/// Cells one player has explored on one map (as many as the fog may
/// reveal).
pub const MAX_EXPLORED_CELLS: usize = MAX_FOG_CELLS;
/// The largest fog cell coordinate either way.
pub const MAX_FOG_CELL: i32 = 100_000;
/// Tokens on one encounter.
pub const MAX_TOKENS_PER_ENCOUNTER: usize = 10_000;
/// Actors in one campaign.
pub const MAX_ACTORS: usize = 5_000;
/// Items in one campaign.
pub const MAX_ITEMS: usize = 10_000;
/// Encounters in one campaign.
pub const MAX_ENCOUNTERS: usize = 1_000;
/// Effects running in one session.
pub const MAX_EFFECTS: usize = 1_000;
/// Tokens one effect can target.
pub const MAX_EFFECT_TARGETS: usize = 64;
/// Tokens in a turn order.
pub const MAX_INITIATIVE: usize = 1_000;
/// Lines an encounter's log keeps: older lines stay in the event log.
pub const MAX_LOG_LINES: usize = 200;
/// Characters in one log line (a chat message or a described roll).
pub const MAX_LOG_LINE_CHARS: usize = 8_000;
/// Members one whisper or private line may name.
pub const MAX_LINE_READERS: usize = 16;
/// Characters in the note a player adds to a request.
pub const MAX_NOTE_CHARS: usize = 500;
/// Bytes of JSON in an item's data or an effect's property.
pub const MAX_JSON_BYTES: usize = 16 * 1024;
/// Changes in one request.
pub const MAX_CHANGES_PER_REQUEST: usize = 1_000;
/// Bytes of recent commits a session keeps for rebasing late requests.
pub const MAX_HISTORY_BYTES: usize = 8 * 1024 * 1024;
/// Requests of one member waiting for the GM.
pub const MAX_QUEUED_PER_MEMBER: usize = 20;
/// Requests waiting for the GM in one session.
pub const MAX_QUEUED_PER_SESSION: usize = 200;
/// Open sockets of one member in one session.
pub const MAX_SOCKETS_PER_MEMBER: usize = 8;
/// Open sockets in one session.
pub const MAX_SOCKETS_PER_SESSION: usize = 256;
/// Open sockets of one user on one server node, across sessions.
pub const MAX_SOCKETS_PER_USER: usize = 32;
/// Sessions running at once in one campaign.
pub const MAX_RUNNING_SESSIONS: usize = 20;

/// Refuses text longer than `max` characters or holding U+0000 (which
/// PostgreSQL cannot store in text or JSON).
pub fn text(what: &'static str, value: &str, max: usize) -> Result<()> {
    storable(what, value)?;
    // Bytes bound characters from above: only count when it could matter.
    if value.len() > max && value.chars().count() > max {
        return Err(Error::OverLimit {
            what: what.into(),
            max,
        });
    }
    Ok(())
}

/// Refuses text holding U+0000.
pub fn storable(what: &'static str, value: &str) -> Result<()> {
    if value.contains('\0') {
        return Err(Error::UnstorableText { what: what.into() });
    }
    Ok(())
}

/// Refuses more than `max` things.
pub fn count(what: &'static str, len: usize, max: usize) -> Result<()> {
    if len > max {
        return Err(Error::OverLimit {
            what: what.into(),
            max,
        });
    }
    Ok(())
}

/// Refuses a number outside `min..=max` (and anything not finite).
pub fn between(what: &'static str, value: f64, min: f64, max: f64) -> Result<()> {
    if value.is_finite() && (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(Error::OutOfRange {
            what: what.into(),
            range: format!("{min} to {max}"),
        })
    }
}

/// Refuses a JSON value larger than [`MAX_JSON_BYTES`] once written, or
/// holding U+0000 in any string or key.
pub fn json(what: &'static str, value: &Value) -> Result<()> {
    if json_has_nul(value) {
        return Err(Error::UnstorableText { what: what.into() });
    }
    let mut counter = ByteCounter(0);
    // Writing into a counter cannot fail, and stops early past the limit.
    let _ = serde_json::to_writer(&mut counter, value);
    if counter.0 > MAX_JSON_BYTES {
        return Err(Error::OverLimit {
            what: what.into(),
            max: MAX_JSON_BYTES,
        });
    }
    Ok(())
}

/// True when a string or key anywhere in `value` holds U+0000.
pub fn json_has_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(json_has_nul),
        Value::Object(fields) => fields
            .iter()
            .any(|(key, value)| key.contains('\0') || json_has_nul(value)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

struct ByteCounter(usize);

impl std::io::Write for ByteCounter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        if self.0 > MAX_JSON_BYTES {
            return Err(std::io::Error::other("over the limit"));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_at_the_limit_passes_and_one_past_it_is_refused() {
        let at = "é".repeat(MAX_NAME_CHARS);
        assert_eq!(text("a name", &at, MAX_NAME_CHARS), Ok(()));
        let past = "é".repeat(MAX_NAME_CHARS + 1);
        assert_eq!(
            text("a name", &past, MAX_NAME_CHARS),
            Err(Error::OverLimit {
                what: "a name".into(),
                max: MAX_NAME_CHARS
            })
        );
        assert_eq!(
            text("a name", "a\0b", MAX_NAME_CHARS),
            Err(Error::UnstorableText {
                what: "a name".into()
            })
        );
    }

    #[test]
    fn json_values_are_bounded_in_bytes_and_refuse_nul_anywhere() {
        // `"` + body + `"` is exactly the limit.
        let at = json!("x".repeat(MAX_JSON_BYTES - 2));
        assert_eq!(json("data", &at), Ok(()));
        let past = json!("x".repeat(MAX_JSON_BYTES - 1));
        assert!(matches!(
            json("data", &past),
            Err(Error::OverLimit {
                max: MAX_JSON_BYTES,
                ..
            })
        ));
        assert!(json_has_nul(&json!({"a": [1, {"b\0": 2}]})));
        assert!(json_has_nul(&json!({"a": [1, {"b": "\0"}]})));
        assert!(!json_has_nul(&json!({"a": [1, {"b": "\\u0000"}]})));
    }

    #[test]
    fn ranges_refuse_what_is_not_finite() {
        assert_eq!(between("scale", MAX_SCALE, MIN_SCALE, MAX_SCALE), Ok(()));
        for bad in [MAX_SCALE + 0.5, MIN_SCALE / 2.0, f64::NAN, f64::INFINITY] {
            assert!(
                between("scale", bad, MIN_SCALE, MAX_SCALE).is_err(),
                "{bad}"
            );
        }
    }
}
