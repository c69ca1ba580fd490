//! A DynamoDB-API server for the integration tests: dynoxide in-process, a fresh in-memory
//! database per test, or the server named by `HITPOINTS_TEST_DYNAMODB_ENDPOINT` (DynamoDB Local
//! in CI), with a fresh table per test.

#![allow(dead_code)]

use aws_sdk_dynamodb::Client;
use hitpoints::store::{local_client, tables, EventStore, SnapshotStore};
use uuid::Uuid;

pub struct TestDb {
    pub client: Client,
    pub endpoint: String,
    /// Most actions the server takes in one transaction (DynamoDB: 100; DynamoDB Local 1.11: 10).
    pub max_transaction_items: usize,
    pub name: &'static str,
}

pub async fn test_db() -> TestDb {
    if let Ok(endpoint) = std::env::var("HITPOINTS_TEST_DYNAMODB_ENDPOINT") {
        let max_transaction_items = std::env::var("HITPOINTS_TEST_MAX_TRANSACTION_ITEMS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(100);
        return TestDb {
            client: local_client(&endpoint),
            endpoint,
            max_transaction_items,
            name: leak(
                std::env::var("HITPOINTS_TEST_DYNAMODB_NAME")
                    .unwrap_or_else(|_| "the DynamoDB endpoint".into()),
            ),
        };
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a local port");
    let endpoint = format!("http://{}", listener.local_addr().expect("local address"));
    let db = dynoxide::Database::memory().expect("an in-memory dynoxide database");
    tokio::spawn(dynoxide::server::serve_on(listener, db));
    TestDb {
        client: local_client(&endpoint),
        endpoint,
        max_transaction_items: 100,
        name: "dynoxide",
    }
}

impl TestDb {
    /// A new events table with a unique name, and a store on it.
    pub async fn store(&self) -> EventStore {
        let table = format!("events-{}", Uuid::new_v4().simple());
        tables::create_events_table(&self.client, &table, false)
            .await
            .expect("create the events table");
        EventStore::new(self.client.clone(), table)
    }

    /// A new snapshot table with a unique name, and a store on it.
    pub async fn snapshots(&self) -> SnapshotStore {
        let table = format!("snapshots-{}", Uuid::new_v4().simple());
        tables::create_snapshots_table(&self.client, &table)
            .await
            .expect("create the snapshot table");
        SnapshotStore::new(self.client.clone(), table)
    }

    /// Whether the server takes a transaction of `items` actions; says so when it does not.
    pub fn supports_transaction_of(&self, items: usize, test: &str) -> bool {
        let ok = items <= self.max_transaction_items;
        if !ok {
            println!(
                "SKIPPED {test}: it needs {items}-action transactions and {} allows {}",
                self.name, self.max_transaction_items
            );
        }
        ok
    }
}

fn leak(name: String) -> &'static str {
    Box::leak(name.into_boxed_str())
}

/// A client for an endpoint where nothing listens (a port that was free a moment ago), with
/// retries off so the failure comes at once.
pub fn unreachable_client() -> Client {
    use aws_sdk_dynamodb::config::retry::RetryConfig;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let client = local_client(&format!("http://127.0.0.1:{port}"));
    let config = client
        .config()
        .to_builder()
        .retry_config(RetryConfig::disabled())
        .build();
    Client::from_conf(config)
}
