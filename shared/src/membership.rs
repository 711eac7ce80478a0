//! Who belongs to a campaign, and the rules for changing it: the GM invites
//! and delegates, nobody can make a second GM or remove the GM.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    Error, Result,
    id::{CampaignId, UserId},
    rules::Role,
};

/// A member as the campaign's members see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Their account.
    pub user: UserId,
    /// Their display name.
    pub display_name: String,
    /// Their role.
    pub role: Role,
}

/// An invitation link as its creator sees it, with the secret token that
/// goes into the link. The server stores only the token's hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    /// The campaign it is for.
    pub campaign: CampaignId,
    /// The role it grants.
    pub role: Role,
    /// The secret to put in the link.
    pub token: String,
    /// When it stops working.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// Whether `who` may invite someone as `role`.
///
/// The GM may invite anyone but a second GM; an assistant GM may invite
/// players and observers (delegation does not let them delegate further).
pub fn may_invite(who: Role, role: Role) -> Result<()> {
    match (who, role) {
        (_, Role::Gm) => Err(Error::Forbidden(
            "a campaign has one GM; invite an assistant GM instead".into(),
        )),
        (Role::Gm, _) | (Role::AssistantGm, Role::Player | Role::Observer) => Ok(()),
        (Role::AssistantGm, Role::AssistantGm) => Err(Error::Forbidden(
            "only the GM can make assistant GMs".into(),
        )),
        (Role::Player | Role::Observer, _) => Err(Error::Forbidden(
            "only the GM and assistant GMs can invite".into(),
        )),
    }
}

/// Whether `who` may change `target`'s role from `current` to `new`.
///
/// Only the GM changes roles (this is how assistant GMs are delegated and
/// revoked); the GM's own role is not changed this way, and no one becomes
/// a second GM.
pub fn may_change_role(who: Role, current: Role, new: Role) -> Result<()> {
    if who != Role::Gm {
        return Err(Error::Forbidden("only the GM can change roles".into()));
    }
    if current == Role::Gm || new == Role::Gm {
        return Err(Error::Forbidden(
            "the GM's role cannot be given or taken here".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invitation_rules() {
        assert!(may_invite(Role::Gm, Role::AssistantGm).is_ok());
        assert!(may_invite(Role::Gm, Role::Player).is_ok());
        assert!(may_invite(Role::AssistantGm, Role::Observer).is_ok());
        assert!(may_invite(Role::AssistantGm, Role::AssistantGm).is_err());
        assert!(may_invite(Role::Gm, Role::Gm).is_err());
        assert!(may_invite(Role::Player, Role::Player).is_err());
    }

    #[test]
    fn only_the_gm_delegates_and_never_makes_a_second_gm() {
        assert!(may_change_role(Role::Gm, Role::Player, Role::AssistantGm).is_ok());
        assert!(may_change_role(Role::Gm, Role::AssistantGm, Role::Player).is_ok());
        assert!(may_change_role(Role::AssistantGm, Role::Player, Role::Observer).is_err());
        assert!(may_change_role(Role::Gm, Role::Player, Role::Gm).is_err());
        assert!(may_change_role(Role::Gm, Role::Gm, Role::Player).is_err());
    }
}
