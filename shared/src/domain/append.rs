//! The pure decisions of an append: a new character's id, and whether what is stored where the
//! events would go is a replay of them.

use uuid::Uuid;

use super::{NewEvent, RecordedEvent};

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

#[cfg(test)]
mod tests {
    use super::super::fixtures::event;
    use super::super::Version;
    use super::*;

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
                    event_id: e.event_id,
                    ..RecordedEvent::plain(
                        version,
                        e.character_name.clone(),
                        e.hp_change,
                        e.note.clone(),
                    )
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
}
