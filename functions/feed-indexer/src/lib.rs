//! The `feed-indexer` Lambda: DynamoDB Streams records of the events table into the global
//! feed, each event exactly once, with `ReportBatchItemFailures`.

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use hitpoints::config::{EVENTS_TABLE_VAR, FEED_TABLE_VAR};
use hitpoints::feed::Indexer;
use lambda_runtime::{Error, LambdaEvent};

/// The environment variables this function reads at start-up (template.yaml sets them).
pub const REQUIRED_VARS: [&str; 2] = [EVENTS_TABLE_VAR, FEED_TABLE_VAR];

/// One batch: the sequence numbers of records to retry come back as batch item failures.
pub async fn handler(
    indexer: &Indexer,
    event: LambdaEvent<Event>,
) -> Result<DynamoDbEventResponse, Error> {
    Ok(hitpoints_streams::handle(indexer, event.payload).await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hitpoints::feed::FeedStore;
    use hitpoints::store::EventStore;
    use hitpoints_testkit::unreachable_client;
    use lambda_runtime::Context;

    /// The sample batch through the entry point with a DynamoDB that cannot be reached: every
    /// character's first record and the undecodable record come back as failures, so Lambda
    /// retries from the earliest of them; nothing is lost or dropped.
    #[tokio::test]
    async fn an_unwritable_feed_is_reported_as_batch_item_failures() {
        let client = unreachable_client();
        let indexer = Indexer::new(
            EventStore::new(client.clone(), "events"),
            FeedStore::new(client, "feed"),
        );
        let payload: Event =
            serde_json::from_str(include_str!("../../../events/dynamodb-stream-batch.json"))
                .expect("a DynamoDB Streams event");
        let response = handler(&indexer, LambdaEvent::new(payload, Context::default()))
            .await
            .expect("a response");
        let mut failed: Vec<String> = response
            .batch_item_failures
            .into_iter()
            .filter_map(|f| f.item_identifier)
            .collect();
        failed.sort();
        assert_eq!(
            failed,
            vec![
                "100000000000000000001".to_owned(),
                "100000000000000000005".to_owned(),
            ]
        );
    }
}
