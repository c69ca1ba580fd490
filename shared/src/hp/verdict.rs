//! What verify and rebuild report: how each snapshot compares with the fold of its stream.

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use super::table::Snapshot;
use crate::domain::{CharacterState, LatestEvent, DEFAULT_CAMPAIGN};
use crate::rules::Sheet;
use crate::store::StreamSummary;
use crate::stream::Holes;

/// What the audit does besides reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Compare and report; write nothing.
    Verify,
    /// Compare, and write the fold wherever a snapshot is missing, behind or wrong.
    Rebuild,
}

/// Counters a caller can print while the audit runs.
#[derive(Debug, Default)]
pub struct Progress {
    /// Events read by the Scan.
    pub events: AtomicU64,
    /// Characters whose events the Scan has met.
    pub characters: AtomicU64,
    /// Characters compared with their snapshot.
    pub checked: AtomicU64,
    /// Snapshots written.
    pub written: AtomicU64,
}

/// How one character's snapshot compares with the fold of its stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Agrees,
    /// The stream has events; there is no snapshot.
    Missing,
    /// The snapshot is at a version before the stream's last.
    Stale,
    /// The snapshot is at the stream's last version with other values, or ahead of the stream.
    Wrong,
    /// A snapshot with no events behind it. Never written or removed by a rebuild.
    Orphaned,
}

/// What an audit found, and for a rebuild what it wrote.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Events the Scan read.
    pub events: u64,
    /// Characters with events or a snapshot.
    pub characters: u64,
    /// Snapshots that agreed with their stream when checked.
    pub agreed: u64,
    pub missing: Vec<String>,
    pub stale: Vec<String>,
    pub wrong: Vec<String>,
    pub orphaned: Vec<String>,
    /// Snapshots that cannot be read as snapshots (written by other code): left alone.
    pub unreadable: Vec<String>,
    /// Characters whose check failed (a DynamoDB error, a stream that cannot be folded); the
    /// failure is logged with the id.
    pub failed: Vec<String>,
    /// Rebuild: snapshots written (created, moved forward or corrected).
    pub written: u64,
    /// Rebuild: snapshots that kept changing under it through every attempt.
    pub contended: Vec<String>,
    pub elapsed: Duration,
}

impl Report {
    /// Whether every snapshot agrees with its stream: for a rebuild, once it has written.
    pub fn all_agree(&self, mode: Mode) -> bool {
        let unresolved = match mode {
            Mode::Verify => self.missing.len() + self.stale.len() + self.wrong.len(),
            // What a rebuild wrote agrees now; a snapshot ahead of its stream it leaves alone.
            Mode::Rebuild => self.contended.len() + self.unwritable_wrong(),
        };
        unresolved + self.orphaned.len() + self.unreadable.len() + self.failed.len() == 0
    }

    fn unwritable_wrong(&self) -> usize {
        let corrected = self.missing.len() + self.stale.len() + self.wrong.len();
        corrected.saturating_sub(self.written as usize + self.contended.len())
    }

    /// Events read per second.
    pub fn events_per_second(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// The truth about a character: the fold of its stream and the versions missing below its last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truth {
    pub state: CharacterState,
    pub holes: Holes,
}

impl Truth {
    /// The truth as a Scan saw it, when it saw every version from 0 to the last (so there are
    /// no holes to find). On a character with rules, only when its last event carries the
    /// sheet (otherwise the fold needs the events in order: `None`).
    pub fn scanned(summary: &StreamSummary) -> Option<Truth> {
        let rules = summary.last.state.clone();
        if !summary.is_whole() || (summary.ruled && rules.is_none()) {
            return None;
        }
        let hp = rules
            .as_ref()
            .map_or(summary.hp, |sheet| i64::from(sheet.hp));
        Some(Truth {
            state: CharacterState {
                character_name: summary.last.character_name.clone(),
                hp,
                version: summary.last.version,
                latest: LatestEvent::of(&summary.last),
                rules,
                campaign_id: summary.last.campaign_id.unwrap_or(DEFAULT_CAMPAIGN),
            },
            holes: Holes::new(),
        })
    }
}

/// A sheet as a snapshot keeps it: without the last commands' ids.
fn without_recent(sheet: Sheet) -> Sheet {
    Sheet {
        recent: Vec::new(),
        ..sheet
    }
}

/// How a snapshot compares with the truth.
pub fn judge(snapshot: Option<&Snapshot>, truth: Option<&Truth>) -> Verdict {
    let (snapshot, truth) = match (snapshot, truth) {
        (None, None) => return Verdict::Agrees,
        (None, Some(_)) => return Verdict::Missing,
        (Some(_), None) => return Verdict::Orphaned,
        (Some(s), Some(t)) => (s, t),
    };
    let state = &truth.state;
    if snapshot.version < state.version {
        return Verdict::Stale;
    }
    let agrees = snapshot.version == state.version
        && snapshot.hit_points == state.hp
        && snapshot.character_name == state.character_name
        && snapshot.holes == truth.holes
        && snapshot.last_hp_change == Some(state.latest.hp_change)
        && snapshot.last_note.as_deref() == Some(state.latest.note.as_str())
        && snapshot.last_recorded_at == state.latest.recorded_at
        && snapshot.last_event_type.as_deref() == Some(state.latest.event_type.as_str())
        && snapshot.last_outcome == state.latest.outcome
        && snapshot.rules == state.rules.clone().map(without_recent)
        && snapshot.campaign_id == Some(state.campaign_id);
    if agrees {
        Verdict::Agrees
    } else {
        Verdict::Wrong
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::recorded;
    use crate::domain::Version;
    use crate::store::StreamSummary;

    fn truth(version: Version, hp: i64, holes: &[Version]) -> Truth {
        Truth {
            state: CharacterState {
                character_name: "Nuru".into(),
                hp,
                version,
                latest: LatestEvent {
                    hp_change: -2,
                    note: "goblin".into(),
                    recorded_at: Some("2026-11-29T20:00:00Z".into()),
                    event_type: "adjusted".into(),
                    outcome: None,
                },
                rules: None,
                campaign_id: DEFAULT_CAMPAIGN,
            },
            holes: holes.iter().copied().collect(),
        }
    }

    fn snapshot_of(t: &Truth) -> Snapshot {
        Snapshot {
            id: "x".into(),
            character_name: t.state.character_name.clone(),
            hit_points: t.state.hp,
            version: t.state.version,
            updated_at: "2026-11-29T20:00:01Z".into(),
            holes: t.holes.clone(),
            legacy_holes: false,
            last_hp_change: Some(t.state.latest.hp_change),
            last_note: Some(t.state.latest.note.clone()),
            last_recorded_at: t.state.latest.recorded_at.clone(),
            last_event_type: Some(t.state.latest.event_type.clone()),
            last_outcome: None,
            rules: None,
            campaign_id: Some(t.state.campaign_id),
        }
    }

    #[test]
    fn judges_each_kind_of_disagreement() {
        let t = truth(5, 3, &[1, 2]);
        let s = snapshot_of(&t);
        assert_eq!(judge(Some(&s), Some(&t)), Verdict::Agrees, "the same holes");
        assert_eq!(judge(None, Some(&t)), Verdict::Missing);
        assert_eq!(judge(Some(&s), None), Verdict::Orphaned);
        let behind = Snapshot {
            version: 4,
            ..s.clone()
        };
        assert_eq!(judge(Some(&behind), Some(&t)), Verdict::Stale);
        for wrong in [
            Snapshot {
                version: 6,
                ..s.clone()
            },
            Snapshot {
                hit_points: 4,
                ..s.clone()
            },
            Snapshot {
                character_name: "N".into(),
                ..s.clone()
            },
            Snapshot {
                holes: Holes::from(1..2),
                ..s.clone()
            },
            Snapshot {
                last_hp_change: None,
                ..s.clone()
            },
            Snapshot {
                last_note: Some("x".into()),
                ..s.clone()
            },
            Snapshot {
                last_recorded_at: None,
                ..s.clone()
            },
            // Written before campaigns: a rebuild writes the campaign.
            Snapshot {
                campaign_id: None,
                ..s.clone()
            },
            Snapshot {
                campaign_id: Some(uuid::Uuid::from_u128(7)),
                ..s.clone()
            },
        ] {
            assert_eq!(judge(Some(&wrong), Some(&t)), Verdict::Wrong, "{wrong:?}");
        }
    }

    #[test]
    fn a_scan_summary_is_the_truth_only_without_missing_versions() {
        // In any order, split across segments.
        let a = StreamSummary::add(
            Some(StreamSummary::add(None, recorded(2, -3))),
            recorded(0, 8),
        );
        let b = StreamSummary::add(None, recorded(1, -2));
        let whole = StreamSummary::merge(b, a.clone());
        let truth = Truth::scanned(&whole).expect("versions 0..=2");
        assert_eq!((truth.state.version, truth.state.hp), (2, 3));
        assert_eq!(truth.state.character_name, "n2");
        assert_eq!(
            Truth::scanned(&a),
            None,
            "version 1 missing: read the stream to find the holes"
        );
    }
}
