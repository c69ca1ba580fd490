//! The repair: brings into the feed the events the stream never delivered, through the same
//! transactions as the live indexer. A character that cannot be indexed is reported and the
//! repair goes on with the others.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::future::join_all;
use uuid::Uuid;

use super::indexer::Indexer;
use crate::domain::{Version, DEFAULT_CAMPAIGN};
use crate::error::Error;
use crate::store::scan_streams;
use crate::stream::CharacterRecords;

/// Characters the repair brings up to date at once.
const CONCURRENT_REPAIRS: usize = 8;

impl Indexer {
    /// Brings into the feed every event it lacks: events from before the feed existed, events
    /// written by other code, events whose stream records were lost. A parallel Scan of the
    /// events table finds the characters whose marker is behind (or has a hole the table now
    /// fills); each is indexed from its stream through the same transactions as the live
    /// indexer, so running it beside the indexer, again, or on a schedule indexes nothing twice.
    ///
    /// `only`: the feed of that campaign alone (the Scan still reads every event: the events
    /// table has no index by campaign).
    pub async fn repair(
        &self,
        segments: u32,
        only: Option<Uuid>,
        progress: &RepairProgress,
    ) -> Result<RepairReport, Error> {
        let started = std::time::Instant::now();
        let (streams, unreadable) = scan_streams(
            &self.events,
            segments,
            &progress.events,
            &progress.characters,
        )
        .await?;
        let mut report = RepairReport {
            events: progress.events.load(Ordering::Relaxed),
            characters: streams.len() as u64,
            ..RepairReport::default()
        };
        // A character with an event the Scan could not read: reported, and the others go on.
        for key in unreadable {
            match Uuid::try_parse(&key.0) {
                Ok(stream) => {
                    if !report.failed.contains(&stream) {
                        report.failed.push(stream);
                    }
                }
                Err(_) => report.unreadable.push(key.0),
            }
        }
        // A character that moved has events in more than one feed: never taken as up to date
        // from one marker (its events are read and planned in each of their campaigns).
        let streams: Vec<(Uuid, u64, Version, Option<Uuid>)> = streams
            .into_iter()
            .filter(|(stream, _)| !report.failed.contains(stream))
            .map(|(stream, summary)| {
                let campaign = summary.last.campaign_id.unwrap_or(DEFAULT_CAMPAIGN);
                let one_feed = (!summary.moved).then_some(campaign);
                (stream, summary.events, summary.last.version, one_feed)
            })
            .collect();
        // Characters are checked and read concurrently, and each chunk of them is indexed
        // together (one writer: chunks of one repair do not race each other for the head).
        for chunk in streams.chunks(CONCURRENT_REPAIRS) {
            let read = join_all(
                chunk
                    .iter()
                    .map(|&(stream, count, last, one_feed)| async move {
                        // Up to date when the feed of its campaign has its last version and
                        // every version but the holes.
                        let indexed = match one_feed {
                            Some(campaign) => {
                                let marker = self.feed.marker(campaign, stream).await?;
                                marker.version == Some(last)
                                    && count == (last + 1).saturating_sub(marker.holes.count())
                            }
                            None => false,
                        };
                        if indexed {
                            return Ok(None);
                        }
                        let events = self.events.read_all(stream).await?;
                        Ok::<_, Error>(Some(CharacterRecords {
                            stream,
                            first_sequence_number: String::new(),
                            events: events.into_iter().map(|e| (e.version, e)).collect(),
                        }))
                    }),
            )
            .await;
            progress
                .checked
                .fetch_add(chunk.len() as u64, Ordering::Relaxed);
            let mut groups: Vec<CharacterRecords> = Vec::new();
            for (&(stream, _, _, _), result) in chunk.iter().zip(read) {
                match result {
                    Ok(Some(group)) => groups.push(group),
                    Ok(None) => {}
                    Err(error) => {
                        tracing::error!(%stream, %error, "character not repaired");
                        report.failed.push(stream);
                    }
                }
            }
            if groups.is_empty() {
                continue;
            }
            let indexed = self.index_groups(&mut groups, only).await;
            for (stream, count) in indexed.written {
                report.indexed += count as u64;
                progress.indexed.fetch_add(count as u64, Ordering::Relaxed);
                report.repaired.push(stream);
            }
            for (stream, error) in indexed.failed {
                tracing::error!(%stream, %error, "character not repaired");
                report.failed.push(stream);
            }
        }
        // A character that failed after some of its entries were written is not repaired.
        report
            .repaired
            .retain(|stream| !report.failed.contains(stream));
        report.elapsed = started.elapsed();
        Ok(report)
    }
}

impl RepairReport {
    /// Whether every event of the events table is in the feed now.
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty() && self.unreadable.is_empty()
    }
}

/// Counters a caller can print while the repair runs.
#[derive(Debug, Default)]
pub struct RepairProgress {
    pub events: AtomicU64,
    pub characters: AtomicU64,
    pub checked: AtomicU64,
    pub indexed: AtomicU64,
}

/// What a repair did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RepairReport {
    /// Events the Scan read.
    pub events: u64,
    pub characters: u64,
    /// Characters with events the feed lacked, now indexed.
    pub repaired: Vec<Uuid>,
    /// Events it added to the feed.
    pub indexed: u64,
    /// Characters it could not bring up to date (logged with the error).
    pub failed: Vec<Uuid>,
    /// Keys of event items that cannot be read and name no character (logged).
    pub unreadable: Vec<String>,
    pub elapsed: Duration,
}
