//! The campaign routes: campaigns, a campaign's party and feed, and moving a character.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header::{HeaderValue, LOCATION};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use hitpoints::campaign::{Campaign, CampaignCursor, CampaignError};
use uuid::Uuid;

use crate::error::ApiError;
use crate::extract::{CampaignId, CharacterId, JsonBody, Params};
use crate::handlers::{appended_response, feed_page, party_body, party_page};
use crate::wire::{
    CampaignBody, CampaignsBody, CreateCampaignBody, ErrorCode, FeedParams, ListParams, MoveBody,
    NoParams, PartyBody, DEFAULT_PAGE_SIZE,
};
use crate::Api;

/// `POST /campaigns`: 201 with the campaign and its `Location`.
pub(crate) async fn create_campaign(
    State(api): State<Arc<Api>>,
    Params(NoParams {}): Params<NoParams>,
    JsonBody(body): JsonBody<CreateCampaignBody>,
) -> Result<Response, ApiError> {
    let campaign = api
        .campaigns()?
        .create(body.name, body.dm_name, body.ruleset.unwrap_or_default())
        .await?;
    let location = HeaderValue::from_str(&format!("/campaigns/{}", campaign.id));
    let mut response = (StatusCode::CREATED, Json(CampaignBody::from(campaign))).into_response();
    if let Ok(location) = location {
        response.headers_mut().insert(LOCATION, location);
    }
    Ok(response)
}

/// `GET /campaigns`: a page of every campaign, the default campaign first.
pub(crate) async fn list_campaigns(
    State(api): State<Arc<Api>>,
    Params(params): Params<ListParams>,
) -> Result<Json<CampaignsBody>, ApiError> {
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
    Params(NoParams {}): Params<NoParams>,
) -> Result<Json<CampaignBody>, ApiError> {
    Ok(Json(found(&api, id).await?.into()))
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
    let campaign = api.campaign_of_new(Some(to)).await?;
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

/// A campaign that must exist: 404 otherwise.
async fn found(api: &Api, id: Uuid) -> Result<Campaign, ApiError> {
    api.campaigns()?
        .get(id)
        .await?
        .ok_or_else(|| CampaignError::NotFound(id).into())
}
