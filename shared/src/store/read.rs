//! Reading a stream: pages in either direction, ranges, the whole stream and its fold.

use std::ops::{ControlFlow, Range};

use aws_sdk_dynamodb::types::AttributeValue;
use uuid::Uuid;

use super::cursor::Cursor;
use super::item::{attr, decode_item};
use super::limits::{page_limit, PageBytes};
use super::sdk::{self, query_pages};
use super::{logged, EventStore};
use crate::domain::{CharacterState, Direction, RecordedEvent, Version};
use crate::error::Error;

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

impl EventStore {
    /// The stream's last version, `None` when it has no events.
    pub async fn last_version(&self, stream: Uuid) -> Result<Option<Version>, Error> {
        Ok(self.latest(stream, 1).await?.first().map(|e| e.version))
    }

    /// The stream's latest `count` events, newest first.
    pub(crate) async fn latest(
        &self,
        stream: Uuid,
        count: usize,
    ) -> Result<Vec<RecordedEvent>, Error> {
        self.query(stream, None, Direction::Backward, Some(count))
            .await
    }

    /// The events with versions in `range`, in order: one consistent Query bounded by it.
    pub async fn read_versions(
        &self,
        stream: Uuid,
        range: Range<Version>,
    ) -> Result<Vec<RecordedEvent>, Error> {
        let Some(last) = range.end.checked_sub(1).filter(|&l| l >= range.start) else {
            return Ok(Vec::new());
        };
        let versions = Versions::Between(range.start, last);
        self.query_within(stream, versions, Direction::Forward, None, false)
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
        let limit = page_limit(request.limit)?;
        // One more than asked tells whether another page follows.
        let versions = Versions::from(request.from_version, request.direction);
        let mut events = self
            .query_within(stream, versions, request.direction, Some(limit + 1), true)
            .await?;
        let keep = limit.min(PageBytes::fitting(
            events.iter().map(RecordedEvent::json_size),
        ));
        let next = if events.len() > keep {
            events.truncate(keep);
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

    /// The campaign the character is in now (its latest event's; none: the default campaign),
    /// or `None` when it has no event: one consistent Query of its newest item.
    pub async fn campaign_of(&self, stream: Uuid) -> Result<Option<Uuid>, Error> {
        let versions = Versions::from(None, Direction::Backward);
        let output = self
            .query_builder(stream, versions, Direction::Backward)
            .limit(1)
            .send()
            .await
            .map_err(|e| sdk::infra("Query", e))?;
        let newest = output.items.unwrap_or_default().into_iter().next();
        newest
            .map(|item| {
                decode_item(item).map(|e| {
                    e.into_event()
                        .campaign_id
                        .unwrap_or(crate::domain::DEFAULT_CAMPAIGN)
                })
            })
            .transpose()
            .map_err(Error::from)
    }

    /// A character's state: the fold of its whole stream.
    pub async fn character(&self, stream: Uuid) -> Result<CharacterState, Error> {
        let events = logged("fold", stream, self.read_all(stream).await)?;
        CharacterState::fold(&events).ok_or(Error::NotFound(stream))
    }

    /// The stream's events newest first, from `upto` (the last when `None`) down to the first
    /// for which `stop` holds, that one included, or to the stream's first: one consistent
    /// Query, a few items at first, then whole pages.
    pub(crate) async fn back_until(
        &self,
        stream: Uuid,
        upto: Option<Version>,
        stop: impl Fn(&RecordedEvent) -> bool,
    ) -> Result<Vec<RecordedEvent>, Error> {
        const FIRST_PAGE: usize = 4;
        let versions = Versions::from(upto, Direction::Backward);
        let query = self.query_builder(stream, versions, Direction::Backward);
        let mut events = Vec::new();
        query_pages(
            query,
            &mut events,
            |events| Some(if events.is_empty() { FIRST_PAGE } else { 100 }),
            |events, item| {
                let event = decode_item(item)?.into_event();
                let stopped = stop(&event);
                events.push(event);
                Ok(if stopped {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                })
            },
        )
        .await?;
        Ok(events)
    }

    fn query_builder(
        &self,
        stream: Uuid,
        versions: Versions,
        direction: Direction,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .consistent_read(true)
            .key_condition_expression(versions.key_condition())
            .expression_attribute_names("#id", attr::ID)
            .expression_attribute_values(":id", AttributeValue::S(stream.to_string()))
            .scan_index_forward(direction == Direction::Forward);
        for (name, version) in versions.bounds() {
            query = query
                .expression_attribute_names("#v", attr::VERSION)
                .expression_attribute_values(name, AttributeValue::N(version.to_string()));
        }
        query
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
        let versions = Versions::from(from, direction);
        self.query_within(stream, versions, direction, want, false)
            .await
    }

    /// The events of `versions` in `direction`, until `want` are in hand; when `capped`, also
    /// until a page's bytes are passed (the event that passes them is kept, so the caller sees
    /// that more follow).
    async fn query_within(
        &self,
        stream: Uuid,
        versions: Versions,
        direction: Direction,
        want: Option<usize>,
        capped: bool,
    ) -> Result<Vec<RecordedEvent>, Error> {
        let query = self.query_builder(stream, versions, direction);
        let mut read = (Vec::new(), PageBytes::default());
        query_pages(
            query,
            &mut read,
            |(events, _)| want.map(|w| w.saturating_sub(events.len())),
            |(events, bytes), item| {
                let event = decode_item(item)?.into_event();
                let passed = capped && !bytes.take(event.json_size());
                events.push(event);
                let enough = want.is_some_and(|w| events.len() >= w) || passed;
                Ok(if enough {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                })
            },
        )
        .await?;
        Ok(read.0)
    }
}

/// Which versions of a stream a Query reads (bounds included).
#[derive(Debug, Clone, Copy)]
enum Versions {
    All,
    From(Version),
    Upto(Version),
    Between(Version, Version),
}

impl Versions {
    /// From `from` on in `direction`: upwards forward, downwards backward.
    fn from(from: Option<Version>, direction: Direction) -> Versions {
        match (from, direction) {
            (None, _) => Versions::All,
            (Some(v), Direction::Forward) => Versions::From(v),
            (Some(v), Direction::Backward) => Versions::Upto(v),
        }
    }

    fn key_condition(self) -> &'static str {
        match self {
            Versions::All => "#id = :id",
            Versions::From(_) => "#id = :id AND #v >= :from",
            Versions::Upto(_) => "#id = :id AND #v <= :to",
            Versions::Between(..) => "#id = :id AND #v BETWEEN :from AND :to",
        }
    }

    fn bounds(self) -> Vec<(&'static str, Version)> {
        match self {
            Versions::All => Vec::new(),
            Versions::From(v) => vec![(":from", v)],
            Versions::Upto(v) => vec![(":to", v)],
            Versions::Between(from, to) => vec![(":from", from), (":to", to)],
        }
    }
}
