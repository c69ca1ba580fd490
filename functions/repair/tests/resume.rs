//! The scheduled repair through its handler, on the sample schedule events in `events/`, with
//! deadlines that let each invocation do one page: it resumes where it stopped, finishes with
//! the feed complete and the snapshots right, and says so in its metrics.

use std::collections::BTreeSet;
use std::time::Duration;

use hitpoints::domain::{Direction, DEFAULT_CAMPAIGN};
use hitpoints::feed::{FeedRead, FeedStore, Indexer};
use hitpoints::hp::{Audit, Mode, Progress};
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

#[tokio::test]
async fn a_run_resumes_across_invocations_and_finishes_with_the_feed_and_snapshots_complete() {
    let db = test_db().await;
    let store = db.store().await;
    let snapshots = db.snapshots().await;
    let feed = db.feed().await;
    // Six characters of five events: 30 events, two pages of 20. The first is indexed and
    // projected already, the second projected only: the stream delivered nothing else.
    let streams: Vec<Uuid> = (0..6).map(|_| Uuid::new_v4()).collect();
    for (i, &stream) in streams.iter().enumerate() {
        let events = (0..5)
            .map(|n| event(&format!("Hero {i}"), 10 - n, "a change"))
            .collect();
        store
            .append(stream, ExpectedVersion::NoStream, events)
            .await
            .expect("appended");
    }
    index_stream(&store, &feed, streams[0]).await;
    project_stream(&store, &snapshots, streams[0]).await;
    project_stream(&store, &snapshots, streams[1]).await;

    let deps = Deps {
        upkeep: Upkeep::new(Indexer::new(store.clone(), feed.clone()), snapshots.clone())
            .with_page_items(20),
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
    let progress = Progress::default();
    let audit = Audit {
        events: &store,
        snapshots: &snapshots,
        segments: 1,
        progress: &progress,
    };
    let report = audit.run(Mode::Verify).await.expect("a verify");
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
