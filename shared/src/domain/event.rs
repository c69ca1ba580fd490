//! Events: what a caller appends, and what a stream holds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Version;
use crate::rules::{Command, Outcome, Sheet};

/// The note that marks a snapshot item written by the source material's code (its Part 3):
/// an item at the stream's next version whose `CharacterHitPoints` is the *total* HP. A new
/// event may not carry it, so a real change is never mistaken for one.
pub const SNAPSHOT_NOTE: &str = "SNAPSHOT";

/// An event a caller wants appended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"character_name": "Nuru", "hp_change": -2, "note": "Slashing damage from goblin"}))]
pub struct NewEvent {
    /// The character's name as of this event: at most 1,000 characters, not blank (422).
    #[schema(min_length = 1, max_length = 1000, example = "Nuru")]
    pub character_name: String,
    /// The signed change of hit points; must fit in an `i32`. Read from JSON as any whole
    /// number (`5`, `-0`, `5.0`, `1e3`); one beyond `i64` is kept as `i64`'s bound, so it is
    /// refused as out of range rather than unreadable.
    #[serde(deserialize_with = "whole_number")]
    #[schema(value_type = i32, minimum = -2_147_483_648, maximum = 2_147_483_647, example = -2)]
    pub hp_change: i64,
    /// What caused the change: not blank, at most 200,000 characters, not exactly `SNAPSHOT`
    /// (422), and name and note together within DynamoDB's 400 KB item (413).
    #[schema(
        min_length = 1,
        max_length = 200_000,
        example = "Slashing damage from goblin"
    )]
    pub note: String,
    /// A caller-chosen id that makes a retried append idempotent; made by the store when absent.
    /// A uuid in its hyphenated form.
    #[serde(default, deserialize_with = "hyphenated_uuid")]
    #[schema(nullable, example = "6d0e3b1a-7c2f-4e59-a8b4-1f2e3d4c5b6a")]
    pub event_id: Option<Uuid>,
}

/// Whether `text` is a uuid in the hyphenated form JSON Schema's `uuid` format names
/// (`6d0e3b1a-7c2f-4e59-a8b4-1f2e3d4c5b6a`, any case). `Uuid::parse_str` also takes the
/// simple, braced and URN forms, which the API's contract does not offer.
pub fn parse_hyphenated_uuid(text: &str) -> Option<Uuid> {
    let hyphens_at = [8, 13, 18, 23];
    let shaped = text.len() == 36
        && text
            .bytes()
            .enumerate()
            .all(|(i, b)| (b == b'-') == hyphens_at.contains(&i));
    shaped.then(|| Uuid::try_parse(text).ok()).flatten()
}

/// An optional uuid read from JSON in its hyphenated form only (serde's `deserialize_with`).
pub fn hyphenated_uuid<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Uuid>, D::Error> {
    let Some(text) = Option::<std::borrow::Cow<'de, str>>::deserialize(deserializer)? else {
        return Ok(None);
    };
    parse_hyphenated_uuid(&text).map(Some).ok_or_else(|| {
        serde::de::Error::invalid_value(
            serde::de::Unexpected::Str(&text),
            &"a uuid such as 6d0e3b1a-7c2f-4e59-a8b4-1f2e3d4c5b6a",
        )
    })
}

/// The bytes `text` takes as a JSON string, at most (quotes excluded).
pub fn json_escaped_len(text: &str) -> usize {
    text.chars()
        .map(|c| match c {
            '"' | '\\' => 2,
            c if u32::from(c) < 0x20 => 6,
            c => c.len_utf8(),
        })
        .sum()
}

/// An event as stored in a stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"version": 1, "character_name": "Nuru", "hp_change": -2,
    "note": "Slashing damage from goblin", "event_id": "0f8b2c4e-5d6a-4b7c-8e9f-a0b1c2d3e4f5",
    "recorded_at": "2026-11-29T20:15:04.25Z", "snapshot": false}))]
pub struct RecordedEvent {
    /// The event's place in its stream: 0 is the first.
    #[schema(value_type = u64)]
    pub version: Version,
    pub character_name: String,
    /// The signed change of hit points (on a snapshot item, the total).
    pub hp_change: i64,
    pub note: String,
    /// `None` only for events written without one (by the source material's code).
    #[schema(required = true)]
    pub event_id: Option<Uuid>,
    /// RFC 3339 UTC; `None` only for events written without one.
    #[schema(required = true)]
    pub recorded_at: Option<String>,
    /// A snapshot item of the source material (no event id, note exactly `SNAPSHOT`): its
    /// `hp_change` is the total HP at that point, and it changes nothing in the fold.
    #[serde(default)]
    #[schema(required = true)]
    pub snapshot: bool,
    /// The event's stable type (`EventType`): `adjusted` for a plain change, and for every
    /// item written without a type (by earlier hitpoints or the source material's code);
    /// `snapshot` for a source-material snapshot item.
    #[serde(default = "adjusted")]
    #[schema(required = true, example = "damaged")]
    pub event_type: String,
    /// What the command asked, as given (typed events, and plain changes on a character
    /// with rules, whose `hp_change` is then the change as applied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>, required = false)]
    pub command: Option<Command>,
    /// What the command did, in the numbers the rules computed (its `type` is `event_type`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub outcome: Option<Outcome>,
    /// The id shared by the events of one hit on many targets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub correlation_id: Option<Uuid>,
    /// The campaign the character is in from this event on (`CampaignId`); absent on items
    /// written before campaigns and by the source material's code: the default campaign.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub campaign_id: Option<Uuid>,
    /// On a move between campaigns (`moved`), the campaign it left (`MovedFrom`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub moved_from: Option<Uuid>,
    /// The character's sheet after this event, on a character with rules.
    #[serde(skip)]
    pub state: Option<Sheet>,
    /// Attributes of the stored item this code does not know: carried so that what copies
    /// an event (the feed) keeps everything it holds.
    #[serde(skip)]
    pub other: OtherAttributes,
}

/// The event type of a plain change, and of every item stored without a type.
pub const ADJUSTED: &str = "adjusted";

fn adjusted() -> String {
    ADJUSTED.to_owned()
}

/// A stored item's attributes beyond those this code reads, by name.
pub type OtherAttributes = BTreeMap<String, serde_dynamo::AttributeValue>;

impl RecordedEvent {
    /// Whether a stored item with this id and note is a source-material snapshot item.
    pub fn is_snapshot_item(event_id: Option<Uuid>, note: &str) -> bool {
        event_id.is_none() && note == SNAPSHOT_NOTE
    }

    /// The size of this event as JSON, in bytes, as an upper bound: its strings escaped, and
    /// room for the keys, the numbers, the ids and the timestamp.
    pub fn json_size(&self) -> usize {
        const FIXED: usize = 256;
        // A command and its outcome: 13 damage parts with every defence overridden stay
        // under this.
        const TYPED: usize = 4096;
        let typed = if self.command.is_some() || self.outcome.is_some() {
            TYPED
        } else {
            0
        };
        FIXED + typed + json_escaped_len(&self.character_name) + json_escaped_len(&self.note)
    }

    /// What this event adds to the HP: its change, or nothing for a snapshot item.
    pub fn hp_effect(&self) -> i64 {
        if self.snapshot {
            0
        } else {
            self.hp_change
        }
    }

    /// Whether this stored event is what `new` asks for (same id and same content). On a
    /// character with rules, the change compared is the one asked for, not the one applied.
    pub fn matches(&self, new: &NewEvent) -> bool {
        let requested = match &self.command {
            None => Some(self.hp_change),
            Some(Command::Adjust { hp_change }) => Some(*hp_change),
            Some(_) => None,
        };
        new.event_id.is_some()
            && self.event_id == new.event_id
            && self.character_name == new.character_name
            && requested == Some(new.hp_change)
            && self.note == new.note
    }

    /// A plain event as the source material's code writes it: no type, no rules.
    pub fn plain(version: Version, character_name: String, hp_change: i64, note: String) -> Self {
        RecordedEvent {
            version,
            character_name,
            hp_change,
            note,
            event_id: None,
            recorded_at: None,
            snapshot: false,
            event_type: adjusted(),
            command: None,
            outcome: None,
            correlation_id: None,
            campaign_id: None,
            moved_from: None,
            state: None,
            other: OtherAttributes::new(),
        }
    }
}

/// Reads a JSON number that must be whole: any integer, or a float without a fraction
/// (`5.0`, `1e3`); beyond `i64` it saturates, so range checks can refuse it by value.
pub fn whole_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    struct Visitor;
    impl serde::de::Visitor<'_> for Visitor {
        type Value = i64;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a whole number")
        }
        fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<i64, E> {
            Ok(value)
        }
        fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<i64, E> {
            Ok(i64::try_from(value).unwrap_or(i64::MAX))
        }
        fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<i64, E> {
            if value.is_finite() && value.fract() == 0.0 {
                // `as` saturates at i64's bounds, which are out of range anyway.
                #[allow(clippy::cast_possible_truncation)]
                Ok(value as i64)
            } else {
                Err(E::invalid_value(serde::de::Unexpected::Float(value), &self))
            }
        }
    }
    deserializer.deserialize_any(Visitor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hp_change_reads_any_whole_number_and_refuses_fractions_and_strings() {
        let read = |hp: &str| {
            serde_json::from_str::<NewEvent>(&format!(
                r#"{{"character_name":"a","hp_change":{hp},"note":"n"}}"#
            ))
            .map(|e| e.hp_change)
        };
        assert_eq!(read("-0").ok(), Some(0));
        assert_eq!(read("5.0").ok(), Some(5));
        assert_eq!(read("-1e3").ok(), Some(-1000));
        assert_eq!(read("9223372036854775808").ok(), Some(i64::MAX));
        assert_eq!(read("1e300").ok(), Some(i64::MAX));
        assert_eq!(read("-1e300").ok(), Some(i64::MIN));
        assert!(read("1.5").is_err());
        assert!(read("\"5\"").is_err());
        assert!(read("null").is_err());
    }
}
