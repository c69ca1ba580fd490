//! The HTTP API through its router, against dynoxide: every route, every error status, and
//! every sample event in `events/` fed through lambda_http as API Gateway would send it.

use aws_sdk_dynamodb::types::AttributeValue;
use axum::http::{HeaderMap, Method, StatusCode};
use hitpoints::store::EventStore;
use hitpoints::ExpectedVersion;
use hitpoints_http::{Api, Function, Router};
use hitpoints_testkit::{
    call, call_lambda, call_raw, client_without_retries, sample_events, test_db, FailingDynamoDb,
    Failure, Logs, TestDb, SAMPLE_ID,
};
use serde_json::{json, Value};
use uuid::Uuid;

struct TestApi {
    router: Router,
    store: EventStore,
    _db: TestDb,
}

async fn test_api(function: Function) -> TestApi {
    let db = test_db().await;
    let store = db.store().await;
    TestApi {
        router: Api::new(store.clone()).router(function),
        store,
        _db: db,
    }
}

impl TestApi {
    async fn send(
        &self,
        method: Method,
        uri: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value, HeaderMap) {
        call(&self.router, method, uri, body).await
    }

    async fn send_raw(
        &self,
        method: Method,
        uri: &str,
        body: &str,
    ) -> (StatusCode, Value, HeaderMap) {
        call_raw(&self.router, method, uri, body.as_bytes().to_vec()).await
    }

    async fn seed_sample(&self) -> Uuid {
        let stream = Uuid::parse_str(SAMPLE_ID).expect("uuid");
        self.store
            .append(stream, ExpectedVersion::NoStream, sample_events())
            .await
            .expect("seed the sample character");
        stream
    }
}

#[track_caller]
fn assert_error(got: &(StatusCode, Value, HeaderMap), status: StatusCode, code: &str) {
    assert_eq!(got.0, status, "body: {}", got.1);
    assert_eq!(got.1["error"], code, "body: {}", got.1);
    assert!(
        got.1["message"].as_str().is_some_and(|m| m.len() > 10),
        "a message that says what is wrong: {}",
        got.1
    );
}

fn hit(hp: i64, note: &str) -> Value {
    json!({"character_name": "Nuru", "hp_change": hp, "note": note})
}

#[tokio::test]
async fn a_characters_life_through_every_route() {
    let t = test_api(Function::All).await;
    let (status, body, response) = t
        .send(Method::POST, "/characters", Some(hit(8, "Init")))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().expect("an id").to_owned();
    assert_eq!(
        response["location"].to_str().expect("ascii"),
        format!("/characters/{id}")
    );
    assert_eq!(body["events"][0]["version"], 0);
    assert!(body["events"][0]["event_id"].is_string());
    assert!(body["events"][0]["recorded_at"].is_string());

    let events_uri = format!("/characters/{id}/events");
    let (status, body, _) = t
        .send(
            Method::POST,
            &events_uri,
            Some(json!({"expected_version": 0, "events": [hit(-2, "goblin"), hit(-3, "bugbear")]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["events"][1]["version"], 2);

    let (status, body, _) = t
        .send(Method::GET, &format!("/characters/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"id": id, "character_name": "Nuru", "hp": 3, "version": 2, "source": "events"})
    );

    let (status, page, _) = t
        .send(Method::GET, &format!("{events_uri}?limit=2"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["events"].as_array().map(Vec::len), Some(2));
    let cursor = page["next_cursor"].as_str().expect("a second page");
    let (status, page, _) = t
        .send(
            Method::GET,
            &format!("{events_uri}?limit=2&cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["events"][0]["note"], "bugbear");
    assert_eq!(page["next_cursor"], Value::Null);

    let (status, page, _) = t
        .send(
            Method::GET,
            &format!("{events_uri}?direction=backward&from_version=1"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let versions: Vec<_> = page["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["version"].clone())
        .collect();
    assert_eq!(versions, vec![json!(1), json!(0)]);
}

#[tokio::test]
async fn retries_are_replays_not_duplicates() {
    let t = test_api(Function::All).await;
    let create = json!({"character_name": "Nuru", "hp_change": 8, "note": "Init", "event_id": Uuid::new_v4()});
    let (first, body1, _) = t
        .send(Method::POST, "/characters", Some(create.clone()))
        .await;
    let (again, body2, _) = t.send(Method::POST, "/characters", Some(create)).await;
    assert_eq!((first, again), (StatusCode::CREATED, StatusCode::OK));
    assert_eq!(body1, body2, "the same character, the same event");

    let id = body1["id"].as_str().expect("id");
    let uri = format!("/characters/{id}/events");
    let append = json!({"events": [{"character_name": "Nuru", "hp_change": -1, "note": "trap", "event_id": Uuid::new_v4()}]});
    let (first, body1, _) = t.send(Method::POST, &uri, Some(append.clone())).await;
    let (again, body2, _) = t.send(Method::POST, &uri, Some(append)).await;
    assert_eq!((first, again), (StatusCode::CREATED, StatusCode::OK));
    assert_eq!(body1, body2);
    let (_, state, _) = t
        .send(Method::GET, &format!("/characters/{id}"), None)
        .await;
    assert_eq!(
        (state["hp"].clone(), state["version"].clone()),
        (json!(7), json!(1))
    );
}

#[tokio::test]
async fn conflicts_are_409_with_both_versions() {
    let t = test_api(Function::All).await;
    let stream = t.seed_sample().await;
    let uri = format!("/characters/{stream}/events");
    for (expected, expected_json) in [
        (json!(5), json!(5)),
        (json!(0), json!(0)),
        (json!("no_stream"), json!("no_stream")),
    ] {
        let got = t
            .send(
                Method::POST,
                &uri,
                Some(json!({"expected_version": expected, "events": [hit(-1, "x")]})),
            )
            .await;
        assert_error(&got, StatusCode::CONFLICT, "version_conflict");
        assert_eq!(got.1["expected_version"], expected_json);
        assert_eq!(got.1["current_version"], 2);
    }
    let missing = Uuid::new_v4();
    let got = t
        .send(
            Method::POST,
            &format!("/characters/{missing}/events"),
            Some(json!({"expected_version": 3, "events": [hit(1, "x")]})),
        )
        .await;
    assert_error(&got, StatusCode::CONFLICT, "version_conflict");
    assert_eq!(got.1["current_version"], Value::Null);
}

#[tokio::test]
async fn bad_requests_are_400_with_what_is_wrong() {
    let t = test_api(Function::All).await;
    let stream = t.seed_sample().await;
    let events = format!("/characters/{stream}/events");
    let text = |v: Value| Some(v.to_string());
    let cases: Vec<(Method, String, Option<String>, &str)> = vec![
        (
            Method::POST,
            events.clone(),
            Some("{\"events\": [".into()),
            "malformed_json",
        ),
        (
            Method::POST,
            events.clone(),
            Some(String::new()),
            "missing_body",
        ),
        (
            Method::POST,
            events.clone(),
            text(json!({"events": [], "extra": 1})),
            "invalid_body",
        ),
        (
            Method::POST,
            events.clone(),
            text(json!({"events": [{"character_name": "a", "hp_change": 1.5, "note": "n"}]})),
            "invalid_body",
        ),
        (
            Method::POST,
            events.clone(),
            text(
                json!({"events": [{"character_name": "a", "hp_change": 1, "note": "n", "event_id": "nope"}]}),
            ),
            "invalid_body",
        ),
        (
            Method::POST,
            events.clone(),
            text(json!({"expected_version": -1, "events": [hit(1, "n")]})),
            "invalid_expected_version",
        ),
        (
            Method::POST,
            events.clone(),
            text(json!({"expected_version": "latest", "events": [hit(1, "n")]})),
            "invalid_expected_version",
        ),
        (
            Method::POST,
            events.clone(),
            text(json!({"expected_version": u64::MAX, "events": [hit(1, "n")]})),
            "invalid_expected_version",
        ),
        (
            Method::POST,
            "/characters".into(),
            Some("[1, 2]".into()),
            "invalid_body",
        ),
        (
            Method::GET,
            "/characters/not-a-uuid".into(),
            None,
            "invalid_id",
        ),
        (
            Method::GET,
            "/characters/not-a-uuid/events".into(),
            None,
            "invalid_id",
        ),
        (
            Method::GET,
            format!("{events}?direction=sideways"),
            None,
            "invalid_direction",
        ),
        (
            Method::GET,
            format!("{events}?limit=0"),
            None,
            "invalid_limit",
        ),
        (
            Method::GET,
            format!("{events}?limit=1001"),
            None,
            "invalid_limit",
        ),
        (
            Method::GET,
            format!("{events}?limit=ten"),
            None,
            "invalid_limit",
        ),
        (
            Method::GET,
            format!("{events}?from_version=-1"),
            None,
            "invalid_from_version",
        ),
        (
            Method::GET,
            format!("{events}?cursor=abc"),
            None,
            "invalid_cursor",
        ),
        (
            Method::GET,
            format!("{events}?limit=1&limit=2"),
            None,
            "invalid_parameter",
        ),
        (
            Method::GET,
            format!("{events}?page=2"),
            None,
            "unknown_parameter",
        ),
        (
            Method::GET,
            format!("/characters/{stream}?consistent=yes"),
            None,
            "invalid_consistent",
        ),
        (
            Method::POST,
            format!("{events}?expected_version=1"),
            text(json!({"events": [hit(1, "n")]})),
            "unknown_parameter",
        ),
    ];
    for (method, uri, body, code) in cases {
        let got = t
            .send_raw(method.clone(), &uri, body.as_deref().unwrap_or(""))
            .await;
        assert_eq!(got.0, StatusCode::BAD_REQUEST, "{method} {uri}: {}", got.1);
        assert_eq!(got.1["error"], code, "{method} {uri}: {}", got.1);
    }
    // A cursor handed out for one stream is refused on another.
    let (_, page, _) = t
        .send(Method::GET, &format!("{events}?limit=1"), None)
        .await;
    let cursor = page["next_cursor"].as_str().expect("a cursor");
    let (_, other, _) = t
        .send(Method::POST, "/characters", Some(hit(1, "other")))
        .await;
    let other_id = other["id"].as_str().expect("id");
    let got = t
        .send(
            Method::GET,
            &format!("/characters/{other_id}/events?cursor={cursor}"),
            None,
        )
        .await;
    assert_error(&got, StatusCode::BAD_REQUEST, "invalid_cursor");
    assert!(got.1["message"]
        .as_str()
        .is_some_and(|m| m.contains("another stream")));
    let (_, state, _) = t
        .send(Method::GET, &format!("/characters/{stream}"), None)
        .await;
    assert_eq!(state["version"], 2, "nothing was written by a bad request");
}

#[tokio::test]
async fn invalid_values_are_422_and_size_limits_413() {
    let t = test_api(Function::All).await;
    let stream = t.seed_sample().await;
    let events = format!("/characters/{stream}/events");
    for body in [
        json!({"events": []}),
        json!({"events": [{"character_name": " ", "hp_change": 1, "note": "n"}]}),
        json!({"events": [{"character_name": "Nuru", "hp_change": 1, "note": ""}]}),
        json!({"events": [{"character_name": "N".repeat(300), "hp_change": 1, "note": "n"}]}),
        json!({"events": [hit(i64::from(i32::MAX) + 1, "n")]}),
        json!({"events": [hit(1, &"x".repeat(200_001))]}),
    ] {
        let got = t.send(Method::POST, &events, Some(body)).await;
        assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "invalid_event");
    }
    let swarm: Vec<Value> = (0..101).map(|i| hit(-1, &format!("bite {i}"))).collect();
    let got = t
        .send(Method::POST, &events, Some(json!({"events": swarm})))
        .await;
    assert_error(&got, StatusCode::PAYLOAD_TOO_LARGE, "too_many_events");
    // 120,000 four-byte characters: 480 KB of note, within the character limit, over 400 KB.
    let got = t
        .send(
            Method::POST,
            &events,
            Some(json!({"events": [hit(1, &"🐉".repeat(120_000))]})),
        )
        .await;
    assert_error(&got, StatusCode::PAYLOAD_TOO_LARGE, "event_too_large");
    let got = t
        .send(
            Method::POST,
            &events,
            Some(json!({"events": [hit(1, &"x".repeat(1_100_000))]})),
        )
        .await;
    assert_error(&got, StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
    let (_, state, _) = t
        .send(Method::GET, &format!("/characters/{stream}"), None)
        .await;
    assert_eq!(state["version"], 2, "nothing was written");
}

#[tokio::test]
async fn unknown_streams_and_routes_are_404_and_wrong_methods_405() {
    let t = test_api(Function::All).await;
    let missing = Uuid::new_v4();
    let got = t
        .send(Method::GET, &format!("/characters/{missing}"), None)
        .await;
    assert_error(&got, StatusCode::NOT_FOUND, "stream_not_found");
    let got = t
        .send(Method::GET, &format!("/characters/{missing}/events"), None)
        .await;
    assert_error(&got, StatusCode::NOT_FOUND, "stream_not_found");
    for path in [
        "/",
        "/players",
        "/characters/x/events/0",
        "/characters//events",
    ] {
        let got = t.send(Method::GET, path, None).await;
        assert_error(&got, StatusCode::NOT_FOUND, "route_not_found");
    }
    let got = t
        .send(Method::DELETE, &format!("/characters/{missing}"), None)
        .await;
    assert_error(&got, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    assert_eq!(got.2["allow"], "GET");
    let got = t
        .send(Method::PUT, &format!("/characters/{missing}/events"), None)
        .await;
    assert_eq!(got.2["allow"], "POST, GET");
    let got = t.send(Method::DELETE, "/characters", None).await;
    assert_error(&got, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    assert_eq!(got.2["allow"], "POST, GET");
}

#[tokio::test]
async fn each_function_serves_only_its_routes() {
    let append = test_api(Function::Append).await;
    let id = Uuid::new_v4();
    let got = append
        .send(Method::GET, &format!("/characters/{id}"), None)
        .await;
    assert_error(&got, StatusCode::NOT_FOUND, "route_not_found");
    let got = append
        .send(Method::GET, &format!("/characters/{id}/events"), None)
        .await;
    assert_error(&got, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    assert_eq!(got.2["allow"], "POST");
    let (status, _, _) = append
        .send(Method::POST, "/characters", Some(hit(1, "n")))
        .await;
    assert_eq!(status, StatusCode::CREATED);

    let got = append.send(Method::GET, "/characters", None).await;
    assert_error(&got, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    assert_eq!(got.2["allow"], "POST");

    let query = test_api(Function::Query).await;
    let got = query
        .send(Method::POST, "/characters", Some(hit(1, "n")))
        .await;
    assert_error(&got, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    assert_eq!(got.2["allow"], "GET");
    let got = query
        .send(Method::POST, &format!("/characters/{id}/events"), None)
        .await;
    assert_error(&got, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    assert_eq!(got.2["allow"], "GET");
}

#[tokio::test]
async fn an_unreachable_store_is_503_with_a_retry_hint() {
    let client = hitpoints_testkit::unreachable_client();
    let router = Api::new(EventStore::new(client, "events")).router(Function::All);
    let uri = format!("/characters/{}", Uuid::new_v4());
    let (status, body, headers) = call(&router, Method::GET, &uri, None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(headers["retry-after"], "1");
    assert_eq!(body["error"], "store_unreachable");
    assert_eq!(body["retry_after_seconds"], 1);
}

/// Every sample in `events/`, as API Gateway sends it, through lambda_http and the function
/// that the template routes it to, on one table that starts empty: the good ones in the order
/// the README runs them (create, append, reads), each a 2xx; then each bad one. A sample not
/// listed here fails the test.
#[tokio::test]
async fn every_sample_event_gets_its_status_in_the_readmes_order() {
    let in_order: &[(&str, u16)] = &[
        ("apigw-create-character.json", 201),
        ("apigw-append-events.json", 201),
        ("apigw-append-events-any.json", 201),
        ("apigw-get-character.json", 200),
        ("apigw-read-events.json", 200),
        ("apigw-read-events-backward.json", 200),
        ("apigw-get-character-at-version.json", 200),
        ("apigw-get-character-as-of.json", 200),
        ("apigw-list-characters.json", 200),
        ("apigw-read-feed.json", 200),
        ("apigw-read-feed-backward.json", 200),
        ("apigw-openapi.json", 200),
        ("apigw-bad-malformed-json.json", 400),
        ("apigw-bad-unknown-field.json", 400),
        ("apigw-bad-wrong-type.json", 400),
        ("apigw-bad-id.json", 400),
        ("apigw-bad-direction.json", 400),
        ("apigw-bad-cursor.json", 400),
        ("apigw-bad-negative-expected-version.json", 400),
        ("apigw-bad-at-version.json", 400),
        ("apigw-bad-as-of.json", 400),
        ("apigw-bad-list-cursor.json", 400),
        ("apigw-bad-conflicting-parameters.json", 400),
        ("apigw-bad-feed-position.json", 400),
        ("apigw-bad-feed-wait.json", 400),
        ("apigw-bad-version-not-found.json", 404),
        ("apigw-bad-no-event-as-of.json", 404),
        ("apigw-bad-version-conflict.json", 409),
        ("apigw-bad-empty-name.json", 422),
        ("apigw-bad-hp-out-of-range.json", 422),
        ("apigw-bad-too-many-events.json", 413),
        ("apigw-bad-unknown-character.json", 404),
        ("apigw-bad-route.json", 404),
        ("apigw-bad-method.json", 405),
    ];
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../events");
    let mut samples: Vec<String> = std::fs::read_dir(dir)
        .expect("events/")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with("apigw-"))
        .collect();
    samples.sort();
    let mut listed: Vec<String> = in_order.iter().map(|(n, _)| n.to_string()).collect();
    listed.sort();
    assert_eq!(
        samples, listed,
        "every API Gateway sample has an expected status"
    );

    let db = test_db().await;
    let store = db.store().await;
    let snapshots = db.snapshots().await;
    let append = Api::new(store.clone()).router(Function::Append);
    let feed = db.feed().await;
    let query = Api::new(store.clone())
        .with_snapshots(snapshots.clone())
        .with_feed(feed.clone())
        .with_document(hitpoints_http::openapi::OPENAPI_JSON)
        .router(Function::Query);
    let all = Api::new(store.clone()).router(Function::All);
    for (name, status) in in_order {
        if *name == "apigw-list-characters.json" {
            // The projector and the indexer have caught up with what the samples wrote: the
            // party and the feed show it.
            let samples = SAMPLES_CHARACTER.parse().expect("uuid");
            hitpoints_testkit::index_stream(&store, &feed, samples).await;
            hitpoints_testkit::project_stream(
                &store,
                &snapshots,
                SAMPLES_CHARACTER.parse().expect("uuid"),
            )
            .await;
        }
        let text = std::fs::read_to_string(format!("{dir}/{name}")).expect("read sample");
        let request =
            lambda_http::request::from_str(&text).expect("an API Gateway payload 2.0 event");
        // The function the template routes it to; a route or method no function takes goes to
        // the router of every route, which must still refuse it.
        let router = if name.contains("bad-method") || name.contains("bad-route") {
            &all
        } else if request.method() == Method::POST {
            &append
        } else {
            &query
        };
        let (got, body, _) = call_lambda(router, &text).await;
        assert_eq!(got.as_u16(), *status, "{name}: {body}");
        if *name == "apigw-list-characters.json" {
            let id = request.uri().path().to_owned();
            let state = store
                .character(SAMPLES_CHARACTER.parse().expect("uuid"))
                .await
                .expect("the samples' character");
            assert_eq!(body["characters"].as_array().map(Vec::len), Some(1), "{id}");
            let member = &body["characters"][0];
            assert_eq!(member["id"], SAMPLES_CHARACTER);
            assert_eq!(member["hp"], json!(state.hp));
            assert_eq!(member["version"], json!(state.version));
            assert_eq!(member["last_note"], json!(state.latest.note));
        }
        if name.starts_with("apigw-read-feed") {
            let events = body["events"].as_array().expect("events");
            let stored = store
                .read_all(SAMPLES_CHARACTER.parse().expect("uuid"))
                .await
                .expect("the samples' events");
            // Forward: the first ten; backward: the newest five, newest first.
            let want: Vec<u64> = if name.contains("backward") {
                stored.iter().rev().take(5).map(|e| e.version).collect()
            } else {
                stored.iter().take(10).map(|e| e.version).collect()
            };
            let got: Vec<u64> = events
                .iter()
                .filter_map(|e| e["version"].as_u64())
                .collect();
            assert_eq!(got, want, "{name}: {body}");
            assert_eq!(body["next"], events.last().expect("events")["position"]);
            assert!(events.iter().all(|e| e["id"] == SAMPLES_CHARACTER));
        }
    }
}

/// The character the API Gateway samples are about (`apigw-create-character.json` creates it).
const SAMPLES_CHARACTER: &str = "eb3cefea-4c14-53d1-92ec-d92459133c76";

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
        },
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

/// An append to a DynamoDB that fails as `failure`: what the API answers, and what it logged.
async fn append_against(failure: Failure) -> ((StatusCode, Value, HeaderMap), String, usize) {
    let logs = Logs::capture();
    let dynamodb = FailingDynamoDb::start(failure).await;
    let client = client_without_retries(&dynamodb.endpoint);
    let router = Api::new(EventStore::new(client, "events")).router(Function::All);
    let stream = Uuid::new_v4();
    let body = json!({"expected_version": 0, "events": [
        {"character_name": "Secret Name", "hp_change": -2, "note": "a very private note"},
        {"character_name": "Secret Name", "hp_change": -3, "note": "another private note"}]});
    let got = call(
        &router,
        Method::POST,
        &format!("/characters/{stream}/events"),
        Some(body),
    )
    .await;
    let text = logs.text();
    assert!(
        text.contains(&stream.to_string()),
        "the log names the character: {text}"
    );
    assert!(
        text.contains("events=2"),
        "the log counts the events: {text}"
    );
    assert!(
        text.contains("FAKE-REQUEST-ID-0001"),
        "the log has the request id: {text}"
    );
    for secret in ["Secret Name", "private note", "quotes the request"] {
        assert!(!text.contains(secret), "the log echoes {secret:?}: {text}");
    }
    (got, text, dynamodb.calls_of("TransactWriteItems"))
}

fn failure(status: u16, error_type: &'static str) -> Failure {
    Failure {
        status,
        error_type,
        body: json!({"message": "DynamoDB's message quotes the request: a very private note"}),
    }
}

fn cancelled(reason: &str) -> Failure {
    Failure {
        status: 400,
        error_type: "TransactionCanceledException",
        body: json!({
            "Message": format!("Transaction cancelled, please refer cancellation reasons for specific reasons [{reason}]"),
            "CancellationReasons": [{"Code": "None"}, {"Code": reason, "Message": "a very private note"}]
        }),
    }
}

#[tokio::test]
async fn permanent_failures_are_500_without_retry_after() {
    for (failure, code) in [
        (failure(400, "ValidationException"), "ValidationException"),
        (
            failure(400, "ResourceNotFoundException"),
            "ResourceNotFoundException",
        ),
        (
            failure(400, "AccessDeniedException"),
            "AccessDeniedException",
        ),
        (cancelled("ValidationError"), "TransactionCanceledException"),
    ] {
        let (got, logs, _) = append_against(failure).await;
        assert_error(&got, StatusCode::INTERNAL_SERVER_ERROR, "store_error");
        assert!(got.2.get("retry-after").is_none(), "{code}: no Retry-After");
        assert_eq!(got.1.get("retry_after_seconds"), None, "{code}");
        assert!(
            logs.contains(code),
            "the log names DynamoDB's code {code}: {logs}"
        );
        assert!(logs.contains("kind=\"rejected\""), "{logs}");
    }
}

#[tokio::test]
async fn failures_a_retry_can_cure_are_503_with_retry_after() {
    for (failure, code) in [
        (failure(400, "ThrottlingException"), "throttled"),
        (
            failure(400, "ProvisionedThroughputExceededException"),
            "throttled",
        ),
        (failure(500, "InternalServerError"), "store_unreachable"),
        (failure(503, "ServiceUnavailable"), "store_unreachable"),
        (cancelled("ThrottlingError"), "throttled"),
    ] {
        let (got, _, _) = append_against(failure).await;
        assert_error(&got, StatusCode::SERVICE_UNAVAILABLE, code);
        assert_eq!(got.2["retry-after"], "1");
        assert_eq!(got.1["retry_after_seconds"], 1);
    }
}

#[tokio::test]
async fn a_transaction_conflict_is_retried_then_503() {
    let (got, logs, transactions) = append_against(cancelled("TransactionConflict")).await;
    assert_error(
        &got,
        StatusCode::SERVICE_UNAVAILABLE,
        "transaction_conflict",
    );
    assert_eq!(got.2["retry-after"], "1");
    assert_eq!(
        transactions,
        hitpoints::store::TRANSACTION_CONFLICT_ATTEMPTS as usize,
        "tried again within the request, a bounded number of times"
    );
    assert!(logs.contains("kind=\"contended\""), "{logs}");
}

#[tokio::test]
async fn a_stored_item_that_does_not_decode_is_500() {
    let db = test_db().await;
    let table = db.events_table().await;
    let stream = Uuid::new_v4();
    // An item with the events table's keys and no CharacterHitPoints.
    db.client
        .put_item()
        .table_name(&table)
        .item("Id", AttributeValue::S(stream.to_string()))
        .item("Version", AttributeValue::N("0".into()))
        .item("CharacterName", AttributeValue::S("Nuru".into()))
        .item("Note", AttributeValue::S("broken".into()))
        .send()
        .await
        .expect("put");
    let router = Api::new(EventStore::new(db.client.clone(), &table)).router(Function::All);
    for uri in [
        format!("/characters/{stream}?consistent=true"),
        format!("/characters/{stream}/events"),
    ] {
        let got = call(&router, Method::GET, &uri, None).await;
        assert_error(&got, StatusCode::INTERNAL_SERVER_ERROR, "corrupt_item");
        assert!(got.2.get("retry-after").is_none());
    }
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

/// JSON numbers and nulls, exactly as the README documents them.
#[tokio::test]
async fn the_json_contract_for_numbers_and_nulls() {
    let t = test_api(Function::All).await;
    let stream = t.seed_sample().await;
    let uri = format!("/characters/{stream}/events");
    let append =
        |hp: Value| json!({"events": [{"character_name": "Nuru", "hp_change": hp, "note": "n"}]});
    // Out of i32 is 422 whatever the magnitude.
    for hp in [
        json!(2_147_483_648_i64),
        json!(9_223_372_036_854_775_807_i64),
        json!(9_223_372_036_854_775_808_u64),
        json!(u64::MAX),
        json!(1e30),
        json!(-1e30),
    ] {
        let got = t.send(Method::POST, &uri, Some(append(hp.clone()))).await;
        assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "invalid_event");
    }
    // Whole numbers however written are read; fractions and strings are not numbers of HP.
    for (raw, hp) in [("-0", 0), ("5.0", 5), ("-2e1", -20)] {
        let body = format!(
            r#"{{"events": [{{"character_name": "Nuru", "hp_change": {raw}, "note": "n"}}]}}"#
        );
        let (status, answer, _) = t.send_raw(Method::POST, &uri, &body).await;
        assert_eq!(status, StatusCode::CREATED, "{raw}: {answer}");
        assert_eq!(answer["events"][0]["hp_change"], hp, "{raw}");
    }
    for hp in [json!(1.5), json!("5"), Value::Null] {
        let got = t.send(Method::POST, &uri, Some(append(hp.clone()))).await;
        assert_error(&got, StatusCode::BAD_REQUEST, "invalid_body");
    }
    // An explicit null expected_version or event_id means absent: any, and a fresh id.
    let (status, body, _) = t
        .send(
            Method::POST,
            &uri,
            Some(json!({"expected_version": null, "events": [
                {"character_name": "Nuru", "hp_change": 1, "note": "n", "event_id": null}]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body["events"][0]["event_id"].is_string());
}

/// A 409 says what kind of conflict it is, in fields of its own.
#[tokio::test]
async fn a_conflict_says_whether_ids_were_reused_or_partly_replayed() {
    let t = test_api(Function::All).await;
    let (_, created, _) = t
        .send(Method::POST, "/characters", Some(hit(8, "Init")))
        .await;
    let id = created["id"].as_str().expect("id");
    let uri = format!("/characters/{id}/events");
    let a =
        json!({"character_name": "Nuru", "hp_change": -1, "note": "a", "event_id": Uuid::new_v4()});
    let b =
        json!({"character_name": "Nuru", "hp_change": -2, "note": "b", "event_id": Uuid::new_v4()});
    let (status, _, _) = t
        .send(
            Method::POST,
            &uri,
            Some(json!({"expected_version": 0, "events": [a, b]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let mut b_changed = b.clone();
    b_changed["hp_change"] = json!(-20);
    let got = t
        .send(
            Method::POST,
            &uri,
            Some(json!({"expected_version": 0, "events": [a, b_changed]})),
        )
        .await;
    assert_error(&got, StatusCode::CONFLICT, "version_conflict");
    assert_eq!(
        (
            got.1["event_ids_reused"].clone(),
            got.1["partial_replay"].clone()
        ),
        (json!(true), json!(false))
    );
    let fresh =
        json!({"character_name": "Nuru", "hp_change": -3, "note": "c", "event_id": Uuid::new_v4()});
    let got = t
        .send(
            Method::POST,
            &uri,
            Some(json!({"expected_version": 0, "events": [a, fresh]})),
        )
        .await;
    assert_error(&got, StatusCode::CONFLICT, "version_conflict");
    assert_eq!(
        (
            got.1["event_ids_reused"].clone(),
            got.1["partial_replay"].clone()
        ),
        (json!(false), json!(true))
    );
    assert_eq!(got.1["current_version"], 2);
    assert_eq!(got.1["expected_version"], 0);
}
