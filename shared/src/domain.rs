//! The domain of hitpoints, free of I/O: events, their limits, expected versions and the HP fold.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::InvalidInput;

/// Most events one append may carry: DynamoDB's TransactWriteItems takes at most 100 actions.
pub const MAX_EVENTS_PER_APPEND: usize = 100;
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

/// An event a caller wants appended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEvent {
    pub character_name: String,
    /// The signed change of hit points; must fit in an `i32`.
    pub hp_change: i64,
    pub note: String,
    /// A caller-chosen id that makes a retried append idempotent; made by the store when absent.
    #[serde(default)]
    pub event_id: Option<Uuid>,
}

/// An event as stored in a stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedEvent {
    pub version: Version,
    pub character_name: String,
    pub hp_change: i64,
    pub note: String,
    /// `None` only for events written without one (by the source material's code).
    pub event_id: Option<Uuid>,
    /// RFC 3339 UTC; `None` only for events written without one.
    pub recorded_at: Option<String>,
}

impl RecordedEvent {
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
    last.map_or(0, |v| v + 1)
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

/// Checks an append's events against every limit, before anything is written.
pub fn validate_events(events: &[NewEvent]) -> Result<(), InvalidInput> {
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
    Ok(())
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
    let note_chars = event.note.chars().count();
    if note_chars > MAX_NOTE_CHARS {
        return Err(InvalidInput::NoteTooLong {
            index,
            chars: note_chars,
            max: MAX_NOTE_CHARS,
        });
    }
    if i32::try_from(event.hp_change).is_err() {
        return Err(InvalidInput::HpChangeOutOfRange {
            index,
            value: event.hp_change,
        });
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

/// A character's state: the fold of its stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CharacterState {
    /// The name on the latest event.
    pub character_name: String,
    /// Current hit points: the sum of every change.
    pub hp: i64,
    /// The last version folded in.
    pub version: Version,
}

impl CharacterState {
    /// Folds one more event into the state (`None` is the state before the first event).
    pub fn apply(state: Option<CharacterState>, event: &RecordedEvent) -> CharacterState {
        let hp = state.as_ref().map_or(0, |s| s.hp) + event.hp_change;
        CharacterState {
            character_name: event.character_name.clone(),
            hp,
            version: event.version,
        }
    }

    /// Folds a whole stream, in version order; `None` for a stream without events.
    pub fn fold<'a>(events: impl IntoIterator<Item = &'a RecordedEvent>) -> Option<CharacterState> {
        events.into_iter().fold(None, |state, event| {
            Some(CharacterState::apply(state, event))
        })
    }
}

/// Which way a stream is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
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
