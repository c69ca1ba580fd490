//! The local run's stream followers: with a poison record in the stream (it is reported,
//! retried, set aside, and the records after it are still projected), and woken from an idle
//! wait by an append through the API.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use hitpoints::hp::SnapshotStore;
use local::dynamodb::local_client;
use local::{start, Options, Running, Storage, EVENTS_TABLE, SNAPSHOTS_TABLE};
use uuid::Uuid;

/// A local run in memory, on ports of its own.
async fn start_in_memory() -> Running {
    start(&Options {
        port: 0,
        dynamodb_port: 0,
        storage: Storage::InMemory,
        ..Options::default()
    })
    .await
    .expect("start")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_record_does_not_block_the_stream() {
    let running = start_in_memory().await;
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

/// An idle follower sleeps up to 2 s between polls; an append through the API wakes both at
/// once. Three seconds after the start both are in their first 2 s wait (10 ms doubling: 2.55 s
/// of shorter waits before it), so without the wake the append would wait about 1.5 s more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_append_through_the_api_wakes_the_idle_followers() {
    let running = start_in_memory().await;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let base = format!("http://{}", running.api_addr);
    let lag = tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let get = |path: &str| -> serde_json::Value {
            agent
                .get(format!("{base}{path}"))
                .call()
                .expect("an answer")
                .body_mut()
                .read_json()
                .expect("json")
        };
        let created: serde_json::Value = agent
            .post(format!("{base}/characters"))
            .send_json(
                serde_json::json!({"character_name": "Nuru", "hp_change": 8, "note": "Init"}),
            )
            .expect("an answer")
            .body_mut()
            .read_json()
            .expect("json");
        let acknowledged = std::time::Instant::now();
        let id = created["id"].as_str().expect("an id").to_owned();
        let (mut snapshot, mut feed) = (None, None);
        while snapshot.is_none() || feed.is_none() {
            assert!(
                acknowledged.elapsed() < std::time::Duration::from_secs(10),
                "not followed"
            );
            if snapshot.is_none() && get(&format!("/characters/{id}"))["source"] == "snapshot" {
                snapshot = Some(acknowledged.elapsed());
            }
            if feed.is_none() && get("/events?direction=backward&limit=1")["events"][0]["id"] == *id
            {
                feed = Some(acknowledged.elapsed());
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        (snapshot, feed)
    })
    .await
    .expect("the client");
    let bound = Some(std::time::Duration::from_secs(1));
    assert!(lag.0 < bound && lag.1 < bound, "snapshot, feed: {lag:?}");
    running.stop().await;
}
