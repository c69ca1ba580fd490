//! The `hp-projector` Lambda: DynamoDB Streams records of the events table into HP snapshots,
//! with `ReportBatchItemFailures`.

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use hitpoints::config::{EVENTS_TABLE_VAR, SNAPSHOTS_TABLE_VAR};
use hitpoints::hp::Projector;
use hitpoints::metrics::EmfWriter;
use lambda_runtime::{Error, LambdaEvent};

/// The environment variables this function reads at start-up (template.yaml sets them).
pub const REQUIRED_VARS: [&str; 2] = [EVENTS_TABLE_VAR, SNAPSHOTS_TABLE_VAR];

/// What the function keeps between invocations.
#[derive(Debug)]
pub struct Deps {
    pub projector: Projector,
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
        hitpoints_streams::handle(&deps.projector, event.payload, deps.emf.metrics()).await;
    deps.emf.flush();
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hitpoints::hp::SnapshotStore;
    use hitpoints::metrics::Metrics;
    use hitpoints::store::EventStore;
    use hitpoints_testkit::unreachable_client;
    use hitpoints_testkit::{emf_documents, emf_value};
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
        let deps = Deps {
            projector,
            emf: EmfWriter::buffer(Metrics::new()),
        };
        let payload: Event =
            serde_json::from_str(include_str!("../../../events/dynamodb-stream-batch.json"))
                .expect("a DynamoDB Streams event");
        let response = handler(&deps, LambdaEvent::new(payload, Context::default()))
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
        // Its metrics, as the Embedded Metric Format lines it wrote.
        let documents = emf_documents(&deps.emf.lines());
        let value = |metric| emf_value(&documents, "hp-projector", metric, None);
        assert_eq!(value("Records"), 5.0);
        assert_eq!(value("RecordFailures"), 2.0);
        assert_eq!(value("Holes"), 0.0);
        // How old the newest record was (its value is tested with a fixed clock in the adapter).
        assert!(documents.iter().any(|d| d["NewestRecordAge"].is_number()));
    }
}
