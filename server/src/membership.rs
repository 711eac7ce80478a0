//! Campaign membership: members and their roles, invitations, delegation of
//! assistant GMs. The rules are [`shared::membership`]'s; this module checks
//! who asks and stores the outcome.

use shared::{
    id::{CampaignId, UserId},
    membership::{Invitation, Member, may_change_role, may_invite},
    rules::Role,
};
use sqlx::PgPool;
use time::Duration;
use uuid::Uuid;

use crate::{
    Error, Result,
    account::{random_token, token_hash},
    campaign::role_of,
};

/// How long an invitation link works.
pub const INVITATION_LIFETIME: Duration = Duration::days(7);

/// A role as stored; a name no migration allows is a corrupt row.
pub(crate) fn parse_role(raw: &str) -> Result<Role> {
    raw.parse().map_err(Error::CorruptRow)
}

/// The members of `campaign`, GM first, for a member asking.
pub async fn members(db: &PgPool, campaign: CampaignId, asker: UserId) -> Result<Vec<Member>> {
    role_of(db, campaign, asker).await?;
    sqlx::query!(
        "select m.user_id, m.role, u.display_name
           from campaign_members m join users u on u.id = m.user_id
          where m.campaign_id = $1
          order by case m.role when 'gm' then 0 when 'assistant_gm' then 1 when 'player' then 2 else 3 end,
                   lower(u.display_name), m.user_id",
        campaign.0,
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|row| {
        Ok(Member {
            user: UserId(row.user_id),
            display_name: row.display_name,
            role: parse_role(&row.role)?,
        })
    })
    .collect()
}

/// Creates an invitation link granting `role`, if `by` may invite so.
pub async fn invite(
    db: &PgPool,
    campaign: CampaignId,
    by: UserId,
    role: Role,
) -> Result<Invitation> {
    let inviter = role_of(db, campaign, by).await?;
    may_invite(inviter, role).map_err(Error::Refused)?;
    let token = random_token()?;
    let expires_at = sqlx::query_scalar!(
        "insert into campaign_invitations (id, campaign_id, token_hash, role, created_by, expires_at)
         values ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))
         returning expires_at",
        Uuid::new_v4(),
        campaign.0,
        token_hash(&token),
        role.slug(),
        by.0,
        INVITATION_LIFETIME.as_seconds_f64(),
    )
    .fetch_one(db)
    .await?;
    Ok(Invitation {
        campaign,
        role,
        token,
        expires_at,
    })
}

/// Joins the campaign of an invitation. Each link works once, before it
/// expires. A member who opens a link keeps their role (an invitation
/// never demotes, and never promotes past what the GM chose for them).
pub async fn accept(db: &PgPool, user: UserId, token: &str) -> Result<(CampaignId, Role)> {
    let mut tx = db.begin().await?;
    let invitation = sqlx::query!(
        "select id, campaign_id, role from campaign_invitations
          where token_hash = $1 and accepted_at is null and expires_at > now()
          for update",
        token_hash(token),
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::Refused(shared::Error::InvalidInvitation))?;
    let campaign = CampaignId(invitation.campaign_id);
    if let Ok(role) = role_of(&mut *tx, campaign, user).await {
        return Ok((campaign, role));
    }
    sqlx::query!(
        "insert into campaign_members (campaign_id, user_id, role) values ($1, $2, $3)",
        campaign.0,
        user.0,
        invitation.role,
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "update campaign_invitations set accepted_by = $2, accepted_at = now() where id = $1",
        invitation.id,
        user.0,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    let role = parse_role(&invitation.role)?;
    tracing::info!(%campaign, %user, ?role, "joined a campaign by invitation");
    Ok((campaign, role))
}

/// Changes a member's role: the GM delegating or revoking assistant GM,
/// or moving someone between player and observer.
pub async fn change_role(
    db: &PgPool,
    campaign: CampaignId,
    by: UserId,
    target: UserId,
    new: Role,
) -> Result<()> {
    let mut tx = db.begin().await?;
    let asker = role_of(&mut *tx, campaign, by).await?;
    let current = role_of(&mut *tx, campaign, target)
        .await
        .map_err(|error| match error {
            Error::NotMember => not_a_member(target),
            other => other,
        })?;
    may_change_role(asker, current, new).map_err(Error::Refused)?;
    sqlx::query!(
        "update campaign_members set role = $3 where campaign_id = $1 and user_id = $2",
        campaign.0,
        target.0,
        new.slug(),
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(%campaign, %target, ?current, ?new, by = %by, "role changed");
    Ok(())
}

/// Removes a member: the GM removes anyone but themselves; anyone else may
/// only leave.
pub async fn remove(db: &PgPool, campaign: CampaignId, by: UserId, target: UserId) -> Result<()> {
    let asker = role_of(db, campaign, by).await?;
    let current = role_of(db, campaign, target)
        .await
        .map_err(|error| match error {
            Error::NotMember => not_a_member(target),
            other => other,
        })?;
    if current == Role::Gm {
        return Err(Error::Refused(shared::Error::Forbidden(
            "the GM cannot leave or be removed from their campaign".into(),
        )));
    }
    if asker != Role::Gm && by != target {
        return Err(Error::Refused(shared::Error::Forbidden(
            "only the GM can remove other members".into(),
        )));
    }
    let mut tx = db.begin().await?;
    sqlx::query!(
        "delete from campaign_members where campaign_id = $1 and user_id = $2 and role <> 'gm'",
        campaign.0,
        target.0,
    )
    .execute(&mut *tx)
    .await?;
    // What was handed to them goes with them: invited again, they start
    // from what is shown to everyone.
    sqlx::query!(
        "delete from media_grants g using media_files m
          where g.media_id = m.id and m.campaign_id = $1 and g.user_id = $2",
        campaign.0,
        target.0,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

fn not_a_member(user: UserId) -> Error {
    Error::Refused(shared::Error::InvalidAction(format!(
        "user {user} is not a member of this campaign"
    )))
}
