//! Errors, in the kinds a caller acts on: the caller's mistake (an event, or a read's cursor,
//! limit, time or position), a missing stream, a version conflict, and infrastructure. The HTTP
//! layer (`hitpoints-http`) maps them to statuses in one place.

use uuid::Uuid;

use crate::domain::{ExpectedVersion, InvalidInput, Version};
use crate::feed::position::BadPosition;
use crate::store::cursor::BadCursor;
use crate::store::instant::BadInstant;
use crate::store::limits::BadLimit;

/// Everything the store can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An event or an expectation the caller sent.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// A read's cursor.
    #[error(transparent)]
    Cursor(#[from] BadCursor),
    /// A read's page size.
    #[error(transparent)]
    Limit(#[from] BadLimit),
    /// A read's time.
    #[error(transparent)]
    Instant(#[from] BadInstant),
    /// A read's position in the feed.
    #[error(transparent)]
    Position(#[from] BadPosition),
    #[error("stream {0} has no events")]
    NotFound(Uuid),
    /// A read as of a version the stream has not reached.
    #[error("stream {stream} has no state at version {version} (its last version is {last})")]
    VersionNotFound {
        stream: Uuid,
        version: Version,
        last: Version,
    },
    /// A read as of a time before the stream's first event.
    #[error("stream {stream} has no event recorded at or before that time")]
    NoEventAsOf { stream: Uuid },
    #[error(transparent)]
    Conflict(#[from] VersionConflict),
    /// A command the rules refuse (or, for an undo, the stream's history).
    #[error(transparent)]
    Refused(#[from] crate::rules::Refusal),
    /// A campaign that does not exist, or a character already in it.
    #[error(transparent)]
    Campaign(#[from] crate::campaign::CampaignError),
    #[error(transparent)]
    Infrastructure(#[from] InfraError),
}

/// The stream is not at the version the writer expected, or the request's event ids are
/// stored already with other content. Nothing was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("version conflict on stream {stream}: expected {expected}, stream is at {}{}",
    current.map_or("no version (it does not exist)".to_owned(), |v| v.to_string()),
    match cause {
        ConflictCause::Version => "",
        ConflictCause::PartialReplay => "; some of the event ids are stored already, some not",
        ConflictCause::EventIdsReused => "; every event id is stored already, with other content",
    })]
pub struct VersionConflict {
    pub stream: Uuid,
    pub expected: ExpectedVersion,
    /// The stream's last version when the conflict was seen; `None` when it has no events.
    pub current: Option<Version>,
    pub cause: ConflictCause,
}

/// Why an append conflicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictCause {
    /// The stream is not at the expected version (or an `any` append lost its races).
    Version,
    /// Some, not all, of the request's event ids are stored where the append would go.
    PartialReplay,
    /// Every one of the request's event ids is stored where the append would go, with other
    /// content: the ids were reused for other events.
    EventIdsReused,
}

/// What went wrong below the store. Each kind says whether a retry can cure it; none keeps
/// DynamoDB's message text, which quotes the request (names, notes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InfraError {
    /// DynamoDB throttled the request. Transient.
    #[error("DynamoDB throttled the request ({0})")]
    Throttled(SdkFailure),
    /// DynamoDB could not be reached, timed out or answered with a server error. Transient.
    #[error("DynamoDB could not be reached or failed ({0})")]
    Unavailable(SdkFailure),
    /// Other transactions kept writing the same items at the same moment, through every retry
    /// in the request. Transient.
    #[error("other transactions kept writing the same items ({0})")]
    Contended(SdkFailure),
    /// DynamoDB refused the request itself (invalid request, missing table, access denied):
    /// the same request will fail again. Permanent.
    #[error("DynamoDB refused the request ({0})")]
    Rejected(SdkFailure),
    /// A stored item cannot be read as what it should be. Permanent.
    #[error("stored item {stream}/{} cannot be read: {reason}", version.as_deref().unwrap_or("?"))]
    CorruptItem {
        stream: String,
        version: Option<String>,
        /// Which attribute is missing or of the wrong type (no attribute values).
        reason: String,
    },
}

impl InfraError {
    /// A stored item that cannot be read (or written) as it should be: the one place this
    /// kind is made, so every one names its item the same way and quotes no value.
    pub fn corrupt(
        key: impl std::fmt::Display,
        version: Option<String>,
        reason: impl Into<String>,
    ) -> InfraError {
        InfraError::CorruptItem {
            stream: key.to_string(),
            version,
            reason: reason.into(),
        }
    }

    /// Whether retrying later can succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            InfraError::Throttled(_) | InfraError::Unavailable(_) | InfraError::Contended(_)
        )
    }

    /// The kind, for logs.
    pub fn kind_name(&self) -> &'static str {
        match self {
            InfraError::Throttled(_) => "throttled",
            InfraError::Unavailable(_) => "unavailable",
            InfraError::Contended(_) => "contended",
            InfraError::Rejected(_) => "rejected",
            InfraError::CorruptItem { .. } => "corrupt_item",
        }
    }

    /// The failed DynamoDB call, when there was one.
    pub fn failure(&self) -> Option<&SdkFailure> {
        match self {
            InfraError::Throttled(f)
            | InfraError::Unavailable(f)
            | InfraError::Contended(f)
            | InfraError::Rejected(f) => Some(f),
            InfraError::CorruptItem { .. } => None,
        }
    }
}

/// A failed DynamoDB call as far as it can be told without DynamoDB's message text: the
/// operation, the error code, the HTTP status and the request id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SdkFailure {
    pub operation: &'static str,
    /// DynamoDB's error code (`ValidationException`, …), or what kept the call from an answer
    /// (`dispatch failure`, `timeout`).
    pub code: String,
    pub status: Option<u16>,
    pub request_id: Option<String>,
}

impl std::fmt::Display for SdkFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.operation, self.code)?;
        if let Some(status) = self.status {
            write!(f, ", HTTP {status}")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, ", request id {id}")?;
        }
        Ok(())
    }
}
