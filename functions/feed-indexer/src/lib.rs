//! The `feed-indexer` Lambda: DynamoDB Streams records of the events table into the global
//! feed, each event exactly once, with `ReportBatchItemFailures`.

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use hitpoints::config::{EVENTS_TABLE_VAR, FEED_TABLE_VAR};
use hitpoints::feed::Indexer;
use hitpoints::metrics::EmfWriter;
use lambda_runtime::{Error, LambdaEvent};

/// The environment variables this function reads at start-up (template.yaml sets them).
pub const REQUIRED_VARS: [&str; 2] = [EVENTS_TABLE_VAR, FEED_TABLE_VAR];

/// What the function keeps between invocations.
#[derive(Debug)]
pub struct Deps {
    pub indexer: Indexer,
    /// Where each batch's metrics go (standard output, on Lambda).
    pub emf: EmfWriter,
}

/// One batch: the sequence numbers of records to retry come back as batch item failures; its
/// metrics are written as Embedded Metric Format lines before the answer.
pub async fn handler(
    deps: &Deps,
    event: LambdaEvent<Event>,
) -> Result<DynamoDbEventResponse, Error> {
    let response =
        hitpoints_streams::handle(&deps.indexer, event.payload, deps.emf.metrics()).await;
    deps.emf.flush();
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hitpoints::feed::FeedStore;
    use hitpoints::metrics::Metrics;
    use hitpoints::store::EventStore;
    use hitpoints_testkit::unreachable_client;
    use hitpoints_testkit::{emf_documents, emf_value};
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
        let deps = Deps {
            indexer,
            emf: EmfWriter::buffer(Metrics::new()),
        };
        let payload: Event =
            serde_json::from_str(include_str!("../../../events/dynamodb-stream-batch.json"))
                .expect("a DynamoDB Streams event");
        let response = handler(&deps, LambdaEvent::new(payload, Context::default()))
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
        // Its metrics, as the Embedded Metric Format lines it wrote.
        let documents = emf_documents(&deps.emf.lines());
        let value = |metric| emf_value(&documents, "feed-indexer", metric, None);
        assert_eq!(value("Records"), 5.0);
        assert_eq!(value("RecordFailures"), 2.0);
        assert_eq!(value("Holes"), 0.0);
        // How old the newest record was (its value is tested with a fixed clock in the adapter).
        assert!(documents.iter().any(|d| d["NewestRecordAge"].is_number()));
    }
}
