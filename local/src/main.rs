//! `cargo run -p local`: hitpoints on this machine, with no AWS account.

use std::path::PathBuf;
use std::process::ExitCode;

use local::{start, Options, Storage, EVENTS_TABLE};

const USAGE: &str = "usage: cargo run -p local -- [--in-memory] [--data-dir DIR] [--port N]
  --in-memory     keep nothing (default: keep data in .hitpoints/)
  --data-dir DIR  keep data in DIR
  --port N        serve the API on 127.0.0.1:N (default 3000; 0 picks a free port)
  --dynamodb-port N  the embedded DynamoDB on 127.0.0.1:N (default: a free port)";

fn parse_args(args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options::default();
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--in-memory" => options.storage = Storage::InMemory,
            "--data-dir" => {
                let dir = args.next().ok_or("--data-dir needs a directory")?;
                options.storage = Storage::Directory(PathBuf::from(dir));
            }
            "--port" => options.port = port_arg("--port", args.next())?,
            "--dynamodb-port" => options.dynamodb_port = port_arg("--dynamodb-port", args.next())?,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(options)
}

fn port_arg(flag: &str, value: Option<String>) -> Result<u16, String> {
    let value = value.ok_or(format!("{flag} needs a number"))?;
    value
        .parse()
        .map_err(|_| format!("{flag} needs a number from 0 to 65535, got {value:?}"))
}

#[tokio::main]
async fn main() -> ExitCode {
    init_logging();
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("{message}");
            }
            eprintln!("{USAGE}");
            return if message.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    let running = match start(&options).await {
        Ok(running) => running,
        Err(e) => {
            eprintln!("hitpoints could not start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let url = format!("http://{}", running.api_addr);
    let data = match &options.storage {
        Storage::InMemory => "in memory (gone on exit)".to_string(),
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
    use lambda_http::tracing::subscriber::{fmt, EnvFilter};
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

    fn parse(args: &[&str]) -> Result<Options, String> {
        parse_args(args.iter().map(|a| a.to_string()))
    }

    #[test]
    fn arguments() {
        assert_eq!(parse(&[]), Ok(Options::default()));
        let options = parse(&["--in-memory", "--port", "0"]).expect("valid");
        assert_eq!((options.storage, options.port), (Storage::InMemory, 0));
        assert!(parse(&["--port", "http"]).is_err_and(|e| e.contains("--port")));
        assert!(parse(&["--port"]).is_err());
        assert!(parse(&["--verbose"]).is_err_and(|e| e.contains("--verbose")));
        let options = parse(&["--dynamodb-port", "8000"]).expect("valid");
        assert_eq!(options.dynamodb_port, 8000);
    }
}
