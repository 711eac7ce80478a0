//! Dice: expressions such as `2d6+3`, `4d6kh3`, `adv + 5` or
//! `1d20 + 5 to hit, 2d6 + 3 slashing`, and their rolls.
//!
//! An expression is one or more parts separated by commas, each a sum of
//! terms with an optional label after it. A dice term is `NdM` (N defaults
//! to 1) with optional modifiers, in any order:
//! - keep or drop: `kh3` (keep the 3 highest; `k3` and `kh` alike), `kl1`,
//!   `dh1`, `dl1`;
//! - explode: `!` (a die showing its highest face is thrown again and
//!   added);
//! - reroll: `r1`, `r<3`, `r<=2`, `r>5` (thrown again while it matches),
//!   `ro<3` (once).
//!
//! `adv` and `dis` stand for `2d20kh1` and `2d20kl1`.
//!
//! The server rolls; clients only ask. A [`Roll`] carries every die thrown,
//! in throw order (a rerolled or dropped one marked as such), so that anyone
//! can replay it, and [`DiceExpression::check`] makes sure a roll belongs to
//! its expression (a stored or forwarded roll that does not is refused
//! rather than shown).

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The most dice one expression may ask for (before rerolls and
/// explosions).
pub const MAX_DICE: u32 = 100;
/// The most dice one roll may throw, rerolls and explosions included: a
/// reroll or an explosion that would go past it stops there.
pub const MAX_THROWS: usize = 500;
/// The most sides a die may have.
pub const MAX_SIDES: u32 = 1000;
/// The most terms (dice groups and numbers) in one expression.
pub const MAX_TERMS: usize = 20;
/// The most parts (separated by commas) in one expression.
pub const MAX_PARTS: usize = 8;
/// The most characters in one part's label.
pub const MAX_LABEL_CHARS: usize = 40;
/// The largest number added or taken away.
pub const MAX_MODIFIER: i64 = 10_000;
/// The most inline rolls (`[[1d20+3]]`) in one chat line.
pub const MAX_INLINE_ROLLS: usize = 5;

/// The inline rolls of a chat line: where each `[[…]]` stands in `text`
/// (brackets included) and the expression inside.
pub fn inline_rolls(text: &str) -> Vec<(std::ops::Range<usize>, &str)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find("[[").map(|at| at + from) {
        let Some(close) = text[open + 2..].find("]]").map(|at| at + open + 2) else {
            break;
        };
        found.push((open..close + 2, &text[open + 2..close]));
        from = close + 2;
    }
    found
}

/// Which of a group's dice count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keep {
    Highest(u32),
    Lowest(u32),
    DropHighest(u32),
    DropLowest(u32),
}

/// How a reroll compares a face with its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compare {
    Equal,
    Below,
    AtMost,
    Above,
    AtLeast,
}

/// Which faces are thrown again, and whether only once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Reroll {
    once: bool,
    compare: Compare,
    value: u32,
}

/// A group of dice: `4d6kh3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Dice {
    count: u32,
    sides: u32,
    negative: bool,
    keep: Option<Keep>,
    explode: bool,
    reroll: Option<Reroll>,
}

/// One term of an expression: `2d6`, `-1d4` or `+3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Term {
    Dice(Dice),
    Number(i64),
}

/// One part of an expression: a sum and what it is for.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Part {
    terms: Vec<Term>,
    label: Option<String>,
}

/// A parsed dice expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiceExpression {
    parts: Vec<Part>,
}

/// One die thrown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Die {
    /// How many sides it has.
    pub sides: u32,
    /// The face it shows, from 1 to `sides`.
    pub face: u32,
    /// Thrown but not counted: rerolled, or dropped by a keep or drop.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dropped: bool,
}

/// The result of rolling an expression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roll {
    /// The expression, written the canonical way (`2d6 + 3`).
    pub expression: String,
    /// Every die thrown, in throw order.
    pub dice: Vec<Die>,
    /// The sum, modifiers included; for an expression of several parts,
    /// the first part's.
    pub total: i64,
    /// Every part's total, for an expression of several parts (empty for
    /// one part, whose total is `total`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub totals: Vec<i64>,
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidAction(reason.into())
}

/// Whether a whitespace-separated word belongs to the arithmetic rather
/// than to the label after it.
fn is_arithmetic(word: &str) -> bool {
    let lower = word.to_ascii_lowercase();
    let start = lower.trim_start_matches(['+', '-']);
    let shorthand = |name: &str| {
        start
            .strip_prefix(name)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['+', '-']))
    };
    start.is_empty()
        || start.starts_with(|c: char| c.is_ascii_digit())
        || start
            .strip_prefix('d')
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        || shorthand("adv")
        || shorthand("dis")
}

impl FromStr for DiceExpression {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let parts = text
            .split(',')
            .map(parse_part)
            .collect::<Result<Vec<_>>>()?;
        if parts.len() > MAX_PARTS {
            return Err(invalid(format!("at most {MAX_PARTS} parts")));
        }
        let dice: u32 = parts
            .iter()
            .flat_map(|p| &p.terms)
            .map(|t| match t {
                Term::Dice(d) => d.count,
                Term::Number(_) => 0,
            })
            .fold(0, u32::saturating_add);
        if dice > MAX_DICE {
            return Err(invalid(format!("at most {MAX_DICE} dice at once")));
        }
        if parts.iter().map(|p| p.terms.len()).sum::<usize>() > MAX_TERMS {
            return Err(invalid(format!("at most {MAX_TERMS} terms")));
        }
        Ok(Self { parts })
    }
}

/// One part: the arithmetic, then an optional label (`1d20 + 5 to hit`).
fn parse_part(text: &str) -> Result<Part> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let split = words
        .iter()
        .position(|w| !is_arithmetic(w))
        .unwrap_or(words.len());
    let compact: String = words[..split]
        .concat()
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let label = words[split..].join(" ");
    if compact.is_empty() {
        return Err(invalid("say which dice to roll, such as 1d20+3"));
    }
    if label.chars().count() > MAX_LABEL_CHARS {
        return Err(invalid(format!(
            "a label can have at most {MAX_LABEL_CHARS} characters"
        )));
    }
    let mut terms = Vec::new();
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
        terms.push(parse_term(term, negative)?);
        if terms.len() > MAX_TERMS {
            return Err(invalid(format!("at most {MAX_TERMS} terms")));
        }
    }
    if !terms.iter().any(|t| matches!(t, Term::Dice(_))) {
        return Err(invalid("roll at least one die, such as 1d20"));
    }
    Ok(Part {
        terms,
        label: (!label.is_empty()).then_some(label),
    })
}

/// Reads the digits at the start of `text`: the number (if any) and what
/// follows.
fn digits(text: &str) -> (Option<&str>, &str) {
    let end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, rest) = text.split_at(end);
    ((!number.is_empty()).then_some(number), rest)
}

fn number(term: &str, digits: &str) -> Result<u32> {
    digits
        .parse()
        .map_err(|_| invalid(format!("{term:?} is too large")))
}

fn parse_term(term: &str, negative: bool) -> Result<Term> {
    let advantage = |keep| {
        Ok(Term::Dice(Dice {
            count: 2,
            sides: 20,
            negative,
            keep: Some(keep),
            explode: false,
            reroll: None,
        }))
    };
    match term {
        "adv" => return advantage(Keep::Highest(1)),
        "dis" => return advantage(Keep::Lowest(1)),
        _ => {}
    }
    let (count, rest) = digits(term);
    let Some(rest) = rest.strip_prefix('d') else {
        return match (count, rest) {
            (Some(value), "") => {
                let value = i64::from(number(term, value)?);
                if value > MAX_MODIFIER {
                    return Err(invalid(format!(
                        "{term:?}: modifiers go up to {MAX_MODIFIER}"
                    )));
                }
                Ok(Term::Number(if negative { -value } else { value }))
            }
            _ => Err(invalid(format!("{term:?} is not a number or dice"))),
        };
    };
    let count = match count {
        Some(count) => number(term, count)?,
        None => 1,
    };
    let (Some(sides), mut modifiers) = digits(rest) else {
        return Err(invalid(format!("{term:?}: say how many sides, such as d6")));
    };
    let sides = number(term, sides)?;
    if count == 0 || !(2..=MAX_SIDES).contains(&sides) {
        return Err(invalid(format!(
            "{term:?}: roll at least one die of 2 to {MAX_SIDES} sides"
        )));
    }
    let mut dice = Dice {
        count,
        sides,
        negative,
        keep: None,
        explode: false,
        reroll: None,
    };
    let twice = || invalid(format!("{term:?}: each modifier at most once"));
    while !modifiers.is_empty() {
        if let Some(rest) = modifiers.strip_prefix('!') {
            if dice.explode {
                return Err(twice());
            }
            dice.explode = true;
            modifiers = rest;
        } else if let Some(rest) = modifiers.strip_prefix('r') {
            if dice.reroll.is_some() {
                return Err(twice());
            }
            let (once, rest) = match rest.strip_prefix('o') {
                Some(rest) => (true, rest),
                None => (false, rest),
            };
            let (compare, rest) = [
                ("<=", Compare::AtMost),
                (">=", Compare::AtLeast),
                ("<", Compare::Below),
                (">", Compare::Above),
                ("=", Compare::Equal),
            ]
            .into_iter()
            .find_map(|(sign, compare)| rest.strip_prefix(sign).map(|rest| (compare, rest)))
            .unwrap_or((Compare::Equal, rest));
            let (Some(value), rest) = digits(rest) else {
                return Err(invalid(format!(
                    "{term:?}: say which faces to reroll, such as r1 or r<3"
                )));
            };
            let reroll = Reroll {
                once,
                compare,
                value: number(term, value)?,
            };
            if (1..=sides).all(|face| reroll.matches(face)) {
                return Err(invalid(format!("{term:?} would reroll every face")));
            }
            dice.reroll = Some(reroll);
            modifiers = rest;
        } else {
            let (keep, rest): (fn(u32) -> Keep, &str) =
                if let Some(rest) = modifiers.strip_prefix("kh") {
                    (Keep::Highest, rest)
                } else if let Some(rest) = modifiers.strip_prefix("kl") {
                    (Keep::Lowest, rest)
                } else if let Some(rest) = modifiers.strip_prefix("dh") {
                    (Keep::DropHighest, rest)
                } else if let Some(rest) = modifiers.strip_prefix("dl") {
                    (Keep::DropLowest, rest)
                } else if let Some(rest) = modifiers.strip_prefix('k') {
                    (Keep::Highest, rest)
                } else {
                    return Err(invalid(format!(
                        "{term:?}: {modifiers:?} is not a dice modifier (kh, kl, dh, dl, !, r)"
                    )));
                };
            if dice.keep.is_some() {
                return Err(twice());
            }
            let (n, rest) = digits(rest);
            let n = match n {
                Some(n) => number(term, n)?,
                None => 1,
            };
            let keep = keep(n);
            match keep {
                Keep::Highest(n) | Keep::Lowest(n) if n == 0 || n > count => {
                    return Err(invalid(format!(
                        "{term:?}: keep from 1 to {count} of the dice"
                    )));
                }
                Keep::DropHighest(n) | Keep::DropLowest(n) if n == 0 || n >= count => {
                    return Err(invalid(format!(
                        "{term:?}: drop from 1 to {} of the dice",
                        count - 1
                    )));
                }
                _ => {}
            }
            dice.keep = Some(keep);
            modifiers = rest;
        }
    }
    Ok(Term::Dice(dice))
}

impl Reroll {
    fn matches(self, face: u32) -> bool {
        match self.compare {
            Compare::Equal => face == self.value,
            Compare::Below => face < self.value,
            Compare::AtMost => face <= self.value,
            Compare::Above => face > self.value,
            Compare::AtLeast => face >= self.value,
        }
    }
}

impl fmt::Display for Dice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}d{}", self.count, self.sides)?;
        if let Some(reroll) = self.reroll {
            let sign = match reroll.compare {
                Compare::Equal => "",
                Compare::Below => "<",
                Compare::AtMost => "<=",
                Compare::Above => ">",
                Compare::AtLeast => ">=",
            };
            let once = if reroll.once { "o" } else { "" };
            write!(f, "r{once}{sign}{}", reroll.value)?;
        }
        if self.explode {
            f.write_str("!")?;
        }
        match self.keep {
            None => Ok(()),
            Some(Keep::Highest(n)) => write!(f, "kh{n}"),
            Some(Keep::Lowest(n)) => write!(f, "kl{n}"),
            Some(Keep::DropHighest(n)) => write!(f, "dh{n}"),
            Some(Keep::DropLowest(n)) => write!(f, "dl{n}"),
        }
    }
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, term) in self.terms.iter().enumerate() {
            let (negative, body) = match term {
                Term::Dice(dice) => (dice.negative, dice.to_string()),
                Term::Number(value) => (*value < 0, value.unsigned_abs().to_string()),
            };
            match (i, negative) {
                (0, false) => {}
                (0, true) => f.write_str("-")?,
                (_, false) => f.write_str(" + ")?,
                (_, true) => f.write_str(" - ")?,
            }
            f.write_str(&body)?;
        }
        if let Some(label) = &self.label {
            write!(f, " {label}")?;
        }
        Ok(())
    }
}

impl fmt::Display for DiceExpression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, part) in self.parts.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{part}")?;
        }
        Ok(())
    }
}

impl Dice {
    /// Throws the group onto `thrown`; returns its sum (before its sign).
    fn throw(&self, thrown: &mut Vec<Die>, face: &mut impl FnMut(u32) -> u32) -> i64 {
        let sides = self.sides;
        let mut throw = |thrown: &mut Vec<Die>| -> Option<usize> {
            (thrown.len() < MAX_THROWS).then(|| {
                thrown.push(Die {
                    sides,
                    face: face(sides).clamp(1, sides),
                    dropped: false,
                });
                thrown.len() - 1
            })
        };
        // The dice of this group that count, by index into `thrown`.
        let mut counted = Vec::new();
        for _ in 0..self.count {
            let Some(mut at) = throw(thrown) else { break };
            if let Some(reroll) = self.reroll {
                while reroll.matches(thrown[at].face) {
                    let Some(again) = throw(thrown) else { break };
                    thrown[at].dropped = true;
                    at = again;
                    if reroll.once {
                        break;
                    }
                }
            }
            counted.push(at);
            if self.explode {
                let mut last = at;
                while thrown[last].face == sides {
                    let Some(again) = throw(thrown) else { break };
                    counted.push(again);
                    last = again;
                }
            }
        }
        if let Some(keep) = self.keep {
            // Lowest first; ties keep throw order, so a replay drops the
            // same die.
            let mut order = counted.clone();
            order.sort_by_key(|&at| thrown[at].face);
            let n = counted.len();
            let dropped: &[usize] = match keep {
                Keep::Highest(k) => &order[..n.saturating_sub(k as usize)],
                Keep::Lowest(k) => &order[(k as usize).min(n)..],
                Keep::DropHighest(k) => &order[n.saturating_sub(k as usize)..],
                Keep::DropLowest(k) => &order[..(k as usize).min(n)],
            };
            for &at in dropped {
                thrown[at].dropped = true;
            }
        }
        counted
            .iter()
            .filter(|&&at| !thrown[at].dropped)
            .map(|&at| i64::from(thrown[at].face))
            .sum()
    }
}

impl DiceExpression {
    /// Rolls it: `face(sides)` throws one die and must return 1..=sides
    /// (the server passes a random source; tests a fixed one).
    pub fn roll(&self, mut face: impl FnMut(u32) -> u32) -> Roll {
        let mut dice = Vec::new();
        let mut totals = Vec::with_capacity(self.parts.len());
        for part in &self.parts {
            let mut total = 0i64;
            for term in &part.terms {
                match term {
                    Term::Dice(group) => {
                        let sum = group.throw(&mut dice, &mut face);
                        total += if group.negative { -sum } else { sum };
                    }
                    Term::Number(value) => total += value,
                }
            }
            totals.push(total);
        }
        let total = totals.first().copied().unwrap_or_default();
        if totals.len() == 1 {
            totals.clear();
        }
        Roll {
            expression: self.to_string(),
            dice,
            total,
            totals,
        }
    }

    /// Whether `roll` is a roll of this expression: the same dice, faces on
    /// them, and the right totals.
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

    /// How the log shows a roll of it: `2d6 + 3: 4, 2 → 9`; a dropped die
    /// is marked, and each part of several is shown with its own total
    /// (`1d20 + 5 to hit: 12 → 17; 2d6 + 3 slashing: 4, 2 → 9`).
    fn describe(&self, roll: &Roll) -> String {
        let mut dice = roll.dice.iter();
        let totals = if roll.totals.is_empty() {
            vec![roll.total]
        } else {
            roll.totals.clone()
        };
        let mut lines = Vec::new();
        for (part, total) in self.parts.iter().zip(totals) {
            // How many dice a part threw depends on its faces (rerolls,
            // explosions): replaying the part on the recorded faces takes
            // exactly its own.
            let mut taken = Vec::new();
            let single = DiceExpression {
                parts: vec![part.clone()],
            };
            single.roll(|_| {
                let die = dice.next();
                if let Some(die) = die {
                    taken.push(*die);
                }
                die.map_or(0, |d| d.face)
            });
            let faces: Vec<String> = taken
                .iter()
                .map(|d| {
                    if d.dropped {
                        format!("{} dropped", d.face)
                    } else {
                        d.face.to_string()
                    }
                })
                .collect();
            lines.push(format!("{part}: {} → {total}", faces.join(", ")));
        }
        lines.join("; ")
    }
}

impl Roll {
    /// How the log shows it: `2d6 + 3: 4, 2 → 9`.
    pub fn describe(&self) -> String {
        match self.expression.parse::<DiceExpression>() {
            Ok(expression) => expression.describe(self),
            Err(_) => {
                let faces: Vec<String> = self.dice.iter().map(|d| d.face.to_string()).collect();
                format!("{}: {} → {}", self.expression, faces.join(", "), self.total)
            }
        }
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
            ("4d6kh3", "4d6kh3"),
            ("4d6k3", "4d6kh3"),
            ("2d20KL", "2d20kl1"),
            ("4d6dl1", "4d6dl1"),
            ("adv+5", "2d20kh1 + 5"),
            ("dis - 1", "2d20kl1 - 1"),
            ("1d6!", "1d6!"),
            ("1d6r1", "1d6r1"),
            ("2d6ro<3", "2d6ro<3"),
            ("1d10r<=2!", "1d10r<=2!"),
            ("1d8 + 2 Radiant", "1d8 + 2 Radiant"),
            (
                "1d20+5 to hit,2d6+3 slashing",
                "1d20 + 5 to hit, 2d6 + 3 slashing",
            ),
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
            "4d6kh5",
            "4d6kh0",
            "4d6dl4",
            "4d6kh3kl1",
            "1d6!!",
            "1d6r",
            "1d6r<7",
            "1d6r>=1",
            "1d6rr1",
            "2d6q",
            "1d20,",
            "to hit",
        ] {
            assert!(
                matches!(parse(text), Err(Error::InvalidAction(_))),
                "{text:?} must be refused"
            );
        }
        let many = vec!["1d4"; MAX_TERMS + 1].join("+");
        assert!(parse(&many).is_err());
        let parts = ["1d4"; MAX_PARTS + 1].join(",");
        assert!(parse(&parts).is_err());
        let label = format!("1d4 {}", "x".repeat(MAX_LABEL_CHARS + 1));
        assert!(parse(&label).is_err());
        let across_parts = ["60d6"; 2].join(",");
        assert!(parse(&across_parts).is_err(), "the dice limit spans parts");
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
                Die {
                    sides: 6,
                    face: 6,
                    dropped: false
                },
                Die {
                    sides: 6,
                    face: 5,
                    dropped: false
                },
                Die {
                    sides: 4,
                    face: 3,
                    dropped: false
                }
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
        extra_die.dice.push(Die {
            sides: 6,
            face: 1,
            dropped: false,
        });
        let other = parse("1d12+3").unwrap().roll(|_| 8);
        for bad in [wrong_total, impossible_face, missing_die, extra_die, other] {
            assert!(expression.check(&bad).is_err(), "{bad:?}");
        }
    }

    /// Rolls `text` with these faces, in order.
    fn roll_with(text: &str, faces: &[u32]) -> Roll {
        let mut faces = faces.iter().copied();
        parse(text).unwrap().roll(|_| faces.next().unwrap_or(1))
    }

    fn dropped(roll: &Roll) -> Vec<bool> {
        roll.dice.iter().map(|d| d.dropped).collect()
    }

    #[test]
    fn keep_and_drop_count_only_the_dice_they_keep() {
        let roll = roll_with("4d6kh3", &[6, 1, 5, 3]);
        assert_eq!(roll.total, 14);
        assert_eq!(dropped(&roll), [false, true, false, false]);
        assert_eq!(roll.describe(), "4d6kh3: 6, 1 dropped, 5, 3 → 14");
        assert_eq!(roll_with("4d6dl1", &[6, 1, 5, 3]).total, 14);
        assert_eq!(roll_with("4d6dh1", &[6, 1, 5, 3]).total, 9);
        assert_eq!(roll_with("4d6kl2", &[6, 1, 5, 3]).total, 4);

        let advantage = roll_with("adv + 5", &[4, 17]);
        assert_eq!(advantage.total, 22);
        let disadvantage = roll_with("dis + 5", &[4, 17]);
        assert_eq!(disadvantage.total, 9);
        assert_eq!(dropped(&disadvantage), [false, true]);
        // A tie drops the first of the equal dice, the same way every time.
        assert_eq!(dropped(&roll_with("2d20kh1", &[7, 7])), [true, false]);
        // A negative group takes away only what it keeps.
        assert_eq!(roll_with("10 - 2d6kh1", &[2, 5]).total, 5);
    }

    #[test]
    fn exploding_dice_add_a_throw_for_each_highest_face() {
        let roll = roll_with("1d6! + 1", &[6, 6, 2]);
        assert_eq!(roll.total, 15);
        assert_eq!(roll.dice.len(), 3);
        assert_eq!(roll.describe(), "1d6! + 1: 6, 6, 2 → 15");
        // Explosions then keep: the kept die may be an exploded one.
        let kept = roll_with("2d6!kh1", &[6, 3, 2]);
        assert_eq!(kept.total, 6);
        assert_eq!(dropped(&kept), [false, true, true]);
        // Every throw a six: the roll stops at the limit rather than never.
        let endless = parse("1d6!").unwrap().roll(|_| 6);
        assert_eq!(endless.dice.len(), MAX_THROWS);
    }

    #[test]
    fn rerolls_replace_the_faces_they_name() {
        let roll = roll_with("1d6r1", &[1, 1, 4]);
        assert_eq!(roll.total, 4);
        assert_eq!(dropped(&roll), [true, true, false]);
        assert_eq!(roll.describe(), "1d6r1: 1 dropped, 1 dropped, 4 → 4");
        // Once: the second throw stands, whatever it shows.
        let once = roll_with("1d6ro<3", &[1, 2]);
        assert_eq!(once.total, 2);
        assert_eq!(dropped(&once), [true, false]);
        assert_eq!(roll_with("2d6r>=5", &[5, 6, 2, 3]).total, 5);
        let endless = parse("1d6r1").unwrap().roll(|_| 1);
        assert_eq!(endless.dice.len(), MAX_THROWS);
    }

    #[test]
    fn each_part_has_its_label_and_its_total() {
        let roll = roll_with("1d20+5 to hit, 2d6+3 slashing", &[12, 4, 2]);
        assert_eq!(roll.total, 17);
        assert_eq!(roll.totals, [17, 9]);
        assert_eq!(
            roll.describe(),
            "1d20 + 5 to hit: 12 → 17; 2d6 + 3 slashing: 4, 2 → 9"
        );
        let one = roll_with("1d20 + 2 perception", &[10]);
        assert!(one.totals.is_empty(), "one part keeps the old shape");
        assert_eq!(one.describe(), "1d20 + 2 perception: 10 → 12");
    }

    #[test]
    fn a_roll_stored_before_modifiers_existed_still_reads_and_checks() {
        let stored = r#"{"expression":"2d6 + 3","dice":[{"sides":6,"face":4},{"sides":6,"face":2}],"total":9}"#;
        let roll: Roll = serde_json::from_str(stored).unwrap();
        assert!(parse("2d6+3").unwrap().check(&roll).is_ok());
        assert_eq!(serde_json::to_string(&roll).unwrap(), stored);
    }

    #[test]
    fn check_refuses_a_roll_whose_drops_or_throws_were_changed() {
        let expression = parse("4d6kh3, 1d6!, 1d6r1").unwrap();
        let roll = expression.roll({
            let mut faces = [6, 1, 5, 3, 6, 2, 1, 4].into_iter();
            move |_| faces.next().unwrap_or(1)
        });
        assert!(expression.check(&roll).is_ok());
        let mut kept_the_low_die = roll.clone();
        kept_the_low_die.dice[1].dropped = false;
        let mut no_explosion = roll.clone();
        no_explosion.dice.remove(5);
        let mut reroll_counted = roll.clone();
        reroll_counted.dice[6].dropped = false;
        let mut other_total = roll.clone();
        other_total.totals[1] += 1;
        for bad in [kept_the_low_die, no_explosion, reroll_counted, other_total] {
            assert!(expression.check(&bad).is_err(), "{bad:?}");
        }
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::*;

        fn expression() -> impl Strategy<Value = (String, i64)> {
            let group = (
                1u32..6,
                prop::sample::select(vec![4u32, 6, 8, 10, 12, 20]),
                prop::sample::select(vec!["", "kh1", "kl1", "dl1", "!", "r1", "ro<2", "!kh1"]),
            )
                .prop_map(|(n, sides, modifier)| {
                    let n = if modifier.contains('k') || modifier.contains('d') {
                        n.max(2)
                    } else {
                        n
                    };
                    format!("{n}d{sides}{modifier}")
                });
            // The text, and what its numbers add up to.
            prop::collection::vec((group, -5i64..6), 1..4).prop_map(|terms| {
                let added = terms.iter().map(|(_, add)| add).sum();
                let text = terms
                    .into_iter()
                    .map(|(dice, add)| format!("{dice}{add:+}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                (text, added)
            })
        }

        proptest! {
            /// Every roll checks against its expression, reads back from its
            /// canonical text, and counts exactly its dice that are not
            /// dropped.
            #[test]
            fn rolls_check_and_count_their_kept_dice(
                (text, added) in expression(),
                faces in prop::collection::vec(1u32..=20, 1..64),
            ) {
                let parsed: DiceExpression = text.parse().unwrap();
                let again: DiceExpression = parsed.to_string().parse().unwrap();
                prop_assert_eq!(&again, &parsed);
                let mut cycle = faces.iter().copied().cycle();
                let roll = parsed.roll(|sides| (cycle.next().unwrap_or(1) - 1) % sides + 1);
                prop_assert!(parsed.check(&roll).is_ok());
                let kept: i64 = roll.dice.iter().filter(|d| !d.dropped).map(|d| i64::from(d.face)).sum();
                let totals = if roll.totals.is_empty() { vec![roll.total] } else { roll.totals.clone() };
                prop_assert_eq!(totals.iter().sum::<i64>(), kept + added);
                let mut tampered = roll.clone();
                tampered.total += 1;
                prop_assert!(parsed.check(&tampered).is_err());
            }
        }
    }
}
