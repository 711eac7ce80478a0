//! The port between server functions and storage.
//!
//! Server functions live in this crate (the browser needs their client half),
//! but the database belongs to the `server` crate, which depends on this one.
//! So server functions reach storage through this trait: `server` implements
//! it on its state and provides it as `Arc<dyn Backend>` in the Leptos context
//! of every request. Server functions stay thin: check who is asking, call the
//! backend, return `shared` types.

use std::sync::Arc;

use leptos::prelude::use_context;
use shared::{
    account::{DisplayName, LoginName, Password, User},
    actor::ActorRecord,
    campaign::{Campaign, CampaignOverview, NewCampaign, SessionSummary},
    compendium::{CompendiumEntry, CompendiumQuery},
    encounter::{EncounterSummary, MapSettings, NewToken},
    id::{ActorId, CampaignId, EncounterId, ItemId, MediaId, SessionId, TokenId, UserId},
    item::ItemRecord,
    media::MediaFile,
    membership::{Invitation, Member},
    rules::Role,
    token::Token,
};

use crate::content::{ActorSheet, NewActorRequest, NewItemRequest};

use crate::AppError;

/// Storage and services the server functions need.
#[async_trait::async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Creates an account and logs it in; returns the session token.
    async fn sign_up(
        &self,
        login: LoginName,
        display_name: DisplayName,
        password: Password,
    ) -> Result<(User, String), AppError>;

    /// Checks credentials and starts a session; returns its token.
    async fn log_in(&self, login: String, password: String) -> Result<(User, String), AppError>;

    /// Ends the session of a token.
    async fn log_out(&self, token: String) -> Result<(), AppError>;

    /// The user of a live session token.
    async fn user(&self, token: String) -> Result<Option<User>, AppError>;

    /// Changes the password of the account logged in with `token`, once
    /// `current` is checked, and ends the account's other logins (their
    /// open tables close). Returns how many other logins ended.
    async fn change_password(
        &self,
        token: String,
        current: String,
        new: Password,
    ) -> Result<u64, AppError>;

    /// Whether session cookies must be `Secure` (served over HTTPS).
    fn secure_cookies(&self) -> bool;

    /// Gives an actor to a member, or back to the GM (GMs only).
    async fn set_actor_owner(
        &self,
        user: &User,
        campaign: CampaignId,
        actor: ActorId,
        owner: Option<UserId>,
    ) -> Result<(), AppError>;

    /// Creates the sample encounter (GM and assistant GMs).
    async fn create_sample_encounter(
        &self,
        user: &User,
        campaign: CampaignId,
    ) -> Result<EncounterId, AppError>;

    /// Changes one thing on an actor's sheet between sessions (its player
    /// or the GM).
    async fn update_sheet(
        &self,
        user: &User,
        campaign: CampaignId,
        actor: ActorId,
        change: shared::sheet::SheetChange,
    ) -> Result<(), AppError>;

    /// The classes and species of the compendium, for the character form.
    async fn character_options(&self) -> Result<shared::character::CharacterOptions, AppError>;

    /// Searches the compendium.
    async fn search_compendium(
        &self,
        query: CompendiumQuery,
    ) -> Result<Vec<CompendiumEntry>, AppError>;

    /// One compendium entry read for people (any logged-in user, as the
    /// search is).
    async fn compendium_detail(
        &self,
        ref_key: String,
    ) -> Result<shared::compendium::detail::Detail, AppError>;

    /// The campaigns `user` belongs to, newest first.
    async fn list_campaigns(&self, user: &User) -> Result<Vec<Campaign>, AppError>;

    /// Creates a campaign with `user` as its GM.
    async fn create_campaign(
        &self,
        user: &User,
        campaign: NewCampaign,
    ) -> Result<Campaign, AppError>;

    /// The members of a campaign `user` belongs to.
    async fn list_members(
        &self,
        user: &User,
        campaign: CampaignId,
    ) -> Result<Vec<Member>, AppError>;

    /// Creates an invitation link to a campaign.
    async fn invite(
        &self,
        user: &User,
        campaign: CampaignId,
        role: Role,
    ) -> Result<Invitation, AppError>;

    /// Joins the campaign of an invitation; returns it and the role held.
    async fn join(&self, user: &User, token: String) -> Result<(CampaignId, Role), AppError>;

    /// Changes a member's role (delegation of assistant GM).
    async fn set_role(
        &self,
        user: &User,
        campaign: CampaignId,
        member: UserId,
        role: Role,
    ) -> Result<(), AppError>;

    /// Removes a member (the GM), or lets a member leave; their open
    /// tables of the campaign close.
    async fn remove_member(
        &self,
        user: &User,
        campaign: CampaignId,
        member: UserId,
    ) -> Result<(), AppError>;

    /// The actors of a campaign that `user` may see.
    async fn list_actors(
        &self,
        user: &User,
        campaign: CampaignId,
    ) -> Result<Vec<ActorRecord>, AppError>;

    /// One actor's sheet and what it carries, if `user` may see it.
    async fn actor_sheet(
        &self,
        user: &User,
        campaign: CampaignId,
        actor: ActorId,
    ) -> Result<ActorSheet, AppError>;

    /// The campaign's actors, media and compendium matching `text`, as
    /// `user` may see them.
    async fn campaign_search(
        &self,
        user: &User,
        campaign: CampaignId,
        text: String,
    ) -> Result<Vec<shared::report::SearchHit>, AppError>;

    /// The campaign's chat and dice of its sessions, newest first, a page
    /// before the line `before` (every member).
    async fn chat_history(
        &self,
        user: &User,
        campaign: CampaignId,
        before: Option<i64>,
    ) -> Result<Vec<shared::report::ChatLine>, AppError>;

    /// The campaign's newest sessions whose dice can be checked (every
    /// member).
    async fn dice_sessions(
        &self,
        user: &User,
        campaign: CampaignId,
    ) -> Result<Vec<shared::fair::DiceSession>, AppError>;

    /// A session's dice as `user` saw them at the table, with the seed
    /// once the session has ended (every member of its campaign).
    async fn dice_record(
        &self,
        user: &User,
        session: SessionId,
    ) -> Result<shared::fair::DiceRecord, AppError>;

    /// A session's evening as `user` saw it, to replay: the GM and
    /// assistant GMs at any time, the other members once it has ended.
    async fn replay(
        &self,
        user: &User,
        session: SessionId,
    ) -> Result<shared::replay::Evening, AppError>;

    /// The campaign's content in numbers (GM and assistant GMs).
    async fn campaign_stats(
        &self,
        user: &User,
        campaign: CampaignId,
    ) -> Result<shared::report::CampaignAnalytics, AppError>;

    /// The encounter builder's monsters for the party (GM and assistant
    /// GMs).
    async fn encounter_suggestions(
        &self,
        user: &User,
        campaign: CampaignId,
    ) -> Result<Vec<shared::report::Suggestion>, AppError>;

    /// A monster from the compendium, created in the session's campaign
    /// and returned as the table holds it (the GM's, to place it live).
    async fn monster_for_table(
        &self,
        user: &User,
        session: shared::id::SessionId,
        compendium_ref: String,
    ) -> Result<shared::actor::Actor, AppError>;

    /// Creates an actor, from a compendium entry or by hand.
    async fn create_actor(
        &self,
        user: &User,
        campaign: CampaignId,
        actor: NewActorRequest,
    ) -> Result<ActorId, AppError>;

    /// The items of a campaign that `user` may see.
    async fn list_items(
        &self,
        user: &User,
        campaign: CampaignId,
    ) -> Result<Vec<ItemRecord>, AppError>;

    /// Creates an item from a compendium entry.
    async fn create_item(
        &self,
        user: &User,
        campaign: CampaignId,
        item: NewItemRequest,
    ) -> Result<ItemRecord, AppError>;

    /// Gives an item to an actor, puts it in a container, or in the stash.
    async fn move_item(
        &self,
        user: &User,
        campaign: CampaignId,
        item: ItemId,
        owner: Option<ActorId>,
        container: Option<ItemId>,
    ) -> Result<(), AppError>;

    /// The media files of a campaign that `user` may see, newest first.
    async fn list_media(
        &self,
        user: &User,
        campaign: CampaignId,
    ) -> Result<Vec<MediaFile>, AppError>;

    /// Shows a media file to the campaign's players, or hides it (GMs).
    async fn show_media(
        &self,
        user: &User,
        campaign: CampaignId,
        file: MediaId,
        shown: bool,
    ) -> Result<(), AppError>;

    /// Hands a media file of a session's campaign to the whole table
    /// (`to: None`) or to the members named (GMs): what their viewers
    /// need.
    async fn hand_out(
        &self,
        user: &User,
        session: SessionId,
        file: MediaId,
        to: Option<Vec<UserId>>,
    ) -> Result<shared::media::Handout, AppError>;

    /// The media files of a session's campaign that `user` may see (the
    /// GM's table lists what it may hand out).
    async fn session_media(
        &self,
        user: &User,
        session: SessionId,
    ) -> Result<Vec<MediaFile>, AppError>;

    /// The handouts `user` keeps in a campaign, last shown first (the GM:
    /// every file handed out).
    async fn handouts(
        &self,
        user: &User,
        campaign: CampaignId,
    ) -> Result<Vec<shared::media::Handout>, AppError>;

    /// A campaign and `user`'s role in it.
    async fn campaign_overview(
        &self,
        user: &User,
        campaign: CampaignId,
    ) -> Result<CampaignOverview, AppError>;

    /// The encounters of a campaign.
    async fn list_encounters(
        &self,
        user: &User,
        campaign: CampaignId,
    ) -> Result<Vec<EncounterSummary>, AppError>;

    /// Creates an encounter (GMs).
    async fn create_encounter(
        &self,
        user: &User,
        campaign: CampaignId,
        name: String,
        map: MapSettings,
        image: Option<MediaId>,
    ) -> Result<EncounterId, AppError>;

    /// An encounter's tokens, all of them (GMs).
    async fn encounter_tokens(
        &self,
        user: &User,
        campaign: CampaignId,
        encounter: EncounterId,
    ) -> Result<Vec<Token>, AppError>;

    /// Places a token (GMs).
    async fn place_token(
        &self,
        user: &User,
        campaign: CampaignId,
        encounter: EncounterId,
        token: NewToken,
    ) -> Result<TokenId, AppError>;

    /// Renames an encounter and changes its map (GMs).
    async fn update_encounter(
        &self,
        user: &User,
        campaign: CampaignId,
        encounter: EncounterId,
        name: String,
        map: MapSettings,
    ) -> Result<(), AppError>;

    /// Changes a placed token (GMs).
    async fn update_token(
        &self,
        user: &User,
        campaign: CampaignId,
        encounter: EncounterId,
        token: TokenId,
        setup: NewToken,
    ) -> Result<(), AppError>;

    /// Takes a token off an encounter (GMs).
    async fn remove_token(
        &self,
        user: &User,
        campaign: CampaignId,
        encounter: EncounterId,
        token: TokenId,
    ) -> Result<(), AppError>;

    /// The sessions of a campaign not ended, newest first.
    async fn list_sessions(
        &self,
        user: &User,
        campaign: CampaignId,
    ) -> Result<Vec<SessionSummary>, AppError>;

    /// Starts a session on an encounter (GMs).
    async fn start_session(
        &self,
        user: &User,
        campaign: CampaignId,
        encounter: EncounterId,
    ) -> Result<SessionId, AppError>;

    /// The members of a session's campaign, for its members.
    async fn session_members(
        &self,
        user: &User,
        session: SessionId,
    ) -> Result<Vec<Member>, AppError>;

    /// The encounters of a session's campaign, for its GM and assistant
    /// GMs (where the table may move).
    async fn session_encounters(
        &self,
        user: &User,
        session: SessionId,
    ) -> Result<Vec<EncounterSummary>, AppError>;
}

/// Runs a server function's body and sets the HTTP status from its outcome,
/// so that API clients see 400 for refused input rather than a blanket 500.
///
/// Only when the request is the server-function call itself: during
/// server-side rendering a page calls server functions in-process, and a
/// resource that fails (say, 401 for a visitor) must not turn the whole page
/// into an error response.
pub(crate) async fn answer<T>(
    body: impl Future<Output = Result<T, AppError>>,
) -> Result<T, AppError> {
    let result = body.await;
    let is_api_call = use_context::<http::request::Parts>()
        .is_some_and(|parts| parts.uri.path().starts_with("/api/"));
    if let Err(error) = &result
        && is_api_call
        && let Some(response) = use_context::<leptos_axum::ResponseOptions>()
    {
        response.set_status(error.status());
        if let AppError::TooManyAttempts { retry_after } = error {
            response.insert_header(
                http::header::RETRY_AFTER,
                http::HeaderValue::from(*retry_after),
            );
        }
    }
    result
}

/// A server function's body for the logged-in user: the backend and the
/// user are resolved (else [`AppError::Unauthorized`]), then `body` runs,
/// answered as [`answer`] answers. Every campaign server function is one
/// call of this.
pub(crate) async fn as_user<T, F>(
    body: impl FnOnce(Arc<dyn Backend>, shared::account::User) -> F,
) -> Result<T, AppError>
where
    F: Future<Output = Result<T, AppError>>,
{
    answer(async move {
        let (backend, user) = crate::account::login::require_user().await?;
        body(backend, user).await
    })
    .await
}

/// The backend of the current request.
pub(crate) fn backend() -> Result<Arc<dyn Backend>, AppError> {
    use_context::<Arc<dyn Backend>>().ok_or_else(|| {
        tracing::error!("no Backend in the Leptos context: the router was built without it");
        AppError::Internal
    })
}
