//! The scheduled upkeep: the feed's repair and the snapshots' verify, run by the stack itself,
//! one page of the events table at a time, resumable across invocations.
//!
//! A run is one Scan of the events table, page by page. For each page it checks, for every
//! character on it:
//!
//! - **the feed**: each event is in the feed of its campaign (and a move in the feed it left)
//!   when that feed's marker for the character is at or past its version and does not list it
//!   as a hole. The page's characters with an event missing are read whole and indexed together
//!   through the live indexer's own transactions (one writer per campaign, each conditional on
//!   the head and the markers), so nothing is indexed twice beside the live indexer, another
//!   run or `repair-feed`.
//! - **the snapshot**: where the page holds the whole stream and the snapshot is at its last
//!   version, the two are compared as `verify` does; otherwise, when the snapshot is not past
//!   the page's events, the character is settled as `rebuild` does (read consistently, judged,
//!   and rewritten with a compare-and-set that loses to the projector rather than overwrite it).
//!
//! Events recorded within the last [`Upkeep::grace`] are left to the live consumers (their
//! stream records are on their way): what the run writes is what the stream did not deliver.
//!
//! Where the run is lives in a checkpoint item (the feed table's `upkeep` key): the Scan's next
//! key, the run's counts, a revision and a lease. An invocation takes the lease until its
//! deadline (a conditional write on the revision it read) and writes the checkpoint after every
//! page on the same condition, so two invocations never work at once: one finding the lease
//! held stops, and one that loses a write stops. It stops between pages when its time runs
//! out, always after at least one page, and the next invocation goes on from the checkpoint; a
//! page is at most [`Upkeep::page_items`] events, so a page's work is bounded.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::AttributeValue;
use futures_util::future::join_all;
use uuid::Uuid;

use crate::domain::{RecordedEvent, DEFAULT_CAMPAIGN};
use crate::error::{Error, InfraError};
use crate::feed::Indexer;
use crate::hp::verdict::{judge, Progress, Truth};
use crate::hp::{Audit, Mode, SnapshotStore, Verdict};
use crate::store::item::decode_event;
use crate::store::sdk::condition_held;
use crate::store::{Instant as EventInstant, ScanKey, StreamSummary, Unreadable};
use crate::stream::CharacterRecords;

/// Events per page, unless told otherwise: a page's work takes about a second on DynamoDB.
pub const PAGE_ITEMS: usize = 1_000;
/// Characters of a page checked at once.
const CONCURRENT_CHARACTERS: usize = 16;
/// Events recorded this recently are the live consumers' to take, unless told otherwise.
pub const GRACE: Duration = Duration::from_secs(600);

const KEY: &str = "Key";
const POSITION: &str = "Position";
const CHECKPOINT_KEY: &str = "upkeep";
const RUN: &str = "Run";
const STARTED: &str = "Started";
const FINISHED: &str = "Finished";
const NEXT: &str = "Next";
const REVISION: &str = "Rev";
const PAGES: &str = "Pages";
const EVENTS: &str = "Events";
const FEED_ENTRIES: &str = "FeedEntries";
const SNAPSHOTS_FIXED: &str = "SnapshotsFixed";
const FAILURES: &str = "Failures";
const LEASE: &str = "LeaseUntil";

/// What the upkeep needs: the live indexer (events and feed tables) and the snapshot table.
#[derive(Debug, Clone)]
pub struct Upkeep {
    pub indexer: Indexer,
    pub snapshots: SnapshotStore,
    /// Events per page of the Scan.
    pub page_items: usize,
    /// Events recorded this recently are left to the live consumers.
    pub grace: Duration,
}

/// What started an invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The run's schedule: go on with the unfinished run, or start one.
    Schedule,
    /// The resumption's schedule: go on with the unfinished run, if there is one.
    Resume,
}

/// Where a run is: the checkpoint item.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Checkpoint {
    /// The run's id; `None` before the first run.
    pub run: Option<String>,
    /// When the run started and finished, in milliseconds since the epoch.
    pub started_ms: u64,
    pub finished_ms: Option<u64>,
    /// Where the next page starts; `None` with the run unfinished: at the beginning.
    pub next: Option<ScanKey>,
    /// Its writes: each is conditional on the one read (0: no item yet).
    pub revision: u64,
    pub pages: u64,
    pub events: u64,
    pub feed_entries: u64,
    pub snapshots_fixed: u64,
    pub failures: u64,
    /// Until when (milliseconds since the epoch) an invocation holds the run; 0: none does.
    pub lease_until_ms: u64,
}

impl Checkpoint {
    pub fn is_running(&self) -> bool {
        self.run.is_some() && self.finished_ms.is_none()
    }
}

/// What one invocation did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepReport {
    /// It started a run.
    pub started: bool,
    /// Its run finished.
    pub finished: bool,
    /// Another invocation held the run or wrote the checkpoint first: this one stopped.
    pub overtaken: bool,
    pub pages: u64,
    pub events: u64,
    /// Feed entries written: events the stream had not delivered.
    pub feed_entries: u64,
    /// Snapshots rewritten, by the verdict they had (`missing`, `stale`, `wrong`).
    pub snapshots_fixed: BTreeMap<&'static str, u64>,
    /// Characters (or keys of unreadable items) it could not check or fix: logged.
    pub failures: u64,
    /// The checkpoint as this invocation left it.
    pub checkpoint: Checkpoint,
}

/// Until when an invocation may start another page.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub deadline: Instant,
    /// Time kept back for the last page and the checkpoint's write.
    pub reserve: Duration,
}

impl Budget {
    fn allows_another_page(&self) -> bool {
        Instant::now() + self.reserve < self.deadline
    }

    /// The deadline in milliseconds since the epoch: the lease's end.
    fn deadline_ms(&self) -> u64 {
        let left = self.deadline.saturating_duration_since(Instant::now());
        now_ms().saturating_add(u64::try_from(left.as_millis()).unwrap_or(u64::MAX))
    }
}

impl Upkeep {
    pub fn new(indexer: Indexer, snapshots: SnapshotStore) -> Upkeep {
        Upkeep {
            indexer,
            snapshots,
            page_items: PAGE_ITEMS,
            grace: GRACE,
        }
    }

    pub fn with_grace(mut self, grace: Duration) -> Upkeep {
        self.grace = grace;
        self
    }

    pub fn with_page_items(mut self, page_items: usize) -> Upkeep {
        self.page_items = page_items.max(1);
        self
    }

    /// One invocation: at least one page when there is a run to go on with, then pages while
    /// `budget` allows, a checkpoint after each. What it did is in `report` even when it fails
    /// part-way (the pages before the failure are done and recorded).
    pub async fn step(
        &self,
        trigger: Trigger,
        budget: Budget,
        report: &mut StepReport,
    ) -> Result<(), Error> {
        let mut checkpoint = self.checkpoint().await?;
        if checkpoint.lease_until_ms > now_ms() {
            tracing::info!(run = ?checkpoint.run, "another invocation holds the upkeep's run");
            report.overtaken = true;
            report.checkpoint = checkpoint;
            return Ok(());
        }
        if !checkpoint.is_running() {
            if trigger == Trigger::Resume {
                report.checkpoint = checkpoint;
                return Ok(());
            }
            checkpoint = Checkpoint {
                run: Some(Uuid::new_v4().to_string()),
                started_ms: now_ms(),
                revision: checkpoint.revision,
                ..Checkpoint::default()
            };
            report.started = true;
        }
        // The lease: this invocation's until its deadline.
        checkpoint.lease_until_ms = budget.deadline_ms();
        if !self.save(&mut checkpoint).await? {
            report.started = false;
            report.overtaken = true;
            return Ok(());
        }
        if report.started {
            tracing::info!(run = ?checkpoint.run, "upkeep run started");
        }
        let cutoff = EventInstant::of(SystemTime::now() - self.grace);
        loop {
            let page = self
                .indexer
                .events
                .scan_page(checkpoint.next.clone(), self.page_items)
                .await?;
            let checked = self.check_page(page.items, cutoff).await;
            report.pages += 1;
            report.events += checked.events;
            report.feed_entries += checked.feed_entries;
            report.failures += checked.failures;
            for (verdict, n) in &checked.snapshots_fixed {
                *report.snapshots_fixed.entry(verdict).or_default() += n;
            }
            checkpoint.pages += 1;
            checkpoint.events += checked.events;
            checkpoint.feed_entries += checked.feed_entries;
            checkpoint.snapshots_fixed += checked.snapshots_fixed.values().sum::<u64>();
            checkpoint.failures += checked.failures;
            checkpoint.next = page.next;
            let last = checkpoint.next.is_none() || !budget.allows_another_page();
            if checkpoint.next.is_none() {
                checkpoint.finished_ms = Some(now_ms());
            }
            if last {
                // Handed back for the next invocation.
                checkpoint.lease_until_ms = 0;
            }
            if !self.save(&mut checkpoint).await? {
                tracing::warn!(run = ?checkpoint.run, "another invocation wrote the upkeep's checkpoint: stopped");
                report.overtaken = true;
                break;
            }
            if checkpoint.finished_ms.is_some() {
                report.finished = true;
                tracing::info!(run = ?checkpoint.run, pages = checkpoint.pages,
                    events = checkpoint.events, feed_entries = checkpoint.feed_entries,
                    snapshots_fixed = checkpoint.snapshots_fixed, failures = checkpoint.failures,
                    "upkeep run finished");
            }
            if last {
                break;
            }
        }
        report.checkpoint = checkpoint;
        Ok(())
    }

    /// The checkpoint, read consistently (the default before the first run).
    pub async fn checkpoint(&self) -> Result<Checkpoint, Error> {
        let Some(item) = self.indexer.feed.item_at(CHECKPOINT_KEY).await? else {
            return Ok(Checkpoint::default());
        };
        let number = |name: &str| match item.get(name) {
            Some(AttributeValue::N(n)) => n.parse::<u64>().ok(),
            _ => None,
        };
        let corrupt = |what: &str| InfraError::corrupt(CHECKPOINT_KEY, None, what.to_owned());
        Ok(Checkpoint {
            run: match item.get(RUN) {
                Some(AttributeValue::S(run)) => Some(run.clone()),
                _ => None,
            },
            started_ms: number(STARTED).unwrap_or(0),
            finished_ms: number(FINISHED),
            next: match item.get(NEXT) {
                Some(AttributeValue::M(next)) => Some(next.clone()),
                None => None,
                Some(_) => return Err(corrupt("Next is not a map").into()),
            },
            revision: number(REVISION).ok_or_else(|| corrupt("Rev is not a number"))?,
            pages: number(PAGES).unwrap_or(0),
            events: number(EVENTS).unwrap_or(0),
            feed_entries: number(FEED_ENTRIES).unwrap_or(0),
            snapshots_fixed: number(SNAPSHOTS_FIXED).unwrap_or(0),
            failures: number(FAILURES).unwrap_or(0),
            lease_until_ms: number(LEASE).unwrap_or(0),
        })
    }

    /// Writes the checkpoint if nobody wrote it since it was read: `false` if somebody did.
    async fn save(&self, checkpoint: &mut Checkpoint) -> Result<bool, Error> {
        let feed = &self.indexer.feed;
        let n = |v: u64| AttributeValue::N(v.to_string());
        let mut item = HashMap::from([
            (KEY.to_owned(), AttributeValue::S(CHECKPOINT_KEY.to_owned())),
            (POSITION.to_owned(), n(0)),
            (REVISION.to_owned(), n(checkpoint.revision + 1)),
            (STARTED.to_owned(), n(checkpoint.started_ms)),
            (PAGES.to_owned(), n(checkpoint.pages)),
            (EVENTS.to_owned(), n(checkpoint.events)),
            (FEED_ENTRIES.to_owned(), n(checkpoint.feed_entries)),
            (SNAPSHOTS_FIXED.to_owned(), n(checkpoint.snapshots_fixed)),
            (FAILURES.to_owned(), n(checkpoint.failures)),
            (LEASE.to_owned(), n(checkpoint.lease_until_ms)),
        ]);
        if let Some(run) = &checkpoint.run {
            item.insert(RUN.to_owned(), AttributeValue::S(run.clone()));
        }
        if let Some(finished) = checkpoint.finished_ms {
            item.insert(FINISHED.to_owned(), n(finished));
        }
        if let Some(next) = &checkpoint.next {
            item.insert(NEXT.to_owned(), AttributeValue::M(next.clone()));
        }
        let request = feed
            .client
            .put_item()
            .table_name(&feed.table)
            .set_item(Some(item));
        let request = if checkpoint.revision == 0 {
            request.condition_expression("attribute_not_exists(#rev)")
        } else {
            request
                .condition_expression("#rev = :rev")
                .expression_attribute_values(":rev", n(checkpoint.revision))
        };
        let written = condition_held(
            "PutItem",
            request
                .expression_attribute_names("#rev", REVISION)
                .send()
                .await,
        )?;
        if written {
            checkpoint.revision += 1;
        }
        Ok(written)
    }

    /// Checks (and fixes) every character of one page: events recorded after `cutoff` are the
    /// live consumers' to take.
    async fn check_page(&self, items: Vec<ScanKey>, cutoff: EventInstant) -> PageChecked {
        let mut checked = PageChecked {
            events: items.len() as u64,
            ..PageChecked::default()
        };
        let mut streams: BTreeMap<Uuid, Vec<RecordedEvent>> = BTreeMap::new();
        let mut unreadable: BTreeSet<Uuid> = BTreeSet::new();
        for item in items {
            match decode_event(item) {
                Ok((stream, event)) => streams.entry(stream).or_default().push(event),
                Err(error) => match Uuid::try_parse(&Unreadable::logged(&error, "event").0) {
                    Ok(stream) => {
                        unreadable.insert(stream);
                    }
                    // No character to fix: counted as itself.
                    Err(_) => checked.failures += 1,
                },
            }
        }
        // A character with an unreadable event can be neither indexed nor folded past it.
        checked.failures += unreadable.len() as u64;
        let mut failed: BTreeSet<Uuid> = BTreeSet::new();
        let streams: Vec<(Uuid, Vec<RecordedEvent>)> = streams
            .into_iter()
            .filter(|(stream, _)| !unreadable.contains(stream))
            .map(|(stream, events)| {
                let settled = events.into_iter().filter(|e| cutoff.saw(e)).collect();
                (stream, settled)
            })
            .filter(|(_, events): &(Uuid, Vec<RecordedEvent>)| !events.is_empty())
            .collect();

        // The feed: which characters miss an event, then all of those indexed together.
        let mut missing = Vec::new();
        for chunk in streams.chunks(CONCURRENT_CHARACTERS) {
            let found = join_all(
                chunk
                    .iter()
                    .map(|(stream, events)| self.missing_from_feed(*stream, events)),
            )
            .await;
            for ((stream, _), result) in chunk.iter().zip(found) {
                match result {
                    Ok(true) => missing.push(*stream),
                    Ok(false) => {}
                    Err(error) => {
                        tracing::error!(%stream, %error, "upkeep: character's feed not checked");
                        failed.insert(*stream);
                    }
                }
            }
        }
        let (entries, not_indexed) = self.index_whole(&missing).await;
        checked.feed_entries = entries;
        failed.extend(not_indexed);

        // The snapshots.
        for chunk in streams.chunks(CONCURRENT_CHARACTERS) {
            let results = join_all(
                chunk
                    .iter()
                    .map(|(stream, events)| self.check_snapshot(*stream, events)),
            )
            .await;
            for ((stream, _), result) in chunk.iter().zip(results) {
                match result {
                    Ok(Some(verdict)) => {
                        *checked.snapshots_fixed.entry(verdict).or_default() += 1;
                    }
                    Ok(None) => {}
                    Err(error) => {
                        tracing::error!(%stream, %error, "upkeep: character's snapshot not checked");
                        failed.insert(*stream);
                    }
                }
            }
        }
        checked.failures += failed.len() as u64;
        checked
    }

    /// Whether one of `events` is not in its feeds: each is in the feed of its campaign (a move
    /// also in the feed it left) when that feed's marker is at or past it and has no hole there.
    async fn missing_from_feed(
        &self,
        stream: Uuid,
        events: &[RecordedEvent],
    ) -> Result<bool, Error> {
        let mut by_feed: BTreeMap<Uuid, Vec<u64>> = BTreeMap::new();
        for event in events {
            let campaign = event.campaign_id.unwrap_or(DEFAULT_CAMPAIGN);
            by_feed.entry(campaign).or_default().push(event.version);
            if let Some(left) = event.moved_from {
                by_feed.entry(left).or_default().push(event.version);
            }
        }
        for (campaign, versions) in &by_feed {
            let marker = self.indexer.feed.marker(*campaign, stream).await?;
            let missing = versions
                .iter()
                .any(|&v| marker.version.is_none_or(|last| v > last) || marker.holes.contains(v));
            if missing {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Reads each character whole and indexes them all at once, as the live indexer does a
    /// batch (one writer per campaign). Returns the entries written and the characters that
    /// could not be indexed (logged).
    async fn index_whole(&self, streams: &[Uuid]) -> (u64, Vec<Uuid>) {
        let mut failed = Vec::new();
        let mut groups = Vec::new();
        for chunk in streams.chunks(CONCURRENT_CHARACTERS) {
            let read = join_all(chunk.iter().map(|&s| self.indexer.events.read_all(s))).await;
            for (&stream, result) in chunk.iter().zip(read) {
                match result {
                    Ok(events) => groups.push(CharacterRecords {
                        stream,
                        first_sequence_number: String::new(),
                        events: events.into_iter().map(|e| (e.version, e)).collect(),
                    }),
                    Err(error) => {
                        tracing::error!(%stream, %error, "upkeep: character not read");
                        failed.push(stream);
                    }
                }
            }
        }
        if groups.is_empty() {
            return (0, failed);
        }
        // The indexer logged why a character failed.
        let result = self.indexer.index_groups(&mut groups, None).await;
        failed.extend(result.failed.iter().map(|(stream, _)| *stream));
        let written = result.written.values().sum::<usize>() as u64;
        (written, failed)
    }

    /// Compares the snapshot with the page's events, and settles it when they cannot vouch for
    /// it. Returns the verdict of a snapshot it rewrote.
    async fn check_snapshot(
        &self,
        stream: Uuid,
        events: &[RecordedEvent],
    ) -> Result<Option<&'static str>, Error> {
        let mut summary: Option<StreamSummary> = None;
        for event in events {
            summary = Some(StreamSummary::add(summary, event.clone()));
        }
        let Some(summary) = summary else {
            return Ok(None);
        };
        let snapshot = self.snapshots.get(stream, false).await?;
        // Past this page's last event: the page that holds the last one vouches for it.
        if snapshot
            .as_ref()
            .is_some_and(|s| s.version > summary.last.version)
        {
            return Ok(None);
        }
        if let Some(truth) = Truth::scanned(&summary) {
            if judge(snapshot.as_ref(), Some(&truth)) == Verdict::Agrees {
                return Ok(None);
            }
        }
        let progress = Progress::default();
        let audit = Audit {
            events: &self.indexer.events,
            snapshots: &self.snapshots,
            segments: 1,
            progress: &progress,
        };
        let (verdict, wrote) = audit.settle_one(stream, Mode::Rebuild).await?;
        Ok(wrote.then_some(match verdict {
            Verdict::Missing => "missing",
            Verdict::Stale => "stale",
            _ => "wrong",
        }))
    }
}

#[derive(Debug, Default)]
struct PageChecked {
    events: u64,
    feed_entries: u64,
    snapshots_fixed: BTreeMap<&'static str, u64>,
    failures: u64,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
