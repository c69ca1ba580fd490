//! A seeded property test of the pure projection: random histories for several characters,
//! delivered as Lambda would at its worst (duplicates, re-ordered retries, dropped records,
//! failed writes, concurrent writers), checked against the fold of each stream after every batch.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::Mutex;

use hitpoints::error::SdkFailure;
use hitpoints::hp::{project_batch, HoleFill, SnapshotBackend, SnapshotPosition, SnapshotUpdate};
use hitpoints::stream::{Change, EventSource, Holes, StreamRecord};
use hitpoints::{CharacterState, Error, InfraError, RecordedEvent, Version};
use uuid::Uuid;

const RUNS: u64 = 200;
const CHARACTERS: usize = 3;

/// The events table and the snapshot table, in memory, with injected failures.
struct Backend {
    truth: HashMap<Uuid, Vec<RecordedEvent>>,
    /// Version, HP, name and holes of each snapshot.
    snapshots: Mutex<HashMap<Uuid, Snapshot>>,
    rng: Mutex<fastrand::Rng>,
    failure_rate: Mutex<f64>,
    writes: Mutex<usize>,
}

type Snapshot = (Version, i64, String, Holes);

fn injected() -> Error {
    Error::Infrastructure(InfraError::Throttled(SdkFailure {
        operation: "injected",
        ..SdkFailure::default()
    }))
}

/// The fold of the events up to `version`, whatever is missing below it.
fn fold_to(events: &[RecordedEvent], version: Version) -> CharacterState {
    CharacterState::fold(events.iter().filter(|e| e.version <= version)).expect("events")
}

impl Backend {
    fn fails(&self) -> bool {
        let rate = *self.failure_rate.lock().expect("lock");
        self.rng.lock().expect("lock").f64() < rate
    }

    /// Another writer (a concurrent invocation) moves a snapshot forward, correctly.
    fn race_ahead(&self, stream: Uuid, to: Version) {
        let events = &self.truth[&stream];
        let state = fold_to(events, to);
        let holes = Holes::absent_from(0..to, events.iter().map(|e| e.version));
        let mut snapshots = self.snapshots.lock().expect("lock");
        let current = snapshots.get(&stream).map(|s| s.0);
        if current.is_none_or(|v| v < to) {
            snapshots.insert(stream, (to, state.hp, state.character_name, holes));
        }
    }
}

impl EventSource for Backend {
    async fn events_in(
        &self,
        stream: Uuid,
        range: Range<Version>,
    ) -> Result<Vec<RecordedEvent>, Error> {
        if self.fails() {
            return Err(injected());
        }
        Ok(self.truth[&stream]
            .iter()
            .filter(|e| range.contains(&e.version))
            .cloned()
            .collect())
    }
}

impl SnapshotBackend for Backend {
    async fn snapshot(&self, stream: Uuid) -> Result<Option<SnapshotPosition>, Error> {
        if self.fails() {
            return Err(injected());
        }
        Ok(self
            .snapshots
            .lock()
            .expect("lock")
            .get(&stream)
            .map(|s| SnapshotPosition {
                version: s.0,
                holes: s.3.clone(),
                legacy_holes: false,
                rules: None,
            }))
    }

    async fn fill(&self, fill: &HoleFill) -> Result<bool, Error> {
        if self.fails() {
            return Err(injected());
        }
        let mut snapshots = self.snapshots.lock().expect("lock");
        let Some(snapshot) = snapshots.get_mut(&fill.stream) else {
            return Ok(false);
        };
        // Conditional on the holes being what the fill read.
        if snapshot.3 != fill.holes.read || !snapshot.3.contains(fill.version) {
            return Ok(false);
        }
        snapshot.3 = fill.holes.after.clone();
        snapshot.1 += fill.hp_delta;
        *self.writes.lock().expect("lock") += 1;
        Ok(true)
    }

    async fn apply(&self, update: &SnapshotUpdate) -> Result<bool, Error> {
        if self.fails() {
            return Err(injected());
        }
        let mut snapshots = self.snapshots.lock().expect("lock");
        let current = snapshots.get(&update.stream).cloned();
        if current.as_ref().map(|s| s.0) != update.expected {
            return Ok(false);
        }
        let read = current.as_ref().map(|s| s.3.clone()).unwrap_or_default();
        let holes = match &update.holes {
            // Conditional on the holes being what the update read.
            Some(change) if current.is_some() && change.read != read => return Ok(false),
            Some(change) => change.after.clone(),
            None => read,
        };
        let hp = current.as_ref().map_or(0, |s| s.1) + update.hp_delta;
        snapshots.insert(
            update.stream,
            (update.version, hp, update.character_name.clone(), holes),
        );
        *self.writes.lock().expect("lock") += 1;
        Ok(true)
    }
}

#[track_caller]
fn assert_snapshots_are_folds(backend: &Backend, context: &str) {
    for (stream, (version, hp, name, _)) in backend.snapshots.lock().expect("lock").iter() {
        let events = &backend.truth[stream];
        let state = fold_to(events, *version);
        assert_eq!(
            (*hp, name),
            (state.hp, &state.character_name),
            "{context}: snapshot {stream} at {version}"
        );
    }
}

#[tokio::test]
async fn every_snapshot_is_the_fold_of_its_stream_whatever_the_delivery() {
    let mut histories = 0;
    let mut batches_total = 0;
    for seed in 0..RUNS {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut truth = HashMap::new();
        let streams: Vec<Uuid> = (0..CHARACTERS)
            .map(|_| Uuid::from_u128(rng.u128(..)))
            .collect();
        for (c, stream) in streams.iter().enumerate() {
            // Some histories written by other code: versions missing (holes), and the source
            // material's snapshot items (the total so far, changing nothing).
            let mut version = 0;
            let mut total = 0;
            let mut events: Vec<RecordedEvent> = Vec::new();
            for _ in 0..rng.u64(1..=25) {
                if !events.is_empty() && rng.f64() < 0.08 {
                    version += rng.u64(1..=2);
                }
                let snapshot = !events.is_empty() && rng.f64() < 0.08;
                let hp_change = if snapshot { total } else { rng.i64(-20..=20) };
                total += if snapshot { 0 } else { hp_change };
                let note = if snapshot { "SNAPSHOT" } else { "n" };
                events.push(RecordedEvent {
                    snapshot,
                    ..RecordedEvent::plain(
                        version,
                        format!("character {c} name {}", rng.u8(0..3)),
                        hp_change,
                        note.into(),
                    )
                });
                version += 1;
            }
            truth.insert(*stream, events);
            histories += 1;
        }
        // The stream: each character's events in order, interleaved at random.
        let mut next: HashMap<Uuid, usize> = streams.iter().map(|s| (*s, 0)).collect();
        let mut log = Vec::new();
        while let Some(stream) = {
            let open: Vec<Uuid> = streams
                .iter()
                .copied()
                .filter(|s| next[s] < truth[s].len())
                .collect();
            (!open.is_empty()).then(|| open[rng.usize(..open.len())])
        } {
            let event = truth[&stream][next[&stream]].clone();
            *next.get_mut(&stream).expect("stream") += 1;
            log.push(StreamRecord {
                sequence_number: format!("{:020}", log.len() + 1),
                change: Change::Insert { stream, event },
            });
        }
        // Dropped records: lost, expired. The events table still has them.
        let delivered: Vec<StreamRecord> = log.into_iter().filter(|_| rng.f64() >= 0.1).collect();
        let backend = Backend {
            truth,
            snapshots: Mutex::new(HashMap::new()),
            rng: Mutex::new(fastrand::Rng::with_seed(seed ^ 0xfeed)),
            failure_rate: Mutex::new(0.15),
            writes: Mutex::new(0),
        };
        let mut position = 0;
        let mut batches = 0;
        while position < delivered.len() {
            batches += 1;
            if batches > 100 {
                // Failures stop, as they do, so that every run ends.
                *backend.failure_rate.lock().expect("lock") = 0.0;
            }
            assert!(batches < 1000, "seed {seed}: delivery does not end");
            let size = rng.usize(1..=8);
            let mut batch: Vec<StreamRecord> =
                delivered[position..(position + size).min(delivered.len())].to_vec();
            if position > 0 && rng.f64() < 0.2 {
                // Duplicates of records delivered before.
                for _ in 0..rng.usize(1..=3) {
                    batch.push(delivered[rng.usize(..position)].clone());
                }
            }
            if rng.f64() < 0.2 {
                rng.shuffle(&mut batch);
            }
            if rng.f64() < 0.1 {
                let stream = streams[rng.usize(..CHARACTERS)];
                let events = &backend.truth[&stream];
                let to = events[rng.usize(..events.len())].version;
                backend.race_ahead(stream, to);
            }
            let writes_before = *backend.writes.lock().expect("lock");
            let outcome = project_batch(&backend, &batch).await;
            let writes = *backend.writes.lock().expect("lock") - writes_before;
            let characters = batch
                .iter()
                .filter_map(|r| match &r.change {
                    Change::Insert { stream, .. } => Some(*stream),
                    _ => None,
                })
                .collect::<std::collections::HashSet<_>>()
                .len();
            assert_eq!(writes, outcome.writes, "seed {seed}");
            assert!(
                writes <= characters,
                "seed {seed}: {writes} writes for {characters} characters"
            );
            assert_snapshots_are_folds(&backend, &format!("seed {seed} batch {batches}"));
            // Lambda retries from the lowest reported sequence number.
            match outcome.failures.iter().min() {
                None => position += size.min(delivered.len() - position),
                Some(failed) => {
                    position = delivered
                        .iter()
                        .position(|r| &r.sequence_number == failed)
                        .expect("a delivered record");
                }
            }
        }
        batches_total += batches;
        // Every delivered event is applied: each snapshot reached at least the last one delivered.
        let mut last_delivered: BTreeMap<Uuid, Version> = BTreeMap::new();
        for record in &delivered {
            if let Change::Insert { stream, event } = &record.change {
                let v = last_delivered.entry(*stream).or_insert(0);
                *v = (*v).max(event.version);
            }
        }
        let snapshots = backend.snapshots.lock().expect("lock");
        for (stream, version) in last_delivered {
            let got = snapshots.get(&stream).map(|s| s.0);
            assert!(
                got.is_some_and(|v| v >= version),
                "seed {seed}: {stream} at {got:?}, delivered {version}"
            );
        }
    }
    println!(
        "{histories} histories in {RUNS} runs, {batches_total} batches: every snapshot a fold"
    );
    assert!(histories >= 500);
}

#[tokio::test]
async fn undecodable_and_modify_records() {
    let stream = Uuid::new_v4();
    let event = RecordedEvent::plain(0, "Nuru".into(), 8, "Init".into());
    let backend = Backend {
        truth: HashMap::from([(stream, vec![event.clone()])]),
        snapshots: Mutex::new(HashMap::new()),
        rng: Mutex::new(fastrand::Rng::with_seed(1)),
        failure_rate: Mutex::new(0.0),
        writes: Mutex::new(0),
    };
    let records = vec![
        StreamRecord {
            sequence_number: "1".into(),
            change: Change::Ignored {
                event_name: "MODIFY".into(),
                keys: "{}".into(),
            },
        },
        StreamRecord {
            sequence_number: "2".into(),
            change: Change::Undecodable {
                keys: "{}".into(),
                reason: "no Note".into(),
            },
        },
        StreamRecord {
            sequence_number: "3".into(),
            change: Change::Insert { stream, event },
        },
    ];
    let outcome = project_batch(&backend, &records).await;
    assert_eq!(outcome.failures, vec!["2".to_owned()]);
    assert_eq!(outcome.writes, 1);
    assert_eq!(
        backend.snapshots.lock().expect("lock")[&stream],
        (0, 8, "Nuru".to_owned(), Holes::new())
    );
}
