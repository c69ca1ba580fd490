//! The HP snapshot projection, free of I/O: how a batch of stream records becomes at most one
//! conditional snapshot write per character. The reads and writes it needs go through
//! [`SnapshotBackend`]; `projector` implements it on DynamoDB, the tests in memory.
//!
//! Invariant: a snapshot at version v is the fold of the stream's events 0..=v, and a snapshot
//! never moves backwards. Each write adds the HP of events `expected+1..=version` and is
//! conditional on the snapshot still being at `expected`, so no stale or concurrent writer can
//! regress it or apply an event twice.

use std::collections::BTreeMap;
use std::future::Future;

use futures_util::future::join_all;
use uuid::Uuid;

use crate::domain::{next_version, RecordedEvent, Version};
use crate::error::Error;

/// Attempts at one character's snapshot write in one batch before it is reported as failed.
pub const MAX_WRITE_ATTEMPTS: u32 = 5;

/// One stream record, as the projector sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamRecord {
    pub sequence_number: String,
    pub change: Change,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A new event in a character's stream.
    Insert { stream: Uuid, event: RecordedEvent },
    /// A MODIFY or REMOVE: events are immutable, so these are logged and not applied.
    Ignored { event_name: String, keys: String },
    /// An image that cannot be read as an event.
    Undecodable { keys: String, reason: String },
}

/// A snapshot write: add `hp_delta` to the snapshot at `expected` (none: create it) and move it
/// to `version`, only if it is still at `expected`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotUpdate {
    pub stream: Uuid,
    pub expected: Option<Version>,
    pub hp_delta: i64,
    pub character_name: String,
    pub version: Version,
}

/// What the projection reads and writes.
pub trait SnapshotBackend {
    /// The stream's events with versions `from..=to`, in order.
    fn events(
        &self,
        stream: Uuid,
        from: Version,
        to: Version,
    ) -> impl Future<Output = Result<Vec<RecordedEvent>, Error>> + Send;
    /// The snapshot's version; `None` when there is no snapshot.
    fn snapshot_version(
        &self,
        stream: Uuid,
    ) -> impl Future<Output = Result<Option<Version>, Error>> + Send;
    /// Writes the update if the snapshot is at `update.expected`: `Ok(true)` when written,
    /// `Ok(false)` when the condition failed.
    fn apply(&self, update: &SnapshotUpdate) -> impl Future<Output = Result<bool, Error>> + Send;
}

/// Why one character's snapshot could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error(transparent)]
    Store(#[from] Error),
    #[error("events {from}..{to} of stream {stream} are missing from the events table")]
    MissingEvents {
        stream: Uuid,
        from: Version,
        to: Version,
    },
    #[error("the snapshot of {stream} kept changing: {MAX_WRITE_ATTEMPTS} writes lost their race")]
    Contended { stream: Uuid },
}

/// What a batch came to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Sequence numbers to report as batch item failures: the first record of each character
    /// whose snapshot could not be written, and every undecodable record.
    pub failures: Vec<String>,
    /// Successful snapshot writes (at most one per character).
    pub writes: usize,
    /// Characters in the batch.
    pub characters: usize,
}

/// What to do next for one character, given the snapshot's version and the events in hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Every event in hand is applied already.
    UpToDate,
    /// Events `from..to` are needed first.
    Gap {
        from: Version,
        to: Version,
    },
    Write(SnapshotUpdate),
}

/// Plans a character's next step. `base` is the snapshot's version (none: no snapshot);
/// `events` are the events in hand by version. Every gap up to the last event in hand is filled
/// before the one write, so the write reaches the last event in hand.
pub fn plan(
    stream: Uuid,
    base: Option<Version>,
    events: &BTreeMap<Version, RecordedEvent>,
) -> Plan {
    let next = next_version(base);
    let mut hp_delta = 0;
    let mut last = None;
    for (expected, (&version, event)) in (next..).zip(events.range(next..)) {
        if version != expected {
            return Plan::Gap {
                from: expected,
                to: version,
            };
        }
        hp_delta += event.hp_change;
        last = Some(event);
    }
    match last {
        None => Plan::UpToDate,
        Some(last) => Plan::Write(SnapshotUpdate {
            stream,
            expected: base,
            hp_delta,
            character_name: last.character_name.clone(),
            version: last.version,
        }),
    }
}

/// Applies a batch: the records of each character folded together into at most one successful
/// snapshot write. Records already applied are skipped; gaps are filled from the events table.
pub async fn project_batch<B: SnapshotBackend + Sync>(
    backend: &B,
    records: &[StreamRecord],
) -> BatchOutcome {
    let mut outcome = BatchOutcome::default();
    // Characters in order of first appearance, each with its first record and its events.
    let mut groups: Vec<(Uuid, &str, BTreeMap<Version, RecordedEvent>)> = Vec::new();
    for record in records {
        match &record.change {
            Change::Insert { stream, event } => {
                let index = match groups.iter().position(|(s, _, _)| s == stream) {
                    Some(index) => index,
                    None => {
                        groups.push((*stream, &record.sequence_number, BTreeMap::new()));
                        groups.len() - 1
                    }
                };
                groups[index]
                    .2
                    .entry(event.version)
                    .or_insert_with(|| event.clone());
            }
            Change::Ignored { event_name, keys } => {
                tracing::warn!(%event_name, %keys, sequence_number = %record.sequence_number,
                    "events are immutable: record not applied");
            }
            Change::Undecodable { keys, reason } => {
                tracing::error!(%keys, %reason, sequence_number = %record.sequence_number,
                    "stream record cannot be read as an event: reported as failed");
                outcome.failures.push(record.sequence_number.clone());
            }
        }
    }
    outcome.characters = groups.len();
    // Characters are independent: their snapshots are written concurrently.
    let results = join_all(
        groups
            .into_iter()
            .map(|(stream, first, events)| async move {
                (
                    stream,
                    first,
                    project_character(backend, stream, events).await,
                )
            }),
    )
    .await;
    for (stream, first_sequence_number, result) in results {
        match result {
            Ok(true) => outcome.writes += 1,
            Ok(false) => {}
            Err(error) => {
                tracing::error!(%stream, error = ?error, "snapshot not updated: reported as failed");
                outcome.failures.push(first_sequence_number.to_owned());
            }
        }
    }
    outcome
}

/// Brings one character's snapshot up to the events in hand; `Ok(true)` when it wrote.
async fn project_character<B: SnapshotBackend + Sync>(
    backend: &B,
    stream: Uuid,
    mut events: BTreeMap<Version, RecordedEvent>,
) -> Result<bool, ProjectionError> {
    // The common case: the snapshot is right before the batch's first event. Assume so and
    // write without reading; a failed condition says otherwise.
    let mut base = events.keys().next().and_then(|first| first.checked_sub(1));
    let mut attempts = 0;
    loop {
        match plan(stream, base, &events) {
            Plan::UpToDate => return Ok(false),
            Plan::Gap { from, to } => {
                for event in backend.events(stream, from, to - 1).await? {
                    if (from..to).contains(&event.version) {
                        events.entry(event.version).or_insert(event);
                    }
                }
                if !events.contains_key(&from) {
                    return Err(ProjectionError::MissingEvents { stream, from, to });
                }
            }
            Plan::Write(update) => {
                if backend.apply(&update).await? {
                    return Ok(true);
                }
                attempts += 1;
                if attempts >= MAX_WRITE_ATTEMPTS {
                    return Err(ProjectionError::Contended { stream });
                }
                base = backend.snapshot_version(stream).await?;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(versions: &[Version]) -> BTreeMap<Version, RecordedEvent> {
        versions
            .iter()
            .map(|&version| {
                let event = RecordedEvent {
                    version,
                    character_name: format!("n{version}"),
                    hp_change: 10 + version as i64,
                    note: "n".into(),
                    event_id: None,
                    recorded_at: None,
                };
                (version, event)
            })
            .collect()
    }

    #[test]
    fn plans_skip_fill_gaps_and_fold_contiguous_runs() {
        let s = Uuid::new_v4();
        assert_eq!(plan(s, Some(5), &events(&[3, 4, 5])), Plan::UpToDate);
        assert_eq!(
            plan(s, None, &events(&[2, 3])),
            Plan::Gap { from: 0, to: 2 }
        );
        assert_eq!(
            plan(s, Some(1), &events(&[4])),
            Plan::Gap { from: 2, to: 4 }
        );
        assert_eq!(
            plan(s, Some(1), &events(&[1, 2, 3, 5])),
            Plan::Gap { from: 4, to: 5 }
        );
        let Plan::Write(update) = plan(s, Some(1), &events(&[1, 2, 3, 4, 5])) else {
            panic!("a write")
        };
        assert_eq!(
            (update.expected, update.version, update.hp_delta),
            (Some(1), 5, 12 + 13 + 14 + 15)
        );
        assert_eq!(update.character_name, "n5");
    }
}
