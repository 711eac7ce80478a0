//! Reading media back: streaming a file to a member, listing and showing a campaign's files.

use super::*;

/// A media file's bytes, ready to stream to a member of its campaign.
pub struct MediaContent {
    /// The campaign it belongs to: the caller checks membership.
    pub campaign: CampaignId,
    /// Sniffed content type.
    pub mime_type: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, usable as a strong ETag.
    pub checksum: String,
    /// The bytes.
    pub body: BoxStream<'static, std::io::Result<Bytes>>,
}

/// Opens a media file for `reader` to read. An unknown id, a file of a
/// campaign the reader is not in and a file the reader may not see are
/// all [`Error::NotMember`]: ids reveal nothing.
pub async fn open(
    db: &PgPool,
    store: &MediaStore,
    id: MediaId,
    reader: UserId,
) -> Result<MediaContent> {
    let row = sqlx::query!(
        "select m.campaign_id, b.mime_type, b.byte_size, b.checksum, b.tier, b.data, b.location
           from media_files m
           join media_blobs b on b.checksum = m.checksum
           join campaign_members cm on cm.campaign_id = m.campaign_id and cm.user_id = $2
          where m.id = $1
            and media_readable(m, cm.role)",
        id.0,
        reader.0,
    )
    .fetch_optional(db)
    .await?
    .ok_or(Error::NotMember)?;
    let tier = Tier::parse(&row.tier)?;
    let body = match (tier, row.data, row.location) {
        (Tier::Database, Some(data), _) => {
            futures_util::stream::once(std::future::ready(Ok(Bytes::from(data)))).boxed()
        }
        (Tier::Filesystem | Tier::S3, _, Some(location)) => store
            .object_store(tier)?
            .get(&Path::from(location))
            .await
            .map_err(Error::failed("reading from media storage"))?
            .into_stream()
            .map_err(std::io::Error::other)
            .boxed(),
        _ => {
            return Err(Error::Internal(format!(
                "media blob {} has no bytes",
                row.checksum
            )));
        }
    };
    Ok(MediaContent {
        campaign: CampaignId(row.campaign_id),
        mime_type: row.mime_type,
        size: u64::try_from(row.byte_size).unwrap_or_default(),
        checksum: row.checksum,
        body,
    })
}

/// The media files of a campaign that `reader` may see, newest first;
/// [`Error::NotMember`] for a non-member.
pub async fn list(db: &PgPool, campaign: CampaignId, reader: UserId) -> Result<Vec<MediaFile>> {
    let role = crate::campaign::role_of(db, campaign, reader).await?;
    sqlx::query!(
        "select m.id, m.original_name, m.media_type, m.mime_type, m.file_size, m.checksum, m.shown,
                m.created_at
           from media_files m
          where m.campaign_id = $1
            and media_readable(m, $2)
          order by m.created_at desc, m.id",
        campaign.0,
        role.slug(),
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|row| {
        Ok(MediaFile {
            id: MediaId(row.id),
            campaign,
            name: DisplayFileName::sanitize(&row.original_name),
            kind: row.media_type.parse().map_err(Error::CorruptRow)?,
            mime_type: row.mime_type,
            size: u64::try_from(row.file_size).unwrap_or_default(),
            checksum: row.checksum,
            shown: row.shown,
            created_at: row.created_at,
        })
    })
    .collect()
}

/// Shows a file to the campaign's players and observers, or hides it
/// again; for the GM and assistant GMs. A file of another campaign is
/// [`Error::NotMember`], like an unknown one.
pub async fn show(
    db: &PgPool,
    campaign: CampaignId,
    file: MediaId,
    by: UserId,
    shown: bool,
) -> Result<()> {
    let role = crate::campaign::role_of(db, campaign, by).await?;
    if !role.is_gm_or_assistant() {
        return Err(Error::Refused(shared::Error::Forbidden(
            "only the GM shows or hides media".into(),
        )));
    }
    let updated = sqlx::query!(
        "update media_files set shown = $3 where id = $1 and campaign_id = $2",
        file.0,
        campaign.0,
        shown,
    )
    .execute(db)
    .await?
    .rows_affected();
    if updated == 0 {
        return Err(Error::NotMember);
    }
    tracing::info!(media = %file, %campaign, shown, by = %by, "media visibility changed");
    Ok(())
}

/// Whether `file` is an image of `campaign` that `reader` may see (a
/// portrait or token art must be one).
pub async fn readable_image(
    db: &PgPool,
    campaign: CampaignId,
    file: MediaId,
    reader: UserId,
) -> Result<bool> {
    Ok(sqlx::query_scalar!(
        r#"select exists (
             select 1 from media_files m
               join media_blobs b on b.checksum = m.checksum
               join campaign_members cm on cm.campaign_id = m.campaign_id and cm.user_id = $3
              where m.id = $1 and m.campaign_id = $2 and b.mime_type like 'image/%'
                and media_readable(m, cm.role)) as "readable!""#,
        file.0,
        campaign.0,
        reader.0,
    )
    .fetch_one(db)
    .await?)
}

/// Which tier holds the bytes of `checksum`, if stored.
pub async fn tier_of(db: &PgPool, checksum: &str) -> Result<Option<Tier>> {
    sqlx::query_scalar!("select tier from media_blobs where checksum = $1", checksum)
        .fetch_optional(db)
        .await?
        .map(|tier| Tier::parse(&tier))
        .transpose()
}
