//! The scheduled repair through its handler, on the sample schedule events in `events/`, with
//! deadlines that let each invocation do one page: it resumes where it stopped, finishes with
//! the feed complete and the snapshots right, and says so in its metrics.

use std::collections::BTreeSet;
use std::time::Duration;

use hitpoints::domain::{Direction, DEFAULT_CAMPAIGN};
use hitpoints::feed::{FeedRead, FeedStore, Indexer};
use hitpoints::hp::{Audit, Mode, Progress, Report, SnapshotStore};
use hitpoints::metrics::{EmfWriter, Metrics};
use hitpoints::store::EventStore;
use hitpoints::upkeep::Upkeep;
use hitpoints::ExpectedVersion;
use hitpoints_testkit::{emf_documents, emf_value, event, index_stream, project_stream, test_db};
use lambda_runtime::{Context, LambdaEvent};
use repair::{handler, Deps};
use serde_json::Value;
use uuid::Uuid;

const SCHEDULE: &str = include_str!("../../../events/eventbridge-schedule.json");
const RESUME: &str = include_str!("../../../events/eventbridge-resume.json");

/// An invocation with its deadline already passed: one page, then the checkpoint.
async fn invoke(deps: &Deps, sample: &str) -> Value {
    let payload: Value = serde_json::from_str(sample).expect("a sample event");
    handler(deps, LambdaEvent::new(payload, Context::default()))
        .await
        .expect("an invocation's answer")
}

/// Every (character, version) in the default campaign's feed, asserting each appears once at
/// positions 1, 2, 3, …
async fn feed_contents(feed: &FeedStore) -> BTreeSet<(Uuid, u64)> {
    let mut seen = BTreeSet::new();
    let mut after = None;
    let mut position = 0;
    loop {
        let page = feed
            .read(FeedRead {
                campaign: DEFAULT_CAMPAIGN,
                after,
                direction: Direction::Forward,
                limit: 100,
                wait: Duration::ZERO,
            })
            .await
            .expect("a feed page");
        if page.entries.is_empty() {
            return seen;
        }
        for entry in page.entries {
            position += 1;
            assert_eq!(entry.position.0, position, "positions without gaps");
            assert!(
                seen.insert((entry.stream, entry.event.version)),
                "an event twice in the feed"
            );
        }
        after = Some(page.next);
    }
}

async fn all_events(store: &EventStore, streams: &[Uuid]) -> BTreeSet<(Uuid, u64)> {
    let mut all = BTreeSet::new();
    for &stream in streams {
        for e in store.read_all(stream).await.expect("events") {
            all.insert((stream, e.version));
        }
    }
    all
}

/// The operator's `verify` of every snapshot against its stream.
async fn verify(store: &EventStore, snapshots: &SnapshotStore) -> Report {
    let progress = Progress::default();
    let audit = Audit {
        events: store,
        snapshots,
        segments: 1,
        progress: &progress,
    };
    audit.run(Mode::Verify).await.expect("a verify")
}

/// `count` characters of `events_each` events (HP changes counting down from `start`), written
/// now with `note`.
async fn seed(
    store: &EventStore,
    count: usize,
    events_each: i64,
    start: i64,
    note: &str,
) -> Vec<Uuid> {
    let streams: Vec<Uuid> = (0..count).map(|_| Uuid::new_v4()).collect();
    for (i, &stream) in streams.iter().enumerate() {
        let events = (0..events_each)
            .map(|n| event(&format!("Hero {i}"), start - n, note))
            .collect();
        store
            .append(stream, ExpectedVersion::NoStream, events)
            .await
            .expect("appended");
    }
    streams
}

#[tokio::test]
async fn a_run_resumes_across_invocations_and_finishes_with_the_feed_and_snapshots_complete() {
    let db = test_db().await;
    let store = db.store().await;
    let snapshots = db.snapshots().await;
    let feed = db.feed().await;
    // Six characters of five events: 30 events, two pages of 20. The first is indexed and
    // projected already, the second projected only: the stream delivered nothing else.
    let streams = seed(&store, 6, 5, 10, "a change").await;
    index_stream(&store, &feed, streams[0]).await;
    project_stream(&store, &snapshots, streams[0]).await;
    project_stream(&store, &snapshots, streams[1]).await;

    let deps = Deps {
        upkeep: Upkeep::new(Indexer::new(store.clone(), feed.clone()), snapshots.clone())
            .with_page_items(20)
            // Just written: no grace, or the run would leave every event to the live consumers.
            .with_grace(Duration::ZERO),
        emf: EmfWriter::buffer(Metrics::new()),
        reserve: Duration::from_secs(60),
    };

    // The resumption's schedule before any run: nothing to go on with.
    let idle = invoke(&deps, RESUME).await;
    assert_eq!(
        (idle["started"].clone(), idle["pages"].clone()),
        (false.into(), 0.into()),
        "{idle}"
    );

    // The run's schedule: a run starts, one page, out of time.
    let first = invoke(&deps, SCHEDULE).await;
    assert_eq!(first["started"], true, "{first}");
    assert_eq!(first["finished"], false, "{first}");
    assert_eq!(first["pages"], 1, "{first}");
    assert_eq!(first["events"], 20, "{first}");
    let checkpoint = deps.upkeep.checkpoint().await.expect("the checkpoint");
    assert!(
        checkpoint.is_running() && checkpoint.next.is_some(),
        "{checkpoint:?}"
    );
    assert_eq!(checkpoint.events, 20);
    let partial = feed_contents(&feed).await;
    assert!(
        partial.len() < 30,
        "the first page alone did not bring in everything"
    );

    // The same sample again: it goes on from the checkpoint (the same run) and finishes.
    let second = invoke(&deps, SCHEDULE).await;
    assert_eq!(second["started"], false, "{second}");
    assert_eq!(second["run"], first["run"], "{second}");
    assert_eq!(second["finished"], true, "{second}");
    assert_eq!(second["events"], 10, "{second}");
    assert_eq!(second["run_pages"], 2, "{second}");

    // The feed holds every event exactly once; every snapshot agrees with its stream.
    assert_eq!(
        feed_contents(&feed).await,
        all_events(&store, &streams).await
    );
    let report = verify(&store, &snapshots).await;
    assert_eq!(report.agreed, 6, "{report:?}");
    assert!(report.missing.is_empty() && report.stale.is_empty() && report.wrong.is_empty());

    // What it fixed, in its metrics: documents CloudWatch takes.
    let documents = emf_documents(&deps.emf.lines());
    let value = |metric, outcome| emf_value(&documents, "repair", metric, outcome);
    assert_eq!(value("RepairRuns", None), 1.0);
    assert_eq!(value("RepairRunsCompleted", None), 1.0);
    assert_eq!(value("RepairEventsChecked", None), 30.0);
    assert_eq!(value("RepairFeedEntries", None), 25.0);
    assert_eq!(value("RepairSnapshotsFixed", Some("missing")), 4.0);
    assert_eq!(value("RepairFailures", None), 0.0);

    // Finished: the resumption has nothing to go on with, and the next scheduled run finds
    // nothing to fix.
    let idle = invoke(&deps, RESUME).await;
    assert_eq!(idle["pages"], 0, "{idle}");
    let mut next = invoke(&deps, SCHEDULE).await;
    assert_eq!(next["started"], true);
    assert_ne!(next["run"], first["run"]);
    let mut fixed = next["feed_entries"].as_u64().unwrap_or(99);
    while next["finished"] != true {
        next = invoke(&deps, RESUME).await;
        fixed += next["feed_entries"].as_u64().unwrap_or(99);
        assert_eq!(next["snapshots_fixed"], serde_json::json!({}), "{next}");
    }
    assert_eq!(fixed, 0);
}

/// A run beside the live consumers: while it pages through the table, characters get new
/// events that the live indexer and projector take as their stream delivers them. Nothing is
/// indexed twice, nothing is lost, no snapshot goes backwards: with no catch-up afterwards,
/// the feed holds every event exactly once and every snapshot agrees with its stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_beside_the_live_indexer_and_projector_indexes_each_event_once() {
    let db = test_db().await;
    let store = db.store().await;
    let snapshots = db.snapshots().await;
    let feed = db.feed().await;
    let streams = seed(&store, 8, 6, 12, "before the run").await;
    let upkeep = Upkeep::new(Indexer::new(store.clone(), feed.clone()), snapshots.clone())
        .with_page_items(7)
        .with_grace(Duration::ZERO);
    let run = async {
        let deps = Deps {
            upkeep,
            emf: EmfWriter::buffer(Metrics::new()),
            reserve: Duration::from_secs(60),
        };
        let mut invocations = 0;
        loop {
            invocations += 1;
            let answer = invoke(&deps, SCHEDULE).await;
            assert_eq!(answer["failures"], 0, "{answer}");
            if answer["finished"] == true {
                return invocations;
            }
        }
    };
    let live = async {
        let indexer = Indexer::new(store.clone(), feed.clone());
        let projector = hitpoints::hp::Projector::new(store.clone(), snapshots.clone());
        for round in 0..4 {
            for &stream in &streams {
                let appended = store
                    .append(
                        stream,
                        ExpectedVersion::Any,
                        vec![event("Hero", -1, &format!("round {round}"))],
                    )
                    .await
                    .expect("appended");
                let records =
                    hitpoints_testkit::records(stream, &appended.events, &format!("live{round}"));
                let indexed = indexer.index(&records).await;
                assert!(indexed.failures.is_empty(), "{indexed:?}");
                let projected = projector.project(&records).await;
                assert!(projected.failures.is_empty(), "{projected:?}");
            }
        }
    };
    let (invocations, ()) = tokio::join!(run, live);
    assert!(invocations > 1, "the run took several invocations");

    let stored = all_events(&store, &streams).await;
    assert_eq!(stored.len(), 8 * (6 + 4));
    assert_eq!(feed_contents(&feed).await, stored);
    let report = verify(&store, &snapshots).await;
    assert_eq!(report.agreed, 8, "{report:?}");
}

/// Events recorded within the grace window are the live consumers' to take: a run leaves them;
/// without the window the same run brings them in. With a deadline far off, one invocation does
/// every page.
#[tokio::test]
async fn a_run_leaves_fresh_events_to_the_live_consumers_and_pages_until_its_time_is_up() {
    let db = test_db().await;
    let store = db.store().await;
    let snapshots = db.snapshots().await;
    let feed = db.feed().await;
    seed(&store, 5, 6, 9, "just now").await;
    let indexer = Indexer::new(store.clone(), feed.clone());
    // A deadline ten minutes away, a minute kept back.
    let in_time = || {
        let mut context = Context::default();
        context.deadline = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after the epoch")
            .as_millis() as u64
            + 600_000;
        context
    };
    let payload: Value = serde_json::from_str(SCHEDULE).expect("a sample event");
    for (grace, entries) in [(None, 0), (Some(Duration::ZERO), 30)] {
        let mut upkeep = Upkeep::new(indexer.clone(), snapshots.clone()).with_page_items(8);
        if let Some(grace) = grace {
            upkeep = upkeep.with_grace(grace);
        }
        let deps = Deps {
            upkeep,
            emf: EmfWriter::buffer(Metrics::new()),
            reserve: Duration::from_secs(60),
        };
        let answer = handler(&deps, LambdaEvent::new(payload.clone(), in_time()))
            .await
            .expect("an answer");
        // 30 events in pages of 8: four pages in one invocation.
        assert_eq!(answer["finished"], true, "{answer}");
        assert_eq!(answer["pages"], 4, "{answer}");
        assert_eq!(answer["feed_entries"], entries, "{answer}");
        let fixed = if entries == 0 {
            serde_json::json!({})
        } else {
            serde_json::json!({"missing": 5})
        };
        assert_eq!(answer["snapshots_fixed"], fixed, "{answer}");
        assert_eq!(feed_contents(&feed).await.len(), entries);
    }
}

/// An invocation that finds the run held by another (its lease not yet over) does nothing.
#[tokio::test]
async fn an_invocation_leaves_a_run_another_holds() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let db = test_db().await;
    let store = db.store().await;
    let feed = db.feed().await;
    let deps = Deps {
        upkeep: Upkeep::new(Indexer::new(store, feed.clone()), db.snapshots().await),
        emf: EmfWriter::buffer(Metrics::new()),
        reserve: Duration::from_secs(60),
    };
    let held_until = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after the epoch")
        .as_millis()
        + 3_600_000;
    db.client
        .put_item()
        .table_name(feed.table())
        .item("Key", AttributeValue::S("upkeep".into()))
        .item("Position", AttributeValue::N("0".into()))
        .item("Run", AttributeValue::S("another".into()))
        .item("Started", AttributeValue::N("1".into()))
        .item("Rev", AttributeValue::N("3".into()))
        .item("LeaseUntil", AttributeValue::N(held_until.to_string()))
        .send()
        .await
        .expect("a held checkpoint");
    let answer = invoke(&deps, SCHEDULE).await;
    assert_eq!(answer["overtaken"], true, "{answer}");
    assert_eq!(
        (answer["pages"].clone(), answer["started"].clone()),
        (0.into(), false.into())
    );
    let checkpoint = deps.upkeep.checkpoint().await.expect("the checkpoint");
    assert_eq!(
        (checkpoint.revision, checkpoint.run.as_deref()),
        (3, Some("another"))
    );
}
