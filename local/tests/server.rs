//! The local run's server against clients that try to tie it up: slow or broken requests,
//! idle connections by the thousand, a stop while a client is stuck half-way.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use local::server::{raise_open_files_limit, Limits};
use local::{start, Options, Running, Storage};
use serde_json::Value;

async fn run(limits: Limits) -> Running {
    start(&Options {
        port: 0,
        dynamodb_port: 0,
        storage: Storage::InMemory,
        limits,
        ..Options::default()
    })
    .await
    .expect("start")
}

fn short() -> Limits {
    Limits {
        header_timeout: Duration::from_millis(800),
        body_timeout: Duration::from_millis(800),
        ..Limits::default()
    }
}

/// Sends `request` as is on a new connection and reads the answer to its end (the server
/// closes the connection) or for at most `wait`.
fn raw(running: &Running, request: &[u8], wait: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut socket = TcpStream::connect(running.api_addr).expect("connect");
    socket.set_read_timeout(Some(wait)).expect("timeout");
    // The server may answer and close before it has read all of a request it refuses.
    let _ = socket.write_all(request);
    let mut answer = Vec::new();
    let _ = socket.read_to_end(&mut answer);
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

#[track_caller]
fn json_error(answer: &str, status: u16, code: &str) {
    assert!(
        answer.starts_with(&format!("HTTP/1.1 {status}")),
        "expected {status}: {answer}"
    );
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    let body: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {answer}"));
    assert_eq!(body["error"], code, "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_broken_requests_get_json_errors_in_bounded_time() {
    let running = run(short()).await;
    let addr = running.api_addr;
    let id = uuid::Uuid::new_v4();
    let running = std::sync::Arc::new(running);
    let r = running.clone();
    tokio::task::spawn_blocking(move || {
        // A body that never completes: 408 with the JSON body.
        let (answer, took) = raw(
            &r,
            format!(
                "POST /characters/{id}/events HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 100\r\n\r\n{{\"events\""
            )
            .as_bytes(),
            Duration::from_secs(10),
        );
        json_error(&answer, 408, "request_timeout");
        assert!(took < Duration::from_secs(5), "{took:?}");
        // Bad chunked encoding: 400, not 413.
        let (answer, _) = raw(
            &r,
            format!(
                "POST /characters HTTP/1.1\r\nHost: {addr}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nnot a chunk\r\n0\r\n\r\n"
            )
            .as_bytes(),
            Duration::from_secs(10),
        );
        json_error(&answer, 400, "invalid_body");
        // Headers a byte at a time, too slowly: the connection is dropped.
        let started = Instant::now();
        let mut socket = TcpStream::connect(addr).expect("connect");
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        let mut dropped = false;
        for byte in b"GET /characters/x HTTP/1.1\r\nHost: a\r\n".iter().cycle().take(60) {
            if socket.write_all(&[*byte]).is_err() {
                dropped = true;
                break;
            }
            let mut buf = [0; 256];
            if let Ok(0) = socket.read(&mut buf) {
                dropped = true;
                break;
            }
        }
        assert!(dropped, "a slow client is dropped");
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
        // A keep-alive connection left idle is closed.
        let mut socket = TcpStream::connect(addr).expect("connect");
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        socket
            .write_all(format!("GET /characters/{id} HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
            .expect("send");
        let mut buf = vec![0; 4096];
        let n = socket.read(&mut buf).expect("an answer");
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 404"));
        let idle = Instant::now();
        assert_eq!(socket.read(&mut buf).ok(), Some(0), "closed when idle");
        assert!(idle.elapsed() < Duration::from_secs(3), "{:?}", idle.elapsed());
        // A URL or headers too large: hyper's own 414 and 431. It may close before reading all
        // of such a request, and a reset can then swallow its answer: a few tries.
        let long = "a".repeat(70_000);
        let too_long = format!("GET /characters/{long} HTTP/1.1\r\nHost: {addr}\r\n\r\n");
        let too_many = format!(
            "GET / HTTP/1.1\r\nHost: {addr}\r\n{}\r\n",
            (0..200).map(|i| format!("X-H{i}: v\r\n")).collect::<String>()
        );
        for (request, status) in [(too_long, "414"), (too_many, "431")] {
            let answers: Vec<String> = (0..3)
                .map(|_| raw(&r, request.as_bytes(), Duration::from_secs(5)).0)
                .collect();
            assert!(
                answers
                    .iter()
                    .any(|a| a.starts_with(&format!("HTTP/1.1 {status}"))),
                "{status}: {:?}",
                answers.iter().map(|a| a.chars().take(40).collect::<String>()).collect::<Vec<_>>()
            );
        }
    })
    .await
    .expect("the checks");
    std::sync::Arc::into_inner(running)
        .expect("one owner")
        .stop()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_idle_connections_leave_the_api_reachable_and_past_the_cap_is_503() {
    assert!(
        raise_open_files_limit() >= 2_600,
        "this test holds 1,000 connections at both ends"
    );
    let running = run(Limits::default()).await;
    let addr = running.api_addr;
    let answer = tokio::task::spawn_blocking(move || {
        let idle: Vec<TcpStream> = (0..1000)
            .map(|_| TcpStream::connect(addr).expect("connect"))
            .collect();
        let answer = ureq::get(&format!(
            "http://{addr}/characters/{}",
            uuid::Uuid::new_v4()
        ))
        .config()
        .http_status_as_error(false)
        .build()
        .call()
        .expect("an answer while 1,000 connections are held")
        .status()
        .as_u16();
        drop(idle);
        answer
    })
    .await
    .expect("the client");
    assert_eq!(answer, 404);
    running.stop().await;

    // A cap of 4: the fifth connection is told the server is busy.
    let running = run(Limits {
        max_connections: 4,
        ..Limits::default()
    })
    .await;
    let addr = running.api_addr;
    tokio::task::spawn_blocking(move || {
        let held: Vec<TcpStream> = (0..4)
            .map(|_| TcpStream::connect(addr).expect("connect"))
            .collect();
        std::thread::sleep(Duration::from_millis(200));
        let mut socket = TcpStream::connect(addr).expect("connect");
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        socket
            .write_all(format!("GET / HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
            .expect("send");
        let mut answer = Vec::new();
        let _ = socket.read_to_end(&mut answer);
        let answer = String::from_utf8_lossy(&answer).into_owned();
        json_error(&answer, 503, "server_busy");
        assert!(
            answer.to_ascii_lowercase().contains("retry-after: 1"),
            "{answer}"
        );
        drop(held);
    })
    .await
    .expect("the client");
    running.stop().await;
}
