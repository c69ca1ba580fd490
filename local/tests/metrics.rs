//! The local run's `/metrics`: the figures the functions publish to CloudWatch on AWS, in
//! Prometheus's text format, counted from real requests and the stream followers' batches.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use local::{start, Options, Storage};
use serde_json::{json, Value};

/// Every sample of a Prometheus text exposition (format 0.0.4), by name and labels, checking
/// that each family is announced by `# HELP` and `# TYPE` before its samples.
fn parse(text: &str) -> BTreeMap<(String, String), f64> {
    let mut samples = BTreeMap::new();
    let mut typed: Vec<String> = Vec::new();
    let mut helped: Vec<String> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            helped.push(rest.split(' ').next().expect("a name").to_owned());
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split(' ');
            let name = parts.next().expect("a name").to_owned();
            let kind = parts.next().expect("a type");
            assert!(["counter", "gauge"].contains(&kind), "{line}");
            assert!(helped.contains(&name), "TYPE before HELP: {line}");
            typed.push(name);
            continue;
        }
        assert!(
            !line.starts_with('#') && !line.is_empty(),
            "stray line: {line:?}"
        );
        let (series, value) = line.rsplit_once(' ').expect("a value");
        let value: f64 = value.parse().expect("a number");
        let (name, labels) = match series.split_once('{') {
            Some((name, labels)) => (name, labels.strip_suffix('}').expect("closed labels")),
            None => (series, ""),
        };
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "a metric name: {name}"
        );
        for label in labels.split(',').filter(|l| !l.is_empty()) {
            let (key, quoted) = label.split_once('=').expect("key=value");
            assert!(key.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
            assert!(quoted.starts_with('"') && quoted.ends_with('"'), "{label}");
        }
        assert_eq!(
            typed.last().map(String::as_str),
            Some(name),
            "a sample outside its family"
        );
        assert!(
            samples
                .insert((name.to_owned(), labels.to_owned()), value)
                .is_none(),
            "a series twice: {line}"
        );
    }
    samples
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_run_counts_what_the_functions_count_at_metrics() {
    let running = start(&Options {
        port: 0,
        dynamodb_port: 0,
        storage: Storage::InMemory,
        ..Options::default()
    })
    .await
    .expect("start");
    let base = format!("http://{}", running.api_addr);
    let samples = tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let post = |path: &str, body: Value| -> (u16, Value) {
            let mut answer = agent
                .post(format!("{base}{path}"))
                .send_json(body)
                .expect("an answer");
            let status = answer.status().as_u16();
            (status, answer.body_mut().read_json().unwrap_or(Value::Null))
        };
        let (status, created) = post(
            "/characters",
            json!({"character_name": "Nuru", "hp_change": 8, "note": "Init"}),
        );
        assert_eq!(status, 201);
        let id = created["id"].as_str().expect("an id").to_owned();
        let append = json!({"events": [
            {"character_name": "Nuru", "hp_change": -3, "note": "Arrow",
             "event_id": "0c9a8b7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d"},
            {"character_name": "Nuru", "hp_change": -1, "note": "Fall",
             "event_id": "1d0b9c8e-7f6a-4b5c-8d3e-2f1a0b9c8d7e"}]});
        let events = format!("/characters/{id}/events");
        assert_eq!(post(&events, append.clone()).0, 201);
        // The same request again: a replay.
        assert_eq!(post(&events, append).0, 200);
        // A stale expected version: a conflict.
        let stale = json!({"expected_version": 0, "events": [
            {"character_name": "Nuru", "hp_change": 1, "note": "Potion"}]});
        assert_eq!(post(&events, stale).0, 409);
        // Damage by the rules on a character without them: a refusal.
        let damage = json!({"amount": 3, "type": "fire"});
        let (status, body) = post(&format!("/characters/{id}/damage"), damage);
        assert_eq!(
            (status, body["error"].clone()),
            (422, json!("rules_not_enabled"))
        );
        // A long poll that nothing answers.
        let head = agent
            .get(format!("{base}/events?direction=backward&limit=1"))
            .call()
            .expect("an answer")
            .body_mut()
            .read_json::<Value>()
            .expect("json");
        let waited = Instant::now();
        let mut after = head["next"].as_str().unwrap_or_default().to_owned();
        if after.is_empty() {
            after = "0".into();
        }
        let path = format!("{base}/events?after={after}&wait=1");
        let answer = agent.get(&path).call().expect("an answer");
        assert_eq!(answer.status().as_u16(), 200);
        assert!(waited.elapsed() >= Duration::from_millis(900));

        // The followers have indexed and projected all four events.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mut answer = agent
                .get(format!("{base}/metrics"))
                .call()
                .expect("metrics");
            let content_type = answer
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
            let samples = parse(&answer.body_mut().read_to_string().expect("text"));
            let records = |f: &str| {
                samples
                    .get(&(
                        "hitpoints_records_total".into(),
                        format!("function=\"{f}\""),
                    ))
                    .copied()
                    .unwrap_or(0.0)
            };
            if records("hp-projector") >= 3.0 && records("feed-indexer") >= 3.0 {
                return samples;
            }
            assert!(Instant::now() < deadline, "the followers never caught up");
            std::thread::sleep(Duration::from_millis(50));
        }
    })
    .await
    .expect("the client");
    let get = |name: &str, labels: &str| {
        samples
            .get(&(name.to_owned(), labels.to_owned()))
            .copied()
            .unwrap_or(0.0)
    };
    let append = "function=\"append\"";
    assert_eq!(get("hitpoints_appends_total", append), 2.0);
    assert_eq!(get("hitpoints_events_written_total", append), 3.0);
    assert_eq!(get("hitpoints_replays_total", append), 1.0);
    assert_eq!(
        get(
            "hitpoints_conflicts_total",
            "function=\"append\",outcome=\"version_conflict\""
        ),
        1.0
    );
    assert_eq!(
        get(
            "hitpoints_refusals_total",
            "function=\"append\",outcome=\"rules_not_enabled\""
        ),
        1.0
    );
    assert_eq!(get("hitpoints_requests_total", append), 5.0);
    let query = "function=\"query\"";
    assert_eq!(get("hitpoints_feed_waits_total", query), 1.0);
    assert_eq!(get("hitpoints_feed_waits_answered_total", query), 0.0);
    for consumer in ["hp-projector", "feed-indexer"] {
        let labels = format!("function=\"{consumer}\"");
        assert_eq!(get("hitpoints_record_failures_total", &labels), 0.0);
        assert_eq!(get("hitpoints_holes_total", &labels), 0.0);
        // Processed within a few seconds of their writes.
        let age = get("hitpoints_newest_record_age_milliseconds", &labels);
        assert!((0.0..30_000.0).contains(&age), "{consumer}: {age}");
    }
    running.stop().await;
}
