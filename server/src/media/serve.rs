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
            and media_readable(m, cm.role, cm.user_id)",
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
        r#"select m.id, m.original_name, m.media_type, m.mime_type, m.file_size, m.checksum, m.shown,
                m.created_at,
                (select count(*) from media_grants g where g.media_id = m.id) as "handed_to!"
           from media_files m
          where m.campaign_id = $1
            and media_readable(m, $2, $3)
          order by m.created_at desc, m.id"#,
        campaign.0,
        role.slug(),
        reader.0,
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
            handed_to: if role.is_gm_or_assistant() {
                u32::try_from(row.handed_to).unwrap_or(u32::MAX)
            } else {
                0
            },
            created_at: row.created_at,
        })
    })
    .collect()
}

/// Shows a file to the campaign's players and observers, or hides it
/// again (from those it was handed to as well); for the GM and assistant
/// GMs. A file of another campaign is
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
    let mut tx = db.begin().await?;
    let updated = sqlx::query!(
        "update media_files set shown = $3 where id = $1 and campaign_id = $2",
        file.0,
        campaign.0,
        shown,
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 0 {
        return Err(Error::NotMember);
    }
    if !shown {
        // Hidden from the players is hidden from each it was handed to.
        sqlx::query!("delete from media_grants where media_id = $1", file.0)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    tracing::info!(media = %file, %campaign, shown, by = %by, "media visibility changed");
    Ok(())
}

/// Hands `file` to players of `campaign`, for the GM and assistant GMs:
/// to every player and observer (`to: None`, which shows the file) or to
/// the members named, each of whom may read it from now on. Answers what
/// their viewers need. Only images and PDFs are handouts; a file of
/// another campaign or a reader who is not a member is
/// [`Error::NotMember`].
pub async fn hand_out(
    db: &PgPool,
    campaign: CampaignId,
    file: MediaId,
    by: UserId,
    to: Option<&[UserId]>,
) -> Result<Handout> {
    let role = crate::campaign::role_of(db, campaign, by).await?;
    if !role.is_gm_or_assistant() {
        return Err(Error::Refused(shared::Error::Forbidden(
            "only the GM shows handouts".into(),
        )));
    }
    if let Some(to) = to {
        if to.is_empty() {
            return Err(Error::Refused(shared::Error::InvalidAction(
                "choose whom to show it to".into(),
            )));
        }
        // The line that shows it names the GM too.
        shared::limits::count(
            "players a handout is shown to",
            to.len(),
            shared::limits::MAX_LINE_READERS - 1,
        )
        .map_err(Error::Refused)?;
    }
    let row = sqlx::query!(
        "select m.original_name, b.mime_type
           from media_files m
           join media_blobs b on b.checksum = m.checksum
          where m.id = $1 and m.campaign_id = $2",
        file.0,
        campaign.0,
    )
    .fetch_optional(db)
    .await?
    .ok_or(Error::NotMember)?;
    let format = HandoutFormat::of(&row.mime_type).map_err(Error::Refused)?;
    let mut named = to.map(|to| to.iter().map(|u| u.0).collect::<Vec<_>>());
    if let Some(named) = &mut named {
        named.sort_unstable();
        named.dedup();
    }
    let mut tx = db.begin().await?;
    if to.is_none() {
        // Whoever joins later may read it too; it is on the lists of
        // those it was shown to.
        sqlx::query!("update media_files set shown = true where id = $1", file.0)
            .execute(&mut *tx)
            .await?;
    }
    let granted = sqlx::query!(
        "insert into media_grants (media_id, user_id, granted_by)
         select $1, cm.user_id, $3
           from campaign_members cm
          where cm.campaign_id = $2
            and case when $4::uuid[] is null then cm.role in ('player', 'observer')
                     else cm.user_id = any($4) end
         on conflict (media_id, user_id)
         do update set granted_at = now(), granted_by = excluded.granted_by",
        file.0,
        campaign.0,
        by.0,
        named.as_deref(),
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if named
        .as_ref()
        .is_some_and(|named| granted != named.len() as u64)
    {
        // Someone named is not a member: nothing is granted.
        return Err(Error::NotMember);
    }
    tx.commit().await?;
    tracing::info!(media = %file, %campaign, by = %by, to = ?to, "handout shown");
    Ok(Handout {
        media: file,
        name: DisplayFileName::sanitize(&row.original_name),
        format,
    })
}

/// The handouts of `campaign` as `reader` keeps them, last shown first:
/// those shown to them, or for the GM and assistants every file shown.
pub async fn handouts(db: &PgPool, campaign: CampaignId, reader: UserId) -> Result<Vec<Handout>> {
    let role = crate::campaign::role_of(db, campaign, reader).await?;
    sqlx::query!(
        r#"select m.id, m.original_name, b.mime_type, max(g.granted_at) as "last!"
             from media_files m
             join media_blobs b on b.checksum = m.checksum
             join media_grants g on g.media_id = m.id and ($3 or g.user_id = $2)
            where m.campaign_id = $1
            group by m.id, m.original_name, b.mime_type
            order by 4 desc, m.id"#,
        campaign.0,
        reader.0,
        role.is_gm_or_assistant(),
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|row| {
        Ok(Handout {
            media: MediaId(row.id),
            name: DisplayFileName::sanitize(&row.original_name),
            format: HandoutFormat::of(&row.mime_type).map_err(Error::CorruptRow)?,
        })
    })
    .collect()
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
                and media_readable(m, cm.role, cm.user_id)) as "readable!""#,
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
