//! The projector's figures: `cargo bench -p local --bench projector`.
//! - lag from an append (HTTP) to its snapshot in the local run (median, p99);
//! - the handler's records per second on batches of 100 Lambda-shaped records;
//! - the local run's catch-up rate after a burst of appends.
//!
//! Prints figures; asserts nothing about time.

use std::time::{Duration, Instant};

use hitpoints::store::{local_client, EventStore, SnapshotStore};
use hitpoints::{ExpectedVersion, NewEvent};
use local::{start, Options, Storage, EVENTS_TABLE, SNAPSHOTS_TABLE};
use serde_json::{json, Value};
use uuid::Uuid;

const LAG_SAMPLES: usize = 200;
const BURST_CHARACTERS: usize = 20;
const BURST_EVENTS_EACH: usize = 100;

fn event(hp: i64) -> NewEvent {
    NewEvent {
        character_name: "Nuru".into(),
        hp_change: hp,
        note: "hit".into(),
        event_id: None,
    }
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
        let running = start(&Options { port: 0, dynamodb_port: 0, storage: Storage::InMemory }).await.expect("start");
        let client = local_client(&running.dynamodb_endpoint);
        let store = EventStore::new(client.clone(), EVENTS_TABLE);
        let snapshots = SnapshotStore::new(client.clone(), SNAPSHOTS_TABLE);
        let base = format!("http://{}", running.api_addr);

        // Lag: an append through HTTP, then the snapshot at its version.
        let mut lags = Vec::with_capacity(LAG_SAMPLES);
        for _ in 0..LAG_SAMPLES {
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
            "append-to-snapshot lag (local run, n={}): median {:.2} ms, p99 {:.2} ms",
            lags.len(),
            millis(lags[lags.len() / 2]),
            millis(lags[(lags.len() * 99) / 100])
        );

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
        running.stop().await;
    });
}
