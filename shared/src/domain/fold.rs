//! A character's state: the fold of its stream.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{RecordedEvent, Version};
use crate::rules::{fold_plain, Outcome, Sheet};

/// The default campaign: every character whose events name no campaign (earlier hitpoints
/// data, the source material's items, and characters created without one).
pub const DEFAULT_CAMPAIGN: Uuid = Uuid::nil();

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
    /// The sheet, on a character with rules (`hp` is then its HP).
    #[serde(default)]
    pub rules: Option<Sheet>,
    /// The campaign the latest event put it in (the default campaign's nil id when the
    /// event says none).
    #[serde(default)]
    pub campaign_id: Uuid,
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
    /// Its type, and what the rules computed for it (so a screen can say "14 fire, resisted
    /// → 7").
    #[serde(default)]
    pub event_type: String,
    #[serde(default)]
    pub outcome: Option<Outcome>,
}

impl LatestEvent {
    pub fn of(event: &RecordedEvent) -> LatestEvent {
        LatestEvent {
            hp_change: event.hp_effect(),
            note: event.note.clone(),
            recorded_at: event.recorded_at.clone(),
            event_type: event.event_type.clone(),
            outcome: event.outcome.clone(),
        }
    }
}

impl CharacterState {
    /// Folds one more event into the state (`None` is the state before the first event).
    ///
    /// An event that carries the sheet after it sets the sheet; an event without one on a
    /// character with rules (written by the source material's code, or by an earlier
    /// hitpoints during a deploy) is a plain change, clamped to 0..=max.
    pub fn apply(state: Option<CharacterState>, event: &RecordedEvent) -> CharacterState {
        let (sum, rules) = state.map_or((0, None), |s| (s.hp, s.rules));
        let rules = match (&event.state, rules) {
            (Some(sheet), _) => Some(sheet.clone()),
            (None, Some(sheet)) if !event.snapshot => Some(fold_plain(&sheet, event.hp_change)),
            (None, rules) => rules,
        };
        let hp = match &rules {
            Some(sheet) => i64::from(sheet.hp),
            None => sum.saturating_add(event.hp_effect()),
        };
        CharacterState {
            character_name: event.character_name.clone(),
            hp,
            version: event.version,
            latest: LatestEvent::of(event),
            rules,
            campaign_id: event.campaign_id.unwrap_or(DEFAULT_CAMPAIGN),
        }
    }

    /// Folds a whole stream, in version order; `None` for a stream without events.
    pub fn fold<'a>(events: impl IntoIterator<Item = &'a RecordedEvent>) -> Option<CharacterState> {
        events.into_iter().fold(None, |state, event| {
            Some(CharacterState::apply(state, event))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::recorded;
    use super::super::SNAPSHOT_NOTE;
    use super::*;

    #[test]
    fn the_source_material_sample_folds_to_three() {
        let stream = [recorded(0, 8), recorded(1, -2), recorded(2, -3)];
        let state = CharacterState::fold(&stream).expect("three events");
        assert_eq!(state.hp, 3);
        assert_eq!(state.version, 2);
        assert_eq!(state.character_name, "n2");
        assert_eq!(CharacterState::fold(&[]), None);
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
    }
}
