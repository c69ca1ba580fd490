//! `GET /events`: the global feed through the router on dynoxide: its JSON, its errors, and the
//! long poll.

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use hitpoints::feed::FeedStore;
use hitpoints::store::EventStore;
use hitpoints::ExpectedVersion;
use hitpoints_http::{Api, Function, Router};
use hitpoints_testkit::{call, event, index_stream, test_db, TestDb};
use serde_json::{json, Value};
use uuid::Uuid;

struct Feed {
    router: Router,
    store: EventStore,
    feed: FeedStore,
    _db: TestDb,
}

async fn feed() -> Feed {
    let db = test_db().await;
    let store = db.store().await;
    let feed = db.feed().await;
    Feed {
        router: Api::new(store.clone())
            .with_feed(feed.clone())
            .router(Function::Query),
        store,
        feed,
        _db: db,
    }
}

impl Feed {
    async fn get(&self, uri: &str) -> (StatusCode, Value) {
        let (status, body, _) = call(&self.router, Method::GET, uri, None).await;
        (status, body)
    }

    /// Appends `hp` to `stream` and indexes it, as the stream and the indexer would.
    async fn append(&self, stream: Uuid, hp: i64) {
        self.store
            .append(stream, ExpectedVersion::Any, vec![event("Nuru", hp, "hit")])
            .await
            .expect("append");
        index_stream(&self.store, &self.feed, stream).await;
    }
}

#[track_caller]
fn assert_error(got: &(StatusCode, Value), code: &str) {
    assert_eq!(got.0, StatusCode::BAD_REQUEST, "body: {}", got.1);
    assert_eq!(got.1["error"], code, "body: {}", got.1);
    assert!(got.1["message"].as_str().is_some_and(|m| m.len() > 10));
}

#[tokio::test]
async fn a_page_of_the_feed_is_the_documented_json() {
    let f = feed().await;
    let (status, body) = f.get("/events").await;
    assert_eq!(
        (status, body),
        (
            StatusCode::OK,
            json!({"events": [], "next": "00000000000000000000"})
        )
    );
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    f.append(a, 8).await;
    f.append(b, 5).await;
    f.append(a, -2).await;
    let (status, body) = f.get("/events?limit=2").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let events = body["events"].as_array().expect("events");
    assert_eq!(events.len(), 2);
    let first = &events[0];
    assert_eq!(first["position"], "00000000000000000001");
    assert_eq!(first["id"], json!(a));
    assert_eq!(
        (first["version"].clone(), first["hp_change"].clone()),
        (json!(0), json!(8))
    );
    for field in ["character_name", "note", "event_id", "recorded_at"] {
        assert!(first[field].is_string(), "{field}: {first}");
    }
    assert_eq!(body["next"], "00000000000000000002");
    let (_, rest) = f.get("/events?after=00000000000000000002").await;
    let rest = rest["events"].as_array().expect("events").clone();
    assert_eq!(rest.len(), 1);
    assert_eq!(
        (rest[0]["id"].clone(), rest[0]["version"].clone()),
        (json!(a), json!(1))
    );
    // Nothing new: next is after itself.
    let (_, none) = f.get("/events?after=00000000000000000003").await;
    assert_eq!(none, json!({"events": [], "next": "00000000000000000003"}));
    // Backward from the newest; then older than position 2.
    let (_, newest) = f.get("/events?direction=backward&limit=1").await;
    assert_eq!(newest["events"][0]["position"], "00000000000000000003");
    let (_, older) = f
        .get("/events?direction=backward&after=00000000000000000002")
        .await;
    let positions: Vec<&str> = older["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["position"].as_str())
        .collect();
    assert_eq!(positions, vec!["00000000000000000001"]);
}

#[tokio::test]
async fn bad_positions_limits_and_waits_are_400s() {
    let f = feed().await;
    for bad in ["tonight", "-1", "1.5", "", "123456789012345678901"] {
        let got = f.get(&format!("/events?after={bad}")).await;
        assert_error(&got, "invalid_position");
    }
    for bad in ["0", "1001", "-3", "many"] {
        let got = f.get(&format!("/events?limit={bad}")).await;
        assert_error(&got, "invalid_limit");
    }
    for bad in ["11", "-1", "0.5", "soon"] {
        let got = f.get(&format!("/events?wait={bad}")).await;
        assert_error(&got, "invalid_wait");
    }
    let got = f.get("/events?direction=backward&wait=2").await;
    assert_error(&got, "invalid_wait");
    let got = f.get("/events?direction=sideways").await;
    assert_error(&got, "invalid_direction");
    let got = f.get("/events?from=1").await;
    assert_error(&got, "unknown_parameter");
    // A position past the end was not handed out by this feed (another feed's, or made up).
    let got = f.get("/events?after=00000000000000000099").await;
    assert_error(&got, "invalid_position");
    assert!(got.1["message"]
        .as_str()
        .is_some_and(|m| m.contains("beyond the end")));
}

#[tokio::test]
async fn a_waiting_read_answers_with_the_event_that_arrives() {
    let f = feed().await;
    let stream = Uuid::new_v4();
    f.append(stream, 8).await;
    let (_, head) = f.get("/events?direction=backward&limit=1").await;
    let after = head["next"].as_str().expect("next").to_owned();
    let waiting = {
        let router = f.router.clone();
        let uri = format!("/events?after={after}&wait=10");
        tokio::spawn(async move {
            let started = Instant::now();
            let (status, body, _) = call(&router, Method::GET, &uri, None).await;
            (status, body, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    f.append(stream, -3).await;
    let (status, body, waited) = waiting.await.expect("the waiting read");
    assert_eq!(status, StatusCode::OK, "{body}");
    let events = body["events"].as_array().expect("events");
    assert_eq!(events.len(), 1, "{body}");
    assert_eq!(events[0]["hp_change"], json!(-3));
    // It answered with the event, not at the end of its wait.
    assert!(waited < Duration::from_secs(10), "{waited:?}");

    // Nothing arrives: after the wait, an empty page whose next is after itself.
    let after = body["next"].as_str().expect("next").to_owned();
    let (_, empty) = f.get(&format!("/events?after={after}&wait=1")).await;
    assert_eq!(empty, json!({"events": [], "next": after}));
}
