//! The events table's item, in the source material's attribute names, converted with serde_dynamo.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::sdk::{without_quotes, Item};
use crate::domain::{RecordedEvent, Version};
use crate::error::InfraError;

/// Attribute names of the events table.
pub mod attr {
    pub const ID: &str = "Id";
    pub const VERSION: &str = "Version";
}

/// One event as it is stored. `EventId` and `RecordedAt` are ours: items written without them
/// (by the source material's code) still read.
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
    let item: EventItem = serde_dynamo::from_item(image)
        .map_err(|e: serde_dynamo::Error| ImageError::NotAnEvent(without_quotes(&e.to_string())))?;
    let stream = Uuid::try_parse(&item.id)?;
    Ok((stream, item.into_event()))
}

impl EventItem {
    pub fn into_event(self) -> RecordedEvent {
        RecordedEvent {
            snapshot: RecordedEvent::is_snapshot_item(self.event_id, &self.note),
            version: self.version,
            character_name: self.character_name,
            hp_change: self.character_hit_points,
            note: self.note,
            event_id: self.event_id,
            recorded_at: self.recorded_at,
        }
    }

    pub fn from_event(stream: Uuid, event: &RecordedEvent) -> EventItem {
        EventItem {
            id: stream.to_string(),
            version: event.version,
            character_name: event.character_name.clone(),
            character_hit_points: event.hp_change,
            note: event.note.clone(),
            event_id: event.event_id,
            recorded_at: event.recorded_at.clone(),
        }
    }
}

/// Reads an events-table item, naming its keys when it cannot be read.
pub fn decode_item(item: Item) -> Result<EventItem, InfraError> {
    let key = |name: &str| match item.get(name) {
        Some(AttributeValue::S(s) | AttributeValue::N(s)) => Some(s.clone()),
        _ => None,
    };
    let (stream, version) = (key(attr::ID), key(attr::VERSION));
    serde_dynamo::from_item(item).map_err(|source: serde_dynamo::Error| {
        InfraError::corrupt(
            stream.unwrap_or_default(),
            version,
            without_quotes(&source.to_string()),
        )
    })
}

/// Reads an events-table item as an event of a character.
pub fn decode_event(item: Item) -> Result<(Uuid, RecordedEvent), InfraError> {
    let item = decode_item(item)?;
    let stream = Uuid::try_parse(&item.id).map_err(|_| {
        InfraError::corrupt(&item.id, Some(item.version.to_string()), "Id is not a uuid")
    })?;
    Ok((stream, item.into_event()))
}
