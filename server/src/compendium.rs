//! The compendium: rules content shared by every campaign.

pub mod srd;
