//! The feed table: entries, the head and the characters' markers, on DynamoDB.
//!
//! | item | `Key` (S, partition) | `Position` (N, sort) | attributes |
//! | --- | --- | --- | --- |
//! | head | `head` | 0 | `Last`: the last position written |
//! | entry | `e#<position / 65536>` | the position | the event item's own attributes (`Id`, `Version`, …) |
//! | marker | `c#<character id>` | 0 | `Version`: the character's last version in the feed; `Holes` (NS); `Rev`: its writes |

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use aws_sdk_dynamodb::Client;
use uuid::Uuid;

use super::errors::{self, decode_item, infra, Cancelled};
use super::item::EventItem;
use super::{Item, MAX_PAGE_BYTES, MAX_PAGE_SIZE};
use crate::domain::{Direction, InvalidInput, RecordedEvent, Version};
use crate::error::{Error, InfraError};
use crate::feed::{Marker, Position};

/// Positions per entry partition key: the entries of one bucket are one item collection.
pub const BUCKET: u64 = 65_536;
/// How often a waiting read (long poll) reads the head again, unless told otherwise: on
/// DynamoDB each read is a consistent GetItem (1 read unit), so a 10 s wait costs 50.
pub const POLL_INTERVAL: Duration = Duration::from_millis(200);
/// Most seconds a read may wait for a new event.
pub const MAX_WAIT_SECONDS: u64 = 10;
/// Most bytes of entries one transaction carries (DynamoDB allows 4 MB).
const MAX_TRANSACTION_BYTES: usize = 3_500_000;
/// Most actions in one transaction (DynamoDB: 100).
const MAX_ACTIONS: usize = 100;

const KEY: &str = "Key";
const POSITION: &str = "Position";
const HEAD_KEY: &str = "head";
const LAST: &str = "Last";
const MARKER_VERSION: &str = "Version";
const REVISION: &str = "Rev";
const HOLES: &str = "Holes";

/// A feed entry: the event, its character and its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEntry {
    pub position: Position,
    pub stream: Uuid,
    pub event: RecordedEvent,
}

/// One page of the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedPage {
    pub entries: Vec<FeedEntry>,
    /// What to pass as `after` to continue: the last entry's position, or `after` itself when
    /// the page is empty.
    pub next: Position,
}

/// A read of the feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedRead {
    /// Forward: entries after it (`None`: from the first). Backward: entries before it
    /// (`None`: from the newest).
    pub after: Option<Position>,
    pub direction: Direction,
    pub limit: usize,
    /// Forward only: when nothing is newer than `after`, wait up to this long for an entry.
    pub wait: Duration,
}

/// The feed table.
#[derive(Debug, Clone)]
pub struct FeedStore {
    client: Client,
    table: String,
    poll_interval: Duration,
}

impl FeedStore {
    pub fn new(client: Client, table: impl Into<String>) -> FeedStore {
        FeedStore {
            client,
            table: table.into(),
            poll_interval: POLL_INTERVAL,
        }
    }

    /// Reads the head this often while a read waits (the local run, whose reads cost nothing,
    /// polls far more often than a Lambda should).
    pub fn with_poll_interval(mut self, interval: Duration) -> FeedStore {
        self.poll_interval = interval;
        self
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// The last position written (0 before the first entry): one consistent GetItem.
    pub async fn head(&self) -> Result<Position, Error> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(KEY, AttributeValue::S(HEAD_KEY.to_owned()))
            .key(POSITION, AttributeValue::N("0".to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| infra("GetItem", e))?;
        let last = output.item.as_ref().and_then(|item| number(item, LAST));
        match (output.item.is_some(), last) {
            (false, _) => Ok(Position(0)),
            (true, Some(last)) => Ok(Position(last)),
            (true, None) => Err(corrupt(HEAD_KEY, "Last is not a number")),
        }
    }

    /// Where a character is in the feed: one consistent GetItem.
    pub async fn marker(&self, stream: Uuid) -> Result<Marker, Error> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(KEY, AttributeValue::S(marker_key(stream)))
            .key(POSITION, AttributeValue::N("0".to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| infra("GetItem", e))?;
        let Some(item) = output.item else {
            return Ok(Marker::default());
        };
        let version = number(&item, MARKER_VERSION)
            .ok_or_else(|| corrupt(&marker_key(stream), "Version is not a number"))?;
        let holes = match item.get(HOLES) {
            Some(AttributeValue::Ns(holes)) => holes
                .iter()
                .map(|h| h.parse::<Version>())
                .collect::<Result<_, _>>()
                .map_err(|_| corrupt(&marker_key(stream), "Holes are not versions"))?,
            _ => Default::default(),
        };
        Ok(Marker {
            version: Some(version),
            holes,
            revision: number(&item, REVISION)
                .ok_or_else(|| corrupt(&marker_key(stream), "Rev is not a number"))?,
        })
    }

    /// Appends `entries` after position `head`, in order, with each character's marker after
    /// its last entry, in transactions of at most 100 actions and 3.5 MB, each conditional on
    /// the head being where the previous one left it, on each marker's revision being the one
    /// read (or the one the previous transaction wrote), and on each entry's position being
    /// free. Returns how many entries were written: fewer than all when another writer got
    /// there first, and the rest must be read and planned again.
    pub async fn append(
        &self,
        head: Position,
        entries: &[(Uuid, RecordedEvent, Marker)],
    ) -> Result<usize, Error> {
        let mut head = head;
        let mut rest = entries;
        let mut revisions: HashMap<Uuid, u64> = HashMap::new();
        for (stream, _, marker) in entries {
            revisions.entry(*stream).or_insert(marker.revision);
        }
        while !rest.is_empty() {
            // As many entries as fit, with the head and a marker per character among them.
            let (mut actions, mut bytes, mut take) = (1, 0, 0);
            let mut characters: Vec<Uuid> = Vec::new();
            for (stream, event, _) in rest {
                let marker = usize::from(!characters.contains(stream));
                let size = event.json_size();
                if take > 0
                    && (actions + marker + 1 > MAX_ACTIONS || bytes + size > MAX_TRANSACTION_BYTES)
                {
                    break;
                }
                if marker == 1 {
                    characters.push(*stream);
                }
                actions += marker + 1;
                bytes += size;
                take += 1;
            }
            let (chunk, later) = rest.split_at(take);
            if !self.append_chunk(head, chunk, &revisions).await? {
                return Ok(entries.len() - rest.len());
            }
            for stream in characters {
                if let Some(revision) = revisions.get_mut(&stream) {
                    *revision += 1;
                }
            }
            head = Position(head.0 + chunk.len() as u64);
            rest = later;
        }
        Ok(entries.len())
    }

    async fn append_chunk(
        &self,
        head: Position,
        chunk: &[(Uuid, RecordedEvent, Marker)],
        revisions: &HashMap<Uuid, u64>,
    ) -> Result<bool, Error> {
        let mut actions = Vec::with_capacity(MAX_ACTIONS);
        let last = head.0 + chunk.len() as u64;
        let mut update = Update::builder()
            .table_name(&self.table)
            .key(KEY, AttributeValue::S(HEAD_KEY.to_owned()))
            .key(POSITION, AttributeValue::N("0".to_owned()))
            .update_expression("SET #last = :last")
            .expression_attribute_names("#last", LAST)
            .expression_attribute_values(":last", AttributeValue::N(last.to_string()));
        update = if head.0 == 0 {
            update.condition_expression("attribute_not_exists(#last)")
        } else {
            update
                .condition_expression("#last = :head")
                .expression_attribute_values(":head", AttributeValue::N(head.0.to_string()))
        };
        let update = update
            .build()
            .map_err(|e| errors::build("TransactWriteItems", e))?;
        actions.push(TransactWriteItem::builder().update(update).build());
        let mut markers: HashMap<Uuid, &Marker> = HashMap::new();
        for (position, (stream, event, marker)) in (head.0 + 1..).zip(chunk) {
            let mut item: Item = serde_dynamo::to_item(EventItem::from_event(*stream, event))
                .map_err(|e| errors::corrupt(*stream, &e))?;
            item.insert(KEY.to_owned(), AttributeValue::S(entry_key(position)));
            item.insert(POSITION.to_owned(), AttributeValue::N(position.to_string()));
            // A position, once written, is never written again.
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(#k)")
                .expression_attribute_names("#k", KEY)
                .build()
                .map_err(|e| errors::build("TransactWriteItems", e))?;
            actions.push(TransactWriteItem::builder().put(put).build());
            markers.insert(*stream, marker);
        }
        for (stream, marker) in markers {
            let Some(version) = marker.version else {
                continue;
            };
            let revision = revisions.get(&stream).copied().unwrap_or(marker.revision);
            let mut item: Item = HashMap::from([
                (KEY.to_owned(), AttributeValue::S(marker_key(stream))),
                (POSITION.to_owned(), AttributeValue::N("0".to_owned())),
                (
                    MARKER_VERSION.to_owned(),
                    AttributeValue::N(version.to_string()),
                ),
                (
                    REVISION.to_owned(),
                    AttributeValue::N((revision + 1).to_string()),
                ),
            ]);
            if !marker.holes.is_empty() {
                let holes = marker.holes.iter().map(Version::to_string).collect();
                item.insert(HOLES.to_owned(), AttributeValue::Ns(holes));
            }
            // Written after the marker this writer read, or not at all.
            let put = Put::builder().table_name(&self.table).set_item(Some(item));
            let put = if revision == 0 {
                put.condition_expression("attribute_not_exists(#k)")
                    .expression_attribute_names("#k", KEY)
            } else {
                put.condition_expression("#rev = :rev")
                    .expression_attribute_names("#rev", REVISION)
                    .expression_attribute_values(":rev", AttributeValue::N(revision.to_string()))
            };
            let put = put
                .build()
                .map_err(|e| errors::build("TransactWriteItems", e))?;
            actions.push(TransactWriteItem::builder().put(put).build());
        }
        let sent = self
            .client
            .transact_write_items()
            .set_transact_items(Some(actions))
            .send()
            .await;
        let Err(e) = sent else {
            return Ok(true);
        };
        match errors::cancellation(&e) {
            // The head moved, or another transaction was writing it: read and plan again.
            Some(Cancelled::ConditionFailed | Cancelled::TransactionConflict) => Ok(false),
            Some(Cancelled::Throttled) => {
                Err(InfraError::Throttled(errors::sdk_failure("TransactWriteItems", &e).0).into())
            }
            Some(Cancelled::Rejected) => {
                Err(InfraError::Rejected(errors::sdk_failure("TransactWriteItems", &e).0).into())
            }
            None => {
                let (failure, answered) = errors::sdk_failure("TransactWriteItems", &e);
                Err(errors::classify(failure, answered).into())
            }
        }
    }

    /// One page of the feed. Reads the head first, then entries up to it only: an entry at or
    /// below the head is committed, so a page never shows a position with an earlier one
    /// still to come.
    pub async fn read(&self, read: FeedRead) -> Result<FeedPage, Error> {
        if read.limit == 0 || read.limit > MAX_PAGE_SIZE {
            return Err(InvalidInput::BadLimit {
                value: read.limit,
                max: MAX_PAGE_SIZE,
            }
            .into());
        }
        let mut head = self.head().await?;
        let (first, last) = match read.direction {
            Direction::Forward => {
                let after = read.after.unwrap_or_default();
                // The head only grows: a position past it was not handed out by this feed.
                if after > head {
                    return Err(InvalidInput::PositionBeyondHead { last: head.0 }.into());
                }
                let started = Instant::now();
                while head <= after && started.elapsed() < read.wait {
                    tokio::time::sleep(
                        self.poll_interval
                            .min(read.wait.saturating_sub(started.elapsed())),
                    )
                    .await;
                    head = self.head().await?;
                }
                if head <= after {
                    return Ok(FeedPage {
                        entries: Vec::new(),
                        next: after,
                    });
                }
                (after.0 + 1, head.0)
            }
            Direction::Backward => {
                let before = read
                    .after
                    .map_or(head.0, |a| a.0.saturating_sub(1).min(head.0));
                if before == 0 {
                    return Ok(FeedPage {
                        entries: Vec::new(),
                        next: read.after.unwrap_or_default(),
                    });
                }
                (1, before)
            }
        };
        let entries = self.query(first, last, read.direction, read.limit).await?;
        let next = entries
            .last()
            .map(|e| e.position)
            .or(read.after)
            .unwrap_or_default();
        Ok(FeedPage { entries, next })
    }

    /// Entries `first..=last` in `direction`, up to `limit` and [`MAX_PAGE_BYTES`], bucket by
    /// bucket, each a consistent Query following `LastEvaluatedKey`.
    async fn query(
        &self,
        first: u64,
        last: u64,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<FeedEntry>, Error> {
        let forward = direction == Direction::Forward;
        let mut entries = Vec::new();
        let mut bytes = 0usize;
        let mut bucket = if forward {
            first / BUCKET
        } else {
            last / BUCKET
        };
        loop {
            let mut start_key = None;
            loop {
                let want = limit - entries.len();
                let output = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .consistent_read(true)
                    .key_condition_expression("#k = :k AND #p BETWEEN :first AND :last")
                    .expression_attribute_names("#k", KEY)
                    .expression_attribute_names("#p", POSITION)
                    .expression_attribute_values(":k", AttributeValue::S(format!("e#{bucket}")))
                    .expression_attribute_values(":first", AttributeValue::N(first.to_string()))
                    .expression_attribute_values(":last", AttributeValue::N(last.to_string()))
                    .scan_index_forward(forward)
                    .limit(i32::try_from(want).unwrap_or(i32::MAX))
                    .set_exclusive_start_key(start_key.take())
                    .send()
                    .await
                    .map_err(|e| infra("Query", e))?;
                for item in output.items.unwrap_or_default() {
                    let entry = decode_entry(item)?;
                    // Positions have no gaps: one not visible yet (a Query may see part of a
                    // transaction just committed) ends the page, so `next` never passes it.
                    let expected = if forward {
                        first + entries.len() as u64
                    } else {
                        last - entries.len() as u64
                    };
                    if entry.position.0 != expected {
                        return Ok(entries);
                    }
                    let size = entry.event.json_size();
                    // A page stops before the entry that would take it over its bytes (never
                    // before its first).
                    if !entries.is_empty() && bytes + size > MAX_PAGE_BYTES {
                        return Ok(entries);
                    }
                    bytes += size;
                    entries.push(entry);
                }
                if entries.len() >= limit {
                    return Ok(entries);
                }
                match output.last_evaluated_key {
                    Some(key) if !key.is_empty() => start_key = Some(key),
                    _ => break,
                }
            }
            let done = if forward {
                (bucket + 1) * BUCKET > last
            } else {
                bucket * BUCKET <= first || bucket == 0
            };
            if done {
                return Ok(entries);
            }
            bucket = if forward { bucket + 1 } else { bucket - 1 };
        }
    }
}

fn entry_key(position: u64) -> String {
    format!("e#{}", position / BUCKET)
}

fn marker_key(stream: Uuid) -> String {
    format!("c#{stream}")
}

fn number(item: &Item, name: &str) -> Option<u64> {
    match item.get(name) {
        Some(AttributeValue::N(n)) => n.parse().ok(),
        _ => None,
    }
}

fn corrupt(key: &str, reason: &str) -> Error {
    InfraError::CorruptItem {
        stream: key.to_owned(),
        version: None,
        reason: reason.to_owned(),
    }
    .into()
}

fn decode_entry(item: Item) -> Result<FeedEntry, Error> {
    let position = number(&item, POSITION).ok_or_else(|| corrupt("feed", "Position"))?;
    let event = decode_item(item)?;
    let stream = Uuid::try_parse(&event.id).map_err(|_| corrupt("feed", "Id is not a uuid"))?;
    Ok(FeedEntry {
        position: Position(position),
        stream,
        event: event.into_event(),
    })
}
