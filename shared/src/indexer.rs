//! The feed indexer: the events table's stream records into the global feed, each event
//! exactly once, each character's events in version order, whatever the stream does
//! (duplicates, re-deliveries, one transaction's records out of order, a retry after a crash
//! part-way). And the repair that brings in events the stream never delivered.
//!
//! Per batch: read the head, then each character's marker; plan each character's entries
//! ([`crate::feed::plan`], filling gaps from the events table); append them all after the head
//! in transactions that also move the head and the markers. A transaction that finds the head
//! moved (another writer, e.g. the repair, got there first) writes nothing, and the batch is
//! read and planned again: entries and markers commit together, so nothing is indexed twice.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::future::{join_all, try_join_all};
use uuid::Uuid;

use crate::audit::scan_streams;
use crate::domain::{RecordedEvent, Version};
use crate::error::{Error, InfraError, SdkFailure};
use crate::feed::{plan, IndexPlan, Marker};
use crate::projection::{group_by_character, BatchOutcome, StreamRecord};
use crate::store::{EventStore, FeedStore};

/// Attempts at one batch when other writers keep moving the head, before the batch is
/// reported as failed (Lambda retries it).
pub const MAX_INDEX_ATTEMPTS: u32 = 20;
/// Characters the repair brings up to date at once.
const CONCURRENT_REPAIRS: usize = 8;

/// What the indexer needs: built once per process.
#[derive(Debug, Clone)]
pub struct Indexer {
    pub events: EventStore,
    pub feed: FeedStore,
}

type Group = (Uuid, String, BTreeMap<Version, RecordedEvent>);

impl Indexer {
    pub fn new(events: EventStore, feed: FeedStore) -> Indexer {
        Indexer { events, feed }
    }

    /// Indexes one batch and says what it came to: on failure, every character's first record
    /// is reported, so the batch is delivered again from the earliest of them.
    pub async fn index(&self, records: &[StreamRecord]) -> BatchOutcome {
        let mut outcome = BatchOutcome::default();
        let mut groups: Vec<Group> = group_by_character(records, &mut outcome.failures);
        outcome.characters = groups.len();
        match self.index_groups(&mut groups).await {
            Ok(indexed) => outcome.writes = indexed.values().sum(),
            Err(error) => {
                tracing::error!(error = %error, characters = groups.len(),
                    "batch not indexed: reported as failed");
                outcome
                    .failures
                    .extend(groups.iter().map(|(_, first, _)| first.clone()));
            }
        }
        tracing::info!(
            records = records.len(),
            characters = outcome.characters,
            indexed = outcome.writes,
            failures = outcome.failures.len(),
            "batch indexed"
        );
        outcome
    }

    /// Appends the groups' new events to the feed; returns how many, per character that had any.
    async fn index_groups(&self, groups: &mut [Group]) -> Result<HashMap<Uuid, usize>, Error> {
        let mut holes: HashMap<Uuid, BTreeSet<Version>> = HashMap::new();
        // What this call wrote, across attempts (an attempt may write some transactions and
        // lose the next to another writer).
        let mut indexed: HashMap<Uuid, usize> = HashMap::new();
        for attempt in 0..MAX_INDEX_ATTEMPTS {
            // The head first: markers read after it are at least as new as it.
            let head = self.feed.head().await?;
            let markers = try_join_all(groups.iter().map(|(s, _, _)| self.feed.marker(*s))).await?;
            let mut entries = Vec::new();
            for ((stream, _, events), marker) in groups.iter_mut().zip(&markers) {
                let holes = holes.entry(*stream).or_default();
                entries.extend(
                    self.plan_character(*stream, marker, events, holes)
                        .await?
                        .into_iter()
                        .map(|(event, marker)| (*stream, event, marker)),
                );
            }
            if entries.is_empty() {
                return Ok(indexed);
            }
            let written = self.feed.append(head, &entries).await?;
            for (stream, _, _) in &entries[..written] {
                *indexed.entry(*stream).or_default() += 1;
            }
            if written == entries.len() {
                return Ok(indexed);
            }
            let ceiling = Duration::from_millis(5 << attempt.min(6));
            tokio::time::sleep(ceiling.mul_f64(fastrand::f64())).await;
        }
        Err(InfraError::Contended(SdkFailure {
            operation: "TransactWriteItems",
            code: format!("the feed's head moved under {MAX_INDEX_ATTEMPTS} attempts"),
            ..SdkFailure::default()
        })
        .into())
    }

    /// A character's entries after `marker`, filling gaps from the events table.
    async fn plan_character(
        &self,
        stream: Uuid,
        marker: &Marker,
        events: &mut BTreeMap<Version, RecordedEvent>,
        holes: &mut BTreeSet<Version>,
    ) -> Result<Vec<(RecordedEvent, Marker)>, Error> {
        loop {
            match plan(marker, events, holes) {
                IndexPlan::UpToDate => return Ok(Vec::new()),
                IndexPlan::Index(entries) => return Ok(entries),
                IndexPlan::Gap { from, to } => {
                    let count = usize::try_from(to - from).unwrap_or(usize::MAX);
                    for event in self.events.read_range(stream, from, count).await? {
                        if (from..to).contains(&event.version) {
                            events.entry(event.version).or_insert(event);
                        }
                    }
                    // What the events table does not have is not late: it is a hole.
                    let absent: Vec<Version> =
                        (from..to).filter(|v| !events.contains_key(v)).collect();
                    if !absent.is_empty() {
                        tracing::warn!(%stream, holes = absent.len(),
                            "versions missing from the events table: the feed goes past them");
                    }
                    holes.extend(absent);
                }
            }
        }
    }

    /// Brings into the feed every event it lacks: events from before the feed existed, events
    /// written by other code, events whose stream records were lost. A parallel Scan of the
    /// events table finds the characters whose marker is behind (or has a hole the table now
    /// fills); each is indexed from its stream through the same transactions as the live
    /// indexer, so running it beside the indexer, again, or on a schedule indexes nothing twice.
    pub async fn repair(
        &self,
        segments: u32,
        progress: &RepairProgress,
    ) -> Result<RepairReport, Error> {
        let started = std::time::Instant::now();
        let streams = scan_streams(
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
        let streams: Vec<(Uuid, u64, Version)> = streams
            .into_iter()
            .map(|(stream, summary)| (stream, summary.events, summary.last.version))
            .collect();
        // Characters are checked and read concurrently, and each chunk of them is indexed
        // together (one writer: chunks of one repair do not race each other for the head).
        for chunk in streams.chunks(CONCURRENT_REPAIRS) {
            let read = join_all(chunk.iter().map(|&(stream, count, last)| async move {
                let marker = self.feed.marker(stream).await?;
                let indexed = marker.version == Some(last)
                    && count == (last + 1).saturating_sub(marker.holes.len() as u64);
                if indexed {
                    return Ok(None);
                }
                let events = self.events.read_all(stream).await?;
                Ok::<_, Error>(Some((
                    stream,
                    String::new(),
                    events.into_iter().map(|e| (e.version, e)).collect(),
                )))
            }))
            .await;
            progress
                .checked
                .fetch_add(chunk.len() as u64, Ordering::Relaxed);
            let mut groups: Vec<Group> = Vec::new();
            for (&(stream, _, _), result) in chunk.iter().zip(read) {
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
            match self.index_groups(&mut groups).await {
                Ok(indexed) => {
                    for (stream, count) in indexed {
                        report.indexed += count as u64;
                        progress.indexed.fetch_add(count as u64, Ordering::Relaxed);
                        report.repaired.push(stream);
                    }
                }
                Err(error) => {
                    tracing::error!(%error, characters = groups.len(), "characters not repaired");
                    report.failed.extend(groups.iter().map(|(s, _, _)| *s));
                }
            }
        }
        report.elapsed = started.elapsed();
        Ok(report)
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
    pub elapsed: Duration,
}
