//! The DynamoDB Streams adapter: a batch as Lambda delivers it (`aws_lambda_events`) into the
//! core's [`StreamRecord`]s, through a [`Consumer`] (the HP [`Projector`] or the feed
//! [`Indexer`]), and back as `ReportBatchItemFailures`. The `hp-projector` and `feed-indexer`
//! Lambdas and the local run's stream followers all go through [`handle`].

use std::future::Future;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use hitpoints::feed::Indexer;
use hitpoints::hp::Projector;
use hitpoints::metrics::{Metric, Metrics};
use hitpoints::store::item::event_from_image;
use hitpoints::stream::{BatchOutcome, Change, StreamRecord};

/// What consumes the events table's stream: a batch of records in, what it came to out.
pub trait Consumer {
    /// The function's name, as its metrics' `Function` dimension.
    const FUNCTION: &'static str;

    fn consume(&self, records: &[StreamRecord]) -> impl Future<Output = BatchOutcome> + Send;
}

impl Consumer for Projector {
    const FUNCTION: &'static str = "hp-projector";

    async fn consume(&self, records: &[StreamRecord]) -> BatchOutcome {
        self.project(records).await
    }
}

impl Consumer for Indexer {
    const FUNCTION: &'static str = "feed-indexer";

    async fn consume(&self, records: &[StreamRecord]) -> BatchOutcome {
        self.index(records).await
    }
}

/// Handles one batch as Lambda delivers it, with `ReportBatchItemFailures`: the sequence
/// numbers of records to retry come back as batch item failures. Counts it in `metrics`.
pub async fn handle<C: Consumer + Sync>(
    consumer: &C,
    event: Event,
    metrics: &Metrics,
) -> DynamoDbEventResponse {
    let outcome = consume(consumer, &event).await;
    let function = C::FUNCTION;
    metrics.add(function, Metric::Records, event.records.len() as u64);
    metrics.add(
        function,
        Metric::RecordFailures,
        outcome.failures.len() as u64,
    );
    metrics.add(function, Metric::Holes, outcome.holes);
    metrics.add(function, Metric::HeadRetries, outcome.retries);
    if let Some(age) = newest_record_age(&event, SystemTime::now()) {
        metrics.add(function, Metric::NewestRecordAge, age);
    }
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

/// How old the batch's newest record is, in milliseconds: how far behind the table the
/// consumer is. `None` when no record says when it was written.
pub fn newest_record_age(event: &Event, now: SystemTime) -> Option<u64> {
    let newest = event
        .records
        .iter()
        .map(|r| r.change.approximate_creation_date_time.timestamp_millis())
        .filter(|&ms| ms > 0)
        .max()?;
    let now = now.duration_since(UNIX_EPOCH).ok()?.as_millis();
    let now = i64::try_from(now).ok()?;
    Some(u64::try_from(now.saturating_sub(newest)).unwrap_or(0))
}

/// Consumes one batch as Lambda delivers it and says what it came to.
pub async fn consume<C: Consumer + Sync>(consumer: &C, event: &Event) -> BatchOutcome {
    let records: Vec<StreamRecord> = event.records.iter().filter_map(decode_record).collect();
    consumer.consume(&records).await
}

/// A Lambda stream record as the projection sees it. A record without a sequence number cannot
/// be reported or retried: it is logged and left out.
pub fn decode_record(record: &EventRecord) -> Option<StreamRecord> {
    // The keys, for the log, only when something is logged.
    let keys = || serde_json::to_string(&record.change.keys).unwrap_or_default();
    let Some(sequence_number) = record.change.sequence_number.clone() else {
        tracing::error!(keys = %keys(), event_id = %record.event_id,
            "stream record without a sequence number: skipped");
        return None;
    };
    let change = match record.event_name.as_str() {
        "INSERT" => match event_from_image(record.change.new_image.clone()) {
            Ok((stream, event)) => Change::Insert { stream, event },
            Err(e) => Change::Undecodable {
                keys: keys(),
                reason: e.to_string(),
            },
        },
        other => Change::Ignored {
            event_name: other.to_owned(),
            keys: keys(),
        },
    };
    Some(StreamRecord {
        sequence_number,
        change,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// The age of the newest record, from the sample batch's `ApproximateCreationDateTime`s
    /// (1795810504 s), against a fixed clock; a record without one does not count.
    #[test]
    fn the_newest_records_age_is_measured_from_its_creation_time() {
        let event: Event =
            serde_json::from_str(include_str!("../../events/dynamodb-stream-batch.json"))
                .expect("a DynamoDB Streams event");
        let written = UNIX_EPOCH + Duration::from_secs(1_795_810_504);
        let now = written + Duration::from_millis(1_500);
        assert_eq!(newest_record_age(&event, now), Some(1_500));
        // A clock behind the records: no negative age.
        assert_eq!(
            newest_record_age(&event, written - Duration::from_secs(5)),
            Some(0)
        );
        assert_eq!(newest_record_age(&Event::default(), now), None);
    }
}
