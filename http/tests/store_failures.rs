//! The API when its store fails, against a DynamoDB that answers every call with the failure
//! a test names (or none that answers at all): 500 for what a retry cannot cure, 503 with
//! `Retry-After` for what it can, what is logged (and what is not), and a stored item that
//! does not decode.

// This file uses only the checks of an error answer from the shared helpers.
#[allow(dead_code)]
mod common;

use aws_sdk_dynamodb::types::AttributeValue;
use axum::http::{Method, StatusCode};
use common::{assert_error, assert_error_of};
use hitpoints::store::EventStore;
use hitpoints_http::{Api, Function};
use hitpoints_testkit::{
    call, client_without_retries, test_db, Answer, FailingDynamoDb, Failure, Logs,
};
use serde_json::json;
use uuid::Uuid;

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

/// An append to a DynamoDB that fails as `failure`: what the API answers, and what it logged.
async fn append_against(failure: Failure) -> (Answer, String, usize) {
    let logs = Logs::capture();
    let dynamodb = FailingDynamoDb::start(failure).await;
    let client = client_without_retries(&dynamodb.endpoint);
    let router = Api::new(EventStore::new(client, "events")).router(Function::All);
    let stream = Uuid::new_v4();
    // no_stream: straight to the transaction (any other expectation reads the stream first).
    let body = json!({"expected_version": "no_stream", "events": [
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

/// A row's failure, made when the row is run (a `Failure` holds JSON, which a constant cannot).
type MakeFailure = fn() -> Failure;

/// What DynamoDB refuses for good, and its code, which the log names.
#[rustfmt::skip]
const PERMANENT: &[(MakeFailure, &str)] = &[
    (|| failure(400, "ValidationException"),       "ValidationException"),
    (|| failure(400, "ResourceNotFoundException"), "ResourceNotFoundException"),
    (|| failure(400, "AccessDeniedException"),     "AccessDeniedException"),
    (|| cancelled("ValidationError"),              "TransactionCanceledException"),
];

#[tokio::test]
async fn permanent_failures_are_500_without_retry_after() {
    for (failure, code) in PERMANENT {
        let (got, logs, _) = append_against(failure()).await;
        assert_error_of(code, &got, StatusCode::INTERNAL_SERVER_ERROR, "store_error");
        assert!(got.2.get("retry-after").is_none(), "{code}: no Retry-After");
        assert_eq!(got.1.get("retry_after_seconds"), None, "{code}");
        assert!(
            logs.contains(code),
            "the log names DynamoDB's code {code}: {logs}"
        );
        assert!(logs.contains("kind=\"rejected\""), "{code}: {logs}");
    }
}

/// What a retry can cure, and the error code the API answers with.
#[rustfmt::skip]
const CURABLE: &[(MakeFailure, &str)] = &[
    (|| failure(400, "ThrottlingException"),                    "throttled"),
    (|| failure(400, "ProvisionedThroughputExceededException"), "throttled"),
    (|| failure(500, "InternalServerError"),                    "store_unreachable"),
    (|| failure(503, "ServiceUnavailable"),                     "store_unreachable"),
    (|| cancelled("ThrottlingError"),                           "throttled"),
];

#[tokio::test]
async fn failures_a_retry_can_cure_are_503_with_retry_after() {
    for (failure, code) in CURABLE {
        let failure = failure();
        let case = format!("{} {}", failure.status, failure.error_type);
        let (got, _, _) = append_against(failure).await;
        assert_error_of(&case, &got, StatusCode::SERVICE_UNAVAILABLE, code);
        assert_eq!(got.2["retry-after"], "1", "{case}");
        assert_eq!(got.1["retry_after_seconds"], 1, "{case}");
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
