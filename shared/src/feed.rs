//! The global feed, free of I/O: positions, and how a character's events in hand become feed
//! entries exactly once and in version order.
//!
//! The feed table holds one entry per event at a position (1, 2, 3, …, no gaps), a head item
//! with the last position written, and per character a marker: the last version in the feed and
//! the versions it folded around as holes. Every write is one transaction conditional on the
//! head, which it moves on: writers are serialised by it, entries and markers commit together,
//! and a reader that reads the head first sees every entry up to it.

use std::collections::{BTreeMap, BTreeSet};

use crate::domain::{next_version, InvalidInput, RecordedEvent, Version};

/// A place in the feed: the n-th event indexed (1 the first), or 0, before the first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position(pub u64);

/// Digits of a position on the wire: fixed, so positions also sort as text.
const POSITION_DIGITS: usize = 20;

impl Position {
    /// The position as the API hands it out: an opaque string.
    pub fn encode(self) -> String {
        format!("{:0width$}", self.0, width = POSITION_DIGITS)
    }

    pub fn parse(text: &str) -> Result<Position, InvalidInput> {
        let valid = !text.is_empty()
            && text.len() <= POSITION_DIGITS
            && text.bytes().all(|b| b.is_ascii_digit());
        valid
            .then(|| text.parse().ok())
            .flatten()
            .map(Position)
            .ok_or(InvalidInput::BadPosition)
    }

    pub fn next(self) -> Position {
        Position(self.0.saturating_add(1))
    }
}

impl<'de> serde::Deserialize<'de> for Position {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Position, D::Error> {
        let text = String::deserialize(deserializer)?;
        Position::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Where a character is in the feed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Marker {
    /// The last version in the feed; `None`: none of its events is.
    pub version: Option<Version>,
    /// Versions below `version` the events table did not have when the feed went past them
    /// (written by other code with a version missing). One written later is indexed then.
    pub holes: BTreeSet<Version>,
    /// How many times the marker was written (0: never): each write is conditional on the
    /// revision it read, so two writers that read the same marker cannot both write after it.
    pub revision: u64,
}

/// What to do next for one character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexPlan {
    /// Every event in hand is in the feed already.
    UpToDate,
    /// Versions `from..to` are needed first (read them from the events table).
    Gap { from: Version, to: Version },
    /// Append these events to the feed, in this order, each with the marker after it.
    Index(Vec<(RecordedEvent, Marker)>),
}

/// Plans a character's next entries. `events` are the events in hand by version; `holes` the
/// versions the events table confirmed absent. Late events in holes come first; then the
/// events after the marker in version order, without a gap, folding around confirmed holes.
pub fn plan(
    marker: &Marker,
    events: &BTreeMap<Version, RecordedEvent>,
    holes: &BTreeSet<Version>,
) -> IndexPlan {
    let mut entries = Vec::new();
    let mut after = marker.clone();
    for hole in &marker.holes {
        if let Some(event) = events.get(hole) {
            after.holes.remove(hole);
            entries.push((event.clone(), after.clone()));
        }
    }
    let mut expected = next_version(marker.version);
    for (&version, event) in events.range(expected..) {
        while expected < version && holes.contains(&expected) {
            after.holes.insert(expected);
            expected = expected.saturating_add(1);
        }
        if version != expected {
            return IndexPlan::Gap {
                from: expected,
                to: version,
            };
        }
        after.version = Some(version);
        entries.push((event.clone(), after.clone()));
        expected = expected.saturating_add(1);
    }
    if entries.is_empty() {
        IndexPlan::UpToDate
    } else {
        IndexPlan::Index(entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(versions: &[Version]) -> BTreeMap<Version, RecordedEvent> {
        versions
            .iter()
            .map(|&version| {
                let event = RecordedEvent {
                    version,
                    character_name: "n".into(),
                    hp_change: 1,
                    note: "n".into(),
                    event_id: None,
                    recorded_at: None,
                    snapshot: false,
                };
                (version, event)
            })
            .collect()
    }

    fn versions(plan: &IndexPlan) -> Vec<Version> {
        match plan {
            IndexPlan::Index(entries) => entries.iter().map(|(e, _)| e.version).collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn positions_are_fixed_width_digits() {
        assert_eq!(Position(42).encode(), "00000000000000000042");
        assert_eq!(Position::parse("00000000000000000042"), Ok(Position(42)));
        assert_eq!(Position::parse("7"), Ok(Position(7)));
        for bad in [
            "",
            "-1",
            "x",
            "1.5",
            " 1",
            "+1",
            "184467440737095516150",
            "18446744073709551616",
        ] {
            assert!(Position::parse(bad).is_err(), "{bad}");
        }
        assert!(Position(9) < Position(10));
        assert!(Position(9).encode() < Position(10).encode());
    }

    #[test]
    fn plans_skip_what_is_indexed_and_fill_gaps_in_version_order() {
        let none = BTreeSet::new();
        let fresh = Marker::default();
        // Re-ordered records of one transaction: 1, 2, 0 come out as 0, 1, 2.
        assert_eq!(
            versions(&plan(&fresh, &events(&[1, 2, 0]), &none)),
            vec![0, 1, 2]
        );
        let at_2 = Marker {
            version: Some(2),
            holes: BTreeSet::new(),
            revision: 1,
        };
        assert_eq!(plan(&at_2, &events(&[0, 1, 2]), &none), IndexPlan::UpToDate);
        assert_eq!(versions(&plan(&at_2, &events(&[1, 2, 3]), &none)), vec![3]);
        assert_eq!(
            plan(&at_2, &events(&[5]), &none),
            IndexPlan::Gap { from: 3, to: 5 }
        );
        assert_eq!(
            plan(&fresh, &events(&[2]), &none),
            IndexPlan::Gap { from: 0, to: 2 }
        );
    }

    #[test]
    fn confirmed_holes_are_skipped_and_a_late_event_fills_one_once() {
        let fresh = Marker::default();
        let holes: BTreeSet<Version> = [1].into();
        let IndexPlan::Index(entries) = plan(&fresh, &events(&[0, 2]), &holes) else {
            panic!("entries")
        };
        let last = &entries.last().expect("two").1;
        assert_eq!((last.version, last.holes.clone()), (Some(2), holes.clone()));
        let marker = last.clone();
        assert_eq!(
            versions(&plan(&marker, &events(&[1]), &BTreeSet::new())),
            vec![1]
        );
        let IndexPlan::Index(entries) = plan(&marker, &events(&[1]), &BTreeSet::new()) else {
            panic!("the late event")
        };
        assert!(entries[0].1.holes.is_empty());
        let filled = entries[0].1.clone();
        assert_eq!(
            plan(&filled, &events(&[1]), &BTreeSet::new()),
            IndexPlan::UpToDate
        );
    }
}
