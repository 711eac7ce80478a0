//! The server's side of the `app::Backend` port: the body of every server
//! function, with the checks of who may do what, over the repositories.
//! Kept apart from [`AppState`](crate::AppState), which only holds the
//! handles.
//!
//! Over 500 lines on purpose: one short method per server function, each
//! the same shape (who is asking, then one repository call); split by
//! domain, the `impl Backend` would have to be split across files too.

use app::content::{ActorSheet, NewActorRequest, NewItemRequest};
use app::{AppError, Backend};
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

use crate::{
    Error, Result,
    account::{self, LoginToken},
    actor, campaign, compendium, encounter, event_log, item,
    media::{self},
    membership,
};

use crate::AppState;

#[async_trait::async_trait]
impl Backend for AppState {
    async fn sign_up(
        &self,
        login: LoginName,
        display_name: DisplayName,
        password: Password,
    ) -> Result<(User, String), AppError> {
        self.gate.sign_up_attempt(client_ip())?;
        let user = account::sign_up(&self.db, &self.gate, &login, &display_name, &password).await?;
        let token = account::start_login(&self.db, user.id).await?;
        tracing::info!(user = %user.id, "account created");
        Ok((user, token.as_str().to_owned()))
    }

    async fn log_in(&self, login: String, password: String) -> Result<(User, String), AppError> {
        let user = account::log_in(&self.db, &self.gate, &login, &password, client_ip()).await?;
        let token = account::start_login(&self.db, user.id).await?;
        Ok((user, token.as_str().to_owned()))
    }

    async fn log_out(&self, token: String) -> Result<(), AppError> {
        let token = LoginToken::from_cookie(&token);
        let user = account::user_for(&self.db, &token).await?;
        account::end_login(&self.db, &token).await?;
        // A table opened with this login closes now, not when it next asks.
        if let Some(user) = user {
            self.hub.recheck(user.id).await;
        }
        Ok(())
    }

    async fn user(&self, token: String) -> Result<Option<User>, AppError> {
        Ok(account::user_for(&self.db, &LoginToken::from_cookie(&token)).await?)
    }

    async fn change_password(
        &self,
        token: String,
        current: String,
        new: Password,
    ) -> Result<u64, AppError> {
        let token = LoginToken::from_cookie(&token);
        let user = account::user_for(&self.db, &token)
            .await?
            .ok_or(AppError::Unauthorized)?;
        let ended = account::change_password(
            &self.db,
            &self.gate,
            &user,
            &token,
            &current,
            &new,
            client_ip(),
        )
        .await?;
        // Tables opened with the logins that just ended close now.
        self.hub.recheck(user.id).await;
        Ok(ended)
    }

    fn secure_cookies(&self) -> bool {
        self.secure_cookies
    }

    async fn set_actor_owner(
        &self,
        user: &User,
        campaign: CampaignId,
        actor: ActorId,
        owner: Option<UserId>,
    ) -> Result<(), AppError> {
        self.require_gm(user, campaign, "only the GM gives actors to players")
            .await?;
        self.check_owner(campaign, owner).await?;
        actor::set_owner(&self.db, campaign, actor, owner).await?;
        tracing::info!(%campaign, %actor, ?owner, by = %user.id, "actor given");
        Ok(())
    }

    async fn create_sample_encounter(
        &self,
        user: &User,
        campaign: CampaignId,
    ) -> Result<EncounterId, AppError> {
        self.require_gm(user, campaign, "only the GM prepares encounters")
            .await?;
        Ok(encounter::sample::create(&self.db, campaign, user.id).await?)
    }

    async fn update_sheet(
        &self,
        user: &User,
        campaign: CampaignId,
        actor: ActorId,
        change: shared::sheet::SheetChange,
    ) -> Result<(), AppError> {
        let role = campaign::role_of(&self.db, campaign, user.id).await?;
        let record = actor::get_visible(&self.db, campaign, actor, user.id, role).await?;
        if !may_edit_sheet(user, role, &record) {
            return Err(Error::Refused(shared::Error::Forbidden(
                "only its player or the GM can change this sheet".into(),
            ))
            .into());
        }
        if let shared::sheet::SheetChange::Portrait {
            portrait: Some(portrait),
        } = change
            && !media::readable_image(&self.db, campaign, portrait, user.id).await?
        {
            return Err(Error::Refused(shared::Error::InvalidAction(
                "the portrait must be an image of this campaign".into(),
            ))
            .into());
        }
        let patch = change
            .patch(&record.base_stats, &record.current_stats)
            .map_err(Error::Refused)?;
        if !actor::merge_current(&self.db, campaign, actor, &patch).await? {
            return Err(Error::Refused(shared::Error::InvalidAction(
                "the table is in session: change the sheet at the table, where the GM's rules apply"
                    .into(),
            ))
            .into());
        }
        tracing::info!(%campaign, %actor, by = %user.id, "sheet changed");
        Ok(())
    }

    async fn character_options(&self) -> Result<shared::character::CharacterOptions, AppError> {
        Ok(compendium::character_options(&self.db).await?)
    }

    async fn search_compendium(
        &self,
        query: CompendiumQuery,
    ) -> Result<Vec<CompendiumEntry>, AppError> {
        Ok(compendium::search(&self.db, &query).await?)
    }

    async fn compendium_detail(
        &self,
        ref_key: String,
    ) -> Result<shared::compendium::detail::Detail, AppError> {
        let unknown = || shared::Error::InvalidAction("no compendium entry has that key".into());
        if ref_key.len() > 200 {
            return Err(unknown().into());
        }
        compendium::detail(&self.db, &ref_key)
            .await?
            .ok_or_else(|| unknown().into())
    }

    async fn list_campaigns(&self, user: &User) -> Result<Vec<Campaign>, AppError> {
        Ok(campaign::list_for(&self.db, user.id).await?)
    }

    async fn create_campaign(&self, user: &User, new: NewCampaign) -> Result<Campaign, AppError> {
        let created = campaign::create(&self.db, user.id, &new).await?;
        tracing::info!(campaign = %created.id, gm = %user.id, "campaign created");
        Ok(created)
    }

    async fn list_members(
        &self,
        user: &User,
        campaign: CampaignId,
    ) -> Result<Vec<Member>, AppError> {
        Ok(membership::members(&self.db, campaign, user.id).await?)
    }

    async fn invite(
        &self,
        user: &User,
        campaign: CampaignId,
        role: Role,
    ) -> Result<Invitation, AppError> {
        Ok(membership::invite(&self.db, campaign, user.id, role).await?)
    }

    async fn join(&self, user: &User, token: String) -> Result<(CampaignId, Role), AppError> {
        Ok(membership::accept(&self.db, user.id, &token).await?)
    }

    async fn set_role(
        &self,
        user: &User,
        campaign: CampaignId,
        member: UserId,
        role: Role,
    ) -> Result<(), AppError> {
        membership::change_role(&self.db, campaign, user.id, member, role).await?;
        // The member's open tables take the new role now.
        self.hub.recheck(member).await;
        Ok(())
    }

    async fn remove_member(
        &self,
        user: &User,
        campaign: CampaignId,
        member: UserId,
    ) -> Result<(), AppError> {
        membership::remove(&self.db, campaign, user.id, member).await?;
        // The former member's open tables close now.
        self.hub.recheck(member).await;
        Ok(())
    }

    async fn list_actors(
        &self,
        user: &User,
        campaign: CampaignId,
    ) -> Result<Vec<ActorRecord>, AppError> {
        let role = campaign::role_of(&self.db, campaign, user.id).await?;
        Ok(actor::list_visible(&self.db, campaign, user.id, role).await?)
    }

    async fn actor_sheet(
        &self,
        user: &User,
        campaign: CampaignId,
        actor: ActorId,
    ) -> Result<ActorSheet, AppError> {
        let role = campaign::role_of(&self.db, campaign, user.id).await?;
        let record = actor::get_visible(&self.db, campaign, actor, user.id, role).await?;
        let items = item::carried_by(&self.db, campaign, actor).await?;
        Ok(ActorSheet {
            may_edit: may_edit_sheet(user, role, &record),
            actor: record,
            items,
        })
    }

    async fn campaign_search(
        &self,
        user: &User,
        campaign: CampaignId,
        text: String,
    ) -> Result<Vec<shared::report::SearchHit>, AppError> {
        if text.chars().count() > app::tools::MAX_SEARCH_CHARS {
            return Err(Error::Refused(shared::Error::InvalidAction(format!(
                "search for at most {} characters",
                app::tools::MAX_SEARCH_CHARS
            )))
            .into());
        }
        let role = campaign::role_of(&self.db, campaign, user.id).await?;
        Ok(crate::report::search_campaign(&self.db, campaign, user.id, role, &text).await?)
    }

    async fn chat_history(
        &self,
        user: &User,
        campaign: CampaignId,
        before: Option<i64>,
    ) -> Result<Vec<shared::report::ChatLine>, AppError> {
        // Any member, reading what they read at the table: the lines for
        // everyone, and the whispers and secret rolls meant for them.
        let role = campaign::role_of(&self.db, campaign, user.id).await?;
        let reader = shared::rules::Participant {
            user: user.id,
            role,
        };
        Ok(crate::report::chat_history(&self.db, campaign, &reader, before).await?)
    }

    async fn campaign_stats(
        &self,
        user: &User,
        campaign: CampaignId,
    ) -> Result<shared::report::CampaignAnalytics, AppError> {
        gm_only(&self.db, campaign, user).await?;
        Ok(crate::report::campaign_analytics(&self.db, campaign).await?)
    }

    async fn encounter_suggestions(
        &self,
        user: &User,
        campaign: CampaignId,
    ) -> Result<Vec<shared::report::Suggestion>, AppError> {
        gm_only(&self.db, campaign, user).await?;
        Ok(crate::report::encounter_builder(&self.db, campaign).await?)
    }

    async fn monster_for_table(
        &self,
        user: &User,
        session: SessionId,
        compendium_ref: String,
    ) -> Result<shared::actor::Actor, AppError> {
        let info = session_of(&self.db, session).await?;
        gm_only(&self.db, info.campaign, user).await?;
        if info.ended {
            return Err(Error::Refused(shared::Error::InvalidAction(
                "the session has ended".into(),
            ))
            .into());
        }
        let new = actor::NewActor {
            campaign: info.campaign,
            name: None,
            actor_type: shared::actor::ActorKind::Monster.slug().to_owned(),
            level: None,
            character_class: None,
            owner: None,
            created_by: user.id,
        };
        let id = actor::create_from_compendium(&self.db, &new, &compendium_ref).await?;
        tracing::info!(%session, actor = %id, by = %user.id, "monster made for the table");
        Ok(crate::live::load::actor(&self.db, info.campaign, id).await?)
    }

    async fn create_actor(
        &self,
        user: &User,
        campaign: CampaignId,
        request: NewActorRequest,
    ) -> Result<ActorId, AppError> {
        let role = campaign::role_of(&self.db, campaign, user.id).await?;
        actor::may_create(user.id, role, request.kind, request.owner)?;
        self.check_owner(campaign, request.owner).await?;
        if let Some(draft) = &request.character {
            return Ok(self
                .create_character(user, campaign, &request, draft)
                .await?);
        }
        let new = actor::NewActor {
            campaign,
            name: request.name.clone(),
            actor_type: request.kind.slug().to_owned(),
            level: request.level,
            character_class: request.character_class.clone(),
            owner: request.owner,
            created_by: user.id,
        };
        let id = match &request.compendium_ref {
            Some(ref_key) => actor::create_from_compendium(&self.db, &new, ref_key).await?,
            None => {
                let name = request
                    .name
                    .as_deref()
                    .map(str::trim)
                    .filter(|n| !n.is_empty());
                let name = name.ok_or(Error::Refused(shared::Error::InvalidAction(
                    "an actor needs a name".into(),
                )))?;
                actor::create_custom(&self.db, &new, name, &serde_json::json!({})).await?
            }
        };
        Ok(id)
    }

    async fn list_items(
        &self,
        user: &User,
        campaign: CampaignId,
    ) -> Result<Vec<ItemRecord>, AppError> {
        let role = campaign::role_of(&self.db, campaign, user.id).await?;
        Ok(item::list_visible(&self.db, campaign, user.id, role).await?)
    }

    async fn create_item(
        &self,
        user: &User,
        campaign: CampaignId,
        request: NewItemRequest,
    ) -> Result<ItemRecord, AppError> {
        if !campaign::role_of(&self.db, campaign, user.id)
            .await?
            .is_gm_or_assistant()
        {
            return Err(Error::Refused(shared::Error::Forbidden(
                "only the GM and assistant GMs create items".into(),
            ))
            .into());
        }
        let placement = item::Placement {
            owner: request.owner,
            container: request.container,
        };
        Ok(item::create_from_compendium(
            &self.db,
            campaign,
            &request.compendium_ref,
            placement,
            request.quantity,
        )
        .await?)
    }

    async fn move_item(
        &self,
        user: &User,
        campaign: CampaignId,
        item_id: ItemId,
        owner: Option<ActorId>,
        container: Option<ItemId>,
    ) -> Result<(), AppError> {
        let role = campaign::role_of(&self.db, campaign, user.id).await?;
        let placement = item::Placement { owner, container };
        if !role.is_gm_or_assistant() {
            item::check_player_move(&self.db, campaign, user.id, role, item_id, placement).await?;
        }
        Ok(item::place(&self.db, campaign, item_id, placement).await?)
    }

    async fn list_media(
        &self,
        user: &User,
        campaign: CampaignId,
    ) -> Result<Vec<MediaFile>, AppError> {
        Ok(media::list(&self.db, campaign, user.id).await?)
    }

    async fn show_media(
        &self,
        user: &User,
        campaign: CampaignId,
        file: MediaId,
        shown: bool,
    ) -> Result<(), AppError> {
        Ok(media::show(&self.db, campaign, file, user.id, shown).await?)
    }

    async fn hand_out(
        &self,
        user: &User,
        session: SessionId,
        file: MediaId,
        to: Option<Vec<UserId>>,
    ) -> Result<shared::media::Handout, AppError> {
        let info = session_of(&self.db, session).await?;
        Ok(media::hand_out(&self.db, info.campaign, file, user.id, to.as_deref()).await?)
    }

    async fn session_media(
        &self,
        user: &User,
        session: SessionId,
    ) -> Result<Vec<MediaFile>, AppError> {
        let info = session_of(&self.db, session).await?;
        Ok(media::list(&self.db, info.campaign, user.id).await?)
    }

    async fn handouts(
        &self,
        user: &User,
        campaign: CampaignId,
    ) -> Result<Vec<shared::media::Handout>, AppError> {
        Ok(media::handouts(&self.db, campaign, user.id).await?)
    }

    async fn campaign_overview(
        &self,
        user: &User,
        campaign: CampaignId,
    ) -> Result<CampaignOverview, AppError> {
        Ok(campaign::overview(&self.db, campaign, user.id).await?)
    }

    async fn list_encounters(
        &self,
        user: &User,
        campaign: CampaignId,
    ) -> Result<Vec<EncounterSummary>, AppError> {
        let role = campaign::role_of(&self.db, campaign, user.id).await?;
        Ok(encounter::list(&self.db, campaign, role.is_gm_or_assistant()).await?)
    }

    async fn create_encounter(
        &self,
        user: &User,
        campaign: CampaignId,
        name: String,
        map: MapSettings,
        image: Option<MediaId>,
    ) -> Result<EncounterId, AppError> {
        self.require_gm(user, campaign, "only the GM prepares encounters")
            .await?;
        let settings = MapSettings { image: None, ..map };
        let new = encounter::NewEncounter {
            campaign,
            name,
            map: image,
            settings,
        };
        let id = encounter::create(&self.db, &new).await?;
        tracing::info!(%campaign, encounter = %id, "encounter created");
        Ok(id)
    }

    async fn encounter_tokens(
        &self,
        user: &User,
        campaign: CampaignId,
        encounter: EncounterId,
    ) -> Result<Vec<Token>, AppError> {
        self.require_gm(user, campaign, "only the GM sees every token before play")
            .await?;
        Ok(encounter::load(&self.db, campaign, encounter).await?.tokens)
    }

    async fn place_token(
        &self,
        user: &User,
        campaign: CampaignId,
        encounter: EncounterId,
        token: NewToken,
    ) -> Result<TokenId, AppError> {
        self.require_gm(user, campaign, "only the GM places tokens")
            .await?;
        Ok(encounter::place_token(&self.db, campaign, encounter, &token).await?)
    }

    async fn update_encounter(
        &self,
        user: &User,
        campaign: CampaignId,
        encounter: EncounterId,
        name: String,
        map: MapSettings,
    ) -> Result<(), AppError> {
        self.require_gm(user, campaign, "only the GM prepares encounters")
            .await?;
        encounter::update(&self.db, campaign, encounter, &name, &map).await?;
        tracing::info!(%campaign, %encounter, "encounter changed");
        Ok(())
    }

    async fn update_token(
        &self,
        user: &User,
        campaign: CampaignId,
        encounter: EncounterId,
        token: TokenId,
        setup: NewToken,
    ) -> Result<(), AppError> {
        self.require_gm(user, campaign, "only the GM places tokens")
            .await?;
        Ok(encounter::update_token(&self.db, campaign, encounter, token, &setup).await?)
    }

    async fn remove_token(
        &self,
        user: &User,
        campaign: CampaignId,
        encounter: EncounterId,
        token: TokenId,
    ) -> Result<(), AppError> {
        self.require_gm(user, campaign, "only the GM places tokens")
            .await?;
        Ok(encounter::remove_token(&self.db, campaign, encounter, token).await?)
    }

    async fn list_sessions(
        &self,
        user: &User,
        campaign: CampaignId,
    ) -> Result<Vec<SessionSummary>, AppError> {
        campaign::role_of(&self.db, campaign, user.id).await?;
        Ok(event_log::sessions_of(&self.db, campaign).await?)
    }

    async fn start_session(
        &self,
        user: &User,
        campaign: CampaignId,
        encounter: EncounterId,
    ) -> Result<SessionId, AppError> {
        let (session, _) = crate::live::start(&self.db, campaign, Some(encounter), user.id).await?;
        Ok(session)
    }

    async fn session_members(
        &self,
        user: &User,
        session: SessionId,
    ) -> Result<Vec<Member>, AppError> {
        let info = session_of(&self.db, session).await?;
        Ok(membership::members(&self.db, info.campaign, user.id).await?)
    }

    async fn session_encounters(
        &self,
        user: &User,
        session: SessionId,
    ) -> Result<Vec<EncounterSummary>, AppError> {
        let info = session_of(&self.db, session).await?;
        gm_only(&self.db, info.campaign, user).await?;
        Ok(encounter::list(&self.db, info.campaign, true).await?)
    }

    async fn dice_sessions(
        &self,
        user: &User,
        campaign: CampaignId,
    ) -> Result<Vec<shared::fair::DiceSession>, AppError> {
        campaign::role_of(&self.db, campaign, user.id).await?;
        Ok(event_log::dice::sessions(&self.db, campaign).await?)
    }

    async fn dice_record(
        &self,
        user: &User,
        session: SessionId,
    ) -> Result<shared::fair::DiceRecord, AppError> {
        let info = session_of(&self.db, session).await?;
        // Asked now, when the record is read: a member removed since the
        // session reads nothing of it.
        let role = campaign::role_of(&self.db, info.campaign, user.id).await?;
        let reader = shared::rules::Participant {
            user: user.id,
            role,
        };
        Ok(event_log::dice::record(&self.db, session, &info, reader).await?)
    }

    async fn replay(
        &self,
        user: &User,
        session: SessionId,
    ) -> Result<shared::replay::Evening, AppError> {
        let info = session_of(&self.db, session).await?;
        // Asked now: a member removed since reads nothing of it.
        let role = campaign::role_of(&self.db, info.campaign, user.id).await?;
        if !role.is_gm_or_assistant() && !info.ended {
            return Err(Error::Refused(shared::Error::Forbidden(
                "the players' replay opens when the GM ends the session".into(),
            ))
            .into());
        }
        let reader = shared::rules::Participant {
            user: user.id,
            role,
        };
        Ok(crate::replay::evening(&self.db, session, reader, info.ended).await?)
    }
}

/// A session's row; an unknown id answers as a campaign the caller is not
/// in (ids reveal nothing).
async fn session_of(db: &sqlx::PgPool, session: SessionId) -> Result<event_log::SessionInfo> {
    event_log::session_info(db, session)
        .await?
        .ok_or(Error::NotMember)
}

/// Refuses anyone but the campaign's GM and assistant GMs (an outsider
/// as a non-member).
async fn gm_only(db: &sqlx::PgPool, campaign: CampaignId, user: &User) -> Result<()> {
    if campaign::role_of(db, campaign, user.id)
        .await?
        .is_gm_or_assistant()
    {
        Ok(())
    } else {
        Err(Error::Refused(shared::Error::Forbidden(
            "only the GM can do that".into(),
        )))
    }
}

/// The address of the client whose server-function call is being answered.
///
/// The serve loop puts `ConnectInfo` in every request, and server functions
/// run with the request's parts in their context. `None` for calls made in
/// process (tests calling the router directly, rendering).
fn client_ip() -> Option<std::net::IpAddr> {
    let parts = leptos::prelude::use_context::<axum::http::request::Parts>()?;
    parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip())
}

impl AppState {
    /// Creates a character from the character form, once `create_actor`
    /// checked who may create it for whom: the draft is checked as the
    /// form checks it, and its portrait must be an image of the campaign
    /// the creator may see.
    async fn create_character(
        &self,
        user: &User,
        campaign: CampaignId,
        request: &NewActorRequest,
        draft: &shared::character::CharacterDraft,
    ) -> Result<ActorId> {
        let refused = |message: String| Error::Refused(shared::Error::InvalidAction(message));
        if request.compendium_ref.is_some() {
            return Err(refused(
                "a character is built on the form or copied from the compendium, not both".into(),
            ));
        }
        let problems = draft.problems();
        if !problems.is_empty() {
            let messages: Vec<String> = problems.iter().map(ToString::to_string).collect();
            return Err(refused(messages.join(" ")));
        }
        if let Some(portrait) = draft.portrait
            && !media::readable_image(&self.db, campaign, portrait, user.id).await?
        {
            return Err(refused(
                "the portrait must be an image of this campaign".into(),
            ));
        }
        let class = draft.class.trim();
        let new = actor::NewActor {
            campaign,
            name: None,
            actor_type: request.kind.slug().to_owned(),
            level: i32::try_from(draft.level).ok(),
            character_class: (!class.is_empty()).then(|| class.to_owned()),
            owner: request.owner,
            created_by: user.id,
        };
        actor::create_custom(&self.db, &new, draft.name.trim(), &draft.statblock()).await
    }

    /// Refuses an actor's owner who is not a member of `campaign`: an
    /// owner must be able to see their actor.
    async fn check_owner(&self, campaign: CampaignId, owner: Option<UserId>) -> Result<()> {
        if let Some(owner) = owner {
            campaign::role_of(&self.db, campaign, owner)
                .await
                .map_err(|_| {
                    Error::Refused(shared::Error::InvalidAction(
                        "an actor's owner must be a member of the campaign".into(),
                    ))
                })?;
        }
        Ok(())
    }

    /// Refuses anyone but the GM and assistant GMs of `campaign`.
    async fn require_gm(&self, user: &User, campaign: CampaignId, why: &str) -> Result<()> {
        if campaign::role_of(&self.db, campaign, user.id)
            .await?
            .is_gm_or_assistant()
        {
            Ok(())
        } else {
            Err(Error::Refused(shared::Error::Forbidden(why.into())))
        }
    }
}

/// Who changes a sheet: the GM and assistant GMs any, a player the actors
/// they play; an observer none.
fn may_edit_sheet(user: &User, role: Role, actor: &ActorRecord) -> bool {
    role.is_gm_or_assistant() || (role == Role::Player && actor.owner == Some(user.id))
}
