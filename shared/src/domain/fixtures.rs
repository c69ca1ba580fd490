//! Events for the core's unit tests, written once.

use std::collections::BTreeMap;

use super::{NewEvent, RecordedEvent, Version};

/// An event to append, without an id.
pub(crate) fn event(name: &str, hp: i64, note: &str) -> NewEvent {
    NewEvent {
        character_name: name.into(),
        hp_change: hp,
        note: note.into(),
        event_id: None,
    }
}

/// A stored event at `version`, named `n<version>`, without an id or a time.
pub(crate) fn recorded(version: Version, hp: i64) -> RecordedEvent {
    RecordedEvent::plain(version, format!("n{version}"), hp, "n".into())
}

/// Events in hand at `versions`, each changing HP by 10 + its version.
pub(crate) fn in_hand(versions: &[Version]) -> BTreeMap<Version, RecordedEvent> {
    versions
        .iter()
        .map(|&version| (version, recorded(version, 10 + version as i64)))
        .collect()
}
