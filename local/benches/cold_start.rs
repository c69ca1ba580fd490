//! Init time of each Lambda binary as Lambda starts it: from the process's start to its first
//! request for an invocation (`GET /2018-06-01/runtime/invocation/next`) to a stand-in Runtime
//! API on 127.0.0.1. Builds the release binaries first (native target, the Lambda profile).
//!
//! `cargo bench -p local --bench cold_start`. Prints figures; asserts nothing about time.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const FUNCTIONS: [&str; 3] = ["append", "query", "hp-projector"];
const RUNS: usize = 30;

fn main() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "-p",
            "append",
            "-p",
            "query",
            "-p",
            "hp-projector",
        ])
        .status()
        .expect("cargo build");
    assert!(status.success(), "release build failed");
    let target = std::env::var("CARGO_TARGET_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../target").into());

    println!("init time, process start to first /invocation/next ({RUNS} runs each, native release build):");
    for function in FUNCTIONS {
        let binary = format!("{target}/release/{function}");
        let size = std::fs::metadata(&binary).map(|m| m.len()).unwrap_or(0);
        let mut samples: Vec<Duration> = (0..RUNS).map(|_| init_time(&binary)).collect();
        samples.sort();
        println!(
            "  {function:<13} median {:>6.2} ms   p99 {:>6.2} ms   binary {:.1} MB",
            samples[RUNS / 2].as_secs_f64() * 1e3,
            samples[(RUNS * 99) / 100].as_secs_f64() * 1e3,
            size as f64 / 1e6
        );
    }
}

fn init_time(binary: &str) -> Duration {
    let runtime_api = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = runtime_api.local_addr().expect("address").to_string();
    let started = Instant::now();
    let mut child = Command::new(binary)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", &address)
        .env("AWS_LAMBDA_FUNCTION_NAME", "hitpoints-bench")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/hitpoints-bench")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_ACCESS_KEY_ID", "AKIDBENCH")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("AWS_SESSION_TOKEN", "bench")
        .env("HITPOINTS_EVENTS_TABLE", "hitpoints-events")
        .env("HITPOINTS_SNAPSHOTS_TABLE", "hitpoints-snapshots")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the function");
    let (stream, _) = runtime_api.accept().expect("the function connects");
    let mut request_line = String::new();
    BufReader::new(stream)
        .read_line(&mut request_line)
        .expect("a request");
    let elapsed = started.elapsed();
    assert!(
        request_line.starts_with("GET /2018-06-01/runtime/invocation/next"),
        "{request_line}"
    );
    let _ = child.kill();
    let _ = child.wait();
    elapsed
}
