//! Media storage: uploads streamed to a spool file while hashed, stored once
//! per content (SHA-256), in one of three tiers by size:
//!
//! - small files (up to [`MediaLimits::inline_max`]) in PostgreSQL, so a
//!   token image costs one row and no file;
//! - medium files on the local filesystem under content-addressed names;
//! - large files (from [`MediaLimits::s3_min`]) in S3-compatible object
//!   storage when it is configured, else on the filesystem too.
//!
//! The client's file name is kept for display only; objects are named by
//! their checksum. The content type is sniffed from the bytes and checked
//! against [`shared::media::ACCEPTED_TYPES`]. Every upload makes a
//! `media_files` row; the bytes are a `media_blobs` row shared by all
//! uploads of the same content.

use std::{
    path::{Path as FsPath, PathBuf},
    sync::Arc,
};

use bytes::Bytes;
use futures_util::{Stream, StreamExt, TryStreamExt, stream::BoxStream};
use object_store::{
    ObjectStore, WriteMultipart, aws::AmazonS3Builder, local::LocalFileSystem, path::Path,
};
use sha2::{Digest, Sha256};
use shared::{
    id::{CampaignId, MediaId, UserId},
    media::{
        DisplayFileName, Handout, HandoutFormat, MediaFile, MediaKind, UploadReceipt, check_type,
    },
};
use sqlx::PgPool;
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

use crate::{Error, Result};

mod serve;

pub use serve::{MediaContent, hand_out, handouts, list, open, readable_image, show, tier_of};

/// Size thresholds of the tiers and the upload limit, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaLimits {
    /// The largest upload accepted.
    pub max_upload: u64,
    /// Files up to this size are stored in the database.
    pub inline_max: u64,
    /// Files from this size go to S3 when it is configured.
    pub s3_min: u64,
    /// The most bytes of media one campaign may hold (the sum of its
    /// files' sizes, deduplicated or not: what it costs is the server's
    /// business, what it may grow to is the campaign's).
    pub campaign_quota: u64,
}

impl Default for MediaLimits {
    fn default() -> Self {
        Self {
            max_upload: 100 * 1024 * 1024,
            inline_max: 256 * 1024,
            s3_min: 16 * 1024 * 1024,
            campaign_quota: 2 * 1024 * 1024 * 1024,
        }
    }
}

/// Where an S3-compatible store is and how to log in to it.
#[derive(Debug, Clone)]
pub struct S3Settings {
    /// The endpoint URL (e.g. `http://127.0.0.1:9000`); `None` for AWS.
    pub endpoint: Option<String>,
    /// The bucket, which must exist.
    pub bucket: String,
    /// The region.
    pub region: String,
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
}

/// The storage tiers and limits. Cloning is cheap.
#[derive(Clone)]
pub struct MediaStore {
    filesystem: Arc<dyn ObjectStore>,
    s3: Option<(Arc<dyn ObjectStore>, String)>,
    spool: PathBuf,
    limits: MediaLimits,
}

impl std::fmt::Debug for MediaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaStore")
            .field("spool", &self.spool)
            .field("s3_bucket", &self.s3.as_ref().map(|(_, bucket)| bucket))
            .field("limits", &self.limits)
            .finish()
    }
}

/// Which tier holds a blob (`media_blobs.tier`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// In `media_blobs.data`.
    Database,
    /// Under the media directory.
    Filesystem,
    /// In the S3 bucket.
    S3,
}

impl Tier {
    fn slug(self) -> &'static str {
        match self {
            Tier::Database => "database",
            Tier::Filesystem => "filesystem",
            Tier::S3 => "s3",
        }
    }

    fn parse(raw: &str) -> Result<Self> {
        match raw {
            "database" => Ok(Tier::Database),
            "filesystem" => Ok(Tier::Filesystem),
            "s3" => Ok(Tier::S3),
            other => Err(Error::Internal(format!("unknown media tier {other:?}"))),
        }
    }
}

impl MediaStore {
    /// Opens (creating) `dir` for the filesystem tier and the spool, and
    /// connects to S3 when configured.
    pub fn open(dir: &FsPath, s3: Option<&S3Settings>, limits: MediaLimits) -> Result<Self> {
        let objects = dir.join("objects");
        let spool = dir.join("spool");
        for path in [&objects, &spool] {
            std::fs::create_dir_all(path).map_err(|error| {
                Error::Config(format!(
                    "cannot create the media directory {} (from MEDIA_DIR): {error}",
                    path.display()
                ))
            })?;
        }
        let filesystem = LocalFileSystem::new_with_prefix(&objects).map_err(|error| {
            Error::Config(format!(
                "media directory {} (from MEDIA_DIR): {error}",
                objects.display()
            ))
        })?;
        let s3 = s3
            .map(|settings| {
                let mut builder = AmazonS3Builder::new()
                    .with_bucket_name(&settings.bucket)
                    .with_region(&settings.region)
                    .with_access_key_id(&settings.access_key_id)
                    .with_secret_access_key(&settings.secret_access_key);
                if let Some(endpoint) = &settings.endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"));
                }
                builder
                    .build()
                    .map(|store| {
                        (
                            Arc::new(store) as Arc<dyn ObjectStore>,
                            settings.bucket.clone(),
                        )
                    })
                    .map_err(|error| Error::Config(format!("S3 settings (S3_*): {error}")))
            })
            .transpose()?;
        Ok(Self {
            filesystem: Arc::new(filesystem),
            s3,
            spool,
            limits,
        })
    }

    /// The limits in force.
    pub fn limits(&self) -> MediaLimits {
        self.limits
    }

    fn tier_for(&self, size: u64) -> Tier {
        if size <= self.limits.inline_max {
            Tier::Database
        } else if size >= self.limits.s3_min && self.s3.is_some() {
            Tier::S3
        } else {
            Tier::Filesystem
        }
    }

    fn object_store(&self, tier: Tier) -> Result<&Arc<dyn ObjectStore>> {
        match tier {
            Tier::Filesystem => Ok(&self.filesystem),
            Tier::S3 => {
                self.s3.as_ref().map(|(store, _)| store).ok_or_else(|| {
                    Error::Internal("a blob is in S3 but S3 is not configured".into())
                })
            }
            Tier::Database => Err(Error::Internal(
                "database blobs have no object store".into(),
            )),
        }
    }
}

/// What an upload is, besides its bytes.
#[derive(Debug, Clone)]
pub struct NewUpload {
    /// The campaign it belongs to.
    pub campaign: CampaignId,
    /// Who uploads it.
    pub uploaded_by: UserId,
    /// The client's name for it (display only).
    pub name: DisplayFileName,
    /// What it is for.
    pub kind: MediaKind,
    /// Whether players see it at once: a player's own upload is shown (it
    /// is theirs to use), a GM's is the GM's alone until shown.
    pub shown: bool,
}

/// An upload received in full on the spool, hashed and sniffed.
struct Spooled {
    path: SpoolFile,
    size: u64,
    checksum: String,
    mime_type: &'static str,
}

/// A spool file, removed when dropped, whatever happened: a refused or
/// interrupted upload leaves nothing, nor does a stored one.
struct SpoolFile(PathBuf);

impl Drop for SpoolFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

impl std::ops::Deref for SpoolFile {
    type Target = FsPath;
    fn deref(&self) -> &FsPath {
        &self.0
    }
}

/// How many leading bytes the type sniffer sees.
const SNIFF_BYTES: usize = 8 * 1024;

/// Receives a body onto the spool, hashing as it goes; refuses it as soon
/// as it passes the limit (nothing is stored then).
async fn spool<S, E>(store: &MediaStore, mut body: S) -> Result<Spooled>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let path = SpoolFile(store.spool.join(Uuid::new_v4().simple().to_string()));
    let mut file = tokio::fs::File::create(&*path)
        .await
        .map_err(Error::failed("creating a spool file"))?;
    let mut hasher = Sha256::new();
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    let mut size = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|error| {
            Error::Refused(shared::Error::UnsupportedMedia(format!(
                "the upload was interrupted: {error}"
            )))
        })?;
        size += chunk.len() as u64;
        if size > store.limits.max_upload {
            return Err(Error::Refused(shared::Error::UploadTooLarge {
                max: store.limits.max_upload,
            }));
        }
        if head.len() < SNIFF_BYTES {
            let take = (SNIFF_BYTES - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        hasher.update(&chunk);
        file.write_all(&chunk)
            .await
            .map_err(Error::failed("writing a spool file"))?;
    }
    file.flush()
        .await
        .map_err(Error::failed("writing a spool file"))?;
    let mime_type =
        check_type(infer::get(&head).map(|kind| kind.mime_type())).map_err(Error::Refused)?;
    Ok(Spooled {
        path,
        size,
        checksum: hex::encode(hasher.finalize()),
        mime_type,
    })
}

/// Content-addressed object name: two levels of fan-out so no directory
/// holds millions of files.
fn object_path(checksum: &str) -> Path {
    Path::from(format!("{}/{}/{checksum}", &checksum[..2], &checksum[2..4]))
}

/// Stores an upload: streams `body` to the spool, refuses it if too large or
/// of a type not accepted, stores the bytes unless the same content is
/// already stored, and records the upload. Authorization is the caller's.
pub async fn upload<S, E>(
    db: &PgPool,
    store: &MediaStore,
    new: &NewUpload,
    body: S,
) -> Result<UploadReceipt>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let spooled = spool(store, body).await?;
    let already_stored: bool = sqlx::query_scalar!(
        r#"select exists (select 1 from media_blobs where checksum = $1) as "exists!""#,
        spooled.checksum
    )
    .fetch_one(db)
    .await?;
    if !already_stored {
        store_blob(db, store, &spooled).await?;
    }
    let mut tx = db.begin().await?;
    // The campaign's row is the quota's lock: two uploads at once cannot
    // both fit in the room that is left for one.
    sqlx::query!(
        "select id from campaigns where id = $1 for update",
        new.campaign.0
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::NotMember)?;
    let (used, in_campaign) = sqlx::query!(
        r#"select coalesce(sum(file_size), 0)::bigint as "used!",
                  coalesce(bool_or(checksum = $2), false) as "in_campaign!"
             from media_files where campaign_id = $1"#,
        new.campaign.0,
        spooled.checksum,
    )
    .fetch_one(&mut *tx)
    .await
    .map(|row| (row.used, row.in_campaign))?;
    let quota = store.limits().campaign_quota;
    if u64::try_from(used)
        .unwrap_or(u64::MAX)
        .saturating_add(spooled.size)
        > quota
    {
        return Err(Error::Refused(shared::Error::OverLimit {
            what: "a campaign's media, in bytes (MEDIA_CAMPAIGN_QUOTA_BYTES),".into(),
            max: usize::try_from(quota).unwrap_or(usize::MAX),
        }));
    }
    let id = Uuid::new_v4();
    let created_at: OffsetDateTime = sqlx::query_scalar!(
        "insert into media_files (id, campaign_id, filename, original_name, mime_type, file_size, checksum,
                                  media_type, created_by, shown)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         returning created_at",
        id,
        new.campaign.0,
        spooled.checksum,
        new.name.as_str(),
        spooled.mime_type,
        spooled.size as i64,
        spooled.checksum,
        new.kind.slug(),
        new.uploaded_by.0,
        new.shown,
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query!(
        "insert into media_uploaders (checksum, user_id) values ($1, $2) on conflict do nothing",
        spooled.checksum,
        new.uploaded_by.0,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    // A checksum names content on the whole server: logged only at DEBUG,
    // and the uploader hears only whether their own campaign held it.
    tracing::debug!(media = %id, checksum = %spooled.checksum, "media stored");
    tracing::info!(
        media = %id,
        campaign = %new.campaign,
        bytes = spooled.size,
        "media uploaded"
    );
    Ok(UploadReceipt {
        file: MediaFile {
            id: MediaId(id),
            campaign: new.campaign,
            name: new.name.clone(),
            kind: new.kind,
            mime_type: spooled.mime_type.to_owned(),
            size: spooled.size,
            checksum: spooled.checksum.clone(),
            shown: new.shown,
            handed_to: 0,
            created_at,
        },
        deduplicated: in_campaign,
    })
}

/// Writes the bytes to their tier, then the blob row (so a row never names
/// missing bytes). Returns false when a concurrent upload of the same
/// content recorded the blob first; its object has the same name and bytes.
async fn store_blob(db: &PgPool, store: &MediaStore, spooled: &Spooled) -> Result<bool> {
    let tier = store.tier_for(spooled.size);
    let (data, location, bucket) = match tier {
        Tier::Database => {
            let bytes = tokio::fs::read(&*spooled.path)
                .await
                .map_err(Error::failed("reading a spool file"))?;
            (Some(bytes), None, None)
        }
        Tier::Filesystem | Tier::S3 => {
            let path = object_path(&spooled.checksum);
            copy_to_object_store(store.object_store(tier)?, &path, &spooled.path).await?;
            let bucket = match tier {
                Tier::S3 => store.s3.as_ref().map(|(_, bucket)| bucket.clone()),
                _ => None,
            };
            (None, Some(path.to_string()), bucket)
        }
    };
    let inserted = sqlx::query!(
        "insert into media_blobs (checksum, byte_size, mime_type, tier, data, location, s3_bucket)
         values ($1, $2, $3, $4, $5, $6, $7)
         on conflict (checksum) do nothing",
        spooled.checksum,
        spooled.size as i64,
        spooled.mime_type,
        tier.slug(),
        data,
        location,
        bucket,
    )
    .execute(db)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Streams a spool file into an object store in parts, never holding more
/// than a few parts in memory.
async fn copy_to_object_store(
    store: &Arc<dyn ObjectStore>,
    path: &Path,
    from: &FsPath,
) -> Result<()> {
    const PART: usize = 8 * 1024 * 1024;
    let storage = Error::failed::<object_store::Error>("writing to media storage");
    let mut file = tokio::fs::File::open(from)
        .await
        .map_err(Error::failed("reading a spool file"))?;
    let upload = store.put_multipart(path).await.map_err(storage)?;
    let mut writer = WriteMultipart::new_with_chunk_size(upload, PART);
    let mut buffer = vec![0u8; 256 * 1024];
    loop {
        let read = file
            .read(&mut buffer)
            .await
            .map_err(Error::failed("reading a spool file"))?;
        if read == 0 {
            break;
        }
        writer.wait_for_capacity(2).await.map_err(storage)?;
        writer.write(&buffer[..read]);
    }
    writer.finish().await.map_err(storage)?;
    Ok(())
}
