//! The contract as a document: `openapi.json` is what the code generates, covers the route
//! table, is served as it is, and agrees with the server on how numbers and ids are read.
//!
//! After a change to the contract: `HITPOINTS_BLESS=1 cargo test -p hitpoints-http --test
//! contract` rewrites `openapi.json`; review the diff.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use hitpoints_http::{openapi, Api, ErrorCode, Function, ROUTES};
use hitpoints_testkit::{call, call_raw, test_db};
use serde_json::{json, Value};

fn checked_in_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi.json")
}

#[test]
fn the_checked_in_document_is_what_the_code_generates() {
    let generated = openapi::to_json();
    let path = checked_in_path();
    if std::env::var_os("HITPOINTS_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("write openapi.json");
    }
    let checked_in = std::fs::read_to_string(&path).expect("read openapi.json");
    assert!(
        checked_in == generated,
        "openapi.json is stale: the code now generates another contract. Rewrite it with \
         `HITPOINTS_BLESS=1 cargo test -p hitpoints-http --test contract` and review the diff"
    );
}

fn document() -> Value {
    serde_json::from_str(&openapi::to_json()).expect("the document is JSON")
}

/// A new character's id: Nuru, at HP 8, version 0.
async fn create(router: &hitpoints_http::Router) -> String {
    let (status, created, _) = call(
        router,
        Method::POST,
        "/characters",
        Some(json!({"character_name": "Nuru", "hp_change": 8, "note": "Init"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["id"].as_str().expect("id").to_owned()
}

/// `value`, or what it refers to when it is a `$ref` within the document.
#[track_caller]
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str() {
        Some(reference) => {
            let target = doc
                .pointer(reference.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("{reference} is not in the document"));
            resolve(doc, target)
        }
        None => value,
    }
}

#[test]
fn every_route_of_the_table_is_an_operation_with_its_statuses() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    let mut operations = 0;
    for route in &ROUTES {
        let method = route.method.as_str().to_lowercase();
        let op = &paths[route.path][&method];
        assert!(
            op.is_object(),
            "{} {} is not in the document",
            route.method,
            route.path
        );
        operations += 1;
        let responses = op["responses"].as_object().expect("responses");
        for status in ["400", "408", "413", "414", "431", "503"] {
            assert!(
                responses.contains_key(status),
                "{} {} lacks {status}",
                route.method,
                route.path
            );
        }
        assert!(
            responses.keys().any(|s| s.starts_with('2')),
            "{} {} has no success",
            route.method,
            route.path
        );
    }
    let documented: usize = paths
        .values()
        .map(|item| item.as_object().map_or(0, |m| m.len()))
        .sum();
    assert_eq!(documented, operations, "operations not in the route table");
}

#[test]
fn every_error_code_but_405_is_documented_on_some_operation_under_its_status() {
    let doc = document();
    let mut seen = BTreeSet::new();
    for item in doc["paths"].as_object().expect("paths").values() {
        for op in item.as_object().expect("path item").values() {
            for (status, response) in op["responses"].as_object().expect("responses") {
                let response = resolve(&doc, response);
                let Some(examples) =
                    response["content"]["application/json"]["examples"].as_object()
                else {
                    continue;
                };
                for example in examples.values() {
                    let example = resolve(&doc, example);
                    let code = example["value"]["error"].as_str().expect("code").to_owned();
                    let parsed: ErrorCode = serde_json::from_value(json!(code)).expect("a code");
                    assert_eq!(parsed.status().as_str(), status, "{code}");
                    seen.insert(code);
                }
            }
        }
    }
    let all = doc["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .expect("the ErrorCode enum");
    for code in all {
        let code = code.as_str().expect("code");
        if code != "method_not_allowed" {
            assert!(
                seen.contains(code),
                "{code} has no example on any operation"
            );
        }
    }
}

#[test]
fn a_create_links_to_the_routes_that_take_its_id() {
    let doc = document();
    for (create, prefix) in [
        ("/characters", "/characters/{id}"),
        ("/campaigns", "/campaigns/{id}"),
    ] {
        let links = &doc["paths"][create]["post"]["responses"]["201"]["links"];
        let ids: BTreeSet<&str> = links
            .as_object()
            .expect("links")
            .values()
            .map(|l| {
                assert_eq!(l["parameters"]["id"], "$response.body#/id");
                l["operationId"].as_str().expect("operationId")
            })
            .collect();
        // Every operation on the created thing's path.
        let on_it: BTreeSet<&str> = doc["paths"]
            .as_object()
            .expect("paths")
            .iter()
            .filter(|(path, _)| path.starts_with(prefix))
            .flat_map(|(_, item)| item.as_object().expect("operations").values())
            .filter_map(|o| o["operationId"].as_str())
            .collect();
        assert_eq!(ids, on_it, "{create}");
    }
}

#[tokio::test]
async fn the_document_is_served_as_checked_in_by_query_and_the_local_run() {
    let db = test_db().await;
    for function in [Function::Query, Function::All] {
        let router = Api::new(db.store().await)
            .with_document(openapi::OPENAPI_JSON)
            .router(function);
        let (status, body, headers) = call(&router, Method::GET, "/openapi.json", None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers["content-type"], "application/json");
        assert_eq!(body, document());
    }
    let append = Api::new(db.store().await).router(Function::Append);
    let (status, _, _) = call(&append, Method::GET, "/openapi.json", None).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "the append function serves POSTs only"
    );
}

/// What the server writes in an error body is what the document's `ErrorBody` names, and the
/// 409 and 503 responses require the fields they always carry.
#[tokio::test]
async fn error_bodies_are_what_the_document_describes() {
    let doc = document();
    let schema = &doc["components"]["schemas"]["ErrorBody"];
    let db = test_db().await;
    let router = Api::new(db.store().await).router(Function::All);
    let uri = format!("/characters/{}/events", create(&router).await);
    let (status, conflict, _) = call(
        &router,
        Method::POST,
        &uri,
        Some(json!({"expected_version": 5, "events": [
            {"character_name": "Nuru", "hp_change": 1, "note": "n"}]})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let unreachable = Api::new(hitpoints::store::EventStore::new(
        hitpoints_testkit::unreachable_client(),
        "events",
    ))
    .router(Function::All);
    let (status, busy, _) = call(&unreachable, Method::GET, &uri, None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    for (status, body) in [("409", conflict), ("503", busy)] {
        for field in body.as_object().expect("an object").keys() {
            assert!(
                schema["properties"].get(field).is_some(),
                "{status}: {field} is not in ErrorBody"
            );
        }
        let response = resolve(
            &doc,
            &doc["paths"]["/characters/{id}/events"]["post"]["responses"][status],
        );
        let narrowed = &response["content"]["application/json"]["schema"]["allOf"][1];
        for field in narrowed["required"].as_array().expect("required") {
            let field = field.as_str().expect("a name");
            assert!(body.get(field).is_some(), "{status} lacks {field}: {body}");
        }
    }
}

/// An unknown field of a body is `invalid_body`, whatever its name (also a parameter's).
#[tokio::test]
async fn an_unknown_body_field_is_invalid_body_whatever_its_name() {
    let db = test_db().await;
    let router = Api::new(db.store().await).router(Function::All);
    for field in ["limit", "expected_version", "cursor", "colour"] {
        let (status, body, _) = call(
            &router,
            Method::POST,
            "/characters",
            Some(json!({"character_name": "N", "hp_change": 1, "note": "n", field: 1})),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}: {body}");
        assert_eq!(body["error"], "invalid_body", "{field}");
    }
}

/// Integer fields of a body take any whole JSON number, as JSON Schema's `integer` does.
#[tokio::test]
async fn body_integers_are_any_whole_json_number() {
    let db = test_db().await;
    let router = Api::new(db.store().await).router(Function::All);
    let uri = format!("/characters/{}/events", create(&router).await);
    let event = r#"[{"character_name": "Nuru", "hp_change": -1.0, "note": "n"}]"#;
    // The stream is at 0, then 1, then 2: each form names the version it is at.
    for (raw, at) in [("0.0", 0), ("1e0", 1), ("2", 2)] {
        let body = format!(r#"{{"expected_version": {raw}, "events": {event}}}"#);
        let (status, answer, _) = call_raw(&router, Method::POST, &uri, body.into_bytes()).await;
        assert_eq!(status, StatusCode::CREATED, "{raw}: {answer}");
        assert_eq!(answer["events"][0]["version"], at + 1, "{raw}");
    }
    // -0 is 0: a conflict at version 3, not a refusal.
    let body = format!(r#"{{"expected_version": -0, "events": {event}}}"#);
    let (status, answer, _) = call_raw(&router, Method::POST, &uri, body.into_bytes()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["current_version"], 3);
    // 437.0 is 437, out of the stream's reach: a conflict too.
    let body = format!(r#"{{"expected_version": 437.0, "events": {event}}}"#);
    let (status, answer, _) = call_raw(&router, Method::POST, &uri, body.into_bytes()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["expected_version"], 437);
    for raw in ["1.5", "-1", "-1.0", "\"1\"", "1e300", "9223372036854775808"] {
        let body = format!(r#"{{"expected_version": {raw}, "events": {event}}}"#);
        let (status, answer, _) = call_raw(&router, Method::POST, &uri, body.into_bytes()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{raw}: {answer}");
        assert_eq!(answer["error"], "invalid_expected_version", "{raw}");
    }
}

/// Integer query parameters take digits only.
#[tokio::test]
async fn query_integers_are_digits_only() {
    let db = test_db().await;
    let router = Api::new(db.store().await)
        .with_snapshots(db.snapshots().await)
        .with_feed(db.feed().await)
        .router(Function::All);
    let id = create(&router).await;
    let cases = [
        (format!("/characters/{id}/events?limit="), "invalid_limit"),
        (
            format!("/characters/{id}/events?limit=%2B5"),
            "invalid_limit",
        ),
        (
            format!("/characters/{id}/events?limit=5.0"),
            "invalid_limit",
        ),
        (
            format!("/characters/{id}/events?limit=%205"),
            "invalid_limit",
        ),
        (
            format!("/characters/{id}/events?from_version=%2B0"),
            "invalid_from_version",
        ),
        (
            format!("/characters/{id}/events?from_version=9223372036854775808"),
            "invalid_from_version",
        ),
        (
            format!("/characters/{id}?at_version=0.0"),
            "invalid_at_version",
        ),
        (
            format!("/characters/{id}?at_version=-0"),
            "invalid_at_version",
        ),
        ("/characters?limit=1e1".to_owned(), "invalid_limit"),
        ("/events?wait=%2B1".to_owned(), "invalid_wait"),
        (
            "/events?limit=99999999999999999999999".to_owned(),
            "invalid_limit",
        ),
    ];
    for (uri, code) in cases {
        let (status, body, _) = call(&router, Method::GET, &uri, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_eq!(body["error"], code, "{uri}");
    }
    for uri in [
        format!("/characters/{id}/events?limit=005&from_version=0"),
        format!("/characters/{id}?at_version=00"),
        "/events?wait=0&limit=1000".to_owned(),
    ] {
        let (status, body, _) = call(&router, Method::GET, &uri, None).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {body}");
    }
}

/// Ids are uuids in the hyphenated form the document's `uuid` format names, in paths and bodies.
#[tokio::test]
async fn ids_are_hyphenated_uuids_only() {
    let db = test_db().await;
    let router = Api::new(db.store().await).router(Function::All);
    for form in [
        "eb3cefea4c1453d192ecd92459133c76",
        "{eb3cefea-4c14-53d1-92ec-d92459133c76}",
        "urn:uuid:eb3cefea-4c14-53d1-92ec-d92459133c76",
    ] {
        let uri = format!("/characters/{form}/events");
        let (status, body, _) = call(&router, Method::GET, &uri, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_eq!(body["error"], "invalid_id");
        let (status, body, _) = call(
            &router,
            Method::POST,
            "/characters",
            Some(json!({"character_name": "N", "hp_change": 1, "note": "n", "event_id": form})),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{form}: {body}");
        assert_eq!(body["error"], "invalid_body");
    }
    let (status, body, _) = call(
        &router,
        Method::GET,
        "/characters/EB3CEFEA-4C14-53D1-92EC-D92459133C76/events",
        None,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "upper case is a uuid too: {body}"
    );
}
