//! The local run's stream follower with a poison record in the stream: it is reported, retried,
//! set aside, and the records after it are still projected.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use hitpoints::store::SnapshotStore;
use local::dynamodb::local_client;
use local::{start, Options, Storage, EVENTS_TABLE, SNAPSHOTS_TABLE};
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_record_does_not_block_the_stream() {
    let running = start(&Options {
        port: 0,
        dynamodb_port: 0,
        storage: Storage::InMemory,
        ..Options::default()
    })
    .await
    .expect("start");
    let client = local_client(&running.dynamodb_endpoint);
    // An item no event decodes from: no CharacterHitPoints.
    let poison = Uuid::new_v4();
    let item = HashMap::from([
        ("Id".to_owned(), AttributeValue::S(poison.to_string())),
        ("Version".to_owned(), AttributeValue::N("0".into())),
        ("CharacterName".to_owned(), AttributeValue::S("Vex".into())),
        ("Note".to_owned(), AttributeValue::S("broken".into())),
    ]);
    client
        .put_item()
        .table_name(EVENTS_TABLE)
        .set_item(Some(item))
        .send()
        .await
        .expect("put");
    let healthy = Uuid::new_v4();
    let store = hitpoints::store::EventStore::new(client.clone(), EVENTS_TABLE);
    let event = hitpoints::NewEvent {
        character_name: "Nuru".into(),
        hp_change: 8,
        note: "Init".into(),
        event_id: None,
    };
    store
        .append(healthy, hitpoints::ExpectedVersion::NoStream, vec![event])
        .await
        .expect("append");
    let snapshots = SnapshotStore::new(client, SNAPSHOTS_TABLE);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if let Some(snapshot) = snapshots.get(healthy, true).await.expect("read") {
            assert_eq!((snapshot.hit_points, snapshot.version), (8, 0));
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the stream is blocked"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(snapshots.get(poison, true).await.expect("read"), None);
    running.stop().await;
}
