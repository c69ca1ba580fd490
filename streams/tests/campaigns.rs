//! The feed per campaign on dynoxide: one batch with characters of several campaigns, a move
//! in the middle of a batch, and the repair beside live appends, each feed checked for every
//! event of its campaign exactly once at positions 1..n.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use hitpoints::domain::{Direction, DEFAULT_CAMPAIGN};
use hitpoints::feed::{plan::belongs, FeedRead, FeedStore, Indexer, RepairProgress};
use hitpoints::store::EventStore;
use hitpoints::ExpectedVersion;
use hitpoints_testkit::{event, records, test_db};
use uuid::Uuid;

/// A campaign's whole feed as (character, version), checking positions 1..n without a gap.
async fn feed_of(feed: &FeedStore, campaign: Uuid) -> Vec<(Uuid, u64)> {
    let mut entries = Vec::new();
    let mut after = None;
    loop {
        let page = feed
            .read(FeedRead {
                campaign,
                after,
                direction: Direction::Forward,
                limit: 333,
                wait: Duration::ZERO,
            })
            .await
            .expect("read the feed");
        if page.entries.is_empty() {
            return entries;
        }
        for entry in page.entries {
            assert_eq!(
                entry.position.0,
                entries.len() as u64 + 1,
                "no gap, no repeat"
            );
            entries.push((entry.stream, entry.event.version));
        }
        after = Some(page.next);
    }
}

/// What each campaign's feed must hold: every event of the events table that belongs to it,
/// each character's in version order.
async fn expected(store: &EventStore, streams: &[Uuid]) -> BTreeMap<Uuid, BTreeSet<(Uuid, u64)>> {
    let mut feeds: BTreeMap<Uuid, BTreeSet<(Uuid, u64)>> = BTreeMap::new();
    for &stream in streams {
        for e in store.read_all(stream).await.expect("events") {
            for campaign in [e.campaign_id.unwrap_or(DEFAULT_CAMPAIGN)]
                .into_iter()
                .chain(e.moved_from)
            {
                assert!(belongs(&e, campaign));
                feeds
                    .entry(campaign)
                    .or_default()
                    .insert((stream, e.version));
            }
        }
    }
    feeds
}

/// Checks every campaign's feed against the events table: each event once, each character's
/// in version order.
async fn assert_feeds(store: &EventStore, feed: &FeedStore, streams: &[Uuid]) {
    for (campaign, want) in expected(store, streams).await {
        let got = feed_of(feed, campaign).await;
        let as_set: BTreeSet<(Uuid, u64)> = got.iter().copied().collect();
        assert_eq!(as_set.len(), got.len(), "{campaign}: an event twice");
        assert_eq!(as_set, want, "{campaign}");
        let mut last: BTreeMap<Uuid, u64> = BTreeMap::new();
        for (stream, version) in got {
            if let Some(previous) = last.insert(stream, version) {
                assert!(previous < version, "{campaign}: {stream} out of order");
            }
        }
    }
}

#[tokio::test]
async fn one_batch_of_three_campaigns_and_a_move_in_it_fills_each_feed_once() {
    let db = test_db().await;
    let store = db.store().await;
    let feed = db.feed().await;
    let indexer = Indexer::new(store.clone(), feed.clone());
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let mut streams = Vec::new();
    let mut batch = Vec::new();
    for (n, campaign) in [a, a, b, b, DEFAULT_CAMPAIGN].into_iter().enumerate() {
        let stream = Uuid::new_v4();
        let first = store
            .append_in(
                campaign,
                stream,
                ExpectedVersion::NoStream,
                vec![event("c", 9, "Init")],
            )
            .await
            .expect("create");
        assert_eq!(first.events[0].campaign_id, Some(campaign));
        store
            .append(stream, ExpectedVersion::Any, vec![event("c", -1, "hit")])
            .await
            .expect("a hit stays in the character's campaign");
        if n == 0 {
            store
                .move_to(stream, b, "to b".into(), ExpectedVersion::Any)
                .await
                .expect("move");
            store
                .append(stream, ExpectedVersion::Any, vec![event("c", -1, "hit")])
                .await
                .expect("a hit in b");
        }
        let events = store.read_all(stream).await.expect("events");
        batch.extend(records(stream, &events, "batch"));
        streams.push(stream);
    }
    let outcome = indexer.index(&batch).await;
    assert!(outcome.failures.is_empty(), "{outcome:?}");
    // Again, as a re-delivery: nothing twice.
    let again = indexer.index(&batch).await;
    assert_eq!(again.writes, 0);
    assert_feeds(&store, &feed, &streams).await;
    // The move is in both feeds; the feeds of a and b are 2 + 2 + 1 (the move) and 2 + 2 + 2.
    assert_eq!(feed_of(&feed, a).await.len(), 5);
    assert_eq!(feed_of(&feed, b).await.len(), 6);
    assert_eq!(feed_of(&feed, DEFAULT_CAMPAIGN).await.len(), 2);
}

#[tokio::test]
async fn the_repair_beside_live_appends_indexes_each_campaign_once_and_one_campaign_alone() {
    let db = test_db().await;
    let store = db.store().await;
    let feed = db.feed().await;
    let indexer = Indexer::new(store.clone(), feed.clone());
    let campaigns = [Uuid::new_v4(), Uuid::new_v4(), DEFAULT_CAMPAIGN];
    let mut streams = Vec::new();
    // Events whose stream records were lost: only the repair brings them in.
    for n in 0..18 {
        let stream = Uuid::new_v4();
        let campaign = campaigns[n % 3];
        store
            .append_in(
                campaign,
                stream,
                ExpectedVersion::NoStream,
                vec![event("c", 9, "Init")],
            )
            .await
            .expect("create");
        store
            .append(stream, ExpectedVersion::Any, vec![event("c", -1, "hit"); 3])
            .await
            .expect("hits");
        if n % 4 == 0 {
            let to = campaigns[(n + 1) % 3];
            store
                .move_to(stream, to, "moved".into(), ExpectedVersion::Any)
                .await
                .expect("move");
        }
        streams.push(stream);
    }
    // One campaign alone: the others' feeds stay empty.
    let report = indexer
        .repair(2, Some(campaigns[0]), &RepairProgress::default())
        .await
        .expect("repair one campaign");
    assert!(report.is_complete(), "{report:?}");
    assert!(!feed_of(&feed, campaigns[0]).await.is_empty());
    assert!(feed_of(&feed, campaigns[1]).await.is_empty());

    // Every campaign, while appends and the live indexer go on.
    let live = {
        let (store, indexer, streams) = (store.clone(), indexer.clone(), streams.clone());
        tokio::spawn(async move {
            for round in 0..3 {
                for &stream in &streams {
                    let appended = store
                        .append(stream, ExpectedVersion::Any, vec![event("c", -1, "live")])
                        .await
                        .expect("append");
                    let outcome = indexer
                        .index(&records(stream, &appended.events, &format!("live{round}")))
                        .await;
                    assert!(outcome.failures.is_empty(), "{outcome:?}");
                }
            }
        })
    };
    let report = indexer
        .repair(3, None, &RepairProgress::default())
        .await
        .expect("repair");
    assert!(report.is_complete(), "{report:?}");
    live.await.expect("the live appends");
    // What the live indexer had to wait for (a gap the repair had not filled yet) is in now.
    let report = indexer
        .repair(3, None, &RepairProgress::default())
        .await
        .expect("repair again");
    assert!(report.is_complete(), "{report:?}");
    assert_feeds(&store, &feed, &streams).await;
    // And once more changes nothing.
    let report = indexer
        .repair(3, None, &RepairProgress::default())
        .await
        .expect("repair again");
    assert_eq!(report.indexed, 0, "{report:?}");
}
