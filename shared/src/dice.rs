//! Dice: expressions such as `2d6+3` or `1d20 + 1d4 - 1`, and their rolls.
//!
//! The server rolls; clients only ask. A [`Roll`] carries every die's face
//! so that anyone can check the total, and [`DiceExpression::check`] makes
//! sure a roll belongs to its expression (a stored or forwarded roll that
//! does not is refused rather than shown).

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The most dice one expression may throw.
pub const MAX_DICE: u32 = 100;
/// The most sides a die may have.
pub const MAX_SIDES: u32 = 1000;
/// The most terms (dice groups and numbers) in one expression.
pub const MAX_TERMS: usize = 20;
/// The largest number added or taken away.
pub const MAX_MODIFIER: i64 = 10_000;

/// One term of an expression: `2d6`, `-1d4` or `+3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Term {
    Dice {
        count: u32,
        sides: u32,
        negative: bool,
    },
    Number(i64),
}

/// A parsed dice expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiceExpression {
    terms: Vec<Term>,
}

/// One die thrown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Die {
    /// How many sides it has.
    pub sides: u32,
    /// The face it shows, from 1 to `sides`.
    pub face: u32,
}

/// The result of rolling an expression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roll {
    /// The expression, written the canonical way (`2d6 + 3`).
    pub expression: String,
    /// Every die, in the expression's order.
    pub dice: Vec<Die>,
    /// The sum, modifiers included.
    pub total: i64,
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidAction(reason.into())
}

impl FromStr for DiceExpression {
    type Err = Error;

    /// Parses `NdM` groups (N defaults to 1) and whole numbers joined by
    /// `+` and `-`, spaces anywhere, `D` as `d`.
    fn from_str(text: &str) -> Result<Self> {
        let compact: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if compact.is_empty() {
            return Err(invalid("say which dice to roll, such as 1d20+3"));
        }
        let mut terms = Vec::new();
        let mut dice = 0u32;
        let mut rest = compact.as_str();
        let mut first = true;
        while !rest.is_empty() {
            let negative = match rest.as_bytes()[0] {
                b'+' => false,
                b'-' => true,
                _ if first => false,
                _ => return Err(invalid(format!("expected + or - in {text:?}"))),
            };
            if rest.starts_with(['+', '-']) {
                rest = &rest[1..];
            }
            first = false;
            let end = rest.find(['+', '-']).unwrap_or(rest.len());
            let (term, tail) = rest.split_at(end);
            rest = tail;
            let number = |digits: &str| -> Result<u32> {
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(invalid(format!("{term:?} is not a number of dice")));
                }
                digits
                    .parse()
                    .map_err(|_| invalid(format!("{term:?} is too large")))
            };
            let parsed = match term.split_once('d') {
                Some((count, sides)) => {
                    let count = if count.is_empty() { 1 } else { number(count)? };
                    let sides = number(sides)?;
                    if count == 0 || !(2..=MAX_SIDES).contains(&sides) {
                        return Err(invalid(format!(
                            "{term:?}: roll at least one die of 2 to {MAX_SIDES} sides"
                        )));
                    }
                    dice = dice.saturating_add(count);
                    Term::Dice {
                        count,
                        sides,
                        negative,
                    }
                }
                None => {
                    let value = i64::from(number(term)?);
                    if value > MAX_MODIFIER {
                        return Err(invalid(format!(
                            "{term:?}: modifiers go up to {MAX_MODIFIER}"
                        )));
                    }
                    Term::Number(if negative { -value } else { value })
                }
            };
            terms.push(parsed);
        }
        if dice == 0 {
            return Err(invalid("roll at least one die, such as 1d20"));
        }
        if dice > MAX_DICE {
            return Err(invalid(format!("at most {MAX_DICE} dice at once")));
        }
        if terms.len() > MAX_TERMS {
            return Err(invalid(format!("at most {MAX_TERMS} terms")));
        }
        Ok(Self { terms })
    }
}

impl fmt::Display for DiceExpression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, term) in self.terms.iter().enumerate() {
            let (negative, body) = match *term {
                Term::Dice {
                    count,
                    sides,
                    negative,
                } => (negative, format!("{count}d{sides}")),
                Term::Number(value) => (value < 0, value.unsigned_abs().to_string()),
            };
            match (i, negative) {
                (0, false) => {}
                (0, true) => f.write_str("-")?,
                (_, false) => f.write_str(" + ")?,
                (_, true) => f.write_str(" - ")?,
            }
            f.write_str(&body)?;
        }
        Ok(())
    }
}

impl DiceExpression {
    /// Rolls it: `face(sides)` throws one die and must return 1..=sides
    /// (the server passes a random source; tests a fixed one).
    pub fn roll(&self, mut face: impl FnMut(u32) -> u32) -> Roll {
        let mut dice = Vec::new();
        let mut total = 0i64;
        for term in &self.terms {
            match *term {
                Term::Dice {
                    count,
                    sides,
                    negative,
                } => {
                    for _ in 0..count {
                        let shown = face(sides).clamp(1, sides);
                        dice.push(Die { sides, face: shown });
                        let value = i64::from(shown);
                        total += if negative { -value } else { value };
                    }
                }
                Term::Number(value) => total += value,
            }
        }
        Roll {
            expression: self.to_string(),
            dice,
            total,
        }
    }

    /// Whether `roll` is a roll of this expression: the same dice, faces on
    /// them, and the right total.
    pub fn check(&self, roll: &Roll) -> Result<()> {
        let mut faces = roll.dice.iter();
        let replayed = self.roll(|sides| match faces.next() {
            Some(die) if die.sides == sides && (1..=sides).contains(&die.face) => die.face,
            // Out of range: the replay shows 0, which the clamp turns into
            // 1, and the comparison below fails.
            _ => 0,
        });
        if replayed != *roll || faces.next().is_some() {
            return Err(invalid("that roll does not match its dice"));
        }
        Ok(())
    }
}

impl Roll {
    /// How the log shows it: `2d6 + 3: 4, 2 → 9`.
    pub fn describe(&self) -> String {
        let faces: Vec<String> = self.dice.iter().map(|d| d.face.to_string()).collect();
        format!("{}: {} → {}", self.expression, faces.join(", "), self.total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<DiceExpression> {
        text.parse()
    }

    #[test]
    fn reads_the_usual_forms_and_writes_them_one_way() {
        for (text, canonical) in [
            ("1d20+5", "1d20 + 5"),
            ("d20", "1d20"),
            ("2D6 + 1d4 - 1", "2d6 + 1d4 - 1"),
            ("-1d4+10", "-1d4 + 10"),
            (" 3d8 ", "3d8"),
        ] {
            assert_eq!(parse(text).unwrap().to_string(), canonical, "{text}");
        }
    }

    #[test]
    fn refuses_what_is_not_dice_or_too_much() {
        for text in [
            "",
            "5",
            "1d1",
            "0d6",
            "1d",
            "d",
            "2d6+",
            "2d6++3",
            "1d20x",
            "abc",
            "101d6",
            "1d1001",
            "1d6+10001",
            "99999999999d6",
        ] {
            assert!(
                matches!(parse(text), Err(Error::InvalidAction(_))),
                "{text:?} must be refused"
            );
        }
        let many = vec!["1d4"; MAX_TERMS + 1].join("+");
        assert!(parse(&many).is_err());
    }

    #[test]
    fn totals_add_dice_and_modifiers_with_their_signs() {
        let mut faces = [6, 5, 3].into_iter();
        let roll = parse("2d6 - 1d4 + 2")
            .unwrap()
            .roll(|_| faces.next().unwrap());
        assert_eq!(roll.total, 6 + 5 - 3 + 2);
        assert_eq!(
            roll.dice,
            [
                Die { sides: 6, face: 6 },
                Die { sides: 6, face: 5 },
                Die { sides: 4, face: 3 }
            ]
        );
        assert_eq!(roll.describe(), "2d6 - 1d4 + 2: 6, 5, 3 → 10");
    }

    #[test]
    fn a_face_outside_the_die_is_kept_on_it() {
        let roll = parse("3d6").unwrap().roll(|_| 99);
        assert!(roll.dice.iter().all(|d| d.face == 6));
        assert_eq!(roll.total, 18);
    }

    #[test]
    fn check_accepts_only_rolls_of_the_expression() {
        let expression = parse("2d6+3").unwrap();
        let roll = expression.roll(|_| 4);
        assert!(expression.check(&roll).is_ok());

        let mut wrong_total = roll.clone();
        wrong_total.total += 1;
        let mut impossible_face = roll.clone();
        impossible_face.dice[0].face = 7;
        impossible_face.total += 3;
        let mut missing_die = roll.clone();
        missing_die.dice.pop();
        missing_die.total -= 4;
        let mut extra_die = roll.clone();
        extra_die.dice.push(Die { sides: 6, face: 1 });
        let other = parse("1d12+3").unwrap().roll(|_| 8);
        for bad in [wrong_total, impossible_face, missing_die, extra_die, other] {
            assert!(expression.check(&bad).is_err(), "{bad:?}");
        }
    }
}
