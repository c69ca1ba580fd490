//! What the local run's benches share: a local run to measure, percentiles and the line they
//! print.

use std::time::Duration;

use local::{start, Options, Running, Storage};

/// A local run in memory on free ports, the runtime it runs on, its API's base URL, and an
/// HTTP client that hands back every status.
pub(crate) fn local_run() -> (tokio::runtime::Runtime, Running, String, ureq::Agent) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let options = Options {
        port: 0,
        dynamodb_port: 0,
        storage: Storage::InMemory,
        ..Options::default()
    };
    let running = runtime
        .block_on(start(&options))
        .expect("start the local run");
    let base = format!("http://{}", running.api_addr);
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    (runtime, running, base, agent)
}

pub(crate) fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[index]
}

/// `name n=… median … ms p99 … ms`.
pub(crate) fn report(name: &str, mut samples: Vec<Duration>) {
    let median = percentile(&mut samples, 0.5);
    let p99 = percentile(&mut samples, 0.99);
    println!(
        "{name:<52} n={:<5} median {:>8.3} ms   p99 {:>8.3} ms",
        samples.len(),
        median.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3
    );
}
