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
use std::ops::Range;

use futures_util::future::join_all;
use uuid::Uuid;

use crate::domain::{next_version, LatestEvent, RecordedEvent, Version, DEFAULT_CAMPAIGN};
use crate::error::Error;
use crate::rules::{fold_plain, Sheet};
use crate::stream::{
    fill_gap, group_by_character, run_from, BatchOutcome, CharacterRecords, EventSource, Holes,
    StreamRecord,
};

/// Attempts at one character's snapshot write in one batch before it is reported as failed.
pub const MAX_WRITE_ATTEMPTS: u32 = 5;

/// A snapshot write: add `hp_delta` to the snapshot at `expected` (none: create it) and move it
/// to `version`, only if it is still at `expected`. Versions between the two that the events
/// table confirmed absent are folded around and added to the snapshot's holes (`holes`), so
/// that an event written there later is still applied once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotUpdate {
    pub stream: Uuid,
    pub expected: Option<Version>,
    pub hp_delta: i64,
    pub character_name: String,
    pub version: Version,
    /// `None`: the holes stay as they are.
    pub holes: Option<HolesChange>,
    /// The event at `version`: what the snapshot shows as the latest change.
    pub latest: LatestEvent,
    /// The sheet after `version`, on a character with rules: the last one an event in hand
    /// carries, with the plain changes after it folded in. The snapshot's HP is then its HP.
    pub rules: Option<Sheet>,
    /// The campaign the event at `version` puts the character in.
    pub campaign_id: Uuid,
}

/// A write of a snapshot's holes: from what was read to `after`, only if they are still what
/// was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolesChange {
    pub read: Holes,
    /// Whether they were read from a snapshot written before holes were ranges.
    pub legacy: bool,
    pub after: Holes,
}

/// A late event in a hole of the snapshot: add its HP and take the version off the holes,
/// only if the holes are still what was read (so it is applied once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoleFill {
    pub stream: Uuid,
    pub version: Version,
    pub hp_delta: i64,
    pub holes: HolesChange,
}

/// Where a character's snapshot is: its version, and the versions below it it folded around.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnapshotPosition {
    pub version: Version,
    pub holes: Holes,
    /// Whether the holes were read from a snapshot written before holes were ranges.
    pub legacy_holes: bool,
    /// The snapshot's sheet, on a character under the rules: what a plain change written by
    /// other code is clamped against.
    pub rules: Option<Sheet>,
}

impl SnapshotPosition {
    /// A change of this position's holes to `after`.
    fn holes_to(&self, after: Holes) -> HolesChange {
        HolesChange {
            read: self.holes.clone(),
            legacy: self.legacy_holes,
            after,
        }
    }
}

/// What the projection reads and writes: the events table through [`EventSource`], and the
/// snapshot table.
pub trait SnapshotBackend: EventSource {
    /// Where the snapshot is; `None` when there is no snapshot.
    fn snapshot(
        &self,
        stream: Uuid,
    ) -> impl Future<Output = Result<Option<SnapshotPosition>, Error>> + Send;
    /// Writes the update if the snapshot is at `update.expected`: `Ok(true)` when written,
    /// `Ok(false)` when the condition failed.
    fn apply(&self, update: &SnapshotUpdate) -> impl Future<Output = Result<bool, Error>> + Send;
    /// Applies a late event in a hole if the holes are still what the fill read: `Ok(true)`
    /// when written.
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

/// What to do next for one character, given the snapshot's position and the events in hand.
#[derive(Debug, Clone, PartialEq, Eq)]
// Made and matched once per character: boxing the large variant would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub enum Plan {
    /// Every event in hand is applied already.
    UpToDate,
    /// An event in hand sits in a hole of the snapshot: apply it there first.
    Fill(HoleFill),
    /// Versions in this range are needed first (read them from the events table).
    Gap(Range<Version>),
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
    holes: &Holes,
) -> Plan {
    if let Some(base) = base {
        let late = events
            .range(..=base.version)
            .find(|(v, _)| base.holes.contains(**v));
        if let Some((&version, event)) = late {
            let mut after = base.holes.clone();
            after.remove(version);
            return Plan::Fill(HoleFill {
                stream,
                version,
                hp_delta: event.hp_effect(),
                holes: base.holes_to(after),
            });
        }
    }
    let run = match run_from(next_version(base.map(|b| b.version)), events, holes) {
        Ok(run) => run,
        Err(gap) => return Plan::Gap(gap),
    };
    let Some(last) = run.events.last() else {
        return Plan::UpToDate;
    };
    let hp_delta = run
        .events
        .iter()
        .fold(0i64, |sum, e| e.hp_effect().saturating_add(sum));
    let holes = (!run.skipped.is_empty()).then(|| {
        let unchanged = SnapshotPosition::default();
        let base = base.unwrap_or(&unchanged);
        let mut after = base.holes.clone();
        after.extend(&run.skipped);
        base.holes_to(after)
    });
    // From the snapshot's sheet, when it was read.
    let base_rules = base.and_then(|b| b.rules.clone());
    let rules = run
        .events
        .iter()
        .fold(base_rules, |sheet: Option<Sheet>, e| {
            match (&e.state, sheet) {
                (Some(after), _) => Some(after.clone()),
                (None, Some(sheet)) if !e.snapshot => Some(fold_plain(&sheet, e.hp_change)),
                (None, sheet) => sheet,
            }
        });
    Plan::Write(SnapshotUpdate {
        stream,
        expected: base.map(|b| b.version),
        hp_delta,
        rules,
        character_name: last.character_name.clone(),
        version: last.version,
        holes,
        latest: LatestEvent::of(last),
        campaign_id: last.campaign_id.unwrap_or(DEFAULT_CAMPAIGN),
    })
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
    let results = join_all(groups.into_iter().map(|group| async move {
        let CharacterRecords {
            stream,
            first_sequence_number,
            events,
        } = group;
        let result = project_character(backend, stream, events).await;
        (stream, first_sequence_number, result)
    }))
    .await;
    for (stream, first_sequence_number, result) in results {
        match result {
            Ok((writes, holes)) => {
                outcome.writes += writes;
                outcome.holes += holes;
            }
            Err(error) => {
                tracing::error!(%stream, error = %error, "snapshot not updated: reported as failed");
                outcome.failures.push(first_sequence_number);
            }
        }
    }
    outcome
}

/// Brings one character's snapshot up to the events in hand; returns the writes it made and
/// the versions it found missing from the events table.
async fn project_character<B: SnapshotBackend + Sync>(
    backend: &B,
    stream: Uuid,
    mut events: BTreeMap<Version, RecordedEvent>,
) -> Result<(usize, u64), ProjectionError> {
    // The common case: the snapshot is right before the batch's first event, with no holes.
    // Assume so and write without reading; a failed condition says otherwise. Unless the first
    // event was written without a type (by other code): whether the rules clamp it depends on
    // the sheet, which only the snapshot has.
    let untyped_first = events
        .values()
        .next()
        .is_some_and(|e| !e.snapshot && e.command.is_none() && e.state.is_none());
    let mut base = if untyped_first {
        backend.snapshot(stream).await?
    } else {
        events
            .keys()
            .next()
            .and_then(|first| first.checked_sub(1))
            .map(|version| SnapshotPosition {
                version,
                ..SnapshotPosition::default()
            })
    };
    let mut holes = Holes::new();
    let mut attempts = 0;
    let mut writes = 0;
    loop {
        match plan(stream, base.as_ref(), &events, &holes) {
            Plan::UpToDate => return Ok((writes, holes.count())),
            Plan::Gap(gap) => fill_gap(backend, stream, gap, &mut events, &mut holes).await?,
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
                    return Ok((writes + 1, holes.count()));
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
    use crate::domain::fixtures::in_hand as events;

    fn at(version: Version, holes: &[Version]) -> Option<SnapshotPosition> {
        Some(SnapshotPosition {
            version,
            holes: holes.iter().copied().collect(),
            legacy_holes: false,
            rules: None,
        })
    }

    #[test]
    fn plans_skip_fill_gaps_and_fold_contiguous_runs() {
        let s = Uuid::new_v4();
        let none = Holes::new();
        assert_eq!(
            plan(s, at(5, &[]).as_ref(), &events(&[3, 4, 5]), &none),
            Plan::UpToDate
        );
        assert_eq!(plan(s, None, &events(&[2, 3]), &none), Plan::Gap(0..2));
        assert_eq!(
            plan(s, at(1, &[]).as_ref(), &events(&[4]), &none),
            Plan::Gap(2..4)
        );
        assert_eq!(
            plan(s, at(1, &[]).as_ref(), &events(&[1, 2, 3, 5]), &none),
            Plan::Gap(4..5)
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
        assert_eq!(update.holes, None);
    }

    #[test]
    fn confirmed_holes_are_folded_around_and_late_events_fill_them() {
        let s = Uuid::new_v4();
        // Versions 0 and 2, no 1: once the table confirms 1 absent, the write skips it.
        let holes = Holes::from(1..2);
        let Plan::Write(update) = plan(s, None, &events(&[0, 2]), &holes) else {
            panic!("a write")
        };
        assert_eq!((update.version, update.hp_delta), (2, 10 + 12));
        assert_eq!(
            update.holes,
            Some(HolesChange {
                read: Holes::new(),
                legacy: false,
                after: Holes::from(1..2)
            })
        );
        // Version 1 arrives later: it fills the snapshot's hole, once.
        assert_eq!(
            plan(s, at(2, &[1]).as_ref(), &events(&[1]), &Holes::new()),
            Plan::Fill(HoleFill {
                stream: s,
                version: 1,
                hp_delta: 11,
                holes: HolesChange {
                    read: Holes::from(1..2),
                    legacy: false,
                    after: Holes::new()
                }
            })
        );
        assert_eq!(
            plan(s, at(2, &[]).as_ref(), &events(&[1]), &Holes::new()),
            Plan::UpToDate
        );
    }

    #[test]
    fn a_jump_of_a_million_versions_is_one_range_added_to_the_holes_read() {
        let s = Uuid::new_v4();
        let base = at(3, &[1]);
        let jump = Holes::from(4..1_000_004);
        let Plan::Write(update) = plan(s, base.as_ref(), &events(&[1_000_004]), &jump) else {
            panic!("a write")
        };
        let change = update.holes.expect("holes written");
        assert_eq!(change.read, Holes::from(1..2));
        assert_eq!(change.after.to_string(), "1..2,4..1000004");
        assert_eq!(update.hp_delta, 10 + 1_000_004);
    }
}
