//! Where a character's HP comes from: the snapshot table unless the read asks to be
//! consistent, and the source material's own snapshot items among the events.

// This file uses some of the shared helpers (not `test_api`, nor `assert_error_of`).
#[allow(dead_code)]
mod common;

use axum::http::{Method, StatusCode};
use common::{assert_error, hit, TestApi};
use hitpoints::store::EventStore;
use hitpoints_http::{Api, Function};
use hitpoints_testkit::{call, test_db};
use serde_json::{json, Value};
use uuid::Uuid;

#[tokio::test]
async fn hp_comes_from_the_snapshot_unless_asked_to_be_consistent() {
    use hitpoints::hp::SnapshotUpdate;
    let db = test_db().await;
    let store = db.store().await;
    let snapshots = db.snapshots().await;
    let t = TestApi {
        router: Api::new(store.clone())
            .with_snapshots(snapshots.clone())
            .router(Function::Query),
        store,
        _db: db,
    };
    let stream = t.seed_sample().await;
    let uri = format!("/characters/{stream}");
    let (status, body, _) = t.send(Method::GET, &uri, None).await;
    assert_eq!(
        (status, body["source"].clone(), body["hp"].clone()),
        (StatusCode::OK, json!("events"), json!(3))
    );
    // A snapshot that lags one event behind, as a projector may.
    let update = SnapshotUpdate {
        stream,
        expected: None,
        hp_delta: 6,
        character_name: "Nuru".into(),
        version: 1,
        holes: None,
        latest: hitpoints::domain::LatestEvent {
            hp_change: 6,
            note: "Long rest".into(),
            recorded_at: None,
            event_type: "adjusted".into(),
            outcome: None,
        },
        rules: None,
        campaign_id: hitpoints::domain::DEFAULT_CAMPAIGN,
    };
    assert!(snapshots.apply(&update).await.expect("write a snapshot"));
    let (_, body, _) = t.send(Method::GET, &uri, None).await;
    assert_eq!(
        (
            body["source"].clone(),
            body["hp"].clone(),
            body["version"].clone()
        ),
        (json!("snapshot"), json!(6), json!(1))
    );
    let (_, body, _) = t
        .send(Method::GET, &format!("{uri}?consistent=true"), None)
        .await;
    assert_eq!(
        (
            body["source"].clone(),
            body["hp"].clone(),
            body["version"].clone()
        ),
        (json!("events"), json!(3), json!(2))
    );
    // A stale writer cannot move it backwards or apply twice.
    assert!(!snapshots.apply(&update).await.expect("a refused write"));
}

/// The source material's snapshot items: listed with `"snapshot": true`, changing nothing in
/// the fold; a note of exactly `SNAPSHOT` is refused, so a change is never mistaken for one.
#[tokio::test]
async fn source_snapshot_items_are_listed_marked_and_the_note_is_reserved() {
    let db = test_db().await;
    let table = db.events_table().await;
    let router = Api::new(EventStore::new(db.client.clone(), &table)).router(Function::All);
    let stream = Uuid::new_v4();
    for (version, (hp, note)) in [
        (8, "Init"),
        (-2, "Slashing damage from goblin"),
        (-3, "bludgeoning damage from bugbear"),
        (3, "SNAPSHOT"),
    ]
    .into_iter()
    .enumerate()
    {
        db.put_source_item(&table, stream, version as u64, ("Nuru", hp, note))
            .await;
    }
    let (status, state, _) = call(
        &router,
        Method::GET,
        &format!("/characters/{stream}?consistent=true"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (state["hp"].clone(), state["version"].clone()),
        (json!(3), json!(3))
    );
    let (_, page, _) = call(
        &router,
        Method::GET,
        &format!("/characters/{stream}/events"),
        None,
    )
    .await;
    let marks: Vec<Value> = page["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["snapshot"].clone())
        .collect();
    assert_eq!(
        marks,
        vec![json!(false), json!(false), json!(false), json!(true)]
    );
    // Appending after it works as ever; a note of exactly SNAPSHOT does not.
    let uri = format!("/characters/{stream}/events");
    let got = call(
        &router,
        Method::POST,
        &uri,
        Some(json!({"expected_version": 3, "events": [hit(4, "SNAPSHOT")]})),
    )
    .await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "invalid_event");
    let (status, body, _) = call(
        &router,
        Method::POST,
        &uri,
        Some(json!({"expected_version": 3, "events": [hit(-1, "snapshot of the map")]})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["events"][0]["version"], 4);
    let (_, state, _) = call(
        &router,
        Method::GET,
        &format!("/characters/{stream}?consistent=true"),
        None,
    )
    .await;
    assert_eq!(
        (state["hp"].clone(), state["version"].clone()),
        (json!(2), json!(4))
    );
}
