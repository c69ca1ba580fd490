//! The `hp-projector` Lambda: DynamoDB Streams records of the events table into HP snapshots,
//! with `ReportBatchItemFailures`.

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use hitpoints::config::{dynamodb_client, required, EVENTS_TABLE_VAR, SNAPSHOTS_TABLE_VAR};
use hitpoints::projector::Projector;
use hitpoints::store::{EventStore, SnapshotStore};
use lambda_runtime::{run, service_fn, Error, LambdaEvent};

/// One batch: the sequence numbers of records to retry come back as batch item failures.
async fn handler(
    projector: &Projector,
    event: LambdaEvent<Event>,
) -> Result<DynamoDbEventResponse, Error> {
    Ok(projector.handle(event.payload).await)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let events_table = required(EVENTS_TABLE_VAR)?;
    let snapshots_table = required(SNAPSHOTS_TABLE_VAR)?;
    let client = dynamodb_client().await;
    let projector = Projector::new(
        EventStore::new(client.clone(), events_table),
        SnapshotStore::new(client, snapshots_table),
    );
    run(service_fn(|event| handler(&projector, event))).await
}
