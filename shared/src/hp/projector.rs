//! The HP projection on DynamoDB: the projection's reads and writes on the events and snapshot
//! tables. Where the records come from (Lambda's DynamoDB Streams events, the local run's
//! stream follower) is the caller's business: see the `hitpoints-streams` adapter.

use std::ops::Range;

use uuid::Uuid;

use super::plan::{project_batch, HoleFill, SnapshotBackend, SnapshotPosition, SnapshotUpdate};
use super::table::SnapshotStore;
use crate::domain::{RecordedEvent, Version};
use crate::error::Error;
use crate::store::EventStore;
use crate::stream::{BatchOutcome, EventSource, StreamRecord};

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

    /// Projects one batch of records and says what it came to.
    pub async fn project(&self, records: &[StreamRecord]) -> BatchOutcome {
        let outcome = project_batch(self, records).await;
        tracing::info!(
            records = records.len(),
            characters = outcome.characters,
            writes = outcome.writes,
            failures = outcome.failures.len(),
            "batch projected"
        );
        outcome
    }
}

impl EventSource for Projector {
    async fn events_in(
        &self,
        stream: Uuid,
        range: Range<Version>,
    ) -> Result<Vec<RecordedEvent>, Error> {
        self.events.events_in(stream, range).await
    }
}

impl SnapshotBackend for Projector {
    async fn snapshot(&self, stream: Uuid) -> Result<Option<SnapshotPosition>, Error> {
        Ok(self
            .snapshots
            .get(stream, true)
            .await?
            .map(|s| SnapshotPosition {
                version: s.version,
                holes: s.holes,
                legacy_holes: s.legacy_holes,
                rules: s.rules,
            }))
    }

    async fn apply(&self, update: &SnapshotUpdate) -> Result<bool, Error> {
        self.snapshots.apply(update).await
    }

    async fn fill(&self, fill: &HoleFill) -> Result<bool, Error> {
        self.snapshots.fill(fill).await
    }
}
