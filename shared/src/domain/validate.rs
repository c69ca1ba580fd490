//! What makes an event and an expected version valid, whatever stores them.

use uuid::Uuid;

use super::{ExpectedVersion, NewEvent, MAX_EXPECTED_VERSION, SNAPSHOT_NOTE};

/// Most events one append may carry (the event store writes them in one DynamoDB transaction).
pub const MAX_EVENTS_PER_APPEND: usize = 100;
/// Longest character name, in characters.
pub const MAX_NAME_CHARS: usize = 1_000;
/// Longest note, in characters. A note of this many multi-byte characters can still exceed the
/// item size limit, which the event store checks in bytes.
pub const MAX_NOTE_CHARS: usize = 200_000;

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

/// Checks how many events an append carries.
pub fn validate_count(events: &[NewEvent]) -> Result<(), InvalidInput> {
    if events.is_empty() {
        return Err(InvalidInput::NoEvents);
    }
    if events.len() > MAX_EVENTS_PER_APPEND {
        return Err(InvalidInput::TooManyEvents {
            count: events.len(),
            max: MAX_EVENTS_PER_APPEND,
        });
    }
    Ok(())
}

/// Checks the content of event `index`: its name, its note and its change.
pub fn validate_event(index: usize, event: &NewEvent) -> Result<(), InvalidInput> {
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
    Ok(())
}

/// Checks that event `index` does not reuse the id of an earlier event of the same append.
pub fn validate_unique_id(events: &[NewEvent], index: usize) -> Result<(), InvalidInput> {
    match events[index].event_id {
        Some(id) if events[..index].iter().any(|e| e.event_id == Some(id)) => {
            Err(InvalidInput::DuplicateEventId {
                index,
                event_id: id,
            })
        }
        _ => Ok(()),
    }
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
    #[error("expected_version {value} is beyond the highest version a stream can have ({max})")]
    ExpectedVersionOutOfRange { value: u64, max: u64 },
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::event;
    use super::*;

    #[test]
    fn content_limits_are_typed() {
        let check = |index, e: NewEvent| validate_event(index, &e);
        assert_eq!(
            check(0, event("  ", 1, "n")),
            Err(InvalidInput::EmptyName { index: 0 })
        );
        assert_eq!(
            check(1, event("a", 1, "")),
            Err(InvalidInput::EmptyNote { index: 1 })
        );
        assert!(matches!(
            check(0, event(&"x".repeat(1001), 1, "n")),
            Err(InvalidInput::NameTooLong { chars: 1001, .. })
        ));
        assert!(matches!(
            check(0, event("a", 1, &"x".repeat(MAX_NOTE_CHARS + 1))),
            Err(InvalidInput::NoteTooLong { .. })
        ));
        assert_eq!(check(0, event("a", i32::MIN as i64, "n")), Ok(()));
        for hp in [i64::MAX, i64::MIN, i64::from(i32::MAX) + 1] {
            assert_eq!(
                check(0, event("a", hp, "n")),
                Err(InvalidInput::HpChangeOutOfRange { index: 0 })
            );
        }
        assert_eq!(
            check(0, event("a", 3, SNAPSHOT_NOTE)),
            Err(InvalidInput::ReservedNote { index: 0 })
        );
        assert_eq!(check(0, event("a", 3, "SNAPSHOT taken")), Ok(()));
        assert_eq!(validate_count(&[]), Err(InvalidInput::NoEvents));
        assert!(matches!(
            validate_count(&vec![event("a", 1, "n"); 101]),
            Err(InvalidInput::TooManyEvents { count: 101, .. })
        ));
        assert_eq!(validate_count(&vec![event("a", 1, "n"); 100]), Ok(()));
    }

    #[test]
    fn an_event_id_may_appear_once_per_append() {
        let id = Uuid::new_v4();
        let mut a = event("a", 1, "n");
        a.event_id = Some(id);
        let events = [a.clone(), a];
        assert_eq!(validate_unique_id(&events, 0), Ok(()));
        assert_eq!(
            validate_unique_id(&events, 1),
            Err(InvalidInput::DuplicateEventId {
                index: 1,
                event_id: id
            })
        );
    }
}
