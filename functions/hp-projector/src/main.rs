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

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::config::retry::RetryConfig;
    use hitpoints::store::local_client;
    use lambda_runtime::Context;

    /// The sample batch through the entry point with a DynamoDB that cannot be reached: the
    /// sample character's first record and the undecodable record come back as failures, so
    /// Lambda retries from the first of them; nothing is lost or dropped.
    #[tokio::test]
    async fn unwritable_snapshots_are_reported_as_batch_item_failures() {
        // Nothing listens on the discard port.
        let client = local_client("http://127.0.0.1:9");
        let client = aws_sdk_dynamodb::Client::from_conf(
            client
                .config()
                .to_builder()
                .retry_config(RetryConfig::disabled())
                .build(),
        );
        let projector = Projector::new(
            EventStore::new(client.clone(), "events"),
            SnapshotStore::new(client, "snapshots"),
        );
        let payload: Event =
            serde_json::from_str(include_str!("../../../events/dynamodb-stream-batch.json"))
                .expect("a DynamoDB Streams event");
        let response = handler(&projector, LambdaEvent::new(payload, Context::default()))
            .await
            .expect("a response");
        let failed: Vec<Option<String>> = response
            .batch_item_failures
            .into_iter()
            .map(|f| f.item_identifier)
            .collect();
        assert_eq!(
            failed,
            vec![
                Some("100000000000000000005".to_string()),
                Some("100000000000000000001".to_string()),
            ]
        );
    }
}
