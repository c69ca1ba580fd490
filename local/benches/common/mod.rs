//! What the local run's benches share: percentiles and the line they print.

use std::time::Duration;

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
