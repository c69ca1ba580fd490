//! The feed indexer on dynoxide: the sample batches through the Streams adapter, and histories
//! delivered with duplicates, re-ordering, re-deliveries, crashes part-way and concurrent
//! indexers, checked against every guarantee of the feed.

use hitpoints::domain::DEFAULT_CAMPAIGN;
use hitpoints::metrics::Metrics;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use aws_lambda_events::event::dynamodb::Event;
use futures_util::future::join_all;
use hitpoints::domain::Direction;
use hitpoints::feed::Position;
use hitpoints::feed::{FeedEntry, FeedRead, FeedStore};
use hitpoints::feed::{Indexer, RepairProgress};
use hitpoints::stream::StreamRecord;
use hitpoints::{ExpectedVersion, RecordedEvent};
use hitpoints_streams::handle;
use hitpoints_testkit::{event, records, test_db, TestDb, SAMPLE_ID};
use uuid::Uuid;

async fn indexer(db: &TestDb) -> Indexer {
    Indexer::new(db.store().await, db.feed().await)
}

/// The whole feed, forward, `limit` at a time, following `next`.
async fn whole_feed(feed: &FeedStore, limit: usize) -> Vec<FeedEntry> {
    read_all(feed, None, Direction::Forward, limit).await
}

async fn read_all(
    feed: &FeedStore,
    after: Option<Position>,
    direction: Direction,
    limit: usize,
) -> Vec<FeedEntry> {
    let mut entries = Vec::new();
    let mut after = after;
    loop {
        let page = feed
            .read(FeedRead {
                campaign: DEFAULT_CAMPAIGN,
                after,
                direction,
                limit,
                wait: Duration::ZERO,
            })
            .await
            .expect("read the feed");
        assert!(page.entries.len() <= limit);
        if page.entries.is_empty() {
            assert_eq!(
                Some(page.next),
                after.or(Some(Position(0))),
                "next: after itself"
            );
            return entries;
        }
        assert_eq!(page.next, page.entries.last().expect("entries").position);
        after = Some(page.next);
        entries.extend(page.entries);
    }
}

/// Every guarantee of the feed, for the events `expected` holds.
#[track_caller]
fn assert_feed_guarantees(entries: &[FeedEntry], expected: &HashMap<Uuid, Vec<RecordedEvent>>) {
    // Positions 1, 2, 3, … : strictly increasing, no gap.
    for (i, entry) in entries.iter().enumerate() {
        assert_eq!(entry.position, Position(i as u64 + 1));
    }
    // Exactly once: every event, no other, none twice.
    let mut seen = HashSet::new();
    for entry in entries {
        assert!(
            seen.insert((entry.stream, entry.event.version)),
            "{} version {} twice",
            entry.stream,
            entry.event.version
        );
    }
    let want: HashSet<(Uuid, u64)> = expected
        .iter()
        .flat_map(|(s, events)| events.iter().map(move |e| (*s, e.version)))
        .collect();
    assert_eq!(seen, want);
    // Each character in version order, each entry the event as stored.
    let mut last: HashMap<Uuid, u64> = HashMap::new();
    for entry in entries {
        if let Some(previous) = last.insert(entry.stream, entry.event.version) {
            assert!(
                previous < entry.event.version,
                "{} out of order",
                entry.stream
            );
        }
        let stored = &expected[&entry.stream][entry.event.version as usize];
        assert_eq!(&entry.event, stored);
    }
}

#[tokio::test]
async fn the_sample_batches_index_each_event_once_in_version_order() {
    let db = test_db().await;
    let indexer = indexer(&db).await;
    let event: Event =
        serde_json::from_str(include_str!("../../events/dynamodb-stream-batch.json"))
            .expect("a DynamoDB Streams event");
    let response = handle(&indexer, event, &Metrics::new()).await;
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .filter_map(|f| f.item_identifier.clone())
        .collect();
    // Only the undecodable record; the MODIFY is logged and not indexed.
    assert_eq!(failed, vec!["100000000000000000005".to_owned()]);
    let feed = whole_feed(&indexer.feed, 100).await;
    let sample: Uuid = SAMPLE_ID.parse().expect("uuid");
    let got: Vec<(Uuid, u64)> = feed.iter().map(|e| (e.stream, e.event.version)).collect();
    assert_eq!(got, vec![(sample, 0), (sample, 1), (sample, 2)]);

    // One transaction's records arriving as 1, 2, 0, and 1 again: in the feed as 0, 1, 2.
    let text = include_str!("../../events/dynamodb-stream-batch-out-of-order.json");
    for _ in 0..2 {
        let event: Event = serde_json::from_str(text).expect("a DynamoDB Streams event");
        let response = handle(&indexer, event, &Metrics::new()).await;
        assert!(response.batch_item_failures.is_empty());
    }
    let feed = whole_feed(&indexer.feed, 2).await;
    let vex: Uuid = "9b4f6e2a-3c1d-4e8f-a7b6-5d4c3b2a1f09"
        .parse()
        .expect("uuid");
    let got: Vec<(u64, Uuid, u64)> = feed
        .iter()
        .map(|e| (e.position.0, e.stream, e.event.version))
        .collect();
    assert_eq!(
        got[3..],
        [(4, vex, 0), (5, vex, 1), (6, vex, 2)],
        "after the first sample's three"
    );
    assert_eq!(feed[4].event.note, "Fire bolt from the cultist");
}

/// Appends histories to many characters (single events and batches, one transaction each)
/// and returns the events as stored.
async fn histories(indexer: &Indexer, characters: usize) -> HashMap<Uuid, Vec<RecordedEvent>> {
    let mut rng = fastrand::Rng::with_seed(11);
    let mut all = HashMap::new();
    for c in 0..characters {
        let stream = Uuid::new_v4();
        let mut stored = Vec::new();
        for _ in 0..rng.usize(1..5) {
            let batch: Vec<_> = (0..rng.usize(1..4))
                .map(|i| event(&format!("Hero {c}"), rng.i64(-9..9), &format!("turn {i}")))
                .collect();
            let appended = indexer
                .events
                .append(stream, ExpectedVersion::Any, batch)
                .await
                .expect("append");
            stored.extend(appended.events);
        }
        all.insert(stream, stored);
    }
    all
}

#[tokio::test]
async fn duplicates_reordering_redeliveries_crashes_and_concurrent_indexers_index_exactly_once() {
    let db = test_db().await;
    let indexer = indexer(&db).await;
    let expected = histories(&indexer, 30).await;
    let mut rng = fastrand::Rng::with_seed(5);
    // The stream's records, per character, as delivered: shuffled, some twice, some dropped
    // (a lost record: a later one makes the indexer read the gap from the events table).
    let mut batches: Vec<Vec<StreamRecord>> = Vec::new();
    for (stream, events) in &expected {
        let mut delivered = records(*stream, events, "s");
        rng.shuffle(&mut delivered);
        let duplicates: Vec<StreamRecord> =
            delivered.iter().filter(|_| rng.bool()).cloned().collect();
        delivered.extend(duplicates);
        if delivered.len() > 2 {
            let lost = rng.usize(..delivered.len() - 1);
            delivered.remove(lost);
        }
        // Split into several batches, mixed with other characters' below.
        for chunk in delivered.chunks(rng.usize(1..4)) {
            batches.push(chunk.to_vec());
        }
    }
    rng.shuffle(&mut batches);
    // A crash part-way: half a batch indexed, then the whole batch delivered again.
    for batch in batches.iter().take(5) {
        let half = &batch[..batch.len() / 2];
        let _ = indexer.index(half).await;
    }
    // Two indexers at once over all the batches (as Lambda's retries and a second shard's
    // invocation can overlap), each batch also delivered twice.
    let second = Indexer::new(indexer.events.clone(), indexer.feed.clone());
    let (a, b) = batches.split_at(batches.len() / 2);
    let run = |indexer: Indexer, batches: Vec<Vec<StreamRecord>>| async move {
        for batch in batches.iter().chain(batches.iter()) {
            let outcome = indexer.index(batch).await;
            assert!(outcome.failures.is_empty(), "{outcome:?}");
        }
    };
    join_all([
        run(indexer.clone(), a.to_vec()),
        run(second.clone(), b.to_vec()),
        run(second, a.to_vec()),
    ])
    .await;
    // The last record of every character, so that a dropped last record still gets indexed.
    for (stream, events) in &expected {
        let last = events.last().expect("events");
        let _ = indexer
            .index(&records(*stream, std::slice::from_ref(last), "last"))
            .await;
    }

    let entries = whole_feed(&indexer.feed, 7).await;
    assert_feed_guarantees(&entries, &expected);

    // A reader resuming from any position sees every later event exactly once.
    for cut in [0, 1, entries.len() / 3, entries.len() - 1, entries.len()] {
        let after = Position(cut as u64);
        let rest = read_all(&indexer.feed, Some(after), Direction::Forward, 5).await;
        assert_eq!(rest, entries[cut..].to_vec(), "after {cut}");
    }
    // Backward: newest first, and `after` then means "older than".
    let backward = read_all(&indexer.feed, None, Direction::Backward, 6).await;
    let mut reversed = entries.clone();
    reversed.reverse();
    assert_eq!(backward, reversed);
    let older = read_all(&indexer.feed, Some(Position(4)), Direction::Backward, 2).await;
    let positions: Vec<u64> = older.iter().map(|e| e.position.0).collect();
    assert_eq!(positions, vec![3, 2, 1]);
}

#[tokio::test]
async fn the_repair_brings_in_what_the_stream_never_delivered_beside_the_live_indexer() {
    let db = test_db().await;
    let table = db.events_table().await;
    let events = hitpoints::store::EventStore::new(db.client.clone(), table.clone());
    let indexer = Indexer::new(events, db.feed().await);
    // Events from before the feed existed: never delivered to the indexer.
    let mut expected = histories(&indexer, 25).await;
    // The source material's items (no EventId, no RecordedAt), with version 1 missing.
    let foreign = Uuid::new_v4();
    db.put_source_item(&table, foreign, 0, ("Ash", 9, "Init"))
        .await;
    db.put_source_item(&table, foreign, 2, ("Ash", -4, "Claw"))
        .await;

    // Live traffic while the repair runs: new events, indexed as the stream delivers them.
    let live = {
        let indexer = indexer.clone();
        let streams: Vec<Uuid> = expected.keys().copied().take(10).collect();
        tokio::spawn(async move {
            for stream in streams {
                let appended = indexer
                    .events
                    .append(
                        stream,
                        ExpectedVersion::Any,
                        vec![event("Hero", -1, "live")],
                    )
                    .await
                    .expect("append");
                let outcome = indexer
                    .index(&records(stream, &appended.events, "live"))
                    .await;
                assert!(outcome.failures.is_empty(), "{outcome:?}");
            }
        })
    };
    let report = indexer
        .repair(3, None, &RepairProgress::default())
        .await
        .expect("repair");
    live.await.expect("live traffic");
    assert!(report.failed.is_empty(), "{report:?}");
    // Whatever the live indexer had not brought in yet, a second repair does; a third finds
    // nothing to do.
    indexer
        .repair(2, None, &RepairProgress::default())
        .await
        .expect("repair");
    let idle = indexer
        .repair(4, None, &RepairProgress::default())
        .await
        .expect("repair");
    assert_eq!((idle.indexed, idle.repaired.len()), (0, 0), "{idle:?}");

    for (stream, events) in expected.iter_mut() {
        *events = indexer.events.read_all(*stream).await.expect("events");
    }
    let entries = whole_feed(&indexer.feed, 50).await;
    // The feed itself first: positions 1..n, no event twice.
    let mut once = HashSet::new();
    for (i, entry) in entries.iter().enumerate() {
        assert_eq!(entry.position, Position(i as u64 + 1));
        assert!(once.insert((entry.stream, entry.event.version)), "twice");
    }
    let (foreign_entries, ours): (Vec<FeedEntry>, Vec<FeedEntry>) =
        entries.iter().cloned().partition(|e| e.stream == foreign);
    let foreign_versions: Vec<u64> = foreign_entries.iter().map(|e| e.event.version).collect();
    assert_eq!(foreign_versions, vec![0, 2], "folded around the hole");
    // Our characters: every guarantee, on the feed without the foreign stream's entries.
    let renumbered: Vec<FeedEntry> = ours
        .into_iter()
        .enumerate()
        .map(|(i, e)| FeedEntry {
            position: Position(i as u64 + 1),
            ..e
        })
        .collect();
    assert_feed_guarantees(&renumbered, &expected);

    // Version 1 is written late by the other code: the repair brings it in, once.
    db.put_source_item(&table, foreign, 1, ("Ash", -2, "Bite"))
        .await;
    let report = indexer
        .repair(2, None, &RepairProgress::default())
        .await
        .expect("repair");
    assert_eq!(
        (report.indexed, report.repaired.clone()),
        (1, vec![foreign])
    );
    let entries = whole_feed(&indexer.feed, 1000).await;
    let last = entries.last().expect("entries");
    assert_eq!((last.stream, last.event.version), (foreign, 1));
    let again = indexer
        .repair(2, None, &RepairProgress::default())
        .await
        .expect("repair");
    assert_eq!(again.indexed, 0);
    let by_character: BTreeMap<Uuid, usize> = entries.iter().fold(BTreeMap::new(), |mut m, e| {
        *m.entry(e.stream).or_default() += 1;
        m
    });
    assert_eq!(by_character[&foreign], 3);
}

#[tokio::test]
async fn batches_larger_than_a_transaction_are_indexed_in_order_by_writers_racing_for_the_head() {
    let db = test_db().await;
    let indexer = indexer(&db).await;
    // Two characters of 150 events each (two appends of 75): each batch needs two
    // transactions, and two indexers write them at once, so some transactions lose the head
    // to the other and are planned again.
    let mut expected = HashMap::new();
    for c in 0..2 {
        let stream = Uuid::new_v4();
        let mut stored = Vec::new();
        for half in 0..2 {
            let batch = (0..75)
                .map(|i| event(&format!("Hero {c}"), -1, &format!("hit {half}-{i}")))
                .collect();
            let appended = indexer
                .events
                .append(stream, ExpectedVersion::Any, batch)
                .await
                .expect("append");
            stored.extend(appended.events);
        }
        expected.insert(stream, stored);
    }
    let second = Indexer::new(indexer.events.clone(), indexer.feed.clone());
    let batches: Vec<(Indexer, Vec<StreamRecord>)> = expected
        .iter()
        .zip([indexer.clone(), second])
        .map(|((stream, events), indexer)| (indexer, records(*stream, events, "big")))
        .collect();
    let outcomes = join_all(
        batches
            .iter()
            .map(|(indexer, records)| indexer.index(records)),
    )
    .await;
    for outcome in outcomes {
        assert!(outcome.failures.is_empty(), "{outcome:?}");
        assert_eq!(outcome.writes, 150, "every event written, counted once");
    }
    let entries = whole_feed(&indexer.feed, 1000).await;
    assert_feed_guarantees(&entries, &expected);
    // Delivered again: nothing new.
    let again = indexer.index(&batches[0].1).await;
    assert_eq!((again.writes, again.failures.len()), (0, 0));
}
