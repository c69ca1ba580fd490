//! The feed table: entries, the head and the characters' markers, on DynamoDB.
//!
//! Each campaign has a feed of its own: its head, entries and markers, under keys of its own.
//! The default campaign's keys are those of the one feed before campaigns (`head`, `e#…`,
//! `c#…`), so its positions and the checkpoints handed out before are unchanged; another
//! campaign's keys carry its id (`<c>` below).
//!
//! | item | `Key` (S, partition) | `Position` (N, sort) | attributes |
//! | --- | --- | --- | --- |
//! | head | `head`; `head#<c>` | 0 | `Last`: the last position written |
//! | entry | `e#<position / 65536>`; `e#<c>#<position / 65536>` | the position | the event item's own attributes (`Id`, `Version`, …) |
//! | marker | `c#<character id>`; `c#<c>#<character id>` | 0 | `Version`: the character's last version in this feed; `HoleRanges` (S, `"4..200000"`; before ranges, `Holes`, NS: still read); `Rev`: its writes |

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use aws_sdk_dynamodb::Client;
use uuid::Uuid;

use super::plan::Marker;
use super::position::Position;
use crate::domain::{RecordedEvent, Version, DEFAULT_CAMPAIGN};
use crate::error::{Error, InfraError};
use crate::store::item::EventItem;
use crate::store::sdk::{self, infra, transacted, Item};
use crate::store::MAX_TRANSACTION_ACTIONS;
use crate::stream::Holes;

/// Positions per entry partition key: the entries of one bucket are one item collection.
pub const BUCKET: u64 = 65_536;
/// How often a waiting read (long poll) reads the head again, unless told otherwise: on
/// DynamoDB each read is a consistent GetItem (1 read unit), so a 10 s wait costs 50.
pub const POLL_INTERVAL: Duration = Duration::from_millis(200);
/// Most seconds a read may wait for a new event.
pub const MAX_WAIT_SECONDS: u64 = 10;
/// Most bytes of entries one transaction carries (DynamoDB allows 4 MB).
const MAX_CHUNK_BYTES: usize = 3_500_000;
/// Most actions in one transaction (DynamoDB: 100).
const MAX_ACTIONS: usize = MAX_TRANSACTION_ACTIONS;

pub(super) const KEY: &str = "Key";
pub(super) const POSITION: &str = "Position";
const HEAD_KEY: &str = "head";
const LAST: &str = "Last";
const MARKER_VERSION: &str = "Version";
const REVISION: &str = "Rev";
const HOLE_RANGES: &str = "HoleRanges";
const LEGACY_HOLES: &str = "Holes";

/// The feed table.
#[derive(Debug, Clone)]
pub struct FeedStore {
    pub(crate) client: Client,
    pub(crate) table: String,
    pub(super) poll_interval: Duration,
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

    /// The item at position 0 of `key` (a head, a marker, the upkeep's checkpoint), read
    /// consistently: one GetItem.
    pub(crate) async fn item_at(&self, key: &str) -> Result<Option<Item>, Error> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(KEY, AttributeValue::S(key.to_owned()))
            .key(POSITION, AttributeValue::N("0".to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| infra("GetItem", e))?;
        Ok(output.item)
    }

    /// The last position written in a campaign's feed (0 before the first entry): one
    /// consistent GetItem.
    pub async fn head(&self, campaign: Uuid) -> Result<Position, Error> {
        let item = self.item_at(&head_key(campaign)).await?;
        let last = item.as_ref().and_then(|item| number(item, LAST));
        match (item.is_some(), last) {
            (false, _) => Ok(Position(0)),
            (true, Some(last)) => Ok(Position(last)),
            (true, None) => Err(corrupt(&head_key(campaign), "Last is not a number")),
        }
    }

    /// Where a character is in a campaign's feed: one consistent GetItem.
    pub async fn marker(&self, campaign: Uuid, stream: Uuid) -> Result<Marker, Error> {
        let key = marker_key(campaign, stream);
        let Some(item) = self.item_at(&key).await? else {
            return Ok(Marker::default());
        };
        let version = number(&item, MARKER_VERSION)
            .ok_or_else(|| corrupt(&key, "Version is not a number"))?;
        let holes: Holes = match (item.get(HOLE_RANGES), item.get(LEGACY_HOLES)) {
            (Some(AttributeValue::S(ranges)), _) => ranges
                .parse()
                .map_err(|()| corrupt(&key, "HoleRanges are not ranges"))?,
            // Written before holes were ranges: one number each.
            (None, Some(AttributeValue::Ns(holes))) => holes
                .iter()
                .map(|h| h.parse::<Version>())
                .collect::<Result<_, _>>()
                .map_err(|_| corrupt(&key, "Holes are not versions"))?,
            _ => Holes::new(),
        };
        Ok(Marker {
            version: Some(version),
            holes,
            revision: number(&item, REVISION)
                .ok_or_else(|| corrupt(&key, "Rev is not a number"))?,
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
        campaign: Uuid,
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
                    && (actions + marker + 1 > MAX_ACTIONS || bytes + size > MAX_CHUNK_BYTES)
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
            if !self.append_chunk(campaign, head, chunk, &revisions).await? {
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
        campaign: Uuid,
        head: Position,
        chunk: &[(Uuid, RecordedEvent, Marker)],
        revisions: &HashMap<Uuid, u64>,
    ) -> Result<bool, Error> {
        let mut actions = Vec::with_capacity(MAX_ACTIONS);
        let last = head.0 + chunk.len() as u64;
        let mut update = Update::builder()
            .table_name(&self.table)
            .key(KEY, AttributeValue::S(head_key(campaign)))
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
            .map_err(|e| sdk::build("TransactWriteItems", e))?;
        actions.push(TransactWriteItem::builder().update(update).build());
        let mut markers: HashMap<Uuid, &Marker> = HashMap::new();
        for (position, (stream, event, marker)) in (head.0 + 1..).zip(chunk) {
            let mut item: Item = EventItem::from_event(*stream, event)
                .to_item()
                .map_err(|e| sdk::corrupt(*stream, &e))?;
            item.insert(
                KEY.to_owned(),
                AttributeValue::S(entry_key(campaign, position / BUCKET)),
            );
            item.insert(POSITION.to_owned(), AttributeValue::N(position.to_string()));
            // A position, once written, is never written again.
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(#k)")
                .expression_attribute_names("#k", KEY)
                .build()
                .map_err(|e| sdk::build("TransactWriteItems", e))?;
            actions.push(TransactWriteItem::builder().put(put).build());
            markers.insert(*stream, marker);
        }
        for (stream, marker) in markers {
            let Some(version) = marker.version else {
                continue;
            };
            let revision = revisions.get(&stream).copied().unwrap_or(marker.revision);
            let mut item: Item = HashMap::from([
                (
                    KEY.to_owned(),
                    AttributeValue::S(marker_key(campaign, stream)),
                ),
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
            let holes = marker
                .holes
                .to_text()
                .map_err(|e| corrupt(&marker_key(campaign, stream), &e.to_string()))?;
            if let Some(holes) = holes {
                item.insert(HOLE_RANGES.to_owned(), AttributeValue::S(holes));
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
                .map_err(|e| sdk::build("TransactWriteItems", e))?;
            actions.push(TransactWriteItem::builder().put(put).build());
        }
        let sent = self
            .client
            .transact_write_items()
            .set_transact_items(Some(actions))
            .send()
            .await;
        // Lost (the head moved, or another transaction was writing it): read and plan again.
        Ok(transacted(sent)?.is_ok())
    }
}

/// The key of a campaign's head.
fn head_key(campaign: Uuid) -> String {
    if campaign == DEFAULT_CAMPAIGN {
        HEAD_KEY.to_owned()
    } else {
        format!("{HEAD_KEY}#{campaign}")
    }
}

/// The key of a campaign's entries in `bucket` (positions `bucket * BUCKET` on).
pub(super) fn entry_key(campaign: Uuid, bucket: u64) -> String {
    if campaign == DEFAULT_CAMPAIGN {
        format!("e#{bucket}")
    } else {
        format!("e#{campaign}#{bucket}")
    }
}

fn marker_key(campaign: Uuid, stream: Uuid) -> String {
    if campaign == DEFAULT_CAMPAIGN {
        format!("c#{stream}")
    } else {
        format!("c#{campaign}#{stream}")
    }
}

fn number(item: &Item, name: &str) -> Option<u64> {
    match item.get(name) {
        Some(AttributeValue::N(n)) => n.parse().ok(),
        _ => None,
    }
}

fn corrupt(key: &str, reason: &str) -> Error {
    InfraError::corrupt(key, None, reason).into()
}
