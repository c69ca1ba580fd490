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
use std::sync::atomic::Ordering;
use std::time::Instant;

use futures_util::future::join_all;
use uuid::Uuid;

use super::table::{Snapshot, SnapshotStore};
use super::verdict::{judge, Mode, Progress, Report, Truth, Verdict};
use crate::domain::CharacterState;
use crate::error::{Error, InfraError};
use crate::store::{scan_segments, scan_streams, EventStore, StreamSummary, Unreadable};
use crate::stream::Holes;

/// Attempts at one character's compare-and-set before the rebuild reports it as contended.
pub const MAX_REBUILD_ATTEMPTS: u32 = 5;
/// Characters read again (and rewritten) at the same time.
const CONCURRENT_CHARACTERS: usize = 16;

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
        let ((streams, unreadable_items), (snapshots, unreadable)) =
            futures_util::future::try_join(self.scan_events(), self.scan_snapshots()).await?;
        let mut report = Report {
            events: self.progress.events.load(Ordering::Relaxed),
            ..Report::default()
        };
        // An event that cannot be read fails its character's check (its stream is read again,
        // consistently, and fails); one of no character fails as itself.
        let mut unreadable_events = Vec::new();
        for key in unreadable_items {
            match Uuid::try_parse(&key.0) {
                Ok(stream) => unreadable_events.push(stream),
                Err(_) => report.failed.push(key.0),
            }
        }
        let mut ids: BTreeSet<String> = snapshots.keys().cloned().collect();
        ids.extend(streams.keys().map(Uuid::to_string));
        ids.extend(unreadable_events.iter().map(Uuid::to_string));
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
            // A stream with an event the Scan could not read has no truth from the Scan.
            let truth = streams
                .get(&stream)
                .filter(|_| !unreadable_events.contains(&stream))
                .and_then(Truth::scanned);
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

    /// Every stream by character, and the keys of event items that cannot be read.
    async fn scan_events(&self) -> Result<(HashMap<Uuid, StreamSummary>, Vec<Unreadable>), Error> {
        let progress = self.progress;
        scan_streams(
            self.events,
            self.segments,
            &progress.events,
            &progress.characters,
        )
        .await
    }

    /// Every snapshot by id, and the ids of items that cannot be read as snapshots.
    async fn scan_snapshots(&self) -> Result<(HashMap<String, Snapshot>, BTreeSet<String>), Error> {
        type Scanned = (HashMap<String, Snapshot>, BTreeSet<String>);
        let fold = |(snapshots, unreadable): &mut Scanned, item| match Snapshot::decode(item) {
            Ok(snapshot) => {
                snapshots.insert(snapshot.id.clone(), snapshot);
            }
            Err(e) => {
                unreadable.insert(Unreadable::logged(&e, "snapshot").0);
            }
        };
        let table = self.snapshots;
        let segments = scan_segments(&table.client, &table.table, self.segments, fold).await?;
        let mut all = Scanned::default();
        for (snapshots, unreadable) in segments {
            all.0.extend(snapshots);
            all.1.extend(unreadable);
        }
        Ok(all)
    }

    /// Reads one character, consistently, judges its snapshot and for a rebuild writes its
    /// fold: the verdict, and whether this call wrote the snapshot (not when every
    /// compare-and-set lost its race to the projector, which is moving it on).
    pub async fn settle_one(&self, stream: Uuid, mode: Mode) -> Result<(Verdict, bool), Error> {
        Ok(match self.settle(stream, mode).await? {
            Settled::Judged(verdict, wrote) => (verdict, wrote),
            Settled::Contended(verdict) => (verdict, false),
        })
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
        let last = events.last().map_or(0, |e| e.version);
        let holes = Holes::absent_from(0..last, events.iter().map(|e| e.version));
        holes
            .to_text()
            .map_err(|e| InfraError::corrupt(stream, Some(last.to_string()), e.to_string()))?;
        Ok(CharacterState::fold(&events).map(|state| Truth { state, holes }))
    }
}

enum Settled {
    /// What the character came to, and whether this audit wrote its snapshot.
    Judged(Verdict, bool),
    /// Every compare-and-set lost its race; the verdict of the last read.
    Contended(Verdict),
}
