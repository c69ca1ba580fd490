//! The `hp-projector` Lambda: DynamoDB Streams records of the events table into HP snapshots,
//! with `ReportBatchItemFailures`.

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use hitpoints::config::{EVENTS_TABLE_VAR, SNAPSHOTS_TABLE_VAR};
use hitpoints::hp::Projector;
use lambda_runtime::{Error, LambdaEvent};

/// The environment variables this function reads at start-up (template.yaml sets them).
pub const REQUIRED_VARS: [&str; 2] = [EVENTS_TABLE_VAR, SNAPSHOTS_TABLE_VAR];

/// One batch: the sequence numbers of records to retry come back as batch item failures.
pub async fn handler(
    projector: &Projector,
    event: LambdaEvent<Event>,
) -> Result<DynamoDbEventResponse, Error> {
    Ok(hitpoints_streams::handle(projector, event.payload).await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hitpoints::hp::SnapshotStore;
    use hitpoints::store::EventStore;
    use hitpoints_testkit::unreachable_client;
    use lambda_runtime::Context;

    /// The sample batch through the entry point with a DynamoDB that cannot be reached: the
    /// sample character's first record and the undecodable record come back as failures, so
    /// Lambda retries from the first of them; nothing is lost or dropped.
    #[tokio::test]
    async fn unwritable_snapshots_are_reported_as_batch_item_failures() {
        let client = unreachable_client();
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
                Some("100000000000000000005".to_owned()),
                Some("100000000000000000001".to_owned()),
            ]
        );
    }
}
