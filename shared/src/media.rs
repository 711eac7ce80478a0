//! Media files: maps, token art, handouts. What an upload is, and the rules
//! for what may be uploaded; storing the bytes is the server's business.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    Error, Result,
    id::{CampaignId, MediaId},
};

/// What a file is for in the campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    /// A battle map.
    Map,
    /// Token art.
    Token,
    /// Something the GM hands to players.
    Handout,
    /// A portrait.
    Avatar,
    /// Ambience, music or a scene background.
    Background,
    /// Anything else.
    Other,
}

impl MediaKind {
    /// Every kind, in the order a picker shows them.
    pub const ALL: [MediaKind; 6] = [
        MediaKind::Map,
        MediaKind::Token,
        MediaKind::Handout,
        MediaKind::Avatar,
        MediaKind::Background,
        MediaKind::Other,
    ];

    /// The stored name (`media_files.media_type`).
    pub fn slug(self) -> &'static str {
        match self {
            MediaKind::Map => "map",
            MediaKind::Token => "token",
            MediaKind::Handout => "handout",
            MediaKind::Avatar => "avatar",
            MediaKind::Background => "background",
            MediaKind::Other => "other",
        }
    }
}

impl std::str::FromStr for MediaKind {
    type Err = Error;
    fn from_str(raw: &str) -> Result<Self> {
        MediaKind::ALL
            .into_iter()
            .find(|kind| kind.slug() == raw)
            .ok_or_else(|| Error::UnsupportedMedia(format!("unknown media kind {raw:?}")))
    }
}

/// The content types the tabletop stores, as sniffed from the bytes.
///
/// Images, sound and PDF handouts. Anything a browser could run (HTML, SVG
/// with scripts, executables) is refused: uploaded files are served from
/// the site's own origin.
pub const ACCEPTED_TYPES: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/avif",
    "audio/mpeg",
    "audio/ogg",
    "audio/x-wav",
    "audio/x-flac",
    "video/webm",
    "video/mp4",
    "application/pdf",
];

/// Refuses a sniffed content type the tabletop does not store.
pub fn check_type(sniffed: Option<&str>) -> Result<&'static str> {
    let Some(sniffed) = sniffed else {
        return Err(Error::UnsupportedMedia(
            "the file's content is not a recognised image, sound, video or PDF".into(),
        ));
    };
    ACCEPTED_TYPES
        .iter()
        .copied()
        .find(|accepted| *accepted == sniffed)
        .ok_or_else(|| {
            Error::UnsupportedMedia(format!(
                "files of type {sniffed} are not accepted; upload an image, sound, video or PDF"
            ))
        })
}

/// The name a user gave a file, for display only: never used as a path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DisplayFileName(String);

impl DisplayFileName {
    /// The longest name kept, in characters.
    pub const MAX_CHARS: usize = 200;

    /// Keeps the last path component (browsers and tools send full paths
    /// sometimes), without control characters, cut to [`Self::MAX_CHARS`].
    /// A name with nothing left becomes `upload`.
    pub fn sanitize(raw: &str) -> Self {
        let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
        let cleaned: String = last
            .chars()
            .filter(|c| !c.is_control())
            .take(Self::MAX_CHARS)
            .collect();
        let trimmed = cleaned.trim();
        if trimmed.is_empty() || trimmed == "." || trimmed == ".." {
            Self("upload".into())
        } else {
            Self(trimmed.to_owned())
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A media file as members of its campaign see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaFile {
    /// Its id.
    pub id: MediaId,
    /// Its campaign.
    pub campaign: CampaignId,
    /// The uploader's name for it.
    pub name: DisplayFileName,
    /// What it is for.
    pub kind: MediaKind,
    /// The content type sniffed from its bytes.
    pub mime_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// SHA-256 of its bytes, lowercase hex.
    pub checksum: String,
    /// Whether the campaign's players and observers may see it. Files are
    /// the GM's alone until shown; the map of an encounter being played is
    /// readable by every member while its session runs, whatever this says.
    pub shown: bool,
    /// How many members it was handed to at the table (each may read it
    /// until it is hidden): told to the GM and assistant GMs, 0 for
    /// anyone else, who is not told whom else the GM showed what.
    #[serde(default)]
    pub handed_to: u32,
    /// When it was uploaded.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A file the GM shows players at the table: what their viewer needs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Handout {
    /// The file, read from `/media/{id}` (the server lets whoever it was
    /// shown to read it).
    pub media: MediaId,
    /// Its name.
    pub name: DisplayFileName,
    /// How the viewer shows it.
    pub format: HandoutFormat,
}

/// How a handout is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandoutFormat {
    /// Drawn in the viewer.
    Image,
    /// Opened in the browser's PDF reader.
    Pdf,
}

impl HandoutFormat {
    /// The format of a file with the sniffed `mime` type; sounds and videos
    /// are not handouts.
    pub fn of(mime: &str) -> Result<Self> {
        if mime.starts_with("image/") {
            Ok(Self::Image)
        } else if mime == "application/pdf" {
            Ok(Self::Pdf)
        } else {
            Err(Error::InvalidAction(format!(
                "only an image or a PDF can be handed out, not {mime}"
            )))
        }
    }
}

/// The answer to an upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadReceipt {
    /// The new record.
    pub file: MediaFile,
    /// True when the same bytes were already stored: the upload made a new
    /// record and no new copy.
    pub deduplicated: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_paths_are_reduced_to_a_display_name() {
        assert_eq!(
            DisplayFileName::sanitize("../../etc/passwd").as_str(),
            "passwd"
        );
        assert_eq!(
            DisplayFileName::sanitize("C:\\maps\\cave.png").as_str(),
            "cave.png"
        );
        assert_eq!(
            DisplayFileName::sanitize("a\u{0}b\nc.png").as_str(),
            "abc.png"
        );
        assert_eq!(DisplayFileName::sanitize("maps/..").as_str(), "upload");
        assert_eq!(DisplayFileName::sanitize("   ").as_str(), "upload");
        let long = "x".repeat(500);
        assert_eq!(
            DisplayFileName::sanitize(&long).as_str().chars().count(),
            DisplayFileName::MAX_CHARS
        );
    }

    #[test]
    fn only_accepted_types_pass() {
        assert_eq!(check_type(Some("image/png")), Ok("image/png"));
        assert!(matches!(
            check_type(Some("text/html")),
            Err(Error::UnsupportedMedia(message)) if message.contains("text/html")
        ));
        assert!(check_type(None).is_err());
    }

    #[test]
    fn only_images_and_pdfs_are_handouts() {
        assert_eq!(HandoutFormat::of("image/webp"), Ok(HandoutFormat::Image));
        assert_eq!(HandoutFormat::of("application/pdf"), Ok(HandoutFormat::Pdf));
        assert!(HandoutFormat::of("audio/ogg").is_err());
        assert!(HandoutFormat::of("video/mp4").is_err());
    }

    #[test]
    fn kinds_round_trip_through_their_slug() {
        for kind in MediaKind::ALL {
            assert_eq!(kind.slug().parse::<MediaKind>(), Ok(kind));
        }
        assert!("script".parse::<MediaKind>().is_err());
    }
}
