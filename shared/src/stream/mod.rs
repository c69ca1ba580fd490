//! The stream batch: what every read model receives from the events table's stream, and the
//! steps they share. Records are grouped by character ([`CharacterRecords`]); a read model
//! takes each character's events in version order from where it is, and where an event is
//! missing from the batch it fills the gap from the events table ([`fill_gap`]): what the table
//! does not have either is a hole ([`Holes`]), folded around and kept, so that an event written
//! there later is still taken, once. A batch comes to a [`BatchOutcome`].

mod holes;

use std::collections::BTreeMap;
use std::future::Future;
use std::ops::Range;

use uuid::Uuid;

pub use holes::{Holes, TooManyHoles};

use crate::domain::{RecordedEvent, Version};
use crate::error::Error;
use crate::store::EventStore;

/// One stream record, as the read models see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamRecord {
    pub sequence_number: String,
    pub change: Change,
}

#[derive(Debug, Clone, PartialEq, Eq)]
// Made and matched once per record: boxing the large variant would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub enum Change {
    /// A new event in a character's stream.
    Insert { stream: Uuid, event: RecordedEvent },
    /// A MODIFY or REMOVE: events are immutable, so these are logged and not applied.
    Ignored { event_name: String, keys: String },
    /// An image that cannot be read as an event.
    Undecodable { keys: String, reason: String },
}

/// One character's events in a batch, by version (duplicates folded), with the sequence number
/// of its first record: the one to report when the character cannot be brought up to date, so
/// that Lambda delivers its records again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CharacterRecords {
    pub stream: Uuid,
    pub first_sequence_number: String,
    pub events: BTreeMap<Version, RecordedEvent>,
}

/// What a batch came to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Sequence numbers to report as batch item failures: the first record of each character
    /// that could not be brought up to date, and every undecodable record.
    pub failures: Vec<String>,
    /// Successful writes (the projector: snapshot writes; the indexer: feed entries).
    pub writes: usize,
    /// Characters in the batch.
    pub characters: usize,
    /// The indexer: transactions lost to another writer of the same campaign's head, and tried
    /// again (a campaign's head is its own item: another campaign's writer cannot cause one).
    pub retries: u64,
    /// Versions the events table confirmed missing while the batch was applied (folded
    /// around): written by other code with a version skipped.
    pub holes: u64,
}

/// A batch's events by character, in order of first appearance. MODIFY and REMOVE records are
/// logged and left out; undecodable ones are logged and added to `failures`.
pub fn group_by_character(
    records: &[StreamRecord],
    failures: &mut Vec<String>,
) -> Vec<CharacterRecords> {
    let mut groups: Vec<CharacterRecords> = Vec::new();
    for record in records {
        match &record.change {
            Change::Insert { stream, event } => {
                let index = match groups.iter().position(|g| g.stream == *stream) {
                    Some(index) => index,
                    None => {
                        groups.push(CharacterRecords {
                            stream: *stream,
                            first_sequence_number: record.sequence_number.clone(),
                            events: BTreeMap::new(),
                        });
                        groups.len() - 1
                    }
                };
                groups[index]
                    .events
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

/// The events in hand that follow a read model's position without a gap: what to take next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run<'a> {
    /// In version order.
    pub events: Vec<&'a RecordedEvent>,
    /// Versions among them the events table confirmed absent: folded around.
    pub skipped: Holes,
}

/// The events in hand from version `next` on, in order, as long as each follows the one before
/// or the versions between are confirmed `holes`; `Err(gap)` when versions `gap` must be read
/// from the events table first.
pub fn run_from<'a>(
    next: Version,
    events: &'a BTreeMap<Version, RecordedEvent>,
    holes: &Holes,
) -> Result<Run<'a>, Range<Version>> {
    let mut run = Run {
        events: Vec::new(),
        skipped: Holes::new(),
    };
    let mut expected = next;
    for (&version, event) in events.range(next..) {
        if expected < version {
            let confirmed = holes.end_of_run(expected).min(version);
            run.skipped.insert(expected..confirmed);
            expected = confirmed;
        }
        if version != expected {
            return Err(expected..version);
        }
        run.events.push(event);
        expected = expected.saturating_add(1);
    }
    Ok(run)
}

/// Where a read model reads the events a batch lacks.
pub trait EventSource {
    /// The stream's events with versions in `range`, in order, read consistently from the
    /// events table (so a version missing from the answer is missing from the table).
    fn events_in(
        &self,
        stream: Uuid,
        range: Range<Version>,
    ) -> impl Future<Output = Result<Vec<RecordedEvent>, Error>> + Send;
}

impl EventSource for EventStore {
    async fn events_in(
        &self,
        stream: Uuid,
        range: Range<Version>,
    ) -> Result<Vec<RecordedEvent>, Error> {
        self.read_versions(stream, range).await
    }
}

/// Fills versions `gap` of a character's events in hand from the events table: what the table
/// has is added to `events`; what it does not have is not late, it is a hole, added to `holes`.
pub async fn fill_gap(
    source: &(impl EventSource + Sync),
    stream: Uuid,
    gap: Range<Version>,
    events: &mut BTreeMap<Version, RecordedEvent>,
    holes: &mut Holes,
) -> Result<(), Error> {
    for event in source.events_in(stream, gap.clone()).await? {
        if gap.contains(&event.version) {
            events.entry(event.version).or_insert(event);
        }
    }
    let absent = Holes::absent_from(gap.clone(), events.range(gap).map(|(&v, _)| v));
    if !absent.is_empty() {
        tracing::warn!(%stream, holes = %absent,
            "versions missing from the events table: folded around");
        holes.extend(&absent);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::in_hand as events;

    fn versions(run: &Run<'_>) -> Vec<Version> {
        run.events.iter().map(|e| e.version).collect()
    }

    #[test]
    fn a_run_follows_the_position_folding_around_confirmed_holes_only() {
        let none = Holes::new();
        let in_hand = events(&[0, 1, 2, 3]);
        let got = run_from(1, &in_hand, &none).expect("no gap");
        assert_eq!((versions(&got), got.skipped), (vec![1, 2, 3], Holes::new()));
        assert_eq!(run_from(0, &events(&[2, 3]), &none), Err(0..2));
        assert_eq!(run_from(2, &events(&[2, 3, 5]), &none), Err(4..5));
        // Versions 1 to 999,999 confirmed absent: skipped as one range.
        let confirmed = Holes::from(1..1_000_000);
        let in_hand = events(&[0, 1_000_000]);
        let got = run_from(0, &in_hand, &confirmed).expect("no gap");
        assert_eq!(versions(&got), vec![0, 1_000_000]);
        assert_eq!(got.skipped.to_string(), "1..1000000");
        // Only part of a gap confirmed: the rest is still to read.
        assert_eq!(
            run_from(0, &events(&[0, 10]), &Holes::from(1..4)),
            Err(4..10)
        );
        assert_eq!(
            run_from(7, &events(&[1, 2]), &none).map(|r| r.events.len()),
            Ok(0)
        );
    }

    #[test]
    fn records_are_grouped_by_character_in_order_of_first_appearance() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let insert = |n: &str, stream, version| StreamRecord {
            sequence_number: n.into(),
            change: Change::Insert {
                stream,
                event: events(&[version]).remove(&version).expect("event"),
            },
        };
        let records = [
            insert("1", b, 1),
            insert("2", a, 0),
            StreamRecord {
                sequence_number: "3".into(),
                change: Change::Undecodable {
                    keys: "k".into(),
                    reason: "r".into(),
                },
            },
            insert("4", b, 0),
            insert("5", b, 1),
        ];
        let mut failures = Vec::new();
        let groups = group_by_character(&records, &mut failures);
        assert_eq!(failures, vec!["3".to_owned()]);
        let summary: Vec<(Uuid, &str, Vec<Version>)> = groups
            .iter()
            .map(|g| {
                let versions = g.events.keys().copied().collect();
                (g.stream, g.first_sequence_number.as_str(), versions)
            })
            .collect();
        assert_eq!(summary, vec![(b, "1", vec![0, 1]), (a, "2", vec![0])]);
    }
}
