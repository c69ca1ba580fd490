//! The event store over DynamoDB: append with optimistic concurrency, paged reads, the fold.

mod cursor;
mod errors;
pub mod feed;
mod history;
pub mod item;
mod scan;
mod snapshots;

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use aws_sdk_dynamodb::primitives::{DateTime, DateTimeFormat};
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Put, TransactWriteItem};
use aws_sdk_dynamodb::Client;
use uuid::Uuid;

pub use cursor::{Cursor, ListCursor};
use errors::Cancelled;
pub(crate) use errors::{decode_item, infra};
pub use feed::{FeedEntry, FeedPage, FeedRead, FeedStore};
pub use scan::{ScanKey, ScanPage, Segment, SnapshotList};
pub use snapshots::{Snapshot, SnapshotStore};

use crate::domain::{
    match_stored, next_version, validate_events, validate_expected, CharacterState, Direction,
    ExpectedVersion, InvalidInput, NewEvent, RecordedEvent, StoredMatch, Version,
    MAX_TRANSACTION_ACTIONS,
};
use crate::error::{ConflictCause, Error, InfraError, VersionConflict};
use item::{attr, EventItem};

/// Most events one page of a read may hold.
pub const MAX_PAGE_SIZE: usize = 1000;
/// Most bytes of events one page of a read holds, as JSON. A Lambda response may not exceed
/// 6 MB, and API Gateway's envelope escapes the body a second time: half of that, with room.
pub const MAX_PAGE_BYTES: usize = 2_500_000;
/// Tries of one transaction cancelled because other transactions were writing the same items
/// (`TransactionConflict`), before the append gives up as contended (a 503: try again).
pub const TRANSACTION_CONFLICT_ATTEMPTS: u32 = 5;

/// The HTTP client of every DynamoDB client here: hyper with rustls on ring, trusting the
/// system's roots (`SSL_CERT_FILE` and `SSL_CERT_DIR` as OpenSSL reads them). Ring starts with
/// no per-process entropy collection, where the SDK's default (aws-lc) spends tens of
/// milliseconds of CPU in the first TLS handshake; ring offers no post-quantum key exchange.
pub fn https_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

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

/// What an append did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// The events as stored, in version order.
    pub events: Vec<RecordedEvent>,
    /// True when every event was stored already by an earlier try of the same request:
    /// nothing was written this time.
    pub replayed: bool,
}

/// One page of a read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub events: Vec<RecordedEvent>,
    /// Where the next page starts; `None` when this page reached the end.
    pub next: Option<Cursor>,
}

/// A read of a stream: where from, which way, how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadRequest {
    /// First version to return; `None` is the start (forward) or the end (backward).
    pub from_version: Option<Version>,
    pub direction: Direction,
    pub limit: usize,
}

impl ReadRequest {
    /// The read a cursor continues.
    pub fn continuing(cursor: Cursor, limit: usize) -> ReadRequest {
        ReadRequest {
            from_version: Some(cursor.version),
            direction: cursor.direction,
            limit,
        }
    }
}

/// The event store on one DynamoDB table.
#[derive(Debug, Clone)]
pub struct EventStore {
    client: Client,
    table: String,
    any_retry: AnyRetry,
}

pub(crate) type Item = HashMap<String, AttributeValue>;

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

    /// Appends 1 to 100 events to `stream`, all or nothing.
    ///
    /// A request whose events all carry ids stored already, in the same order and content,
    /// where this append would have put them (under `any`: as the stream's latest events),
    /// is a replay: nothing is written and the stored events come back with `replayed`.
    pub async fn append(
        &self,
        stream: Uuid,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<Appended, Error> {
        validate_expected(expected)?;
        let bytes = validate_events(&events)?;
        let count = events.len();
        let result = self.append_valid(stream, expected, events).await;
        if let Err(Error::Infrastructure(e)) = &result {
            log_failure("append", stream, e, count, bytes);
        }
        result
    }

    async fn append_valid(
        &self,
        stream: Uuid,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<Appended, Error> {
        match expected {
            ExpectedVersion::Any => self.append_any(stream, &events).await,
            ExpectedVersion::NoStream | ExpectedVersion::Exact(_) => {
                let last = expected.last_version();
                match self.write(stream, last, false, &events).await? {
                    Written::Stored(stored) => Ok(Appended {
                        events: stored,
                        replayed: false,
                    }),
                    Written::Conflict => {
                        // Only events with ids can be a replay: look where they would have gone.
                        let found = if events.iter().any(|e| e.event_id.is_some()) {
                            self.read_range(stream, next_version(last), events.len())
                                .await?
                        } else {
                            Vec::new()
                        };
                        let cause = match match_stored(&events, &found) {
                            StoredMatch::Replay => {
                                return Ok(Appended {
                                    events: found,
                                    replayed: true,
                                })
                            }
                            StoredMatch::PartialReplay => ConflictCause::PartialReplay,
                            StoredMatch::IdsReused => ConflictCause::EventIdsReused,
                            StoredMatch::Unrelated => ConflictCause::Version,
                        };
                        let current = self.last_version(stream).await?;
                        Err(conflict(stream, expected, current, cause))
                    }
                }
            }
        }
    }

    async fn append_any(&self, stream: Uuid, events: &[NewEvent]) -> Result<Appended, Error> {
        let any_has_ids = events.iter().any(|e| e.event_id.is_some());
        let mut attempt = 0;
        loop {
            // The latest events: enough to recognise a replay, or just the last version.
            let look = if any_has_ids { events.len() } else { 1 };
            let mut latest = self.latest(stream, look).await?;
            let last = latest.first().map(|e| e.version);
            if any_has_ids {
                latest.reverse();
                match match_stored(events, &latest) {
                    StoredMatch::Replay => {
                        return Ok(Appended {
                            events: latest,
                            replayed: true,
                        })
                    }
                    StoredMatch::PartialReplay => {
                        let cause = ConflictCause::PartialReplay;
                        return Err(conflict(stream, ExpectedVersion::Any, last, cause));
                    }
                    StoredMatch::IdsReused => {
                        let cause = ConflictCause::EventIdsReused;
                        return Err(conflict(stream, ExpectedVersion::Any, last, cause));
                    }
                    StoredMatch::Unrelated => {}
                }
            }
            match self.write(stream, last, true, events).await? {
                Written::Stored(stored) => {
                    return Ok(Appended {
                        events: stored,
                        replayed: false,
                    })
                }
                Written::Conflict => {
                    attempt += 1;
                    if attempt >= self.any_retry.attempts {
                        let current = self.last_version(stream).await?;
                        let cause = ConflictCause::Version;
                        return Err(conflict(stream, ExpectedVersion::Any, current, cause));
                    }
                    tokio::time::sleep(self.any_retry.delay(attempt)).await;
                }
            }
        }
    }

    /// Writes `events` after `last`: a conditional put for a single event starting a stream,
    /// otherwise one transaction whose puts each require their version to be free, plus a
    /// check that version `last` exists. A batch that needs all of a transaction's actions for
    /// its puts confirms version `last` with a consistent read first instead: a version, once
    /// written, exists for ever, so the check can move out of the transaction without letting
    /// an append leave a gap (`last_seen`: the caller has just read it, no need to again). A
    /// lost condition is `Written::Conflict`. A transaction cancelled because another was
    /// writing the same items is tried again, a bounded number of times.
    async fn write(
        &self,
        stream: Uuid,
        last: Option<Version>,
        last_seen: bool,
        events: &[NewEvent],
    ) -> Result<Written, Error> {
        let recorded_at = now();
        let first = next_version(last);
        // No room after a version at the very top (only other code writes one there).
        if last.is_some_and(|l| l.checked_add(events.len() as u64).is_none()) {
            return Ok(Written::Conflict);
        }
        let stored: Vec<RecordedEvent> = events
            .iter()
            .zip(first..)
            .map(|(e, version)| RecordedEvent {
                version,
                character_name: e.character_name.clone(),
                hp_change: e.hp_change,
                note: e.note.clone(),
                event_id: Some(e.event_id.unwrap_or_else(Uuid::new_v4)),
                recorded_at: recorded_at.clone(),
                snapshot: false,
            })
            .collect();
        let items = stored
            .iter()
            .map(|e| serde_dynamo::to_item(EventItem::from_event(stream, e)))
            .collect::<Result<Vec<Item>, _>>()
            .map_err(|e| errors::corrupt(stream, &e))?;

        if let (None, [item]) = (last, items.as_slice()) {
            let put = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item.clone()))
                .condition_expression("attribute_not_exists(#v)")
                .expression_attribute_names("#v", attr::VERSION)
                .send()
                .await;
            return match put {
                Ok(_) => Ok(Written::Stored(stored)),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
                {
                    Ok(Written::Conflict)
                }
                Err(e) => Err(infra("PutItem", e).into()),
            };
        }

        let mut actions = Vec::with_capacity(items.len() + 1);
        if let Some(last) = last {
            if items.len() < MAX_TRANSACTION_ACTIONS {
                let check = ConditionCheck::builder()
                    .table_name(&self.table)
                    .key(attr::ID, AttributeValue::S(stream.to_string()))
                    .key(attr::VERSION, AttributeValue::N(last.to_string()))
                    .condition_expression("attribute_exists(#v)")
                    .expression_attribute_names("#v", attr::VERSION)
                    .build()
                    .map_err(|e| errors::build("TransactWriteItems", e))?;
                actions.push(TransactWriteItem::builder().condition_check(check).build());
            } else if !last_seen && !self.exists(stream, last).await? {
                return Ok(Written::Conflict);
            }
        }
        for item in items {
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(#v)")
                .expression_attribute_names("#v", attr::VERSION)
                .build()
                .map_err(|e| errors::build("TransactWriteItems", e))?;
            actions.push(TransactWriteItem::builder().put(put).build());
        }
        let mut attempt = 0;
        loop {
            let sent = self
                .client
                .transact_write_items()
                .set_transact_items(Some(actions.clone()))
                .send()
                .await;
            let Err(e) = sent else {
                return Ok(Written::Stored(stored));
            };
            let cancelled = errors::cancellation(&e);
            if cancelled == Some(Cancelled::ConditionFailed) {
                return Ok(Written::Conflict);
            }
            if cancelled == Some(Cancelled::TransactionConflict) {
                attempt += 1;
                if attempt < TRANSACTION_CONFLICT_ATTEMPTS {
                    tokio::time::sleep(self.any_retry.delay(attempt)).await;
                    continue;
                }
            }
            let (failure, answered) = errors::sdk_failure("TransactWriteItems", &e);
            let error = match cancelled {
                Some(Cancelled::TransactionConflict) => InfraError::Contended(failure),
                Some(Cancelled::Throttled) => InfraError::Throttled(failure),
                Some(Cancelled::Rejected | Cancelled::ConditionFailed) => {
                    InfraError::Rejected(failure)
                }
                None => errors::classify(failure, answered),
            };
            return Err(error.into());
        }
    }

    /// Whether version `version` of the stream exists: one consistent read.
    async fn exists(&self, stream: Uuid, version: Version) -> Result<bool, Error> {
        let found = self.read_range(stream, version, 1).await?;
        Ok(found.first().is_some_and(|e| e.version == version))
    }

    /// The stream's last version, `None` when it has no events.
    pub async fn last_version(&self, stream: Uuid) -> Result<Option<Version>, Error> {
        Ok(self.latest(stream, 1).await?.first().map(|e| e.version))
    }

    /// The stream's latest `count` events, newest first.
    async fn latest(&self, stream: Uuid, count: usize) -> Result<Vec<RecordedEvent>, Error> {
        self.query(stream, None, Direction::Backward, Some(count))
            .await
    }

    /// Up to `count` events from version `first` on.
    pub async fn read_range(
        &self,
        stream: Uuid,
        first: Version,
        count: usize,
    ) -> Result<Vec<RecordedEvent>, Error> {
        self.query(stream, Some(first), Direction::Forward, Some(count))
            .await
    }

    /// One page of a stream. A stream without events is `Error::NotFound`; a page past either end
    /// of a stream that exists is empty.
    pub async fn read(&self, stream: Uuid, request: ReadRequest) -> Result<Page, Error> {
        logged("read", stream, self.read_page(stream, request).await)
    }

    async fn read_page(&self, stream: Uuid, request: ReadRequest) -> Result<Page, Error> {
        if request.limit == 0 || request.limit > MAX_PAGE_SIZE {
            return Err(InvalidInput::BadLimit {
                value: request.limit,
                max: MAX_PAGE_SIZE,
            }
            .into());
        }
        // One more than asked tells whether another page follows.
        let mut events = self
            .query_within(
                stream,
                request.from_version,
                request.direction,
                Some(request.limit + 1),
                MAX_PAGE_BYTES,
            )
            .await?;
        // A page also stops before the event that would take it over its bytes (never before
        // its first event).
        let mut bytes = 0;
        let fits = events
            .iter()
            .take_while(|e| {
                bytes += e.json_size();
                bytes <= MAX_PAGE_BYTES
            })
            .count()
            .max(1);
        let next = if events.len() > request.limit.min(fits) {
            events.truncate(request.limit.min(fits));
            let following = events.last().map(|e| match request.direction {
                Direction::Forward => e.version.saturating_add(1),
                Direction::Backward => e.version.saturating_sub(1),
            });
            following.map(|version| Cursor {
                stream,
                direction: request.direction,
                version,
            })
        } else {
            None
        };
        if events.is_empty() && self.last_version(stream).await?.is_none() {
            return Err(Error::NotFound(stream));
        }
        Ok(Page { events, next })
    }

    /// Every event of a stream, in version order. A stream without events is `Error::NotFound`.
    pub async fn read_all(&self, stream: Uuid) -> Result<Vec<RecordedEvent>, Error> {
        let events = self.query(stream, None, Direction::Forward, None).await?;
        if events.is_empty() {
            return Err(Error::NotFound(stream));
        }
        Ok(events)
    }

    /// A character's state: the fold of its whole stream.
    pub async fn character(&self, stream: Uuid) -> Result<CharacterState, Error> {
        let events = logged("fold", stream, self.read_all(stream).await)?;
        CharacterState::fold(&events).ok_or(Error::NotFound(stream))
    }

    /// A consistent Query from `from` in `direction`, following `LastEvaluatedKey` across
    /// DynamoDB's 1 MB pages until `want` events are in hand or the stream ends.
    async fn query(
        &self,
        stream: Uuid,
        from: Option<Version>,
        direction: Direction,
        want: Option<usize>,
    ) -> Result<Vec<RecordedEvent>, Error> {
        self.query_within(stream, from, direction, want, usize::MAX)
            .await
    }

    /// [`Self::query`], stopping also once the events in hand exceed `max_bytes` as JSON.
    async fn query_within(
        &self,
        stream: Uuid,
        from: Option<Version>,
        direction: Direction,
        want: Option<usize>,
        max_bytes: usize,
    ) -> Result<Vec<RecordedEvent>, Error> {
        let mut bytes = 0usize;
        let key_condition = match (from, direction) {
            (None, _) => "#id = :id",
            (Some(_), Direction::Forward) => "#id = :id AND #v >= :v",
            (Some(_), Direction::Backward) => "#id = :id AND #v <= :v",
        };
        let mut events = Vec::new();
        let mut start_key = None;
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .key_condition_expression(key_condition)
                .expression_attribute_names("#id", attr::ID)
                .expression_attribute_values(":id", AttributeValue::S(stream.to_string()))
                .scan_index_forward(direction == Direction::Forward)
                .set_exclusive_start_key(start_key.take());
            if let Some(from) = from {
                query = query
                    .expression_attribute_names("#v", attr::VERSION)
                    .expression_attribute_values(":v", AttributeValue::N(from.to_string()));
            }
            if let Some(want) = want {
                let remaining = want.saturating_sub(events.len()).max(1);
                query = query.limit(i32::try_from(remaining).unwrap_or(i32::MAX));
            }
            let output = query.send().await.map_err(|e| infra("Query", e))?;
            for item in output.items.unwrap_or_default() {
                let event = decode_item(item)?.into_event();
                bytes = bytes.saturating_add(event.json_size());
                events.push(event);
            }
            let wants_more = want.is_none_or(|w| events.len() < w) && bytes <= max_bytes;
            match output.last_evaluated_key {
                Some(key) if wants_more && !key.is_empty() => start_key = Some(key),
                _ => break,
            }
        }
        Ok(events)
    }
}

/// Now, in RFC 3339 UTC, as `RecordedAt` and `UpdatedAt` are written.
pub(crate) fn now() -> Option<String> {
    DateTime::from(SystemTime::now())
        .fmt(DateTimeFormat::DateTime)
        .ok()
}

/// Logs what a read that failed below the store concerned, and passes the result on.
pub(crate) fn logged<T>(action: &str, stream: Uuid, result: Result<T, Error>) -> Result<T, Error> {
    if let Err(Error::Infrastructure(e)) = &result {
        log_failure(action, stream, e, 0, 0);
    }
    result
}

/// Logs a failure below the store once, with what it concerned: never a name, a note or
/// DynamoDB's message text, which quotes the request.
fn log_failure(action: &str, stream: Uuid, error: &InfraError, events: usize, bytes: usize) {
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

/// What a conditional write came to, when the infrastructure did its part.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Written {
    /// The events, as stored.
    Stored(Vec<RecordedEvent>),
    /// A condition failed: a version was taken, or the expected last version is missing.
    Conflict,
}

fn conflict(
    stream: Uuid,
    expected: ExpectedVersion,
    current: Option<Version>,
    cause: ConflictCause,
) -> Error {
    VersionConflict {
        stream,
        expected,
        current,
        cause,
    }
    .into()
}
