//! Latency of the local run over HTTP: `cargo bench -p local --bench latency`.
//! Prints median and p99 of appends and reads; asserts nothing about time.

use std::time::Instant;

mod common;

use common::{local_run, report};
use serde_json::{json, Value};

const APPENDS: usize = 500;
const READS: usize = 500;

fn main() {
    let (runtime, running, base, agent) = local_run();
    let post = |path: &str, body: Value| -> (u16, Value) {
        let mut response = agent
            .post(format!("{base}{path}"))
            .send_json(body)
            .expect("response");
        (
            response.status().as_u16(),
            response.body_mut().read_json().expect("json"),
        )
    };
    let get = |path: &str| -> u16 {
        let mut response = agent.get(format!("{base}{path}")).call().expect("response");
        let _: Value = response.body_mut().read_json().expect("json");
        response.status().as_u16()
    };

    let (status, created) = post(
        "/characters",
        json!({"character_name": "Nuru", "hp_change": 8, "note": "Init"}),
    );
    assert_eq!(status, 201);
    let id = created["id"].as_str().expect("id").to_owned();
    let events = format!("/characters/{id}/events");

    let mut exact = Vec::with_capacity(APPENDS);
    let mut any = Vec::with_capacity(APPENDS);
    for i in 0..APPENDS {
        let body = json!({"expected_version": 2 * i, "events": [{"character_name": "Nuru", "hp_change": -1, "note": "hit"}]});
        let started = Instant::now();
        assert_eq!(post(&events, body).0, 201);
        exact.push(started.elapsed());
        let body = json!({"events": [{"character_name": "Nuru", "hp_change": 1, "note": "heal"}]});
        let started = Instant::now();
        assert_eq!(post(&events, body).0, 201);
        any.push(started.elapsed());
    }
    let mut page = Vec::with_capacity(READS);
    let mut snapshot = Vec::with_capacity(READS);
    let mut fold = Vec::with_capacity(READS / 10);
    for _ in 0..READS {
        let started = Instant::now();
        assert_eq!(get(&format!("{events}?limit=100&direction=backward")), 200);
        page.push(started.elapsed());
    }
    for _ in 0..READS {
        let started = Instant::now();
        assert_eq!(get(&format!("/characters/{id}")), 200);
        snapshot.push(started.elapsed());
    }
    for _ in 0..READS / 10 {
        let started = Instant::now();
        assert_eq!(get(&format!("/characters/{id}?consistent=true")), 200);
        fold.push(started.elapsed());
    }
    println!("local run over HTTP (embedded dynoxide, in memory, stream enabled):");
    report("append 1 event, exact version", exact);
    report("append 1 event, any", any);
    report("read a page of 100 events", page);
    report("GET character (one snapshot read)", snapshot);
    report(
        &format!(
            "GET character?consistent=true (fold of {} events)",
            2 * APPENDS + 1
        ),
        fold,
    );
    runtime.block_on(running.stop());
}
