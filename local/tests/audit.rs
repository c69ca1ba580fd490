//! `verify` and `rebuild` on dynoxide: thousands of events over hundreds of characters, a
//! snapshot table emptied, one with wrong values, and a rebuild racing live appends and the
//! projector.

use hitpoints::domain::DEFAULT_CAMPAIGN;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use futures_util::future::join_all;
use hitpoints::hp::SnapshotStore;
use hitpoints::hp::{Audit, Mode, Progress, Report};
use hitpoints::store::EventStore;
use hitpoints::stream::Holes;
use hitpoints::{CharacterState, ExpectedVersion};
use hitpoints_testkit::{event, project, test_db, TestDb};
use uuid::Uuid;

const CHARACTERS: usize = 300;
const EVENTS_EACH: usize = 10;

struct Tables {
    db: TestDb,
    store: EventStore,
    snapshots: SnapshotStore,
    streams: Vec<Uuid>,
}

/// The commands' arguments for the test's tables, on its DynamoDB.
fn audit_args(
    t: &Tables,
    snapshots: &SnapshotStore,
    feed_table: &str,
    segments: u32,
) -> local::audit::AuditArgs {
    local::audit::AuditArgs {
        campaign: None,
        events_table: t.store.table().to_owned(),
        snapshots_table: snapshots.table().to_owned(),
        feed_table: feed_table.to_owned(),
        segments,
        aws: false,
        profile: None,
        region: None,
        endpoint_url: Some(t.db.endpoint.clone()),
        data_dir: "unused".into(),
    }
}

/// `CHARACTERS` characters of `EVENTS_EACH` events each, every one projected.
async fn seeded() -> Tables {
    let db = test_db().await;
    let store = db.store().await;
    let snapshots = db.snapshots().await;
    let streams: Vec<Uuid> = (0..CHARACTERS).map(|_| Uuid::new_v4()).collect();
    for (n, chunk) in streams.chunks(16).enumerate() {
        join_all(chunk.iter().enumerate().map(|(i, &stream)| {
            let (store, snapshots) = (store.clone(), snapshots.clone());
            async move {
                let name = format!("Hero {}", n * 16 + i);
                let events = (0..EVENTS_EACH as i64)
                    .map(|v| event(&name, 30 - 3 * v, &format!("turn {v}")))
                    .collect();
                let stored = store
                    .append(stream, ExpectedVersion::NoStream, events)
                    .await
                    .expect("append");
                project(&store, &snapshots, stream, &stored.events).await;
            }
        }))
        .await;
    }
    Tables {
        db,
        store,
        snapshots,
        streams,
    }
}

async fn audit(t: &Tables, snapshots: &SnapshotStore, mode: Mode, segments: u32) -> Report {
    let progress = Progress::default();
    Audit {
        events: &t.store,
        snapshots,
        segments,
        progress: &progress,
    }
    .run(mode)
    .await
    .expect("the audit runs")
}

/// Every snapshot is the fold of its stream, latest event included.
async fn assert_every_snapshot_is_its_fold(t: &Tables, snapshots: &SnapshotStore) {
    for &stream in &t.streams {
        let fold: CharacterState = t.store.character(stream).await.expect("fold");
        let snapshot = snapshots
            .get(stream, true)
            .await
            .expect("read")
            .unwrap_or_else(|| panic!("{stream}: no snapshot"));
        assert_eq!(
            (
                snapshot.version,
                snapshot.hit_points,
                &snapshot.character_name
            ),
            (fold.version, fold.hp, &fold.character_name),
            "{stream}"
        );
        assert_eq!(snapshot.last_hp_change, Some(fold.latest.hp_change));
        assert_eq!(
            snapshot.last_note.as_deref(),
            Some(fold.latest.note.as_str())
        );
        assert_eq!(snapshot.last_recorded_at, fold.latest.recorded_at);
        assert!(snapshot.holes.is_empty());
    }
}

fn sorted(ids: &[Uuid]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    ids.sort();
    ids
}

fn sorted_strings(ids: &[String]) -> Vec<String> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids
}

#[tokio::test]
async fn verify_agrees_with_a_projected_table_and_rebuild_fills_an_emptied_one() {
    let t = seeded().await;
    let report = audit(&t, &t.snapshots, Mode::Verify, 4).await;
    assert_eq!(report.events, (CHARACTERS * EVENTS_EACH) as u64);
    assert_eq!(report.characters, CHARACTERS as u64);
    assert_eq!(report.agreed, CHARACTERS as u64);
    assert!(report.all_agree(Mode::Verify), "{report:?}");

    // An emptied snapshot table: a new, empty one.
    let empty = t.db.snapshots().await;
    let report = audit(&t, &empty, Mode::Verify, 4).await;
    assert_eq!(sorted_strings(&report.missing), sorted(&t.streams));
    assert_eq!(report.agreed, 0);
    assert_eq!(report.written, 0, "verify writes nothing");
    assert!(!report.all_agree(Mode::Verify));
    assert!(empty.get(t.streams[0], true).await.expect("read").is_none());

    let report = audit(&t, &empty, Mode::Rebuild, 3).await;
    assert_eq!(report.missing.len(), CHARACTERS);
    assert_eq!(report.written, CHARACTERS as u64);
    assert!(report.all_agree(Mode::Rebuild), "{report:?}");
    assert_every_snapshot_is_its_fold(&t, &empty).await;
    println!(
        "rebuild of {} events over {} characters, 3 segments: {:.0} events/s",
        report.events,
        report.characters,
        report.events_per_second()
    );

    // Idempotent: a second rebuild finds everything right and writes nothing; verify agrees.
    let again = audit(&t, &empty, Mode::Rebuild, 8).await;
    assert_eq!((again.written, again.agreed), (0, CHARACTERS as u64));
    assert!(audit(&t, &empty, Mode::Verify, 1)
        .await
        .all_agree(Mode::Verify));
}

/// Sets attributes of a character's snapshot to wrong values, unconditionally.
async fn spoil(t: &Tables, stream: Uuid, set: &str, values: &[(&str, AttributeValue)]) {
    let mut update =
        t.db.client
            .update_item()
            .table_name(snapshot_table(t))
            .key("Id", AttributeValue::S(stream.to_string()))
            .update_expression(set);
    for (name, value) in values {
        update = update.expression_attribute_values(*name, value.clone());
    }
    update.send().await.expect("spoil a snapshot");
}

fn snapshot_table(t: &Tables) -> String {
    t.snapshots.table().to_owned()
}

#[tokio::test]
async fn verify_names_missing_stale_and_wrong_snapshots_and_rebuild_corrects_them() {
    let t = seeded().await;
    let n = |v: i64| AttributeValue::N(v.to_string());
    let s = |v: &str| AttributeValue::S(v.to_owned());
    let (missing, rest) = t.streams.split_at(5);
    let (stale, rest) = rest.split_at(7);
    let (wrong, rest) = rest.split_at(9);
    let (ahead, _) = rest.split_at(2);
    for &stream in missing {
        t.db.client
            .delete_item()
            .table_name(snapshot_table(&t))
            .key("Id", AttributeValue::S(stream.to_string()))
            .send()
            .await
            .expect("delete");
    }
    // Stale: at version 4 with version 4's HP (a projector that fell behind).
    for &stream in stale {
        let hp: i64 = (0..=4).map(|v| 30 - 3 * v).sum();
        spoil(
            &t,
            stream,
            "SET Version = :v, HitPoints = :hp",
            &[(":v", n(4)), (":hp", n(hp))],
        )
        .await;
    }
    // Wrong at the right version: HP, name, or the latest event's note.
    for (i, &stream) in wrong.iter().enumerate() {
        match i % 3 {
            0 => {
                spoil(
                    &t,
                    stream,
                    "SET HitPoints = HitPoints + :one",
                    &[(":one", n(1))],
                )
                .await
            }
            1 => spoil(&t, stream, "SET CharacterName = :x", &[(":x", s("Nobody"))]).await,
            _ => spoil(&t, stream, "SET LastNote = :x", &[(":x", s("made up"))]).await,
        }
    }
    // Ahead of its stream: a rebuild never moves a snapshot backwards, so it stays wrong.
    for &stream in ahead {
        spoil(&t, stream, "SET Version = :v", &[(":v", n(99))]).await;
    }
    // A snapshot with no events behind it.
    let orphan = Uuid::new_v4();
    t.db.client
        .put_item()
        .table_name(snapshot_table(&t))
        .item("Id", s(&orphan.to_string()))
        .item("CharacterName", s("Ghost"))
        .item("HitPoints", n(1))
        .item("Version", n(0))
        .item("UpdatedAt", s("2026-11-29T20:00:00Z"))
        .send()
        .await
        .expect("put an orphan");

    let report = audit(&t, &t.snapshots, Mode::Verify, 4).await;
    assert_eq!(sorted_strings(&report.missing), sorted(missing));
    assert_eq!(sorted_strings(&report.stale), sorted(stale));
    let mut wrong_or_ahead = wrong.to_vec();
    wrong_or_ahead.extend_from_slice(ahead);
    assert_eq!(sorted_strings(&report.wrong), sorted(&wrong_or_ahead));
    assert_eq!(report.orphaned, vec![orphan.to_string()]);
    assert_eq!(report.characters, CHARACTERS as u64 + 1);
    assert_eq!(report.agreed, (CHARACTERS - 5 - 7 - 9 - 2) as u64);
    assert!(!report.all_agree(Mode::Verify));

    let report = audit(&t, &t.snapshots, Mode::Rebuild, 4).await;
    assert_eq!(report.written, (5 + 7 + 9) as u64, "{report:?}");
    assert!(
        !report.all_agree(Mode::Rebuild),
        "the ahead and the orphan remain"
    );
    for &stream in ahead {
        let snapshot = t
            .snapshots
            .get(stream, true)
            .await
            .expect("read")
            .expect("there");
        assert_eq!(snapshot.version, 99, "never moved backwards");
    }
    let after = audit(&t, &t.snapshots, Mode::Verify, 2).await;
    assert!(
        after.missing.is_empty() && after.stale.is_empty(),
        "{after:?}"
    );
    assert_eq!(sorted_strings(&after.wrong), sorted(ahead));
    let fixed: Vec<Uuid> = [missing, stale, wrong].concat();
    let fixed = Tables {
        streams: fixed,
        db: test_db().await,
        store: t.store.clone(),
        snapshots: t.snapshots.clone(),
    };
    assert_every_snapshot_is_its_fold(&fixed, &t.snapshots).await;
}

#[tokio::test]
async fn a_rebuild_racing_appends_and_the_projector_leaves_every_snapshot_right() {
    let t = seeded().await;
    // The rebuild starts from an emptied table while the players keep playing: each append is
    // projected as soon as it is written, as the stream would deliver it.
    let empty = t.db.snapshots().await;
    let players = {
        let (store, snapshots, streams) = (t.store.clone(), empty.clone(), t.streams.clone());
        tokio::spawn(async move {
            for round in 0..4 {
                join_all(streams.iter().step_by(3).map(|&stream| {
                    let (store, snapshots) = (store.clone(), snapshots.clone());
                    async move {
                        let stored = store
                            .append(
                                stream,
                                ExpectedVersion::Any,
                                vec![event("Hero", -1 - round, "a live hit")],
                            )
                            .await
                            .expect("append");
                        project(&store, &snapshots, stream, &stored.events).await;
                    }
                }))
                .await;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let report = audit(&t, &empty, Mode::Rebuild, 4).await;
    players.await.expect("the players finish");
    assert!(report.contended.is_empty(), "{report:?}");
    // Whatever order the rebuild and the projector wrote in, every snapshot is its fold now.
    assert_every_snapshot_is_its_fold(&t, &empty).await;
    let verify = audit(&t, &empty, Mode::Verify, 4).await;
    assert!(verify.all_agree(Mode::Verify), "{verify:?}");
    assert_eq!(
        verify.events,
        (CHARACTERS * EVENTS_EACH + 4 * CHARACTERS.div_ceil(3)) as u64
    );
}

#[tokio::test]
async fn the_command_reports_and_exits_by_what_it_found() {
    let t = seeded().await;
    let empty = t.db.snapshots().await;
    let args = |snapshots: &SnapshotStore| audit_args(&t, snapshots, "unused", 2);
    assert!(local::audit::run(Mode::Verify, &args(&t.snapshots))
        .await
        .expect("runs"));
    assert!(!local::audit::run(Mode::Verify, &args(&empty))
        .await
        .expect("runs"));
    assert!(local::audit::run(Mode::Rebuild, &args(&empty))
        .await
        .expect("runs"));
    assert!(local::audit::run(Mode::Verify, &args(&empty))
        .await
        .expect("runs"));
    let report = audit(&t, &empty, Mode::Verify, 1).await;
    let summary = local::audit::summary(Mode::Verify, &report);
    assert!(
        summary.contains(&format!("agree:      {CHARACTERS}")),
        "{summary}"
    );
    assert!(summary.contains("every snapshot agrees"), "{summary}");
    // A table that does not exist: an error, not a verdict.
    let mut missing_table = args(&empty);
    missing_table.events_table = "no-such-table".into();
    assert!(local::audit::run(Mode::Verify, &missing_table)
        .await
        .is_err());
}

#[tokio::test]
async fn a_rebuilt_snapshot_keeps_holes_the_projector_fills_and_its_writes_lose_to_the_projectors()
{
    let db = test_db().await;
    let table = db.events_table().await;
    let store = EventStore::new(db.client.clone(), table.clone());
    let snapshots = db.snapshots().await;
    let t = Tables {
        streams: Vec::new(),
        store: store.clone(),
        snapshots: snapshots.clone(),
        db,
    };
    // Written by other code: versions 0 and 2, no 1, no RecordedAt.
    let stream = Uuid::new_v4();
    t.db.put_source_item(&table, stream, 0, ("Nuru", 8, "Init"))
        .await;
    t.db.put_source_item(&table, stream, 2, ("Nuru", -3, "bugbear"))
        .await;
    let report = audit(&t, &snapshots, Mode::Rebuild, 2).await;
    assert_eq!(report.written, 1, "{report:?}");
    let rebuilt = snapshots
        .get(stream, true)
        .await
        .expect("read")
        .expect("written");
    assert_eq!(
        (
            rebuilt.version,
            rebuilt.hit_points,
            rebuilt.holes.to_string()
        ),
        (2, 5, "1..2".to_owned())
    );
    assert_eq!(rebuilt.last_recorded_at, None);
    assert!(audit(&t, &snapshots, Mode::Verify, 1)
        .await
        .all_agree(Mode::Verify));

    // Version 1 arrives late: the projector fills the hole the rebuild kept (a range).
    t.db.put_source_item(&table, stream, 1, ("Nuru", -2, "goblin"))
        .await;
    let late = store.read_range(stream, 1, 1).await.expect("read");
    project(&store, &snapshots, stream, &late).await;
    let filled = snapshots
        .get(stream, true)
        .await
        .expect("read")
        .expect("there");
    assert_eq!(
        (filled.version, filled.hit_points, filled.holes.to_string()),
        (2, 3, String::new())
    );
    assert!(audit(&t, &snapshots, Mode::Verify, 1)
        .await
        .all_agree(Mode::Verify));

    // A rebuild's write is conditional on what it read: once the projector has moved the
    // snapshot on, a write from the old read loses, whatever it would have written.
    let read = snapshots
        .get(stream, true)
        .await
        .expect("read")
        .expect("there");
    let stored = store
        .append(
            stream,
            ExpectedVersion::Exact(2),
            vec![event("Nuru", 4, "potion")],
        )
        .await
        .expect("append");
    project(&store, &snapshots, stream, &stored.events).await;
    let old_fold = store.character_at(stream, 2).await.expect("fold at 2");
    assert!(!snapshots
        .replace(stream, &old_fold, &Holes::new(), Some(&read))
        .await
        .expect("write"));
    assert!(!snapshots
        .replace(stream, &old_fold, &Holes::new(), None)
        .await
        .expect("write"));
    let now = snapshots
        .get(stream, true)
        .await
        .expect("read")
        .expect("there");
    assert_eq!(
        (now.version, now.hit_points),
        (3, 7),
        "never moved backwards"
    );
}

#[tokio::test]
async fn an_unreadable_snapshot_is_reported_and_the_rest_still_checked() {
    let t = seeded().await;
    let victim = t.streams[7];
    t.db.client
        .update_item()
        .table_name(snapshot_table(&t))
        .key("Id", AttributeValue::S(victim.to_string()))
        .update_expression("SET HitPoints = :x")
        .expression_attribute_values(":x", AttributeValue::S("lots".into()))
        .send()
        .await
        .expect("spoil");
    let report = audit(&t, &t.snapshots, Mode::Rebuild, 4).await;
    assert_eq!(report.unreadable, vec![victim.to_string()]);
    assert_eq!(report.agreed, (CHARACTERS - 1) as u64);
    assert!(!report.all_agree(Mode::Rebuild));
    let summary = local::audit::summary(Mode::Rebuild, &report);
    assert!(
        summary.contains(&format!("unreadable: 1  {victim}")),
        "{summary}"
    );
}

#[tokio::test]
async fn repair_feed_brings_every_event_into_an_empty_feed_once() {
    let t = seeded().await;
    let feed = t.db.feed().await;
    let args = audit_args(&t, &t.snapshots, feed.table(), 3);
    assert!(local::audit::repair_feed(&args).await.expect("runs"));
    assert!(local::audit::repair_feed(&args).await.expect("runs again"));
    assert_eq!(
        feed.head(DEFAULT_CAMPAIGN).await.expect("head").0,
        (CHARACTERS * EVENTS_EACH) as u64,
        "every event once"
    );
    // The whole feed, page by page: every event of every character, once, at 1..n.
    let mut seen = std::collections::HashSet::new();
    let mut after = None;
    loop {
        let page = feed
            .read(hitpoints::feed::FeedRead {
                campaign: DEFAULT_CAMPAIGN,
                after,
                direction: hitpoints::Direction::Forward,
                limit: 700,
                wait: Duration::ZERO,
            })
            .await
            .expect("read");
        if page.entries.is_empty() {
            break;
        }
        for entry in &page.entries {
            assert_eq!(entry.position.0, seen.len() as u64 + 1);
            assert!(seen.insert((entry.stream, entry.event.version)), "twice");
        }
        after = Some(page.next);
    }
    assert_eq!(seen.len(), CHARACTERS * EVENTS_EACH);
    for &stream in &t.streams {
        for version in 0..EVENTS_EACH as u64 {
            assert!(seen.contains(&(stream, version)));
        }
    }
}

#[tokio::test]
async fn repair_feed_reports_a_poison_character_indexes_the_rest_and_exits_1() {
    let t = seeded().await;
    let feed = t.db.feed().await;
    // One character whose version 0 does not decode (a name that is a number).
    let poison = Uuid::new_v4();
    t.db.put_undecodable_item(t.store.table(), poison, 0).await;
    let args = audit_args(&t, &t.snapshots, feed.table(), 2);
    assert!(
        !local::audit::repair_feed(&args).await.expect("runs"),
        "exit 1"
    );
    let indexer = hitpoints::feed::Indexer::new(t.store.clone(), feed.clone());
    let report = indexer
        .repair(2, None, &hitpoints::feed::RepairProgress::default())
        .await
        .expect("runs");
    let summary = local::audit::repair_summary(&report);
    assert!(
        summary.contains(&format!("failed:    1  {poison}")),
        "{summary}"
    );
    assert_eq!(
        report.indexed, 0,
        "the first run brought in every other event"
    );
    assert_eq!(
        feed.head(DEFAULT_CAMPAIGN).await.expect("head").0,
        (CHARACTERS * EVENTS_EACH) as u64
    );
    // Fixed, the character comes in and the command exits 0.
    t.db.put_source_item(t.store.table(), poison, 0, ("Mordai", 9, "Init"))
        .await;
    assert!(
        local::audit::repair_feed(&args).await.expect("runs"),
        "exit 0"
    );
    assert_eq!(
        feed.head(DEFAULT_CAMPAIGN).await.expect("head").0,
        (CHARACTERS * EVENTS_EACH) as u64 + 1
    );
}

/// An event item whose `Id` is not a character's id: verify and repair-feed name it and fail,
/// and check every character all the same.
#[tokio::test]
async fn an_event_item_of_no_character_is_named_by_verify_and_repair_feed() {
    let t = seeded().await;
    let feed = t.db.feed().await;
    t.db.client
        .put_item()
        .table_name(t.store.table())
        .item("Id", AttributeValue::S("not-a-character".into()))
        .item("Version", AttributeValue::N("0".into()))
        .item("CharacterName", AttributeValue::S("Nobody".into()))
        .item("CharacterHitPoints", AttributeValue::N("1".into()))
        .item("Note", AttributeValue::S("Init".into()))
        .send()
        .await
        .expect("put an item of no character");
    let report = audit(&t, &t.snapshots, Mode::Verify, 2).await;
    assert_eq!(report.failed, vec!["not-a-character".to_owned()]);
    assert_eq!(report.agreed, CHARACTERS as u64);
    assert!(!report.all_agree(Mode::Verify));
    let indexer = hitpoints::feed::Indexer::new(t.store.clone(), feed.clone());
    let report = indexer
        .repair(2, None, &hitpoints::feed::RepairProgress::default())
        .await
        .expect("runs");
    assert_eq!(report.unreadable, vec!["not-a-character".to_owned()]);
    assert!(!report.is_complete());
    let summary = local::audit::repair_summary(&report);
    assert!(summary.contains("not-a-character"), "{summary}");
    assert_eq!(
        feed.head(DEFAULT_CAMPAIGN).await.expect("head").0,
        (CHARACTERS * EVENTS_EACH) as u64
    );
}
