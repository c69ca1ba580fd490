//! The events table's item, in the source material's attribute names, converted with serde_dynamo.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use base64::Engine;

use super::sdk::{without_quotes, Item};
use crate::domain::{OtherAttributes, RecordedEvent, Version, ADJUSTED};
use crate::error::InfraError;
use crate::rules::{Command, Outcome, Sheet};

/// Attribute names of the events table.
pub mod attr {
    pub const ID: &str = "Id";
    pub const VERSION: &str = "Version";
    pub const EVENT_ID: &str = "EventId";
    pub const STATE: &str = "State";
    pub const EVENT_TYPE: &str = "EventType";
    pub const CAMPAIGN_ID: &str = "CampaignId";
    pub const MOVED_FROM: &str = "MovedFrom";
    /// Every attribute an event item of this code has; others are carried as they are.
    pub const KNOWN: [&str; 16] = [
        ID,
        VERSION,
        "CharacterName",
        "CharacterHitPoints",
        "Note",
        EVENT_ID,
        "RecordedAt",
        EVENT_TYPE,
        "SchemaVersion",
        "Command",
        "Outcome",
        STATE,
        "Recent",
        "CorrelationId",
        CAMPAIGN_ID,
        MOVED_FROM,
    ];
}

/// The shape of the typed attributes (`EventType`, `Command`, `Outcome`, `State`, `Recent`).
pub const SCHEMA_VERSION: u32 = 1;

/// One event as it is stored. `EventId` and `RecordedAt` are ours, and so are the typed
/// attributes: `EventType` and `SchemaVersion` on every item this code writes; `Command`,
/// `Outcome`, `State` (the sheet after the event) and `Recent` (the last commands' ids) on a
/// character with rules. Items written without them (by the source material's code, or an
/// earlier hitpoints) still read, as plain changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventItem {
    #[serde(rename = "Id")]
    pub id: String,
    #[serde(rename = "Version")]
    pub version: Version,
    #[serde(rename = "CharacterName")]
    pub character_name: String,
    #[serde(rename = "CharacterHitPoints")]
    pub character_hit_points: i64,
    #[serde(rename = "Note")]
    pub note: String,
    #[serde(rename = "EventId", default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<Uuid>,
    #[serde(
        rename = "RecordedAt",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub recorded_at: Option<String>,
    #[serde(rename = "EventType", default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    #[serde(
        rename = "SchemaVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub schema_version: Option<u32>,
    #[serde(rename = "Command", default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Command>,
    #[serde(rename = "Outcome", default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    #[serde(rename = "State", default, skip_serializing_if = "Option::is_none")]
    pub state: Option<Sheet>,
    /// The first 8 bytes of each of the last commands' ids, newest last, in base64.
    #[serde(rename = "Recent", default, skip_serializing_if = "Option::is_none")]
    pub recent: Option<String>,
    #[serde(
        rename = "CorrelationId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub correlation_id: Option<Uuid>,
    /// The character's campaign from this event on; absent: the default campaign.
    #[serde(
        rename = "CampaignId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub campaign_id: Option<Uuid>,
    /// On a move, the campaign the character left.
    #[serde(rename = "MovedFrom", default, skip_serializing_if = "Option::is_none")]
    pub moved_from: Option<Uuid>,
    /// Attributes beyond the known ones, as stored.
    #[serde(skip)]
    pub other: OtherAttributes,
}

/// Why a stream image is not an event.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// What is wrong with it, without the values serde quotes (which may be a name or a note).
    #[error("the image is not an event item: {0}")]
    NotAnEvent(String),
    #[error("Id is not a uuid: {0}")]
    IdNotAUuid(#[from] uuid::Error),
}

/// Reads a stream record's image (Lambda's or the Streams API's) as an event of a character.
pub fn event_from_image(
    image: impl Into<serde_dynamo::Item>,
) -> Result<(Uuid, RecordedEvent), ImageError> {
    let image: serde_dynamo::Item = image.into();
    let other = others(image.iter().map(|(k, v)| (k, v.clone())));
    let mut item: EventItem = serde_dynamo::from_item(image)
        .map_err(|e: serde_dynamo::Error| ImageError::NotAnEvent(without_quotes(&e.to_string())))?;
    item.other = other;
    let stream = Uuid::try_parse(&item.id)?;
    Ok((stream, item.into_event()))
}

/// The attributes of an item that are not [`attr::KNOWN`].
fn others<'a>(
    attributes: impl Iterator<Item = (&'a String, serde_dynamo::AttributeValue)>,
) -> OtherAttributes {
    attributes
        .filter(|(name, _)| !attr::KNOWN.contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), value))
        .collect()
}

const RECENT_KEY_BYTES: usize = 8;

impl EventItem {
    pub fn into_event(self) -> RecordedEvent {
        let snapshot = RecordedEvent::is_snapshot_item(self.event_id, &self.note);
        let recent = self
            .recent
            .as_deref()
            .map(decode_recent)
            .unwrap_or_default();
        let event_type = match self.event_type {
            Some(event_type) => event_type,
            None if snapshot => "snapshot".to_owned(),
            None => ADJUSTED.to_owned(),
        };
        RecordedEvent {
            snapshot,
            version: self.version,
            character_name: self.character_name,
            hp_change: self.character_hit_points,
            note: self.note,
            event_id: self.event_id,
            recorded_at: self.recorded_at,
            event_type,
            command: self.command,
            outcome: self.outcome,
            correlation_id: self.correlation_id,
            campaign_id: self.campaign_id,
            moved_from: self.moved_from,
            state: self.state.map(|sheet| Sheet { recent, ..sheet }),
            other: self.other,
        }
    }

    /// The item of `event`. A snapshot item and an event read without a type keep none.
    pub fn from_event(stream: Uuid, event: &RecordedEvent) -> EventItem {
        let typed = !event.snapshot
            && (event.command.is_some() || event.outcome.is_some() || event.event_type != ADJUSTED);
        EventItem {
            id: stream.to_string(),
            version: event.version,
            character_name: event.character_name.clone(),
            character_hit_points: event.hp_change,
            note: event.note.clone(),
            event_id: event.event_id,
            recorded_at: event.recorded_at.clone(),
            event_type: typed.then(|| event.event_type.clone()),
            schema_version: typed.then_some(SCHEMA_VERSION),
            command: event.command.clone(),
            outcome: event.outcome.clone(),
            state: event.state.clone(),
            recent: event.state.as_ref().map(|s| encode_recent(&s.recent)),
            correlation_id: event.correlation_id,
            campaign_id: event.campaign_id,
            moved_from: event.moved_from,
            other: event.other.clone(),
        }
    }

    /// The item's attributes, the other ones included.
    pub fn to_item(&self) -> Result<Item, serde_dynamo::Error> {
        let mut item: Item = serde_dynamo::to_item(self)?;
        for (name, value) in &self.other {
            item.entry(name.clone())
                .or_insert_with(|| value.clone().into());
        }
        Ok(item)
    }
}

fn encode_recent(recent: &[u64]) -> String {
    let bytes: Vec<u8> = recent.iter().flat_map(|k| k.to_be_bytes()).collect();
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes)
}

fn decode_recent(text: &str) -> Vec<u64> {
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(text)
        .unwrap_or_default();
    bytes
        .chunks_exact(RECENT_KEY_BYTES)
        .filter_map(|chunk| <[u8; RECENT_KEY_BYTES]>::try_from(chunk).ok())
        .map(u64::from_be_bytes)
        .collect()
}

/// Reads an events-table item, naming its keys when it cannot be read.
pub fn decode_item(item: Item) -> Result<EventItem, InfraError> {
    let key = |name: &str| match item.get(name) {
        Some(AttributeValue::S(s) | AttributeValue::N(s)) => Some(s.clone()),
        _ => None,
    };
    let (stream, version) = (key(attr::ID), key(attr::VERSION));
    let other = others(item.iter().map(|(k, v)| (k, v.clone().into())));
    let mut decoded: EventItem =
        serde_dynamo::from_item(item).map_err(|source: serde_dynamo::Error| {
            InfraError::corrupt(
                stream.unwrap_or_default(),
                version,
                without_quotes(&source.to_string()),
            )
        })?;
    decoded.other = other;
    Ok(decoded)
}

/// Reads an events-table item as an event of a character.
pub fn decode_event(item: Item) -> Result<(Uuid, RecordedEvent), InfraError> {
    let item = decode_item(item)?;
    let stream = Uuid::try_parse(&item.id).map_err(|_| {
        InfraError::corrupt(&item.id, Some(item.version.to_string()), "Id is not a uuid")
    })?;
    Ok((stream, item.into_event()))
}
