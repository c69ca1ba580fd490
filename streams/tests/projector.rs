//! The Streams adapter and the projector against dynoxide: Lambda-shaped stream events in,
//! snapshots out.

use hitpoints::metrics::Metrics;
use std::collections::HashMap;

use aws_lambda_events::event::dynamodb::Event;
use hitpoints::hp::Projector;
use hitpoints::{CharacterState, ExpectedVersion, NewEvent, RecordedEvent};
use hitpoints_streams::{consume as project, handle};
use hitpoints_testkit::{insert_record, test_db, TestDb, SAMPLE_ID};
use serde_json::{json, Value};
use uuid::Uuid;

async fn projector(db: &TestDb) -> Projector {
    Projector::new(db.store().await, db.snapshots().await)
}

#[tokio::test]
async fn the_sample_stream_batch_goes_through_the_handler() {
    let db = test_db().await;
    let projector = projector(&db).await;
    let event: Event =
        serde_json::from_str(include_str!("../../events/dynamodb-stream-batch.json"))
            .expect("a DynamoDB Streams event");
    let response = handle(&projector, event, &Metrics::new()).await;
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    // Only the undecodable record; the MODIFY is logged and not applied.
    assert_eq!(failed, vec![Some("100000000000000000005".to_owned())]);
    let stream = Uuid::parse_str(SAMPLE_ID).expect("uuid");
    let snapshot = projector
        .snapshots
        .get(stream, true)
        .await
        .expect("read")
        .expect("a snapshot");
    assert_eq!((snapshot.hit_points, snapshot.version), (3, 2));
    assert_eq!(snapshot.character_name, "Nuru");
    assert!(snapshot.updated_at.ends_with('Z'));
}

#[tokio::test]
async fn snapshots_follow_histories_delivered_with_duplicates_gaps_and_reordering() {
    let db = test_db().await;
    let projector = projector(&db).await;
    let mut rng = fastrand::Rng::with_seed(7);
    let mut histories: HashMap<Uuid, Vec<RecordedEvent>> = HashMap::new();
    for c in 0..24 {
        let stream = Uuid::new_v4();
        let mut last = None;
        for _ in 0..rng.usize(1..=4) {
            let batch: Vec<NewEvent> = (0..rng.usize(1..=4))
                .map(|_| {
                    hitpoints_testkit::event(&format!("character {c}"), rng.i64(-10..=10), "hit")
                })
                .collect();
            let expected = last.map_or(ExpectedVersion::NoStream, ExpectedVersion::Exact);
            let done = projector
                .events
                .append(stream, expected, batch)
                .await
                .expect("append");
            last = done.events.last().map(|e| e.version);
        }
        histories.insert(
            stream,
            projector.events.read_all(stream).await.expect("read"),
        );
    }
    // The stream: histories interleaved, some records lost on the way.
    let mut cursors: Vec<(Uuid, usize)> = histories.keys().map(|s| (*s, 0)).collect();
    let mut records = Vec::new();
    while !cursors.is_empty() {
        let i = rng.usize(..cursors.len());
        let (stream, next) = cursors[i];
        if rng.f64() >= 0.15 {
            records.push(insert_record(
                stream,
                &histories[&stream][next],
                records.len() + 1,
            ));
        }
        if next + 1 == histories[&stream].len() {
            cursors.swap_remove(i);
        } else {
            cursors[i].1 += 1;
        }
    }
    let mut position = 0;
    let mut batches = 0;
    while position < records.len() {
        batches += 1;
        let size = rng.usize(1..=10).min(records.len() - position);
        let mut batch: Vec<Value> = records[position..position + size].to_vec();
        if position > 0 && rng.bool() {
            batch.push(records[rng.usize(..position)].clone());
        }
        if rng.bool() {
            rng.shuffle(&mut batch);
        }
        let event: Event = serde_json::from_value(json!({ "Records": batch })).expect("an event");
        let outcome = project(&projector, &event).await;
        assert!(outcome.failures.is_empty(), "{:?}", outcome.failures);
        assert!(outcome.writes <= outcome.characters);
        position += size;
    }
    for (stream, events) in &histories {
        let snapshot = projector.snapshots.get(*stream, true).await.expect("read");
        let delivered_any = records
            .iter()
            .any(|r| r["dynamodb"]["Keys"]["Id"]["S"] == stream.to_string());
        let Some(snapshot) = snapshot else {
            assert!(!delivered_any, "{stream} has records but no snapshot");
            continue;
        };
        let state = CharacterState::fold(&events[..=snapshot.version as usize]).expect("events");
        assert_eq!(
            (snapshot.hit_points, &snapshot.character_name),
            (state.hp, &state.character_name)
        );
        let last_delivered = records
            .iter()
            .filter(|r| r["dynamodb"]["Keys"]["Id"]["S"] == stream.to_string())
            .filter_map(|r| {
                r["dynamodb"]["Keys"]["Version"]["N"]
                    .as_str()?
                    .parse::<u64>()
                    .ok()
            })
            .max();
        assert!(last_delivered.is_some_and(|v| snapshot.version >= v));
    }
    println!(
        "{} histories, {} records in {batches} batches",
        histories.len(),
        records.len()
    );
}

/// Streams written by other code: the source material's snapshot items, and a version missing.
/// The snapshot follows the consistent fold through all of it, and a character's hole never
/// holds back its own later records or another character's.
#[tokio::test]
async fn snapshot_items_and_holes_fold_as_the_consistent_read_does() {
    let db = test_db().await;
    let table = db.events_table().await;
    let store = hitpoints::store::EventStore::new(db.client.clone(), &table);
    let projector = Projector::new(store.clone(), db.snapshots().await);
    let deliver = |records: Vec<Value>| {
        let projector = &projector;
        async move {
            let event: Event =
                serde_json::from_value(json!({ "Records": records })).expect("an event");
            let outcome = project(projector, &event).await;
            assert!(outcome.failures.is_empty(), "{:?}", outcome.failures);
        }
    };
    let record = |stream: Uuid, version: u64, sequence: usize| {
        let store = &store;
        async move {
            let events = store.read_all(stream).await.expect("read");
            let event = events
                .iter()
                .find(|e| e.version == version)
                .expect("the event");
            insert_record(stream, event, sequence)
        }
    };

    // The source material's sample with its snapshot item: 8, -2, -3, SNAPSHOT(3).
    let sampled = Uuid::new_v4();
    for (version, item) in [
        (8, "Init"),
        (-2, "Slashing damage from goblin"),
        (-3, "bludgeoning damage from bugbear"),
        (3, "SNAPSHOT"),
    ]
    .iter()
    .enumerate()
    {
        db.put_source_item(&table, sampled, version as u64, ("Nuru", item.0, item.1))
            .await;
    }
    // Another character with versions 0 and 2 only, and one of ours beside them.
    let holed = Uuid::new_v4();
    db.put_source_item(&table, holed, 0, ("Vex", 10, "Init"))
        .await;
    db.put_source_item(&table, holed, 2, ("Vex", -4, "arrow"))
        .await;
    let ours = Uuid::new_v4();
    store
        .append(
            ours,
            ExpectedVersion::NoStream,
            hitpoints_testkit::sample_events(),
        )
        .await
        .expect("append");

    let mut batch = Vec::new();
    for version in 0..4 {
        batch.push(record(sampled, version, batch.len() + 1).await);
    }
    batch.push(record(holed, 0, batch.len() + 1).await);
    batch.push(record(holed, 2, batch.len() + 1).await);
    for version in 0..3 {
        batch.push(record(ours, version, batch.len() + 1).await);
    }
    deliver(batch).await;
    let snapshot = |stream: Uuid| {
        let projector = &projector;
        async move {
            let s = projector
                .snapshots
                .get(stream, true)
                .await
                .expect("read")
                .expect("a snapshot");
            (s.hit_points, s.version)
        }
    };
    let consistent = |stream: Uuid| {
        let store = &store;
        async move {
            let state = store.character(stream).await.expect("fold");
            (state.hp, state.version)
        }
    };
    assert_eq!(
        snapshot(sampled).await,
        (3, 3),
        "the snapshot item changes nothing"
    );
    assert_eq!(consistent(sampled).await, (3, 3));
    assert_eq!(snapshot(holed).await, (6, 2), "the hole is folded around");
    assert_eq!(consistent(holed).await, (6, 2));
    assert_eq!(snapshot(ours).await, (3, 2));

    // Later appends of ours keep it current, after the snapshot item and after the hole.
    for stream in [sampled, holed] {
        let last = consistent(stream).await.1;
        store
            .append(
                stream,
                ExpectedVersion::Exact(last),
                vec![hitpoints_testkit::event("Nuru", -1, "trap")],
            )
            .await
            .expect("append after");
        deliver(vec![record(stream, last + 1, 100).await]).await;
        assert_eq!(snapshot(stream).await, consistent(stream).await);
    }
    assert_eq!(snapshot(holed).await, (5, 3));

    // The hole is filled later by other code: applied once, however often it is delivered.
    db.put_source_item(&table, holed, 1, ("Vex", -2, "late"))
        .await;
    let late = record(holed, 1, 200).await;
    deliver(vec![late.clone()]).await;
    assert_eq!(snapshot(holed).await, (3, 3));
    assert_eq!(consistent(holed).await, (3, 3));
    deliver(vec![late.clone(), late]).await;
    assert_eq!(
        snapshot(holed).await,
        (3, 3),
        "a re-delivery applies nothing"
    );
}
