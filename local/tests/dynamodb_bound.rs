//! The bound on the local run's calls to its embedded DynamoDB: however many calls come at
//! once, no more than the bound are under way and no more than twice the bound are connected,
//! every call is answered, and nothing is left waiting afterwards.

use std::time::Duration;

use local::dynamodb::{bounded_http_client, create_snapshots_table, sdk_config};
use local::{Database, Storage};

/// Connections from this process to `port` that are open, from /proc/net/tcp (IPv4 loopback).
fn connections_to(port: u16) -> usize {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    table
        .lines()
        .skip(1)
        .filter(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // remote address is the third field, state the fourth: 01 is ESTABLISHED.
            fields.len() > 3 && fields[2].ends_with(&format!(":{port:04X}")) && fields[3] == "01"
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_calls_at_once_stay_within_the_bound_and_all_are_answered() {
    const BOUND: usize = 4;
    let database = Database::open(&Storage::InMemory, 0)
        .await
        .expect("dynoxide");
    let port: u16 = database
        .endpoint
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a port");
    let client =
        aws_sdk_dynamodb::Client::new(&sdk_config(&database.endpoint, bounded_http_client(BOUND)));
    create_snapshots_table(&client, "bound")
        .await
        .expect("table");
    let tasks_before = tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks();

    let calls: Vec<_> = (0..200)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .get_item()
                    .table_name("bound")
                    .key(
                        "Id",
                        aws_sdk_dynamodb::types::AttributeValue::S(format!("{i}")),
                    )
                    .send()
                    .await
            })
        })
        .collect();
    let mut most = 0;
    let mut answered = 0;
    for call in calls {
        most = most.max(connections_to(port));
        if call.await.expect("a call").is_ok() {
            answered += 1;
        }
    }
    assert_eq!(answered, 200, "every call answered");
    assert!(
        most <= 2 * BOUND,
        "{most} connections open at once, bound {BOUND}"
    );

    // Nothing is left waiting: no connect parked in the background for a permit.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let tasks_after = tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks();
    assert!(
        tasks_after <= tasks_before + 2 * BOUND,
        "tasks alive: {tasks_before} before, {tasks_after} after"
    );
    assert!(connections_to(port) <= 2 * BOUND);
}
