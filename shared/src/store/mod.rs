//! The event store over DynamoDB: append with optimistic concurrency, paged reads, the fold.

mod cursor;
mod errors;
pub mod item;
mod snapshots;

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use aws_sdk_dynamodb::primitives::{DateTime, DateTimeFormat};
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Put, TransactWriteItem};
use aws_sdk_dynamodb::Client;
use uuid::Uuid;

pub use cursor::Cursor;
use errors::is_condition_failure;
pub(crate) use errors::{decode_item, infra};
pub use snapshots::{Snapshot, SnapshotStore};

use crate::domain::{
    match_stored, next_version, validate_events, validate_expected, CharacterState, Direction,
    ExpectedVersion, InvalidInput, NewEvent, RecordedEvent, StoredMatch, Version,
};
use crate::error::{Error, VersionConflict};
use item::{attr, EventItem};

/// Most events one page of a read may hold.
pub const MAX_PAGE_SIZE: usize = 1000;

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

type Item = HashMap<String, AttributeValue>;

impl EventStore {
    pub fn new(client: Client, table: impl Into<String>) -> EventStore {
        EventStore {
            client,
            table: table.into(),
            any_retry: AnyRetry::default(),
        }
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
        validate_events(&events)?;
        match expected {
            ExpectedVersion::Any => self.append_any(stream, &events).await,
            ExpectedVersion::NoStream | ExpectedVersion::Exact(_) => {
                let last = expected.last_version();
                match self.write(stream, last, &events).await? {
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
                        match match_stored(&events, &found) {
                            StoredMatch::Replay => Ok(Appended {
                                events: found,
                                replayed: true,
                            }),
                            other => {
                                let current = self.last_version(stream).await?;
                                let partial = other == StoredMatch::PartialReplay;
                                Err(conflict(stream, expected, current, partial))
                            }
                        }
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
                        return Err(conflict(stream, ExpectedVersion::Any, last, true))
                    }
                    StoredMatch::Unrelated => {}
                }
            }
            match self.write(stream, last, events).await? {
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
                        return Err(conflict(stream, ExpectedVersion::Any, current, false));
                    }
                    tokio::time::sleep(self.any_retry.delay(attempt)).await;
                }
            }
        }
    }

    /// Writes `events` after `last` in one request: a conditional put for a single event
    /// starting a stream, otherwise one transaction whose puts each require their version to be
    /// free, plus a check that version `last` exists. A lost condition is `Written::Conflict`.
    async fn write(
        &self,
        stream: Uuid,
        last: Option<Version>,
        events: &[NewEvent],
    ) -> Result<Written, Error> {
        let recorded_at = DateTime::from(SystemTime::now())
            .fmt(DateTimeFormat::DateTime)
            .ok();
        let first = next_version(last);
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
            })
            .collect();
        let items = stored
            .iter()
            .map(|e| serde_dynamo::to_item(EventItem::from_event(stream, e)))
            .collect::<Result<Vec<Item>, _>>()
            .map_err(|e| errors::corrupt(stream, None, e))?;

        let outcome = if let (None, [item]) = (last, items.as_slice()) {
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item.clone()))
                .condition_expression("attribute_not_exists(#v)")
                .expression_attribute_names("#v", attr::VERSION)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| {
                    if e.as_service_error()
                        .is_some_and(|s| s.is_conditional_check_failed_exception())
                    {
                        Ok(Written::Conflict)
                    } else {
                        Err(infra(e))
                    }
                })
        } else {
            let mut actions = Vec::with_capacity(items.len() + 1);
            if let Some(last) = last {
                let check = ConditionCheck::builder()
                    .table_name(&self.table)
                    .key(attr::ID, AttributeValue::S(stream.to_string()))
                    .key(attr::VERSION, AttributeValue::N(last.to_string()))
                    .condition_expression("attribute_exists(#v)")
                    .expression_attribute_names("#v", attr::VERSION)
                    .build()
                    .map_err(errors::build)?;
                actions.push(TransactWriteItem::builder().condition_check(check).build());
            }
            for item in items {
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .condition_expression("attribute_not_exists(#v)")
                    .expression_attribute_names("#v", attr::VERSION)
                    .build()
                    .map_err(errors::build)?;
                actions.push(TransactWriteItem::builder().put(put).build());
            }
            self.client
                .transact_write_items()
                .set_transact_items(Some(actions))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| {
                    if is_condition_failure(&e) {
                        Ok(Written::Conflict)
                    } else {
                        Err(infra(e))
                    }
                })
        };
        match outcome {
            Ok(()) => Ok(Written::Stored(stored)),
            Err(Ok(failure)) => Ok(failure),
            Err(Err(e)) => Err(e.into()),
        }
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
        if request.limit == 0 || request.limit > MAX_PAGE_SIZE {
            return Err(InvalidInput::BadLimit {
                value: request.limit,
                max: MAX_PAGE_SIZE,
            }
            .into());
        }
        // One more than asked tells whether another page follows.
        let mut events = self
            .query(
                stream,
                request.from_version,
                request.direction,
                Some(request.limit + 1),
            )
            .await?;
        let next = if events.len() > request.limit {
            events.truncate(request.limit);
            let following = events.last().map(|e| match request.direction {
                Direction::Forward => e.version + 1,
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
        let events = self.read_all(stream).await?;
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
            let output = query.send().await.map_err(infra)?;
            for item in output.items.unwrap_or_default() {
                events.push(decode_item(item)?.into_event());
            }
            let wants_more = want.is_none_or(|w| events.len() < w);
            match output.last_evaluated_key {
                Some(key) if wants_more && !key.is_empty() => start_key = Some(key),
                _ => break,
            }
        }
        Ok(events)
    }
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
    partial_replay: bool,
) -> Error {
    VersionConflict {
        stream,
        expected,
        current,
        partial_replay,
    }
    .into()
}
