//! Feed lag of the local run: `cargo bench -p local --bench feed_lag`. From an append's
//! acknowledgement to its event being readable from `GET /events`: through a long poll
//! waiting when the append is made (what a screen following the feed feels), and by reading
//! the feed every 2 ms (the stream follower and the indexer alone). Prints median and p99;
//! asserts nothing about time.

use std::time::{Duration, Instant};

mod common;

use common::{local_run, report};
use serde_json::{json, Value};

const APPENDS: usize = 200;

fn main() {
    let (runtime, running, base, agent) = local_run();
    let call = |method: &str, path: &str, body: Option<Value>| -> Value {
        let url = format!("{base}{path}");
        let mut response = match body {
            Some(body) => agent.post(&url).send_json(body),
            None if method == "GET" => agent.get(&url).call(),
            None => panic!("{method}"),
        }
        .expect("a response");
        let status = response.status().as_u16();
        let body: Value = response.body_mut().read_json().expect("json");
        assert!(status == 200 || status == 201, "{status}: {body}");
        body
    };
    let created = call(
        "POST",
        "/characters",
        Some(json!({"character_name": "Nuru", "hp_change": 30, "note": "Init"})),
    );
    let id = created["id"].as_str().expect("id").to_owned();
    let append = |i: usize| -> String {
        let body = call(
            "POST",
            &format!("/characters/{id}/events"),
            Some(
                json!({"events": [{"character_name": "Nuru", "hp_change": -1, "note": format!("hit {i}")}]}),
            ),
        );
        body["events"][0]["event_id"]
            .as_str()
            .expect("event_id")
            .to_owned()
    };
    let newest = || -> String {
        let page = call("GET", "/events?direction=backward&limit=1", None);
        page["next"].as_str().expect("next").to_owned()
    };
    // Let the feed catch up with the character's creation.
    while newest() == "00000000000000000000" {
        std::thread::sleep(Duration::from_millis(5));
    }

    // A screen's long poll, waiting when the append is made.
    let mut long_poll = Vec::with_capacity(APPENDS);
    for i in 0..APPENDS {
        let after = newest();
        std::thread::scope(|scope| {
            let waiting = scope.spawn(|| {
                let page = call("GET", &format!("/events?after={after}&wait=10"), None);
                (Instant::now(), page)
            });
            // The request is waiting on the head before the append is made.
            std::thread::sleep(Duration::from_millis(20));
            let event_id = append(i);
            let acknowledged = Instant::now();
            let (answered, page) = waiting.join().expect("the long poll");
            assert_eq!(page["events"][0]["event_id"], json!(event_id));
            long_poll.push(answered.saturating_duration_since(acknowledged));
        });
    }

    // The follower and the indexer alone: the feed read every 2 ms after the acknowledgement.
    let mut polled = Vec::with_capacity(APPENDS);
    for i in 0..APPENDS {
        let after = newest();
        let event_id = append(i);
        let acknowledged = Instant::now();
        loop {
            let page = call("GET", &format!("/events?after={after}"), None);
            if page["events"][0]["event_id"] == json!(event_id) {
                polled.push(acknowledged.elapsed());
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    report("append acknowledged -> long poll answers", long_poll);
    report(
        "append acknowledged -> in the feed (read every 2 ms)",
        polled,
    );
    runtime.block_on(running.stop());
}
