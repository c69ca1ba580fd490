//! End to end: the `local` binary as a user runs it, driven over HTTP.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

struct LocalRun {
    child: Child,
    url: String,
}

impl LocalRun {
    /// Starts `local` with `args` and waits for the line that says where it listens.
    fn start(args: &[&str]) -> LocalRun {
        let mut child = Command::new(env!("CARGO_BIN_EXE_local"))
            .args(args)
            .args(["--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the local run");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let url = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|line| Some(line.strip_prefix("hitpoints is listening on ")?.to_owned()))
            .expect("a line that says where it listens");
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        LocalRun { child, url }
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let url = format!("{}{path}", self.url);
        let mut response = match (method, body) {
            ("GET", _) => agent.get(&url).call(),
            ("POST", Some(body)) => agent.post(&url).send_json(body),
            ("POST", None) => agent.post(&url).send_empty(),
            ("DELETE", _) => agent.delete(&url).call(),
            _ => panic!("method {method}"),
        }
        .expect("an HTTP response");
        let status = response.status().as_u16();
        let body = response.body_mut().read_json().expect("a JSON body");
        (status, body)
    }

    /// Polls `GET /characters/{id}` until it answers from a snapshot at `version`.
    fn wait_for_snapshot(&self, id: &str, version: u64) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let (status, state) = self.call("GET", &format!("/characters/{id}"), None);
            if status == 200 && state["source"] == "snapshot" && state["version"] == version {
                return state;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no snapshot at {version}: {state}"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Stops it the way Ctrl-C or a service manager would, and checks it exits cleanly.
    fn stop(mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let exit = self.child.wait().expect("wait");
        assert!(exit.success(), "a clean stop: {exit:?}");
    }
}

impl Drop for LocalRun {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

#[test]
fn a_characters_life_over_http() {
    let run = LocalRun::start(&["--in-memory"]);
    let (status, created) = run.call(
        "POST",
        "/characters",
        Some(json!({"character_name": "Nuru", "hp_change": 8, "note": "Init"})),
    );
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("an id").to_owned();
    let events = format!("/characters/{id}/events");
    let (status, body) = run.call(
        "POST",
        &events,
        Some(json!({"expected_version": 0, "events": [
            {"character_name": "Nuru", "hp_change": -2, "note": "Slashing damage from goblin"},
            {"character_name": "Nuru", "hp_change": -3, "note": "bludgeoning damage from bugbear"}
        ]})),
    );
    assert_eq!(status, 201, "{body}");
    let (status, body) = run.call(
        "POST",
        &events,
        Some(json!({"expected_version": 0, "events": [{"character_name": "Nuru", "hp_change": -1, "note": "late"}]})),
    );
    assert_eq!((status, body["current_version"].clone()), (409, json!(2)));
    let (status, state) = run.call("GET", &format!("/characters/{id}?consistent=true"), None);
    assert_eq!(status, 200);
    assert_eq!(
        (state["hp"].clone(), state["version"].clone()),
        (json!(3), json!(2))
    );
    assert_eq!(state["source"], "events");
    // The projector follows the stream: the snapshot catches up (a generous deadline).
    let state = run.wait_for_snapshot(&id, 2);
    assert_eq!(state["hp"], 3);
    let (status, page) = run.call("GET", &format!("{events}?direction=backward&limit=1"), None);
    assert_eq!(status, 200);
    assert_eq!(page["events"][0]["note"], "bludgeoning damage from bugbear");
    assert!(page["next_cursor"].is_string());
    let (status, body) = run.call("DELETE", &format!("/characters/{id}"), None);
    assert_eq!(
        (status, body["error"].clone()),
        (405, json!("method_not_allowed"))
    );
    let (status, _) = run.call("POST", &events, None);
    assert_eq!(status, 400);
    run.stop();
}

#[test]
fn data_survives_a_restart() {
    let dir = std::env::temp_dir().join(format!("hitpoints-local-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let dir_arg = dir.to_string_lossy().to_string();
    let run = LocalRun::start(&["--data-dir", &dir_arg]);
    let (status, created) = run.call(
        "POST",
        "/characters",
        Some(json!({"character_name": "Nuru", "hp_change": 8, "note": "Init"})),
    );
    assert_eq!(status, 201);
    let id = created["id"].as_str().expect("id").to_owned();
    run.wait_for_snapshot(&id, 0);
    run.stop();
    let position =
        std::fs::read_to_string(dir.join("stream-position.json")).expect("a saved position");
    assert!(position.contains("sequence_number"), "{position}");

    let run = LocalRun::start(&["--data-dir", &dir_arg]);
    let (status, state) = run.call("GET", &format!("/characters/{id}"), None);
    assert_eq!((status, state["hp"].clone()), (200, json!(8)));
    let (status, _) = run.call(
        "POST",
        &format!("/characters/{id}/events"),
        Some(json!({"expected_version": 0, "events": [{"character_name": "Nuru", "hp_change": -5, "note": "Fall"}]})),
    );
    assert_eq!(status, 201);
    let state = run.wait_for_snapshot(&id, 1);
    assert_eq!(state["hp"], 3);
    run.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_stop_ends_within_5_s_while_a_client_is_stuck_mid_request() {
    use std::io::Write;
    let run = LocalRun::start(&["--in-memory"]);
    let addr = run.url.trim_start_matches("http://").to_owned();
    // One client half-way through its headers, another half-way through its body.
    let mut headers = std::net::TcpStream::connect(&addr).expect("connect");
    headers
        .write_all(b"POST /characters HTTP/1.1\r\nHost: x\r\nContent-Le")
        .expect("send");
    let mut body = std::net::TcpStream::connect(&addr).expect("connect");
    body.write_all(b"POST /characters HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"cha")
        .expect("send");
    std::thread::sleep(std::time::Duration::from_millis(200));
    let started = std::time::Instant::now();
    run.stop();
    let took = started.elapsed();
    assert!(
        took < std::time::Duration::from_secs(5),
        "stopped in {took:?}"
    );
    drop((headers, body));
}

/// The whole feed from `after`, `limit` at a time, following `next` until a page is empty.
fn read_feed(run: &LocalRun, after: Option<&str>, limit: usize) -> Vec<Value> {
    let mut entries = Vec::new();
    let mut after = after.map(str::to_owned);
    loop {
        let path = match &after {
            Some(a) => format!("/events?after={a}&limit={limit}"),
            None => format!("/events?limit={limit}"),
        };
        let (status, page) = run.call("GET", &path, None);
        assert_eq!(status, 200, "{page}");
        let events = page["events"].as_array().expect("events").clone();
        if events.is_empty() {
            return entries;
        }
        after = Some(page["next"].as_str().expect("next").to_owned());
        entries.extend(events);
    }
}

#[test]
fn concurrent_appends_reach_the_feed_exactly_once_in_order() {
    let run = LocalRun::start(&["--in-memory"]);
    let ids: Vec<String> = (0..12)
        .map(|i| {
            let (status, body) = run.call(
                "POST",
                "/characters",
                Some(
                    json!({"character_name": format!("Hero {i}"), "hp_change": 20, "note": "Init"}),
                ),
            );
            assert_eq!(status, 201, "{body}");
            body["id"].as_str().expect("id").to_owned()
        })
        .collect();
    // Eight players at once, single events and batches of up to three, on every character.
    std::thread::scope(|scope| {
        for player in 0..8 {
            let (run, ids) = (&run, &ids);
            scope.spawn(move || {
                for turn in 0..12 {
                    let id = &ids[(player * 5 + turn) % ids.len()];
                    let events: Vec<Value> = (0..=(turn % 3))
                        .map(|i| json!({"character_name": "Hero", "hp_change": -1 - i as i64, "note": format!("p{player} t{turn}")}))
                        .collect();
                    let (status, body) = run.call(
                        "POST",
                        &format!("/characters/{id}/events"),
                        Some(json!({"events": events})),
                    );
                    assert_eq!(status, 201, "{body}");
                }
            });
        }
    });
    // Every event as stored, per character.
    let mut stored: std::collections::HashMap<(String, u64), Value> = Default::default();
    for id in &ids {
        let (_, page) = run.call("GET", &format!("/characters/{id}/events?limit=1000"), None);
        for event in page["events"].as_array().expect("events") {
            let version = event["version"].as_u64().expect("version");
            stored.insert((id.clone(), version), event.clone());
        }
    }
    // The feed catches up: wait on the newest position until it holds every event.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (_, newest) = run.call("GET", "/events?direction=backward&limit=1", None);
        let head: u64 = newest["next"]
            .as_str()
            .expect("next")
            .parse()
            .expect("digits");
        if head as usize >= stored.len() {
            assert_eq!(head as usize, stored.len(), "no event twice");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "feed at {head} of {}",
            stored.len()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }

    let feed = read_feed(&run, None, 17);
    assert_eq!(feed.len(), stored.len());
    let mut last_version: std::collections::HashMap<String, u64> = Default::default();
    for (i, entry) in feed.iter().enumerate() {
        let position: u64 = entry["position"]
            .as_str()
            .expect("position")
            .parse()
            .expect("digits");
        assert_eq!(position, i as u64 + 1, "positions 1, 2, 3, …");
        let id = entry["id"].as_str().expect("id").to_owned();
        let version = entry["version"].as_u64().expect("version");
        if let Some(previous) = last_version.insert(id.clone(), version) {
            assert_eq!(version, previous + 1, "{id}: version order");
        } else {
            assert_eq!(version, 0, "{id}: from its first event");
        }
        let mut event = entry.clone();
        let object = event.as_object_mut().expect("an object");
        object.remove("position");
        object.remove("id");
        assert_eq!(
            Some(&event),
            stored.get(&(id, version)),
            "the event as stored"
        );
    }
    // Resuming from any next sees every later event exactly once.
    for cut in [1, feed.len() / 2, feed.len() - 1] {
        let after = feed[cut - 1]["position"].as_str().expect("position");
        assert_eq!(
            read_feed(&run, Some(after), 50),
            feed[cut..].to_vec(),
            "after {after}"
        );
    }
    run.stop();
}

#[test]
fn the_screen_and_the_api_document_are_served_beside_the_api() {
    let run = LocalRun::start(&["--in-memory"]);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    for (path, content_type, needle) in [
        ("/", "text/html", "<script type=\"module\" src=\"/app.js\">"),
        ("/app.js", "text/javascript", "/events?after="),
        ("/app.css", "text/css", "prefers-contrast"),
        ("/docs", "text/html", "src=\"/docs.js\""),
        ("/docs.js", "text/javascript", "/openapi.json"),
        ("/docs.css", "text/css", "prefers-contrast"),
        ("/openapi.json", "application/json", "\"openapi\":\"3.1.0\""),
    ] {
        let mut response = agent
            .get(format!("{}{path}", run.url))
            .call()
            .expect("a response");
        assert_eq!(response.status().as_u16(), 200, "{path}");
        let header = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(header.starts_with(content_type), "{path}: {header}");
        let body = response.body_mut().read_to_string().expect("text");
        assert!(body.contains(needle), "{path}");
    }
    // The API is unchanged beside it: an unknown path is still the API's JSON 404.
    let (status, body) = run.call("GET", "/nothing-here", None);
    assert_eq!(
        (status, body["error"].clone()),
        (404, json!("route_not_found"))
    );
    run.stop();
}
