//! The handlers: each takes parsed, valid input from its extractors and answers with a typed
//! body; every failure is an [`ApiError`].

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH, LOCATION};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use hitpoints::domain::{
    character_id, CharacterState, Direction, ExpectedVersion, DEFAULT_CAMPAIGN,
};
use hitpoints::feed::{FeedRead, Position, MAX_WAIT_SECONDS};
use hitpoints::hp::{ListCursor, SnapshotList};
use hitpoints::store::{Appended, Cursor, ReadRequest};
use uuid::Uuid;

use crate::access::Who;
use crate::commands::{self, CreateRulesBody};
use crate::error::ApiError;
use crate::extract::{parse_json, CharacterId, JsonBody, Params, RawBody};
use crate::metrics::{NotModified, Waited, Written};
use crate::wire::{
    AppendRequest, AppendedBody, CharacterBody, CharacterParams, CreatePlainBody, ErrorCode,
    FeedBody, FeedEvent, FeedParams, ListParams, NoParams, PageBody, PartyBody, PartyMember,
    ReadParams, RulesView, Source, StateBody, DEFAULT_PAGE_SIZE,
};
use crate::Api;

/// `POST /characters`: a new stream whose first event is the body. With an `event_id`, the
/// stream's id is derived from it, so a retry finds the character it created.
///
/// A body with `max_hp` creates a character under the rules (`CreateRulesBody`); the plain
/// body (`hp_change`) a character without rules.
pub(crate) async fn create_character(
    State(api): State<Arc<Api>>,
    Who(caller): Who,
    Params(NoParams {}): Params<NoParams>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    // Which body it is, by whether it has max_hp; then read once as that body.
    #[derive(serde::Deserialize)]
    struct Probe {
        max_hp: Option<serde::de::IgnoredAny>,
    }
    let rules = serde_json::from_slice::<Probe>(&body).is_ok_and(|p| p.max_hp.is_some());
    if rules {
        let body: CreateRulesBody = parse_json(&body)?;
        return commands::create(&api, &caller, body).await;
    }
    let (event, campaign) = parse_json::<CreatePlainBody>(&body)?.into_event();
    let stream = character_id(event.event_id);
    let campaign = api.campaign_of_new(&caller, campaign).await?;
    let appended = api
        .store
        .append_in(campaign.id, stream, ExpectedVersion::NoStream, vec![event])
        .await?;
    let mut response = appended_response(stream, appended);
    if let Ok(location) = HeaderValue::from_str(&format!("/characters/{stream}")) {
        response.headers_mut().insert(LOCATION, location);
    }
    Ok(response)
}

/// `POST /characters/{id}/events`.
pub(crate) async fn append_events(
    State(api): State<Arc<Api>>,
    CharacterId(stream): CharacterId,
    Params(NoParams {}): Params<NoParams>,
    JsonBody(request): JsonBody<AppendRequest>,
) -> Result<Response, ApiError> {
    let expected = request.expected_version.unwrap_or_default();
    let appended = api.store.append(stream, expected, request.events).await?;
    Ok(appended_response(stream, appended))
}

/// `GET /characters/{id}/events`.
pub(crate) async fn read_events(
    State(api): State<Arc<Api>>,
    CharacterId(stream): CharacterId,
    Params(params): Params<ReadParams>,
) -> Result<Json<PageBody>, ApiError> {
    let read = read_request(stream, params)?;
    let page = api.store.read(stream, read).await?;
    Ok(Json(PageBody {
        id: stream,
        events: page.events,
        next_cursor: page.next.map(|c| c.encode()),
    }))
}

/// `GET /characters/{id}`: one read of the snapshot table; the fold of the events when there
/// is no snapshot yet, or when the caller asks for `consistent=true`; the fold of a prefix of
/// the events for `at_version` or `as_of`.
pub(crate) async fn character(
    State(api): State<Arc<Api>>,
    CharacterId(stream): CharacterId,
    Params(params): Params<CharacterParams>,
) -> Result<Json<CharacterBody>, ApiError> {
    let given = [
        params.consistent.is_some(),
        params.at_version.is_some(),
        params.as_of.is_some(),
    ];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(ApiError::bad_request(
            ErrorCode::ConflictingParameters,
            "give at most one of consistent, at_version and as_of",
        ));
    }
    let from_events = |state: CharacterState, at_version| CharacterBody {
        id: stream,
        campaign_id: state.campaign_id,
        rules: RulesView::of(state.rules.as_ref()),
        character_name: state.character_name,
        hp: state.hp,
        version: state.version,
        source: Source::Events,
        at_version,
    };
    if let Some(version) = params.at_version {
        let state = api.store.character_at(stream, version).await?;
        return Ok(Json(from_events(state, Some(version))));
    }
    if let Some(instant) = params.as_of {
        let state = api.store.character_as_of(stream, instant).await?;
        return Ok(Json(from_events(state, None)));
    }
    let consistent = params.consistent.unwrap_or(false);
    let snapshot = match (&api.snapshots, consistent) {
        (Some(snapshots), false) => snapshots.get(stream, false).await?,
        _ => None,
    };
    let body = match snapshot {
        Some(s) => CharacterBody {
            id: stream,
            campaign_id: s.campaign_id.unwrap_or(DEFAULT_CAMPAIGN),
            rules: RulesView::of(s.rules.as_ref()),
            character_name: s.character_name,
            hp: s.hit_points,
            version: s.version,
            source: Source::Snapshot,
            at_version: None,
        },
        None => from_events(api.store.character(stream).await?, None),
    };
    Ok(Json(body))
}

/// `GET /characters`: the party, a page of the snapshot table at a time.
pub(crate) async fn list_characters(
    State(api): State<Arc<Api>>,
    Params(params): Params<ListParams>,
) -> Result<Json<PartyBody>, ApiError> {
    let snapshots = api.snapshots.as_ref().ok_or(ApiError::NoSnapshotTable)?;
    let (limit, cursor) = party_page(&params, None)?;
    let page = snapshots.list(limit, cursor.as_ref()).await?;
    Ok(Json(party_body(page)))
}

/// A party's page size and cursor, as asked (`campaign`: of that campaign's party; `None`: of
/// every character's).
pub(crate) fn party_page(
    params: &ListParams,
    campaign: Option<Uuid>,
) -> Result<(usize, Option<ListCursor>), ApiError> {
    let cursor = params
        .cursor
        .as_deref()
        .map(|text| ListCursor::decode(text, campaign))
        .transpose()?;
    Ok((params.limit.unwrap_or(DEFAULT_PAGE_SIZE), cursor))
}

/// A page of the party as answered.
pub(crate) fn party_body(page: SnapshotList) -> PartyBody {
    PartyBody {
        characters: page
            .snapshots
            .into_iter()
            .map(|s| PartyMember {
                campaign_id: s.campaign_id.unwrap_or(DEFAULT_CAMPAIGN),
                rules: RulesView::of(s.rules.as_ref()),
                last_event_type: s.last_event_type,
                last_outcome: s.last_outcome,
                id: s.id,
                character_name: s.character_name,
                hp: s.hit_points,
                version: s.version,
                last_hp_change: s.last_hp_change,
                last_note: s.last_note,
                last_recorded_at: s.last_recorded_at,
            })
            .collect(),
        next_cursor: page.next.map(|c| c.encode()),
    }
}

/// `GET /events`: a page of the default campaign's feed (the one feed before campaigns, its
/// positions unchanged); with `wait`, held until an event arrives.
pub(crate) async fn read_feed(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    Params(params): Params<FeedParams>,
) -> Result<Response, ApiError> {
    feed_page(&api, DEFAULT_CAMPAIGN, params, &headers).await
}

/// The campaign's feed head as an entity tag, on a forward page that reaches the head: its
/// holder has every entry up to the head, so while the head is the same, a read after it has
/// nothing new (304).
fn head_tag(head: Position) -> String {
    format!("\"{}\"", head.encode())
}

/// Whether an `If-None-Match` (a list of tags, weak or strong, or `*`) names `tag`.
fn none_match(condition: &str, tag: &str) -> bool {
    condition
        .split(',')
        .map(str::trim)
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == tag)
}

/// 304: nothing after the client's position, whose head it named; no body.
fn not_modified(head: Position, waited: Option<Waited>) -> Response {
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    if let Ok(tag) = HeaderValue::from_str(&head_tag(head)) {
        response.headers_mut().insert(ETAG, tag);
    }
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.extensions_mut().insert(NotModified);
    if let Some(waited) = waited {
        response.extensions_mut().insert(waited);
    }
    response
}

/// A page of a campaign's feed. A forward read after the head, with `If-None-Match` naming it
/// (the `ETag` of the answer that reached it), is a 304 while nothing was added: one read of
/// the head, no entries read (after the wait, with `wait`).
pub(crate) async fn feed_page(
    api: &Api,
    campaign: Uuid,
    params: FeedParams,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let feed = api.feed.as_ref().ok_or(ApiError::NoFeedTable)?;
    let direction = params.direction.unwrap_or_default();
    let wait = params.wait.unwrap_or(0);
    if wait > MAX_WAIT_SECONDS {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidWait,
            ErrorCode::InvalidWait.expectation(),
        ));
    }
    if wait > 0 && direction == Direction::Backward {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidWait,
            "wait is for reading forward: a backward read has nothing newer to wait for",
        ));
    }
    // Forward reads only: a backward page has no tag.
    let condition = (direction == Direction::Forward)
        .then(|| {
            let lines: Vec<&str> = headers
                .get_all(IF_NONE_MATCH)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            (!lines.is_empty()).then(|| lines.join(","))
        })
        .flatten();
    let after = params.after.unwrap_or_default();
    if let Some(condition) = condition.as_deref().filter(|_| wait == 0) {
        // Nothing after `after`, and the client holds the answer that said so: one read.
        let head = feed.head(campaign).await?;
        if head == after && none_match(condition, &head_tag(head)) {
            return Ok(not_modified(head, None));
        }
    }
    let page = feed
        .read(FeedRead {
            campaign,
            after: params.after,
            direction,
            limit: params.limit.unwrap_or(DEFAULT_PAGE_SIZE),
            // Where waiting holds a Lambda, the process may wait less than asked.
            wait: Duration::from_secs(wait.min(api.max_wait_seconds)),
        })
        .await?;
    let waited = page.waited.then_some(Waited {
        answered: !page.entries.is_empty(),
    });
    let head = page.head;
    if page.entries.is_empty()
        && head == after
        && condition
            .as_deref()
            .is_some_and(|c| none_match(c, &head_tag(head)))
    {
        return Ok(not_modified(head, waited));
    }
    // A forward page that reaches the head holds everything up to it: tagged with it. A page
    // cut short (its limit, its bytes) is not: the next read goes on from its `next`.
    let complete = direction == Direction::Forward && page.next == head;
    let mut response = Json(FeedBody {
        events: page
            .entries
            .into_iter()
            .map(|e| FeedEvent {
                position: e.position.encode(),
                id: e.stream,
                event: e.event,
            })
            .collect(),
        next: page.next.encode(),
    })
    .into_response();
    if let Some(waited) = waited {
        response.extensions_mut().insert(waited);
    }
    if complete {
        if let Ok(tag) = HeaderValue::from_str(&head_tag(head)) {
            response.headers_mut().insert(ETAG, tag);
        }
    }
    // The client asks again with the tag itself: no cache should answer for the server.
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `GET /openapi.json`: the API's contract, as checked in.
pub(crate) async fn openapi(
    State(api): State<Arc<Api>>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Response, ApiError> {
    let document = api.document.ok_or(ApiError::NoDocument)?;
    Ok(([(CONTENT_TYPE, "application/json")], document).into_response())
}

/// A read's parameters as the store takes them: a cursor continues a read, so it excludes
/// `from_version` and a different `direction`.
fn read_request(stream: Uuid, params: ReadParams) -> Result<ReadRequest, ApiError> {
    let limit = params.limit.unwrap_or(DEFAULT_PAGE_SIZE);
    let Some(cursor) = params.cursor else {
        return Ok(ReadRequest {
            from_version: params.from_version,
            direction: params.direction.unwrap_or_default(),
            limit,
        });
    };
    let cursor = Cursor::decode(&cursor, stream)?;
    if params.from_version.is_some() {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidParameter,
            "give either cursor or from_version: the cursor says where to continue",
        ));
    }
    if params.direction.is_some_and(|d| d != cursor.direction) {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidParameter,
            "direction differs from the cursor's: drop it or start a new read",
        ));
    }
    Ok(ReadRequest::continuing(cursor, limit))
}

/// 201 for events written now, 200 for a replay of events written before.
pub(crate) fn appended_response(stream: Uuid, appended: Appended) -> Response {
    let status = if appended.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let state = appended.events.last().and_then(|e| {
        let sheet = e.state.as_ref()?;
        Some(StateBody::of_sheet(&e.character_name, e.version, sheet))
    });
    let written = Written {
        events: appended.events.len(),
        replayed: appended.replayed,
    };
    let body = AppendedBody {
        id: stream,
        events: appended.events,
        state,
    };
    let mut response = (status, Json(body)).into_response();
    response.extensions_mut().insert(written);
    response
}
