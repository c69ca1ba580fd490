//! The feed indexer: the events table's stream records into the campaigns' feeds, each event
//! exactly once, each character's events in version order, whatever the stream does
//! (duplicates, re-deliveries, one transaction's records out of order, a retry after a crash
//! part-way).
//!
//! Per batch: read the head, then each character's marker; plan each character's entries
//! ([`super::plan::plan`], filling gaps from the events table); append them all after the head
//! in transactions that also move the head and the markers. A transaction that finds the head
//! moved (another writer, e.g. the repair, got there first) writes nothing, and the batch is
//! read and planned again: entries and markers commit together, so nothing is indexed twice.
//!
//! The character is the unit of failure: one whose marker or events cannot be read, or whose
//! holes would outgrow an item, is left out and reported; the others are indexed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use futures_util::future::join_all;
use uuid::Uuid;

use super::plan::{plan, IndexPlan, Marker};
use super::table::FeedStore;
use crate::domain::{RecordedEvent, Version, DEFAULT_CAMPAIGN};
use crate::error::{Error, InfraError, SdkFailure};
use crate::store::EventStore;
use crate::stream::{
    fill_gap, group_by_character, BatchOutcome, CharacterRecords, Holes, StreamRecord,
};

/// Attempts at one batch when other writers keep moving the head, before the batch is
/// reported as failed (Lambda retries it).
pub const MAX_INDEX_ATTEMPTS: u32 = 20;

/// What the indexer needs: built once per process.
#[derive(Debug, Clone)]
pub struct Indexer {
    pub events: EventStore,
    pub feed: FeedStore,
}

/// What indexing some characters came to.
#[derive(Debug, Default)]
pub(crate) struct Indexed {
    /// Entries written, per character that had any.
    pub written: HashMap<Uuid, usize>,
    /// Characters that could not be indexed, each with why (logged).
    pub failed: Vec<(Uuid, String)>,
    /// Transactions lost to another writer of the same campaign's head (and tried again).
    pub retries: u64,
    /// Versions the events table confirmed missing.
    pub holes: u64,
}

impl Indexed {
    fn fail(&mut self, stream: Uuid, error: &Error) {
        if !self.failed.iter().any(|(s, _)| *s == stream) {
            self.failed.push((stream, error.to_string()));
        }
    }
}

impl Indexer {
    pub fn new(events: EventStore, feed: FeedStore) -> Indexer {
        Indexer { events, feed }
    }

    /// Indexes one batch and says what it came to: the first record of each character that
    /// could not be indexed is reported, so Lambda delivers its records again; the other
    /// characters are indexed. When a campaign's feed itself cannot be written, every
    /// character of that campaign's.
    pub async fn index(&self, records: &[StreamRecord]) -> BatchOutcome {
        let mut outcome = BatchOutcome::default();
        let mut groups = group_by_character(records, &mut outcome.failures);
        outcome.characters = groups.len();
        let first_records: HashMap<Uuid, String> = groups
            .iter()
            .map(|g| (g.stream, g.first_sequence_number.clone()))
            .collect();
        let indexed = self.index_groups(&mut groups, None).await;
        outcome.writes = indexed.written.values().sum();
        outcome.retries = indexed.retries;
        outcome.holes = indexed.holes;
        for (stream, error) in indexed.failed {
            tracing::error!(%stream, %error, "character not indexed: reported as failed");
            outcome.failures.extend(first_records.get(&stream).cloned());
        }
        tracing::info!(
            records = records.len(),
            characters = outcome.characters,
            indexed = outcome.writes,
            retries = indexed.retries,
            failures = outcome.failures.len(),
            "batch indexed"
        );
        outcome
    }

    /// Appends the groups' new events to the feeds of their campaigns (of `only`, when given):
    /// one writer per campaign, all at once, each conditional on its own campaign's head only.
    /// A character whose marker or events cannot be read, or whose holes would outgrow an item,
    /// is left out and returned as failed; so is every character of a campaign whose feed
    /// itself cannot be written (its head, a transaction).
    pub(crate) async fn index_groups(
        &self,
        groups: &mut [CharacterRecords],
        only: Option<Uuid>,
    ) -> Indexed {
        let mut by_campaign: BTreeMap<Uuid, Vec<CharacterRecords>> = BTreeMap::new();
        for group in groups.iter() {
            let campaigns: BTreeSet<Uuid> = group
                .events
                .values()
                .flat_map(|e| {
                    [
                        Some(e.campaign_id.unwrap_or(DEFAULT_CAMPAIGN)),
                        e.moved_from,
                    ]
                })
                .flatten()
                .filter(|c| only.is_none_or(|only| only == *c))
                .collect();
            for campaign in campaigns {
                by_campaign.entry(campaign).or_default().push(group.clone());
            }
        }
        let results = join_all(
            by_campaign
                .into_iter()
                .map(|(campaign, mut groups)| async move {
                    let result = self.index_campaign(campaign, &mut groups).await;
                    (campaign, groups, result)
                }),
        )
        .await;
        let mut indexed = Indexed::default();
        for (campaign, groups, result) in results {
            match result {
                Ok(part) => {
                    for (stream, count) in part.written {
                        *indexed.written.entry(stream).or_default() += count;
                    }
                    for (stream, error) in part.failed {
                        if !indexed.failed.iter().any(|(s, _)| *s == stream) {
                            indexed.failed.push((stream, error));
                        }
                    }
                    indexed.retries += part.retries;
                    indexed.holes += part.holes;
                }
                Err(error) => {
                    tracing::error!(%campaign, %error, characters = groups.len(),
                        "campaign's feed not written");
                    for group in &groups {
                        indexed.fail(group.stream, &error);
                    }
                }
            }
        }
        indexed
    }

    /// Appends the groups' new events to one campaign's feed. An error is what kept the feed
    /// itself from being written.
    async fn index_campaign(
        &self,
        campaign: Uuid,
        groups: &mut [CharacterRecords],
    ) -> Result<Indexed, Error> {
        let mut holes: HashMap<Uuid, Holes> = HashMap::new();
        // What this call wrote, across attempts (an attempt may write some transactions and
        // lose the next to another writer).
        let mut indexed = Indexed::default();
        for attempt in 0..MAX_INDEX_ATTEMPTS {
            // The head first: markers read after it are at least as new as it.
            let head = self.feed.head(campaign).await?;
            let live: Vec<&mut CharacterRecords> = groups
                .iter_mut()
                .filter(|g| !indexed.failed.iter().any(|(s, _)| *s == g.stream))
                .collect();
            let planned = join_all(live.into_iter().map(|group| {
                let holes = holes.remove(&group.stream).unwrap_or_default();
                self.plan_character(campaign, group, holes)
            }))
            .await;
            let mut entries = Vec::new();
            for (stream, result) in planned {
                match result {
                    Ok((planned, confirmed)) => {
                        holes.insert(stream, confirmed);
                        entries.extend(
                            planned
                                .into_iter()
                                .map(|(event, marker)| (stream, event, marker)),
                        );
                    }
                    Err(error) => indexed.fail(stream, &error),
                }
            }
            indexed.holes = holes.values().map(Holes::count).sum();
            if entries.is_empty() {
                return Ok(indexed);
            }
            let written = self.feed.append(campaign, head, &entries).await?;
            for (stream, _, _) in &entries[..written] {
                *indexed.written.entry(*stream).or_default() += 1;
            }
            if written == entries.len() {
                return Ok(indexed);
            }
            indexed.retries += 1;
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

    /// A character's entries in `campaign`'s feed after its marker there, filling gaps from
    /// the events table, with the holes the events table confirmed.
    async fn plan_character(
        &self,
        campaign: Uuid,
        group: &mut CharacterRecords,
        mut holes: Holes,
    ) -> (Uuid, Result<(Vec<(RecordedEvent, Marker)>, Holes), Error>) {
        let stream = group.stream;
        let planned = async {
            let marker = self.feed.marker(campaign, stream).await?;
            let entries = plan_entries(
                &self.events,
                campaign,
                stream,
                &marker,
                &mut group.events,
                &mut holes,
            )
            .await?;
            // A marker whose holes outgrow an item fails its character only.
            if let Some((_, last)) = entries.last() {
                last.holes
                    .to_text()
                    .map_err(|e| InfraError::corrupt(stream, None, e.to_string()))?;
            }
            Ok((entries, holes))
        };
        (stream, planned.await)
    }
}

/// Plans a character's entries after `marker`, filling gaps from the events table.
async fn plan_entries(
    events_table: &EventStore,
    campaign: Uuid,
    stream: Uuid,
    marker: &Marker,
    events: &mut BTreeMap<Version, RecordedEvent>,
    holes: &mut Holes,
) -> Result<Vec<(RecordedEvent, Marker)>, Error> {
    loop {
        match plan(campaign, marker, events, holes) {
            IndexPlan::UpToDate => return Ok(Vec::new()),
            IndexPlan::Index(entries) => return Ok(entries),
            IndexPlan::Gap(gap) => fill_gap(events_table, stream, gap, events, holes).await?,
        }
    }
}
