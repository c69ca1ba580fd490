//! The `feed-indexer` Lambda's entry point: read the configuration, build the client once, run.
// The indexer's future nests deeply (batch, plan, gap reads, transactions).
#![recursion_limit = "256"]

use feed_indexer::{handler, Deps, REQUIRED_VARS};
use hitpoints::config::{dynamodb_client, read};
use hitpoints::feed::FeedStore;
use hitpoints::feed::Indexer;
use hitpoints::metrics::{EmfWriter, Metrics};
use hitpoints::store::EventStore;
use lambda_runtime::{run, service_fn, Error};

// One thread: a function has a fraction of one core, and one batch at a time.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    hitpoints::config::init_logging();
    let [events_table, feed_table] = read(REQUIRED_VARS)?;
    let client = dynamodb_client()?;
    let deps = Deps {
        indexer: Indexer::new(
            EventStore::new(client.clone(), events_table),
            FeedStore::new(client, feed_table),
        ),
        emf: EmfWriter::stdout(Metrics::new()),
    };
    run(service_fn(|event| handler(&deps, event))).await
}
