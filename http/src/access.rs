//! The rules of access at the edge: who the caller is, and each route's question to
//! [`hitpoints::access::decide`] before its handler runs. The rules themselves live in the core;
//! this module only finds what they need (the character's campaign, the caller's role in it)
//! and turns the decision into the API's answer.
//!
//! What it costs a signed-in person's request: on a character's route one consistent Query of
//! its newest item (its campaign; 1 read unit for an event under 4 KB) and one consistent
//! GetItem of the membership; on a campaign's route the GetItem alone. An operator's requests
//! read nothing more.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hitpoints::access::{decide, Action, Caller, Decision, Role};
use hitpoints::campaign::CampaignError;
use hitpoints::domain::DEFAULT_CAMPAIGN;
use hitpoints::Error;
use uuid::Uuid;

use crate::error::ApiError;
use crate::extract::{CampaignId, CharacterId};
use crate::routes::Endpoint;
use crate::Api;

/// What a route asks of the rules before its handler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Guard {
    /// Anyone: the contract.
    Public,
    /// The listings of everything: operators only.
    Operate,
    /// Any verified caller; the handler decides on what its body names.
    SignedIn,
    /// A new campaign.
    CreateCampaign,
    /// The character in the path, read.
    ReadCharacter,
    /// A player command on the character in the path.
    PlayerCommand,
    /// Anything else on the character in the path.
    ManageCharacter,
    /// The campaign in the path, read.
    ReadCampaign,
    /// The campaign's members and invite.
    ManageCampaign,
}

impl Endpoint {
    pub(crate) fn guard(self) -> Guard {
        use Endpoint::{
            AppendEvents, AssignMember, CampaignCharacters, CampaignEvents, CreateCampaign,
            CreateCharacter, Damage, DamageMany, DeathSaves, Defences, GetCampaign, GetCharacter,
            Healing, HitDice, Invite, JoinCampaign, ListCampaigns, ListCharacters, ListMembers,
            MaxHp, MoveCharacter, OpenApi, ReadEvents, ReadFeed, RemoveMember, Rests, Revive,
            Rules, Stabilize, TempHp, Undo,
        };
        match self {
            OpenApi => Guard::Public,
            ListCharacters | ReadFeed => Guard::Operate,
            ListCampaigns | CreateCharacter | DamageMany | JoinCampaign => Guard::SignedIn,
            CreateCampaign => Guard::CreateCampaign,
            ReadEvents | GetCharacter => Guard::ReadCharacter,
            Damage | Healing | TempHp | DeathSaves | Rests => Guard::PlayerCommand,
            AppendEvents | MaxHp | Stabilize | Revive | Rules | Defences | HitDice | Undo
            | MoveCharacter => Guard::ManageCharacter,
            GetCampaign | CampaignCharacters | CampaignEvents => Guard::ReadCampaign,
            Invite | ListMembers | AssignMember | RemoveMember => Guard::ManageCampaign,
        }
    }
}

/// The caller the edge established, for a handler; none: nobody.
#[derive(Debug, Clone)]
pub(crate) struct Who(pub(crate) Caller);

impl<S: Send + Sync> FromRequestParts<S> for Who {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Who, Self::Rejection> {
        Ok(Who(parts
            .extensions
            .get::<Caller>()
            .cloned()
            .unwrap_or(Caller::Anonymous)))
    }
}

/// Establishes the caller when the process in front of the router has not: from API Gateway's
/// authorizer, as the Lambda runtime hands it over (nothing else: a request with neither is
/// nobody).
pub(crate) async fn identify(mut request: Request, next: Next) -> Response {
    if request.extensions().get::<Caller>().is_none() {
        let caller = crate::caller::from_lambda(
            request
                .extensions()
                .get::<lambda_http::request::RequestContext>(),
        );
        request.extensions_mut().insert(caller);
    }
    next.run(request).await
}

/// The route's guard, before its handler: the decision, and for a person the role found on the
/// way, handed to the handler as a request extension.
pub(crate) async fn check(
    State((api, endpoint)): State<(Arc<Api>, Endpoint)>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let caller = parts
        .extensions
        .get::<Caller>()
        .cloned()
        .unwrap_or(Caller::Anonymous);
    match guarded(&api, endpoint.guard(), &caller, &mut parts).await {
        Ok(role) => {
            if let Some(role) = role {
                parts.extensions.insert(role);
            }
            next.run(Request::from_parts(parts, body)).await
        }
        Err(error) => error.into_response(),
    }
}

async fn guarded(
    api: &Api,
    guard: Guard,
    caller: &Caller,
    parts: &mut Parts,
) -> Result<Option<Role>, ApiError> {
    if guard == Guard::Public {
        return Ok(None);
    }
    if *caller == Caller::Anonymous {
        return Err(ApiError::Unauthenticated);
    }
    match guard {
        Guard::Public | Guard::SignedIn => Ok(None),
        Guard::Operate => match decide(caller, DEFAULT_CAMPAIGN, None, &Action::Operate) {
            Decision::Allow => Ok(None),
            _ => Err(ApiError::RouteNotFound(parts.uri.path().to_owned())),
        },
        Guard::CreateCampaign => {
            api.allow(caller, DEFAULT_CAMPAIGN, &Action::CreateCampaign, || {
                ApiError::Unauthenticated
            })
            .await
        }
        Guard::ReadCharacter | Guard::PlayerCommand | Guard::ManageCharacter => {
            let CharacterId(stream) = CharacterId::from_request_parts(parts, &()).await?;
            let action = match guard {
                Guard::ReadCharacter => Action::Read,
                Guard::PlayerCommand => Action::PlayerCommand {
                    targets: vec![stream],
                },
                _ => Action::Manage,
            };
            api.allow_on_character(caller, stream, &action).await
        }
        Guard::ReadCampaign | Guard::ManageCampaign => {
            let CampaignId(campaign) = CampaignId::from_request_parts(parts, &()).await?;
            let action = if guard == Guard::ReadCampaign {
                Action::Read
            } else {
                Action::Manage
            };
            api.allow(caller, campaign, &action, || {
                CampaignError::NotFound(campaign).into()
            })
            .await
        }
    }
}

impl Api {
    /// May `caller` do `action` in `campaign`? For a person, their role there (read once);
    /// `not_found` is the answer to someone who is not a member.
    pub(crate) async fn allow(
        &self,
        caller: &Caller,
        campaign: Uuid,
        action: &Action,
        not_found: impl FnOnce() -> ApiError,
    ) -> Result<Option<Role>, ApiError> {
        let role = match caller {
            Caller::Person { sub }
                if campaign != DEFAULT_CAMPAIGN
                    && !matches!(action, Action::CreateCampaign | Action::Operate) =>
            {
                self.members()?.role(sub, campaign).await?
            }
            _ => None,
        };
        match decide(caller, campaign, role.as_ref(), action) {
            Decision::Allow => Ok(role),
            Decision::Unauthenticated => Err(ApiError::Unauthenticated),
            Decision::Forbidden => Err(ApiError::Forbidden),
            Decision::NotFound => Err(not_found()),
        }
    }

    /// [`Api::allow`] in the campaign the character is in now; a character that does not exist
    /// is the same 404 as one the caller may not see.
    pub(crate) async fn allow_on_character(
        &self,
        caller: &Caller,
        stream: Uuid,
        action: &Action,
    ) -> Result<Option<Role>, ApiError> {
        if matches!(caller, Caller::Operator { .. }) {
            return Ok(None);
        }
        let not_found = || ApiError::Store(Error::NotFound(stream));
        let campaign = self
            .store
            .campaign_of(stream)
            .await?
            .ok_or_else(not_found)?;
        self.allow(caller, campaign, action, not_found).await
    }

    /// A player command on several characters: decided once per campaign they are in, with
    /// that campaign's targets (an operator's reads nothing).
    pub(crate) async fn allow_on_targets(
        &self,
        caller: &Caller,
        targets: &[Uuid],
    ) -> Result<(), ApiError> {
        if matches!(caller, Caller::Operator { .. }) {
            return Ok(());
        }
        // Every target's campaign first, and one answer for any the caller may not touch,
        // naming the first target whatever the reason: which ids exist cannot be told apart.
        let first = targets.first().copied().unwrap_or_default();
        let not_found = || ApiError::Store(Error::NotFound(first));
        let mut by_campaign: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();
        let mut missing = false;
        for &target in targets {
            match self.store.campaign_of(target).await? {
                Some(campaign) => by_campaign.entry(campaign).or_default().push(target),
                None => missing = true,
            }
        }
        let mut forbidden = false;
        for (campaign, targets) in by_campaign {
            let action = Action::PlayerCommand { targets };
            match self.allow(caller, campaign, &action, not_found).await {
                Ok(_) => {}
                Err(ApiError::Forbidden) => forbidden = true,
                Err(ApiError::Store(Error::NotFound(_))) => missing = true,
                Err(other) => return Err(other),
            }
        }
        if missing {
            return Err(not_found());
        }
        if forbidden {
            return Err(ApiError::Forbidden);
        }
        Ok(())
    }
}
