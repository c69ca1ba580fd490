//! `cargo run -p local`: hitpoints on this machine, with no AWS account.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use hitpoints::hp::Mode;
use local::audit::AuditArgs;
use local::{start, Auth, Options, Storage, DATA_DIR, EVENTS_TABLE};

/// hitpoints on this machine: the HTTP API on 127.0.0.1, an embedded DynamoDB, and the HP
/// projector following the events table's stream. With a command: check or rebuild the HP
/// snapshots, here or on AWS.
#[derive(Debug, Parser)]
#[command(name = "local", bin_name = "cargo run -p local --")]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Keep nothing: the data is gone on exit (default: keep it in .hitpoints/).
    #[arg(long, conflicts_with = "data_dir")]
    in_memory: bool,
    /// Keep the data in DIR.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Serve the API on 127.0.0.1:N (0 picks a free port).
    #[arg(long, value_name = "N", default_value_t = 3000)]
    port: u16,
    /// Put the embedded DynamoDB on 127.0.0.1:N, for other clients (default: a free port).
    #[arg(long, value_name = "N", default_value_t = 0)]
    dynamodb_port: u16,
    /// Who may call: `none` (every caller is an operator and the DM of every campaign) or `dev`
    /// (people sign in on the run's own development issuer, and each sees what their roles
    /// allow, as on AWS).
    #[arg(long, value_enum, default_value_t = Auth::None)]
    auth: Auth,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Compare every snapshot with the fold of its stream and report the missing, stale and
    /// wrong ones; writes nothing. Exit status 0: all agree; 1: some do not; 2: it failed.
    Verify(AuditArgs),
    /// Recompute every snapshot from the events table (parallel Scan), writing where one is
    /// missing, behind or wrong, each write conditional on what it read; safe while the
    /// projector runs, and to run again. Exit status 0: all agree now; 1: some do not; 2: it
    /// failed.
    Rebuild(AuditArgs),
    /// Bring into the global feed every event it lacks (events from before the feed, written
    /// by other code, or whose stream records were lost), exactly once, beside the live
    /// indexer; safe to run again and on a schedule. Exit status 0: every event is in the
    /// feed; 1: some characters failed; 2: it failed.
    RepairFeed(AuditArgs),
}

impl Args {
    fn options(self) -> Options {
        let storage = match (self.in_memory, self.data_dir) {
            (true, _) => Storage::InMemory,
            (false, Some(dir)) => Storage::Directory(dir),
            (false, None) => Storage::Directory(PathBuf::from(DATA_DIR)),
        };
        Options {
            port: self.port,
            dynamodb_port: self.dynamodb_port,
            storage,
            auth: self.auth,
            ..Options::default()
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = Args::parse();
    init_logging();
    if let Some(command) = args.command.take() {
        let result = match command {
            Command::Verify(audit) => local::audit::run(Mode::Verify, &audit).await,
            Command::Rebuild(audit) => local::audit::run(Mode::Rebuild, &audit).await,
            Command::RepairFeed(audit) => local::audit::repair_feed(&audit).await,
        };
        return match result {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::from(1),
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(2)
            }
        };
    }
    let options = args.options();
    let running = match start(&options).await {
        Ok(running) => running,
        Err(e) => {
            eprintln!("hitpoints could not start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let url = format!("http://{}", running.api_addr);
    let data = match &options.storage {
        Storage::InMemory => "in memory (gone on exit)".to_owned(),
        Storage::Directory(dir) => format!("in {}", dir.display()),
    };
    println!("hitpoints is listening on {url}");
    println!(
        "  data: {data}; embedded DynamoDB at {} (table {EVENTS_TABLE})",
        running.dynamodb_endpoint
    );
    println!("  try:  curl -s -X POST {url}/characters -H 'content-type: application/json' \\");
    println!("          -d '{{\"character_name\":\"Nuru\",\"hp_change\":8,\"note\":\"Init\"}}'");
    println!("  stop: Ctrl-C");
    shutdown_signal().await;
    println!("hitpoints is stopping");
    running.stop().await;
    ExitCode::SUCCESS
}

/// Request logs on stderr; the embedded DynamoDB's own logs only when they are errors (it warns
/// of every failed condition, which here is an ordinary 409). `RUST_LOG` overrides.
fn init_logging() {
    use tracing_subscriber::{fmt, EnvFilter};
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,dynoxide=error"));
    fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .init();
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {},
                    _ = term.recv() => {},
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Options, clap::Error> {
        let argv = std::iter::once("local").chain(args.iter().copied());
        Args::try_parse_from(argv).map(Args::options)
    }

    #[test]
    fn arguments() {
        Args::command().debug_assert();
        assert_eq!(parse(&[]).expect("no flags"), Options::default());
        let options = parse(&["--in-memory", "--port", "0"]).expect("valid");
        assert_eq!((options.storage, options.port), (Storage::InMemory, 0));
        let options = parse(&["--data-dir", "/tmp/hp"]).expect("valid");
        assert_eq!(options.storage, Storage::Directory("/tmp/hp".into()));
        assert!(parse(&["--port", "http"]).is_err_and(|e| e.to_string().contains("--port")));
        assert!(parse(&["--port"]).is_err());
        assert!(parse(&["--verbose"]).is_err_and(|e| e.to_string().contains("--verbose")));
        assert!(parse(&["--in-memory", "--data-dir", "x"]).is_err());
        assert_eq!(parse(&["--auth", "dev"]).expect("valid").auth, Auth::Dev);
        assert!(parse(&["--auth", "cognito"]).is_err());
        let options = parse(&["--dynamodb-port", "8000"]).expect("valid");
        assert_eq!(options.dynamodb_port, 8000);
    }

    fn audit(args: &[&str]) -> Result<(Mode, AuditArgs), clap::Error> {
        let argv = std::iter::once("local").chain(args.iter().copied());
        match Args::try_parse_from(argv)?.command {
            Some(Command::Verify(a)) => Ok((Mode::Verify, a)),
            Some(Command::Rebuild(a)) => Ok((Mode::Rebuild, a)),
            Some(Command::RepairFeed(_)) => panic!("repair-feed is not an audit"),
            None => panic!("a command"),
        }
    }

    #[test]
    fn verify_and_rebuild_arguments() {
        let (mode, args) = audit(&["verify"]).expect("no flags");
        assert_eq!(mode, Mode::Verify);
        assert_eq!(args.segments, 4);
        assert_eq!(args.data_dir, PathBuf::from(DATA_DIR));
        assert!(!args.aws && args.endpoint_url.is_none());
        let (mode, args) = audit(&[
            "rebuild",
            "--segments",
            "16",
            "--aws",
            "--profile",
            "dm",
            "--region",
            "eu-west-1",
            "--events-table",
            "ev",
            "--snapshots-table",
            "sn",
        ])
        .expect("valid");
        assert_eq!(mode, Mode::Rebuild);
        assert_eq!(
            (
                args.segments,
                args.profile.as_deref(),
                args.region.as_deref()
            ),
            (16, Some("dm"), Some("eu-west-1"))
        );
        assert_eq!(
            (args.events_table.as_str(), args.snapshots_table.as_str()),
            ("ev", "sn")
        );
        assert!(audit(&["verify", "--segments", "0"]).is_err());
        assert!(
            audit(&["verify", "--profile", "dm"]).is_err(),
            "--profile needs --aws"
        );
        assert!(audit(&["verify", "--aws", "--endpoint-url", "http://x"]).is_err());
        assert!(audit(&["repair"]).is_err());
        let argv = [
            "local",
            "repair-feed",
            "--feed-table",
            "fd",
            "--segments",
            "2",
        ];
        match Args::try_parse_from(argv).expect("valid").command {
            Some(Command::RepairFeed(args)) => {
                assert_eq!((args.feed_table.as_str(), args.segments), ("fd", 2));
            }
            other => panic!("repair-feed: {other:?}"),
        }
    }

    #[test]
    fn help_lists_every_flag() {
        let help = Args::command().render_long_help().to_string();
        for command in ["verify", "rebuild", "repair-feed"] {
            assert!(
                help.contains(command),
                "{command} missing from --help:\n{help}"
            );
        }
        let mut verify = Args::command();
        let verify = verify
            .find_subcommand_mut("verify")
            .expect("verify")
            .render_long_help()
            .to_string();
        for flag in [
            "--events-table",
            "--snapshots-table",
            "--feed-table",
            "--segments",
            "--aws",
            "--profile",
            "--region",
            "--endpoint-url",
            "--data-dir",
        ] {
            assert!(
                verify.contains(flag),
                "{flag} missing from verify --help:\n{verify}"
            );
        }
        for flag in [
            "--in-memory",
            "--data-dir",
            "--port",
            "--dynamodb-port",
            "--help",
        ] {
            assert!(help.contains(flag), "{flag} missing from --help:\n{help}");
        }
    }
}
