//! Follows the events table's stream in the embedded DynamoDB, as Lambda's event source mapping
//! does: ListStreams, DescribeStream, GetShardIterator, GetRecords (following NextShardIterator
//! until it is null), and hands the projector batches in exactly the shape Lambda delivers,
//! delivering again from the first failed record when it reports batch item failures.

use std::path::PathBuf;
use std::time::Duration;

use aws_lambda_events::event::dynamodb::Event;
use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};
use aws_sdk_dynamodbstreams::Client;
use hitpoints::metrics::Metrics;
use hitpoints_streams::Consumer;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::watch;

/// Records per batch, as the template's `BatchSize`.
pub const BATCH_SIZE: i32 = 100;
/// Deliveries of a failing record before it is set aside (Lambda: `MaximumRetryAttempts`, then
/// the on-failure destination; here, the log).
const MAX_RETRIES: u32 = 3;
/// Waits between polls of an idle stream: from the first, doubling on each empty poll up to the
/// last, back to the first after records. Each GetRecords costs the process a few milliseconds
/// of CPU (SDK and dynoxide, debug build), so an idle run sleeps long; the local run's own
/// writes wake the followers at once (see [`Follower::run`]), other writers wait up to the last.
const IDLE_POLL_FIRST: Duration = Duration::from_millis(10);
const IDLE_POLL_MAX: Duration = Duration::from_secs(2);

/// Where the follower is in the stream: kept in a file so a restart goes on from there.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub shard_id: Option<String>,
    /// The last sequence number fully processed.
    pub sequence_number: Option<String>,
}

/// Follows the stream for one consumer (the projector, or the feed indexer), with a position of
/// its own: a consumer that fails holds back only itself, as with Lambda's event source
/// mappings.
#[derive(Debug)]
pub struct Follower<C> {
    pub client: Client,
    pub table: String,
    pub consumer: C,
    /// `None`: keep the position in memory only.
    pub position_file: Option<PathBuf>,
    /// Where each batch is counted (the local run's `/metrics`).
    pub metrics: Metrics,
}

impl<C: Consumer + Sync> Follower<C> {
    /// Follows the stream until `stop` turns true. Errors are logged and retried: the local run
    /// keeps serving the API whatever happens here. A change sent on `wake` (after a write to
    /// the table) ends an idle wait at once.
    pub async fn run(self, mut stop: watch::Receiver<bool>, mut wake: watch::Receiver<()>) {
        let mut position = self.load_position();
        while !*stop.borrow() {
            if let Err(e) = self.follow(&mut position, &mut stop, &mut wake).await {
                tracing::warn!(error = %e, "stream follower: retrying in 1 s");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = stop.changed() => {}
                }
            }
        }
    }

    async fn follow(
        &self,
        position: &mut Position,
        stop: &mut watch::Receiver<bool>,
        wake: &mut watch::Receiver<()>,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let streams = self
            .client
            .list_streams()
            .table_name(&self.table)
            .send()
            .await?;
        let arn = streams
            .streams()
            .first()
            .and_then(|s| s.stream_arn())
            .ok_or("the events table has no stream")?
            .to_owned();
        let description = self
            .client
            .describe_stream()
            .stream_arn(&arn)
            .send()
            .await?;
        let shards: Vec<String> = description
            .stream_description()
            .map(|d| {
                d.shards()
                    .iter()
                    .filter_map(|s| s.shard_id().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        for shard in shards {
            let resume = position.shard_id.as_deref() == Some(shard.as_str());
            let mut request = self
                .client
                .get_shard_iterator()
                .stream_arn(&arn)
                .shard_id(&shard);
            request = match (&position.sequence_number, resume) {
                (Some(sequence), true) => request
                    .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                    .sequence_number(sequence),
                _ => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
            };
            let mut iterator = request.send().await?.shard_iterator;
            position.shard_id = Some(shard.clone());
            let mut idle_poll = IDLE_POLL_FIRST;
            while let Some(current) = iterator.take() {
                if *stop.borrow() {
                    return Ok(());
                }
                // Seen before the read: a write from here on ends the wait below at once.
                wake.borrow_and_update();
                let page = self
                    .client
                    .get_records()
                    .shard_iterator(current)
                    .limit(BATCH_SIZE)
                    .send()
                    .await?;
                iterator = page.next_shard_iterator;
                let records: Vec<Value> = page
                    .records
                    .unwrap_or_default()
                    .iter()
                    .map(|r| lambda_record(r, &arn))
                    .collect();
                if records.is_empty() {
                    tokio::select! {
                        _ = tokio::time::sleep(idle_poll) => {}
                        _ = stop.changed() => {}
                        // A closed sender disables this branch: the wait is the sleep's.
                        Ok(()) = wake.changed() => {}
                    }
                    idle_poll = (idle_poll * 2).min(IDLE_POLL_MAX);
                    continue;
                }
                idle_poll = IDLE_POLL_FIRST;
                self.deliver(records, position, stop).await;
            }
        }
        Ok(())
    }

    /// Hands one batch to the consumer; on batch item failures, delivers again from the
    /// lowest failed record, as Lambda does.
    async fn deliver(
        &self,
        mut records: Vec<Value>,
        position: &mut Position,
        stop: &mut watch::Receiver<bool>,
    ) {
        let mut retries = 0;
        while !records.is_empty() && !*stop.borrow() {
            let sequence = |r: &Value| r["dynamodb"]["SequenceNumber"].as_str().map(str::to_owned);
            let event: Event = match serde_json::from_value(json!({ "Records": records })) {
                Ok(event) => event,
                Err(_) => {
                    // Not the error's text: it may quote an image's values.
                    let first = records.first().and_then(sequence);
                    tracing::error!(first_sequence_number = ?first, records = records.len(),
                        "stream records not in Lambda's shape: skipped");
                    return;
                }
            };
            let response = hitpoints_streams::handle(&self.consumer, event, &self.metrics).await;
            let failed: Vec<String> = response
                .batch_item_failures
                .into_iter()
                .filter_map(|f| f.item_identifier)
                .collect();
            let first_failed = records
                .iter()
                .position(|r| sequence(r).is_some_and(|s| failed.contains(&s)));
            let Some(index) = first_failed else {
                position.sequence_number = records.last().and_then(sequence);
                self.save_position(position);
                return;
            };
            if index > 0 {
                position.sequence_number = sequence(&records[index - 1]);
                self.save_position(position);
            }
            records.drain(..index);
            retries += 1;
            if retries > MAX_RETRIES {
                // Its keys and sequence number, never its image (names, notes).
                let record = &records[0]["dynamodb"];
                tracing::error!(keys = %record["Keys"], sequence_number = %record["SequenceNumber"],
                    "stream record failed {MAX_RETRIES} retries: set aside");
                records.remove(0);
                retries = 0;
            } else {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(100 << retries)) => {}
                    _ = stop.changed() => {}
                }
            }
        }
    }

    fn load_position(&self) -> Position {
        let Some(file) = &self.position_file else {
            return Position::default();
        };
        match std::fs::read_to_string(file) {
            Ok(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
                tracing::warn!(error = %e, file = %file.display(), "unreadable stream position: starting from the oldest record");
                Position::default()
            }),
            Err(_) => Position::default(),
        }
    }

    fn save_position(&self, position: &Position) {
        let Some(file) = &self.position_file else {
            return;
        };
        let written = serde_json::to_string(position)
            .map_err(std::io::Error::other)
            .and_then(|text| {
                let temporary = file.with_extension("tmp");
                std::fs::write(&temporary, text)?;
                std::fs::rename(&temporary, file)
            });
        if let Err(e) = written {
            tracing::warn!(error = %e, file = %file.display(), "cannot save the stream position");
        }
    }
}

/// A DynamoDB Streams record in the JSON shape Lambda delivers to a function.
fn lambda_record(record: &Record, stream_arn: &str) -> Value {
    let change = record.dynamodb();
    let item = |image: Option<
        &std::collections::HashMap<String, aws_sdk_dynamodbstreams::types::AttributeValue>,
    >| {
        image.map(|i| {
            serde_json::to_value(serde_dynamo::Item::from(i.clone())).unwrap_or(Value::Null)
        })
    };
    let mut dynamodb = json!({
        "Keys": item(change.and_then(|c| c.keys.as_ref())),
        "SequenceNumber": change.and_then(|c| c.sequence_number()),
        "SizeBytes": change.and_then(|c| c.size_bytes()).unwrap_or_default(),
        "StreamViewType": change.and_then(|c| c.stream_view_type()).map(|t| t.as_str()),
    });
    if let Some(image) = item(change.and_then(|c| c.new_image.as_ref())) {
        dynamodb["NewImage"] = image;
    }
    if let Some(image) = item(change.and_then(|c| c.old_image.as_ref())) {
        dynamodb["OldImage"] = image;
    }
    if let Some(created) = change.and_then(|c| c.approximate_creation_date_time()) {
        dynamodb["ApproximateCreationDateTime"] = json!(created.as_secs_f64());
    }
    json!({
        "eventID": record.event_id(),
        "eventName": record.event_name().map(|n| n.as_str()),
        "eventVersion": record.event_version(),
        "eventSource": record.event_source().unwrap_or("aws:dynamodb"),
        "awsRegion": record.aws_region(),
        "eventSourceARN": stream_arn,
        "dynamodb": dynamodb,
    })
}
