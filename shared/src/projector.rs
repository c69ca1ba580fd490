//! The HP projector on DynamoDB: Lambda's stream records decoded into the core's records, and
//! the projection's reads and writes on the events and snapshot tables.

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use uuid::Uuid;

use crate::domain::{RecordedEvent, Version};
use crate::error::Error;
use crate::projection::{
    project_batch, BatchOutcome, Change, SnapshotBackend, SnapshotUpdate, StreamRecord,
};
use crate::store::item::EventItem;
use crate::store::{EventStore, SnapshotStore};

/// What the projector needs: built once per process.
#[derive(Debug, Clone)]
pub struct Projector {
    pub events: EventStore,
    pub snapshots: SnapshotStore,
}

impl Projector {
    pub fn new(events: EventStore, snapshots: SnapshotStore) -> Projector {
        Projector { events, snapshots }
    }

    /// Handles one batch as Lambda delivers it, with `ReportBatchItemFailures`.
    pub async fn handle(&self, event: Event) -> DynamoDbEventResponse {
        let outcome = self.project(&event).await;
        let mut response = DynamoDbEventResponse::default();
        response.batch_item_failures = outcome
            .failures
            .into_iter()
            .map(|sequence_number| {
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = Some(sequence_number);
                failure
            })
            .collect();
        response
    }

    /// Handles one batch and says what it came to.
    pub async fn project(&self, event: &Event) -> BatchOutcome {
        let records: Vec<StreamRecord> = event.records.iter().filter_map(decode_record).collect();
        let outcome = project_batch(self, &records).await;
        tracing::info!(
            records = event.records.len(),
            characters = outcome.characters,
            writes = outcome.writes,
            failures = outcome.failures.len(),
            "batch projected"
        );
        outcome
    }
}

impl SnapshotBackend for Projector {
    async fn events(
        &self,
        stream: Uuid,
        from: Version,
        to: Version,
    ) -> Result<Vec<RecordedEvent>, Error> {
        let count = usize::try_from(to.saturating_sub(from) + 1).unwrap_or(usize::MAX);
        self.events.read_range(stream, from, count).await
    }

    async fn snapshot_version(&self, stream: Uuid) -> Result<Option<Version>, Error> {
        Ok(self.snapshots.get(stream, true).await?.map(|s| s.version))
    }

    async fn apply(&self, update: &SnapshotUpdate) -> Result<bool, Error> {
        self.snapshots.apply(update).await
    }
}

/// A Lambda stream record as the projection sees it. A record without a sequence number cannot
/// be reported or retried: it is logged and left out.
fn decode_record(record: &EventRecord) -> Option<StreamRecord> {
    // The keys, for the log, only when something is logged.
    let keys = || serde_json::to_string(&record.change.keys).unwrap_or_default();
    let Some(sequence_number) = record.change.sequence_number.clone() else {
        tracing::error!(keys = %keys(), event_id = %record.event_id,
            "stream record without a sequence number: skipped");
        return None;
    };
    let change = match record.event_name.as_str() {
        "INSERT" => {
            match serde_dynamo::from_item::<_, EventItem>(record.change.new_image.clone()) {
                Ok(item) => match Uuid::try_parse(&item.id) {
                    Ok(stream) => Change::Insert {
                        stream,
                        event: item.into_event(),
                    },
                    Err(e) => Change::Undecodable {
                        keys: keys(),
                        reason: format!("Id is not a uuid: {e}"),
                    },
                },
                Err(e) => Change::Undecodable {
                    keys: keys(),
                    reason: e.to_string(),
                },
            }
        }
        other => Change::Ignored {
            event_name: other.to_string(),
            keys: keys(),
        },
    };
    Some(StreamRecord {
        sequence_number,
        change,
    })
}
