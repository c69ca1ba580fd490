//! The HP snapshot table: one item per character, kept current by the projector.
//!
//! | attribute | |
//! | --- | --- |
//! | `Id` (S, key) | the character's id |
//! | `CharacterName`, `HitPoints`, `Version` | the fold of versions 0..=`Version` |
//! | `UpdatedAt` | RFC 3339 UTC, changed by every write |
//! | `HoleRanges` (S) | versions below `Version` the events table did not have, as ranges (`"4..200000"`) |
//! | `Holes` (NS) | the same, one number each, as written before holes were ranges: still read |
//! | `LastHpChange`, `LastNote`, `LastRecordedAt` | what the latest event said |
//! | `LastEventType`, `LastOutcome` | the latest event's type and computed numbers |
//! | `State` | the sheet, on a character with rules (`HitPoints` is then its HP) |
//! | `CampaignId` (S) | the character's campaign: the key of the `ByCampaign` index |

use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::plan::{HoleFill, HolesChange, SnapshotUpdate};
use crate::domain::{json_escaped_len, CharacterState, LatestEvent, Version};
use crate::error::{Error, InfraError};
use crate::rules::{Outcome, Sheet};
use crate::store::item::attr;
use crate::store::logged;
use crate::store::sdk::{self, condition_held, infra, Item};
use crate::stream::Holes;

const HIT_POINTS: &str = "HitPoints";
const CHARACTER_NAME: &str = "CharacterName";
const UPDATED_AT: &str = "UpdatedAt";
const HOLE_RANGES: &str = "HoleRanges";
const LEGACY_HOLES: &str = "Holes";
const LAST_HP_CHANGE: &str = "LastHpChange";
const LAST_NOTE: &str = "LastNote";
const LAST_RECORDED_AT: &str = "LastRecordedAt";
const LAST_EVENT_TYPE: &str = "LastEventType";
const LAST_OUTCOME: &str = "LastOutcome";
const STATE: &str = "State";
/// The campaign's id (S): the partition key of the [`BY_CAMPAIGN`] index.
pub const CAMPAIGN_ID: &str = "CampaignId";
/// The index of the snapshot table by campaign (`CampaignId` hash, `Id` range, every
/// attribute projected): a campaign's party is one Query of it.
pub const BY_CAMPAIGN: &str = "ByCampaign";

/// A character's snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub id: String,
    pub character_name: String,
    pub hit_points: i64,
    /// The last version applied.
    pub version: Version,
    pub updated_at: String,
    /// Versions below `version` that the events table did not have when they were folded
    /// around (written by other code with a version missing); an event written there later is
    /// still applied, once.
    pub holes: Holes,
    /// Whether the holes were read from the number set of a snapshot written before holes
    /// were ranges (the next write that changes them writes them as ranges).
    pub legacy_holes: bool,
    /// The latest event's HP change, note and time (absent on snapshots written before they
    /// were kept; a rebuild adds them).
    pub last_hp_change: Option<i64>,
    pub last_note: Option<String>,
    pub last_recorded_at: Option<String>,
    /// The latest event's type and what the rules computed for it (absent before a
    /// character's first event of this code).
    pub last_event_type: Option<String>,
    pub last_outcome: Option<Outcome>,
    /// The sheet, on a character with rules.
    pub rules: Option<Sheet>,
    /// The character's campaign (absent on snapshots written before campaigns, until the
    /// projector's next write or a rebuild: the default campaign).
    pub campaign_id: Option<Uuid>,
}

/// The item as stored, in its attribute names.
#[derive(Debug, Serialize, Deserialize)]
struct StoredSnapshot {
    #[serde(rename = "Id")]
    id: String,
    #[serde(rename = "CharacterName")]
    character_name: String,
    #[serde(rename = "HitPoints")]
    hit_points: i64,
    #[serde(rename = "Version")]
    version: Version,
    #[serde(rename = "UpdatedAt")]
    updated_at: String,
    #[serde(
        rename = "HoleRanges",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    hole_ranges: Option<String>,
    #[serde(rename = "Holes", default, skip_serializing)]
    legacy_holes: Vec<Version>,
    #[serde(
        rename = "LastHpChange",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    last_hp_change: Option<i64>,
    #[serde(rename = "LastNote", default, skip_serializing_if = "Option::is_none")]
    last_note: Option<String>,
    #[serde(
        rename = "LastRecordedAt",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    last_recorded_at: Option<String>,
    #[serde(
        rename = "LastEventType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    last_event_type: Option<String>,
    #[serde(
        rename = "LastOutcome",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    last_outcome: Option<Outcome>,
    #[serde(rename = "State", default, skip_serializing_if = "Option::is_none")]
    rules: Option<Sheet>,
    #[serde(
        rename = "CampaignId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    campaign_id: Option<Uuid>,
}

impl Snapshot {
    /// Reads a snapshot item; an item that is not one is [`InfraError::CorruptItem`].
    pub fn decode(item: Item) -> Result<Snapshot, InfraError> {
        let id = match item.get(attr::ID) {
            Some(AttributeValue::S(id)) => id.clone(),
            _ => String::new(),
        };
        let stored: StoredSnapshot =
            serde_dynamo::from_item(item).map_err(|e| sdk::corrupt(&id, &e))?;
        let mut holes: Holes = match &stored.hole_ranges {
            Some(text) => text
                .parse()
                .map_err(|()| InfraError::corrupt(&id, None, "HoleRanges are not ranges"))?,
            None => Holes::new(),
        };
        let legacy_holes = !stored.legacy_holes.is_empty();
        holes.extend(&stored.legacy_holes.into_iter().collect());
        Ok(Snapshot {
            id: stored.id,
            character_name: stored.character_name,
            hit_points: stored.hit_points,
            version: stored.version,
            updated_at: stored.updated_at,
            holes,
            legacy_holes,
            last_hp_change: stored.last_hp_change,
            last_note: stored.last_note,
            last_recorded_at: stored.last_recorded_at,
            last_event_type: stored.last_event_type,
            last_outcome: stored.last_outcome,
            rules: stored.rules,
            campaign_id: stored.campaign_id,
        })
    }

    /// The size of this snapshot as JSON in a listing, in bytes, as an upper bound.
    pub fn json_size(&self) -> usize {
        const FIXED: usize = 256;
        // The sheet as answered, and the latest event's outcome (13 damage parts stay under it).
        const RULES: usize = 4096;
        let rules = if self.rules.is_some() || self.last_outcome.is_some() {
            RULES
        } else {
            0
        };
        FIXED
            + rules
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
        logged("snapshot read", stream, self.read(stream, consistent).await)
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
        Ok(output.item.map(Snapshot::decode).transpose()?)
    }

    /// Writes `update` if the snapshot is at `update.expected` (and its holes are still what
    /// the update read, when it changes them); `Ok(false)` when it is not.
    pub async fn apply(&self, update: &SnapshotUpdate) -> Result<bool, Error> {
        let request = self
            .update(update.stream)
            .expression_attribute_names("#name", CHARACTER_NAME)
            .expression_attribute_names("#v", attr::VERSION)
            .expression_attribute_values(":name", AttributeValue::S(update.character_name.clone()))
            .expression_attribute_values(":v", AttributeValue::N(update.version.to_string()))
            .expression_attribute_values(":delta", AttributeValue::N(update.hp_delta.to_string()));
        let (latest, request) = set_latest(request, &update.latest);
        let (mut condition, request) = match update.expected {
            None => (
                "attribute_not_exists(#id)".to_owned(),
                request.expression_attribute_names("#id", attr::ID),
            ),
            Some(expected) => (
                "#v = :expected".to_owned(),
                request.expression_attribute_values(
                    ":expected",
                    AttributeValue::N(expected.to_string()),
                ),
            ),
        };
        // With rules, the HP is the sheet's (a plain change of other code is clamped); without,
        // the sum.
        let hp = match (&update.rules, update.expected) {
            (Some(_), _) | (None, None) => "#hp = :delta",
            (None, Some(_)) => "#hp = #hp + :delta",
        };
        let request = request
            .expression_attribute_names("#campaign", CAMPAIGN_ID)
            .expression_attribute_values(
                ":campaign",
                AttributeValue::S(update.campaign_id.to_string()),
            );
        let mut set =
            format!("{hp}, #name = :name, #v = :v, #at = :at, #campaign = :campaign{latest}");
        let mut remove = latest_removed(&update.latest).to_owned();
        let mut request = request;
        if let Some(sheet) = &update.rules {
            let state = serde_dynamo::to_attribute_value(sheet)
                .map_err(|e| sdk::corrupt(update.stream, &e))?;
            request = request
                .expression_attribute_names("#state", STATE)
                .expression_attribute_values(":state", state)
                .expression_attribute_values(":delta", AttributeValue::N(sheet.hp.to_string()));
            set.push_str(", #state = :state");
        }
        if let Some(outcome) = &update.latest.outcome {
            let outcome = serde_dynamo::to_attribute_value(outcome)
                .map_err(|e| sdk::corrupt(update.stream, &e))?;
            request = request
                .expression_attribute_names("#lout", LAST_OUTCOME)
                .expression_attribute_values(":lout", outcome);
            set.push_str(", #lout = :lout");
        } else {
            request = request.expression_attribute_names("#lout", LAST_OUTCOME);
            remove.push_str(", #lout");
        }
        if let Some(change) = &update.holes {
            let holes;
            (holes, request) =
                write_holes(request, update.stream, change, update.expected.is_some())?;
            condition.push_str(&holes.condition);
            set.push_str(&holes.set);
            remove.push_str(&holes.remove);
        }
        let request = request
            .update_expression(expression(&set, &remove))
            .condition_expression(condition);
        Ok(condition_held("UpdateItem", request.send().await)?)
    }

    /// Applies a late event in a hole of the snapshot if the snapshot's holes are still what
    /// the fill read (so the event is applied once); `Ok(false)` when they are not.
    pub async fn fill(&self, fill: &HoleFill) -> Result<bool, Error> {
        let request = self
            .update(fill.stream)
            .expression_attribute_values(":delta", AttributeValue::N(fill.hp_delta.to_string()));
        let (holes, request) = write_holes(request, fill.stream, &fill.holes, true)?;
        let set = format!("#hp = #hp + :delta, #at = :at{}", holes.set);
        let request = request
            .update_expression(expression(&set, &holes.remove))
            .condition_expression(holes.condition.trim_start_matches(" AND "));
        Ok(condition_held("UpdateItem", request.send().await)?)
    }

    /// An update of the character's snapshot that sets `UpdatedAt` (`#at = :at`) and names
    /// `#hp`.
    fn update(&self, stream: Uuid) -> UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(attr::ID, AttributeValue::S(stream.to_string()))
            .expression_attribute_names("#hp", HIT_POINTS)
            .expression_attribute_names("#at", UPDATED_AT)
            .expression_attribute_values(":at", AttributeValue::S(sdk::now().unwrap_or_default()))
    }

    /// Writes `state` as the character's whole snapshot, if the snapshot is still what the
    /// caller read (`read`; `None`: there was none): same version, HP and `UpdatedAt`, which
    /// every projector write changes. `Ok(false)` when it is not.
    pub async fn replace(
        &self,
        stream: Uuid,
        state: &CharacterState,
        holes: &Holes,
        read: Option<&Snapshot>,
    ) -> Result<bool, Error> {
        let stored = StoredSnapshot {
            id: stream.to_string(),
            character_name: state.character_name.clone(),
            hit_points: state.hp,
            version: state.version,
            updated_at: sdk::now().unwrap_or_default(),
            hole_ranges: holes
                .to_text()
                .map_err(|e| InfraError::corrupt(stream, None, e.to_string()))?,
            legacy_holes: Vec::new(),
            last_hp_change: Some(state.latest.hp_change),
            last_note: Some(state.latest.note.clone()),
            last_recorded_at: state.latest.recorded_at.clone(),
            last_event_type: Some(state.latest.event_type.clone()),
            last_outcome: state.latest.outcome.clone(),
            rules: state.rules.clone(),
            campaign_id: Some(state.campaign_id),
        };
        let item: Item = serde_dynamo::to_item(&stored).map_err(|e| sdk::corrupt(stream, &e))?;
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
                .expression_attribute_names("#hp", HIT_POINTS)
                .expression_attribute_names("#at", UPDATED_AT)
                .expression_attribute_values(":v", AttributeValue::N(read.version.to_string()))
                .expression_attribute_values(":hp", AttributeValue::N(read.hit_points.to_string()))
                .expression_attribute_values(":at", AttributeValue::S(read.updated_at.clone())),
        };
        Ok(condition_held("PutItem", request.send().await)?)
    }
}

/// `SET …` and `REMOVE …` clauses as one update expression.
fn expression(set: &str, remove: &str) -> String {
    match remove.trim_start_matches(", ") {
        "" => format!("SET {set}"),
        remove => format!("SET {set} REMOVE {remove}"),
    }
}

/// Adds the latest event's attributes to an update: returns the `SET` clauses to append.
fn set_latest(
    request: UpdateItemFluentBuilder,
    latest: &LatestEvent,
) -> (&'static str, UpdateItemFluentBuilder) {
    let request = request
        .expression_attribute_names("#lhp", LAST_HP_CHANGE)
        .expression_attribute_names("#lnote", LAST_NOTE)
        .expression_attribute_names("#lat", LAST_RECORDED_AT)
        .expression_attribute_names("#ltype", LAST_EVENT_TYPE)
        .expression_attribute_values(":lhp", AttributeValue::N(latest.hp_change.to_string()))
        .expression_attribute_values(":lnote", AttributeValue::S(latest.note.clone()))
        .expression_attribute_values(":ltype", AttributeValue::S(latest.event_type.clone()));
    match &latest.recorded_at {
        Some(at) => (
            ", #lhp = :lhp, #lnote = :lnote, #ltype = :ltype, #lat = :lat",
            request.expression_attribute_values(":lat", AttributeValue::S(at.clone())),
        ),
        None => (", #lhp = :lhp, #lnote = :lnote, #ltype = :ltype", request),
    }
}

/// The `REMOVE` clause of the latest event's time when the event has none.
fn latest_removed(latest: &LatestEvent) -> &'static str {
    if latest.recorded_at.is_some() {
        ""
    } else {
        ", #lat"
    }
}

/// The clauses of an update that rewrites the holes.
struct HolesClauses {
    /// ` AND …`: the holes are still what was read.
    condition: String,
    /// `, …` to add to `SET`.
    set: String,
    /// `, …` to add to `REMOVE`.
    remove: String,
}

/// Rewrites the holes as `change.after`, in ranges (the number set of an older snapshot goes),
/// on condition that they are still `change.read` (when `exists`: on a snapshot that exists).
fn write_holes(
    request: UpdateItemFluentBuilder,
    stream: Uuid,
    change: &HolesChange,
    exists: bool,
) -> Result<(HolesClauses, UpdateItemFluentBuilder), InfraError> {
    let mut request = request
        .expression_attribute_names("#ranges", HOLE_RANGES)
        .expression_attribute_names("#legacy", LEGACY_HOLES);
    let mut clauses = HolesClauses {
        condition: String::new(),
        set: String::new(),
        remove: ", #legacy".to_owned(),
    };
    if exists {
        // A snapshot written before ranges has only the number set; a write of ranges removes it.
        clauses.condition = if change.legacy {
            " AND attribute_exists(#legacy) AND attribute_not_exists(#ranges)".to_owned()
        } else if change.read.is_empty() {
            " AND attribute_not_exists(#legacy) AND attribute_not_exists(#ranges)".to_owned()
        } else {
            let read = AttributeValue::S(change.read.to_string());
            request = request.expression_attribute_values(":read", read);
            " AND attribute_not_exists(#legacy) AND #ranges = :read".to_owned()
        };
    }
    let after = change
        .after
        .to_text()
        .map_err(|e| InfraError::corrupt(stream, None, e.to_string()))?;
    match after {
        Some(after) => {
            clauses.set = ", #ranges = :after".to_owned();
            request = request.expression_attribute_values(":after", AttributeValue::S(after));
        }
        None => clauses.remove.push_str(", #ranges"),
    }
    Ok((clauses, request))
}
