//! The API's wire types, each defined once: request bodies and query parameters as they are
//! read, response bodies as they are written, and the error codes.

use hitpoints::domain::{Direction, ExpectedVersion, Instant, NewEvent, RecordedEvent, Version};
use hitpoints::feed::Position;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Events per page when the request does not say.
pub const DEFAULT_PAGE_SIZE: usize = 100;

/// The body of `POST /characters/{id}/events`. (`POST /characters` takes one [`NewEvent`].)
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppendRequest {
    /// Absent or `null`: `"any"`.
    #[serde(default)]
    pub expected_version: Option<ExpectedVersion>,
    pub events: Vec<NewEvent>,
}

/// The query of `GET /characters/{id}/events`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadParams {
    pub from_version: Option<Version>,
    pub limit: Option<usize>,
    pub direction: Option<Direction>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The query of `GET /characters/{id}`: at most one of the three.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CharacterParams {
    pub consistent: Option<bool>,
    /// The character as of this version: the fold of versions 0..=n.
    pub at_version: Option<Version>,
    /// The character as of this instant (RFC 3339).
    pub as_of: Option<Instant>,
}

/// The query of `GET /characters`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    pub limit: Option<usize>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The query of `GET /events`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedParams {
    /// Forward: the events after this position; backward: the events before it.
    pub after: Option<Position>,
    pub limit: Option<usize>,
    /// Seconds to wait for an event when nothing is newer than `after` (forward only).
    pub wait: Option<u64>,
    pub direction: Option<Direction>,
}

/// The query of a route that takes none.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// An append's answer: 201 written now, 200 a replay of events written before.
#[derive(Debug, Serialize)]
pub struct AppendedBody {
    pub id: Uuid,
    pub events: Vec<RecordedEvent>,
}

/// One page of a stream.
#[derive(Debug, Serialize)]
pub struct PageBody {
    pub id: Uuid,
    pub events: Vec<RecordedEvent>,
    /// Where the next page starts; `null` when this page reached the end.
    pub next_cursor: Option<String>,
}

/// Where a character's state came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The snapshot table: one read, possibly behind the events by the projector's delay.
    Snapshot,
    /// The fold of the events table.
    Events,
}

/// A character's state.
#[derive(Debug, Serialize)]
pub struct CharacterBody {
    pub id: Uuid,
    pub character_name: String,
    pub hp: i64,
    pub version: Version,
    pub source: Source,
    /// The version asked for with `at_version` (`version` is lower only where the stream,
    /// written by other code, is missing that version).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_version: Option<Version>,
}

/// One page of the party: `GET /characters`.
#[derive(Debug, Serialize)]
pub struct PartyBody {
    pub characters: Vec<PartyMember>,
    /// Where the next page starts; `null` when this page reached the end.
    pub next_cursor: Option<String>,
}

/// A character in the party, as its snapshot has it.
#[derive(Debug, Serialize)]
pub struct PartyMember {
    /// The character's id (a uuid for every character hitpoints wrote).
    pub id: String,
    pub character_name: String,
    pub hp: i64,
    pub version: Version,
    /// The latest event's HP change, note and time; `null` on a snapshot written before they
    /// were kept, until a rebuild.
    pub last_hp_change: Option<i64>,
    pub last_note: Option<String>,
    pub last_recorded_at: Option<String>,
}

/// One page of the global feed.
#[derive(Debug, Serialize)]
pub struct FeedBody {
    pub events: Vec<FeedEvent>,
    /// What to pass as `after` to continue: the last event's position, or `after` itself when
    /// nothing is new.
    pub next: String,
}

/// An event in the feed: its position, its character, and the event as a stream has it.
#[derive(Debug, Serialize)]
pub struct FeedEvent {
    pub position: String,
    /// The character's id.
    pub id: Uuid,
    #[serde(flatten)]
    pub event: RecordedEvent,
}

/// Every error: `{"error", "message"}`, plus what the kind adds.
#[derive(Debug, Serialize)]
pub struct ErrorBody {
    pub error: ErrorCode,
    pub message: String,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub conflict: Option<ConflictBody>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
}

/// What a 409 adds.
#[derive(Debug, Serialize)]
pub struct ConflictBody {
    /// The request's `expected_version` (`"any"` when it gave none).
    pub expected_version: ExpectedVersion,
    /// The stream's last version when the conflict was seen; `null`: the stream has no events.
    pub current_version: Option<Version>,
    /// Some of the request's event ids are stored already where it would write, some not.
    pub partial_replay: bool,
    /// Every one of the request's event ids is stored already where it would write, but with
    /// other content: the ids were reused for other events.
    pub event_ids_reused: bool,
}

/// The `error` of an error body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    // 400
    MissingBody,
    MalformedJson,
    InvalidBody,
    InvalidId,
    InvalidExpectedVersion,
    InvalidLimit,
    InvalidDirection,
    InvalidFromVersion,
    InvalidCursor,
    InvalidConsistent,
    InvalidAtVersion,
    InvalidAsOf,
    InvalidPosition,
    InvalidWait,
    ConflictingParameters,
    InvalidParameter,
    UnknownParameter,
    // 404, 405, 408
    RouteNotFound,
    StreamNotFound,
    VersionNotFound,
    NoEventAsOf,
    MethodNotAllowed,
    RequestTimeout,
    // 409
    VersionConflict,
    // 413
    BodyTooLarge,
    TooManyEvents,
    EventTooLarge,
    EventsTooLarge,
    // 422
    InvalidEvent,
    // 500: permanent, a retry fails the same way
    StoreError,
    CorruptItem,
    // 503: a retry can succeed
    Throttled,
    StoreUnreachable,
    TransactionConflict,
    ServerBusy,
}

impl ErrorCode {
    /// The code of a query parameter or body field that does not parse, by its name.
    pub(crate) fn for_field(field: &str) -> Option<ErrorCode> {
        Some(match field {
            "expected_version" => ErrorCode::InvalidExpectedVersion,
            "limit" => ErrorCode::InvalidLimit,
            "direction" => ErrorCode::InvalidDirection,
            "from_version" => ErrorCode::InvalidFromVersion,
            "cursor" => ErrorCode::InvalidCursor,
            "consistent" => ErrorCode::InvalidConsistent,
            "at_version" => ErrorCode::InvalidAtVersion,
            "as_of" => ErrorCode::InvalidAsOf,
            "after" => ErrorCode::InvalidPosition,
            "wait" => ErrorCode::InvalidWait,
            _ => return None,
        })
    }

    /// What a field must be, for the message of its code.
    pub(crate) fn expectation(self) -> &'static str {
        match self {
            ErrorCode::InvalidExpectedVersion => {
                "expected_version must be \"any\", \"no_stream\" or a version number (0 or more)"
            }
            ErrorCode::InvalidLimit => "limit must be a whole number from 1 to 1000",
            ErrorCode::InvalidDirection => "direction must be forward or backward",
            ErrorCode::InvalidFromVersion => "from_version must be a version number (0 or more)",
            ErrorCode::InvalidConsistent => "consistent must be true or false",
            ErrorCode::InvalidAtVersion => "at_version must be a version number (0 or more)",
            ErrorCode::InvalidAsOf => "as_of must be an RFC 3339 time such as 2026-11-29T20:15:00Z",
            _ => "the request is not valid",
        }
    }
}
