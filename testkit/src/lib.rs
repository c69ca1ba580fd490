//! What every hitpoints test uses, in one place: a DynamoDB-API server per test (dynoxide
//! in-process, or the server named by `HITPOINTS_TEST_DYNAMODB_ENDPOINT`, DynamoDB Local in CI,
//! with a fresh table per test), a client that reaches nothing, builders of events and of
//! Lambda-shaped stream records, and calls into a router as a client or API Gateway makes them.
//!
//! Its own tests check the deployment against the code (`tests/template.rs`) and a function's
//! client configuration from its environment (`tests/config.rs`).

mod emf;

use aws_sdk_dynamodb::Client;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use hitpoints::access::Caller;
use hitpoints::campaign::CampaignStore;
use hitpoints::feed::FeedStore;
use hitpoints::hp::SnapshotStore;
use hitpoints::store::EventStore;
use hitpoints::{NewEvent, RecordedEvent};
use serde_json::{json, Value};
use tower::ServiceExt;
use uuid::Uuid;

pub use emf::{emf_documents, emf_value};
pub use local::dynamodb::local_client;

/// The character of the sample stream batch (`events/dynamodb-stream-batch.json`), and of the
/// tests that seed the source material's sample stream. (The API Gateway samples are about the
/// character `apigw-create-character.json` creates.)
pub const SAMPLE_ID: &str = "3f8d2a6c-1b4e-4c7a-9e2f-5a6b7c8d9e01";

/// A DynamoDB-API server for one test.
#[derive(Debug)]
pub struct TestDb {
    pub client: Client,
    pub endpoint: String,
    /// Most actions the server takes in one transaction (DynamoDB: 100; DynamoDB Local 1.11: 10).
    pub max_transaction_items: usize,
    pub name: &'static str,
}

/// A fresh in-memory dynoxide, or the server `HITPOINTS_TEST_DYNAMODB_ENDPOINT` names.
pub async fn test_db() -> TestDb {
    if let Ok(endpoint) = std::env::var("HITPOINTS_TEST_DYNAMODB_ENDPOINT") {
        let max_transaction_items = std::env::var("HITPOINTS_TEST_MAX_TRANSACTION_ITEMS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(100);
        let name = std::env::var("HITPOINTS_TEST_DYNAMODB_NAME")
            .unwrap_or_else(|_| "the DynamoDB endpoint".into());
        return TestDb {
            client: local_client(&endpoint),
            endpoint,
            max_transaction_items,
            name: Box::leak(name.into_boxed_str()),
        };
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a local port");
    let endpoint = format!("http://{}", listener.local_addr().expect("local address"));
    let db = dynoxide::Database::memory().expect("an in-memory dynoxide database");
    tokio::spawn(dynoxide::server::serve_on(listener, db));
    TestDb {
        client: local_client(&endpoint),
        endpoint,
        max_transaction_items: 100,
        name: "dynoxide",
    }
}

impl TestDb {
    /// A new events table with a unique name, and a store on it.
    pub async fn store(&self) -> EventStore {
        EventStore::new(self.client.clone(), self.events_table().await)
    }

    /// A new events table with a unique name, for a test that also writes items of its own.
    pub async fn events_table(&self) -> String {
        let table = format!("events-{}", Uuid::new_v4().simple());
        local::dynamodb::create_events_table(&self.client, &table, false)
            .await
            .expect("create the events table");
        table
    }

    /// A new snapshot table with a unique name, and a store on it.
    pub async fn snapshots(&self) -> SnapshotStore {
        let table = format!("snapshots-{}", Uuid::new_v4().simple());
        local::dynamodb::create_snapshots_table(&self.client, &table)
            .await
            .expect("create the snapshot table");
        SnapshotStore::new(self.client.clone(), table)
    }

    /// A new feed table with a unique name, and a store on it.
    pub async fn feed(&self) -> FeedStore {
        let table = format!("feed-{}", Uuid::new_v4().simple());
        local::dynamodb::create_feed_table(&self.client, &table)
            .await
            .expect("create the feed table");
        FeedStore::new(self.client.clone(), table)
    }

    /// A new campaigns table with a unique name, and a store on it.
    pub async fn campaigns(&self) -> CampaignStore {
        let table = format!("campaigns-{}", Uuid::new_v4().simple());
        local::dynamodb::create_campaigns_table(&self.client, &table)
            .await
            .expect("create the campaigns table");
        CampaignStore::new(self.client.clone(), table)
    }

    /// A new memberships table with a unique name, and a store on it.
    pub async fn members(&self) -> hitpoints::campaign::members::MemberStore {
        let table = format!("memberships-{}", Uuid::new_v4().simple());
        local::dynamodb::create_memberships_table(&self.client, &table)
            .await
            .expect("create the memberships table");
        hitpoints::campaign::members::MemberStore::new(self.client.clone(), table)
    }

    /// Writes an event item as the source material's code writes it: its attributes only (no
    /// `EventId`, no `RecordedAt`), at any version, unconditionally.
    pub async fn put_source_item(
        &self,
        table: &str,
        stream: Uuid,
        version: u64,
        (name, hp, note): (&str, i64, &str),
    ) {
        use aws_sdk_dynamodb::types::AttributeValue;
        self.client
            .put_item()
            .table_name(table)
            .item("Id", AttributeValue::S(stream.to_string()))
            .item("Version", AttributeValue::N(version.to_string()))
            .item("CharacterName", AttributeValue::S(name.to_owned()))
            .item("CharacterHitPoints", AttributeValue::N(hp.to_string()))
            .item("Note", AttributeValue::S(note.to_owned()))
            .send()
            .await
            .expect("put an item as the source material writes it");
    }

    /// Writes version `version` of `stream` as other code might: an item that does not decode
    /// as an event (its name is a number).
    pub async fn put_undecodable_item(&self, table: &str, stream: Uuid, version: u64) {
        use aws_sdk_dynamodb::types::AttributeValue;
        self.client
            .put_item()
            .table_name(table)
            .item("Id", AttributeValue::S(stream.to_string()))
            .item("Version", AttributeValue::N(version.to_string()))
            .item("CharacterName", AttributeValue::N("7".to_owned()))
            .item("CharacterHitPoints", AttributeValue::N("9".to_owned()))
            .item("Note", AttributeValue::S("Init".to_owned()))
            .send()
            .await
            .expect("put an item that does not decode");
    }

    /// Whether the server takes a transaction of `items` actions; says so when it does not.
    pub fn supports_transaction_of(&self, items: usize, test: &str) -> bool {
        let ok = items <= self.max_transaction_items;
        if !ok {
            println!(
                "SKIPPED {test}: it needs {items}-action transactions and {} allows {}",
                self.name, self.max_transaction_items
            );
        }
        ok
    }
}

/// A client for an endpoint where nothing listens (a port that was free a moment ago), with
/// retries off so the failure comes at once.
pub fn unreachable_client() -> Client {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    client_without_retries(&format!("http://127.0.0.1:{port}"))
}

/// A client for `endpoint` whose SDK does not retry, so each failure reaches the store at once.
pub fn client_without_retries(endpoint: &str) -> Client {
    use aws_sdk_dynamodb::config::retry::RetryConfig;
    let config = local_client(endpoint)
        .config()
        .to_builder()
        .retry_config(RetryConfig::disabled())
        .build();
    Client::from_conf(config)
}

/// A DynamoDB endpoint that fails every call the way it is told, for the paths a real server
/// cannot be made to take on demand (throttling, server errors, refusals, cancelled
/// transactions). It answers in DynamoDB's own wire format and counts the calls by operation.
#[derive(Debug, Clone)]
pub struct FailingDynamoDb {
    pub endpoint: String,
    calls: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

/// A failure as DynamoDB sends it: HTTP status, error type (`ValidationException`, …), and the
/// rest of the JSON body (DynamoDB's message, cancellation reasons).
#[derive(Debug, Clone)]
pub struct Failure {
    pub status: u16,
    pub error_type: &'static str,
    pub body: Value,
}

impl FailingDynamoDb {
    /// Starts one on a free port, answering every call with `failure`.
    pub async fn start(failure: Failure) -> FailingDynamoDb {
        let calls = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = calls.clone();
        let app = Router::new().fallback(move |request: Request<Body>| {
            let failure = failure.clone();
            let seen = seen.clone();
            async move {
                let target = request
                    .headers()
                    .get("x-amz-target")
                    .and_then(|t| t.to_str().ok())
                    .and_then(|t| t.split('.').next_back())
                    .unwrap_or("?")
                    .to_owned();
                seen.lock().expect("lock").push(target);
                let mut body = failure.body.clone();
                body["__type"] = json!(format!(
                    "com.amazonaws.dynamodb.v20120810#{}",
                    failure.error_type
                ));
                axum::response::Response::builder()
                    .status(failure.status)
                    .header("content-type", "application/x-amz-json-1.0")
                    .header("x-amzn-requestid", "FAKE-REQUEST-ID-0001")
                    .body(Body::from(body.to_string()))
                    .expect("a response")
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a local port");
        let endpoint = format!("http://{}", listener.local_addr().expect("local address"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        FailingDynamoDb { endpoint, calls }
    }

    /// How many calls of `operation` (`TransactWriteItems`, `Query`, …) it answered.
    pub fn calls_of(&self, operation: &str) -> usize {
        self.calls
            .lock()
            .expect("lock")
            .iter()
            .filter(|c| *c == operation)
            .count()
    }
}

/// An event without an id.
pub fn event(name: &str, hp_change: i64, note: &str) -> NewEvent {
    NewEvent {
        character_name: name.into(),
        hp_change,
        note: note.into(),
        event_id: None,
    }
}

/// An event with a fresh id.
pub fn event_with_id(name: &str, hp_change: i64, note: &str) -> NewEvent {
    NewEvent {
        event_id: Some(Uuid::new_v4()),
        ..event(name, hp_change, note)
    }
}

/// The source material's sample stream: Nuru, 8, -2, -3; current HP 3.
pub fn sample_events() -> Vec<NewEvent> {
    vec![
        event("Nuru", 8, "Init"),
        event("Nuru", -2, "Slashing damage from goblin"),
        event("Nuru", -3, "bludgeoning damage from bugbear"),
    ]
}

/// A DynamoDB Streams INSERT record of a stored event, in the JSON shape Lambda delivers.
pub fn insert_record(stream: Uuid, event: &RecordedEvent, sequence: usize) -> Value {
    let mut image: serde_dynamo::Item =
        serde_dynamo::to_item(hitpoints::store::item::EventItem::from_event(stream, event))
            .expect("an item");
    // Attributes the code does not know travel in the image too.
    for (name, value) in &event.other {
        image.insert(name.clone(), value.clone());
    }
    json!({
        "eventID": format!("{sequence:032x}"),
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-west-1",
        "eventSourceARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/events/stream/2026-11-27T00:00:00.000",
        "dynamodb": {
            "ApproximateCreationDateTime": 1795810504,
            "Keys": {"Id": {"S": stream.to_string()}, "Version": {"N": event.version.to_string()}},
            "NewImage": image,
            "SequenceNumber": format!("{sequence:021}"),
            "SizeBytes": 200,
            "StreamViewType": "NEW_IMAGE"
        }
    })
}

/// What a call answered: the status, the body as JSON (`Value::Null` when it is not JSON) and
/// the headers.
pub type Answer = (StatusCode, Value, HeaderMap);

/// Sends `body` (raw bytes) to `router`, as the local run's server would hand it over.
pub async fn call_raw(router: &Router, method: Method, uri: &str, body: Vec<u8>) -> Answer {
    call_raw_as(router, &operator(), method, uri, body).await
}

/// The caller of [`call`] and its kin: an operator, as the local run's caller is.
pub fn operator() -> Caller {
    Caller::Operator {
        principal: "test".to_owned(),
    }
}

/// [`call_raw`] as `caller`, as the process in front of the router established it.
pub async fn call_raw_as(
    router: &Router,
    caller: &Caller,
    method: Method,
    uri: &str,
    body: Vec<u8>,
) -> Answer {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::from(body))
        .expect("a request");
    request.extensions_mut().insert(caller.clone());
    answer(router.clone().oneshot(request).await).await
}

/// [`call`] as `caller`.
pub async fn call_as(
    router: &Router,
    caller: &Caller,
    method: Method,
    uri: &str,
    body: Option<Value>,
) -> Answer {
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    call_raw_as(router, caller, method, uri, bytes).await
}

/// A GET with request headers.
pub async fn call_with_headers(router: &Router, uri: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = Request::builder().method(Method::GET).uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut request = request.body(Body::empty()).expect("a request");
    request.extensions_mut().insert(operator());
    answer(router.clone().oneshot(request).await).await
}

/// Sends `body` as JSON (none: an empty body) to `router`.
pub async fn call(router: &Router, method: Method, uri: &str, body: Option<Value>) -> Answer {
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    call_raw(router, method, uri, bytes).await
}

/// Sends an API Gateway HTTP API (payload 2.0) event to `router`, through lambda_http's own
/// conversion, as `lambda_http::run(router)` does on Lambda.
pub async fn call_lambda(router: &Router, event_json: &str) -> Answer {
    let request = lambda_http::request::from_str(event_json).expect("an API Gateway event");
    answer(router.clone().oneshot(request).await).await
}

async fn answer(response: Result<axum::response::Response, std::convert::Infallible>) -> Answer {
    let response = match response {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .expect("a whole body");
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (parts.status, json, parts.headers)
}

/// The log lines written on this thread while it lives (a `#[tokio::test]` runs its tasks on
/// its own thread): what a failure logs, to check it says enough and echoes nothing it should
/// not. One process-wide subscriber writes each thread's lines to that thread's capture, if it
/// has one (a subscriber per thread would let tracing cache a callsite as disabled while
/// another test's thread has none).
#[derive(Debug)]
pub struct Logs {
    buffer: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

type Capture = std::sync::Arc<std::sync::Mutex<Vec<u8>>>;

thread_local! {
    static CAPTURE: std::cell::RefCell<Option<Capture>> = const { std::cell::RefCell::new(None) };
}

impl Logs {
    pub fn capture() -> Logs {
        static INSTALLED: std::sync::Once = std::sync::Once::new();
        INSTALLED.call_once(|| {
            let subscriber = tracing_subscriber::fmt()
                .with_ansi(false)
                .with_writer(|| LogWriter(CAPTURE.with(|c| c.borrow().clone())))
                .finish();
            let _ = tracing::subscriber::set_global_default(subscriber);
        });
        let buffer = Capture::default();
        CAPTURE.with(|c| *c.borrow_mut() = Some(buffer.clone()));
        Logs { buffer }
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.buffer.lock().expect("lock")).into_owned()
    }
}

impl Drop for Logs {
    fn drop(&mut self) {
        CAPTURE.with(|c| *c.borrow_mut() = None);
    }
}

struct LogWriter(Option<Capture>);

impl std::io::Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if let Some(buffer) = &self.0 {
            buffer.lock().expect("lock").extend_from_slice(bytes);
        }
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The stream records of `events` of `stream`, as its stream would deliver them, with
/// sequence numbers `<tag>-<stream>-<version>`.
pub fn records(
    stream: Uuid,
    events: &[RecordedEvent],
    tag: &str,
) -> Vec<hitpoints::stream::StreamRecord> {
    use hitpoints::stream::{Change, StreamRecord};
    events
        .iter()
        .map(|event| StreamRecord {
            sequence_number: format!("{tag}-{stream}-{}", event.version),
            change: Change::Insert {
                stream,
                event: event.clone(),
            },
        })
        .collect()
}

/// Feeds `events` of `stream` to the projector as its stream would deliver them, and asserts
/// that no record failed.
pub async fn project(
    store: &EventStore,
    snapshots: &SnapshotStore,
    stream: Uuid,
    events: &[RecordedEvent],
) {
    let records = records(stream, events, "project");
    let projector = hitpoints::hp::Projector::new(store.clone(), snapshots.clone());
    let outcome = projector.project(&records).await;
    assert!(outcome.failures.is_empty(), "{outcome:?}");
}

/// [`project`] of every event the stream has.
pub async fn project_stream(store: &EventStore, snapshots: &SnapshotStore, stream: Uuid) {
    let events = store.read_all(stream).await.expect("the stream's events");
    project(store, snapshots, stream, &events).await;
}

/// Feeds every event of `stream` to the feed indexer as its stream would deliver them, and
/// asserts that no record failed.
pub async fn index_stream(store: &EventStore, feed: &FeedStore, stream: Uuid) {
    let events = store.read_all(stream).await.expect("the stream's events");
    let records = records(stream, &events, "index");
    let indexer = hitpoints::feed::Indexer::new(store.clone(), feed.clone());
    let outcome = indexer.index(&records).await;
    assert!(outcome.failures.is_empty(), "{outcome:?}");
}
