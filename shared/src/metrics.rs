//! What the functions count about how they run, in one registry per process, and the two ways
//! out of it: CloudWatch's Embedded Metric Format (a deployed function prints one JSON line per
//! dimension set after each invocation, and CloudWatch Logs turns them into metrics: no call, no
//! client, nothing at start-up) and Prometheus's text format (the local run's `/metrics`).
//!
//! Every value carries the function that counted it and, for the few metrics broken down
//! further, an outcome: an error code, a refusal code, a verdict. Never user content: outcomes
//! come from closed sets of codes.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

/// The CloudWatch namespace of every metric.
pub const NAMESPACE: &str = "hitpoints";
/// The dimension every metric has: the function that counted it.
pub const FUNCTION_DIMENSION: &str = "Function";
/// The dimension of the metrics broken down further.
pub const OUTCOME_DIMENSION: &str = "Outcome";

/// Everything the functions count. [`Metric::ALL`] lists them; the README says what each means
/// and what an operator does when it moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    /// HTTP requests answered.
    Requests,
    /// Appends that wrote events (201), plain or by the rules' commands.
    Appends,
    /// Events those appends wrote.
    EventsWritten,
    /// Retries answered with what an earlier request wrote (200).
    Replays,
    /// Requests refused for a concurrent change (409), by code.
    Conflicts,
    /// Requests refused by the rules or as invalid (422), by code.
    Refusals,
    /// Other requests in error (400, 404, 405, 408, 413), by code.
    ClientErrors,
    /// Requests that failed on our side or DynamoDB's (5xx), by code.
    ServerErrors,
    /// Feed reads that waited for an event (long polls).
    FeedWaits,
    /// Of those, the ones an event ended.
    FeedWaitsAnswered,
    /// Conditional feed reads answered 304: the feed's head is still the one the client has.
    FeedNotModified,
    /// Stream records a consumer was given.
    Records,
    /// Stream records reported as failed (Lambda delivers them again).
    RecordFailures,
    /// Versions confirmed missing from the events table, folded around.
    Holes,
    /// The indexer's transactions lost to another writer of a campaign's head.
    HeadRetries,
    /// The age of the newest record of a batch when it was processed.
    NewestRecordAge,
    /// Scheduled repair runs started.
    RepairRuns,
    /// Scheduled repair runs finished (every page of the events table checked).
    RepairRunsCompleted,
    /// Events the scheduled repair read.
    RepairEventsChecked,
    /// Feed entries the scheduled repair wrote: events the stream never delivered.
    RepairFeedEntries,
    /// Snapshots the scheduled repair rewrote, by verdict (missing, stale, wrong).
    RepairSnapshotsFixed,
    /// Characters the scheduled repair could not check or fix (logged).
    RepairFailures,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
}

impl Unit {
    /// The unit's name in CloudWatch.
    pub fn cloudwatch(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

impl Metric {
    pub const ALL: [Metric; 22] = [
        Metric::Requests,
        Metric::Appends,
        Metric::EventsWritten,
        Metric::Replays,
        Metric::Conflicts,
        Metric::Refusals,
        Metric::ClientErrors,
        Metric::ServerErrors,
        Metric::FeedWaits,
        Metric::FeedWaitsAnswered,
        Metric::FeedNotModified,
        Metric::Records,
        Metric::RecordFailures,
        Metric::Holes,
        Metric::HeadRetries,
        Metric::NewestRecordAge,
        Metric::RepairRuns,
        Metric::RepairRunsCompleted,
        Metric::RepairEventsChecked,
        Metric::RepairFeedEntries,
        Metric::RepairSnapshotsFixed,
        Metric::RepairFailures,
    ];

    /// Its name in CloudWatch.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Requests => "Requests",
            Metric::Appends => "Appends",
            Metric::EventsWritten => "EventsWritten",
            Metric::Replays => "Replays",
            Metric::Conflicts => "Conflicts",
            Metric::Refusals => "Refusals",
            Metric::ClientErrors => "ClientErrors",
            Metric::ServerErrors => "ServerErrors",
            Metric::FeedWaits => "FeedWaits",
            Metric::FeedWaitsAnswered => "FeedWaitsAnswered",
            Metric::FeedNotModified => "FeedNotModified",
            Metric::Records => "Records",
            Metric::RecordFailures => "RecordFailures",
            Metric::Holes => "Holes",
            Metric::HeadRetries => "HeadRetries",
            Metric::NewestRecordAge => "NewestRecordAge",
            Metric::RepairRuns => "RepairRuns",
            Metric::RepairRunsCompleted => "RepairRunsCompleted",
            Metric::RepairEventsChecked => "RepairEventsChecked",
            Metric::RepairFeedEntries => "RepairFeedEntries",
            Metric::RepairSnapshotsFixed => "RepairSnapshotsFixed",
            Metric::RepairFailures => "RepairFailures",
        }
    }

    pub fn unit(self) -> Unit {
        match self {
            Metric::NewestRecordAge => Unit::Milliseconds,
            _ => Unit::Count,
        }
    }

    /// A gauge keeps its latest value; every other metric is a count that adds up.
    pub fn is_gauge(self) -> bool {
        self == Metric::NewestRecordAge
    }

    /// Its name in Prometheus: `hitpoints_` and snake case, counters ending in `_total`.
    pub fn prometheus_name(self) -> String {
        let mut snake = String::from("hitpoints_");
        for (i, c) in self.name().chars().enumerate() {
            if c.is_ascii_uppercase() {
                if i > 0 {
                    snake.push('_');
                }
                snake.push(c.to_ascii_lowercase());
            } else {
                snake.push(c);
            }
        }
        match self.unit() {
            Unit::Milliseconds => snake.push_str("_milliseconds"),
            Unit::Count if !self.is_gauge() => snake.push_str("_total"),
            Unit::Count => {}
        }
        snake
    }

    /// One line on what it counts (Prometheus's `# HELP`).
    pub fn help(self) -> &'static str {
        match self {
            Metric::Requests => "HTTP requests answered",
            Metric::Appends => "appends that wrote events (201)",
            Metric::EventsWritten => "events written by appends",
            Metric::Replays => "retries answered with what an earlier request wrote (200)",
            Metric::Conflicts => "requests refused for a concurrent change (409), by code",
            Metric::Refusals => "requests refused by the rules or as invalid (422), by code",
            Metric::ClientErrors => "other client errors (400, 404, 405, 408, 413), by code",
            Metric::ServerErrors => "requests failed on the server's side (5xx), by code",
            Metric::FeedWaits => "feed reads that waited for an event",
            Metric::FeedWaitsAnswered => "feed reads that waited and were answered by an event",
            Metric::FeedNotModified => "conditional feed reads answered 304 (nothing new)",
            Metric::Records => "stream records given to a consumer",
            Metric::RecordFailures => "stream records reported as failed, to be delivered again",
            Metric::Holes => "versions confirmed missing from the events table",
            Metric::HeadRetries => "feed transactions lost to another writer of the same head",
            Metric::NewestRecordAge => "age of the newest stream record of the last batch",
            Metric::RepairRuns => "scheduled repair runs started",
            Metric::RepairRunsCompleted => "scheduled repair runs finished",
            Metric::RepairEventsChecked => "events the scheduled repair read",
            Metric::RepairFeedEntries => "feed entries the scheduled repair wrote",
            Metric::RepairSnapshotsFixed => "snapshots the scheduled repair rewrote, by verdict",
            Metric::RepairFailures => "characters the scheduled repair could not check or fix",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    function: &'static str,
    metric: Metric,
    outcome: Option<String>,
}

/// The registry: shared by every part of a process that counts (clone it freely).
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    values: Arc<Mutex<BTreeMap<Key, f64>>>,
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// Adds `n` to a count of `function`'s (or, for a gauge, sets it to `n`).
    pub fn add(&self, function: &'static str, metric: Metric, n: u64) {
        self.record(function, metric, None, n as f64);
    }

    /// Adds `n` to a count of `function`'s broken down by `outcome` (a code, never user content).
    pub fn add_outcome(&self, function: &'static str, metric: Metric, outcome: &str, n: u64) {
        self.record(function, metric, Some(outcome.to_owned()), n as f64);
    }

    fn record(&self, function: &'static str, metric: Metric, outcome: Option<String>, n: f64) {
        let key = Key {
            function,
            metric,
            outcome,
        };
        let mut values = self.values.lock().unwrap_or_else(PoisonError::into_inner);
        let value = values.entry(key).or_insert(0.0);
        if metric.is_gauge() {
            *value = n;
        } else {
            *value += n;
        }
    }

    /// The value of one metric (summed over outcomes), for tests and benches.
    pub fn value(&self, function: &str, metric: Metric) -> f64 {
        let values = self.values.lock().unwrap_or_else(PoisonError::into_inner);
        values
            .iter()
            .filter(|(k, _)| k.function == function && k.metric == metric)
            .map(|(_, v)| v)
            .sum()
    }

    /// Takes everything counted since the last take, as Embedded Metric Format documents: one
    /// per function and outcome, each one line of JSON. A metric with an outcome is published
    /// both by function and by function and outcome, so an alarm can watch the total.
    ///
    /// `function`: the name to publish as every document's `Function` (a deployed function's
    /// own name, so two stacks in one account never share a series); `None`: the names
    /// counted under.
    pub fn take_emf(&self, now: SystemTime, function: Option<&str>) -> Vec<String> {
        let taken =
            std::mem::take(&mut *self.values.lock().unwrap_or_else(PoisonError::into_inner));
        let timestamp = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        // One document per function and outcome, with their values.
        type Documents = BTreeMap<(&'static str, Option<String>), Vec<(Metric, f64)>>;
        let mut documents = Documents::new();
        for (key, value) in taken {
            documents
                .entry((key.function, key.outcome))
                .or_default()
                .push((key.metric, value));
        }
        let rename = function;
        documents
            .into_iter()
            .map(|((function, outcome), values)| {
                let mut dimensions = vec![json!([FUNCTION_DIMENSION])];
                let mut root = Map::new();
                let published = rename.unwrap_or(function);
                root.insert(FUNCTION_DIMENSION.to_owned(), json!(published));
                if let Some(outcome) = outcome {
                    dimensions.push(json!([FUNCTION_DIMENSION, OUTCOME_DIMENSION]));
                    root.insert(OUTCOME_DIMENSION.to_owned(), json!(outcome));
                }
                let definitions: Vec<Value> = values
                    .iter()
                    .map(|(m, _)| json!({"Name": m.name(), "Unit": m.unit().cloudwatch()}))
                    .collect();
                for (metric, value) in values {
                    root.insert(metric.name().to_owned(), json!(value));
                }
                root.insert(
                    "_aws".to_owned(),
                    json!({
                        "Timestamp": timestamp,
                        "CloudWatchMetrics": [{
                            "Namespace": NAMESPACE,
                            "Dimensions": dimensions,
                            "Metrics": definitions,
                        }],
                    }),
                );
                Value::Object(root).to_string()
            })
            .collect()
    }

    /// Everything counted since the process started, in Prometheus's text format (0.0.4).
    pub fn prometheus(&self) -> String {
        let values = self.values.lock().unwrap_or_else(PoisonError::into_inner);
        let mut text = String::new();
        for metric in Metric::ALL {
            let name = metric.prometheus_name();
            let kind = if metric.is_gauge() {
                "gauge"
            } else {
                "counter"
            };
            let _ = writeln!(text, "# HELP {name} {}.", metric.help());
            let _ = writeln!(text, "# TYPE {name} {kind}");
            for (key, value) in values.iter().filter(|(k, _)| k.metric == metric) {
                let mut labels = format!("function=\"{}\"", escape(key.function));
                if let Some(outcome) = &key.outcome {
                    let _ = write!(labels, ",outcome=\"{}\"", escape(outcome));
                }
                let _ = writeln!(text, "{name}{{{labels}}} {value}");
            }
        }
        text
    }
}

/// A label value as Prometheus's text format writes it.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Where a deployed function prints its metrics after each invocation: standard output, one
/// document per line (Lambda sends it to CloudWatch Logs, which reads the documents). A test
/// gives it a buffer of its own and reads the lines back.
#[derive(Debug, Clone)]
pub struct EmfWriter {
    metrics: Metrics,
    out: Arc<Mutex<Output>>,
    /// The name published as `Function`, when not the one counted under.
    function: Option<String>,
}

#[derive(Debug)]
enum Output {
    Stdout,
    Buffer(Vec<u8>),
}

impl EmfWriter {
    /// Prints what `metrics` counted to standard output, under the function's own name when
    /// Lambda gives it (`AWS_LAMBDA_FUNCTION_NAME`: the stack's, so alarms can name it).
    pub fn stdout(metrics: Metrics) -> EmfWriter {
        EmfWriter {
            metrics,
            out: Arc::new(Mutex::new(Output::Stdout)),
            function: std::env::var("AWS_LAMBDA_FUNCTION_NAME")
                .ok()
                .filter(|name| !name.is_empty()),
        }
    }

    /// Publishes every document under `function` (the deployed function's name).
    pub fn named(mut self, function: impl Into<String>) -> EmfWriter {
        self.function = Some(function.into());
        self
    }

    /// Keeps what `metrics` counted in memory, for [`EmfWriter::lines`].
    pub fn buffer(metrics: Metrics) -> EmfWriter {
        EmfWriter {
            metrics,
            out: Arc::new(Mutex::new(Output::Buffer(Vec::new()))),
            function: None,
        }
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Writes what was counted since the last flush, one document per line.
    pub fn flush(&self) {
        let documents = self
            .metrics
            .take_emf(SystemTime::now(), self.function.as_deref());
        if documents.is_empty() {
            return;
        }
        let mut text = documents.join("\n");
        text.push('\n');
        let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        match &mut *out {
            // One write of whole lines: never interleaved with a log line.
            Output::Stdout => {
                let mut stdout = std::io::stdout().lock();
                let _ = stdout.write_all(text.as_bytes());
                let _ = stdout.flush();
            }
            Output::Buffer(buffer) => buffer.extend_from_slice(text.as_bytes()),
        }
    }

    /// The lines written so far to a buffer (none for standard output).
    pub fn lines(&self) -> Vec<String> {
        let out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        match &*out {
            Output::Stdout => Vec::new(),
            Output::Buffer(buffer) => String::from_utf8_lossy(buffer)
                .lines()
                .map(str::to_owned)
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_up_gauges_keep_the_latest_and_a_take_empties_the_registry() {
        let metrics = Metrics::new();
        metrics.add("append", Metric::Appends, 1);
        metrics.add("append", Metric::Appends, 2);
        metrics.add_outcome("append", Metric::Refusals, "character_dead", 1);
        metrics.add("feed-indexer", Metric::NewestRecordAge, 900);
        metrics.add("feed-indexer", Metric::NewestRecordAge, 40);
        assert_eq!(metrics.value("append", Metric::Appends), 3.0);
        assert_eq!(metrics.value("feed-indexer", Metric::NewestRecordAge), 40.0);
        let lines = metrics.take_emf(UNIX_EPOCH + std::time::Duration::from_millis(1_234), None);
        // One document per function and outcome.
        assert_eq!(lines.len(), 3, "{lines:?}");
        let refusals: Value = serde_json::from_str(&lines[1]).expect("JSON");
        assert_eq!(refusals["Outcome"], "character_dead");
        assert_eq!(refusals["Refusals"], 1.0);
        assert_eq!(refusals["_aws"]["Timestamp"], 1_234);
        assert_eq!(
            refusals["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Function"], ["Function", "Outcome"]])
        );
        assert!(metrics.take_emf(SystemTime::now(), None).is_empty());
    }

    #[test]
    fn a_deployed_function_publishes_under_its_own_name() {
        let writer = EmfWriter::buffer(Metrics::new()).named("hitpoints-RepairFunction-Ab12");
        writer.metrics().add("repair", Metric::RepairFailures, 1);
        writer.flush();
        let lines = writer.lines();
        let document: Value = serde_json::from_str(&lines[0]).expect("JSON");
        assert_eq!(document["Function"], "hitpoints-RepairFunction-Ab12");
        assert_eq!(document["RepairFailures"], 1.0);
    }

    #[test]
    fn prometheus_names_are_snake_case_with_their_unit_or_total() {
        assert_eq!(
            Metric::EventsWritten.prometheus_name(),
            "hitpoints_events_written_total"
        );
        assert_eq!(
            Metric::NewestRecordAge.prometheus_name(),
            "hitpoints_newest_record_age_milliseconds"
        );
        let metrics = Metrics::new();
        metrics.add_outcome("query", Metric::ServerErrors, "a\"b", 2);
        let text = metrics.prometheus();
        assert!(
            text.contains(
                "hitpoints_server_errors_total{function=\"query\",outcome=\"a\\\"b\"} 2\n"
            ),
            "{text}"
        );
        assert!(text.contains("# TYPE hitpoints_newest_record_age_milliseconds gauge\n"));
    }
}
