//! Errors, in the kinds a caller acts on: the caller's mistake, a missing stream, a version
//! conflict, and infrastructure. The HTTP layer (`hitpoints-http`) maps them to statuses in one place.

use uuid::Uuid;

use crate::domain::{ExpectedVersion, InvalidInput, Version};

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

/// The stream is not at the version the writer expected, or the request's event ids were
/// only partly stored already. Nothing was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("version conflict on stream {stream}: expected {expected}, stream is at {}{}",
    current.map_or("no version (it does not exist)".to_owned(), |v| v.to_string()),
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
