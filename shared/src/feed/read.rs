//! Reading the feed: pages after (or before) a position, and the long poll.

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use uuid::Uuid;

use super::position::{BadPosition, Position};
use super::table::{entry_key, FeedStore, BUCKET, KEY, POSITION};
use crate::domain::{Direction, RecordedEvent};
use crate::error::{Error, InfraError};
use crate::store::item::decode_event;
use crate::store::sdk::{query_pages, Item};
use crate::store::{page_limit, PageBytes};

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
    /// The read found nothing new and waited (a long poll), whether or not an entry came.
    pub waited: bool,
    /// The campaign's head as the read last saw it: the page is what the feed held up to it, so
    /// the same read at the same head gives the same page (the answer's `ETag`).
    pub head: Position,
}

/// A read of the feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedRead {
    /// The campaign whose feed this is.
    pub campaign: Uuid,
    /// Forward: entries after it (`None`: from the first). Backward: entries before it
    /// (`None`: from the newest).
    pub after: Option<Position>,
    pub direction: Direction,
    pub limit: usize,
    /// Forward only: when nothing is newer than `after`, wait up to this long for an entry.
    pub wait: Duration,
}

impl FeedStore {
    /// One page of the feed. Reads the head first, then entries up to it only: an entry at or
    /// below the head is committed, so a page never shows a position with an earlier one
    /// still to come.
    pub async fn read(&self, read: FeedRead) -> Result<FeedPage, Error> {
        let limit = page_limit(read.limit)?;
        let mut head = self.head(read.campaign).await?;
        let mut waited = false;
        let (first, last) = match read.direction {
            Direction::Forward => {
                let after = read.after.unwrap_or_default();
                // The head only grows: a position past it was not handed out by this feed.
                if after > head {
                    return Err(BadPosition::BeyondHead { last: head.0 }.into());
                }
                let started = Instant::now();
                waited = head <= after && !read.wait.is_zero();
                while head <= after && started.elapsed() < read.wait {
                    tokio::time::sleep(
                        self.poll_interval
                            .min(read.wait.saturating_sub(started.elapsed())),
                    )
                    .await;
                    head = self.head(read.campaign).await?;
                }
                if head <= after {
                    return Ok(FeedPage {
                        entries: Vec::new(),
                        next: after,
                        waited,
                        head,
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
                        waited,
                        head,
                    });
                }
                (1, before)
            }
        };
        let entries = self
            .query(read.campaign, first, last, read.direction, limit)
            .await?;
        let next = entries
            .last()
            .map(|e| e.position)
            .or(read.after)
            .unwrap_or_default();
        Ok(FeedPage {
            entries,
            next,
            waited,
            head,
        })
    }

    /// Entries `first..=last` in `direction`, up to `limit` and the page's bytes, bucket by
    /// bucket, each a consistent Query followed across its pages.
    async fn query(
        &self,
        campaign: Uuid,
        first: u64,
        last: u64,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<FeedEntry>, Error> {
        let forward = direction == Direction::Forward;
        let mut page = (Vec::new(), PageBytes::default(), false);
        let mut bucket = if forward {
            first / BUCKET
        } else {
            last / BUCKET
        };
        loop {
            let query = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .key_condition_expression("#k = :k AND #p BETWEEN :first AND :last")
                .expression_attribute_names("#k", KEY)
                .expression_attribute_names("#p", POSITION)
                .expression_attribute_values(":k", AttributeValue::S(entry_key(campaign, bucket)))
                .expression_attribute_values(":first", AttributeValue::N(first.to_string()))
                .expression_attribute_values(":last", AttributeValue::N(last.to_string()))
                .scan_index_forward(forward);
            query_pages(
                query,
                &mut page,
                |(entries, _, _)| Some(limit - entries.len()),
                |(entries, bytes, ended), item| {
                    let entry = decode_entry(item)?;
                    // Positions have no gaps: one not visible yet (a Query may see part of a
                    // transaction just committed) ends the page, so `next` never passes it.
                    let expected = if forward {
                        first + entries.len() as u64
                    } else {
                        last - entries.len() as u64
                    };
                    if entry.position.0 != expected || !bytes.take(entry.event.json_size()) {
                        *ended = true;
                        return Ok(ControlFlow::Break(()));
                    }
                    entries.push(entry);
                    *ended = entries.len() >= limit;
                    Ok(if *ended {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    })
                },
            )
            .await?;
            let done = if forward {
                (bucket + 1) * BUCKET > last
            } else {
                bucket * BUCKET <= first || bucket == 0
            };
            if page.2 || done {
                return Ok(page.0);
            }
            bucket = if forward { bucket + 1 } else { bucket - 1 };
        }
    }
}

fn decode_entry(item: Item) -> Result<FeedEntry, InfraError> {
    let position = match item.get(POSITION) {
        Some(AttributeValue::N(n)) => n.parse().ok(),
        _ => None,
    };
    let position = position.ok_or_else(|| InfraError::corrupt("feed", None, "Position"))?;
    let (stream, mut event) = decode_event(item)?;
    // The feed's own attributes are not the event's.
    event.other.remove(KEY);
    event.other.remove(POSITION);
    Ok(FeedEntry {
        position: Position(position),
        stream,
        event,
    })
}
