//! The `repair` Lambda: the feed's repair and the snapshots' verify on a schedule (EventBridge),
//! a page of the events table at a time, going on from a checkpoint item across invocations and
//! stopping when the invocation's time runs out (see `hitpoints::upkeep`).
//!
//! Events recorded in the last ten minutes are left to the live consumers (`Upkeep::grace`).
//!
//! Two schedules invoke it: the run's (the template's `RepairSchedule`, daily by default), whose
//! standard scheduled event starts a run or goes on with the unfinished one, and the
//! resumption's (every 15 minutes, input `{"resume": true}`), which only goes on with an
//! unfinished run: a run longer than one invocation's 15 minutes finishes within the hour, and
//! an idle tick costs one read.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hitpoints::config::{EVENTS_TABLE_VAR, FEED_TABLE_VAR, SNAPSHOTS_TABLE_VAR};
use hitpoints::metrics::{EmfWriter, Metric};
use hitpoints::upkeep::{Budget, StepReport, Trigger, Upkeep};
use lambda_runtime::{Error, LambdaEvent};
use serde_json::{json, Value};

/// The environment variables this function reads at start-up (template.yaml sets them).
pub const REQUIRED_VARS: [&str; 3] = [EVENTS_TABLE_VAR, SNAPSHOTS_TABLE_VAR, FEED_TABLE_VAR];
/// Its metrics' `Function` dimension.
pub const FUNCTION: &str = "repair";
/// Time kept back from the invocation's deadline: the last page and the checkpoint's write
/// take a few seconds even when DynamoDB throttles them.
pub const RESERVE: Duration = Duration::from_secs(60);

/// What the function keeps between invocations.
#[derive(Debug)]
pub struct Deps {
    pub upkeep: Upkeep,
    /// Where each invocation's metrics go (standard output, on Lambda).
    pub emf: EmfWriter,
    /// Time kept back from the deadline.
    pub reserve: Duration,
}

/// One invocation: pages until the time runs out or the run finishes. Answers what it did
/// (Lambda keeps it with the invocation's record); its metrics are written before.
pub async fn handler(deps: &Deps, event: LambdaEvent<Value>) -> Result<Value, Error> {
    let trigger = if event.payload.get("resume") == Some(&Value::Bool(true)) {
        Trigger::Resume
    } else {
        Trigger::Schedule
    };
    let budget = Budget {
        deadline: deadline(event.context.deadline, SystemTime::now()),
        reserve: deps.reserve,
    };
    // Counted even when the invocation fails part-way: the pages before are done.
    let mut report = StepReport::default();
    let result = deps.upkeep.step(trigger, budget, &mut report).await;
    count(deps, &report);
    deps.emf.flush();
    result?;
    Ok(json!({
        "run": report.checkpoint.run,
        "started": report.started,
        "finished": report.finished,
        "overtaken": report.overtaken,
        "pages": report.pages,
        "events": report.events,
        "feed_entries": report.feed_entries,
        "snapshots_fixed": report.snapshots_fixed,
        "failures": report.failures,
        "run_pages": report.checkpoint.pages,
    }))
}

/// The invocation's deadline (milliseconds since the epoch, as Lambda gives it) as an instant.
fn deadline(deadline_ms: u64, now: SystemTime) -> Instant {
    let now_ms = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    Instant::now() + Duration::from_millis(deadline_ms.saturating_sub(now_ms))
}

fn count(deps: &Deps, report: &StepReport) {
    let metrics = deps.emf.metrics();
    metrics.add(FUNCTION, Metric::RepairRuns, u64::from(report.started));
    metrics.add(
        FUNCTION,
        Metric::RepairRunsCompleted,
        u64::from(report.finished),
    );
    metrics.add(FUNCTION, Metric::RepairEventsChecked, report.events);
    metrics.add(FUNCTION, Metric::RepairFeedEntries, report.feed_entries);
    metrics.add(FUNCTION, Metric::RepairFailures, report.failures);
    for (verdict, n) in &report.snapshots_fixed {
        metrics.add_outcome(FUNCTION, Metric::RepairSnapshotsFixed, verdict, *n);
    }
}
