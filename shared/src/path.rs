//! Paths into the state: `tokens/<id>/position/x`.
//!
//! A path is a list of segments. Two paths conflict only when one is a
//! segment-wise prefix of the other: `tokens/a` and `tokens/ab` do not
//! (the original design compared strings and said they did).
//!
//! Only the wire sees a path as text. Code that asks what a path names
//! calls [`Path::target`] once and matches on the typed [`Entity`]; code
//! that builds one starts from an [`Entity`] ([`Entity::path`],
//! [`Entity::at`]). A new kind of entity is one arm of [`Entity`], and
//! the compiler then lists every place that must learn about it.

use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{
    Error, Result,
    id::{ActorId, DrawingId, EffectId, EncounterId, EntityKind, ItemId, TokenId, WallId},
};

/// One entity of the live state, by its typed id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Entity {
    /// `actors/<id>`.
    Actor(ActorId),
    /// `items/<id>`.
    Item(ItemId),
    /// `encounters/<id>`.
    Encounter(EncounterId),
    /// `tokens/<id>`.
    Token(TokenId),
    /// `effects/<id>`.
    Effect(EffectId),
    /// `drawings/<id>`.
    Drawing(DrawingId),
    /// `walls/<id>`.
    Wall(WallId),
}

impl Entity {
    /// Its kind.
    pub fn kind(self) -> EntityKind {
        match self {
            Entity::Actor(_) => EntityKind::Actor,
            Entity::Item(_) => EntityKind::Item,
            Entity::Encounter(_) => EntityKind::Encounter,
            Entity::Token(_) => EntityKind::Token,
            Entity::Effect(_) => EntityKind::Effect,
            Entity::Drawing(_) => EntityKind::Drawing,
            Entity::Wall(_) => EntityKind::Wall,
        }
    }

    /// The path of the whole entity: `tokens/<id>`.
    pub fn path(self) -> Path {
        self.at(&[])
    }

    /// The path of one of its fields: `at(&["position", "x"])` is
    /// `tokens/<id>/position/x`. Field names are the code's own constants,
    /// never input.
    pub fn at(self, field: &[&str]) -> Path {
        let id = match self {
            Entity::Actor(id) => id.0,
            Entity::Item(id) => id.0,
            Entity::Encounter(id) => id.0,
            Entity::Token(id) => id.0,
            Entity::Effect(id) => id.0,
            Entity::Drawing(id) => id.0,
            Entity::Wall(id) => id.0,
        };
        Path::from_segments(
            [self.kind().collection().to_owned(), id.to_string()]
                .into_iter()
                .chain(field.iter().map(|segment| (*segment).to_owned())),
        )
    }
}

/// What a path names: an entity, and the field below it (no segments for
/// the whole entity).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target<'p> {
    /// The entity.
    pub entity: Entity,
    /// The field's segments, after `<collection>/<id>`.
    pub field: &'p [String],
}

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

    /// What the path names, parsed once: a path that starts with anything
    /// but `<collection>/<uuid>` is refused with [`Error::BadPath`].
    pub fn target(&self) -> Result<Target<'_>> {
        let bad = |reason: &str| Error::BadPath {
            path: self.to_string(),
            reason: reason.to_owned(),
        };
        let [collection, id, field @ ..] = self.segments() else {
            return Err(bad("a path starts with <collection>/<id>"));
        };
        let kind = EntityKind::ALL
            .into_iter()
            .find(|kind| kind.collection() == collection)
            .ok_or_else(|| bad("unknown collection"))?;
        let id = uuid::Uuid::parse_str(id).map_err(|_| bad("the id is not a UUID"))?;
        let entity = match kind {
            EntityKind::Actor => Entity::Actor(id.into()),
            EntityKind::Item => Entity::Item(id.into()),
            EntityKind::Encounter => Entity::Encounter(id.into()),
            EntityKind::Token => Entity::Token(id.into()),
            EntityKind::Effect => Entity::Effect(id.into()),
            EntityKind::Drawing => Entity::Drawing(id.into()),
            EntityKind::Wall => Entity::Wall(id.into()),
        };
        Ok(Target { entity, field })
    }

    /// The entity the path names, if it names one.
    pub fn entity(&self) -> Option<Entity> {
        self.target().ok().map(|target| target.entity)
    }

    /// The path one segment up (itself for a single segment).
    pub fn parent(&self) -> Path {
        let segments = self.segments();
        Self(segments[..segments.len().saturating_sub(1).max(1)].into())
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
    fn a_path_is_parsed_once_into_a_typed_target() {
        let id = TokenId(uuid::Uuid::from_u128(7));
        let path = Entity::Token(id).at(&["position", "x"]);
        assert_eq!(path, p(&format!("tokens/{id}/position/x")));
        let target = path.target().unwrap();
        assert_eq!(target.entity, Entity::Token(id));
        assert_eq!(target.field, ["position", "x"]);
        assert_eq!(Entity::Token(id).path().target().unwrap().field.len(), 0);
        for kind in EntityKind::ALL {
            let text = format!("{}/{}", kind.collection(), uuid::Uuid::from_u128(1));
            assert_eq!(p(&text).entity().map(Entity::kind), Some(kind), "{text}");
        }
    }

    #[test]
    fn a_path_that_names_no_entity_is_refused() {
        for (bad, reason) in [
            ("tokens", "a path starts with <collection>/<id>"),
            (
                "lights/67e55044-10b1-426f-9247-bb680e5fe0c8",
                "unknown collection",
            ),
            ("tokens/not-a-uuid/name", "the id is not a UUID"),
        ] {
            match p(bad).target() {
                Err(Error::BadPath { reason: got, .. }) => assert_eq!(got, reason, "{bad}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_parent_is_one_segment_up() {
        assert_eq!(
            p("tokens/a/conditions/prone").parent(),
            p("tokens/a/conditions")
        );
        assert_eq!(p("tokens").parent(), p("tokens"));
    }

    #[test]
    fn child_appends_a_segment() {
        assert_eq!(p("tokens/a").child("position"), p("tokens/a/position"));
    }
}
