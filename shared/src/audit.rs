//! Verifying and rebuilding the HP snapshots from the events table.
//!
//! Both start with DynamoDB's parallel Scan of the events table (folding each character's
//! events as they come: the fold's sum does not depend on their order) and of the snapshot
//! table. Where the two agree, that is the answer. Where they do not, the scans may simply
//! have seen the tables at different moments, so the character is read again, consistently:
//! its snapshot first, then its stream (so the stream read holds every event the snapshot
//! has). `verify` reports what that shows; `rebuild` also writes the stream's fold as the
//! snapshot, conditional on the snapshot still being what it read (a compare-and-set), and
//! reads again when it lost that race. It never writes a snapshot older than the one it read.
//!
//! Safe while the projector runs: a rebuilt snapshot is the exact fold of versions 0..=v with
//! its holes, which is what the projector itself would have written at v; the projector's
//! writes are conditional on the snapshot's version, so it carries on from there.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use uuid::Uuid;

use crate::domain::{CharacterState, LatestEvent, RecordedEvent, Version};
use crate::error::{Error, InfraError};
use crate::store::{EventStore, Segment, Snapshot, SnapshotStore};

/// Attempts at one character's compare-and-set before the rebuild reports it as contended.
pub const MAX_REBUILD_ATTEMPTS: u32 = 5;
/// Most versions a stream may be missing (written by other code) for a rebuild to fold around
/// them: the snapshot keeps them as a number set, within DynamoDB's 400 KB item.
const MAX_HOLES: Version = 10_000;
/// Characters read again (and rewritten) at the same time.
const CONCURRENT_CHARACTERS: usize = 16;

/// What the audit does besides reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Compare and report; write nothing.
    Verify,
    /// Compare, and write the fold wherever a snapshot is missing, behind or wrong.
    Rebuild,
}

/// Counters a caller can print while the audit runs.
#[derive(Debug, Default)]
pub struct Progress {
    /// Events read by the Scan.
    pub events: AtomicU64,
    /// Characters whose events the Scan has met.
    pub characters: AtomicU64,
    /// Characters compared with their snapshot.
    pub checked: AtomicU64,
    /// Snapshots written.
    pub written: AtomicU64,
}

/// How one character's snapshot compares with the fold of its stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Agrees,
    /// The stream has events; there is no snapshot.
    Missing,
    /// The snapshot is at a version before the stream's last.
    Stale,
    /// The snapshot is at the stream's last version with other values, or ahead of the stream.
    Wrong,
    /// A snapshot with no events behind it. Never written or removed by a rebuild.
    Orphaned,
}

/// What an audit found, and for a rebuild what it wrote.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Events the Scan read.
    pub events: u64,
    /// Characters with events or a snapshot.
    pub characters: u64,
    /// Snapshots that agreed with their stream when checked.
    pub agreed: u64,
    pub missing: Vec<String>,
    pub stale: Vec<String>,
    pub wrong: Vec<String>,
    pub orphaned: Vec<String>,
    /// Snapshots that cannot be read as snapshots (written by other code): left alone.
    pub unreadable: Vec<String>,
    /// Characters whose check failed (a DynamoDB error, a stream that cannot be folded); the
    /// failure is logged with the id.
    pub failed: Vec<String>,
    /// Rebuild: snapshots written (created, moved forward or corrected).
    pub written: u64,
    /// Rebuild: snapshots that kept changing under it through every attempt.
    pub contended: Vec<String>,
    pub elapsed: Duration,
}

impl Report {
    /// Whether every snapshot agrees with its stream: for a rebuild, once it has written.
    pub fn all_agree(&self, mode: Mode) -> bool {
        let unresolved = match mode {
            Mode::Verify => self.missing.len() + self.stale.len() + self.wrong.len(),
            // What a rebuild wrote agrees now; a snapshot ahead of its stream it leaves alone.
            Mode::Rebuild => self.contended.len() + self.unwritable_wrong(),
        };
        unresolved + self.orphaned.len() + self.unreadable.len() + self.failed.len() == 0
    }

    fn unwritable_wrong(&self) -> usize {
        let corrected = self.missing.len() + self.stale.len() + self.wrong.len();
        corrected.saturating_sub(self.written as usize + self.contended.len())
    }

    /// Events read per second.
    pub fn events_per_second(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// The truth about a character: the fold of its stream and the versions missing below its last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truth {
    pub state: CharacterState,
    pub holes: Vec<Version>,
}

/// How a snapshot compares with the truth.
pub fn judge(snapshot: Option<&Snapshot>, truth: Option<&Truth>) -> Verdict {
    let (snapshot, truth) = match (snapshot, truth) {
        (None, None) => return Verdict::Agrees,
        (None, Some(_)) => return Verdict::Missing,
        (Some(_), None) => return Verdict::Orphaned,
        (Some(s), Some(t)) => (s, t),
    };
    let state = &truth.state;
    if snapshot.version < state.version {
        return Verdict::Stale;
    }
    let mut holes = snapshot.holes.clone();
    holes.sort_unstable();
    let agrees = snapshot.version == state.version
        && snapshot.hit_points == state.hp
        && snapshot.character_name == state.character_name
        && holes == truth.holes
        && snapshot.last_hp_change == Some(state.latest.hp_change)
        && snapshot.last_note.as_deref() == Some(state.latest.note.as_str())
        && snapshot.last_recorded_at == state.latest.recorded_at;
    if agrees {
        Verdict::Agrees
    } else {
        Verdict::Wrong
    }
}

/// A stream as the Scan saw it, folded in whatever order its events came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Summary {
    pub(crate) hp: i64,
    pub(crate) events: u64,
    pub(crate) last: RecordedEvent,
}

impl Summary {
    fn add(summary: Option<Summary>, event: RecordedEvent) -> Summary {
        match summary {
            None => Summary {
                hp: event.hp_effect(),
                events: 1,
                last: event,
            },
            Some(mut s) => {
                s.hp = s.hp.saturating_add(event.hp_effect());
                s.events += 1;
                if event.version > s.last.version {
                    s.last = event;
                }
                s
            }
        }
    }

    fn merge(a: Summary, b: Summary) -> Summary {
        let (hp, events) = (a.hp.saturating_add(b.hp), a.events + b.events);
        let last = if b.last.version > a.last.version {
            b.last
        } else {
            a.last
        };
        Summary { hp, events, last }
    }

    /// The truth, when the Scan saw every version from 0 to the last (no holes to find).
    fn truth(&self) -> Option<Truth> {
        (self.events == self.last.version.saturating_add(1)).then(|| Truth {
            state: CharacterState {
                character_name: self.last.character_name.clone(),
                hp: self.hp,
                version: self.last.version,
                latest: LatestEvent::of(&self.last),
            },
            holes: Vec::new(),
        })
    }
}

/// The audit of one events table against one snapshot table.
#[derive(Debug)]
pub struct Audit<'a> {
    pub events: &'a EventStore,
    pub snapshots: &'a SnapshotStore,
    /// Segments of the parallel Scans (1 or more).
    pub segments: u32,
    pub progress: &'a Progress,
}

impl Audit<'_> {
    pub async fn run(&self, mode: Mode) -> Result<Report, Error> {
        let started = Instant::now();
        let (streams, (snapshots, unreadable)) =
            futures_util::future::try_join(self.scan_events(), self.scan_snapshots()).await?;
        let mut report = Report {
            events: self.progress.events.load(Ordering::Relaxed),
            ..Report::default()
        };
        let mut ids: BTreeSet<String> = snapshots.keys().cloned().collect();
        ids.extend(streams.keys().map(Uuid::to_string));
        ids.extend(unreadable.iter().cloned());
        report.characters = ids.len() as u64;

        // Where the Scans agree, that is the answer; the rest is read again.
        let mut again = Vec::new();
        for id in ids {
            if unreadable.contains(&id) {
                // No compare-and-set can be made on what cannot be read: reported, not written.
                report.unreadable.push(id);
                continue;
            }
            let Ok(stream) = Uuid::try_parse(&id) else {
                // Not a character id: no stream can be behind it.
                report.orphaned.push(id);
                continue;
            };
            let truth = streams.get(&stream).and_then(Summary::truth);
            if truth.is_some() && judge(snapshots.get(&id), truth.as_ref()) == Verdict::Agrees {
                report.agreed += 1;
                self.progress.checked.fetch_add(1, Ordering::Relaxed);
            } else {
                again.push(stream);
            }
        }
        for chunk in again.chunks(CONCURRENT_CHARACTERS) {
            let settled = join_all(chunk.iter().map(|&stream| self.settle(stream, mode))).await;
            for (&stream, result) in chunk.iter().zip(settled) {
                self.progress.checked.fetch_add(1, Ordering::Relaxed);
                let id = stream.to_string();
                let result = match result {
                    Ok(result) => result,
                    Err(error) => {
                        tracing::error!(%stream, %error, "character not checked");
                        report.failed.push(id);
                        continue;
                    }
                };
                match result {
                    Settled::Judged(verdict, wrote) => {
                        if wrote {
                            report.written += 1;
                            self.progress.written.fetch_add(1, Ordering::Relaxed);
                        }
                        match verdict {
                            Verdict::Agrees => report.agreed += 1,
                            Verdict::Missing => report.missing.push(id),
                            Verdict::Stale => report.stale.push(id),
                            Verdict::Wrong => report.wrong.push(id),
                            Verdict::Orphaned => report.orphaned.push(id),
                        }
                    }
                    Settled::Contended(verdict) => {
                        match verdict {
                            Verdict::Missing => report.missing.push(id.clone()),
                            Verdict::Stale => report.stale.push(id.clone()),
                            _ => report.wrong.push(id.clone()),
                        }
                        report.contended.push(id);
                    }
                }
            }
        }
        report.elapsed = started.elapsed();
        Ok(report)
    }

    async fn scan_events(&self) -> Result<HashMap<Uuid, Summary>, Error> {
        scan_streams(
            self.events,
            self.segments,
            &self.progress.events,
            &self.progress.characters,
        )
        .await
    }

    /// Every snapshot by id, and the ids of items that cannot be read as snapshots.
    async fn scan_snapshots(&self) -> Result<(HashMap<String, Snapshot>, BTreeSet<String>), Error> {
        let segments = (0..self.segments.max(1)).map(|index| async move {
            let segment = Segment {
                index,
                total: self.segments.max(1),
            };
            let mut snapshots = Vec::new();
            let mut start = None;
            loop {
                let page = self.snapshots.scan_snapshots(segment, start).await?;
                snapshots.extend(page.items);
                match page.next {
                    Some(next) => start = Some(next),
                    None => return Ok::<_, Error>(snapshots),
                }
            }
        });
        let mut snapshots = HashMap::new();
        let mut unreadable = BTreeSet::new();
        for item in futures_util::future::try_join_all(segments)
            .await?
            .into_iter()
            .flatten()
        {
            match item {
                Ok(snapshot) => {
                    snapshots.insert(snapshot.id.clone(), snapshot);
                }
                Err(id) => {
                    unreadable.insert(id);
                }
            }
        }
        Ok((snapshots, unreadable))
    }

    /// Reads one character again, consistently, and for a rebuild writes its fold.
    async fn settle(&self, stream: Uuid, mode: Mode) -> Result<Settled, Error> {
        let mut verdict = Verdict::Agrees;
        for _ in 0..MAX_REBUILD_ATTEMPTS {
            // The snapshot first: the stream, read after, holds every event the snapshot has.
            let snapshot = self.snapshots.get(stream, true).await?;
            let truth = self.truth(stream).await?;
            verdict = judge(snapshot.as_ref(), truth.as_ref());
            let Some(truth) = truth else {
                return Ok(Settled::Judged(verdict, false));
            };
            let ahead = snapshot
                .as_ref()
                .is_some_and(|s| s.version > truth.state.version);
            if mode == Mode::Verify || verdict == Verdict::Agrees || ahead {
                return Ok(Settled::Judged(verdict, false));
            }
            let written = self
                .snapshots
                .replace(stream, &truth.state, &truth.holes, snapshot.as_ref())
                .await?;
            if written {
                return Ok(Settled::Judged(verdict, true));
            }
        }
        Ok(Settled::Contended(verdict))
    }

    /// The fold of the whole stream, read consistently; `None` when it has no events.
    async fn truth(&self, stream: Uuid) -> Result<Option<Truth>, Error> {
        let events = match self.events.read_all(stream).await {
            Ok(events) => events,
            Err(Error::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut expected: Version = 0;
        let mut holes = Vec::new();
        for event in &events {
            let missing = event.version - expected;
            if missing.saturating_add(holes.len() as u64) > MAX_HOLES {
                return Err(InfraError::CorruptItem {
                    stream: stream.to_string(),
                    version: Some(event.version.to_string()),
                    reason: format!("more than {MAX_HOLES} versions missing up to it"),
                }
                .into());
            }
            while expected < event.version {
                holes.push(expected);
                expected += 1;
            }
            expected = event.version.saturating_add(1);
        }
        Ok(CharacterState::fold(&events).map(|state| Truth { state, holes }))
    }
}

/// Every segment of the events table at once (parallel Scan), each folding the streams it
/// meets; counts events and characters as it goes.
pub(crate) async fn scan_streams(
    store: &EventStore,
    segments: u32,
    events: &AtomicU64,
    characters: &AtomicU64,
) -> Result<HashMap<Uuid, Summary>, Error> {
    let total = segments.max(1);
    let scans = (0..total).map(|index| async move {
        let segment = Segment { index, total };
        let mut streams: HashMap<Uuid, Summary> = HashMap::new();
        let mut start = None;
        loop {
            let page = store.scan_events(segment, start).await?;
            events.fetch_add(page.items.len() as u64, Ordering::Relaxed);
            for (stream, event) in page.items {
                let summary = streams.remove(&stream);
                if summary.is_none() {
                    characters.fetch_add(1, Ordering::Relaxed);
                }
                streams.insert(stream, Summary::add(summary, event));
            }
            match page.next {
                Some(next) => start = Some(next),
                None => return Ok::<_, Error>(streams),
            }
        }
    });
    let mut all: HashMap<Uuid, Summary> = HashMap::new();
    for segment in futures_util::future::try_join_all(scans).await? {
        for (stream, summary) in segment {
            let merged = match all.remove(&stream) {
                Some(seen) => Summary::merge(seen, summary),
                None => summary,
            };
            all.insert(stream, merged);
        }
    }
    Ok(all)
}

enum Settled {
    /// What the character came to, and whether this audit wrote its snapshot.
    Judged(Verdict, bool),
    /// Every compare-and-set lost its race; the verdict of the last read.
    Contended(Verdict),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn truth(version: Version, hp: i64, holes: &[Version]) -> Truth {
        Truth {
            state: CharacterState {
                character_name: "Nuru".into(),
                hp,
                version,
                latest: LatestEvent {
                    hp_change: -2,
                    note: "goblin".into(),
                    recorded_at: Some("2026-11-29T20:00:00Z".into()),
                },
            },
            holes: holes.to_vec(),
        }
    }

    fn snapshot_of(t: &Truth) -> Snapshot {
        Snapshot {
            id: "x".into(),
            character_name: t.state.character_name.clone(),
            hit_points: t.state.hp,
            version: t.state.version,
            updated_at: "2026-11-29T20:00:01Z".into(),
            holes: t.holes.iter().rev().copied().collect(),
            last_hp_change: Some(t.state.latest.hp_change),
            last_note: Some(t.state.latest.note.clone()),
            last_recorded_at: t.state.latest.recorded_at.clone(),
        }
    }

    #[test]
    fn judges_each_kind_of_disagreement() {
        let t = truth(5, 3, &[1, 2]);
        let s = snapshot_of(&t);
        assert_eq!(
            judge(Some(&s), Some(&t)),
            Verdict::Agrees,
            "holes in any order"
        );
        assert_eq!(judge(None, Some(&t)), Verdict::Missing);
        assert_eq!(judge(Some(&s), None), Verdict::Orphaned);
        let behind = Snapshot {
            version: 4,
            ..s.clone()
        };
        assert_eq!(judge(Some(&behind), Some(&t)), Verdict::Stale);
        for wrong in [
            Snapshot {
                version: 6,
                ..s.clone()
            },
            Snapshot {
                hit_points: 4,
                ..s.clone()
            },
            Snapshot {
                character_name: "N".into(),
                ..s.clone()
            },
            Snapshot {
                holes: vec![1],
                ..s.clone()
            },
            Snapshot {
                last_hp_change: None,
                ..s.clone()
            },
            Snapshot {
                last_note: Some("x".into()),
                ..s.clone()
            },
            Snapshot {
                last_recorded_at: None,
                ..s.clone()
            },
        ] {
            assert_eq!(judge(Some(&wrong), Some(&t)), Verdict::Wrong, "{wrong:?}");
        }
    }

    #[test]
    fn a_scan_summary_is_the_truth_only_without_missing_versions() {
        let event = |version, hp| RecordedEvent {
            version,
            character_name: format!("n{version}"),
            hp_change: hp,
            note: "n".into(),
            event_id: None,
            recorded_at: None,
            snapshot: false,
        };
        // In any order, split across segments.
        let a = Summary::add(Some(Summary::add(None, event(2, -3))), event(0, 8));
        let b = Summary::add(None, event(1, -2));
        let whole = Summary::merge(b, a.clone());
        let truth = whole.truth().expect("versions 0..=2");
        assert_eq!((truth.state.version, truth.state.hp), (2, 3));
        assert_eq!(truth.state.character_name, "n2");
        assert_eq!(
            a.truth(),
            None,
            "version 1 missing: read the stream to find the holes"
        );
    }
}
