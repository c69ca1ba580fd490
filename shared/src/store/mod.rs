//! The event store over DynamoDB: the events table's item, append with optimistic concurrency,
//! paged reads, history by version and by time, cursors and Scans. It knows nothing of the read
//! models built from it.

mod append;
mod command;
pub mod cursor;
mod history;
pub mod instant;
pub mod item;
pub mod limits;
mod moving;
mod read;
mod scan;
pub(crate) mod sdk;

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use uuid::Uuid;

pub use append::{Appended, TRANSACTION_CONFLICT_ATTEMPTS};
pub use command::{target_event_id, CommandRequest, Commanded, Target};
pub use cursor::{BadCursor, Cursor, CURSOR_PREFIX};
pub use instant::{BadInstant, Instant};
pub use limits::{
    item_bytes, page_limit, validate_events, validate_events_within, BadLimit, PageBytes,
    MAX_HOLES_BYTES, MAX_ITEM_BYTES, MAX_PAGE_BYTES, MAX_PAGE_SIZE, MAX_TRANSACTION_ACTIONS,
    MAX_TRANSACTION_BYTES, TYPED_ITEM_OVERHEAD_BYTES,
};
pub use moving::MOVED;
pub use read::{Page, ReadRequest};
pub use scan::{
    scan, scan_segments, scan_streams, ScanKey, ScanPage, Segment, StreamSummary, Unreadable,
};
pub use sdk::https_client;

use crate::error::{Error, InfraError};

/// How an `any` append retries after losing a race: full-jitter exponential backoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnyRetry {
    /// Attempts in all, the first included; past them the append is a version conflict.
    pub attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for AnyRetry {
    fn default() -> Self {
        AnyRetry {
            attempts: 10,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(200),
        }
    }
}

impl AnyRetry {
    fn delay(&self, attempt: u32) -> Duration {
        let ceiling = self
            .base_delay
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.max_delay);
        ceiling.mul_f64(fastrand::f64())
    }
}

/// The event store on one DynamoDB table.
#[derive(Debug, Clone)]
pub struct EventStore {
    client: Client,
    table: String,
    any_retry: AnyRetry,
}

impl EventStore {
    pub fn new(client: Client, table: impl Into<String>) -> EventStore {
        EventStore {
            client,
            table: table.into(),
            any_retry: AnyRetry::default(),
        }
    }

    /// The events table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    pub fn with_any_retry(mut self, any_retry: AnyRetry) -> EventStore {
        self.any_retry = any_retry;
        self
    }
}

/// Logs what a read that failed below the store concerned, and passes the result on.
pub fn logged<T>(action: &str, stream: Uuid, result: Result<T, Error>) -> Result<T, Error> {
    if let Err(Error::Infrastructure(e)) = &result {
        log_failure(action, stream, e, 0, 0);
    }
    result
}

/// Logs a failure below the store once, with what it concerned: never a name, a note or
/// DynamoDB's message text, which quotes the request.
pub(crate) fn log_failure(
    action: &str,
    stream: Uuid,
    error: &InfraError,
    events: usize,
    bytes: usize,
) {
    let failure = error.failure();
    tracing::error!(
        action,
        kind = error.kind_name(),
        transient = error.is_transient(),
        %stream,
        events,
        bytes,
        operation = failure.map_or("", |f| f.operation),
        code = failure.map_or("", |f| f.code.as_str()),
        status = failure.and_then(|f| f.status),
        aws_request_id = failure.and_then(|f| f.request_id.as_deref()),
        "DynamoDB call failed"
    );
}
