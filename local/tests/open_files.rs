//! The `local` binary under a low open-files limit (256: macOS's default soft limit, some
//! containers' hard limit): it still holds many idle connections and answers concurrent
//! requests, each of which also uses connections to the embedded DynamoDB.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const IDLE: usize = 128;
const CONCURRENT: usize = 32;

struct Limited {
    child: Child,
    /// What it wrote on stderr: its log.
    log: Option<std::thread::JoinHandle<String>>,
}

impl Limited {
    /// Stops it and returns its log.
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let log = self.log.take().map(|log| log.join().unwrap_or_default());
        log.unwrap_or_default()
    }
}

impl Drop for Limited {
    // Also when a check fails half-way: the run must not outlive the test.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `local` under `prlimit --nofile=256:256`; `None` (with the reason printed) when
/// prlimit is missing.
fn start_limited() -> Option<(Limited, String)> {
    if Command::new("prlimit").arg("--version").output().is_err() {
        println!("SKIPPED: prlimit (util-linux) is not installed");
        return None;
    }
    let mut child = Command::new("prlimit")
        .arg("--nofile=256:256")
        .arg(env!("CARGO_BIN_EXE_local"))
        .args(["--in-memory", "--port", "0"])
        // The start-up line the test reads is at info.
        .env("RUST_LOG", "info")
        .env_remove("AWS_LAMBDA_LOG_LEVEL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the local run under prlimit");
    let stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let log = std::thread::spawn(move || {
        let mut log = String::new();
        let _ = stderr.read_to_string(&mut log);
        log
    });
    let run = Limited {
        child,
        log: Some(log),
    };
    let mut lines = BufReader::new(stdout).lines();
    let addr = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| {
            Some(
                line.strip_prefix("hitpoints is listening on http://")?
                    .to_owned(),
            )
        })
        .expect("a line that says where it listens");
    std::thread::spawn(move || lines.for_each(drop));
    Some((run, addr))
}

/// One request on `socket`, answered before the server closes it; the status and the body.
fn request(socket: &mut TcpStream, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let body = body.map(Value::to_string).unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: local\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    // A refused connection may be closed already: its answer, if any, is what counts.
    let _ = socket.write_all(format!("{head}{body}").as_bytes());
    let mut answer = Vec::new();
    let _ = socket.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    let status = answer
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .and_then(|(_, body)| serde_json::from_str(body).ok())
        .unwrap_or(Value::Null);
    (status, body)
}

fn connect(addr: &str) -> TcpStream {
    let socket = TcpStream::connect(addr).expect("connect");
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    socket
}

#[test]
fn at_256_open_files_128_idle_connections_are_held_and_32_concurrent_requests_answered() {
    let Some((run, addr)) = start_limited() else {
        return;
    };
    let started = Instant::now();
    let mut idle: Vec<TcpStream> = (0..IDLE).map(|_| connect(&addr)).collect();
    // Half of them half-way through a request's headers, half with nothing sent.
    for socket in idle.iter_mut().step_by(2) {
        let _ = socket.write_all(b"GET /characters?limit=1 HTTP/1.1\r\nHo");
    }
    // The server accepts in order: once a request on a later connection is answered, every
    // idle one has been accepted (or refused).
    let (status, _) = request(&mut connect(&addr), "GET", "/characters?limit=1", None);
    assert_eq!(status, 200, "one request beside the idle connections");

    let start = Arc::new(Barrier::new(CONCURRENT));
    let players: Vec<_> = (0..CONCURRENT)
        .map(|i| {
            let (start, addr) = (start.clone(), addr.clone());
            std::thread::spawn(move || {
                start.wait();
                let new = json!({"character_name": format!("Hero {i}"), "hp_change": 20, "note": "Init"});
                let (created, body) = request(&mut connect(&addr), "POST", "/characters", Some(&new));
                let Some(id) = body["id"].as_str() else {
                    return vec![created];
                };
                let hit = json!({"events": [{"character_name": format!("Hero {i}"), "hp_change": -3, "note": "hit"}]});
                let events = format!("/characters/{id}/events");
                let (appended, _) = request(&mut connect(&addr), "POST", &events, Some(&hit));
                let (read, _) = request(&mut connect(&addr), "GET", &format!("/characters/{id}"), None);
                let (page, _) = request(&mut connect(&addr), "GET", &events, None);
                vec![created, appended, read, page]
            })
        })
        .collect();
    let statuses: Vec<Vec<u16>> = players
        .into_iter()
        .map(|p| p.join().expect("a player"))
        .collect();
    for (i, statuses) in statuses.iter().enumerate() {
        assert_eq!(statuses, &[201, 201, 200, 200], "player {i}");
    }

    // Every idle connection is still open and still served: each is sent the rest of its
    // request (or a whole one) first, all before any answer is read, so they are served at once
    // and well within the 10 s after which the server closes a connection idle that long.
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "too slow to tell: the server closes a connection idle for 10 s"
    );
    for (i, socket) in idle.iter_mut().enumerate() {
        let rest: &[u8] = if i % 2 == 0 {
            b"st: local\r\nConnection: close\r\n\r\n"
        } else {
            b"GET /characters?limit=1 HTTP/1.1\r\nHost: local\r\nConnection: close\r\n\r\n"
        };
        let _ = socket.write_all(rest);
    }
    for (i, socket) in idle.iter_mut().enumerate() {
        let mut answer = Vec::new();
        let _ = socket.read_to_end(&mut answer);
        let answer = String::from_utf8_lossy(&answer);
        assert!(
            answer.starts_with("HTTP/1.1 200"),
            "idle connection {i}: {answer:.60}"
        );
    }
    // Nothing ran short of descriptors on the way (an accept, its own or dynoxide's, or a
    // connect to dynoxide), and it said what it serves.
    let log = without_colours(&run.stop());
    assert!(!log.contains("Too many open files"), "{log}");
    assert!(log.contains("open_files=256 connections=184"), "{log}");
}

/// The log without its terminal colour codes (`ESC [ … m`).
fn without_colours(log: &str) -> String {
    let mut plain = String::with_capacity(log.len());
    let mut rest = log;
    while let Some(start) = rest.find('\u{1b}') {
        plain.push_str(&rest[..start]);
        rest = &rest[start..];
        rest = rest.find('m').map_or("", |end| &rest[end + 1..]);
    }
    plain.push_str(rest);
    plain
}
