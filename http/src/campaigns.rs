//! The campaign routes: campaigns, a campaign's party and feed, and moving a character.

use std::sync::Arc;

use std::collections::BTreeSet;

use crate::access::Who;
use axum::extract::State;
use axum::http::header::{HeaderValue, LOCATION};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use axum::Json;
use hitpoints::access::{Caller, Role};
use hitpoints::campaign::{Campaign, CampaignCursor, CampaignError, MAX_CAMPAIGN_NAME_CHARS};
use hitpoints::domain::DEFAULT_CAMPAIGN;
use uuid::Uuid;

use crate::error::ApiError;
use crate::extract::{CampaignId, CharacterId, JsonBody, MemberSub, Params};
use crate::handlers::{appended_response, feed_page, party_body, party_page};
use crate::wire::{
    AssignBody, CampaignBody, CampaignsBody, CreateCampaignBody, ErrorCode, FeedParams, InviteBody,
    JoinBody, ListParams, MemberBody, MembersBody, MoveBody, NoParams, PartyBody,
    DEFAULT_PAGE_SIZE,
};
use crate::Api;

/// `POST /campaigns`: 201 with the campaign and its `Location`.
///
/// A signed-in person who creates a campaign is its Dungeon Master.
pub(crate) async fn create_campaign(
    State(api): State<Arc<Api>>,
    Who(caller): Who,
    Params(NoParams {}): Params<NoParams>,
    JsonBody(body): JsonBody<CreateCampaignBody>,
) -> Result<Response, ApiError> {
    let ruleset = body.ruleset.unwrap_or_default();
    let (campaign, role) = match &caller {
        Caller::Person { sub } => {
            let campaigns = api.campaigns()?;
            let created = api
                .members()?
                .create_campaign(campaigns, sub, body.name, body.dm_name, ruleset)
                .await?;
            (created, Some(Role::Dm))
        }
        _ => {
            let created = api
                .campaigns()?
                .create(body.name, body.dm_name, ruleset)
                .await?;
            (created, None)
        }
    };
    let location = HeaderValue::from_str(&format!("/campaigns/{}", campaign.id));
    let body = CampaignBody::from(campaign).with_role(role.as_ref());
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(location) = location {
        response.headers_mut().insert(LOCATION, location);
    }
    Ok(response)
}

/// `GET /campaigns`: to an operator, a page of every campaign, the default campaign first; to
/// a signed-in person, every campaign they belong to, with their role, in one page.
pub(crate) async fn list_campaigns(
    State(api): State<Arc<Api>>,
    Who(caller): Who,
    Params(params): Params<ListParams>,
) -> Result<Json<CampaignsBody>, ApiError> {
    if let Caller::Person { sub } = &caller {
        if params.cursor.is_some() {
            return Err(hitpoints::store::BadCursor {
                reason: "your campaigns come in one page, without a cursor",
            }
            .into());
        }
        let mine = api.members()?.campaigns_of(api.campaigns()?, sub).await?;
        return Ok(Json(CampaignsBody {
            campaigns: mine
                .into_iter()
                .map(|(campaign, role)| CampaignBody::from(campaign).with_role(Some(&role)))
                .collect(),
            next_cursor: None,
        }));
    }
    let cursor = params
        .cursor
        .as_deref()
        .map(CampaignCursor::decode)
        .transpose()?;
    let limit = params.limit.unwrap_or(DEFAULT_PAGE_SIZE);
    let page = api.campaigns()?.list(limit, cursor.as_ref()).await?;
    Ok(Json(CampaignsBody {
        campaigns: page.campaigns.into_iter().map(CampaignBody::from).collect(),
        next_cursor: page.next.map(|c| c.encode()),
    }))
}

/// `GET /campaigns/{id}`.
pub(crate) async fn get_campaign(
    State(api): State<Arc<Api>>,
    CampaignId(id): CampaignId,
    role: Option<Extension<Role>>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Json<CampaignBody>, ApiError> {
    let role = role.map(|Extension(role)| role);
    Ok(Json(
        CampaignBody::from(found(&api, id).await?).with_role(role.as_ref()),
    ))
}

/// `GET /campaigns/{id}/characters`: the campaign's party, one Query of the snapshot table's
/// index by campaign per page, in the order of the characters' ids.
pub(crate) async fn campaign_characters(
    State(api): State<Arc<Api>>,
    CampaignId(id): CampaignId,
    Params(params): Params<ListParams>,
) -> Result<Json<PartyBody>, ApiError> {
    let snapshots = api.snapshots.as_ref().ok_or(ApiError::NoSnapshotTable)?;
    let (limit, cursor) = party_page(&params, Some(id))?;
    found(&api, id).await?;
    let page = snapshots.list_campaign(id, limit, cursor.as_ref()).await?;
    Ok(Json(party_body(page)))
}

/// `GET /campaigns/{id}/events`: the campaign's feed, with the parameters and guarantees of
/// `GET /events`.
pub(crate) async fn campaign_events(
    State(api): State<Arc<Api>>,
    CampaignId(id): CampaignId,
    headers: HeaderMap,
    Params(params): Params<FeedParams>,
) -> Result<Response, ApiError> {
    found(&api, id).await?;
    feed_page(&api, id, params, &headers).await
}

/// `POST /characters/{id}/campaign`: moves the character with an event of its own (201); a
/// character in that campaign already gets none (200, `events` empty).
pub(crate) async fn move_character(
    State(api): State<Arc<Api>>,
    Who(caller): Who,
    CharacterId(stream): CharacterId,
    Params(NoParams {}): Params<NoParams>,
    JsonBody(body): JsonBody<MoveBody>,
) -> Result<Response, ApiError> {
    let Some(to) = body.campaign_id else {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidBody,
            "campaign_id is required: the uuid of the campaign to move to",
        ));
    };
    let campaign = api.campaign_of_new(&caller, Some(to)).await?;
    let note = body
        .note
        .unwrap_or_else(|| format!("Moved to {}", campaign.name));
    let moved = api
        .store
        .move_to(
            stream,
            campaign.id,
            note,
            body.expected_version.unwrap_or_default(),
        )
        .await?;
    Ok(appended_response(stream, moved))
}

/// `POST /campaigns/{id}/invite`: a new invite code (201); the one before stops working.
pub(crate) async fn invite(
    State(api): State<Arc<Api>>,
    CampaignId(id): CampaignId,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Response, ApiError> {
    if id == DEFAULT_CAMPAIGN {
        return Err(CampaignError::NoMembers.into());
    }
    let code = api.campaigns()?.new_invite(id).await?;
    Ok((
        StatusCode::CREATED,
        Json(InviteBody {
            campaign_id: id,
            code,
        }),
    )
        .into_response())
}

/// `POST /campaigns/{id}/members`: a signed-in person redeems the campaign's invite code and
/// becomes a player (201; a member already: 200 with the role they have). A wrong code is the
/// same 404 as a campaign that does not exist.
pub(crate) async fn join(
    State(api): State<Arc<Api>>,
    Who(caller): Who,
    CampaignId(id): CampaignId,
    Params(NoParams {}): Params<NoParams>,
    JsonBody(body): JsonBody<JoinBody>,
) -> Result<Response, ApiError> {
    // The body first, as the document has it: a code of 1 to 64 characters, a name of 1 to 100.
    let code_chars = body.code.chars().count();
    if !(1..=MAX_CODE_CHARS).contains(&code_chars)
        || body
            .name
            .as_ref()
            .is_some_and(|n| n.is_empty() || n.chars().count() > MAX_CAMPAIGN_NAME_CHARS)
    {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidBody,
            "code has 1 to 64 characters, and name 1 to 100",
        ));
    }
    // Only a signed-in person joins: an operator may do everything already.
    let Caller::Person { sub } = &caller else {
        return Err(ApiError::Forbidden);
    };
    // A blank name is no name.
    let name = body.name.unwrap_or_default().trim().to_owned();
    let (member, joined) = api
        .members()?
        .redeem(api.campaigns()?, id, body.code.trim(), sub, name)
        .await?;
    let status = if joined {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(MemberBody::from(member))).into_response())
}

/// `GET /campaigns/{id}/members`: the DM's view of who is in the campaign.
pub(crate) async fn members(
    State(api): State<Arc<Api>>,
    CampaignId(id): CampaignId,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Json<MembersBody>, ApiError> {
    found(&api, id).await?;
    let members = api.members()?.members(id).await?;
    Ok(Json(MembersBody {
        members: members.into_iter().map(MemberBody::from).collect(),
    }))
}

/// `PUT /campaigns/{id}/members/{sub}`: the player's characters, each of this campaign now.
pub(crate) async fn assign(
    State(api): State<Arc<Api>>,
    CampaignId(id): CampaignId,
    MemberSub(sub): MemberSub,
    Params(NoParams {}): Params<NoParams>,
    JsonBody(body): JsonBody<AssignBody>,
) -> Result<Json<MemberBody>, ApiError> {
    if body.characters.len() > MAX_ASSIGNED {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidBody,
            format!(
                "characters has {} ids; at most {MAX_ASSIGNED}",
                body.characters.len()
            ),
        ));
    }
    let characters: BTreeSet<Uuid> = body.characters.iter().copied().collect();
    for &character in &characters {
        if api.store.campaign_of(character).await? != Some(id) {
            return Err(ApiError::NotInCampaign(character));
        }
    }
    let members = api.members()?;
    if !members.assign(&sub, id, &characters).await? {
        return Err(ApiError::MemberNotFound);
    }
    let member = members
        .member(&sub, id)
        .await?
        .ok_or(ApiError::MemberNotFound)?;
    Ok(Json(member.into()))
}

/// `DELETE /campaigns/{id}/members/{sub}`: the player leaves the campaign (204), at once, and
/// the campaign's invite code is withdrawn (the DM makes a new one for the next player).
pub(crate) async fn remove(
    State(api): State<Arc<Api>>,
    CampaignId(id): CampaignId,
    MemberSub(sub): MemberSub,
    Params(NoParams {}): Params<NoParams>,
) -> Result<StatusCode, ApiError> {
    let members = api.members()?;
    // The link the player joined with stops working first: removed means out, not out until
    // they open it again.
    api.campaigns()?.withdraw_invite(id).await?;
    if members.remove(&sub, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::MemberNotFound)
    }
}

/// Most characters of an invite code a request may send (the codes made are 32).
const MAX_CODE_CHARS: usize = 64;

/// Most characters assigned to one player.
const MAX_ASSIGNED: usize = 100;

/// A campaign that must exist: 404 otherwise.
async fn found(api: &Api, id: Uuid) -> Result<Campaign, ApiError> {
    api.campaigns()?
        .get(id)
        .await?
        .ok_or_else(|| CampaignError::NotFound(id).into())
}
