//! The HP snapshot projection, free of I/O: how a batch of stream records becomes at most one
//! conditional snapshot write per character. The reads and writes it needs go through
//! [`SnapshotBackend`]; `projector` implements it on DynamoDB, the tests in memory.
//!
//! Invariant: a snapshot at version v is the fold of the stream's events 0..=v, and a snapshot
//! never moves backwards. Each write adds the HP of events `expected+1..=version` and is
//! conditional on the snapshot still being at `expected`, so no stale or concurrent writer can
//! regress it or apply an event twice.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use futures_util::future::join_all;
use uuid::Uuid;

use crate::domain::{next_version, LatestEvent, RecordedEvent, Version};
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
/// to `version`, only if it is still at `expected`. `holes` are versions between the two that
/// the events table confirmed absent: folded around, and kept on the snapshot, so that an
/// event written there later is still applied once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotUpdate {
    pub stream: Uuid,
    pub expected: Option<Version>,
    pub hp_delta: i64,
    pub character_name: String,
    pub version: Version,
    pub holes: Vec<Version>,
    /// The event at `version`: what the snapshot shows as the latest change.
    pub latest: LatestEvent,
}

/// A late event in a hole of the snapshot: add its HP and take the version off the holes,
/// only if it is still a hole there (so it is applied once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoleFill {
    pub stream: Uuid,
    pub version: Version,
    pub hp_delta: i64,
}

/// Where a character's snapshot is: its version, and the versions below it it folded around.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnapshotPosition {
    pub version: Version,
    pub holes: BTreeSet<Version>,
}

/// What the projection reads and writes.
pub trait SnapshotBackend {
    /// The stream's events with versions `from..=to`, in order, read consistently from the
    /// events table (so a version missing from the answer is missing from the table).
    fn events(
        &self,
        stream: Uuid,
        from: Version,
        to: Version,
    ) -> impl Future<Output = Result<Vec<RecordedEvent>, Error>> + Send;
    /// Where the snapshot is; `None` when there is no snapshot.
    fn snapshot(
        &self,
        stream: Uuid,
    ) -> impl Future<Output = Result<Option<SnapshotPosition>, Error>> + Send;
    /// Writes the update if the snapshot is at `update.expected`: `Ok(true)` when written,
    /// `Ok(false)` when the condition failed.
    fn apply(&self, update: &SnapshotUpdate) -> impl Future<Output = Result<bool, Error>> + Send;
    /// Applies a late event in a hole if the version is still a hole: `Ok(true)` when written.
    fn fill(&self, fill: &HoleFill) -> impl Future<Output = Result<bool, Error>> + Send;
}

/// Why one character's snapshot could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error(transparent)]
    Store(#[from] Error),
    #[error("the snapshot of {stream} kept changing: {MAX_WRITE_ATTEMPTS} writes lost their race")]
    Contended { stream: Uuid },
}

/// What a batch came to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Sequence numbers to report as batch item failures: the first record of each character
    /// whose snapshot could not be written, and every undecodable record.
    pub failures: Vec<String>,
    /// Successful snapshot writes (at most one per character, besides filled holes).
    pub writes: usize,
    /// Characters in the batch.
    pub characters: usize,
}

/// What to do next for one character, given the snapshot's position and the events in hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Every event in hand is applied already.
    UpToDate,
    /// An event in hand sits in a hole of the snapshot: apply it there first.
    Fill(HoleFill),
    /// Events `from..to` are needed first.
    Gap {
        from: Version,
        to: Version,
    },
    Write(SnapshotUpdate),
}

/// Plans a character's next step. `base` is the snapshot's position (none: no snapshot);
/// `events` are the events in hand by version; `holes` the versions the events table
/// confirmed absent. Every gap up to the last event in hand is filled (or confirmed a hole)
/// before the one write, so the write reaches the last event in hand.
pub fn plan(
    stream: Uuid,
    base: Option<&SnapshotPosition>,
    events: &BTreeMap<Version, RecordedEvent>,
    holes: &BTreeSet<Version>,
) -> Plan {
    if let Some(base) = base {
        let late = base
            .holes
            .iter()
            .find_map(|v| events.get(v).filter(|_| *v <= base.version));
        if let Some(event) = late {
            return Plan::Fill(HoleFill {
                stream,
                version: event.version,
                hp_delta: event.hp_effect(),
            });
        }
    }
    let next = next_version(base.map(|b| b.version));
    let mut hp_delta = 0;
    let mut last = None;
    let mut skipped = Vec::new();
    let mut expected = next;
    for (&version, event) in events.range(next..) {
        while expected < version && holes.contains(&expected) {
            skipped.push(expected);
            expected = expected.saturating_add(1);
        }
        if version != expected {
            return Plan::Gap {
                from: expected,
                to: version,
            };
        }
        hp_delta = event.hp_effect().saturating_add(hp_delta);
        last = Some(event);
        expected = expected.saturating_add(1);
    }
    match last {
        None => Plan::UpToDate,
        Some(last) => Plan::Write(SnapshotUpdate {
            stream,
            expected: base.map(|b| b.version),
            hp_delta,
            character_name: last.character_name.clone(),
            version: last.version,
            holes: skipped,
            latest: LatestEvent::of(last),
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
    let groups = group_by_character(records, &mut outcome.failures);
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
            Ok(writes) => outcome.writes += writes,
            Err(error) => {
                tracing::error!(%stream, error = %error, "snapshot not updated: reported as failed");
                outcome.failures.push(first_sequence_number);
            }
        }
    }
    outcome
}

/// A batch's events by character, in order of first appearance, each with the sequence number
/// of its first record (the one to report if the character fails), duplicates folded. MODIFY
/// and REMOVE records are logged and left out; undecodable ones are logged and added to
/// `failures`.
pub fn group_by_character(
    records: &[StreamRecord],
    failures: &mut Vec<String>,
) -> Vec<(Uuid, String, BTreeMap<Version, RecordedEvent>)> {
    let mut groups: Vec<(Uuid, String, BTreeMap<Version, RecordedEvent>)> = Vec::new();
    for record in records {
        match &record.change {
            Change::Insert { stream, event } => {
                let index = match groups.iter().position(|(s, _, _)| s == stream) {
                    Some(index) => index,
                    None => {
                        groups.push((*stream, record.sequence_number.clone(), BTreeMap::new()));
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
                    "events are immutable: record skipped");
            }
            Change::Undecodable { keys, reason } => {
                tracing::error!(%keys, %reason, sequence_number = %record.sequence_number,
                    "stream record cannot be read as an event: reported as failed");
                failures.push(record.sequence_number.clone());
            }
        }
    }
    groups
}

/// Brings one character's snapshot up to the events in hand; returns the writes it made.
async fn project_character<B: SnapshotBackend + Sync>(
    backend: &B,
    stream: Uuid,
    mut events: BTreeMap<Version, RecordedEvent>,
) -> Result<usize, ProjectionError> {
    // The common case: the snapshot is right before the batch's first event, with no holes.
    // Assume so and write without reading; a failed condition says otherwise.
    let mut base = events
        .keys()
        .next()
        .and_then(|first| first.checked_sub(1))
        .map(|version| SnapshotPosition {
            version,
            holes: BTreeSet::new(),
        });
    let mut holes = BTreeSet::new();
    let mut attempts = 0;
    let mut writes = 0;
    loop {
        match plan(stream, base.as_ref(), &events, &holes) {
            Plan::UpToDate => return Ok(writes),
            Plan::Gap { from, to } => {
                for event in backend.events(stream, from, to - 1).await? {
                    if (from..to).contains(&event.version) {
                        events.entry(event.version).or_insert(event);
                    }
                }
                // What the events table does not have is not late: it is a hole.
                let absent: Vec<Version> = (from..to).filter(|v| !events.contains_key(v)).collect();
                if !absent.is_empty() {
                    tracing::warn!(%stream, holes = ?absent,
                        "versions missing from the events table: folded around");
                    holes.extend(absent);
                }
            }
            Plan::Fill(fill) => {
                if backend.fill(&fill).await? {
                    writes += 1;
                } else {
                    attempts += 1;
                    if attempts >= MAX_WRITE_ATTEMPTS {
                        return Err(ProjectionError::Contended { stream });
                    }
                }
                // Written or not, the snapshot moved: read where it is now.
                base = backend.snapshot(stream).await?;
            }
            Plan::Write(update) => {
                if backend.apply(&update).await? {
                    return Ok(writes + 1);
                }
                attempts += 1;
                if attempts >= MAX_WRITE_ATTEMPTS {
                    return Err(ProjectionError::Contended { stream });
                }
                base = backend.snapshot(stream).await?;
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
                    snapshot: false,
                };
                (version, event)
            })
            .collect()
    }

    fn at(version: Version, holes: &[Version]) -> Option<SnapshotPosition> {
        Some(SnapshotPosition {
            version,
            holes: holes.iter().copied().collect(),
        })
    }

    #[test]
    fn plans_skip_fill_gaps_and_fold_contiguous_runs() {
        let s = Uuid::new_v4();
        let none = BTreeSet::new();
        assert_eq!(
            plan(s, at(5, &[]).as_ref(), &events(&[3, 4, 5]), &none),
            Plan::UpToDate
        );
        assert_eq!(
            plan(s, None, &events(&[2, 3]), &none),
            Plan::Gap { from: 0, to: 2 }
        );
        assert_eq!(
            plan(s, at(1, &[]).as_ref(), &events(&[4]), &none),
            Plan::Gap { from: 2, to: 4 }
        );
        assert_eq!(
            plan(s, at(1, &[]).as_ref(), &events(&[1, 2, 3, 5]), &none),
            Plan::Gap { from: 4, to: 5 }
        );
        let Plan::Write(update) = plan(s, at(1, &[]).as_ref(), &events(&[1, 2, 3, 4, 5]), &none)
        else {
            panic!("a write")
        };
        assert_eq!(
            (update.expected, update.version, update.hp_delta),
            (Some(1), 5, 12 + 13 + 14 + 15)
        );
        assert_eq!(update.character_name, "n5");
        assert!(update.holes.is_empty());
    }

    #[test]
    fn confirmed_holes_are_folded_around_and_late_events_fill_them() {
        let s = Uuid::new_v4();
        // Versions 0 and 2, no 1: once the table confirms 1 absent, the write skips it.
        let holes: BTreeSet<Version> = [1].into();
        let Plan::Write(update) = plan(s, None, &events(&[0, 2]), &holes) else {
            panic!("a write")
        };
        assert_eq!(
            (update.version, update.hp_delta, update.holes),
            (2, 10 + 12, vec![1])
        );
        // Version 1 arrives later: it fills the snapshot's hole, once.
        assert_eq!(
            plan(s, at(2, &[1]).as_ref(), &events(&[1]), &BTreeSet::new()),
            Plan::Fill(HoleFill {
                stream: s,
                version: 1,
                hp_delta: 11
            })
        );
        assert_eq!(
            plan(s, at(2, &[]).as_ref(), &events(&[1]), &BTreeSet::new()),
            Plan::UpToDate
        );
    }
}
