//! Requests the API refuses, each with its status and an error code that says what is wrong:
//! 400 (malformed), 422 (invalid values), 413 (too large), 404 (no such stream or route) and
//! 405 (a method the route, or the function, does not serve); and the JSON contract for
//! numbers and nulls. Most are tables, one line per request.

mod common;

use axum::http::{Method, StatusCode};
use common::{assert_error, assert_error_of, hit, test_api, TestApi};
use hitpoints_http::Function;
use hitpoints_testkit::{call_raw, Answer};
use serde_json::{json, Value};
use uuid::Uuid;

impl TestApi {
    /// Sends `body` as it is (malformed JSON, numbers as written).
    async fn send_raw(&self, method: Method, uri: &str, body: &str) -> Answer {
        call_raw(&self.router, method, uri, body.as_bytes().to_vec()).await
    }

    /// Sends a request of a table: `{id}` in `uri` is `id`, `{hit}` in `body` is `hit(1, "n")`.
    async fn send_row(&self, method: &Method, uri: &str, body: &str, id: Uuid) -> (String, Answer) {
        let uri = uri.replace("{id}", &id.to_string());
        let body = body.replace("{hit}", &hit(1, "n").to_string());
        let got = self.send_raw(method.clone(), &uri, &body).await;
        let case = format!("{method} {uri} {body}").trim_end().to_owned();
        (case, got)
    }
}

/// A status as a table writes it.
fn status_code(status: u16) -> StatusCode {
    StatusCode::from_u16(status).expect("a status")
}

/// Requests refused with 400, and the error code that says why. In a path, `{id}` is the
/// seeded character; in a body (`""`: none), `{hit}` is `hit(1, "n")`. (18446744073709551615
/// is `u64::MAX`.)
#[rustfmt::skip]
const BAD_REQUESTS: &[(Method, &str, &str, &str)] = &[
    (Method::POST, "/characters/{id}/events",                    "malformed_json",           r#"{"events": ["#),
    (Method::POST, "/characters/{id}/events",                    "missing_body",             ""),
    (Method::POST, "/characters/{id}/events",                    "invalid_body",             r#"{"events": [], "extra": 1}"#),
    (Method::POST, "/characters/{id}/events",                    "invalid_body",             r#"{"events": [{"character_name": "a", "hp_change": 1.5, "note": "n"}]}"#),
    (Method::POST, "/characters/{id}/events",                    "invalid_body",             r#"{"events": [{"character_name": "a", "hp_change": 1, "note": "n", "event_id": "nope"}]}"#),
    (Method::POST, "/characters/{id}/events",                    "invalid_expected_version", r#"{"expected_version": -1, "events": [{hit}]}"#),
    (Method::POST, "/characters/{id}/events",                    "invalid_expected_version", r#"{"expected_version": "latest", "events": [{hit}]}"#),
    (Method::POST, "/characters/{id}/events",                    "invalid_expected_version", r#"{"expected_version": 18446744073709551615, "events": [{hit}]}"#),
    (Method::POST, "/characters",                                "invalid_body",             "[1, 2]"),
    (Method::GET,  "/characters/not-a-uuid",                     "invalid_id",               ""),
    (Method::GET,  "/characters/not-a-uuid/events",              "invalid_id",               ""),
    (Method::GET,  "/characters/{id}/events?direction=sideways", "invalid_direction",        ""),
    (Method::GET,  "/characters/{id}/events?limit=0",            "invalid_limit",            ""),
    (Method::GET,  "/characters/{id}/events?limit=1001",         "invalid_limit",            ""),
    (Method::GET,  "/characters/{id}/events?limit=ten",          "invalid_limit",            ""),
    (Method::GET,  "/characters/{id}/events?from_version=-1",    "invalid_from_version",     ""),
    (Method::GET,  "/characters/{id}/events?cursor=abc",         "invalid_cursor",           ""),
    (Method::GET,  "/characters/{id}/events?limit=1&limit=2",    "invalid_parameter",        ""),
    (Method::GET,  "/characters/{id}/events?page=2",             "unknown_parameter",        ""),
    (Method::GET,  "/characters/{id}?consistent=yes",            "invalid_consistent",       ""),
    (Method::POST, "/characters/{id}/events?expected_version=1", "unknown_parameter",        r#"{"events": [{hit}]}"#),
];

#[tokio::test]
async fn bad_requests_are_400_with_what_is_wrong() {
    let t = test_api(Function::All).await;
    let stream = t.seed_sample().await;
    for (method, uri, code, body) in BAD_REQUESTS {
        let (case, got) = t.send_row(method, uri, body, stream).await;
        assert_error_of(&case, &got, StatusCode::BAD_REQUEST, code);
    }
    // A cursor handed out for one stream is refused on another.
    let events = format!("/characters/{stream}/events");
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

/// A row's `events`, made when the row is run (JSON, which a constant cannot hold).
type MakeEvents = fn() -> Value;

/// Appends of well-formed JSON refused for their values (422) or their size (413): the status,
/// the error code, and the `events` of the body.
#[rustfmt::skip]
const REFUSED: &[(u16, &str, MakeEvents)] = &[
    (422, "invalid_event",   || json!([])),
    (422, "invalid_event",   || json!([{"character_name": " ", "hp_change": 1, "note": "n"}])),
    (422, "invalid_event",   || json!([{"character_name": "Nuru", "hp_change": 1, "note": ""}])),
    (422, "invalid_event",   || json!([{"character_name": "N".repeat(1001), "hp_change": 1, "note": "n"}])),
    (422, "invalid_event",   || json!([hit(i64::from(i32::MAX) + 1, "n")])),
    (422, "invalid_event",   || json!([hit(1, &"x".repeat(200_001))])),
    (413, "too_many_events", || (0..101).map(|i| hit(-1, &format!("bite {i}"))).collect()),
    // 120,000 four-byte characters: 480 KB of note, within the character limit, over 400 KB.
    (413, "event_too_large", || json!([hit(1, &"🐉".repeat(120_000))])),
    (413, "body_too_large",  || json!([hit(1, &"x".repeat(1_100_000))])),
];

#[tokio::test]
async fn invalid_values_are_422_and_size_limits_413() {
    let t = test_api(Function::All).await;
    let stream = t.seed_sample().await;
    let events = format!("/characters/{stream}/events");
    for (row, (status, code, body)) in REFUSED.iter().enumerate() {
        let got = t
            .send(Method::POST, &events, Some(json!({"events": body()})))
            .await;
        let case = format!("REFUSED[{row}]");
        assert_error_of(&case, &got, status_code(*status), code);
    }
    let (_, state, _) = t
        .send(Method::GET, &format!("/characters/{stream}"), None)
        .await;
    assert_eq!(state["version"], 2, "nothing was written");
}

/// A request (`{id}` in the path: a character's id; `{hit}` in the body: `hit(1, "n")`) and how
/// it is refused: status, error code, and the `Allow` header of a 405 (`None`: not checked).
type Refusal = (
    Method,
    &'static str,
    u16,
    &'static str,
    Option<&'static str>,
    &'static str,
);

impl TestApi {
    /// Sends each request of `table`, `{id}` being `id`, and checks how it is refused.
    async fn assert_refusals(&self, table: &[Refusal], id: Uuid) {
        for (method, uri, status, code, allow, body) in table {
            let (case, got) = self.send_row(method, uri, body, id).await;
            assert_error_of(&case, &got, status_code(*status), code);
            if let Some(allow) = allow {
                assert_eq!(got.2["allow"], *allow, "{case}");
            }
        }
    }
}

/// Streams that do not exist, routes that do not exist, and methods a route does not take.
#[rustfmt::skip]
const UNKNOWN: &[Refusal] = &[
    (Method::GET,    "/characters/{id}",        404, "stream_not_found",   None,              ""),
    (Method::GET,    "/characters/{id}/events", 404, "stream_not_found",   None,              ""),
    (Method::GET,    "/index.html",             404, "route_not_found",    None,              ""),
    // The screen's page takes GET only.
    (Method::POST,   "/",                       405, "method_not_allowed", Some("GET"),       ""),
    (Method::GET,    "/players",                404, "route_not_found",    None,              ""),
    (Method::GET,    "/characters/x/events/0",  404, "route_not_found",    None,              ""),
    (Method::GET,    "/characters//events",     404, "route_not_found",    None,              ""),
    (Method::DELETE, "/characters/{id}",        405, "method_not_allowed", Some("GET"),       ""),
    (Method::PUT,    "/characters/{id}/events", 405, "method_not_allowed", Some("POST, GET"), ""),
    (Method::DELETE, "/characters",             405, "method_not_allowed", Some("POST, GET"), ""),
];

#[tokio::test]
async fn unknown_streams_and_routes_are_404_and_wrong_methods_405() {
    let t = test_api(Function::All).await;
    t.assert_refusals(UNKNOWN, Uuid::new_v4()).await;
}

/// What the append function refuses: it serves the POST routes only.
#[rustfmt::skip]
const NOT_APPEND: &[Refusal] = &[
    (Method::GET, "/characters/{id}",        404, "route_not_found",    None,         ""),
    (Method::GET, "/characters/{id}/events", 405, "method_not_allowed", Some("POST"), ""),
    (Method::GET, "/characters",             405, "method_not_allowed", Some("POST"), ""),
];

/// What the query function refuses: it serves the GET routes only.
#[rustfmt::skip]
const NOT_QUERY: &[Refusal] = &[
    (Method::POST, "/characters",             405, "method_not_allowed", Some("GET"), "{hit}"),
    (Method::POST, "/characters/{id}/events", 405, "method_not_allowed", Some("GET"), ""),
];

#[tokio::test]
async fn each_function_serves_only_its_routes() {
    let id = Uuid::new_v4();
    let append = test_api(Function::Append).await;
    append.assert_refusals(NOT_APPEND, id).await;
    let (status, _, _) = append
        .send(Method::POST, "/characters", Some(hit(1, "n")))
        .await;
    assert_eq!(status, StatusCode::CREATED);

    let query = test_api(Function::Query).await;
    query.assert_refusals(NOT_QUERY, id).await;
}

/// What an append comes to: `Ok`, stored with this `hp_change`; `Err`, refused with this
/// status and error code.
type Outcome = Result<i64, (u16, &'static str)>;

/// `hp_change` as a client writes it in the JSON, and what the API makes of it: out of i32 is
/// 422 whatever the magnitude; whole numbers however written are read; fractions, strings and
/// null are not numbers of HP (400). (The numbers out of i32 are as serde_json writes them.)
#[rustfmt::skip]
const HP_CHANGES: &[(&str, Outcome)] = &[
    ("2147483648",           Err((422, "invalid_event"))),
    ("9223372036854775807",  Err((422, "invalid_event"))),
    ("9223372036854775808",  Err((422, "invalid_event"))),
    ("18446744073709551615", Err((422, "invalid_event"))),
    ("1e+30",                Err((422, "invalid_event"))),
    ("-1e+30",               Err((422, "invalid_event"))),
    ("-0",                   Ok(0)),
    ("5.0",                  Ok(5)),
    ("-2e1",                 Ok(-20)),
    ("1.5",                  Err((400, "invalid_body"))),
    (r#""5""#,               Err((400, "invalid_body"))),
    ("null",                 Err((400, "invalid_body"))),
];

/// JSON numbers and nulls, exactly as the README documents them.
#[tokio::test]
async fn the_json_contract_for_numbers_and_nulls() {
    let t = test_api(Function::All).await;
    let stream = t.seed_sample().await;
    let uri = format!("/characters/{stream}/events");
    for (raw, expected) in HP_CHANGES {
        let body = format!(
            r#"{{"events": [{{"character_name": "Nuru", "hp_change": {raw}, "note": "n"}}]}}"#
        );
        let got = t.send_raw(Method::POST, &uri, &body).await;
        match expected {
            Ok(hp) => {
                assert_eq!(got.0, StatusCode::CREATED, "{raw}: {}", got.1);
                assert_eq!(got.1["events"][0]["hp_change"], *hp, "{raw}");
            }
            Err((status, code)) => assert_error_of(raw, &got, status_code(*status), code),
        }
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
