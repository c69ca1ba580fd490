//! `verify` and `rebuild`: the snapshot table checked against, or recomputed from, the events
//! table, on the local run's data, any DynamoDB-API endpoint, or AWS.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use hitpoints::config::{EVENTS_TABLE_VAR, FEED_TABLE_VAR, SNAPSHOTS_TABLE_VAR};
use hitpoints::feed::FeedStore;
use hitpoints::feed::{Indexer, RepairProgress, RepairReport};
use hitpoints::hp::SnapshotStore;
use hitpoints::hp::{Audit, Mode, Progress, Report};
use hitpoints::store::EventStore;

use crate::{
    dynamodb, Database, StartError, Storage, DATA_DIR, EVENTS_TABLE, FEED_TABLE, SNAPSHOTS_TABLE,
};

/// Where the tables are, and how to read them.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct AuditArgs {
    /// The events table (default: the functions' variable, else the local run's).
    #[arg(long, value_name = "NAME", env = EVENTS_TABLE_VAR, default_value = EVENTS_TABLE)]
    pub events_table: String,
    /// The snapshot table (default: the functions' variable, else the local run's).
    #[arg(long, value_name = "NAME", env = SNAPSHOTS_TABLE_VAR, default_value = SNAPSHOTS_TABLE)]
    pub snapshots_table: String,
    /// The feed table, for `repair-feed` (default: the functions' variable, else the local run's).
    #[arg(long, value_name = "NAME", env = FEED_TABLE_VAR, default_value = FEED_TABLE)]
    pub feed_table: String,
    /// `repair-feed`: the feed of this campaign only (a uuid; the default campaign's is the nil
    /// uuid). Default: every campaign's.
    #[arg(long, value_name = "ID")]
    pub campaign: Option<uuid::Uuid>,
    /// Segments of the parallel Scans: Scan requests in flight at once, per table.
    #[arg(long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub segments: u32,
    /// Reach AWS: credentials and region from the environment or the AWS CLI's files, as the
    /// AWS CLI takes them.
    #[arg(long, conflicts_with = "endpoint_url")]
    pub aws: bool,
    /// With --aws: the named profile of the AWS CLI's files (else AWS_PROFILE, else default).
    #[arg(long, value_name = "NAME", requires = "aws")]
    pub profile: Option<String>,
    /// With --aws: the region (else AWS_REGION, else the profile's).
    #[arg(long, value_name = "REGION", requires = "aws")]
    pub region: Option<String>,
    /// A DynamoDB-API server: the local run's `--dynamodb-port` while it runs, DynamoDB Local.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// The local run's data, when neither --aws nor --endpoint-url is given (stop the local run
    /// first, or reach it with --endpoint-url).
    #[arg(long, value_name = "DIR", default_value = DATA_DIR)]
    pub data_dir: PathBuf,
}

/// Runs the audit and prints its progress (stderr) and report (stdout). `Ok(true)`: every
/// snapshot agrees with its stream (after the rebuild's writes, for a rebuild).
pub async fn run(mode: Mode, args: &AuditArgs) -> Result<bool, AuditError> {
    let (client, database) = connect(args).await?;
    let events = EventStore::new(client.clone(), &args.events_table);
    let snapshots = SnapshotStore::new(client, &args.snapshots_table);
    let progress = Arc::new(Progress::default());
    let line = {
        let progress = Arc::clone(&progress);
        move |seconds: f64| {
            use std::sync::atomic::Ordering::Relaxed;
            let events = progress.events.load(Relaxed);
            format!(
                "{events} events of {} characters read ({:.0} events/s); {} characters checked, {} snapshots written",
                progress.characters.load(Relaxed),
                events as f64 / seconds,
                progress.checked.load(Relaxed),
                progress.written.load(Relaxed),
            )
        }
    };
    let audit = Audit {
        events: &events,
        snapshots: &snapshots,
        segments: args.segments,
        progress: &progress,
    };
    let report = with_progress(database, line, audit.run(mode)).await?;
    print!("{}", summary(mode, &report));
    Ok(report.all_agree(mode))
}

/// `repair-feed`: brings into the feed every event it lacks, printing progress (stderr) and a
/// summary (stdout). `Ok(true)`: every character is in the feed up to its last event.
pub async fn repair_feed(args: &AuditArgs) -> Result<bool, AuditError> {
    let (client, database) = connect(args).await?;
    let indexer = Indexer::new(
        EventStore::new(client.clone(), &args.events_table),
        FeedStore::new(client, &args.feed_table),
    );
    let progress = Arc::new(RepairProgress::default());
    let line = {
        let progress = Arc::clone(&progress);
        move |seconds: f64| {
            use std::sync::atomic::Ordering::Relaxed;
            let events = progress.events.load(Relaxed);
            format!(
                "{events} events of {} characters read ({:.0} events/s); {} characters checked, {} events indexed",
                progress.characters.load(Relaxed),
                events as f64 / seconds,
                progress.checked.load(Relaxed),
                progress.indexed.load(Relaxed),
            )
        }
    };
    let report = with_progress(
        database,
        line,
        indexer.repair(args.segments, args.campaign, &progress),
    )
    .await?;
    print!("{}", repair_summary(&report));
    Ok(report.is_complete())
}

/// Runs `work` with a progress line on stderr every second, then closes the local run's data
/// if it was opened for it.
async fn with_progress<T>(
    database: Option<Database>,
    line: impl Fn(f64) -> String + Send + 'static,
    work: impl std::future::Future<Output = T>,
) -> T {
    let ticker = tokio::spawn(print_every_second(line));
    let result = work.await;
    ticker.abort();
    if let Some(database) = database {
        database.close().await;
    }
    result
}

/// The repair's report, for people.
pub fn repair_summary(report: &RepairReport) -> String {
    let ids = |ids: &[uuid::Uuid]| {
        ids.iter()
            .map(uuid::Uuid::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    };
    format!(
        "repair-feed: {} events of {} characters in {:.2} s\n  repaired:  {}  {}\n  indexed:   {} events\n  failed:    {}  {}\n{}{}\n",
        report.events,
        report.characters,
        report.elapsed.as_secs_f64(),
        report.repaired.len(),
        ids(&report.repaired),
        report.indexed,
        report.failed.len(),
        ids(&report.failed),
        if report.unreadable.is_empty() {
            String::new()
        } else {
            format!(
                "  unreadable items of no character: {}  {}\n",
                report.unreadable.len(),
                report.unreadable.join(" ")
            )
        },
        if report.is_complete() {
            "every event is in the feed"
        } else {
            "some characters could not be brought into the feed (see the log)"
        }
    )
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("no local run's data in {0}: start `cargo run -p local` once, or give --data-dir, --endpoint-url or --aws")]
    NoLocalData(PathBuf),
    #[error("cannot open the local run's data: {0}")]
    Local(#[from] StartError),
    #[error(transparent)]
    Store(#[from] hitpoints::Error),
}

async fn connect(args: &AuditArgs) -> Result<(Client, Option<Database>), AuditError> {
    if args.aws {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(hitpoints::store::https_client());
        if let Some(profile) = &args.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = &args.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        return Ok((Client::new(&loader.load().await), None));
    }
    if let Some(endpoint) = &args.endpoint_url {
        return Ok((dynamodb::local_client(endpoint), None));
    }
    // Reading must not create the local run's data where there is none.
    if !args.data_dir.join(crate::DATABASE_FILE).is_file() {
        return Err(AuditError::NoLocalData(args.data_dir.clone()));
    }
    let database = Database::open(&Storage::Directory(args.data_dir.clone()), 0).await?;
    Ok((dynamodb::local_client(&database.endpoint), Some(database)))
}

/// A line on stderr every second, from the seconds since the start: progress.
async fn print_every_second(line: impl Fn(f64) -> String) {
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.tick().await;
    loop {
        tick.tick().await;
        eprintln!("{}", line(started.elapsed().as_secs_f64()));
    }
}

/// The report, for people: counts first, then the ids of each kind of disagreement.
pub fn summary(mode: Mode, report: &Report) -> String {
    use std::fmt::Write;
    let name = match mode {
        Mode::Verify => "verify",
        Mode::Rebuild => "rebuild",
    };
    let mut out = format!(
        "{name}: {} events of {} characters in {:.2} s ({:.0} events/s)\n",
        report.events,
        report.characters,
        report.elapsed.as_secs_f64(),
        report.events_per_second()
    );
    let _ = writeln!(out, "  agree:      {}", report.agreed);
    for (kind, ids) in [
        ("missing", &report.missing),
        ("stale", &report.stale),
        ("wrong", &report.wrong),
        ("orphaned", &report.orphaned),
        ("unreadable", &report.unreadable),
        ("failed", &report.failed),
    ] {
        let _ = writeln!(
            out,
            "  {:<10} {}{}",
            format!("{kind}:"),
            ids.len(),
            list(ids)
        );
    }
    if mode == Mode::Rebuild {
        let _ = writeln!(out, "  written:    {}", report.written);
        let contended = &report.contended;
        let _ = writeln!(out, "  contended:  {}{}", contended.len(), list(contended));
    }
    let verdict = if report.all_agree(mode) {
        "every snapshot agrees with its stream"
    } else if mode == Mode::Verify {
        "some snapshots disagree with their streams: `rebuild` corrects them"
    } else {
        "some snapshots are still not their streams' fold (see above)"
    };
    let _ = writeln!(out, "{verdict}");
    out
}

fn list(ids: &[String]) -> String {
    if ids.is_empty() {
        String::new()
    } else {
        format!("  {}", ids.join(" "))
    }
}
