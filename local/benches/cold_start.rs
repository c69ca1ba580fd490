//! Cold start as a Lambda caller feels it: for each function, its initialisation (process start
//! to its first `GET /runtime/invocation/next`), its first invocation (event handed over to
//! response received, which opens TLS to DynamoDB), cold = their sum, the warm median, and the
//! peak RSS. Each release binary is started by our own Runtime API, against dynoxide behind a
//! TLS terminator whose certificate (RSA-2048, made here) is trusted through `SSL_CERT_FILE`
//! together with the system bundle, as a function on Lambda trusts DynamoDB's.
//!
//! Beside the three functions, two reference Lambdas built from their own workspace
//! (`benches/reference`): a hello-world with no SDK (the floor) and a bare PutItem with the
//! SDK's defaults; each figure is given as a ratio to both.
//!
//! `cargo bench -p local --bench cold_start` runs it on a full core;
//! `cargo bench -p local --bench cold_start -- --memory 256` also at the CPU share Lambda gives
//! 256 MB (a cgroup quota of 256/1769 of a core over a 20 ms period; needs a writable cgroup-v1
//! cpu controller, and says so when there is none). `--runs N` cold starts per function
//! (default 20), `--warm N` warm invocations after each (default 10).
//!
//! CPU columns: the process's own CPU time (all its threads' schedstat) up to its first
//! response, and per warm invocation.
//!
//! Prints figures; asserts every response (a 404 or a batch failure measured fast is not a
//! result), nothing about time.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path as UrlPath, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::Router;
use hitpoints::rules::{
    Command as RulesCommand, Defences, HitDice, RulesSetup, Ruleset, MAX_AMOUNT,
};
use hitpoints::store::{CommandRequest, EventStore};
use hitpoints::ExpectedVersion;
use hitpoints_testkit::{event, insert_record};
use local::dynamodb::{
    create_events_table, create_feed_table, create_snapshots_table, local_client,
};
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Mutex};
use uuid::Uuid;

const EVENTS_TABLE: &str = "bench-events";
const SNAPSHOTS_TABLE: &str = "bench-snapshots";
const FEED_TABLE: &str = "bench-feed";
const CGROUP: &str = "/sys/fs/cgroup/cpu/hitpoints-bench";

struct Settings {
    memory: Option<u32>,
    runs: usize,
    warm: usize,
}

fn settings() -> Settings {
    let mut settings = Settings {
        memory: None,
        runs: 20,
        warm: 10,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = match arg.as_str() {
            "--memory" | "--runs" | "--warm" => args.next().and_then(|v| v.parse::<u32>().ok()),
            _ => continue, // `cargo bench` adds `--bench`.
        };
        match (arg.as_str(), value) {
            ("--memory", memory) => settings.memory = memory,
            ("--runs", Some(n)) => settings.runs = (n as usize).max(1),
            ("--warm", Some(n)) => settings.warm = (n as usize).max(1),
            _ => {}
        }
    }
    settings
}

fn main() {
    let settings = settings();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let built = Command::new(&cargo)
        .current_dir(&root)
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
    assert!(built.success(), "release build of the functions failed");
    let reference = root.join("local/benches/reference");
    let built = Command::new(&cargo)
        .current_dir(&reference)
        .env_remove("CARGO_TARGET_DIR")
        .args(["build", "--release", "--locked"])
        .status()
        .expect("cargo build");
    assert!(
        built.success(),
        "release build of the reference Lambdas failed"
    );

    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let dynamodb = Dynamo::start().await;
        let binaries = [
            ("hello (no SDK)", reference.join("target/release/bench-hello"), Workload::Hello),
            ("PutItem (SDK defaults)", reference.join("target/release/bench-putitem"), Workload::PutItem),
            ("append (any)", target.join("release/append"), Workload::Append),
            ("append (damage)", target.join("release/append"), Workload::Damage),
            ("query (page)", target.join("release/query"), Workload::Query),
            ("hp-projector", target.join("release/hp-projector"), Workload::Project),
        ];
        for (name, binary, _) in &binaries {
            let size = std::fs::metadata(binary).map(|m| m.len()).unwrap_or(0);
            println!("{name:<24} {} ({:.1} MB)", binary.display(), size as f64 / 1e6);
        }
        let mut shares = vec![None];
        if let Some(memory) = settings.memory {
            match Quota::set(memory) {
                Ok(quota) => shares.push(Some(quota)),
                Err(e) => println!(
                    "\n--memory {memory}: no CPU quota ({e}): cgroup-v1 cpu at {CGROUP} is not \
                     writable here; only the full-core figures follow"
                ),
            }
        }
        for quota in shares {
            let label = match &quota {
                None => "a full core".to_owned(),
                Some(q) => format!("{} MB's CPU share ({:.1}% of a core)", q.memory, q.percent()),
            };
            println!(
                "\ncold = init + first invocation (over TLS), medians of {} starts; warm: median of {} invocations after each; at {label}",
                settings.runs, settings.warm
            );
            println!(
                "{:<24} {:>8} {:>8} {:>8} {:>8} {:>9} {:>8} {:>9} {:>9} {:>9} {:>9}",
                "", "init", "first", "cold", "÷hello", "÷PutItem", "warm", "÷PutItem", "cold CPU", "warm CPU", "peak RSS"
            );
            let throttled_before = quota.as_ref().map(|_| Quota::throttled());
            let mut results = Vec::new();
            for (name, binary, workload) in &binaries {
                let figures =
                    measure(binary, *workload, &dynamodb, quota.as_ref(), &settings).await;
                results.push((*name, figures));
            }
            let hello = results[0].1.clone();
            let putitem = results[1].1.clone();
            for (name, f) in &results {
                println!(
                    "{name:<24} {:>5.1} ms {:>5.1} ms {:>5.1} ms {:>7.1}× {:>8.2}× {:>5.2} ms {:>8.2}× {:>6.1} ms {:>6.2} ms {:>5.1} MiB",
                    ms(f.init),
                    ms(f.first),
                    ms(f.cold),
                    ms(f.cold) / ms(hello.cold),
                    ms(f.cold) / ms(putitem.cold),
                    ms(f.warm),
                    ms(f.warm) / ms(putitem.warm),
                    ms(f.cold_cpu),
                    ms(f.warm_cpu),
                    f.peak_rss_kib as f64 / 1024.0
                );
            }
            if let Some(before) = throttled_before {
                let bitten = Quota::throttled().saturating_sub(before);
                if bitten > 0 {
                    println!("the quota bit: the group was throttled {bitten} times");
                } else {
                    println!("WARNING: the quota never bit (nr_throttled did not grow): these are not throttled figures");
                }
            }
            if quota.is_some() {
                // Every function in it has exited: the group can go.
                let _ = std::fs::remove_dir(CGROUP);
            }
        }
    });
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[derive(Debug, Clone)]
struct Figures {
    init: Duration,
    first: Duration,
    cold: Duration,
    warm: Duration,
    /// CPU the process spent up to its first response, and per warm invocation after it.
    cold_cpu: Duration,
    warm_cpu: Duration,
    peak_rss_kib: u64,
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

/// Starts `binary` `runs` times, each for one cold and `warm` warm invocations.
async fn measure(
    binary: &Path,
    workload: Workload,
    dynamodb: &Dynamo,
    quota: Option<&Quota>,
    settings: &Settings,
) -> Figures {
    let (mut init, mut first, mut cold, mut warm) = (vec![], vec![], vec![], vec![]);
    let (mut cold_cpu, mut warm_cpu) = (vec![], vec![]);
    let mut peak = 0;
    for _ in 0..settings.runs {
        let mut api = RuntimeApi::start().await;
        // On Lambda the event is waiting when the function first asks for one: queue it first.
        api.queue(dynamodb.payload(workload).await).await;
        if quota.is_some() {
            // A new sandbox starts with its CPU budget whole: let the group's last period end,
            // so no start pays for the throttling of the process before it.
            tokio::time::sleep(Duration::from_micros(2 * Quota::PERIOD_US)).await;
        }
        let started = Instant::now();
        let mut child = spawn(binary, api.addr, dynamodb, quota);
        let ready = api.next_requested(&mut child).await;
        let init_time = ready.duration_since(started);
        let (answered, response) = api.response(&mut child).await;
        workload.check(&response);
        let first_time = answered.duration_since(ready);
        first.push(first_time);
        cold.push(init_time + first_time);
        cold_cpu.push(cpu_time(child.id()));
        for _ in 0..settings.warm {
            let payload = dynamodb.payload(workload).await;
            let handed = Instant::now();
            api.queue(payload).await;
            let (answered, response) = api.response(&mut child).await;
            workload.check(&response);
            warm.push(answered.duration_since(handed));
        }
        let spent =
            cpu_time(child.id()).saturating_sub(*cold_cpu.last().unwrap_or(&Duration::ZERO));
        warm_cpu.push(spent / settings.warm.max(1) as u32);
        init.push(init_time);
        peak = peak.max(peak_rss_kib(child.id()));
        let _ = child.kill();
        let _ = child.wait();
    }
    Figures {
        init: median(init),
        first: median(first),
        cold: median(cold),
        warm: median(warm),
        cold_cpu: median(cold_cpu),
        warm_cpu: median(warm_cpu),
        peak_rss_kib: peak,
    }
}

/// CPU time of every thread of `pid` so far (schedstat: nanoseconds on a CPU).
fn cpu_time(pid: u32) -> Duration {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Duration::ZERO;
    };
    let nanos: u64 = tasks
        .filter_map(|task| {
            let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
            stat.split_whitespace().next()?.parse::<u64>().ok()
        })
        .sum();
    Duration::from_nanos(nanos)
}

fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status.lines().find_map(|l| {
                l.strip_prefix("VmHWM:")?
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse()
                    .ok()
            })
        })
        .unwrap_or(0)
}

/// Starts a function as Lambda would: its Runtime API, region, credentials, tables and the
/// DynamoDB endpoint (over TLS) in the environment, nothing else.
fn spawn(binary: &Path, api: SocketAddr, dynamodb: &Dynamo, quota: Option<&Quota>) -> Child {
    let mut command = Command::new(binary);
    command
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", api.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "hitpoints-bench")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/hitpoints-bench")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_DEFAULT_REGION", "eu-west-1")
        .env("AWS_ACCESS_KEY_ID", "AKIDBENCH")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("AWS_SESSION_TOKEN", "bench")
        .env("AWS_ENDPOINT_URL_DYNAMODB", &dynamodb.tls_endpoint)
        .env("SSL_CERT_FILE", &dynamodb.ca_bundle)
        .env("HITPOINTS_EVENTS_TABLE", EVENTS_TABLE)
        .env("HITPOINTS_SNAPSHOTS_TABLE", SNAPSHOTS_TABLE)
        .env("HITPOINTS_FEED_TABLE", FEED_TABLE)
        .env("PATH", "/usr/bin:/bin")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    match quota {
        None => command.spawn().expect("start the function"),
        // A thread of ours joins the group and starts the function from there: a child starts
        // in its parent thread's cgroup (v1), so the function runs under the quota from its
        // first instruction, and nothing else of the bench does.
        Some(_) => std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let tid = std::fs::read_link("/proc/thread-self")
                        .ok()
                        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                        .expect("this thread's id");
                    std::fs::write(format!("{CGROUP}/tasks"), tid).expect("join the cgroup");
                    command.spawn().expect("start the function")
                })
                .join()
                .expect("the spawning thread")
        }),
    }
}

/// What a function is invoked with, and what a good answer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Workload {
    Hello,
    PutItem,
    Append,
    /// `POST /characters/{id}/damage` on a character under the rules.
    Damage,
    Query,
    Project,
}

impl Workload {
    #[track_caller]
    fn check(self, response: &Value) {
        match self {
            Workload::Hello => assert_eq!(response["hello"], true, "{response}"),
            Workload::PutItem => assert_eq!(response["written"], true, "{response}"),
            Workload::Append | Workload::Query => {
                let (status, events) = match self {
                    Workload::Append => (201, 1),
                    _ => (200, 50),
                };
                assert_eq!(response["statusCode"], status, "{response}");
                let body: Value = response["body"]
                    .as_str()
                    .and_then(|b| serde_json::from_str(b).ok())
                    .unwrap_or(Value::Null);
                assert_eq!(
                    body["events"].as_array().map(Vec::len),
                    Some(events),
                    "{response}"
                );
            }
            Workload::Damage => {
                assert_eq!(response["statusCode"], 201, "{response}");
                let body: Value = response["body"]
                    .as_str()
                    .and_then(|b| serde_json::from_str(b).ok())
                    .unwrap_or(Value::Null);
                assert_eq!(body["event"]["event_type"], "damaged", "{response}");
            }
            Workload::Project => assert_eq!(
                response["batchItemFailures"].as_array().map(Vec::len),
                Some(0),
                "{response}"
            ),
        }
    }
}

/// dynoxide in-process, seeded, behind a TLS terminator.
struct Dynamo {
    store: EventStore,
    tls_endpoint: String,
    ca_bundle: PathBuf,
    append_to: Uuid,
    damage_to: Uuid,
    read_from: Uuid,
}

impl Dynamo {
    async fn start() -> Dynamo {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let plain = listener.local_addr().expect("address");
        let db = dynoxide::Database::memory().expect("a database");
        tokio::spawn(dynoxide::server::serve_on(listener, db));
        let client = local_client(&format!("http://{plain}"));
        create_events_table(&client, EVENTS_TABLE, false)
            .await
            .expect("table");
        create_snapshots_table(&client, SNAPSHOTS_TABLE)
            .await
            .expect("table");
        // The query function's third table: named at start-up, not read by the page it serves.
        create_feed_table(&client, FEED_TABLE).await.expect("table");
        let store = EventStore::new(client, EVENTS_TABLE);
        // The character appended to, and one with a page of 50 events to read.
        let append_to = Uuid::new_v4();
        store
            .append(
                append_to,
                ExpectedVersion::NoStream,
                vec![event("Nuru", 8, "Init")],
            )
            .await
            .expect("seed");
        // A character under the rules with room for every hit of the bench.
        let damage_to = Uuid::new_v4();
        let setup = RulesSetup {
            max_hp: MAX_AMOUNT,
            hp: None,
            hit_dice: HitDice::default(),
            con_modifier: 0,
            defences: Defences::default(),
            ruleset: Ruleset::Srd2024,
        };
        let create = CommandRequest {
            command: RulesCommand::Rules(setup),
            note: None,
            event_id: None,
            expected: ExpectedVersion::NoStream,
            dry_run: false,
            character_name: Some("Kethra".into()),
            campaign: hitpoints::domain::DEFAULT_CAMPAIGN,
        };
        store.command(damage_to, create).await.expect("seed");
        let read_from = Uuid::new_v4();
        let page = (0..50)
            .map(|i| event("Vex", -i, "a hit of a long fight"))
            .collect();
        store
            .append(read_from, ExpectedVersion::NoStream, page)
            .await
            .expect("seed");
        let (tls_endpoint, ca_bundle) = tls_terminator(plain).await;
        Dynamo {
            store,
            tls_endpoint,
            ca_bundle,
            append_to,
            damage_to,
            read_from,
        }
    }

    /// The next invocation's event: fresh records for the projector every time.
    async fn payload(&self, workload: Workload) -> Value {
        match workload {
            Workload::Hello => json!({"hello": true}),
            Workload::PutItem => json!({}),
            Workload::Append => api_gateway(
                "POST",
                &format!("/characters/{}/events", self.append_to),
                "",
                &json!({"events": [{"character_name": "Nuru", "hp_change": -1, "note": "a hit"}]})
                    .to_string(),
            ),
            Workload::Damage => api_gateway(
                "POST",
                &format!("/characters/{}/damage", self.damage_to),
                "",
                &json!({"amount": 1, "type": "fire"}).to_string(),
            ),
            Workload::Query => api_gateway(
                "GET",
                &format!("/characters/{}/events", self.read_from),
                "limit=50",
                "",
            ),
            Workload::Project => {
                let stream = Uuid::new_v4();
                let stored = self
                    .store
                    .append(
                        stream,
                        ExpectedVersion::NoStream,
                        vec![event("Kel", 9, "Init")],
                    )
                    .await
                    .expect("a fresh character");
                json!({"Records": [insert_record(stream, &stored.events[0], 1)]})
            }
        }
    }
}

/// An API Gateway HTTP API (payload 2.0) event.
fn api_gateway(method: &str, path: &str, query: &str, body: &str) -> Value {
    let mut event: Value =
        serde_json::from_str(include_str!("../../events/apigw-read-events.json")).expect("sample");
    event["rawPath"] = json!(path);
    event["rawQueryString"] = json!(query);
    event["requestContext"]["http"]["method"] = json!(method);
    event["requestContext"]["http"]["path"] = json!(path);
    event["routeKey"] = json!(format!("{method} {path}"));
    event["pathParameters"] = Value::Null;
    event["queryStringParameters"] = Value::Null;
    if body.is_empty() {
        event["body"] = Value::Null;
    } else {
        event["body"] = json!(body);
        event["headers"]["content-type"] = json!("application/json");
    }
    event
}

/// A TLS terminator in front of `plain`, with an RSA-2048 certificate for `localhost` signed by
/// a CA made here; returns the endpoint and a CA file of the system bundle plus that CA.
async fn tls_terminator(plain: SocketAddr) -> (String, PathBuf) {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, PKCS_RSA_SHA256,
    };
    let ca_key = KeyPair::generate_for(&PKCS_RSA_SHA256).expect("a CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "hitpoints bench CA");
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key).expect("a CA");
    let key = KeyPair::generate_for(&PKCS_RSA_SHA256).expect("a key");
    let params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .expect("params");
    let leaf = params.signed_by(&key, &ca).expect("a certificate");

    let system = std::fs::read_to_string("/etc/ssl/certs/ca-certificates.crt").unwrap_or_default();
    let bundle =
        std::env::temp_dir().join(format!("hitpoints-bench-ca-{}.pem", std::process::id()));
    std::fs::write(&bundle, format!("{system}\n{}", ca.pem())).expect("write the CA bundle");

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone(), ca.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .expect("a server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // Nagle off on both sides, or the figures carry delayed-ACK stalls.
                let _ = socket.set_nodelay(true);
                let Ok(mut tls) = acceptor.accept(socket).await else {
                    return;
                };
                let Ok(mut upstream) = TcpStream::connect(plain).await else {
                    return;
                };
                let _ = upstream.set_nodelay(true);
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut upstream).await;
            });
        }
    });
    (format!("https://localhost:{port}"), bundle)
}

/// Our own Lambda Runtime API for one process: hands out events, collects responses.
struct RuntimeApi {
    addr: SocketAddr,
    next_seen: mpsc::Receiver<Instant>,
    events: mpsc::Sender<Value>,
    responses: mpsc::Receiver<(Instant, Value)>,
}

#[derive(Clone)]
struct ApiState {
    next_seen: mpsc::Sender<Instant>,
    events: Arc<Mutex<mpsc::Receiver<Value>>>,
    responses: mpsc::Sender<(Instant, Value)>,
}

impl RuntimeApi {
    async fn start() -> RuntimeApi {
        let (next_tx, next_seen) = mpsc::channel(4);
        let (events, events_rx) = mpsc::channel(4);
        let (responses_tx, responses) = mpsc::channel(4);
        let state = ApiState {
            next_seen: next_tx,
            events: Arc::new(Mutex::new(events_rx)),
            responses: responses_tx,
        };
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(respond),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(failed))
            .route("/2018-06-01/runtime/init/error", post(failed_init))
            .with_state(state);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        RuntimeApi {
            addr,
            next_seen,
            events,
            responses,
        }
    }

    /// When the function first asked for an invocation: the end of its initialisation.
    async fn next_requested(&mut self, child: &mut Child) -> Instant {
        match tokio::time::timeout(Duration::from_secs(20), self.next_seen.recv()).await {
            Ok(Some(at)) => at,
            _ => panic!(
                "the function never asked for an invocation: {:?}",
                child.try_wait()
            ),
        }
    }

    /// Queues the next invocation's event.
    async fn queue(&self, event: Value) {
        self.events.send(event).await.expect("the runtime API runs");
    }

    /// Waits for the next response: when it came, and what it was.
    async fn response(&mut self, child: &mut Child) -> (Instant, Value) {
        match tokio::time::timeout(Duration::from_secs(20), self.responses.recv()).await {
            Ok(Some(response)) => response,
            _ => panic!("no response: {:?}", child.try_wait()),
        }
    }
}

async fn next(State(state): State<ApiState>) -> (HeaderMap, String) {
    let _ = state.next_seen.try_send(Instant::now());
    let event = state
        .events
        .lock()
        .await
        .recv()
        .await
        .unwrap_or(Value::Null);
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        + Duration::from_secs(60);
    let mut headers = HeaderMap::new();
    let id = Uuid::new_v4().to_string();
    for (name, value) in [
        ("lambda-runtime-aws-request-id", id.as_str()),
        (
            "lambda-runtime-deadline-ms",
            &deadline.as_millis().to_string(),
        ),
        (
            "lambda-runtime-invoked-function-arn",
            "arn:aws:lambda:eu-west-1:123456789012:function:hitpoints-bench",
        ),
        (
            "lambda-runtime-trace-id",
            "Root=1-00000000-000000000000000000000000",
        ),
        ("content-type", "application/json"),
    ] {
        if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::from_bytes(name.as_bytes()),
            axum::http::HeaderValue::from_str(value),
        ) {
            headers.insert(name, value);
        }
    }
    (headers, event.to_string())
}

async fn respond(
    State(state): State<ApiState>,
    UrlPath(_): UrlPath<String>,
    body: String,
) -> &'static str {
    let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
    let _ = state.responses.send((Instant::now(), value)).await;
    "{}"
}

async fn failed(
    State(state): State<ApiState>,
    UrlPath(_): UrlPath<String>,
    body: String,
) -> &'static str {
    let _ = state
        .responses
        .send((Instant::now(), json!({"invocation_error": body})))
        .await;
    "{}"
}

async fn failed_init(body: String) -> &'static str {
    panic!("the function failed to start: {body}");
}

/// A cgroup-v1 CPU quota: `memory`/1769 of a core over a 20 ms period.
struct Quota {
    memory: u32,
    quota_us: u64,
}

impl Quota {
    const PERIOD_US: u64 = 20_000;

    fn set(memory: u32) -> std::io::Result<Quota> {
        // cgroup v1's cpu controller only: not created where it is not mounted (cgroup v2).
        if !Path::new("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").exists() {
            return Err(std::io::Error::other("no cgroup-v1 cpu controller"));
        }
        std::fs::create_dir_all(CGROUP)?;
        let quota_us = (Self::PERIOD_US * u64::from(memory) / 1769).max(1000);
        std::fs::write(
            format!("{CGROUP}/cpu.cfs_period_us"),
            Self::PERIOD_US.to_string(),
        )?;
        std::fs::write(format!("{CGROUP}/cpu.cfs_quota_us"), quota_us.to_string())?;
        Ok(Quota { memory, quota_us })
    }

    fn percent(&self) -> f64 {
        self.quota_us as f64 * 100.0 / Self::PERIOD_US as f64
    }

    /// How often the group has been throttled so far.
    fn throttled() -> u64 {
        std::fs::read_to_string(format!("{CGROUP}/cpu.stat"))
            .ok()
            .and_then(|stat| {
                stat.lines()
                    .find_map(|l| l.strip_prefix("nr_throttled ")?.trim().parse().ok())
            })
            .unwrap_or(0)
    }
}
