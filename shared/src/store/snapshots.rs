//! The HP snapshot table: one item per character, kept current by the projector.

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::errors::infra;
use super::item::attr;
use crate::domain::Version;
use crate::domain::{json_escaped_len, CharacterState, LatestEvent};
use crate::error::Error;
use crate::projection::{HoleFill, SnapshotUpdate};

/// A character's snapshot as stored: `Id` (S, key), `CharacterName`, `HitPoints`, `Version`
/// (the last version applied), `UpdatedAt` (RFC 3339 UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    #[serde(rename = "Id")]
    pub id: String,
    #[serde(rename = "CharacterName")]
    pub character_name: String,
    #[serde(rename = "HitPoints")]
    pub hit_points: i64,
    #[serde(rename = "Version")]
    pub version: Version,
    #[serde(rename = "UpdatedAt")]
    pub updated_at: String,
    /// Versions below `version` that the events table did not have when they were folded
    /// around (written by other code with a version missing); an event written there later is
    /// still applied, once.
    #[serde(rename = "Holes", default)]
    pub holes: Vec<Version>,
    /// The latest event's HP change, note and time (absent on snapshots written before they
    /// were kept; a rebuild adds them).
    #[serde(rename = "LastHpChange", default)]
    pub last_hp_change: Option<i64>,
    #[serde(rename = "LastNote", default)]
    pub last_note: Option<String>,
    #[serde(rename = "LastRecordedAt", default)]
    pub last_recorded_at: Option<String>,
}

impl Snapshot {
    /// The size of this snapshot as JSON in a listing, in bytes, as an upper bound.
    pub fn json_size(&self) -> usize {
        const FIXED: usize = 256;
        FIXED
            + json_escaped_len(&self.id)
            + json_escaped_len(&self.character_name)
            + self.last_note.as_deref().map_or(0, json_escaped_len)
            + self.last_recorded_at.as_deref().map_or(0, json_escaped_len)
    }
}

/// The snapshot table.
#[derive(Debug, Clone)]
pub struct SnapshotStore {
    pub(super) client: Client,
    pub(super) table: String,
}

impl SnapshotStore {
    pub fn new(client: Client, table: impl Into<String>) -> SnapshotStore {
        SnapshotStore {
            client,
            table: table.into(),
        }
    }

    /// The snapshot table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The character's snapshot, if it has one. `consistent` asks for a strongly consistent read.
    pub async fn get(&self, stream: Uuid, consistent: bool) -> Result<Option<Snapshot>, Error> {
        super::logged("snapshot read", stream, self.read(stream, consistent).await)
    }

    async fn read(&self, stream: Uuid, consistent: bool) -> Result<Option<Snapshot>, Error> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(attr::ID, AttributeValue::S(stream.to_string()))
            .consistent_read(consistent)
            .send()
            .await
            .map_err(|e| infra("GetItem", e))?;
        let Some(item) = output.item else {
            return Ok(None);
        };
        serde_dynamo::from_item(item)
            .map(Some)
            .map_err(|source| super::errors::corrupt(stream, &source).into())
    }

    /// Writes `update` if the snapshot is at `update.expected`; `Ok(false)` when it is not.
    pub async fn apply(&self, update: &SnapshotUpdate) -> Result<bool, Error> {
        let updated_at = super::now().unwrap_or_default();
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(attr::ID, AttributeValue::S(update.stream.to_string()))
            .expression_attribute_names("#hp", "HitPoints")
            .expression_attribute_names("#name", "CharacterName")
            .expression_attribute_names("#v", attr::VERSION)
            .expression_attribute_names("#at", "UpdatedAt")
            .expression_attribute_values(":delta", AttributeValue::N(update.hp_delta.to_string()))
            .expression_attribute_values(":name", AttributeValue::S(update.character_name.clone()))
            .expression_attribute_values(":v", AttributeValue::N(update.version.to_string()))
            .expression_attribute_values(":at", AttributeValue::S(updated_at));
        let (latest, mut request) = set_latest(request, &update.latest);
        // Versions folded around are added to the snapshot's holes (a number set, never empty).
        let add_holes = if update.holes.is_empty() {
            ""
        } else {
            request = request
                .expression_attribute_names("#holes", HOLES)
                .expression_attribute_values(":holes", number_set(&update.holes));
            " ADD #holes :holes"
        };
        request = match update.expected {
            None => request
                .update_expression(format!(
                    "SET #hp = :delta, #name = :name, #v = :v, #at = :at{latest}{add_holes}"
                ))
                .expression_attribute_names("#id", attr::ID)
                .condition_expression("attribute_not_exists(#id)"),
            Some(expected) => request
                .update_expression(format!(
                    "SET #hp = #hp + :delta, #name = :name, #v = :v, #at = :at{latest}{add_holes}"
                ))
                .expression_attribute_values(":expected", AttributeValue::N(expected.to_string()))
                .condition_expression("#v = :expected"),
        };
        written(request.send().await)
    }

    /// Applies a late event in a hole of the snapshot if that version is still a hole there;
    /// `Ok(false)` when it is not (applied already, or never a hole).
    pub async fn fill(&self, fill: &HoleFill) -> Result<bool, Error> {
        let updated_at = super::now().unwrap_or_default();
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(attr::ID, AttributeValue::S(fill.stream.to_string()))
            .update_expression("SET #hp = #hp + :delta, #at = :at DELETE #holes :hole")
            .condition_expression("contains(#holes, :version)")
            .expression_attribute_names("#hp", "HitPoints")
            .expression_attribute_names("#at", "UpdatedAt")
            .expression_attribute_names("#holes", HOLES)
            .expression_attribute_values(":delta", AttributeValue::N(fill.hp_delta.to_string()))
            .expression_attribute_values(":at", AttributeValue::S(updated_at))
            .expression_attribute_values(":hole", number_set(&[fill.version]))
            .expression_attribute_values(":version", AttributeValue::N(fill.version.to_string()));
        written(request.send().await)
    }
}

/// A conditional update: `Ok(true)` written, `Ok(false)` its condition failed.
fn written<T>(result: Result<T, SdkError<UpdateItemError, HttpResponse>>) -> Result<bool, Error> {
    match result {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error()
                .is_some_and(UpdateItemError::is_conditional_check_failed_exception) =>
        {
            Ok(false)
        }
        Err(e) => Err(infra("UpdateItem", e).into()),
    }
}

/// Adds the latest event's attributes to an update: returns the `SET` clauses to append, and a
/// `REMOVE` of the time when the event has none.
fn set_latest(
    request: UpdateItemFluentBuilder,
    latest: &LatestEvent,
) -> (String, UpdateItemFluentBuilder) {
    let request = request
        .expression_attribute_names("#lhp", LAST_HP_CHANGE)
        .expression_attribute_names("#lnote", LAST_NOTE)
        .expression_attribute_names("#lat", LAST_RECORDED_AT)
        .expression_attribute_values(":lhp", AttributeValue::N(latest.hp_change.to_string()))
        .expression_attribute_values(":lnote", AttributeValue::S(latest.note.clone()));
    match &latest.recorded_at {
        Some(at) => (
            ", #lhp = :lhp, #lnote = :lnote, #lat = :lat".to_owned(),
            request.expression_attribute_values(":lat", AttributeValue::S(at.clone())),
        ),
        None => (
            ", #lhp = :lhp, #lnote = :lnote REMOVE #lat".to_owned(),
            request,
        ),
    }
}

const LAST_HP_CHANGE: &str = "LastHpChange";
const LAST_NOTE: &str = "LastNote";
const LAST_RECORDED_AT: &str = "LastRecordedAt";

/// The snapshot's attribute of holes: versions below its version that the events table did not
/// have when it was folded (a number set; absent when there are none).
const HOLES: &str = "Holes";

fn number_set(versions: &[Version]) -> AttributeValue {
    AttributeValue::Ns(versions.iter().map(Version::to_string).collect())
}

impl SnapshotStore {
    /// Writes `state` as the character's whole snapshot, if the snapshot is still what the
    /// caller read (`read`; `None`: there was none): same version, HP and `UpdatedAt`, which
    /// every projector write changes. `Ok(false)` when it is not.
    pub async fn replace(
        &self,
        stream: Uuid,
        state: &CharacterState,
        holes: &[Version],
        read: Option<&Snapshot>,
    ) -> Result<bool, Error> {
        let snapshot = Snapshot {
            id: stream.to_string(),
            character_name: state.character_name.clone(),
            hit_points: state.hp,
            version: state.version,
            updated_at: super::now().unwrap_or_default(),
            holes: Vec::new(),
            last_hp_change: Some(state.latest.hp_change),
            last_note: Some(state.latest.note.clone()),
            last_recorded_at: state.latest.recorded_at.clone(),
        };
        let mut item: super::Item =
            serde_dynamo::to_item(&snapshot).map_err(|e| super::errors::corrupt(stream, &e))?;
        // Holes are a number set (the projector ADDs to it and DELETEs from it); absent when
        // there are none, as are the attributes without a value.
        item.remove(HOLES);
        item.retain(|_, value| !value.is_null());
        if !holes.is_empty() {
            item.insert(HOLES.to_owned(), number_set(holes));
        }
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item));
        let request = match read {
            None => request
                .condition_expression("attribute_not_exists(#id)")
                .expression_attribute_names("#id", attr::ID),
            Some(read) => request
                .condition_expression("#v = :v AND #hp = :hp AND #at = :at")
                .expression_attribute_names("#v", attr::VERSION)
                .expression_attribute_names("#hp", "HitPoints")
                .expression_attribute_names("#at", "UpdatedAt")
                .expression_attribute_values(":v", AttributeValue::N(read.version.to_string()))
                .expression_attribute_values(":hp", AttributeValue::N(read.hit_points.to_string()))
                .expression_attribute_values(":at", AttributeValue::S(read.updated_at.clone())),
        };
        match request.send().await {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(infra("PutItem", e).into()),
        }
    }
}
