//! Errors, in the kinds a caller acts on: the caller's mistake, a missing stream, a version
//! conflict, and infrastructure. The HTTP layer maps them to statuses in one place (`api::error`).

use uuid::Uuid;

use crate::domain::{ExpectedVersion, Version};

/// Everything the store can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    #[error("stream {0} has no events")]
    NotFound(Uuid),
    #[error(transparent)]
    Conflict(#[from] VersionConflict),
    #[error(transparent)]
    Infrastructure(#[from] InfraError),
}

/// The caller's mistake: the request can never succeed as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidInput {
    #[error("an append needs at least one event")]
    NoEvents,
    #[error("{count} events in one append; at most {max} are allowed")]
    TooManyEvents { count: usize, max: usize },
    #[error("event {index}: character_name is empty")]
    EmptyName { index: usize },
    #[error("event {index}: character_name has {chars} characters; at most {max} are allowed")]
    NameTooLong {
        index: usize,
        chars: usize,
        max: usize,
    },
    #[error("event {index}: note is empty; say what caused the change")]
    EmptyNote { index: usize },
    #[error("event {index}: note has {chars} characters; at most {max} are allowed")]
    NoteTooLong {
        index: usize,
        chars: usize,
        max: usize,
    },
    #[error("event {index}: hp_change {value} is outside the 32-bit signed range")]
    HpChangeOutOfRange { index: usize, value: i64 },
    #[error("event {index}: the stored item would take {bytes} bytes; DynamoDB allows {max}")]
    EventTooLarge {
        index: usize,
        bytes: usize,
        max: usize,
    },
    #[error("the events would take {bytes} bytes; one DynamoDB transaction allows {max}")]
    BatchTooLarge { bytes: usize, max: usize },
    #[error("event {index}: event_id {event_id} appears earlier in the same append")]
    DuplicateEventId { index: usize, event_id: Uuid },
    #[error("the cursor is not valid for this stream: {reason}")]
    BadCursor { reason: &'static str },
    #[error("expected_version {value} is beyond the highest version a stream can have ({max})")]
    ExpectedVersionOutOfRange { value: u64, max: u64 },
    #[error("limit must be between 1 and {max}, got {value}")]
    BadLimit { value: usize, max: usize },
}

/// The stream is not at the version the writer expected, or the request's event ids were
/// only partly stored already. Nothing was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("version conflict on stream {stream}: expected {expected}, stream is at {}{}",
    current.map_or("no version (it does not exist)".to_string(), |v| v.to_string()),
    if *partial_replay { "; some of the event ids are stored already, some not" } else { "" })]
pub struct VersionConflict {
    pub stream: Uuid,
    pub expected: ExpectedVersion,
    /// The stream's last version when the conflict was seen; `None` when it has no events.
    pub current: Option<Version>,
    /// Some, not all, of the request's event ids were found stored where the append would go.
    pub partial_replay: bool,
}

/// What went wrong below the store, with the SDK's error kept whole.
#[derive(Debug, thiserror::Error)]
pub enum InfraError {
    #[error("DynamoDB throttled the request")]
    Throttled(#[source] BoxError),
    #[error("DynamoDB could not be reached")]
    Unavailable(#[source] BoxError),
    #[error("DynamoDB refused the request")]
    Service(#[source] BoxError),
    #[error("stored item {stream}/{version:?} cannot be read")]
    CorruptItem {
        stream: String,
        version: Option<String>,
        #[source]
        source: BoxError,
    },
}

/// A boxed source error (the SDK's own error types, kept for their kind and retry decision).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

impl InfraError {
    /// Whether retrying later can succeed: throttling and unreachable endpoints.
    pub fn is_transient(&self) -> bool {
        matches!(self, InfraError::Throttled(_) | InfraError::Unavailable(_))
    }
}
