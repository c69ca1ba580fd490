//! The event store against a real DynamoDB-API server, through the SDK over HTTP.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use hitpoints::error::ConflictCause;
use hitpoints::store::{BadLimit, Cursor, EventStore, ReadRequest, MAX_PAGE_BYTES};
use hitpoints::{
    Direction, Error, ExpectedVersion, InfraError, InvalidInput, NewEvent, VersionConflict,
};
use hitpoints_testkit::test_db;
use uuid::Uuid;

fn event(hp: i64, note: &str) -> NewEvent {
    hitpoints_testkit::event("Tordek", hp, note)
}

fn with_id(hp: i64, note: &str) -> NewEvent {
    hitpoints_testkit::event_with_id("Tordek", hp, note)
}

#[track_caller]
fn expect_conflict(result: Result<impl std::fmt::Debug, Error>) -> VersionConflict {
    match result {
        Err(Error::Conflict(c)) => c,
        other => panic!("expected a version conflict, got {other:?}"),
    }
}

async fn versions(store: &EventStore, stream: Uuid) -> Vec<u64> {
    match store.read_all(stream).await {
        Ok(events) => events.iter().map(|e| e.version).collect(),
        Err(Error::NotFound(_)) => vec![],
        Err(e) => panic!("read failed: {e:?}"),
    }
}

#[tokio::test]
async fn the_source_materials_items_read_as_hp_3_at_version_2() {
    let db = test_db().await;
    let table = db.events_table().await;
    let store = EventStore::new(db.client.clone(), &table);
    let stream = Uuid::new_v4();
    // Items exactly as the source material's code writes them: no EventId, no RecordedAt.
    let sample = [
        (8, "Init"),
        (-2, "Slashing damage from goblin"),
        (-3, "bludgeoning damage from bugbear"),
    ];
    for (version, (hp, note)) in sample.iter().enumerate() {
        let item = HashMap::from([
            ("Id".to_owned(), AttributeValue::S(stream.to_string())),
            ("Version".to_owned(), AttributeValue::N(version.to_string())),
            ("CharacterName".to_owned(), AttributeValue::S("Nuru".into())),
            (
                "CharacterHitPoints".to_owned(),
                AttributeValue::N(hp.to_string()),
            ),
            ("Note".to_owned(), AttributeValue::S(note.to_string())),
        ]);
        db.client
            .put_item()
            .table_name(&table)
            .set_item(Some(item))
            .send()
            .await
            .expect("put a sample item");
    }
    let state = store.character(stream).await.expect("the sample stream");
    assert_eq!((state.hp, state.version), (3, 2));
    assert_eq!(state.character_name, "Nuru");
    let events = store.read_all(stream).await.expect("read");
    assert_eq!(events[1].note, "Slashing damage from goblin");
    assert_eq!(events[1].event_id, None);
    assert_eq!(events[1].recorded_at, None);
}

#[tokio::test]
async fn appends_store_ids_and_timestamps_and_fold() {
    let db = test_db().await;
    let store = db.store().await;
    let stream = Uuid::new_v4();
    let first = store
        .append(stream, ExpectedVersion::NoStream, vec![event(8, "Init")])
        .await
        .expect("first append");
    assert!(!first.replayed);
    assert_eq!(first.events[0].version, 0);
    assert!(first.events[0].event_id.is_some());
    let at = first.events[0].recorded_at.clone().expect("a timestamp");
    assert!(at.ends_with('Z') && at.contains('T'), "RFC 3339 UTC: {at}");
    store
        .append(stream, ExpectedVersion::Exact(0), vec![event(-2, "goblin")])
        .await
        .expect("exact append");
    store
        .append(stream, ExpectedVersion::Any, vec![event(-3, "bugbear")])
        .await
        .expect("any append");
    let stored = store.read_all(stream).await.expect("read");
    assert_eq!(
        stored[0], first.events[0],
        "what append returns is what is stored"
    );
    let state = store.character(stream).await.expect("state");
    assert_eq!((state.hp, state.version), (3, 2));
}

#[tokio::test]
async fn exact_versions_that_are_not_the_last_conflict_higher_or_lower() {
    let db = test_db().await;
    let store = db.store().await;
    let stream = Uuid::new_v4();
    let three = vec![event(8, "a"), event(-1, "b"), event(-1, "c")];
    store
        .append(stream, ExpectedVersion::NoStream, three)
        .await
        .expect("seed");
    for expected in [5, 3, 1, 0] {
        let c = expect_conflict(
            store
                .append(
                    stream,
                    ExpectedVersion::Exact(expected),
                    vec![event(1, "x")],
                )
                .await,
        );
        assert_eq!(c.current, Some(2), "expected {expected}");
        assert_eq!(c.expected, ExpectedVersion::Exact(expected));
        assert_eq!(c.cause, ConflictCause::Version);
    }
    assert_eq!(
        versions(&store, stream).await,
        vec![0, 1, 2],
        "no gap, nothing written"
    );
    let c = expect_conflict(
        store
            .append(stream, ExpectedVersion::NoStream, vec![event(1, "x")])
            .await,
    );
    assert_eq!(c.current, Some(2));
    let other = Uuid::new_v4();
    let c = expect_conflict(
        store
            .append(other, ExpectedVersion::Exact(0), vec![event(1, "x")])
            .await,
    );
    assert_eq!(c.current, None, "the stream does not exist");
    assert!(matches!(
        store.read_all(other).await,
        Err(Error::NotFound(_))
    ));
    let ok = store
        .append(stream, ExpectedVersion::Exact(2), vec![event(1, "x")])
        .await
        .expect("the right version");
    assert_eq!(ok.events[0].version, 3);
}

#[tokio::test]
async fn a_conflicting_batch_writes_nothing() {
    let db = test_db().await;
    let store = db.store().await;
    let stream = Uuid::new_v4();
    store
        .append(
            stream,
            ExpectedVersion::NoStream,
            vec![event(8, "a"), event(1, "b"), event(1, "c")],
        )
        .await
        .expect("seed versions 0..=2");
    // Expected 1: the batch would go to 2..=5, of which only 2 is taken.
    let batch: Vec<_> = (0..4).map(|i| event(i, "batch")).collect();
    let c = expect_conflict(store.append(stream, ExpectedVersion::Exact(1), batch).await);
    assert_eq!(c.current, Some(2));
    assert_eq!(versions(&store, stream).await, vec![0, 1, 2]);
    // A batch that breaks a limit is refused before anything is written.
    let mut bad: Vec<_> = (0..3).map(|i| event(i, "ok")).collect();
    bad[2].note = String::new();
    let result = store.append(stream, ExpectedVersion::Exact(2), bad).await;
    assert!(
        matches!(
            result,
            Err(Error::Invalid(InvalidInput::EmptyNote { index: 2 }))
        ),
        "{result:?}"
    );
    assert_eq!(versions(&store, stream).await, vec![0, 1, 2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn batches_of_99_and_100_append_to_fresh_and_existing_streams_in_every_mode() {
    let db = test_db().await;
    let store = db.store().await;
    let too_many: Vec<_> = (0..101).map(|i| event(i, "n")).collect();
    assert!(matches!(
        store
            .append(Uuid::new_v4(), ExpectedVersion::NoStream, too_many)
            .await,
        Err(Error::Invalid(InvalidInput::TooManyEvents {
            count: 101,
            max: 100
        }))
    ));
    // 100 puts plus the check of version n would be 101 actions: one over DynamoDB's limit.
    if !db.supports_transaction_of(100, "batches_of_99_and_100_append_to_...") {
        return;
    }
    let batch = |size: i64| (0..size).map(|i| event(-i, "hit")).collect::<Vec<_>>();
    for size in [99, 100] {
        // A fresh stream: no_stream and any write versions 0..size-1; n is a conflict.
        for expected in [ExpectedVersion::NoStream, ExpectedVersion::Any] {
            let stream = Uuid::new_v4();
            let done = store
                .append(stream, expected, batch(size))
                .await
                .unwrap_or_else(|e| panic!("{size} events, {expected}, fresh: {e}"));
            assert_eq!(done.events.len() as i64, size);
            assert_eq!(
                versions(&store, stream).await,
                (0..size as u64).collect::<Vec<_>>()
            );
        }
        let c = expect_conflict(
            store
                .append(Uuid::new_v4(), ExpectedVersion::Exact(0), batch(size))
                .await,
        );
        assert_eq!(c.current, None);
        // A stream with one event: n = 0 and any write versions 1..=size; no_stream and a
        // version that is not the last are conflicts that write nothing.
        for expected in [ExpectedVersion::Exact(0), ExpectedVersion::Any] {
            let stream = Uuid::new_v4();
            store
                .append(stream, ExpectedVersion::NoStream, vec![event(1000, "init")])
                .await
                .expect("seed");
            let done = store
                .append(stream, expected, batch(size))
                .await
                .unwrap_or_else(|e| panic!("{size} events, {expected}, existing: {e}"));
            assert_eq!(done.events.first().map(|e| e.version), Some(1));
            assert_eq!(done.events.last().map(|e| e.version), Some(size as u64));
            let state = store.character(stream).await.expect("state");
            assert_eq!(
                (state.hp, state.version),
                (1000 - (0..size).sum::<i64>(), size as u64)
            );
            for wrong in [
                ExpectedVersion::NoStream,
                ExpectedVersion::Exact(0),
                ExpectedVersion::Exact(size as u64 + 5),
            ] {
                let c = expect_conflict(store.append(stream, wrong, batch(size)).await);
                assert_eq!(c.current, Some(size as u64), "{size} events, {wrong}");
            }
            assert_eq!(
                versions(&store, stream).await,
                (0..=size as u64).collect::<Vec<_>>()
            );
        }
    }
}

#[tokio::test]
async fn replays_are_recognised_under_exact_no_stream_and_any() {
    let db = test_db().await;
    let store = db.store().await;
    let stream = Uuid::new_v4();
    let first = vec![with_id(8, "Init"), with_id(-2, "goblin")];
    let stored = store
        .append(stream, ExpectedVersion::NoStream, first.clone())
        .await
        .expect("first");
    let again = store
        .append(stream, ExpectedVersion::NoStream, first.clone())
        .await
        .expect("a replay is not an error");
    assert!(again.replayed);
    assert_eq!(again.events, stored.events);

    let second = vec![with_id(-3, "bugbear"), with_id(5, "potion")];
    let stored = store
        .append(stream, ExpectedVersion::Exact(1), second.clone())
        .await
        .expect("second");
    let again = store
        .append(stream, ExpectedVersion::Exact(1), second.clone())
        .await
        .expect("replay under exact");
    assert!(again.replayed);
    assert_eq!(again.events, stored.events);

    let third = vec![with_id(-1, "trap")];
    let stored = store
        .append(stream, ExpectedVersion::Any, third.clone())
        .await
        .expect("third");
    let again = store
        .append(stream, ExpectedVersion::Any, third.clone())
        .await
        .expect("replay under any");
    assert!(again.replayed);
    assert_eq!(again.events, stored.events);
    assert_eq!(versions(&store, stream).await, vec![0, 1, 2, 3, 4]);

    // The same id with other content is not a replay.
    let mut changed = third.clone();
    changed[0].hp_change = -100;
    let c = expect_conflict(
        store
            .append(stream, ExpectedVersion::Exact(3), changed)
            .await,
    );
    assert_eq!(c.current, Some(4));
    assert_eq!(versions(&store, stream).await, vec![0, 1, 2, 3, 4]);
}

#[tokio::test]
async fn a_partial_replay_is_a_conflict() {
    let db = test_db().await;
    let store = db.store().await;
    let stream = Uuid::new_v4();
    let a = with_id(8, "Init");
    let b = with_id(-2, "goblin");
    store
        .append(stream, ExpectedVersion::NoStream, vec![a.clone()])
        .await
        .expect("a");
    let c = expect_conflict(
        store
            .append(
                stream,
                ExpectedVersion::NoStream,
                vec![a.clone(), b.clone()],
            )
            .await,
    );
    assert_eq!(c.cause, ConflictCause::PartialReplay);
    assert_eq!(c.current, Some(0));
    let c = expect_conflict(
        store
            .append(stream, ExpectedVersion::Any, vec![a.clone(), b.clone()])
            .await,
    );
    assert_eq!(c.cause, ConflictCause::PartialReplay);
    assert_eq!(versions(&store, stream).await, vec![0]);
}

#[tokio::test]
async fn event_ids_reused_with_other_content_are_a_conflict_of_their_own() {
    let db = test_db().await;
    let store = db.store().await;
    let stream = Uuid::new_v4();
    let a = with_id(8, "Init");
    let b = with_id(-2, "goblin");
    store
        .append(
            stream,
            ExpectedVersion::NoStream,
            vec![a.clone(), b.clone()],
        )
        .await
        .expect("seed");
    let changed = vec![
        a.clone(),
        NewEvent {
            hp_change: -20,
            ..b.clone()
        },
    ];
    for expected in [ExpectedVersion::NoStream, ExpectedVersion::Any] {
        let c = expect_conflict(store.append(stream, expected, changed.clone()).await);
        assert_eq!(c.cause, ConflictCause::EventIdsReused, "{expected}");
        assert_eq!(c.current, Some(1));
    }
    assert_eq!(versions(&store, stream).await, vec![0, 1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_writers_on_one_exact_version_one_wins() {
    let db = test_db().await;
    let store = Arc::new(db.store().await);
    let stream = Uuid::new_v4();
    store
        .append(stream, ExpectedVersion::NoStream, vec![event(10, "Init")])
        .await
        .expect("seed");
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .append(
                        stream,
                        ExpectedVersion::Exact(0),
                        vec![event(-1, &format!("writer {i}"))],
                    )
                    .await
            })
        })
        .collect();
    let mut wins = 0;
    let mut conflicts = 0;
    for task in tasks {
        match task.await.expect("task") {
            Ok(done) => {
                wins += 1;
                assert_eq!(done.events[0].version, 1);
            }
            Err(Error::Conflict(c)) => {
                conflicts += 1;
                assert_eq!(c.current, Some(1));
            }
            Err(e) => panic!("neither a win nor a conflict: {e:?}"),
        }
    }
    assert_eq!((wins, conflicts), (1, 31));
    assert_eq!(versions(&store, stream).await, vec![0, 1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_writers_appending_any_leave_no_gap_or_duplicate() {
    let db = test_db().await;
    let store = Arc::new(db.store().await);
    let stream = Uuid::new_v4();
    let tasks: Vec<_> = (0..16)
        .map(|writer| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut outcomes = Vec::new();
                for i in 0..50 {
                    let note = format!("writer {writer} append {i}");
                    outcomes.push(
                        store
                            .append(stream, ExpectedVersion::Any, vec![event(-1, &note)])
                            .await
                            .map(|done| (done.events[0].version, note)),
                    );
                }
                outcomes
            })
        })
        .collect();
    let mut won = Vec::new();
    let mut conflicts = 0;
    for task in tasks {
        for outcome in task.await.expect("task") {
            match outcome {
                Ok(win) => won.push(win),
                Err(Error::Conflict(_)) => conflicts += 1,
                Err(e) => panic!("a failure that is not a conflict: {e:?}"),
            }
        }
    }
    won.sort();
    let stored = store.read_all(stream).await.expect("read");
    let expected: Vec<u64> = (0..won.len() as u64).collect();
    assert_eq!(
        stored.iter().map(|e| e.version).collect::<Vec<_>>(),
        expected
    );
    for ((version, note), event) in won.iter().zip(&stored) {
        assert_eq!(
            (*version, note),
            (event.version, &event.note),
            "each win stored as returned"
        );
    }
    println!(
        "any under contention on {}: {} of 800 appends succeeded ({:.1}%), {} conflicts",
        db.name,
        won.len(),
        won.len() as f64 / 8.0,
        conflicts
    );
    assert!(!won.is_empty());
}

#[tokio::test]
async fn a_stream_over_3_mb_reads_completely_both_ways_and_page_by_page() {
    let db = test_db().await;
    let store = db.store().await;
    let stream = Uuid::new_v4();
    let note = "x".repeat(100_000);
    let chunk = db.max_transaction_items.min(8);
    let total = 34u64;
    let mut last = None;
    while last.map_or(0, |v| v + 1) < total {
        let start = last.map_or(0, |v| v + 1);
        let batch: Vec<_> = (start..total.min(start + chunk as u64))
            .map(|i| event(i as i64, &format!("{i}{note}")))
            .collect();
        let expected = last.map_or(ExpectedVersion::NoStream, ExpectedVersion::Exact);
        let done = store
            .append(stream, expected, batch)
            .await
            .expect("append a chunk");
        last = done.events.last().map(|e| e.version);
    }
    let all = store.read_all(stream).await.expect("read all");
    assert_eq!(all.len() as u64, total);
    let bytes: usize = all.iter().map(|e| e.note.len()).sum();
    assert!(bytes > 3_000_000, "{bytes} bytes");
    for (i, e) in all.iter().enumerate() {
        assert_eq!(e.version, i as u64);
        assert!(e.note.starts_with(&i.to_string()));
    }
    // Pages bigger than DynamoDB's 1 MB responses, both ways, each stopped by bytes before
    // the limit (a Lambda response may not exceed 6 MB), continued by their cursors.
    for direction in [Direction::Forward, Direction::Backward] {
        let mut request = ReadRequest {
            from_version: None,
            direction,
            limit: 1000,
        };
        let mut got = Vec::new();
        let mut pages = 0;
        loop {
            let page = store.read(stream, request).await.expect("a big page");
            pages += 1;
            let bytes: usize = page.events.iter().map(|e| e.json_size()).sum();
            assert!(bytes <= MAX_PAGE_BYTES, "{bytes} bytes in one page");
            got.extend(page.events.iter().map(|e| e.version));
            match page.next {
                Some(cursor) => {
                    assert!(bytes > 1_000_000, "a page follows DynamoDB's 1 MB pages");
                    request = ReadRequest::continuing(cursor, 1000);
                }
                None => break,
            }
        }
        if direction == Direction::Backward {
            got.reverse();
        }
        assert_eq!(got, (0..total).collect::<Vec<_>>(), "{direction:?}");
        assert_eq!(pages, 2, "{direction:?}: 3.4 MB in pages of at most 2.5 MB");
    }
    // Page by page with cursors, both ways.
    for (direction, from, expected) in [
        (Direction::Forward, None, (0..total).collect::<Vec<_>>()),
        (Direction::Backward, None, (0..total).rev().collect()),
        (Direction::Forward, Some(30), (30..total).collect()),
        (Direction::Backward, Some(5), (0..=5).rev().collect()),
    ] {
        let mut seen = Vec::new();
        let mut request = ReadRequest {
            from_version: from,
            direction,
            limit: 7,
        };
        loop {
            let page = store.read(stream, request).await.expect("page");
            assert!(page.events.len() <= 7);
            seen.extend(page.events.iter().map(|e| e.version));
            match page.next {
                Some(cursor) => {
                    let text = cursor.encode();
                    let cursor = Cursor::decode(&text, stream).expect("our own cursor");
                    request = ReadRequest::continuing(cursor, 7);
                }
                None => break,
            }
        }
        assert_eq!(seen, expected, "{direction:?} from {from:?}");
    }
}

#[tokio::test]
async fn a_stream_without_events_is_not_found() {
    let db = test_db().await;
    let store = db.store().await;
    let stream = Uuid::new_v4();
    let forward = ReadRequest {
        from_version: None,
        direction: Direction::Forward,
        limit: 10,
    };
    assert!(matches!(store.read(stream, forward).await, Err(Error::NotFound(s)) if s == stream));
    assert!(matches!(
        store.character(stream).await,
        Err(Error::NotFound(_))
    ));
    store
        .append(stream, ExpectedVersion::Any, vec![event(1, "a")])
        .await
        .expect("append");
    let past_the_end = ReadRequest {
        from_version: Some(5),
        ..forward
    };
    let page = store
        .read(stream, past_the_end)
        .await
        .expect("an existing stream");
    assert!(page.events.is_empty());
    let zero = ReadRequest {
        limit: 0,
        ..forward
    };
    assert!(matches!(
        store.read(stream, zero).await,
        Err(Error::Limit(BadLimit { .. }))
    ));
}

#[tokio::test]
async fn an_unreachable_endpoint_is_an_infrastructure_error() {
    let store = EventStore::new(hitpoints_testkit::unreachable_client(), "events");
    match store
        .append(
            Uuid::new_v4(),
            ExpectedVersion::NoStream,
            vec![event(1, "a")],
        )
        .await
    {
        Err(Error::Infrastructure(e @ InfraError::Unavailable(_))) => assert!(e.is_transient()),
        other => panic!("expected an unreachable store, got {other:?}"),
    }
}

/// Campaigns on the server's own rules: the campaign on every new item, a move, a campaign's
/// party through the snapshot table's index by campaign, and each campaign's feed (transactions
/// of at most this server's actions: one event per batch here).
#[tokio::test]
async fn campaigns_party_by_the_index_and_a_feed_each() {
    use hitpoints::domain::DEFAULT_CAMPAIGN;
    use hitpoints::feed::{FeedRead, Indexer};
    use hitpoints::hp::Projector;
    use hitpoints::stream::{Change, StreamRecord};

    let db = test_db().await;
    let store = db.store().await;
    let snapshots = db.snapshots().await;
    let feed = db.feed().await;
    let projector = Projector::new(store.clone(), snapshots.clone());
    let indexer = Indexer::new(store.clone(), feed.clone());
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let (x, y) = (Uuid::new_v4(), Uuid::new_v4());
    let mut written = Vec::new();
    for (stream, campaign) in [(x, a), (y, a)] {
        let created = store
            .append_in(
                campaign,
                stream,
                ExpectedVersion::NoStream,
                vec![event(9, "Init")],
            )
            .await
            .expect("create");
        written.push((stream, created.events[0].clone()));
    }
    let moved = store
        .move_to(y, b, "to b".into(), ExpectedVersion::Exact(0))
        .await
        .expect("move");
    assert_eq!(
        (moved.events[0].campaign_id, moved.events[0].moved_from),
        (Some(b), Some(a))
    );
    written.push((y, moved.events[0].clone()));
    let hit = store
        .append(y, ExpectedVersion::Any, vec![event(-2, "hit")])
        .await
        .expect("a hit in b");
    assert_eq!(hit.events[0].campaign_id, Some(b));
    written.push((y, hit.events[0].clone()));
    // One record per batch, as a quiet table's stream delivers them.
    for (stream, event) in written {
        let record = [StreamRecord {
            sequence_number: format!("{stream}-{}", event.version),
            change: Change::Insert { stream, event },
        }];
        assert!(projector.project(&record).await.failures.is_empty());
        assert!(indexer.index(&record).await.failures.is_empty());
    }
    let party = |campaign| {
        let snapshots = snapshots.clone();
        async move {
            let page = snapshots
                .list_campaign(campaign, 10, None)
                .await
                .expect("a party");
            page.snapshots.into_iter().map(|s| s.id).collect::<Vec<_>>()
        }
    };
    assert_eq!(party(a).await, vec![x.to_string()]);
    assert_eq!(party(b).await, vec![y.to_string()]);
    assert!(party(DEFAULT_CAMPAIGN).await.is_empty());
    let entries = |campaign| {
        let feed = feed.clone();
        async move {
            let page = feed
                .read(FeedRead {
                    campaign,
                    after: None,
                    direction: Direction::Forward,
                    limit: 100,
                    wait: std::time::Duration::ZERO,
                })
                .await
                .expect("a feed");
            page.entries
                .into_iter()
                .map(|e| (e.stream, e.event.version, e.position.0))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(entries(a).await, vec![(x, 0, 1), (y, 0, 2), (y, 1, 3)]);
    assert_eq!(entries(b).await, vec![(y, 1, 1), (y, 2, 2)]);
    assert!(entries(DEFAULT_CAMPAIGN).await.is_empty());
}
