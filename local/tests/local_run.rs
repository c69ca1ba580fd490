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
