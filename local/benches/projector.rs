//! The projector's figures: `cargo bench -p local --bench projector`.
//! - lag from an append (HTTP) to its snapshot in the local run (median, p99);
//! - the handler's records per second on batches of 100 Lambda-shaped records;
//! - the local run's catch-up rate after a burst of appends.
//!
//! Prints figures; asserts nothing about time.

use hitpoints::metrics::Metrics;
use std::time::{Duration, Instant};

use aws_lambda_events::event::dynamodb::Event;
use hitpoints::hp::Projector;
use hitpoints::hp::SnapshotStore;
use hitpoints::store::EventStore;
use hitpoints::{ExpectedVersion, NewEvent};
use hitpoints_testkit::insert_record;
use local::dynamodb::{create_events_table, create_snapshots_table, local_client};
use local::{start, Options, Storage, EVENTS_TABLE, SNAPSHOTS_TABLE};
use serde_json::{json, Value};
use uuid::Uuid;

const LAG_SAMPLES: usize = 200;
const IDLE_LAG_SAMPLES: usize = 20;
const BURST_CHARACTERS: usize = 20;
const BURST_EVENTS_EACH: usize = 100;

fn event(hp: i64) -> NewEvent {
    hitpoints_testkit::event("Nuru", hp, "hit")
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

async fn wait_for(snapshots: &SnapshotStore, stream: Uuid, version: u64) {
    loop {
        if let Some(s) = snapshots.get(stream, true).await.expect("read") {
            if s.version >= version {
                return;
            }
        }
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let running = start(&Options { port: 0, dynamodb_port: 0, storage: Storage::InMemory, ..Options::default() }).await.expect("start");
        let client = local_client(&running.dynamodb_endpoint);
        let store = EventStore::new(client.clone(), EVENTS_TABLE);
        let snapshots = SnapshotStore::new(client.clone(), SNAPSHOTS_TABLE);
        let base = format!("http://{}", running.api_addr);

        // Lag: an append through HTTP, then the snapshot at its version; while the stream is
        // busy, and after a second of idleness (the follower's polls back off, but the POST wakes it).
        for (label, samples, idle) in [
            ("busy stream", LAG_SAMPLES, Duration::ZERO),
            ("after 1 s idle", IDLE_LAG_SAMPLES, Duration::from_secs(1)),
        ] {
            let mut lags = Vec::with_capacity(samples);
            for _ in 0..samples {
                tokio::time::sleep(idle).await;
                let url = format!("{base}/characters");
                let started = Instant::now();
                let body = tokio::task::spawn_blocking(move || -> Value {
                    let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
                    agent
                        .post(&url)
                        .send_json(json!({"character_name": "Nuru", "hp_change": 8, "note": "Init"}))
                        .expect("201")
                        .body_mut()
                        .read_json()
                        .expect("json")
                })
                .await
                .expect("request");
                let id = Uuid::parse_str(body["id"].as_str().expect("id")).expect("uuid");
                wait_for(&snapshots, id, 0).await;
                lags.push(started.elapsed());
            }
            lags.sort();
            println!(
                "append-to-snapshot lag, {label} (local run, n={}): median {:.2} ms, p99 {:.2} ms",
                lags.len(),
                millis(lags[lags.len() / 2]),
                millis(lags[(lags.len() * 99) / 100])
            );
        }

        // Catch-up: a burst of appends straight to the table, then wait for every snapshot.
        let started = Instant::now();
        let mut streams = Vec::new();
        for _ in 0..BURST_CHARACTERS {
            let stream = Uuid::new_v4();
            let events = (0..BURST_EVENTS_EACH).map(|i| event(i as i64)).collect();
            store.append(stream, ExpectedVersion::NoStream, events).await.expect("append");
            streams.push(stream);
        }
        let written = started.elapsed();
        for stream in &streams {
            wait_for(&snapshots, *stream, BURST_EVENTS_EACH as u64 - 1).await;
        }
        let total = BURST_CHARACTERS * BURST_EVENTS_EACH;
        let elapsed = started.elapsed();
        println!(
            "local run catch-up: {total} records written in {:.0} ms, all projected after {:.0} ms: {:.0} records/s end to end",
            millis(written),
            millis(elapsed),
            total as f64 / elapsed.as_secs_f64()
        );

        // The handler alone: batches of 100 Lambda-shaped records, 10 characters per batch, on
        // tables without a stream (so dynoxide's stream bookkeeping is not counted).
        create_events_table(&client, "bench-events", false).await.expect("table");
        create_snapshots_table(&client, "bench-snapshots").await.expect("table");
        let bench_store = EventStore::new(client.clone(), "bench-events");
        let projector = Projector::new(bench_store.clone(), SnapshotStore::new(client.clone(), "bench-snapshots"));
        let mut records = Vec::new();
        for _ in 0..BURST_CHARACTERS {
            let stream = Uuid::new_v4();
            let events = (0..BURST_EVENTS_EACH).map(|i| event(i as i64)).collect();
            let stored = bench_store.append(stream, ExpectedVersion::NoStream, events).await.expect("append");
            for e in stored.events {
                records.push((stream, e));
            }
        }
        // Interleave characters the way a stream does: 10 per batch of 100, in version order.
        records.sort_by_key(|(stream, e)| (e.version / 10, *stream, e.version));
        let events: Vec<Event> = records
            .chunks(100)
            .map(|chunk| {
                let records: Vec<Value> = chunk
                    .iter()
                    .enumerate()
                    .map(|(i, (stream, e))| insert_record(*stream, e, i))
                    .collect();
                serde_json::from_value(json!({ "Records": records })).expect("an event")
            })
            .collect();
        let started = Instant::now();
        let mut batch_times = Vec::new();
        for event in events {
            let batch_started = Instant::now();
            let response = hitpoints_streams::handle(&projector, event, &Metrics::new()).await;
            assert!(response.batch_item_failures.is_empty());
            batch_times.push(batch_started.elapsed());
        }
        let elapsed = started.elapsed();
        batch_times.sort();
        println!(
            "projector handler: {} records in {} batches of 100 in {:.0} ms: {:.0} records/s (batch median {:.2} ms)",
            records.len(),
            batch_times.len(),
            millis(elapsed),
            records.len() as f64 / elapsed.as_secs_f64(),
            millis(batch_times[batch_times.len() / 2])
        );
        running.stop().await;
    });
}
