//! Whole-table reads: DynamoDB's (parallel) Scan, and every stream of the events table folded
//! as the Scan meets its events.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use futures_util::future::try_join_all;
use uuid::Uuid;

use super::item::decode_event;
use super::sdk::infra;
use super::EventStore;
use crate::domain::RecordedEvent;
use crate::error::{Error, InfraError};

/// Where a Scan page ended: pass it back to read the next page.
pub type ScanKey = HashMap<String, AttributeValue>;

/// One segment of a parallel Scan: `index` of `total` (DynamoDB allows up to 1,000,000).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub index: u32,
    pub total: u32,
}

/// One page of a Scan: what it read, and where the next page starts (`None`: the segment is done).
#[derive(Debug, Clone, PartialEq)]
pub struct ScanPage<T> {
    pub items: Vec<T>,
    pub next: Option<ScanKey>,
}

/// The key of an item a Scan met that cannot be read as what it should be (written by other
/// code); the error is logged with it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Unreadable(pub String);

impl Unreadable {
    /// Logs why the item under its key cannot be read, and keeps the key.
    pub fn logged(error: &InfraError, what: &str) -> Unreadable {
        let key = match error {
            InfraError::CorruptItem { stream, .. } => stream.clone(),
            _ => String::new(),
        };
        tracing::error!(%key, %error, what, "stored item cannot be read");
        Unreadable(key)
    }
}

/// One page (up to 1 MB, or `limit` items) of a Scan, or of one segment of a parallel Scan
/// (eventually consistent: half the read units of a consistent one).
pub async fn scan(
    client: &Client,
    table: &str,
    segment: Option<Segment>,
    start: Option<ScanKey>,
    limit: Option<usize>,
) -> Result<ScanPage<ScanKey>, Error> {
    let mut request = client
        .scan()
        .table_name(table)
        .set_exclusive_start_key(start)
        .set_limit(limit.map(|l| i32::try_from(l).unwrap_or(i32::MAX)));
    if let Some(segment) = segment {
        request = request
            .segment(i32::try_from(segment.index).unwrap_or(i32::MAX))
            .total_segments(i32::try_from(segment.total).unwrap_or(i32::MAX));
    }
    let output = request.send().await.map_err(|e| infra("Scan", e))?;
    let next = output.last_evaluated_key.filter(|key| !key.is_empty());
    Ok(ScanPage {
        items: output.items.unwrap_or_default(),
        next,
    })
}

impl EventStore {
    /// One page of a Scan of the events table, of at most `limit` items (eventually
    /// consistent), from where the last page ended.
    pub async fn scan_page(
        &self,
        start: Option<ScanKey>,
        limit: usize,
    ) -> Result<ScanPage<ScanKey>, Error> {
        scan(&self.client, &self.table, None, start, Some(limit)).await
    }
}

/// Every page of every segment of a parallel Scan of `table` at once; each segment folds its
/// items into an `A` of its own with `fold`.
pub async fn scan_segments<A: Default>(
    client: &Client,
    table: &str,
    segments: u32,
    fold: impl Fn(&mut A, ScanKey) + Copy,
) -> Result<Vec<A>, Error> {
    let total = segments.max(1);
    let scans = (0..total).map(|index| async move {
        let segment = Segment { index, total };
        let mut folded = A::default();
        let mut start = None;
        loop {
            let page = scan(client, table, Some(segment), start, None).await?;
            for item in page.items {
                fold(&mut folded, item);
            }
            match page.next {
                Some(next) => start = Some(next),
                None => return Ok::<_, Error>(folded),
            }
        }
    });
    try_join_all(scans).await
}

/// A stream as the Scan saw it, folded in whatever order its events came: the sum of their HP,
/// how many there were, and the one with the highest version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSummary {
    /// The sum of the events' HP changes: the HP of a character without rules.
    pub hp: i64,
    pub events: u64,
    pub last: RecordedEvent,
    /// Whether some event carries a sheet: the character has rules, and its HP is the fold.
    pub ruled: bool,
    /// Whether some event moved it between campaigns: its events are in more than one feed.
    pub moved: bool,
}

impl StreamSummary {
    pub fn add(summary: Option<StreamSummary>, event: RecordedEvent) -> StreamSummary {
        match summary {
            None => StreamSummary {
                hp: event.hp_effect(),
                events: 1,
                ruled: event.state.is_some(),
                moved: event.moved_from.is_some(),
                last: event,
            },
            Some(mut s) => {
                s.hp = s.hp.saturating_add(event.hp_effect());
                s.events += 1;
                s.ruled |= event.state.is_some();
                s.moved |= event.moved_from.is_some();
                if event.version > s.last.version {
                    s.last = event;
                }
                s
            }
        }
    }

    pub fn merge(a: StreamSummary, b: StreamSummary) -> StreamSummary {
        let (hp, events) = (a.hp.saturating_add(b.hp), a.events + b.events);
        let last = if b.last.version > a.last.version {
            b.last
        } else {
            a.last
        };
        let ruled = a.ruled || b.ruled;
        let moved = a.moved || b.moved;
        StreamSummary {
            hp,
            events,
            last,
            ruled,
            moved,
        }
    }

    /// Whether the Scan saw every version from 0 to the last (so no version is missing).
    pub fn is_whole(&self) -> bool {
        self.events == self.last.version.saturating_add(1)
    }
}

/// Every stream of the events table, from every segment of a parallel Scan at once, each
/// folded as its events come; and the keys of items that cannot be read as events. Counts
/// events and characters as it goes.
pub async fn scan_streams(
    store: &EventStore,
    segments: u32,
    events: &AtomicU64,
    characters: &AtomicU64,
) -> Result<(HashMap<Uuid, StreamSummary>, Vec<Unreadable>), Error> {
    type Streams = (HashMap<Uuid, StreamSummary>, Vec<Unreadable>);
    let fold = |(streams, unreadable): &mut Streams, item| {
        events.fetch_add(1, Ordering::Relaxed);
        match decode_event(item) {
            Ok((stream, event)) => {
                let summary = streams.remove(&stream);
                if summary.is_none() {
                    characters.fetch_add(1, Ordering::Relaxed);
                }
                streams.insert(stream, StreamSummary::add(summary, event));
            }
            Err(e) => unreadable.push(Unreadable::logged(&e, "event")),
        }
    };
    let segments = scan_segments(&store.client, &store.table, segments, fold).await?;
    let mut all: HashMap<Uuid, StreamSummary> = HashMap::new();
    let mut unreadable = Vec::new();
    for (segment, keys) in segments {
        unreadable.extend(keys);
        for (stream, summary) in segment {
            let merged = match all.remove(&stream) {
                Some(seen) => StreamSummary::merge(seen, summary),
                None => summary,
            };
            all.insert(stream, merged);
        }
    }
    unreadable.sort();
    unreadable.dedup();
    Ok((all, unreadable))
}
