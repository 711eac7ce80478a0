//! Paths into the state: `tokens/<id>/position/x`.
//!
//! A path is a list of segments. Two paths conflict only when one is a
//! segment-wise prefix of the other: `tokens/a` and `tokens/ab` do not
//! (the original design compared strings and said they did).

use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Error, Result};

/// A location in the state, as segments. Cloning is cheap (shared), which
/// matters because every undo step carries its path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Path(Arc<[String]>);

impl Path {
    /// The most segments a path may have; the deepest real path has five.
    pub const MAX_SEGMENTS: usize = 8;

    /// Parses `a/b/c`. Empty segments are refused.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |reason: &str| Error::BadPath {
            path: text.to_owned(),
            reason: reason.to_owned(),
        };
        if text.is_empty() {
            return Err(bad("a path needs at least one segment"));
        }
        let segments: Vec<String> = text.split('/').map(str::to_owned).collect();
        if segments.iter().any(String::is_empty) {
            return Err(bad("empty segment"));
        }
        if segments.len() > Self::MAX_SEGMENTS {
            return Err(bad("too many segments"));
        }
        Ok(Self(segments.into()))
    }

    /// A path from segments the caller knows are valid (not empty, no `/`).
    pub fn from_segments<I, S>(segments: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self(
            segments
                .into_iter()
                .map(Into::into)
                .collect::<Vec<String>>()
                .into(),
        )
    }

    /// This path with one more segment.
    pub fn child(&self, segment: impl Into<String>) -> Self {
        let mut segments = self.0.to_vec();
        segments.push(segment.into());
        Self(segments.into())
    }

    /// The segments.
    pub fn segments(&self) -> &[String] {
        &self.0
    }

    /// True when `self` is `other` or one of its ancestors.
    pub fn is_prefix_of(&self, other: &Path) -> bool {
        other.0.len() >= self.0.len() && self.0.iter().zip(other.0.iter()).all(|(a, b)| a == b)
    }

    /// True when one path is a segment-wise prefix of the other: a write
    /// to one can change what the other reads.
    pub fn conflicts_with(&self, other: &Path) -> bool {
        self.is_prefix_of(other) || other.is_prefix_of(self)
    }
}

impl std::fmt::Display for Path {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join("/"))
    }
}

impl std::str::FromStr for Path {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl Serialize for Path {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Path {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Path::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Path {
        Path::parse(text).unwrap()
    }

    #[test]
    fn paths_conflict_by_segment_not_by_string_prefix() {
        assert!(!p("tokens/a").conflicts_with(&p("tokens/ab")));
        assert!(!p("tokens/ab").conflicts_with(&p("tokens/a")));
        assert!(p("tokens/a").conflicts_with(&p("tokens/a/position")));
        assert!(p("tokens/a/position").conflicts_with(&p("tokens/a")));
        assert!(p("tokens/a").conflicts_with(&p("tokens/a")));
        assert!(!p("tokens/a/position").conflicts_with(&p("tokens/a/rotation")));
    }

    #[test]
    fn malformed_paths_are_refused() {
        for bad in ["", "/", "a//b", "a/", "/a", "1/2/3/4/5/6/7/8/9"] {
            assert!(
                matches!(Path::parse(bad), Err(Error::BadPath { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn paths_serialize_as_text() {
        let path = p("actors/x/hp/current");
        let json = serde_json::to_string(&path).unwrap();
        assert_eq!(json, "\"actors/x/hp/current\"");
        assert_eq!(serde_json::from_str::<Path>(&json).unwrap(), path);
        assert!(serde_json::from_str::<Path>("\"a//b\"").is_err());
    }

    #[test]
    fn child_appends_a_segment() {
        assert_eq!(p("tokens/a").child("position"), p("tokens/a/position"));
    }
}
