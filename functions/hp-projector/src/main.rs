//! The `hp-projector` Lambda's entry point: read the configuration, build the client once, run.

use hitpoints::config::{dynamodb_client, read};
use hitpoints::hp::Projector;
use hitpoints::hp::SnapshotStore;
use hitpoints::metrics::{EmfWriter, Metrics};
use hitpoints::store::EventStore;
use hp_projector::{handler, Deps, REQUIRED_VARS};
use lambda_runtime::{run, service_fn, Error};

// One thread: a function has a fraction of one core, and one batch at a time.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    hitpoints::config::init_logging();
    let [events_table, snapshots_table] = read(REQUIRED_VARS)?;
    let client = dynamodb_client()?;
    let deps = Deps {
        projector: Projector::new(
            EventStore::new(client.clone(), events_table),
            SnapshotStore::new(client, snapshots_table),
        ),
        emf: EmfWriter::stdout(Metrics::new()),
    };
    run(service_fn(|event| handler(&deps, event))).await
}
