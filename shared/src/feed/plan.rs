//! The global feed, free of I/O: positions, and how a character's events in hand become feed
//! entries exactly once and in version order.
//!
//! The feed table holds one entry per event at a position (1, 2, 3, …, no gaps), a head item
//! with the last position written, and per character a marker: the last version in the feed and
//! the versions it folded around as holes. Every write is one transaction conditional on the
//! head, which it moves on: writers are serialised by it, entries and markers commit together,
//! and a reader that reads the head first sees every entry up to it.

use std::collections::BTreeMap;
use std::ops::Range;

use uuid::Uuid;

use crate::domain::{next_version, RecordedEvent, Version, DEFAULT_CAMPAIGN};
use crate::stream::{run_from, Holes};

/// Where a character is in the feed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Marker {
    /// The last version in the feed; `None`: none of its events is.
    pub version: Option<Version>,
    /// Versions below `version` the events table did not have when the feed went past them
    /// (written by other code with a version missing). One written later is indexed then.
    pub holes: Holes,
    /// How many times the marker was written (0: never): each write is conditional on the
    /// revision it read, so two writers that read the same marker cannot both write after it.
    pub revision: u64,
}

/// What to do next for one character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexPlan {
    /// Every event in hand is in the feed already.
    UpToDate,
    /// Versions in this range are needed first (read them from the events table).
    Gap(Range<Version>),
    /// Append these events to the feed, in this order, each with the marker after it.
    Index(Vec<(RecordedEvent, Marker)>),
}

/// Whether an event goes in a campaign's feed: the campaign it puts the character in, and
/// the one a move leaves (a move is the last entry of the old feed and the first of the new).
pub fn belongs(event: &RecordedEvent, campaign: Uuid) -> bool {
    event.campaign_id.unwrap_or(DEFAULT_CAMPAIGN) == campaign || event.moved_from == Some(campaign)
}

/// Plans a character's next entries in `campaign`'s feed. `events` are the events in hand by
/// version; `holes` the versions the events table confirmed absent. Late events in holes come
/// first; then the events after the marker in version order, without a gap, folding around
/// confirmed holes and passing over the events of other campaigns.
pub fn plan(
    campaign: Uuid,
    marker: &Marker,
    events: &BTreeMap<Version, RecordedEvent>,
    holes: &Holes,
) -> IndexPlan {
    let mut entries = Vec::new();
    let mut after = marker.clone();
    if let Some(version) = marker.version {
        for (&late, event) in events.range(..=version) {
            if after.holes.remove(late) && belongs(event, campaign) {
                entries.push((event.clone(), after.clone()));
            }
        }
    }
    let run = match run_from(next_version(marker.version), events, holes) {
        Ok(run) => run,
        Err(gap) => return IndexPlan::Gap(gap),
    };
    // Each entry's marker holds the holes folded around before it, none after.
    let mut skipped = run.skipped.ranges().peekable();
    for event in run.events {
        while let Some(range) = skipped.next_if(|r| r.end <= event.version) {
            after.holes.insert(range);
        }
        if belongs(event, campaign) {
            after.version = Some(event.version);
            entries.push((event.clone(), after.clone()));
        }
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
    use crate::domain::fixtures::in_hand as events;

    const D: Uuid = DEFAULT_CAMPAIGN;

    fn versions(plan: &IndexPlan) -> Vec<Version> {
        match plan {
            IndexPlan::Index(entries) => entries.iter().map(|(e, _)| e.version).collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn plans_skip_what_is_indexed_and_fill_gaps_in_version_order() {
        let none = Holes::new();
        let fresh = Marker::default();
        // Re-ordered records of one transaction: 1, 2, 0 come out as 0, 1, 2.
        assert_eq!(
            versions(&plan(D, &fresh, &events(&[1, 2, 0]), &none)),
            vec![0, 1, 2]
        );
        let at_2 = Marker {
            version: Some(2),
            holes: Holes::new(),
            revision: 1,
        };
        assert_eq!(
            plan(D, &at_2, &events(&[0, 1, 2]), &none),
            IndexPlan::UpToDate
        );
        assert_eq!(
            versions(&plan(D, &at_2, &events(&[1, 2, 3]), &none)),
            vec![3]
        );
        assert_eq!(plan(D, &at_2, &events(&[5]), &none), IndexPlan::Gap(3..5));
        assert_eq!(plan(D, &fresh, &events(&[2]), &none), IndexPlan::Gap(0..2));
    }

    #[test]
    fn confirmed_holes_are_skipped_and_a_late_event_fills_one_once() {
        let fresh = Marker::default();
        let holes = Holes::from(1..2);
        let IndexPlan::Index(entries) = plan(D, &fresh, &events(&[0, 2]), &holes) else {
            panic!("entries")
        };
        let last = &entries.last().expect("two").1;
        assert_eq!((last.version, last.holes.clone()), (Some(2), holes.clone()));
        let marker = last.clone();
        assert_eq!(
            versions(&plan(D, &marker, &events(&[1]), &Holes::new())),
            vec![1]
        );
        let IndexPlan::Index(entries) = plan(D, &marker, &events(&[1]), &Holes::new()) else {
            panic!("the late event")
        };
        assert!(entries[0].1.holes.is_empty());
        let filled = entries[0].1.clone();
        assert_eq!(
            plan(D, &filled, &events(&[1]), &Holes::new()),
            IndexPlan::UpToDate
        );
    }

    #[test]
    fn each_entrys_marker_holds_the_holes_before_it_and_a_jump_is_one_range() {
        let holes = Holes::from(1..1_000_000);
        let IndexPlan::Index(entries) = plan(
            D,
            &Marker::default(),
            &events(&[0, 1_000_000, 1_000_001]),
            &holes,
        ) else {
            panic!("entries")
        };
        let markers: Vec<(Option<Version>, String)> = entries
            .iter()
            .map(|(_, m)| (m.version, m.holes.to_string()))
            .collect();
        assert_eq!(
            markers,
            vec![
                (Some(0), String::new()),
                (Some(1_000_000), "1..1000000".to_owned()),
                (Some(1_000_001), "1..1000000".to_owned()),
            ]
        );
    }

    #[test]
    fn a_campaigns_feed_has_its_events_and_a_move_is_in_both() {
        let (a, b) = (Uuid::from_u128(0xa), Uuid::from_u128(0xb));
        let mut events = events(&[0, 1, 2, 3, 4, 5, 6]);
        for (version, campaign, from) in [
            (0, a, None),
            (1, a, None),
            (2, b, Some(a)),
            (3, b, None),
            (4, b, None),
            (5, a, Some(b)),
            (6, a, None),
        ] {
            let event = events.get_mut(&version).expect("in hand");
            event.campaign_id = Some(campaign);
            event.moved_from = from;
        }
        let none = Holes::new();
        let fresh = Marker::default();
        assert_eq!(
            versions(&plan(a, &fresh, &events, &none)),
            vec![0, 1, 2, 5, 6]
        );
        assert_eq!(versions(&plan(b, &fresh, &events, &none)), vec![2, 3, 4, 5]);
        assert_eq!(plan(D, &fresh, &events, &none), IndexPlan::UpToDate);
        // Back in a after its marker at 2: the events in b are passed over, not holes.
        let at_2 = Marker {
            version: Some(2),
            holes: Holes::new(),
            revision: 1,
        };
        let IndexPlan::Index(entries) = plan(a, &at_2, &events, &none) else {
            panic!("entries")
        };
        assert_eq!(
            entries.iter().map(|(e, _)| e.version).collect::<Vec<_>>(),
            vec![5, 6]
        );
        assert!(entries.iter().all(|(_, m)| m.holes.is_empty()));
    }
}
