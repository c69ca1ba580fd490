//! The Streams adapter and the projector against dynoxide: Lambda-shaped stream events in,
//! snapshots out.

use std::collections::HashMap;

use aws_lambda_events::event::dynamodb::Event;
use hitpoints::projector::Projector;
use hitpoints::{CharacterState, ExpectedVersion, NewEvent, RecordedEvent};
use hitpoints_streams::{handle, project};
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
    let response = handle(&projector, event).await;
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
