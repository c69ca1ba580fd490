//! The local run: an embedded dynoxide server in-process, the tables, the HTTP API served
//! through the same router as the Lambdas, and the HP projector fed from the events table's
//! stream through the same Streams adapter, in the batches Lambda would deliver.

pub mod audit;
pub mod dev_auth;
pub mod dynamodb;
pub mod server;
pub mod streams;
pub mod web;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use hitpoints::campaign::members::MemberStore;
use hitpoints::campaign::CampaignStore;
use hitpoints::feed::FeedStore;
use hitpoints::feed::Indexer;
use hitpoints::hp::Projector;
use hitpoints::hp::SnapshotStore;
use hitpoints::metrics::Metrics;
use hitpoints::store::EventStore;
use hitpoints_http::{Api, Function};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The events table of the local run.
pub const EVENTS_TABLE: &str = "hitpoints-events";
/// The HP snapshot table of the local run.
pub const SNAPSHOTS_TABLE: &str = "hitpoints-snapshots";
/// The feed table of the local run.
pub const FEED_TABLE: &str = "hitpoints-feed";
/// The campaigns table of the local run.
pub const CAMPAIGNS_TABLE: &str = "hitpoints-campaigns";
pub const MEMBERSHIPS_TABLE: &str = "hitpoints-memberships";
/// Where the local run keeps its data unless told `--in-memory`.
pub const DATA_DIR: &str = ".hitpoints";
/// The embedded DynamoDB's file in the data directory.
pub const DATABASE_FILE: &str = "dynamodb.sqlite";

/// Where the embedded DynamoDB keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    InMemory,
    Directory(PathBuf),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Port of the HTTP API on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Port of the embedded DynamoDB on 127.0.0.1, for other clients (the AWS CLI, functions
    /// under `cargo lambda watch`); 0 picks a free one.
    pub dynamodb_port: u16,
    pub storage: Storage,
    /// What no client of the API may exceed.
    pub limits: server::Limits,
    /// Who may call.
    pub auth: Auth,
}

/// Who may call the local run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Auth {
    /// No sign-in: every caller is an operator (and so the DM of every campaign).
    #[default]
    None,
    /// People sign in on the run's development issuer ([`dev_auth`]); no token is nobody.
    Dev,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            port: 3000,
            dynamodb_port: 0,
            storage: Storage::Directory(PathBuf::from(DATA_DIR)),
            limits: server::Limits::default(),
            auth: Auth::None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open the data directory {0}: {1}")]
    DataDir(PathBuf, #[source] std::io::Error),
    #[error("the embedded DynamoDB cannot open its database: {0}")]
    Database(String),
    #[error("cannot listen on {0}: {1}")]
    Listen(String, #[source] std::io::Error),
    #[error("cannot create the tables: {0}")]
    Tables(#[from] dynamodb::TableError),
}

/// A running local system.
#[derive(Debug)]
pub struct Running {
    /// Where the HTTP API listens.
    pub api_addr: SocketAddr,
    /// The embedded DynamoDB's endpoint, for the AWS CLI or the SDK.
    pub dynamodb_endpoint: String,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    database: Database,
}

/// Starts the embedded DynamoDB, creates the tables if missing, and only then serves the API.
pub async fn start(options: &Options) -> Result<Running, StartError> {
    let position_file = |name: &str| match &options.storage {
        Storage::InMemory => None,
        Storage::Directory(dir) => Some(dir.join(name)),
    };
    let open_files = server::raise_open_files_limit();
    let budget = server::FileBudget::new(open_files, options.limits.max_connections);
    tracing::info!(
        open_files,
        connections = budget.connections,
        dynamodb_calls = budget.dynamodb_calls,
        "connections served at once, within the open-files limit"
    );
    let database = Database::open(&options.storage, options.dynamodb_port).await?;
    let dynamodb_endpoint = database.endpoint.clone();
    // The API and the projector stop first, then the database they use.
    let (stop, stopped) = watch::channel(false);

    // Every client of the run shares one bound on its connections to the embedded DynamoDB.
    let http_client = dynamodb::bounded_http_client(budget.dynamodb_calls);
    let client = aws_sdk_dynamodb::Client::new(&dynamodb::sdk_config(
        &dynamodb_endpoint,
        http_client.clone(),
    ));
    dynamodb::create_events_table(&client, EVENTS_TABLE, true).await?;
    dynamodb::create_snapshots_table(&client, SNAPSHOTS_TABLE).await?;
    dynamodb::create_feed_table(&client, FEED_TABLE).await?;
    dynamodb::create_campaigns_table(&client, CAMPAIGNS_TABLE).await?;
    dynamodb::create_memberships_table(&client, MEMBERSHIPS_TABLE).await?;
    let campaigns = CampaignStore::new(client.clone(), CAMPAIGNS_TABLE);
    let members = MemberStore::new(client.clone(), MEMBERSHIPS_TABLE);
    let store = EventStore::new(client.clone(), EVENTS_TABLE);
    let snapshots = SnapshotStore::new(client.clone(), SNAPSHOTS_TABLE);
    // A waiting GET /events reads the feed's head every 10 ms here: reads cost nothing locally.
    let feed = FeedStore::new(client, FEED_TABLE).with_poll_interval(Duration::from_millis(10));

    // The projector and the feed indexer each follow the stream on their own, as two event
    // source mappings do: one that fails holds back only itself. Both are woken after every
    // POST the API answers, so an append reaches them at once however long they idle.
    let (wake, woken) = watch::channel(());
    // What the run counts, as the functions do on Lambda: served at `/metrics`.
    let metrics = Metrics::new();
    let projector = streams::Follower {
        client: streams_client(&dynamodb_endpoint, &http_client),
        table: EVENTS_TABLE.to_owned(),
        consumer: Projector::new(store.clone(), snapshots.clone()),
        position_file: position_file("stream-position.json"),
        metrics: metrics.clone(),
    };
    let projector = tokio::spawn(projector.run(stopped.clone(), woken.clone()));
    let indexer = streams::Follower {
        client: streams_client(&dynamodb_endpoint, &http_client),
        table: EVENTS_TABLE.to_owned(),
        consumer: Indexer::new(store.clone(), feed.clone()),
        position_file: position_file("feed-position.json"),
        metrics: metrics.clone(),
    };
    let indexer = tokio::spawn(indexer.run(stopped.clone(), woken));

    let api_listener = listen(options.port).await?;
    let api_addr = local_addr(&api_listener)?;
    let issuer = (options.auth == Auth::Dev)
        .then(|| dev_auth::DevIssuer::new(&format!("http://{api_addr}")));
    let mut api = Api::new(store);
    if issuer.is_some() {
        // The screen signs in on this origin.
        if let Ok(sign_in) = hitpoints_http::SignIn::new("", dev_auth::CLIENT_ID) {
            api = api.with_sign_in(sign_in);
        }
    }
    let router = api
        .with_snapshots(snapshots)
        .with_feed(feed)
        .with_campaigns(campaigns)
        .with_members(members)
        .with_document(hitpoints_http::openapi::OPENAPI_JSON)
        .with_metrics(metrics.clone())
        .router(Function::All);
    let wake_on_post = axum::middleware::from_fn(move |request, next| {
        wake_after_post(request, next, wake.clone())
    });
    // The Dungeon Master's screen at `/`, beside the API.
    // The Dungeon Master's screen is the router's too, at `/`.
    let router = web::metrics_router(metrics).merge(router);
    // Who calls, as API Gateway's authorizers establish it on AWS.
    let router = match issuer {
        Some(issuer) => router
            .merge(issuer.router())
            .layer(axum::middleware::from_fn_with_state(
                issuer,
                dev_auth::identify,
            )),
        None => router.layer(axum::middleware::from_fn(as_operator)),
    };
    let router = router.layer(wake_on_post);
    let http = tokio::spawn(server::serve(
        api_listener,
        router,
        options.limits,
        budget,
        stopped.clone(),
    ));

    Ok(Running {
        api_addr,
        dynamodb_endpoint,
        stop,
        tasks: vec![http, projector, indexer],
        database,
    })
}

/// Without sign-in, every caller of the local run is an operator.
async fn as_operator(
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    request
        .extensions_mut()
        .insert(hitpoints::access::Caller::Operator {
            principal: "local".to_owned(),
        });
    next.run(request).await
}

/// Answers `request`, then wakes the stream followers if it was a POST, the only requests that
/// write (one that writes nothing, a 409 say, costs an extra GetRecords each).
async fn wake_after_post(
    request: axum::extract::Request,
    next: axum::middleware::Next,
    wake: watch::Sender<()>,
) -> axum::response::Response {
    // Woken on drop too: a client gone mid-request may leave a write behind.
    let _wake = (request.method() == axum::http::Method::POST).then_some(WakeOnDrop(wake));
    next.run(request).await
}

struct WakeOnDrop(watch::Sender<()>);

impl Drop for WakeOnDrop {
    fn drop(&mut self) {
        self.0.send_replace(());
    }
}

/// The embedded DynamoDB, served on 127.0.0.1 for the SDK's clients.
#[derive(Debug)]
pub struct Database {
    /// Its endpoint, for the AWS CLI or the SDK.
    pub endpoint: String,
    stop: watch::Sender<bool>,
    server: JoinHandle<()>,
}

impl Database {
    /// Opens the data in `storage` (creating the directory) and serves it on port `port`
    /// (0: a free one).
    pub async fn open(storage: &Storage, port: u16) -> Result<Database, StartError> {
        let database = match storage {
            Storage::InMemory => dynoxide::Database::memory(),
            Storage::Directory(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| StartError::DataDir(dir.clone(), e))?;
                let file = dir.join(DATABASE_FILE);
                dynoxide::Database::new(&file.to_string_lossy())
            }
        }
        .map_err(|e| StartError::Database(e.to_string()))?;
        let listener = listen(port).await?;
        let endpoint = format!("http://{}", local_addr(&listener)?);
        let (stop, mut stopped) = watch::channel(false);
        let shutdown = async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        let server = tokio::spawn(async move {
            if let Err(e) =
                dynoxide::server::serve_with_shutdown(listener, database, shutdown).await
            {
                tracing::error!(error = %e, "the embedded DynamoDB stopped");
            }
        });
        Ok(Database {
            endpoint,
            stop,
            server,
        })
    }

    /// Stops serving and closes the data.
    pub async fn close(self) {
        let _ = self.stop.send(true);
        let _ = self.server.await;
    }
}

impl Running {
    /// Stops serving, lets requests under way finish, and closes the database.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        self.database.close().await;
    }
}

/// A DynamoDB Streams client for the embedded server.
fn streams_client(
    endpoint: &str,
    http_client: &aws_sdk_dynamodb::config::SharedHttpClient,
) -> aws_sdk_dynamodbstreams::Client {
    aws_sdk_dynamodbstreams::Client::new(&dynamodb::sdk_config(endpoint, http_client.clone()))
}

async fn listen(port: u16) -> Result<TcpListener, StartError> {
    let addr = format!("127.0.0.1:{port}");
    TcpListener::bind(&addr)
        .await
        .map_err(|e| StartError::Listen(addr, e))
}

fn local_addr(listener: &TcpListener) -> Result<SocketAddr, StartError> {
    listener
        .local_addr()
        .map_err(|e| StartError::Listen("127.0.0.1".into(), e))
}
