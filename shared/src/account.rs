//! Accounts: what a user types to sign up or log in, validated once.

use serde::{Deserialize, Serialize};

use crate::{Error, Result, id::UserId};

/// A signed-in user, as the browser sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Their id.
    pub id: UserId,
    /// What they log in with.
    pub login: String,
    /// What others see.
    pub display_name: String,
}

/// A login name: 3 to 40 letters, digits, `.`, `-` or `_`. Compared without
/// regard to case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginName(String);

impl LoginName {
    /// Trims and checks.
    pub fn parse(raw: &str) -> Result<Self> {
        let login = raw.trim();
        let len = login.chars().count();
        if !(3..=40).contains(&len) {
            return Err(Error::InvalidLogin(
                "a login name has 3 to 40 characters".into(),
            ));
        }
        if !login
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        {
            return Err(Error::InvalidLogin(
                "a login name uses only letters, digits, '.', '-' and '_'".into(),
            ));
        }
        Ok(Self(login.to_owned()))
    }

    /// The name as typed (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A display name: 1 to 80 characters once trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// Trims and checks.
    pub fn parse(raw: &str) -> Result<Self> {
        let name = raw.trim();
        if name.is_empty() || name.chars().count() > 80 {
            return Err(Error::InvalidLogin(
                "a display name has 1 to 80 characters".into(),
            ));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: 8 to 128 characters. Never serialized, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// The fewest characters accepted.
    pub const MIN_CHARS: usize = 8;
    /// The most characters accepted (hashing cost is bounded).
    pub const MAX_CHARS: usize = 128;

    /// Checks the length; the password is not trimmed.
    pub fn parse(raw: &str) -> Result<Self> {
        let len = raw.chars().count();
        if len < Self::MIN_CHARS {
            return Err(Error::WeakPassword {
                min: Self::MIN_CHARS,
            });
        }
        if len > Self::MAX_CHARS {
            return Err(Error::InvalidLogin(format!(
                "a password has at most {} characters",
                Self::MAX_CHARS
            )));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The secret, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

/// Where to go after logging in or signing up: `next` when it is a path
/// of this site (an invitation link the visitor opened first), otherwise
/// the campaign list. Anything that could leave the site (`//host`,
/// `/\\host`, a scheme) or carry a header is refused.
pub fn after_login(next: &str) -> &str {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.len() <= 200
        && next
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-_.~?=&%".contains(c));
    if local { next } else { "/" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_login_goes_only_to_paths_of_this_site() {
        assert_eq!(after_login("/join/AbC-12_x"), "/join/AbC-12_x");
        assert_eq!(after_login(""), "/");
        for away in [
            "//evil.example/x",
            "/\\evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            "/join/x\r\nSet-Cookie: a=b",
            "/ok space",
        ] {
            assert_eq!(after_login(away), "/", "{away:?}");
        }
        assert_eq!(after_login(&format!("/{}", "a".repeat(250))), "/");
    }

    #[test]
    fn login_names() {
        assert_eq!(LoginName::parse("  gm.anna ").unwrap().as_str(), "gm.anna");
        for bad in ["ab", "", "has space", "ünï", &"x".repeat(41)] {
            assert!(
                matches!(LoginName::parse(bad), Err(Error::InvalidLogin(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn passwords_have_a_length_and_stay_secret() {
        assert_eq!(
            Password::parse("short"),
            Err(Error::WeakPassword { min: 8 })
        );
        assert!(Password::parse(&"p".repeat(129)).is_err());
        let password = Password::parse(" eight ch ").unwrap();
        assert_eq!(password.expose(), " eight ch ");
        assert_eq!(format!("{password:?}"), "Password(..)");
    }

    #[test]
    fn display_names() {
        assert_eq!(DisplayName::parse(" Anna ").unwrap().as_str(), "Anna");
        assert!(DisplayName::parse("  ").is_err());
    }
}
