//! Whole-table reads: DynamoDB's (parallel) Scan over the events and snapshot tables, and the
//! party: every snapshot, paged.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use uuid::Uuid;

use super::cursor::ListCursor;
use super::errors::{decode_item, infra};
use super::item::attr;
use super::{EventStore, Snapshot, SnapshotStore, MAX_PAGE_BYTES, MAX_PAGE_SIZE};
use crate::domain::{InvalidInput, RecordedEvent};
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

/// One Scan request (eventually consistent: half the read units of a consistent one).
async fn scan(
    client: &Client,
    table: &str,
    segment: Option<Segment>,
    start: Option<ScanKey>,
    limit: Option<usize>,
) -> Result<(Vec<ScanKey>, Option<ScanKey>), Error> {
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
    Ok((output.items.unwrap_or_default(), next))
}

impl EventStore {
    /// One page (up to 1 MB) of one segment of a Scan of the events table: events with their
    /// character, in no particular order across characters.
    pub async fn scan_events(
        &self,
        segment: Segment,
        start: Option<ScanKey>,
    ) -> Result<ScanPage<(Uuid, RecordedEvent)>, Error> {
        let (items, next) = scan(&self.client, &self.table, Some(segment), start, None).await?;
        let items = items
            .into_iter()
            .map(|item| {
                let item = decode_item(item)?;
                let stream = Uuid::try_parse(&item.id).map_err(|_| InfraError::CorruptItem {
                    stream: String::new(),
                    version: Some(item.version.to_string()),
                    reason: "Id is not a uuid".to_owned(),
                })?;
                Ok((stream, item.into_event()))
            })
            .collect::<Result<Vec<_>, InfraError>>()?;
        Ok(ScanPage { items, next })
    }
}

/// One page of the party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotList {
    pub snapshots: Vec<Snapshot>,
    /// Where the next page starts; `None` when this page reached the end.
    pub next: Option<ListCursor>,
}

impl SnapshotStore {
    /// One page (up to 1 MB) of one segment of a Scan of the snapshot table: each item a
    /// snapshot, or the id of one that cannot be read as a snapshot.
    pub async fn scan_snapshots(
        &self,
        segment: Segment,
        start: Option<ScanKey>,
    ) -> Result<ScanPage<Result<Snapshot, String>>, Error> {
        let (items, next) = scan(&self.client, &self.table, Some(segment), start, None).await?;
        let items = items
            .into_iter()
            .map(|item| {
                decode_snapshot(item).map_err(|e| match e {
                    InfraError::CorruptItem { stream, .. } => stream,
                    _ => String::new(),
                })
            })
            .collect();
        Ok(ScanPage { items, next })
    }

    /// Every character's snapshot, `limit` (1 to [`MAX_PAGE_SIZE`]) at a time, in the table's
    /// order (by a hash of the id: stable, not meaningful), from an eventually consistent Scan.
    /// A page also stops before the snapshot that would take it over [`MAX_PAGE_BYTES`] as JSON.
    pub async fn list(
        &self,
        limit: usize,
        cursor: Option<&ListCursor>,
    ) -> Result<SnapshotList, Error> {
        if limit == 0 || limit > MAX_PAGE_SIZE {
            return Err(InvalidInput::BadLimit {
                value: limit,
                max: MAX_PAGE_SIZE,
            }
            .into());
        }
        let mut start = cursor
            .map(|c| HashMap::from([(attr::ID.to_owned(), AttributeValue::S(c.after.clone()))]));
        let mut snapshots = Vec::new();
        let mut bytes = 0usize;
        // One more than asked tells whether another page follows.
        let more = loop {
            let want = limit + 1 - snapshots.len();
            let (items, next) = scan(&self.client, &self.table, None, start, Some(want)).await?;
            for item in items {
                // One item another writer damaged must not take the party off the screen:
                // it is left out, and logged by its id for `verify` to find.
                let snapshot = match decode_snapshot(item) {
                    Ok(snapshot) => snapshot,
                    Err(e) => {
                        let stream = match &e {
                            InfraError::CorruptItem { stream, .. } => stream.clone(),
                            _ => String::new(),
                        };
                        tracing::error!(%stream, error = %e, "snapshot cannot be read: left out of the party");
                        continue;
                    }
                };
                bytes = bytes.saturating_add(snapshot.json_size());
                snapshots.push(snapshot);
            }
            match next {
                Some(key) if snapshots.len() <= limit && bytes <= MAX_PAGE_BYTES => {
                    start = Some(key)
                }
                next => break next.is_some(),
            }
        };
        let mut bytes = 0;
        let fits = snapshots
            .iter()
            .take_while(|s| {
                bytes += s.json_size();
                bytes <= MAX_PAGE_BYTES
            })
            .count()
            .max(1);
        let keep = limit.min(fits);
        let next = if snapshots.len() > keep || more {
            snapshots.truncate(keep);
            snapshots.last().map(|s| ListCursor {
                after: s.id.clone(),
            })
        } else {
            None
        };
        Ok(SnapshotList { snapshots, next })
    }
}

fn decode_snapshot(item: ScanKey) -> Result<Snapshot, InfraError> {
    let id = match item.get(attr::ID) {
        Some(AttributeValue::S(id)) => id.clone(),
        _ => String::new(),
    };
    serde_dynamo::from_item(item).map_err(|e: serde_dynamo::Error| InfraError::CorruptItem {
        stream: id,
        version: None,
        reason: super::errors::without_quotes(&e.to_string()),
    })
}
