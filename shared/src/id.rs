//! Typed ids.
//!
//! Every entity id is its own type over a [`Uuid`], so the compiler refuses a
//! campaign id where a token id belongs. Ids serialize as plain UUID strings.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }
    };
}

id_type!(
    /// Identifies a campaign.
    CampaignId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_serializes_as_a_bare_uuid_string() {
        let id: CampaignId = "67e55044-10b1-426f-9247-bb680e5fe0c8".parse().unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"67e55044-10b1-426f-9247-bb680e5fe0c8\"");
        assert_eq!(serde_json::from_str::<CampaignId>(&json).unwrap(), id);
    }

    #[test]
    fn malformed_id_is_refused() {
        assert!("not-a-uuid".parse::<CampaignId>().is_err());
    }
}
