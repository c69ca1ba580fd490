//! What the API tests share: the API on a fresh events table, a character's change, and the
//! check of an error answer. Each file in `tests/` is a crate of its own that declares
//! `mod common;`; one that uses only part of it allows the rest to go unused there.

use axum::http::{Method, StatusCode};
use hitpoints::store::EventStore;
use hitpoints::ExpectedVersion;
use hitpoints_http::{Api, Function, Router};
use hitpoints_testkit::{call, sample_events, test_db, Answer, TestDb, SAMPLE_ID};
use serde_json::{json, Value};
use uuid::Uuid;

/// A router and the store behind it, on a table of its own.
pub(crate) struct TestApi {
    pub(crate) router: Router,
    pub(crate) store: EventStore,
    pub(crate) _db: TestDb,
}

/// The routes of `function` on a fresh events table.
pub(crate) async fn test_api(function: Function) -> TestApi {
    let db = test_db().await;
    let store = db.store().await;
    TestApi {
        router: Api::new(store.clone()).router(function),
        store,
        _db: db,
    }
}

impl TestApi {
    /// Sends `body` as JSON (none: an empty body).
    pub(crate) async fn send(&self, method: Method, uri: &str, body: Option<Value>) -> Answer {
        call(&self.router, method, uri, body).await
    }

    /// Stores the source material's sample stream (HP 3 at version 2); its id.
    pub(crate) async fn seed_sample(&self) -> Uuid {
        let stream = Uuid::parse_str(SAMPLE_ID).expect("uuid");
        self.store
            .append(stream, ExpectedVersion::NoStream, sample_events())
            .await
            .expect("seed the sample character");
        stream
    }
}

/// `got` is an error of `status` with `code`, and a message that says what is wrong.
#[track_caller]
pub(crate) fn assert_error(got: &Answer, status: StatusCode, code: &str) {
    assert_error_of("body", got, status, code);
}

/// The same, naming `case` (a table's row) when it fails.
#[track_caller]
pub(crate) fn assert_error_of(case: &str, got: &Answer, status: StatusCode, code: &str) {
    assert_eq!(got.0, status, "{case}: {}", got.1);
    assert_eq!(got.1["error"], code, "{case}: {}", got.1);
    assert!(
        got.1["message"].as_str().is_some_and(|m| m.len() > 10),
        "{case}: a message that says what is wrong: {}",
        got.1
    );
}

/// One change to Nuru's HP, as a client sends it.
pub(crate) fn hit(hp: i64, note: &str) -> Value {
    json!({"character_name": "Nuru", "hp_change": hp, "note": note})
}
