//! The `repair` Lambda's entry point: read the configuration, build the client once, run.
// The upkeep's future nests deeply (page, characters, the indexer's transactions).
#![recursion_limit = "256"]

use hitpoints::config::{dynamodb_client, read};
use hitpoints::feed::{FeedStore, Indexer};
use hitpoints::hp::SnapshotStore;
use hitpoints::metrics::{EmfWriter, Metrics};
use hitpoints::store::EventStore;
use hitpoints::upkeep::Upkeep;
use lambda_runtime::{run, service_fn, Error};
use repair::{handler, Deps, REQUIRED_VARS, RESERVE};

// One thread: a scheduled job with a fraction of one core.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    hitpoints::config::init_logging();
    let [events_table, snapshots_table, feed_table] = read(REQUIRED_VARS)?;
    let client = dynamodb_client()?;
    let events = EventStore::new(client.clone(), events_table);
    let deps = Deps {
        upkeep: Upkeep::new(
            Indexer::new(events, FeedStore::new(client.clone(), feed_table)),
            SnapshotStore::new(client, snapshots_table),
        ),
        emf: EmfWriter::stdout(Metrics::new()),
        reserve: RESERVE,
    };
    run(service_fn(|event| handler(&deps, event))).await
}
