//! The scheduled repair's cost: one run over an events table, page by page as the `repair`
//! Lambda runs it, on the local run's dynoxide. Prints the time, the calls and the capacity
//! units dynoxide reports (`ReturnConsumedCapacity` on every call, through an SDK interceptor),
//! and from them the price of one run per million events.
//!
//! Tables of 10,000 events: 500 characters × 20 events whose feed and snapshots are complete (a
//! run finds nothing: the daily cost), the same with a tenth of the characters missing from both
//! (a run fixes them), and 50 characters × 190 events, complete, whose histories straddle the pages of 1,000
//! (each is then read whole, consistently, to check its snapshot: the costly case).
//!
//! Run: `cargo bench -p local --bench repair`. Asserts nothing about time.

use std::time::{Duration, Instant};

// Only the local run of what the benches share.
#[allow(dead_code)]
mod common;
mod meter;

use common::local_run;
use hitpoints::feed::{FeedStore, Indexer};
use hitpoints::hp::SnapshotStore;
use hitpoints::store::EventStore;
use hitpoints::upkeep::{Budget, StepReport, Trigger, Upkeep, PAGE_ITEMS};
use hitpoints::{ExpectedVersion, NewEvent};
use hitpoints_testkit::{index_stream, project_stream};
use local::dynamodb::{
    create_events_table, create_feed_table, create_snapshots_table, local_sdk_config,
};
use meter::Meter;
use uuid::Uuid;

/// us-east-1 list prices, 2025.
const READ_UNIT_USD: f64 = 0.125 / 1e6;
const WRITE_UNIT_USD: f64 = 0.625 / 1e6;
const GB_SECOND_USD: f64 = 0.000_013_333_4;
const REQUEST_USD: f64 = 0.20 / 1e6;
/// The function's memory (template.yaml, Globals).
const MEMORY_GB: f64 = 0.25;

fn main() {
    let (runtime, running, _, _) = local_run();
    let endpoint = running.dynamodb_endpoint.clone();
    runtime.block_on(async {
        for (characters, events_each, missing_every) in [(500, 20, 0), (500, 20, 10), (50, 190, 0)]
        {
            run(&endpoint, characters, events_each, missing_every).await;
        }
    });
    runtime.block_on(running.stop());
}

async fn run(endpoint: &str, characters: usize, events_each: usize, missing_every: usize) {
    let meter = Meter::default();
    let config = aws_sdk_dynamodb::config::Builder::from(&local_sdk_config(endpoint))
        .interceptor(meter.clone())
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(config);
    let suffix = Uuid::new_v4().simple().to_string();
    let (events, snapshots, feed) = (
        format!("events-{suffix}"),
        format!("snapshots-{suffix}"),
        format!("feed-{suffix}"),
    );
    create_events_table(&client, &events, false)
        .await
        .expect("table");
    create_snapshots_table(&client, &snapshots)
        .await
        .expect("table");
    create_feed_table(&client, &feed).await.expect("table");
    let store = EventStore::new(client.clone(), &events);
    let snapshots = SnapshotStore::new(client.clone(), &snapshots);
    let feed = FeedStore::new(client.clone(), &feed);
    for i in 0..characters {
        let stream = Uuid::new_v4();
        let batch: Vec<NewEvent> = (0..events_each)
            .map(|n| NewEvent {
                character_name: format!("Hero {i}"),
                hp_change: if n == 0 { 30 } else { -1 },
                note: "a change of hit points at the table".into(),
                event_id: None,
            })
            .collect();
        // At most 100 events an append.
        for chunk in batch.chunks(100) {
            store
                .append(stream, ExpectedVersion::Any, chunk.to_vec())
                .await
                .expect("append");
        }
        if missing_every == 0 || i % missing_every != 0 {
            index_stream(&store, &feed, stream).await;
            project_stream(&store, &snapshots, stream).await;
        }
    }
    meter.take();
    // Just written: no grace, or the run would leave every event to the live consumers.
    let upkeep = Upkeep::new(Indexer::new(store, feed), snapshots).with_grace(Duration::ZERO);
    let started = Instant::now();
    let (mut invocations, mut entries, mut fixed, mut events_read) = (0u64, 0u64, 0u64, 0u64);
    loop {
        let budget = Budget {
            deadline: Instant::now() + Duration::from_secs(840),
            reserve: Duration::from_secs(60),
        };
        let mut report = StepReport::default();
        upkeep
            .step(Trigger::Schedule, budget, &mut report)
            .await
            .expect("a step");
        invocations += 1;
        entries += report.feed_entries;
        fixed += report.snapshots_fixed.values().sum::<u64>();
        events_read += report.events;
        if report.finished {
            break;
        }
    }
    let elapsed = started.elapsed();
    let units = meter.take();
    let total = |kind: &str| -> f64 {
        units
            .iter()
            .filter(|(k, _)| k.ends_with(kind))
            .map(|(_, v)| v)
            .sum::<f64>()
    };
    let (reads, writes) = (total(" read"), total(" write"));
    let per_million = 1e6 / events_read as f64;
    let dynamodb_usd = (reads * READ_UNIT_USD + writes * WRITE_UNIT_USD) * per_million;
    let lambda_usd = elapsed.as_secs_f64() * per_million * MEMORY_GB * GB_SECOND_USD
        + invocations as f64 * per_million * REQUEST_USD;
    let label = if missing_every == 0 {
        format!("{characters} characters x {events_each} events, complete feed and snapshots")
    } else {
        format!("{characters} characters x {events_each} events, 1 in {missing_every} missing from both")
    };
    println!(
        "repair run, {label}: {events_read} events in {} pages of {PAGE_ITEMS}, {} ms \
         ({:.0} events/s), {invocations} invocation(s); {entries} feed entries and {fixed} \
         snapshots written",
        events_read.div_ceil(PAGE_ITEMS as u64),
        elapsed.as_millis(),
        events_read as f64 / elapsed.as_secs_f64(),
    );
    for (key, value) in &units {
        println!(
            "  {key}: {value:.1} units ({:.0} per million events)",
            value * per_million
        );
    }
    println!(
        "  per million events: DynamoDB {:.0} read + {:.0} write units = {dynamodb_usd:.4} USD; \
         Lambda at 256 MB for this run's time = {lambda_usd:.4} USD",
        reads * per_million,
        writes * per_million
    );
}
