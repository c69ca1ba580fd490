//! Campaigns at scale on the local run's embedded DynamoDB: `cargo bench -p local --bench campaigns`.
//!
//! 1. **Many campaigns at once.** 16 campaigns of 4 characters each; every campaign appends
//!    concurrently, and 4 indexers index what was appended, as 4 stream shards would. Three
//!    runs: shards by character (as DynamoDB Streams shards by the events table's partition
//!    key: a campaign's characters spread over every shard, so its head has several writers);
//!    shards holding whole campaigns (no two shards share a campaign's head, so any transaction
//!    lost to a head there could only be another campaign's doing); and the control, every
//!    character in one campaign (the one feed before campaigns), shards by character. Prints
//!    each campaign's feed lag (append acknowledged → its entry written; median, p99), the
//!    indexers' events/s, and the transactions lost to a head and tried again.
//! 2. **Write units per appended event, end to end.** An isolated event (one per batch) through
//!    the append, the projector and the indexer, on a client that asks every call for its
//!    `ConsumedCapacity`: the units dynoxide reports per table, beside those computed from the
//!    items' sizes (1 per KB written; 2 per KB in a transaction; a write to the snapshot table
//!    also writes its index by campaign).
//!
//! dynoxide is one SQLite database: it cannot show partitions scaling (see the README for the
//! per-partition ceiling); it shows that campaigns do not contend and what each event costs.
//! Asserts nothing about time.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;
mod meter;

use common::{local_run, percentile, report};
use futures_util::future::join_all;
use hitpoints::domain::{RecordedEvent, DEFAULT_CAMPAIGN};
use hitpoints::feed::{FeedStore, Indexer};
use hitpoints::hp::{Projector, SnapshotStore};
use hitpoints::rules::{Command, DamagePart, DamageType, Defences, HitDice, RulesSetup, Ruleset};
use hitpoints::store::{item::EventItem, item_bytes, CommandRequest, EventStore};
use hitpoints::stream::{Change, StreamRecord};
use hitpoints::{ExpectedVersion, NewEvent};
use local::dynamodb::{
    create_events_table, create_feed_table, create_snapshots_table, local_sdk_config,
};
use meter::Meter;
use uuid::Uuid;

const CAMPAIGNS: usize = 16;
const CHARACTERS_EACH: usize = 4;
const ROUNDS: usize = 25;
const SHARDS: usize = 4;
const ISOLATED: usize = 50;

fn main() {
    let (runtime, running, _, _) = local_run();
    let endpoint = running.dynamodb_endpoint.clone();
    runtime.block_on(async {
        for (label, campaigns, by_character) in [
            ("16 campaigns, shards by character", CAMPAIGNS, true),
            (
                "16 campaigns, each shard holding whole campaigns",
                CAMPAIGNS,
                false,
            ),
            ("one campaign (control), shards by character", 1, true),
        ] {
            many_campaigns(&endpoint, label, campaigns, by_character).await;
        }
        write_units(&endpoint).await;
    });
    runtime.block_on(running.stop());
}

/// Appends to `campaigns` campaigns at once, indexes with `SHARDS` indexers, and prints lags,
/// events/s and retries.
async fn many_campaigns(endpoint: &str, label: &str, campaigns: usize, by_character: bool) {
    let client = aws_sdk_dynamodb::Client::new(&local_sdk_config(endpoint));
    let suffix = Uuid::new_v4().simple().to_string();
    let (events_table, feed_table) = (format!("events-{suffix}"), format!("feed-{suffix}"));
    create_events_table(&client, &events_table, false)
        .await
        .expect("table");
    create_feed_table(&client, &feed_table)
        .await
        .expect("table");
    let store = EventStore::new(client.clone(), &events_table);
    let indexer = Indexer::new(store.clone(), FeedStore::new(client.clone(), &feed_table));
    // CAMPAIGNS groups of characters; with one campaign, every group is in the default one.
    let groups: Vec<(Uuid, Vec<Uuid>)> = (0..CAMPAIGNS)
        .map(|_| {
            let campaign = if campaigns == 1 {
                DEFAULT_CAMPAIGN
            } else {
                Uuid::new_v4()
            };
            (
                campaign,
                (0..CHARACTERS_EACH).map(|_| Uuid::new_v4()).collect(),
            )
        })
        .collect();
    // Each shard's records waiting to be indexed, with when each append was acknowledged.
    type Pending = Arc<Mutex<Vec<(StreamRecord, Instant, usize)>>>;
    let shards: Vec<Pending> = (0..SHARDS).map(|_| Arc::default()).collect();
    let appending = Arc::new(std::sync::atomic::AtomicUsize::new(CAMPAIGNS));
    let started = Instant::now();
    let appenders = groups
        .iter()
        .enumerate()
        .map(|(g, (campaign, characters))| {
            let (store, shards, appending) = (store.clone(), shards.clone(), appending.clone());
            let (campaign, characters) = (*campaign, characters.clone());
            async move {
                for round in 0..ROUNDS {
                    for &stream in &characters {
                        let event = NewEvent {
                            character_name: "Kethra".into(),
                            hp_change: if round == 0 { 20 } else { -1 },
                            note: format!("round {round}"),
                            event_id: None,
                        };
                        let appended = store
                            .append_in(campaign, stream, ExpectedVersion::Any, vec![event])
                            .await
                            .expect("append");
                        let now = Instant::now();
                        let shard = if by_character {
                            (stream.as_u128() % SHARDS as u128) as usize
                        } else {
                            g % SHARDS
                        };
                        let mut shard = shards[shard].lock().expect("shard");
                        for event in appended.events {
                            shard.push((record(stream, event), now, g));
                        }
                    }
                }
                appending.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
            }
        });
    let indexers = shards.iter().map(|shard| {
        let (indexer, shard, appending) = (indexer.clone(), shard.clone(), appending.clone());
        async move {
            let (mut lags, mut retries, mut events) =
                (BTreeMap::<usize, Vec<Duration>>::new(), 0, 0);
            loop {
                let batch: Vec<_> = std::mem::take(&mut *shard.lock().expect("shard"));
                if batch.is_empty() {
                    if appending.load(std::sync::atomic::Ordering::Relaxed) == 0 {
                        return (lags, retries, events);
                    }
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    continue;
                }
                // A shard's batches are at most 100 records, as Lambda's default.
                for chunk in batch.chunks(100) {
                    let records: Vec<StreamRecord> =
                        chunk.iter().map(|(r, _, _)| r.clone()).collect();
                    let outcome = indexer.index(&records).await;
                    assert!(outcome.failures.is_empty(), "{outcome:?}");
                    let done = Instant::now();
                    retries += outcome.retries;
                    events += records.len();
                    for (_, acknowledged, group) in chunk {
                        lags.entry(*group).or_default().push(done - *acknowledged);
                    }
                }
            }
        }
    });
    let (_, indexed) = futures_util::join!(join_all(appenders), join_all(indexers));
    let elapsed = started.elapsed();
    let mut all_lags = Vec::new();
    let (mut retries, mut events) = (0, 0);
    println!(
        "{label}: {} characters, {} events, {SHARDS} shards",
        CAMPAIGNS * CHARACTERS_EACH,
        CAMPAIGNS * CHARACTERS_EACH * ROUNDS
    );
    let mut by_group = BTreeMap::new();
    for (lags, shard_retries, shard_events) in indexed {
        retries += shard_retries;
        events += shard_events;
        // A campaign's characters may be on several shards.
        for (group, lags) in lags {
            by_group.entry(group).or_insert_with(Vec::new).extend(lags);
        }
    }
    for (group, mut lags) in by_group {
        if campaigns > 1 {
            println!(
                "  campaign {group:>2} feed lag: median {:>7.1} ms  p99 {:>7.1} ms",
                millis(percentile(&mut lags, 0.5)),
                millis(percentile(&mut lags, 0.99))
            );
        }
        all_lags.extend(lags);
    }
    report(
        "  every campaign: append acknowledged -> in its feed",
        all_lags,
    );
    println!(
        "  indexed {:.0} events/s; transactions lost to a campaign's head and retried: {retries}",
        events as f64 / elapsed.as_secs_f64(),
    );
}

fn record(stream: Uuid, event: RecordedEvent) -> StreamRecord {
    StreamRecord {
        sequence_number: format!("{stream}-{}", event.version),
        change: Change::Insert { stream, event },
    }
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Write (and read) units of isolated events, plain and typed, measured and computed.
async fn write_units(endpoint: &str) {
    let meter = Meter::default();
    let config = aws_sdk_dynamodb::config::Builder::from(&local_sdk_config(endpoint))
        .interceptor(meter.clone())
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(config);
    let suffix = Uuid::new_v4().simple().to_string();
    let tables = [
        format!("events-{suffix}"),
        format!("snapshots-{suffix}"),
        format!("feed-{suffix}"),
    ];
    create_events_table(&client, &tables[0], false)
        .await
        .expect("table");
    create_snapshots_table(&client, &tables[1])
        .await
        .expect("table");
    create_feed_table(&client, &tables[2]).await.expect("table");
    let store = EventStore::new(client.clone(), &tables[0]);
    let projector = Projector::new(
        store.clone(),
        SnapshotStore::new(client.clone(), &tables[1]),
    );
    let indexer = Indexer::new(store.clone(), FeedStore::new(client.clone(), &tables[2]));
    let campaign = Uuid::new_v4();
    println!("write units per isolated event, end to end ({ISOLATED} events each; measured: dynoxide's ConsumedCapacity):");
    for typed in [false, true] {
        let mut streams = Vec::new();
        for _ in 0..ISOLATED {
            let stream = Uuid::new_v4();
            let created = if typed {
                let setup = RulesSetup {
                    max_hp: 27,
                    hp: None,
                    hit_dice: HitDice::default(),
                    con_modifier: 0,
                    defences: Defences::default(),
                    ruleset: Ruleset::Srd2024,
                };
                let create = CommandRequest {
                    command: Command::Rules(setup),
                    note: None,
                    event_id: None,
                    expected: ExpectedVersion::NoStream,
                    dry_run: false,
                    character_name: Some("Kethra".into()),
                    campaign,
                };
                vec![store.command(stream, create).await.expect("create").event]
            } else {
                let event = NewEvent {
                    character_name: "Nuru".into(),
                    hp_change: 20,
                    note: "Init".into(),
                    event_id: None,
                };
                store
                    .append_in(campaign, stream, ExpectedVersion::NoStream, vec![event])
                    .await
                    .expect("create")
                    .events
            };
            projector
                .project(&[record(stream, created[0].clone())])
                .await;
            indexer.index(&[record(stream, created[0].clone())]).await;
            streams.push(stream);
        }
        meter.take();
        let mut stored = Vec::new();
        let mut units: BTreeMap<&str, BTreeMap<String, f64>> = BTreeMap::new();
        for &stream in &streams {
            let event = if typed {
                let hit = CommandRequest {
                    command: Command::Damage {
                        parts: vec![DamagePart {
                            amount: 7,
                            damage_type: DamageType::Slashing,
                        }],
                        halved: false,
                        critical: false,
                        defences_override: None,
                    },
                    note: Some("Scimitar".into()),
                    event_id: None,
                    expected: ExpectedVersion::Any,
                    dry_run: false,
                    character_name: None,
                    campaign,
                };
                store.command(stream, hit).await.expect("damage").event
            } else {
                let hit = NewEvent {
                    character_name: "Nuru".into(),
                    hp_change: -2,
                    note: "Goblin's scimitar".into(),
                    event_id: None,
                };
                let appended = store
                    .append(stream, ExpectedVersion::Any, vec![hit])
                    .await
                    .expect("append");
                appended.events[0].clone()
            };
            add(&mut units, "append", meter.take());
            projector.project(&[record(stream, event.clone())]).await;
            add(&mut units, "projector", meter.take());
            indexer.index(&[record(stream, event.clone())]).await;
            add(&mut units, "indexer", meter.take());
            stored.push((stream, event));
        }
        let n = ISOLATED as f64;
        let per = |table: &str, kind: &str| {
            let key = format!("{table} {kind}");
            // (+ 0.0: an empty sum of floats is -0.0.)
            units.values().filter_map(|t| t.get(&key)).sum::<f64>() / n + 0.0
        };
        // Computed: the event item's size in KB (rounded up) per write.
        let item = EventItem::from_event(stored[0].0, &stored[0].1)
            .to_item()
            .expect("item");
        let kb = item_bytes(&item).div_ceil(1024) as f64;
        let kind = if typed {
            "typed (damage, rules)"
        } else {
            "plain (hp_change)"
        };
        println!("  {kind}: event item {} bytes", item_bytes(&item));
        let rows = [
            ("events", &tables[0], kb, "one conditional put"),
            (
                "snapshots",
                &tables[1],
                2.0,
                "the update, and the ByCampaign index's copy",
            ),
            (
                "feed",
                &tables[2],
                2.0 * (kb + 2.0),
                "entry, marker and head, each doubled in a transaction",
            ),
        ];
        let (mut writes, mut reads) = (0.0, 0.0);
        for (name, table, computed, why) in rows {
            let (w, r) = (per(table, "write"), per(table, "read"));
            writes += w;
            reads += r;
            println!(
                "    {name:<9} measured {w:.2} write units ({r:.2} read)   computed {computed:.0} write units: {why}"
            );
        }
        println!("    all tables: {writes:.2} write units and {reads:.2} read units per event");
    }

    // A busy table: one batch of 100 plain events of 5 characters of one campaign, as a
    // stream batch brings them: the head and the markers are shared by the batch's entries.
    let streams: Vec<Uuid> = (0..5).map(|_| Uuid::new_v4()).collect();
    let mut batch = Vec::new();
    for &stream in &streams {
        let events = (0..20)
            .map(|i| NewEvent {
                character_name: "Nuru".into(),
                hp_change: if i == 0 { 20 } else { -1 },
                note: format!("hit {i}"),
                event_id: None,
            })
            .collect();
        let appended = store
            .append_in(campaign, stream, ExpectedVersion::NoStream, events)
            .await
            .expect("append");
        batch.extend(appended.events.into_iter().map(|e| record(stream, e)));
    }
    meter.take();
    let outcome = projector.project(&batch).await;
    assert!(outcome.failures.is_empty(), "{outcome:?}");
    let projected = meter.take();
    let outcome = indexer.index(&batch).await;
    assert!(outcome.failures.is_empty(), "{outcome:?}");
    let indexed = meter.take();
    let writes = |taken: &BTreeMap<String, f64>| {
        taken
            .iter()
            .filter(|(k, _)| k.ends_with(" write"))
            .map(|(_, u)| u)
            .sum::<f64>()
            / 100.0
            + 0.0
    };
    println!(
        "  a batch of 100 plain events of 5 characters: per event {:.2} write units for the snapshots, {:.2} for the feed (and 1 for the event itself when appended one at a time)",
        writes(&projected),
        writes(&indexed),
    );
}

fn add(
    units: &mut BTreeMap<&'static str, BTreeMap<String, f64>>,
    step: &'static str,
    taken: BTreeMap<String, f64>,
) {
    let entry = units.entry(step).or_default();
    for (table, u) in taken {
        *entry.entry(table).or_default() += u;
    }
}
