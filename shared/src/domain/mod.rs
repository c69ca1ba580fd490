//! The domain of hitpoints, free of I/O and of DynamoDB: events, versions and what a writer
//! expects, the HP fold, what makes an event valid, and the pure decisions of an append.

mod append;
mod event;
#[cfg(test)]
pub(crate) mod fixtures;
mod fold;
mod validate;
mod version;

pub use append::{character_id, match_stored, StoredMatch};
pub use event::{
    hyphenated_uuid, json_escaped_len, parse_hyphenated_uuid, whole_number, NewEvent,
    OtherAttributes, RecordedEvent, ADJUSTED, SNAPSHOT_NOTE,
};
pub use fold::{CharacterState, LatestEvent, DEFAULT_CAMPAIGN};
pub use validate::{
    validate_count, validate_event, validate_expected, validate_unique_id, InvalidInput,
    MAX_EVENTS_PER_APPEND, MAX_NAME_CHARS, MAX_NOTE_CHARS,
};
pub use version::{next_version, Direction, ExpectedVersion, Version, MAX_EXPECTED_VERSION};
