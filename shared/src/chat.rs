//! What a line typed into the table's chat asks for: something said to
//! the table, a whisper, or dice (open, for the GM, or blind).
//!
//! - `/r 1d20+5`, `/roll …`: dice for the whole table;
//! - `/gmr …`, `/gmroll …`: dice the roller and the GM see;
//! - `/br …`, `/blindroll …`: dice only the GM sees;
//! - `/w Name text`, `/whisper …`: to one or more members (`/w Aria, Bo
//!   text`), or to the GM (`/w gm text`);
//! - anything else is said to the table.

use crate::{action::Secrecy, id::UserId};

/// What a chat line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Said {
    /// Words, to the table (`to: None`) or whispered.
    Chat {
        /// The words.
        text: String,
        /// A whisper's readers besides the sender and the GM.
        to: Option<Vec<UserId>>,
    },
    /// Dice, rolled by the server.
    Roll {
        /// The expression ([`crate::dice`]).
        dice: String,
        /// Who sees the result.
        secrecy: Secrecy,
    },
}

/// Reads a chat line; `members` are the campaign's members by display
/// name. The error says what to write instead.
pub fn read_line(line: &str, members: &[(UserId, String)]) -> Result<Said, String> {
    let line = line.trim();
    let Some(command) = line.strip_prefix('/') else {
        return Ok(Said::Chat {
            text: line.to_owned(),
            to: None,
        });
    };
    let (name, rest) = command
        .split_once(char::is_whitespace)
        .map_or((command, ""), |(name, rest)| (name, rest.trim()));
    let roll = |secrecy| {
        if rest.is_empty() {
            Err(format!("say which dice: /{name} 1d20+5"))
        } else {
            Ok(Said::Roll {
                dice: rest.to_owned(),
                secrecy,
            })
        }
    };
    match name.to_ascii_lowercase().as_str() {
        "r" | "roll" => roll(Secrecy::Open),
        "gmr" | "gmroll" => roll(Secrecy::Gm),
        "br" | "blindroll" => roll(Secrecy::Blind),
        "w" | "whisper" => whisper(rest, members),
        _ => Err(format!(
            "/{name} is not a command: /r rolls, /gmr rolls for you and the GM, \
             /br rolls for the GM alone, /w Name whispers"
        )),
    }
}

/// `Name[, Name…] text`: the readers, then the words.
fn whisper(rest: &str, members: &[(UserId, String)]) -> Result<Said, String> {
    let mut to = Vec::new();
    let mut rest = rest;
    loop {
        // The longest name that starts the text and ends at a word's end,
        // so that "Bo" does not take "Bob".
        let starts = |name: &str| {
            !name.is_empty()
                && rest
                    .get(..name.len())
                    .is_some_and(|head| head.to_lowercase() == name.to_lowercase())
                && rest[name.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| c.is_whitespace() || c == ',')
        };
        let found = members
            .iter()
            .filter(|(_, name)| starts(name))
            .max_by_key(|(_, name)| name.len());
        let taken = match found {
            Some((user, name)) => {
                to.push(*user);
                name.len()
            }
            None if starts("gm") => 2,
            None => {
                let word = rest.split([' ', ',']).next().unwrap_or_default();
                return Err(if word.is_empty() {
                    "say to whom: /w Name text, or /w gm text".to_owned()
                } else {
                    format!("nobody at this table is called {word:?}")
                });
            }
        };
        rest = rest[taken..].trim_start();
        match rest.strip_prefix(',') {
            Some(more) => rest = more.trim_start(),
            None => break,
        }
    }
    if rest.is_empty() {
        return Err("say something to whisper".to_owned());
    }
    to.sort_unstable();
    to.dedup();
    Ok(Said::Chat {
        text: rest.to_owned(),
        to: Some(to),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members() -> Vec<(UserId, String)> {
        [(1, "Aria"), (2, "Bo"), (3, "Bob Stone"), (4, "Ünal")]
            .into_iter()
            .map(|(n, name)| (UserId(uuid::Uuid::from_u128(n)), name.to_owned()))
            .collect()
    }

    fn user(n: u128) -> UserId {
        UserId(uuid::Uuid::from_u128(n))
    }

    fn read(line: &str) -> Result<Said, String> {
        read_line(line, &members())
    }

    #[test]
    fn plain_words_go_to_the_table() {
        assert_eq!(
            read("  Hello there "),
            Ok(Said::Chat {
                text: "Hello there".into(),
                to: None
            })
        );
    }

    #[test]
    fn the_three_rolls_say_who_sees_the_result() {
        for (line, secrecy) in [
            ("/r 1d20+5", Secrecy::Open),
            ("/roll 1d20+5", Secrecy::Open),
            ("/gmr 1d20+5", Secrecy::Gm),
            ("/GMROLL 1d20+5", Secrecy::Gm),
            ("/br 1d20+5", Secrecy::Blind),
            ("/blindroll 1d20+5", Secrecy::Blind),
        ] {
            assert_eq!(
                read(line),
                Ok(Said::Roll {
                    dice: "1d20+5".into(),
                    secrecy
                }),
                "{line}"
            );
        }
        assert!(read("/r").is_err());
        assert!(read("/dance now").unwrap_err().contains("not a command"));
    }

    #[test]
    fn a_whisper_names_its_readers_by_their_longest_name() {
        assert_eq!(
            read("/w bob stone meet me by the well"),
            Ok(Said::Chat {
                text: "meet me by the well".into(),
                to: Some(vec![user(3)])
            })
        );
        assert_eq!(
            read("/w Bo, ünal, Aria run"),
            Ok(Said::Chat {
                text: "run".into(),
                to: Some(vec![user(1), user(2), user(4)])
            })
        );
        assert_eq!(
            read("/whisper GM I pocket the ring"),
            Ok(Said::Chat {
                text: "I pocket the ring".into(),
                to: Some(vec![])
            })
        );
        assert!(read("/w Bobby hi").unwrap_err().contains("Bobby"));
        assert!(read("/w Aria").is_err(), "nothing to say");
        assert!(read("/w").is_err());
    }
}
