//! How an open screen learns of new events, and what it costs per screen-hour: conditional
//! polling (a GET of the feed after the last position every second, with the last answer's
//! ETag: a 304 from one read of the head while nothing is new) against the long poll the screen
//! used before (`wait=10`, the head read every 200 ms as on Lambda).
//!
//! The local run takes the appends (through its HTTP API) and indexes them; the screens read
//! through the query function's router in-process, on a client that asks DynamoDB (dynoxide)
//! for every call's `ConsumedCapacity`. Each request's time in the router is what Lambda would
//! bill (rounded up to the millisecond); each request is one Lambda invocation and one HTTP API
//! request. Prints the delay from an append's answer to each screen showing it (median, p99),
//! and per screen-hour the requests, billed milliseconds, read units and their price
//! (us-east-1, 2025: Lambda arm64 0.0000133334 USD per GB-second at the query function's
//! 256 MB and 0.20 USD per million requests; HTTP API 1.00 USD per million requests; DynamoDB
//! 0.125 USD per million read units).
//!
//! Run: `cargo bench -p local --bench live`. Asserts nothing about time.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;
mod meter;

use axum::body::Body;
use axum::http::Request;
use common::{local_run, report};
use hitpoints::campaign::CampaignStore;
use hitpoints::feed::FeedStore;
use hitpoints::hp::SnapshotStore;
use hitpoints::store::EventStore;
use hitpoints_http::{Api, Function, Router};
use local::dynamodb::local_sdk_config;
use local::{CAMPAIGNS_TABLE, EVENTS_TABLE, FEED_TABLE, SNAPSHOTS_TABLE};
use meter::Meter;
use serde_json::{json, Value};
use tower::ServiceExt;

const SCREENS: usize = 4;
const RUN: Duration = Duration::from_secs(30);
const APPEND_EVERY: Duration = Duration::from_millis(1500);
const POLL: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Conditional,
    LongPoll,
}

#[derive(Debug, Default)]
struct Screen {
    requests: u64,
    billed_ms: u64,
    delays: Vec<Duration>,
}

fn main() {
    let (runtime, running, base, agent) = local_run();
    let endpoint = running.dynamodb_endpoint.clone();
    runtime.block_on(async {
        for busy in [true, false] {
            for mode in [Mode::Conditional, Mode::LongPoll] {
                measure(&endpoint, &base, &agent, mode, busy).await;
            }
        }
    });
    runtime.block_on(running.stop());
}

/// `busy`: an append every 1.5 s (a fight); otherwise none (a screen left open).
async fn measure(endpoint: &str, base: &str, agent: &ureq::Agent, mode: Mode, busy: bool) {
    let meter = Meter::default();
    let config = aws_sdk_dynamodb::config::Builder::from(&local_sdk_config(endpoint))
        .interceptor(meter.clone())
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(config);
    let router = Api::new(EventStore::new(client.clone(), EVENTS_TABLE))
        .with_snapshots(SnapshotStore::new(client.clone(), SNAPSHOTS_TABLE))
        .with_feed(FeedStore::new(client.clone(), FEED_TABLE))
        .with_campaigns(CampaignStore::new(client, CAMPAIGNS_TABLE))
        .router(Function::Query);
    let post = |path: &str, body: Value| -> Value {
        agent
            .post(format!("{base}{path}"))
            .send_json(body)
            .expect("an answer")
            .body_mut()
            .read_json()
            .expect("json")
    };
    let campaign = post("/campaigns", json!({"name": "Bench", "dm_name": "Ana"}))["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let character = post(
        "/characters",
        json!({"character_name": "Nuru", "hp_change": 30, "note": "start", "campaign_id": campaign}),
    )["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    tokio::time::sleep(Duration::from_millis(500)).await;
    meter.take();

    let appended: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let screens: Vec<_> = (0..SCREENS)
        .map(|_| {
            let (router, campaign, appended, stop) = (
                router.clone(),
                campaign.clone(),
                appended.clone(),
                stop.clone(),
            );
            tokio::spawn(async move { screen(router, &campaign, mode, &appended, &stop).await })
        })
        .collect();
    let started = Instant::now();
    let writer = {
        let (base, agent, appended) = (base.to_owned(), agent.clone(), appended.clone());
        tokio::task::spawn_blocking(move || {
            let mut n = 0;
            while started.elapsed() < RUN {
                if !busy {
                    std::thread::sleep(APPEND_EVERY);
                    continue;
                }
                n += 1;
                let note = format!("hit {n}");
                let body =
                    json!({"events": [{"character_name": "Nuru", "hp_change": -1, "note": note}]});
                agent
                    .post(format!("{base}/characters/{character}/events"))
                    .send_json(body)
                    .expect("an append");
                appended.lock().expect("times").insert(note, Instant::now());
                std::thread::sleep(APPEND_EVERY);
            }
            n
        })
    };
    let events = writer.await.expect("the writer");
    // The last append's reads come in, then the screens stop (a long poll ends within 10 s).
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Screen::default();
    for screen in screens {
        let s = screen.await.expect("a screen");
        all.requests += s.requests;
        all.billed_ms += s.billed_ms;
        all.delays.extend(s.delays);
    }
    // Until the last screen's last request ended (a long poll may outlast the run by 10 s).
    let elapsed = started.elapsed();
    let reads: f64 = meter.take().values().sum();
    let hours = elapsed.as_secs_f64() / 3600.0 * SCREENS as f64;
    let (requests, billed, units) = (
        all.requests as f64 / hours,
        all.billed_ms as f64 / hours,
        reads / hours,
    );
    let usd = requests * (1.00 + 0.20) / 1e6
        + billed / 1000.0 * 0.25 * 0.000_013_333_4
        + units * 0.125 / 1e6;
    let label = match mode {
        Mode::Conditional => "conditional polling, every 1 s (304 while nothing is new)",
        Mode::LongPoll => "long poll, wait=10 (the head read every 200 ms)",
    };
    let load = if busy {
        "an append every 1.5 s"
    } else {
        "no appends"
    };
    println!(
        "{label}, {load}: {SCREENS} screens for {:.0} s, {} of {} appends seen",
        elapsed.as_secs_f64(),
        all.delays.len(),
        events * SCREENS,
    );
    if !all.delays.is_empty() {
        report(
            "  from an append's answer to a screen showing it",
            all.delays,
        );
    }
    println!(
        "  per screen-hour: {requests:.0} requests and invocations, {billed:.0} billed ms \
         ({:.1} s of a Lambda held), {units:.0} read units = {usd:.4} USD",
        billed / 1000.0
    );
}

/// One open screen: reads the feed as the page does, until `stop`.
async fn screen(
    router: Router,
    campaign: &str,
    mode: Mode,
    appended: &Mutex<HashMap<String, Instant>>,
    stop: &AtomicBool,
) -> Screen {
    let mut screen = Screen::default();
    // Where the feed ends now.
    let (_, latest) = get(
        &router,
        &format!("/campaigns/{campaign}/events?direction=backward&limit=1"),
        None,
    )
    .await;
    let mut head = latest["events"][0]["position"]
        .as_str()
        .unwrap_or("0")
        .to_owned();
    let mut tag: Option<String> = None;
    while !stop.load(Ordering::Relaxed) {
        let path = match mode {
            Mode::Conditional => format!("/campaigns/{campaign}/events?after={head}"),
            Mode::LongPoll => format!("/campaigns/{campaign}/events?after={head}&wait=10"),
        };
        let started = Instant::now();
        let ((status, etag), page) = get(&router, &path, tag.as_deref()).await;
        screen.requests += 1;
        screen.billed_ms += started.elapsed().as_millis() as u64 + 1;
        let now = Instant::now();
        if status == 200 {
            tag = etag;
            for event in page["events"].as_array().into_iter().flatten() {
                let note = event["note"].as_str().unwrap_or_default();
                if let Some(at) = appended.lock().expect("times").get(note) {
                    screen.delays.push(now.saturating_duration_since(*at));
                }
            }
            if let Some(next) = page["next"].as_str() {
                head = next.to_owned();
            }
        }
        if mode == Mode::Conditional && page["events"].as_array().is_none_or(Vec::is_empty) {
            tokio::time::sleep(POLL).await;
        }
    }
    screen
}

/// A GET through the router: the status and ETag, and the body as JSON (`Null` for a 304).
async fn get(router: &Router, path: &str, tag: Option<&str>) -> ((u16, Option<String>), Value) {
    let mut request = Request::builder().uri(path);
    if let Some(tag) = tag {
        request = request.header("if-none-match", tag);
    }
    let mut request = request.body(Body::empty()).expect("a request");
    // The local run's caller: an operator (a signed-in person's request also reads their
    // membership, 1 read unit more).
    request
        .extensions_mut()
        .insert(hitpoints::access::Caller::Operator {
            principal: "bench".to_owned(),
        });
    let response = router.clone().oneshot(request).await.expect("an answer");
    let status = response.status().as_u16();
    let etag = response
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("a body");
    (
        (status, etag),
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}
