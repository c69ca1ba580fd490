//! Failures stay with their character, and holes are ranges: on dynoxide, through the feed's
//! indexer and repair and through the projector and rebuild.
//!
//! - A poison character (an item of its stream that does not decode) in a batch of healthy
//!   ones: the healthy ones are indexed, only the poison's records are reported; once the item
//!   is fixed, the repair brings it in, and every event is in the feed exactly once.
//! - A stream that jumps by a million versions costs one range in the feed's marker and in the
//!   snapshot, and an event written in the hole later is taken exactly once.
//! - Markers and snapshots written before holes were ranges (number sets) still read.

use hitpoints::domain::DEFAULT_CAMPAIGN;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use hitpoints::domain::Direction;
use hitpoints::feed::{FeedEntry, FeedRead, FeedStore, Indexer, RepairProgress};
use hitpoints::hp::{Audit, Mode, Progress, Projector, Snapshot, SnapshotStore};
use hitpoints::store::EventStore;
use hitpoints::{ExpectedVersion, RecordedEvent};
use hitpoints_testkit::{event, records, test_db, TestDb};
use uuid::Uuid;

/// A jump of a million versions: 0..=3, then 1,000,003.
const JUMP: u64 = 1_000_003;

struct Tables {
    db: TestDb,
    table: String,
    store: EventStore,
    feed: FeedStore,
    snapshots: SnapshotStore,
}

async fn tables() -> Tables {
    let db = test_db().await;
    let table = db.events_table().await;
    let store = EventStore::new(db.client.clone(), table.clone());
    let feed = db.feed().await;
    let snapshots = db.snapshots().await;
    Tables {
        db,
        table,
        store,
        feed,
        snapshots,
    }
}

impl Tables {
    fn indexer(&self) -> Indexer {
        Indexer::new(self.store.clone(), self.feed.clone())
    }

    /// Three events of one of ours.
    async fn healthy(&self, name: &str) -> (Uuid, Vec<RecordedEvent>) {
        let stream = Uuid::new_v4();
        let events = vec![
            event(name, 10, "Init"),
            event(name, -2, "arrow"),
            event(name, 3, "potion"),
        ];
        let appended = self
            .store
            .append(stream, ExpectedVersion::NoStream, events)
            .await
            .expect("append");
        (stream, appended.events)
    }

    /// A poison character: version 0 does not decode, version 1 does.
    async fn poison(&self) -> (Uuid, RecordedEvent) {
        let stream = Uuid::new_v4();
        self.db.put_undecodable_item(&self.table, stream, 0).await;
        self.db
            .put_source_item(&self.table, stream, 1, ("Mordai", -4, "claw"))
            .await;
        let v1 = self
            .store
            .read_range(stream, 1, 1)
            .await
            .expect("version 1");
        (stream, v1[0].clone())
    }

    async fn fix_poison(&self, stream: Uuid) {
        self.db
            .put_source_item(&self.table, stream, 0, ("Mordai", 9, "Init"))
            .await;
    }

    /// A stream of the source material's items: versions 0..=3, then `JUMP`.
    async fn jumping(&self) -> Uuid {
        let stream = Uuid::new_v4();
        for version in [0, 1, 2, 3, JUMP] {
            let hp = if version == 0 { 20 } else { -1 };
            self.db
                .put_source_item(&self.table, stream, version, ("Ash", hp, "hit"))
                .await;
        }
        stream
    }

    /// The character's snapshot, read consistently; it must exist.
    async fn snapshot(&self, stream: Uuid) -> Snapshot {
        let read = self.snapshots.get(stream, true).await.expect("read");
        read.expect("a snapshot")
    }

    async fn whole_feed(&self) -> Vec<FeedEntry> {
        let mut entries = Vec::new();
        loop {
            let page = self
                .feed
                .read(FeedRead {
                    campaign: DEFAULT_CAMPAIGN,
                    after: entries.last().map(|e: &FeedEntry| e.position),
                    direction: Direction::Forward,
                    limit: 1000,
                    wait: Duration::ZERO,
                })
                .await
                .expect("read the feed");
            if page.entries.is_empty() {
                return entries;
            }
            entries.extend(page.entries);
        }
    }

    /// The feed as each character's versions, asserting positions 1, 2, 3, … and that no
    /// event is there twice.
    async fn feed_by_character(&self) -> BTreeMap<Uuid, Vec<u64>> {
        let entries = self.whole_feed().await;
        let mut seen = BTreeSet::new();
        let mut by_character: BTreeMap<Uuid, Vec<u64>> = BTreeMap::new();
        for (i, entry) in entries.iter().enumerate() {
            assert_eq!(entry.position.0, i as u64 + 1, "no gap in positions");
            assert!(
                seen.insert((entry.stream, entry.event.version)),
                "{} version {} twice",
                entry.stream,
                entry.event.version
            );
            by_character
                .entry(entry.stream)
                .or_default()
                .push(entry.event.version);
        }
        by_character
    }

    /// The marker's holes as stored, and whether the old number set is there.
    async fn marker_holes(&self, stream: Uuid) -> (Option<String>, bool) {
        let item = self
            .db
            .client
            .get_item()
            .table_name(self.feed.table())
            .key("Key", AttributeValue::S(format!("c#{stream}")))
            .key("Position", AttributeValue::N("0".into()))
            .consistent_read(true)
            .send()
            .await
            .expect("read the marker")
            .item
            .expect("a marker");
        let ranges = item
            .get("HoleRanges")
            .map(|v| v.as_s().expect("text").clone());
        (ranges, item.contains_key("Holes"))
    }
}

#[tokio::test]
async fn a_poison_character_fails_alone_in_the_indexer_and_is_repaired_exactly_once() {
    let t = tables().await;
    let indexer = t.indexer();
    let (a, a_events) = t.healthy("Nuru").await;
    let (b, b_events) = t.healthy("Vex").await;
    let (poison, poison_v1) = t.poison().await;
    // One batch, the poison between the healthy ones: its version 1 arrives, version 0 must
    // be read from the events table, and does not decode.
    let mut batch = records(a, &a_events[..2], "batch");
    batch.extend(records(poison, std::slice::from_ref(&poison_v1), "batch"));
    batch.extend(records(b, &b_events, "batch"));
    batch.extend(records(a, &a_events[2..], "batch"));
    let outcome = indexer.index(&batch).await;
    assert_eq!(outcome.failures, vec![format!("batch-{poison}-1")]);
    assert_eq!((outcome.characters, outcome.writes), (3, 6));
    let feed = t.feed_by_character().await;
    assert_eq!(
        feed,
        BTreeMap::from([(a, vec![0, 1, 2]), (b, vec![0, 1, 2])])
    );

    // Lambda delivers the batch again: the poison fails again, nothing else is written twice.
    let again = indexer.index(&batch).await;
    assert_eq!(again.failures, outcome.failures);
    assert_eq!(again.writes, 0);

    // The item fixed, the repair brings the poison in; the batch once more changes nothing.
    t.fix_poison(poison).await;
    let report = indexer
        .repair(2, None, &RepairProgress::default())
        .await
        .expect("repair");
    assert_eq!((report.repaired, report.failed), (vec![poison], Vec::new()));
    assert!(indexer.index(&batch).await.failures.is_empty());
    let feed = t.feed_by_character().await;
    assert_eq!(feed.len(), 3);
    assert_eq!(feed[&poison], vec![0, 1]);
    assert_eq!((feed[&a].len(), feed[&b].len()), (3, 3));
}

#[tokio::test]
async fn the_repair_reports_a_poison_character_goes_on_and_brings_it_in_once_fixed() {
    let t = tables().await;
    let indexer = t.indexer();
    let (a, _) = t.healthy("Nuru").await;
    let (b, _) = t.healthy("Vex").await;
    let (poison, _) = t.poison().await;
    let report = indexer
        .repair(3, None, &RepairProgress::default())
        .await
        .expect("the repair runs to the end");
    assert_eq!(report.failed, vec![poison]);
    let mut repaired = report.repaired.clone();
    repaired.sort();
    let mut healthy = vec![a, b];
    healthy.sort();
    assert_eq!((repaired, report.indexed), (healthy, 6));
    // Run again, the poison still fails and nothing is indexed twice.
    let report = indexer
        .repair(1, None, &RepairProgress::default())
        .await
        .expect("repair");
    assert_eq!((report.failed, report.indexed), (vec![poison], 0));

    t.fix_poison(poison).await;
    let report = indexer
        .repair(2, None, &RepairProgress::default())
        .await
        .expect("repair");
    assert_eq!((report.failed, report.indexed), (Vec::new(), 2));
    let feed = t.feed_by_character().await;
    assert_eq!(
        feed,
        BTreeMap::from([(a, vec![0, 1, 2]), (b, vec![0, 1, 2]), (poison, vec![0, 1])])
    );
    let report = indexer
        .repair(2, None, &RepairProgress::default())
        .await
        .expect("repair");
    assert_eq!(
        report.indexed, 0,
        "a repair after a complete one finds nothing"
    );
}

#[tokio::test]
async fn a_jump_of_a_million_versions_is_one_range_in_the_feed_through_the_indexer() {
    let t = tables().await;
    let indexer = t.indexer();
    let stream = t.jumping().await;
    // The stream delivers version 0 and the jump; versions 1 to 3 are read to fill the gap.
    let events = t.store.read_all(stream).await.expect("read");
    let delivered = [events[0].clone(), events[4].clone()];
    let outcome = indexer.index(&records(stream, &delivered, "jump")).await;
    assert!(outcome.failures.is_empty(), "{outcome:?}");
    assert_eq!(outcome.writes, 5);
    assert_eq!(
        t.marker_holes(stream).await,
        (Some("4..1000003".into()), false)
    );

    // An event written in the hole later is indexed once, however often it is delivered.
    t.db.put_source_item(&t.table, stream, 500_000, ("Ash", -2, "late"))
        .await;
    let late = t.store.read_range(stream, 500_000, 1).await.expect("read");
    for _ in 0..2 {
        let outcome = indexer.index(&records(stream, &late, "late")).await;
        assert!(outcome.failures.is_empty(), "{outcome:?}");
    }
    let feed = t.feed_by_character().await;
    assert_eq!(feed[&stream], vec![0, 1, 2, 3, JUMP, 500_000]);
    assert_eq!(
        t.marker_holes(stream).await,
        (Some("4..500000,500001..1000003".into()), false)
    );
}

#[tokio::test]
async fn a_jump_of_a_million_versions_is_one_range_in_the_feed_through_the_repair() {
    let t = tables().await;
    let indexer = t.indexer();
    let stream = t.jumping().await;
    let report = indexer
        .repair(2, None, &RepairProgress::default())
        .await
        .expect("repair");
    assert_eq!((report.indexed, report.failed.len()), (5, 0));
    assert_eq!(
        t.marker_holes(stream).await,
        (Some("4..1000003".into()), false)
    );
    // The marker accounts for every missing version: a second repair has nothing to do.
    let report = indexer
        .repair(2, None, &RepairProgress::default())
        .await
        .expect("repair");
    assert_eq!((report.indexed, report.repaired.len()), (0, 0));
    // A late event in the hole: the repair brings it in once.
    t.db.put_source_item(&t.table, stream, 77, ("Ash", -2, "late"))
        .await;
    for _ in 0..2 {
        indexer
            .repair(1, None, &RepairProgress::default())
            .await
            .expect("repair");
    }
    assert_eq!(
        t.feed_by_character().await[&stream],
        vec![0, 1, 2, 3, JUMP, 77]
    );
}

#[tokio::test]
async fn a_jump_of_a_million_versions_is_one_range_in_the_snapshot() {
    let t = tables().await;
    let projector = Projector::new(t.store.clone(), t.snapshots.clone());
    let stream = t.jumping().await;
    let events = t.store.read_all(stream).await.expect("read");
    let outcome = projector
        .project(&records(stream, &events[4..], "jump"))
        .await;
    assert!(outcome.failures.is_empty(), "{outcome:?}");
    let snapshot = t.snapshot(stream).await;
    assert_eq!(
        (
            snapshot.version,
            snapshot.hit_points,
            snapshot.holes.to_string()
        ),
        (JUMP, 16, "4..1000003".to_owned())
    );
    // A late event in the hole is applied once, however often it is delivered.
    t.db.put_source_item(&t.table, stream, 500_000, ("Ash", -5, "late"))
        .await;
    let late = t.store.read_range(stream, 500_000, 1).await.expect("read");
    for _ in 0..2 {
        let outcome = projector.project(&records(stream, &late, "late")).await;
        assert!(outcome.failures.is_empty(), "{outcome:?}");
    }
    let snapshot = t.snapshot(stream).await;
    assert_eq!(
        (snapshot.hit_points, snapshot.holes.to_string()),
        (11, "4..500000,500001..1000003".to_owned())
    );
    // The rebuild writes the same ranges, and verify agrees with both.
    let progress = Progress::default();
    let audit = Audit {
        events: &t.store,
        snapshots: &t.snapshots,
        segments: 2,
        progress: &progress,
    };
    let report = audit.run(Mode::Verify).await.expect("verify");
    assert!(report.all_agree(Mode::Verify), "{report:?}");
    t.db.client
        .delete_item()
        .table_name(t.snapshots.table())
        .key("Id", AttributeValue::S(stream.to_string()))
        .send()
        .await
        .expect("delete the snapshot");
    let report = audit.run(Mode::Rebuild).await.expect("rebuild");
    assert_eq!(report.written, 1, "{report:?}");
    let rebuilt = t.snapshot(stream).await;
    assert_eq!(
        (rebuilt.hit_points, rebuilt.holes.to_string()),
        (11, "4..500000,500001..1000003".to_owned())
    );
}

/// A snapshot and a marker as the build before ranges wrote them: holes as number sets.
#[tokio::test]
async fn holes_written_as_number_sets_still_read_and_a_late_event_is_taken_once() {
    let t = tables().await;
    let stream = Uuid::new_v4();
    for (version, hp, note) in [(0, 10, "Init"), (2, -3, "bite"), (3, -1, "claw")] {
        t.db.put_source_item(&t.table, stream, version, ("Vex", hp, note))
            .await;
    }
    let number_set = AttributeValue::Ns(vec!["1".into()]);
    t.db.client
        .put_item()
        .table_name(t.snapshots.table())
        .item("Id", AttributeValue::S(stream.to_string()))
        .item("CharacterName", AttributeValue::S("Vex".into()))
        .item("HitPoints", AttributeValue::N("7".into()))
        .item("Version", AttributeValue::N("2".into()))
        .item(
            "UpdatedAt",
            AttributeValue::S("2026-12-01T20:00:00Z".into()),
        )
        .item("Holes", number_set.clone())
        .send()
        .await
        .expect("put a snapshot with a number set");
    t.db.client
        .put_item()
        .table_name(t.feed.table())
        .item("Key", AttributeValue::S(format!("c#{stream}")))
        .item("Position", AttributeValue::N("0".into()))
        .item("Version", AttributeValue::N("2".into()))
        .item("Rev", AttributeValue::N("1".into()))
        .item("Holes", number_set)
        .send()
        .await
        .expect("put a marker with a number set");
    let read = t.snapshot(stream).await;
    assert_eq!(
        (read.holes.to_string(), read.legacy_holes),
        ("1..2".to_owned(), true)
    );
    assert_eq!(
        t.feed
            .marker(DEFAULT_CAMPAIGN, stream)
            .await
            .expect("marker")
            .holes
            .to_string(),
        "1..2"
    );

    // Version 1 arrives late, with version 3: each is taken once, and the holes are gone.
    t.db.put_source_item(&t.table, stream, 1, ("Vex", -2, "late"))
        .await;
    let events = t.store.read_all(stream).await.expect("read");
    let late = records(stream, &events[1..], "late");
    let projector = Projector::new(t.store.clone(), t.snapshots.clone());
    let indexer = t.indexer();
    for _ in 0..2 {
        assert!(projector.project(&late).await.failures.is_empty());
        assert!(indexer.index(&late).await.failures.is_empty());
    }
    let snapshot = t.snapshot(stream).await;
    assert_eq!(
        (
            snapshot.version,
            snapshot.hit_points,
            snapshot.holes.is_empty()
        ),
        (3, 4, true)
    );
    assert!(!snapshot.legacy_holes, "the number set is gone");
    let feed = t.feed_by_character().await;
    assert_eq!(feed[&stream], vec![1, 3]);
    assert_eq!(t.marker_holes(stream).await, (None, false));
}

/// A snapshot that has holes and then folds around more: the new ranges are added to what it
/// read, on condition that its holes are still that (ranges, or the number set of an older
/// snapshot, which the write replaces with ranges).
#[tokio::test]
async fn more_holes_are_added_to_the_ranges_or_the_number_set_read() {
    let t = tables().await;
    let projector = Projector::new(t.store.clone(), t.snapshots.clone());
    // Versions 0, 2 and 3: the snapshot folds around 1.
    let ranged = Uuid::new_v4();
    for (version, hp) in [(0, 20), (2, -1), (3, -1)] {
        t.db.put_source_item(&t.table, ranged, version, ("Ash", hp, "hit"))
            .await;
    }
    let events = t.store.read_all(ranged).await.expect("read");
    assert!(projector
        .project(&records(ranged, &events, "a"))
        .await
        .failures
        .is_empty());
    assert_eq!(t.snapshot(ranged).await.holes.to_string(), "1..2");
    // Then version 10: 4 to 9 are missing too, added to the range read.
    t.db.put_source_item(&t.table, ranged, 10, ("Ash", -5, "hit"))
        .await;
    let ten = t.store.read_range(ranged, 10, 1).await.expect("read");
    assert!(projector
        .project(&records(ranged, &ten, "b"))
        .await
        .failures
        .is_empty());
    let snapshot = t.snapshot(ranged).await;
    assert_eq!(
        (
            snapshot.version,
            snapshot.hit_points,
            snapshot.holes.to_string()
        ),
        (10, 13, "1..2,4..10".to_owned())
    );

    // A snapshot of the build before ranges at version 2 with a hole at 1 (a number set), and
    // version 5 arriving: 3 and 4 are missing; the holes are written as ranges, the set goes.
    let legacy = Uuid::new_v4();
    for (version, hp) in [(0, 10), (2, -3), (5, -2)] {
        t.db.put_source_item(&t.table, legacy, version, ("Vex", hp, "bite"))
            .await;
    }
    t.db.client
        .put_item()
        .table_name(t.snapshots.table())
        .item("Id", AttributeValue::S(legacy.to_string()))
        .item("CharacterName", AttributeValue::S("Vex".into()))
        .item("HitPoints", AttributeValue::N("7".into()))
        .item("Version", AttributeValue::N("2".into()))
        .item(
            "UpdatedAt",
            AttributeValue::S("2026-12-01T20:00:00Z".into()),
        )
        .item("Holes", AttributeValue::Ns(vec!["1".into()]))
        .send()
        .await
        .expect("put a snapshot with a number set");
    let five = t.store.read_range(legacy, 5, 1).await.expect("read");
    assert!(projector
        .project(&records(legacy, &five, "c"))
        .await
        .failures
        .is_empty());
    let snapshot = t.snapshot(legacy).await;
    assert_eq!(
        (
            snapshot.version,
            snapshot.hit_points,
            snapshot.holes.to_string()
        ),
        (5, 5, "1..2,3..5".to_owned())
    );
    assert!(
        !snapshot.legacy_holes,
        "written as ranges, the number set gone"
    );
}
