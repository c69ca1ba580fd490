//! A character under the rules through the read models, on dynoxide: the projector's snapshot
//! and the party carry its sheet and its latest event's outcome, verify agrees with them, a
//! rebuild writes the same, and the feed copies every attribute of its events, known or not.

use aws_sdk_dynamodb::types::AttributeValue;
use hitpoints::domain::DEFAULT_CAMPAIGN;
use hitpoints::domain::{Direction, ExpectedVersion};
use hitpoints::feed::FeedRead;
use hitpoints::hp::verdict::{Mode, Progress};
use hitpoints::hp::Audit;
use hitpoints::rules::{
    Command, DamagePart, DamageType, HitDice, RulesSetup, Ruleset, Sheet, Status,
};
use hitpoints::store::{CommandRequest, EventStore};
use hitpoints_testkit::{index_stream, project, test_db};
use uuid::Uuid;

fn request(command: Command) -> CommandRequest {
    CommandRequest {
        command,
        note: None,
        event_id: None,
        expected: ExpectedVersion::Any,
        dry_run: false,
        character_name: None,
        campaign: hitpoints::domain::DEFAULT_CAMPAIGN,
    }
}

/// A character under the rules, hit down to 0 and then by the source material's code with an
/// attribute of its own: its id.
async fn fallen_character(store: &EventStore, db: &hitpoints_testkit::TestDb) -> Uuid {
    let stream = Uuid::new_v4();
    let setup = RulesSetup {
        max_hp: 12,
        hp: None,
        hit_dice: HitDice::parse("2d8").expect("hit dice"),
        con_modifier: 1,
        defences: Default::default(),
        ruleset: Ruleset::Srd2014,
    };
    let create = CommandRequest {
        expected: ExpectedVersion::NoStream,
        character_name: Some("Nuru".into()),
        ..request(Command::Rules(setup))
    };
    store.command(stream, create).await.expect("created");
    let hit = Command::Damage {
        parts: vec![DamagePart {
            amount: 9,
            damage_type: DamageType::Fire,
        }],
        critical: false,
        halved: false,
        defences_override: None,
    };
    store.command(stream, request(hit)).await.expect("hit");
    store
        .command(
            stream,
            request(Command::TempHp {
                amount: 4,
                replace: false,
            }),
        )
        .await
        .expect("temporary HP");
    // The source material's code appends -20 at HP 3, with an attribute hitpoints does not know.
    db.client
        .put_item()
        .table_name(store.table())
        .item("Id", AttributeValue::S(stream.to_string()))
        .item("Version", AttributeValue::N("3".into()))
        .item("CharacterName", AttributeValue::S("Nuru".into()))
        .item("CharacterHitPoints", AttributeValue::N("-20".into()))
        .item("Note", AttributeValue::S("a fall".into()))
        .item("Colour", AttributeValue::S("red".into()))
        .send()
        .await
        .expect("put an item as other code writes it");
    stream
}

fn without_recent(sheet: Option<Sheet>) -> Option<Sheet> {
    sheet.map(|s| Sheet {
        recent: Vec::new(),
        ..s
    })
}

#[tokio::test]
async fn the_snapshot_the_party_verify_and_rebuild_carry_the_sheet() {
    let db = test_db().await;
    let store = db.store().await;
    let snapshots = db.snapshots().await;
    let stream = fallen_character(&store, &db).await;
    // Two batches: the typed events, then the item of other code alone, which the projector
    // must clamp against the sheet it kept.
    let events = store.read_all(stream).await.expect("the events");
    project(&store, &snapshots, stream, &events[..3]).await;
    let before = snapshots
        .get(stream, true)
        .await
        .expect("read")
        .expect("a snapshot");
    assert_eq!(before.hit_points, 3);
    project(&store, &snapshots, stream, &events[3..]).await;

    let truth = store.character(stream).await.expect("the fold");
    let sheet = truth.rules.clone().expect("rules");
    assert_eq!(
        (truth.hp, sheet.hp, sheet.status),
        (0, 0, Status::Unconscious)
    );
    assert_eq!(
        sheet.temp_hp, 4,
        "a plain change is clamped and leaves temporary HP alone"
    );
    let snapshot = snapshots
        .get(stream, true)
        .await
        .expect("read")
        .expect("a snapshot");
    assert_eq!(snapshot.hit_points, 0, "the clamped HP, not the sum");
    assert_eq!(
        without_recent(snapshot.rules.clone()),
        without_recent(Some(sheet))
    );
    assert_eq!(snapshot.last_event_type.as_deref(), Some("adjusted"));

    // The party lists the latest event's type and outcome.
    let page = snapshots.list(10, None).await.expect("the party");
    assert_eq!(page.snapshots.len(), 1);
    assert_eq!(
        page.snapshots[0].last_event_type.as_deref(),
        Some("adjusted")
    );
    assert!(page.snapshots[0].rules.is_some());
    // The event before the plain change was a typed one: its outcome was listed then.
    assert!(before.last_outcome.is_some());
    assert_eq!(before.last_event_type.as_deref(), Some("temp_hp_gained"));

    let progress = Progress::default();
    let audit = Audit {
        events: &store,
        snapshots: &snapshots,
        segments: 2,
        progress: &progress,
    };
    let report = audit.run(Mode::Verify).await.expect("verify");
    assert_eq!(
        (report.agreed, report.wrong.len(), report.failed.len()),
        (1, 0, 0),
        "{report:?}"
    );

    // Emptied, the table is rebuilt with the same snapshot.
    let emptied = db.snapshots().await;
    let audit = Audit {
        snapshots: &emptied,
        ..audit
    };
    let report = audit.run(Mode::Rebuild).await.expect("rebuild");
    assert_eq!(report.written, 1, "{report:?}");
    let rebuilt = emptied
        .get(stream, true)
        .await
        .expect("read")
        .expect("rebuilt");
    assert_eq!(
        (
            rebuilt.hit_points,
            rebuilt.rules.clone(),
            rebuilt.last_event_type.clone()
        ),
        (
            snapshot.hit_points,
            snapshot.rules.clone(),
            snapshot.last_event_type.clone()
        )
    );
}

#[tokio::test]
async fn the_feed_copies_every_attribute_of_an_event_known_or_not() {
    let db = test_db().await;
    let store = db.store().await;
    let feed = db.feed().await;
    let stream = fallen_character(&store, &db).await;
    index_stream(&store, &feed, stream).await;
    let page = feed
        .read(FeedRead {
            campaign: DEFAULT_CAMPAIGN,
            after: None,
            direction: Direction::Forward,
            limit: 10,
            wait: std::time::Duration::ZERO,
        })
        .await
        .expect("the feed");
    let stored = store.read_all(stream).await.expect("the events");
    assert_eq!(page.entries.len(), 4);
    for (entry, event) in page.entries.iter().zip(&stored) {
        assert_eq!(entry.event, *event, "the feed's copy is the event");
    }
    assert_eq!(page.entries[1].event.event_type, "damaged");
    assert!(page.entries[1].event.outcome.is_some());
    assert!(page.entries[1].event.state.is_some());
    assert_eq!(
        page.entries[3].event.other.get("Colour"),
        Some(&serde_dynamo::AttributeValue::S("red".into())),
        "an attribute the code does not know is copied"
    );
}
