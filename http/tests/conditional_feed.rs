//! The feed read conditionally: an answer's `ETag` names the campaign's feed head it was read
//! at, and the same read with `If-None-Match` naming it is a 304 with no body while nothing is
//! added; how an open screen learns of new events without holding a request (or a Lambda).

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use hitpoints::metrics::{Metric, Metrics};
use hitpoints_http::{Api, Function};
use hitpoints_testkit::{call, call_with_headers, index_stream, test_db};
use serde_json::{json, Value};
use uuid::Uuid;

#[tokio::test]
async fn a_conditional_read_is_304_until_the_feed_moves() {
    let db = test_db().await;
    let store = db.store().await;
    let feed = db.feed().await;
    let metrics = Metrics::new();
    let router = Api::new(store.clone())
        .with_feed(feed.clone())
        .with_campaigns(db.campaigns().await)
        .with_metrics(metrics.clone())
        .router(Function::All);
    let (status, campaign, _) = call(
        &router,
        Method::POST,
        "/campaigns",
        Some(json!({"name": "Tuesday", "dm_name": "Ana"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let campaign = campaign["id"].as_str().expect("an id").to_owned();
    let create = |name: &str| json!({"character_name": name, "hp_change": 8, "note": "Init", "campaign_id": campaign});
    let (_, nuru, _) = call(&router, Method::POST, "/characters", Some(create("Nuru"))).await;
    let nuru: Uuid = nuru["id"].as_str().expect("an id").parse().expect("uuid");
    index_stream(&store, &feed, nuru).await;

    let path = format!("/campaigns/{campaign}/events");
    let (status, page, headers) = call_with_headers(&router, &path, &[]).await;
    assert_eq!(status, StatusCode::OK);
    let tag = headers["etag"].to_str().expect("ascii").to_owned();
    assert_eq!(tag, format!("\"{}\"", page["next"].as_str().expect("next")));
    // Nothing new: 304, no body, the same tag; also for a list, a weak tag and `*`.
    let next = format!("{path}?after={}", page["next"].as_str().expect("next"));
    for condition in [tag.clone(), format!("\"x\", W/{tag}"), "*".to_owned()] {
        let (status, body, headers) =
            call_with_headers(&router, &next, &[("if-none-match", &condition)]).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED, "{condition}");
        assert_eq!(body, Value::Null);
        assert_eq!(headers["etag"].to_str().expect("ascii"), tag);
    }
    // Another tag: the page.
    let (status, _, _) = call_with_headers(&router, &next, &[("if-none-match", "\"0\"")]).await;
    assert_eq!(status, StatusCode::OK);
    // With a wait and nothing new: 304 after the wait.
    let started = Instant::now();
    let (status, _, _) = call_with_headers(
        &router,
        &format!("{next}&wait=1"),
        &[("if-none-match", &tag)],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(started.elapsed() >= Duration::from_millis(900));

    // An event: the same conditional read answers it, with the new head's tag.
    let appended =
        json!({"events": [{"character_name": "Nuru", "hp_change": -2, "note": "Arrow"}]});
    let (status, _, _) = call(
        &router,
        Method::POST,
        &format!("/characters/{nuru}/events"),
        Some(appended),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    index_stream(&store, &feed, nuru).await;
    let (status, page, headers) =
        call_with_headers(&router, &next, &[("if-none-match", &tag)]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["events"].as_array().map(Vec::len), Some(1), "{page}");
    assert_ne!(headers["etag"].to_str().expect("ascii"), tag);
    assert_eq!(headers["cache-control"], "no-store");

    // A page cut short by its limit reaches no head: no tag, and a conditional read after it
    // still answers what follows.
    let (_, first, headers) = call_with_headers(
        &router,
        &format!("{path}?limit=1"),
        &[("if-none-match", "*")],
    )
    .await;
    assert_eq!(first["events"].as_array().map(Vec::len), Some(1));
    assert!(
        headers.get("etag").is_none(),
        "a partial page is not tagged"
    );
    let rest = format!("{path}?after={}", first["next"].as_str().expect("next"));
    let (status, page, _) = call_with_headers(&router, &rest, &[("if-none-match", "*")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["events"].as_array().map(Vec::len), Some(1), "{page}");
    // A position past the head is refused, whatever the condition (a 400 is not a 2xx it
    // could stand for).
    let (status, body, _) = call_with_headers(
        &router,
        &format!("{path}?after=99"),
        &[("if-none-match", "*")],
    )
    .await;
    assert_eq!(
        (status, body["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_position"))
    );
    // A backward page has no tag and ignores the condition.
    let (status, _, headers) = call_with_headers(
        &router,
        &format!("{path}?direction=backward"),
        &[("if-none-match", "*")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers.get("etag").is_none());
    assert_eq!(metrics.value("api", Metric::FeedNotModified), 0.0);
    assert_eq!(metrics.value("query", Metric::FeedNotModified), 4.0);
    assert_eq!(metrics.value("query", Metric::FeedWaits), 1.0);
}

/// Where a waiting read holds a Lambda, the function waits at most its own bound: a longer
/// `wait` is answered as one that ran out (the same empty page), sooner.
#[tokio::test]
async fn a_wait_past_the_functions_bound_is_answered_at_the_bound() {
    let db = test_db().await;
    let store = db.store().await;
    let feed = db.feed().await;
    let router = Api::new(store.clone())
        .with_feed(feed.clone())
        .with_max_wait(1)
        .router(Function::All);
    let (_, body, _) = call(
        &router,
        Method::POST,
        "/characters",
        Some(json!({"character_name": "Nuru", "hp_change": 8, "note": "Init"})),
    )
    .await;
    let nuru: Uuid = body["id"].as_str().expect("an id").parse().expect("uuid");
    index_stream(&store, &feed, nuru).await;
    let (_, page, _) = call_with_headers(&router, "/events", &[]).await;
    let next = page["next"].as_str().expect("next").to_owned();
    let started = Instant::now();
    let (status, page, _) =
        call_with_headers(&router, &format!("/events?after={next}&wait=10"), &[]).await;
    let took = started.elapsed();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["events"], json!([]));
    assert_eq!(page["next"], json!(next));
    assert!(took >= Duration::from_millis(900), "it waited: {took:?}");
    assert!(took < Duration::from_secs(5), "at most the bound: {took:?}");
}
