//! The domain of hitpoints, free of I/O: events, their limits, expected versions and the HP fold.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Most actions DynamoDB takes in one `TransactWriteItems`.
pub const MAX_TRANSACTION_ACTIONS: usize = 100;
/// Most events one append may carry: one transaction's worth of puts.
pub const MAX_EVENTS_PER_APPEND: usize = MAX_TRANSACTION_ACTIONS;
/// Longest character name, in characters.
pub const MAX_NAME_CHARS: usize = 256;
/// Longest note, in characters. A note of this many multi-byte characters can still exceed the
/// item size limit, which is checked separately in bytes.
pub const MAX_NOTE_CHARS: usize = 200_000;
/// DynamoDB's item size limit (400 KB).
pub const MAX_ITEM_BYTES: usize = 400 * 1024;
/// DynamoDB's limit on the total size of one transaction (4 MB).
pub const MAX_TRANSACTION_BYTES: usize = 4 * 1024 * 1024;
/// Bytes an event item takes besides its name and note: attribute names, the two uuids,
/// the version, the HP change and the timestamp, rounded up.
const ITEM_OVERHEAD_BYTES: usize = 256;

/// A version of a stream: 0 is the first event.
pub type Version = u64;

/// The highest version an expected version may name: far beyond any real stream, and low
/// enough that the versions after it never overflow.
pub const MAX_EXPECTED_VERSION: Version = i64::MAX as Version;

/// The note that marks a snapshot item written by the source material's code (its Part 3):
/// an item at the stream's next version whose `CharacterHitPoints` is the *total* HP. A new
/// event may not carry it, so a real change is never mistaken for one.
pub const SNAPSHOT_NOTE: &str = "SNAPSHOT";

/// An event a caller wants appended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"character_name": "Nuru", "hp_change": -2, "note": "Slashing damage from goblin"}))]
pub struct NewEvent {
    /// The character's name as of this event: at most 256 characters, not blank (422).
    #[schema(min_length = 1, max_length = 256, example = "Nuru")]
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

/// An optional uuid read from JSON in its hyphenated form only.
fn hyphenated_uuid<'de, D: serde::Deserializer<'de>>(
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
}

impl RecordedEvent {
    /// Whether a stored item with this id and note is a source-material snapshot item.
    pub fn is_snapshot_item(event_id: Option<Uuid>, note: &str) -> bool {
        event_id.is_none() && note == SNAPSHOT_NOTE
    }

    /// The size of this event as JSON, in bytes, as an upper bound: its strings escaped, and
    /// room for the keys, the numbers, the ids and the timestamp.
    pub fn json_size(&self) -> usize {
        const FIXED: usize = 256;
        FIXED + json_escaped_len(&self.character_name) + json_escaped_len(&self.note)
    }

    /// What this event adds to the HP: its change, or nothing for a snapshot item.
    pub fn hp_effect(&self) -> i64 {
        if self.snapshot {
            0
        } else {
            self.hp_change
        }
    }

    /// Whether this stored event is what `new` asks for (same id and same content).
    pub fn matches(&self, new: &NewEvent) -> bool {
        new.event_id.is_some()
            && self.event_id == new.event_id
            && self.character_name == new.character_name
            && self.hp_change == new.hp_change
            && self.note == new.note
    }
}

/// What the writer expects the stream's last version to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExpectedVersion {
    /// Append after whatever is last (retrying a bounded number of times on a lost race).
    #[default]
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream's last version must be exactly this.
    Exact(Version),
}

impl ExpectedVersion {
    /// The stream's last version this expectation names, `None` for a stream without events.
    /// `Any` has none of its own and returns `None` too.
    pub fn last_version(self) -> Option<Version> {
        match self {
            ExpectedVersion::Exact(v) => Some(v),
            ExpectedVersion::Any | ExpectedVersion::NoStream => None,
        }
    }
}

/// On the wire: `"any"`, `"no_stream"`, or a version number.
impl Serialize for ExpectedVersion {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ExpectedVersion::Any => serializer.serialize_str("any"),
            ExpectedVersion::NoStream => serializer.serialize_str("no_stream"),
            ExpectedVersion::Exact(v) => serializer.serialize_u64(*v),
        }
    }
}

impl<'de> Deserialize<'de> for ExpectedVersion {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = ExpectedVersion;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("\"any\", \"no_stream\" or a version number (0 or more)")
            }
            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<ExpectedVersion, E> {
                match value {
                    "any" => Ok(ExpectedVersion::Any),
                    "no_stream" => Ok(ExpectedVersion::NoStream),
                    _ => Err(E::invalid_value(serde::de::Unexpected::Str(value), &self)),
                }
            }
            fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<ExpectedVersion, E> {
                Ok(ExpectedVersion::Exact(value))
            }
            fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<ExpectedVersion, E> {
                u64::try_from(value)
                    .map(ExpectedVersion::Exact)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(value), &self))
            }
            // Any whole JSON number, as `hp_change` reads it: `437.0` is 437 and `-0` is 0. One
            // beyond `u64` is kept as `u64`'s bound, out of range rather than unreadable.
            fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<ExpectedVersion, E> {
                if value.is_finite() && value.fract() == 0.0 && value > -1.0 {
                    // `as` saturates at u64's bound, which is out of range anyway.
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    Ok(ExpectedVersion::Exact(value as u64))
                } else {
                    Err(E::invalid_value(serde::de::Unexpected::Float(value), &self))
                }
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// `"any"`, `"no_stream"`, or the stream's last version (any whole JSON number from 0).
impl utoipa::PartialSchema for ExpectedVersion {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::gen::serde_json::{from_value, json};
        from_value(json!({
            "description": "What the stream's last version must be. Absent or null: \"any\".",
            "oneOf": [
                {"type": "string", "enum": ["any", "no_stream"],
                 "description": "any: after whatever is last; no_stream: the stream must not exist"},
                {"type": "integer", "minimum": 0, "maximum": MAX_EXPECTED_VERSION,
                 "description": "the stream's last version must be exactly this"}
            ],
            "example": 0
        }))
        .expect("a schema written as JSON")
    }
}

impl utoipa::ToSchema for ExpectedVersion {}

impl std::fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExpectedVersion::Any => f.write_str("any"),
            ExpectedVersion::NoStream => f.write_str("no_stream"),
            ExpectedVersion::Exact(v) => write!(f, "{v}"),
        }
    }
}

/// The first version an append writes when the stream's last version is `last`.
pub fn next_version(last: Option<Version>) -> Version {
    // Saturating: a version at the very top (written by other code) leaves no room, and the
    // write there is refused as a conflict rather than wrapping round to 0.
    last.map_or(0, |v| v.saturating_add(1))
}

/// The namespace of character ids derived from a creating event's id.
const CHARACTER_ID_NAMESPACE: Uuid = Uuid::from_u128(0x6869_7470_6f69_6e74_7300_0000_0000_0001);

/// The id of the character whose first event has `event_id`: derived from it (uuid v5), so a
/// retried create finds the character it made. Without an event id, a fresh random id.
pub fn character_id(event_id: Option<Uuid>) -> Uuid {
    match event_id {
        Some(event_id) => Uuid::new_v5(&CHARACTER_ID_NAMESPACE, event_id.as_bytes()),
        None => Uuid::new_v4(),
    }
}

/// How the events of an append compare with what is stored where they would go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredMatch {
    /// Every event is stored there already, same id and content, in order: a replay.
    Replay,
    /// Some of the request's event ids are stored there, not all.
    PartialReplay,
    /// Every one of the request's event ids is stored there, but not with the same content
    /// (or not in the same order): the ids were reused for other events.
    IdsReused,
    /// None of the request's event ids are stored there.
    Unrelated,
}

/// Compares an append's `events` with the `stored` events at the versions it targets.
pub fn match_stored(events: &[NewEvent], stored: &[RecordedEvent]) -> StoredMatch {
    if stored.len() == events.len() && stored.iter().zip(events).all(|(s, n)| s.matches(n)) {
        return StoredMatch::Replay;
    }
    let found = events
        .iter()
        .filter(|n| {
            n.event_id
                .is_some_and(|id| stored.iter().any(|s| s.event_id == Some(id)))
        })
        .count();
    if found == 0 {
        StoredMatch::Unrelated
    } else if found == events.len() {
        StoredMatch::IdsReused
    } else {
        StoredMatch::PartialReplay
    }
}

/// Reads a JSON number that must be whole: any integer, or a float without a fraction
/// (`5.0`, `1e3`); beyond `i64` it saturates, so range checks can refuse it by value.
fn whole_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
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

/// Checks an expected version against its range.
pub fn validate_expected(expected: ExpectedVersion) -> Result<(), InvalidInput> {
    match expected {
        ExpectedVersion::Exact(v) if v > MAX_EXPECTED_VERSION => {
            Err(InvalidInput::ExpectedVersionOutOfRange {
                value: v,
                max: MAX_EXPECTED_VERSION,
            })
        }
        _ => Ok(()),
    }
}

/// Checks an append's events against every limit, before anything is written; returns the
/// size their items will take, in bytes.
pub fn validate_events(events: &[NewEvent]) -> Result<usize, InvalidInput> {
    if events.is_empty() {
        return Err(InvalidInput::NoEvents);
    }
    if events.len() > MAX_EVENTS_PER_APPEND {
        return Err(InvalidInput::TooManyEvents {
            count: events.len(),
            max: MAX_EVENTS_PER_APPEND,
        });
    }
    let mut total = 0;
    for (index, event) in events.iter().enumerate() {
        total += validate_event(index, event)?;
        if let Some(id) = event.event_id {
            if events[..index].iter().any(|e| e.event_id == Some(id)) {
                return Err(InvalidInput::DuplicateEventId {
                    index,
                    event_id: id,
                });
            }
        }
    }
    if total > MAX_TRANSACTION_BYTES {
        return Err(InvalidInput::BatchTooLarge {
            bytes: total,
            max: MAX_TRANSACTION_BYTES,
        });
    }
    Ok(total)
}

/// Checks one event; returns the size its item will have, in bytes.
fn validate_event(index: usize, event: &NewEvent) -> Result<usize, InvalidInput> {
    let name = event.character_name.trim();
    if name.is_empty() {
        return Err(InvalidInput::EmptyName { index });
    }
    let name_chars = event.character_name.chars().count();
    if name_chars > MAX_NAME_CHARS {
        return Err(InvalidInput::NameTooLong {
            index,
            chars: name_chars,
            max: MAX_NAME_CHARS,
        });
    }
    if event.note.trim().is_empty() {
        return Err(InvalidInput::EmptyNote { index });
    }
    if event.note == SNAPSHOT_NOTE {
        return Err(InvalidInput::ReservedNote { index });
    }
    let note_chars = event.note.chars().count();
    if note_chars > MAX_NOTE_CHARS {
        return Err(InvalidInput::NoteTooLong {
            index,
            chars: note_chars,
            max: MAX_NOTE_CHARS,
        });
    }
    if i32::try_from(event.hp_change).is_err() {
        return Err(InvalidInput::HpChangeOutOfRange { index });
    }
    let bytes = ITEM_OVERHEAD_BYTES + event.character_name.len() + event.note.len();
    if bytes > MAX_ITEM_BYTES {
        return Err(InvalidInput::EventTooLarge {
            index,
            bytes,
            max: MAX_ITEM_BYTES,
        });
    }
    Ok(bytes)
}

/// The caller's mistake: the request can never succeed as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidInput {
    #[error("an append needs at least one event")]
    NoEvents,
    #[error("{count} events in one append; at most {max} are allowed")]
    TooManyEvents { count: usize, max: usize },
    #[error("event {index}: character_name is empty")]
    EmptyName { index: usize },
    #[error("event {index}: character_name has {chars} characters; at most {max} are allowed")]
    NameTooLong {
        index: usize,
        chars: usize,
        max: usize,
    },
    #[error("event {index}: note is empty; say what caused the change")]
    EmptyNote { index: usize },
    #[error("event {index}: note has {chars} characters; at most {max} are allowed")]
    NoteTooLong {
        index: usize,
        chars: usize,
        max: usize,
    },
    #[error(
        "event {index}: hp_change is outside the 32-bit signed range (-2147483648 to 2147483647)"
    )]
    HpChangeOutOfRange { index: usize },
    #[error(
        "event {index}: the note \"SNAPSHOT\" is reserved for the source material's snapshot items"
    )]
    ReservedNote { index: usize },
    #[error("event {index}: the stored item would take {bytes} bytes; DynamoDB allows {max}")]
    EventTooLarge {
        index: usize,
        bytes: usize,
        max: usize,
    },
    #[error("the events would take {bytes} bytes; one DynamoDB transaction allows {max}")]
    BatchTooLarge { bytes: usize, max: usize },
    #[error("event {index}: event_id {event_id} appears earlier in the same append")]
    DuplicateEventId { index: usize, event_id: Uuid },
    #[error("the cursor is not valid for this stream: {reason}")]
    BadCursor { reason: &'static str },
    #[error("expected_version {value} is beyond the highest version a stream can have ({max})")]
    ExpectedVersionOutOfRange { value: u64, max: u64 },
    #[error("limit must be between 1 and {max}, got {value}")]
    BadLimit { value: usize, max: usize },
    #[error("not an RFC 3339 time such as 2026-11-29T20:15:00Z or 2026-11-29T21:15:00+01:00")]
    BadInstant,
    #[error("not a position of the feed: use a position or a next the feed handed out")]
    BadPosition,
    #[error("the position is beyond the end of the feed (its last is {last}): it was not handed out by this feed")]
    PositionBeyondHead { last: u64 },
}

/// A character's state: the fold of its stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CharacterState {
    /// The name on the latest event.
    pub character_name: String,
    /// Current hit points: the sum of every change.
    pub hp: i64,
    /// The last version folded in.
    pub version: Version,
    /// What the latest event folded in said.
    pub latest: LatestEvent,
}

/// What a character's latest event said: kept on its snapshot, so that a screen can show who
/// changed most recently and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatestEvent {
    /// The HP it added (0 for a source-material snapshot item, which changes nothing).
    pub hp_change: i64,
    pub note: String,
    /// `None` for an event written without one (by the source material's code).
    pub recorded_at: Option<String>,
}

impl LatestEvent {
    pub fn of(event: &RecordedEvent) -> LatestEvent {
        LatestEvent {
            hp_change: event.hp_effect(),
            note: event.note.clone(),
            recorded_at: event.recorded_at.clone(),
        }
    }
}

impl CharacterState {
    /// Folds one more event into the state (`None` is the state before the first event).
    pub fn apply(state: Option<CharacterState>, event: &RecordedEvent) -> CharacterState {
        let hp = state
            .as_ref()
            .map_or(0, |s| s.hp)
            .saturating_add(event.hp_effect());
        CharacterState {
            character_name: event.character_name.clone(),
            hp,
            version: event.version,
            latest: LatestEvent::of(event),
        }
    }

    /// Folds a whole stream, in version order; `None` for a stream without events.
    pub fn fold<'a>(events: impl IntoIterator<Item = &'a RecordedEvent>) -> Option<CharacterState> {
        events.into_iter().fold(None, |state, event| {
            Some(CharacterState::apply(state, event))
        })
    }
}

/// An instant in time, read from RFC 3339 text with any offset (`2026-11-29T20:15:00Z`,
/// `2026-11-29T21:15:00.5+01:00`). Instants compare as instants: text would not (a stored
/// timestamp omits a zero fraction, and offsets differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Instant {
    /// Nanoseconds since the Unix epoch.
    nanos: i128,
}

impl std::str::FromStr for Instant {
    type Err = InvalidInput;

    fn from_str(text: &str) -> Result<Instant, InvalidInput> {
        use aws_sdk_dynamodb::primitives::{DateTime, DateTimeFormat};
        DateTime::from_str(text, DateTimeFormat::DateTimeWithOffset)
            .map(|t| Instant {
                nanos: t.as_nanos(),
            })
            .map_err(|_| InvalidInput::BadInstant)
    }
}

impl<'de> Deserialize<'de> for Instant {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Instant, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl RecordedEvent {
    /// Whether the event was recorded at or before `instant`. An event without a readable
    /// `RecordedAt` (written by the source material's code) counts as older than any time.
    pub fn recorded_by(&self, instant: Instant) -> bool {
        self.recorded_at
            .as_deref()
            .and_then(|at| at.trim().parse::<Instant>().ok())
            .is_none_or(|at| at <= instant)
    }
}

/// Which way a stream is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    #[default]
    Forward,
    Backward,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str, hp: i64, note: &str) -> NewEvent {
        NewEvent {
            character_name: name.into(),
            hp_change: hp,
            note: note.into(),
            event_id: None,
        }
    }

    fn recorded(version: Version, hp: i64) -> RecordedEvent {
        RecordedEvent {
            version,
            character_name: format!("name{version}"),
            hp_change: hp,
            note: "n".into(),
            event_id: None,
            recorded_at: None,
            snapshot: false,
        }
    }

    #[test]
    fn the_source_material_sample_folds_to_three() {
        let stream = [recorded(0, 8), recorded(1, -2), recorded(2, -3)];
        let state = CharacterState::fold(&stream).expect("three events");
        assert_eq!(state.hp, 3);
        assert_eq!(state.version, 2);
        assert_eq!(state.character_name, "name2");
        assert_eq!(CharacterState::fold(&[]), None);
    }

    #[test]
    fn limits_are_typed() {
        assert_eq!(validate_events(&[]), Err(InvalidInput::NoEvents));
        let many = vec![event("a", 1, "n"); 101];
        assert!(matches!(
            validate_events(&many),
            Err(InvalidInput::TooManyEvents { count: 101, .. })
        ));
        assert!(validate_events(&vec![event("a", 1, "n"); 100]).is_ok());
        assert_eq!(
            validate_events(&[event("  ", 1, "n")]),
            Err(InvalidInput::EmptyName { index: 0 })
        );
        assert_eq!(
            validate_events(&[event("a", 1, "n"), event("a", 1, "")]),
            Err(InvalidInput::EmptyNote { index: 1 })
        );
        assert!(matches!(
            validate_events(&[event(&"x".repeat(257), 1, "n")]),
            Err(InvalidInput::NameTooLong { chars: 257, .. })
        ));
        assert!(matches!(
            validate_events(&[event("a", 1, &"x".repeat(MAX_NOTE_CHARS + 1))]),
            Err(InvalidInput::NoteTooLong { .. })
        ));
        assert!(validate_events(&[event("a", i32::MIN as i64, "n")]).is_ok());
        assert!(matches!(
            validate_events(&[event("a", i32::MAX as i64 + 1, "n")]),
            Err(InvalidInput::HpChangeOutOfRange { .. })
        ));
        // 120,000 four-byte characters: within the note's character limit, over 400 KB.
        assert!(matches!(
            validate_events(&[event("a", 1, &"🐉".repeat(120_000))]),
            Err(InvalidInput::EventTooLarge { .. })
        ));
        // Twenty-two 199 KB events: each fits, the transaction does not.
        assert!(matches!(
            validate_events(&vec![event("a", 1, &"x".repeat(199_000)); 22]),
            Err(InvalidInput::BatchTooLarge { .. })
        ));
    }

    #[test]
    fn expected_versions_read_and_write_themselves() {
        for (json, expected) in [
            ("\"any\"", ExpectedVersion::Any),
            ("\"no_stream\"", ExpectedVersion::NoStream),
            ("7", ExpectedVersion::Exact(7)),
        ] {
            let parsed: ExpectedVersion = serde_json::from_str(json).expect(json);
            assert_eq!(parsed, expected);
            assert_eq!(serde_json::to_string(&expected).expect("json"), json);
        }
        for bad in ["-1", "\"latest\"", "1.5", "null", "[]"] {
            assert!(
                serde_json::from_str::<ExpectedVersion>(bad).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_character_id_derives_from_its_first_event_id() {
        let event_id = Uuid::new_v4();
        assert_eq!(character_id(Some(event_id)), character_id(Some(event_id)));
        assert_ne!(
            character_id(Some(event_id)),
            character_id(Some(Uuid::new_v4()))
        );
        assert_ne!(character_id(None), character_id(None));
        // The derivation is part of the contract: a retried create must find the same id.
        let known = Uuid::parse_str("6d0e3b1a-7c2f-4e59-a8b4-1f2e3d4c5b6a").expect("uuid");
        assert_eq!(
            character_id(Some(known)).to_string(),
            "eb3cefea-4c14-53d1-92ec-d92459133c76"
        );
    }

    #[test]
    fn stored_events_are_a_replay_a_partial_replay_or_unrelated() {
        let with_id = |hp: i64| NewEvent {
            event_id: Some(Uuid::new_v4()),
            ..event("a", hp, "n")
        };
        let store = |events: &[NewEvent], from: Version| -> Vec<RecordedEvent> {
            events
                .iter()
                .zip(from..)
                .map(|(e, version)| RecordedEvent {
                    version,
                    character_name: e.character_name.clone(),
                    hp_change: e.hp_change,
                    note: e.note.clone(),
                    event_id: e.event_id,
                    recorded_at: None,
                    snapshot: false,
                })
                .collect()
        };
        let events = vec![with_id(1), with_id(2)];
        assert_eq!(
            match_stored(&events, &store(&events, 3)),
            StoredMatch::Replay
        );
        assert_eq!(
            match_stored(&events, &store(&events[..1], 3)),
            StoredMatch::PartialReplay
        );
        let mut changed = store(&events, 3);
        changed[1].hp_change = 5;
        assert_eq!(match_stored(&events, &changed), StoredMatch::IdsReused);
        let mut reordered = store(&events, 3);
        reordered.swap(0, 1);
        assert_eq!(match_stored(&events, &reordered), StoredMatch::IdsReused);
        let others = vec![with_id(1), with_id(2)];
        assert_eq!(
            match_stored(&events, &store(&others, 3)),
            StoredMatch::Unrelated
        );
        assert_eq!(match_stored(&events, &[]), StoredMatch::Unrelated);
        // Events without ids are never a replay, even when their content is stored.
        let anonymous = vec![event("a", 1, "n")];
        assert_eq!(
            match_stored(&anonymous, &store(&anonymous, 0)),
            StoredMatch::Unrelated
        );
    }

    #[test]
    fn snapshot_items_take_a_version_and_change_nothing() {
        let mut snapshot = recorded(3, 3);
        snapshot.note = SNAPSHOT_NOTE.into();
        snapshot.snapshot = RecordedEvent::is_snapshot_item(None, &snapshot.note);
        assert!(snapshot.snapshot);
        let stream = [recorded(0, 8), recorded(1, -2), recorded(2, -3), snapshot];
        let state = CharacterState::fold(&stream).expect("events");
        assert_eq!((state.hp, state.version), (3, 3));
        // Only an item without an event id: one of ours with that note would be a change.
        assert!(!RecordedEvent::is_snapshot_item(
            Some(Uuid::new_v4()),
            SNAPSHOT_NOTE
        ));
        assert!(!RecordedEvent::is_snapshot_item(None, "snapshot"));
        assert_eq!(
            validate_events(&[event("a", 3, SNAPSHOT_NOTE)]),
            Err(InvalidInput::ReservedNote { index: 0 })
        );
        assert!(validate_events(&[event("a", 3, "SNAPSHOT taken")]).is_ok());
    }

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
        for hp in [i64::MAX, i64::MIN, i64::from(i32::MAX) + 1] {
            assert_eq!(
                validate_events(&[event("a", hp, "n")]),
                Err(InvalidInput::HpChangeOutOfRange { index: 0 })
            );
        }
    }

    #[test]
    fn an_event_id_may_appear_once_per_append() {
        let id = Uuid::new_v4();
        let mut a = event("a", 1, "n");
        a.event_id = Some(id);
        assert_eq!(
            validate_events(&[a.clone(), a]),
            Err(InvalidInput::DuplicateEventId {
                index: 1,
                event_id: id
            })
        );
    }
}
