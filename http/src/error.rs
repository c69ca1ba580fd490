//! The one place where errors become HTTP responses.

use axum::http::header::{HeaderValue, ALLOW, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hitpoints::campaign::CampaignError;
use hitpoints::error::ConflictCause;
use hitpoints::feed::BadPosition;
use hitpoints::rules::Refusal;
use hitpoints::store::{BadCursor, BadInstant, BadLimit};
use hitpoints::{Error, InfraError, InvalidInput};

use crate::wire::{ConflictBody, ErrorBody, ErrorCode};

/// Seconds a client is told to wait before retrying after a 503.
const RETRY_AFTER_SECONDS: u64 = 1;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("no route for {0}")]
    RouteNotFound(String),
    #[error("{method} is not allowed here; use {allow}")]
    MethodNotAllowed { method: Method, allow: String },
    #[error("{message}")]
    BadRequest { code: ErrorCode, message: String },
    #[error("the request body is over {max} bytes, the most accepted")]
    BodyTooLarge { max: usize },
    /// The local run's server: a body that did not arrive in time.
    #[error("the request body did not arrive in time")]
    RequestTimeout,
    /// The local run's server: every connection slot is taken.
    #[error("the server has as many connections as it takes; retry after {RETRY_AFTER_SECONDS} s")]
    ServerBusy,
    /// A process built without the snapshot table was asked for the party.
    #[error("this server has no snapshot table to list the characters from")]
    NoSnapshotTable,
    /// A process built without the feed table was asked for the feed.
    #[error("this server has no feed table to read the feed from")]
    NoFeedTable,
    /// A process built without the campaigns table was asked for a campaign.
    #[error("this server has no campaigns table to read the campaigns from")]
    NoCampaignTable,
    /// A process built without the API's document was asked for it.
    #[error("this server was built without the API's document")]
    NoDocument,
    /// No verified identity: a sign-in is needed.
    #[error("sign in first: this request needs a verified identity (a bearer token)")]
    Unauthenticated,
    /// A member of the campaign without the right to this.
    #[error("your role in this campaign does not allow this")]
    Forbidden,
    /// A process built without the memberships table was asked who belongs where.
    #[error("this server has no memberships table to read roles from")]
    NoMembersTable,
    /// A character assigned to a player that is not in the campaign.
    #[error("character {0} is not in this campaign")]
    NotInCampaign(uuid::Uuid),
    /// A member route naming someone who is not a player of the campaign.
    #[error("this campaign has no player with that sub")]
    MemberNotFound,
    #[error(transparent)]
    Store(#[from] Error),
}

/// The caller's mistakes the core finds (an event, or a read's cursor, limit, time or
/// position) are the store's errors too.
macro_rules! from_core {
    ($($mistake:ty),*) => {$(
        impl From<$mistake> for ApiError {
            fn from(invalid: $mistake) -> ApiError {
                ApiError::Store(invalid.into())
            }
        }
    )*};
}

from_core!(
    InvalidInput,
    BadCursor,
    BadLimit,
    BadInstant,
    BadPosition,
    Refusal,
    CampaignError
);

impl ApiError {
    pub fn bad_request(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            code,
            message: message.into(),
        }
    }

    /// The error's code.
    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::RouteNotFound(_) => ErrorCode::RouteNotFound,
            ApiError::MethodNotAllowed { .. } => ErrorCode::MethodNotAllowed,
            ApiError::BadRequest { code, .. } => *code,
            ApiError::BodyTooLarge { .. } => ErrorCode::BodyTooLarge,
            ApiError::RequestTimeout => ErrorCode::RequestTimeout,
            ApiError::ServerBusy => ErrorCode::ServerBusy,
            ApiError::Store(Error::NotFound(_)) => ErrorCode::StreamNotFound,
            ApiError::Store(Error::VersionNotFound { .. }) => ErrorCode::VersionNotFound,
            ApiError::Store(Error::NoEventAsOf { .. }) => ErrorCode::NoEventAsOf,
            ApiError::NoSnapshotTable
            | ApiError::NoFeedTable
            | ApiError::NoCampaignTable
            | ApiError::NoMembersTable
            | ApiError::NoDocument => ErrorCode::StoreError,
            ApiError::Unauthenticated => ErrorCode::Unauthenticated,
            ApiError::Forbidden => ErrorCode::Forbidden,
            ApiError::MemberNotFound => ErrorCode::MemberNotFound,
            ApiError::NotInCampaign(_) => ErrorCode::NotInCampaign,
            ApiError::Store(Error::Conflict(_)) => ErrorCode::VersionConflict,
            ApiError::Store(Error::Invalid(invalid)) => invalid_code(invalid),
            ApiError::Store(Error::Cursor(_)) => ErrorCode::InvalidCursor,
            ApiError::Store(Error::Instant(_)) => ErrorCode::InvalidAsOf,
            ApiError::Store(Error::Position(_)) => ErrorCode::InvalidPosition,
            ApiError::Store(Error::Limit(_)) => ErrorCode::InvalidLimit,
            ApiError::Store(Error::Refused(refusal)) => refusal_code(refusal),
            ApiError::Store(Error::Campaign(campaign)) => match campaign {
                CampaignError::NotFound(_) => ErrorCode::CampaignNotFound,
                CampaignError::Unknown(_) => ErrorCode::UnknownCampaign,
                CampaignError::Empty { .. }
                | CampaignError::TooLong { .. }
                | CampaignError::NoMembers => ErrorCode::InvalidCampaign,
            },
            ApiError::Store(Error::Infrastructure(infra)) => match infra {
                InfraError::Throttled(_) => ErrorCode::Throttled,
                InfraError::Unavailable(_) => ErrorCode::StoreUnreachable,
                InfraError::Contended(_) => ErrorCode::TransactionConflict,
                InfraError::Rejected(_) => ErrorCode::StoreError,
                InfraError::CorruptItem { .. } => ErrorCode::CorruptItem,
            },
        }
    }
}

/// The code of a command the rules refuse.
fn refusal_code(refusal: &Refusal) -> ErrorCode {
    match refusal {
        Refusal::CharacterDead => ErrorCode::CharacterDead,
        Refusal::NotDying => ErrorCode::NotDying,
        Refusal::NotDead => ErrorCode::NotDead,
        Refusal::RestNeedsHp => ErrorCode::RestNeedsHp,
        Refusal::NoHitDice(_) => ErrorCode::NoHitDice,
        Refusal::InvalidRoll(_) => ErrorCode::InvalidRoll,
        Refusal::InvalidAmount(_) => ErrorCode::InvalidAmount,
        Refusal::RulesNotEnabled => ErrorCode::RulesNotEnabled,
        Refusal::RulesEnabledAlready => ErrorCode::RulesEnabledAlready,
        Refusal::NoMaximum => ErrorCode::NoMaximum,
        Refusal::UndoNotLatest => ErrorCode::UndoNotLatest,
        Refusal::UndoDeath => ErrorCode::UndoDeath,
        Refusal::UndoRules => ErrorCode::UndoRules,
        Refusal::UndoMove => ErrorCode::UndoMove,
        Refusal::UnknownDamageType(_) => ErrorCode::UnknownDamageType,
        Refusal::TooManyTargets(_) => ErrorCode::TooManyTargets,
        Refusal::InvalidHitDice(_) => ErrorCode::InvalidHitDice,
    }
}

impl ErrorCode {
    /// The status every error of this code answers with.
    pub fn status(self) -> StatusCode {
        use ErrorCode::{
            BodyTooLarge, CampaignNotFound, CharacterDead, ConflictingParameters, CorruptItem,
            EventTooLarge, EventsTooLarge, Forbidden, InvalidAmount, InvalidAsOf, InvalidAtVersion,
            InvalidBody, InvalidCampaign, InvalidConsistent, InvalidCursor, InvalidDirection,
            InvalidEvent, InvalidExpectedVersion, InvalidFromVersion, InvalidHitDice, InvalidId,
            InvalidLimit, InvalidParameter, InvalidPosition, InvalidRoll, InvalidWait,
            MalformedJson, MemberNotFound, MethodNotAllowed, MissingBody, NoEventAsOf, NoHitDice,
            NoMaximum, NotDead, NotDying, NotInCampaign, RequestTimeout, RestNeedsHp,
            RouteNotFound, RulesEnabledAlready, RulesNotEnabled, ServerBusy, StoreError,
            StoreUnreachable, StreamNotFound, Throttled, TooManyEvents, TooManyTargets,
            TransactionConflict, Unauthenticated, UndoDeath, UndoMove, UndoNotLatest, UndoRules,
            UnknownCampaign, UnknownDamageType, UnknownParameter, VersionConflict, VersionNotFound,
        };
        match self {
            MissingBody
            | MalformedJson
            | InvalidBody
            | InvalidId
            | InvalidExpectedVersion
            | InvalidLimit
            | InvalidDirection
            | InvalidFromVersion
            | InvalidCursor
            | InvalidConsistent
            | InvalidAtVersion
            | InvalidAsOf
            | InvalidPosition
            | InvalidWait
            | ConflictingParameters
            | InvalidParameter
            | UnknownParameter => StatusCode::BAD_REQUEST,
            RouteNotFound | StreamNotFound | CampaignNotFound | MemberNotFound
            | VersionNotFound | NoEventAsOf => StatusCode::NOT_FOUND,
            Unauthenticated => StatusCode::UNAUTHORIZED,
            Forbidden => StatusCode::FORBIDDEN,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            VersionConflict | UndoNotLatest | UndoDeath => StatusCode::CONFLICT,
            BodyTooLarge | TooManyEvents | EventTooLarge | EventsTooLarge => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            InvalidEvent | InvalidCampaign | UnknownCampaign | InvalidAmount | InvalidRoll
            | UnknownDamageType | InvalidHitDice | TooManyTargets | RulesNotEnabled
            | NotInCampaign | RulesEnabledAlready | CharacterDead | NotDying | NotDead
            | RestNeedsHp | NoHitDice | NoMaximum | UndoRules | UndoMove => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            StoreError | CorruptItem => StatusCode::INTERNAL_SERVER_ERROR,
            Throttled | StoreUnreachable | TransactionConflict | ServerBusy => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }
}

fn invalid_code(invalid: &InvalidInput) -> ErrorCode {
    use InvalidInput::{
        BatchTooLarge, DuplicateEventId, EmptyName, EmptyNote, EventTooLarge,
        ExpectedVersionOutOfRange, HpChangeOutOfRange, NameTooLong, NoEvents, NoteTooLong,
        ReservedNote, TooManyEvents,
    };
    match invalid {
        TooManyEvents { .. } => ErrorCode::TooManyEvents,
        EventTooLarge { .. } => ErrorCode::EventTooLarge,
        BatchTooLarge { .. } => ErrorCode::EventsTooLarge,
        ExpectedVersionOutOfRange { .. } => ErrorCode::InvalidExpectedVersion,
        NoEvents
        | EmptyName { .. }
        | NameTooLong { .. }
        | EmptyNote { .. }
        | NoteTooLong { .. }
        | HpChangeOutOfRange { .. }
        | ReservedNote { .. }
        | DuplicateEventId { .. } => ErrorCode::InvalidEvent,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = self.code();
        let mut body = ErrorBody {
            error: code,
            message: self.to_string(),
            conflict: None,
            retry_after_seconds: None,
        };
        match &self {
            ApiError::Store(Error::Conflict(conflict)) => {
                body.conflict = Some(ConflictBody {
                    expected_version: conflict.expected,
                    current_version: conflict.current,
                    partial_replay: conflict.cause == ConflictCause::PartialReplay,
                    event_ids_reused: conflict.cause == ConflictCause::EventIdsReused,
                });
            }
            // The store logged the failure with what it concerned; the answer says the kind.
            ApiError::ServerBusy => body.retry_after_seconds = Some(RETRY_AFTER_SECONDS),
            ApiError::Store(Error::Infrastructure(infra)) if infra.is_transient() => {
                body.message = format!("{infra}; retry after {RETRY_AFTER_SECONDS} s");
                body.retry_after_seconds = Some(RETRY_AFTER_SECONDS);
            }
            _ => {}
        }
        let mut response = (code.status(), Json(body)).into_response();
        // For the metrics: what the request came to.
        response.extensions_mut().insert(code);
        match &self {
            ApiError::MethodNotAllowed { allow, .. } => {
                if let Ok(allow) = HeaderValue::from_str(allow) {
                    response.headers_mut().insert(ALLOW, allow);
                }
            }
            ApiError::ServerBusy => {
                response
                    .headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
            }
            ApiError::Unauthenticated => {
                response
                    .headers_mut()
                    .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::Store(Error::Infrastructure(infra)) if infra.is_transient() => {
                response
                    .headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
            }
            _ => {}
        }
        response
    }
}
