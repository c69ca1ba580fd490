//! Holes: versions below a read model's position that the events table did not have when the
//! read model went past them (written by other code with versions left out). Kept as ranges,
//! so a stream that jumps from version 3 to 200,000 costs one range, not 199,996 numbers.
//!
//! One convention throughout: a range is half-open, `from..to` (`to` not included), as Rust's
//! ranges are and as it is stored (`"4..200000"`, ranges separated by commas).

use std::fmt;
use std::ops::Range;

use crate::domain::Version;
use crate::store::MAX_HOLES_BYTES;

/// A set of versions, as disjoint ranges that never touch (adjacent ranges are merged), in
/// order. A sorted list: a read model's holes are few ranges, and this is the least code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holes {
    ranges: Vec<Range<Version>>,
}

impl Holes {
    pub fn new() -> Holes {
        Holes::default()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// How many versions the holes hold.
    pub fn count(&self) -> u64 {
        self.ranges.iter().map(|r| r.end - r.start).sum()
    }

    /// The ranges, in order.
    pub fn ranges(&self) -> impl Iterator<Item = Range<Version>> + '_ {
        self.ranges.iter().cloned()
    }

    /// Where the range holding `version` is, if one does.
    fn index_of(&self, version: Version) -> Option<usize> {
        let after = self.ranges.partition_point(|r| r.start <= version);
        let index = after.checked_sub(1)?;
        (version < self.ranges[index].end).then_some(index)
    }

    pub fn contains(&self, version: Version) -> bool {
        self.index_of(version).is_some()
    }

    /// Where the run of holes starting at `version` ends: the end of the range holding it, or
    /// `version` itself when it is not a hole.
    pub fn end_of_run(&self, version: Version) -> Version {
        self.index_of(version)
            .map_or(version, |index| self.ranges[index].end)
    }

    /// Adds the versions of `range`.
    pub fn insert(&mut self, range: Range<Version>) {
        if range.is_empty() {
            return;
        }
        // The ranges that overlap or touch it are merged into it.
        let first = self.ranges.partition_point(|r| r.end < range.start);
        let last = self.ranges.partition_point(|r| r.start <= range.end);
        let merged = match self.ranges.get(first..last) {
            Some([head, .., tail] | [head @ tail]) => {
                head.start.min(range.start)..tail.end.max(range.end)
            }
            _ => range,
        };
        self.ranges.splice(first..last, [merged]);
    }

    /// Adds every version of `other`.
    pub fn extend(&mut self, other: &Holes) {
        for range in other.ranges() {
            self.insert(range);
        }
    }

    /// Takes `version` out; false when it was not a hole.
    pub fn remove(&mut self, version: Version) -> bool {
        let Some(index) = self.index_of(version) else {
            return false;
        };
        let range = self.ranges[index].clone();
        let parts = [range.start..version, version + 1..range.end];
        self.ranges
            .splice(index..=index, parts.into_iter().filter(|r| !r.is_empty()));
        true
    }

    /// The versions of `gap` that are not among `present` (in order).
    pub fn absent_from(gap: Range<Version>, present: impl IntoIterator<Item = Version>) -> Holes {
        let mut holes = Holes::new();
        let mut next = gap.start;
        for version in present {
            if version < next || version >= gap.end {
                continue;
            }
            holes.insert(next..version);
            next = version + 1;
        }
        holes.insert(next..gap.end);
        holes
    }

    /// The holes as stored, when they fit an item: `"4..200000,7..8"`; `None` when there are none.
    pub fn to_text(&self) -> Result<Option<String>, TooManyHoles> {
        if self.is_empty() {
            return Ok(None);
        }
        let text = self.to_string();
        if text.len() > MAX_HOLES_BYTES {
            return Err(TooManyHoles {
                ranges: self.ranges.len(),
            });
        }
        Ok(Some(text))
    }
}

/// Holes in so many separate ranges that their text would outgrow an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{ranges} separate ranges of missing versions: more than one item can hold")]
pub struct TooManyHoles {
    pub ranges: usize,
}

impl fmt::Display for Holes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, range) in self.ranges().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}..{}", range.start, range.end)?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Holes {
    type Err = ();

    /// Reads the stored text; anything else (an empty range, a missing bound) is refused.
    fn from_str(text: &str) -> Result<Holes, ()> {
        let mut holes = Holes::new();
        for range in text.split(',').filter(|r| !r.is_empty()) {
            let (from, to) = range.split_once("..").ok_or(())?;
            let (from, to): (Version, Version) =
                (from.parse().map_err(|_| ())?, to.parse().map_err(|_| ())?);
            if from >= to {
                return Err(());
            }
            holes.insert(from..to);
        }
        Ok(holes)
    }
}

/// Versions one by one, as the number sets of items written before holes were ranges.
impl FromIterator<Version> for Holes {
    fn from_iter<I: IntoIterator<Item = Version>>(versions: I) -> Holes {
        let mut holes = Holes::new();
        for version in versions {
            holes.insert(version..version.saturating_add(1));
        }
        holes
    }
}

impl From<Range<Version>> for Holes {
    fn from(range: Range<Version>) -> Holes {
        let mut holes = Holes::new();
        holes.insert(range);
        holes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_merge_split_and_read_back() {
        let mut holes = Holes::new();
        holes.insert(4..7);
        holes.insert(9..10);
        holes.insert(7..9);
        assert_eq!(holes.to_string(), "4..10");
        assert!(holes.remove(6));
        assert!(!holes.remove(6));
        assert_eq!(holes.to_string(), "4..6,7..10");
        assert_eq!(
            (holes.count(), holes.contains(5), holes.contains(6)),
            (5, true, false)
        );
        assert_eq!((holes.end_of_run(4), holes.end_of_run(6)), (6, 6));
        assert_eq!("4..6,7..10".parse::<Holes>(), Ok(holes.clone()));
        assert!(holes.remove(4) && holes.remove(9));
        assert_eq!(holes.to_string(), "5..6,7..9");
        for bad in ["4", "4..4", "5..4", "a..b", "..3", "1..2,x"] {
            assert_eq!(bad.parse::<Holes>(), Err(()), "{bad}");
        }
        assert_eq!("".parse::<Holes>(), Ok(Holes::new()));
        assert_eq!(Holes::new().to_text(), Ok(None));
    }

    #[test]
    fn a_jump_of_a_million_versions_is_one_range() {
        let holes = Holes::absent_from(3..1_000_003, [3, 500_000]);
        assert_eq!(holes.to_string(), "4..500000,500001..1000003");
        assert_eq!(holes.count(), 999_998);
        assert_eq!(holes.to_text().ok().flatten().map(|t| t.len()), Some(25));
        let legacy: Holes = [1, 2, 3, 7].into_iter().collect();
        assert_eq!(legacy.to_string(), "1..4,7..8");
    }

    #[test]
    fn holes_past_an_item_are_refused() {
        // Every other version missing: ranges that cannot merge.
        let holes: Holes = (0..200_000).map(|v| v * 2).collect();
        assert!(matches!(
            holes.to_text(),
            Err(TooManyHoles { ranges: 200_000 })
        ));
    }

    #[test]
    fn ranges_hold_the_same_versions_as_a_set_through_any_inserts_and_removes() {
        let mut rng = fastrand::Rng::with_seed(18);
        for _ in 0..200 {
            let (mut holes, mut model) = (Holes::new(), std::collections::BTreeSet::new());
            for _ in 0..40 {
                let start = rng.u64(0..60);
                if rng.bool() {
                    let end = start + rng.u64(0..8);
                    holes.insert(start..end);
                    model.extend(start..end);
                } else {
                    assert_eq!(holes.remove(start), model.remove(&start));
                }
                let versions: Vec<Version> = holes.ranges().flatten().collect();
                assert_eq!(versions, model.iter().copied().collect::<Vec<_>>());
                // Disjoint and never touching: the text reads back as the same ranges.
                assert!(holes.ranges.windows(2).all(|w| w[0].end < w[1].start));
                assert_eq!(holes.to_string().parse::<Holes>(), Ok(holes.clone()));
                assert_eq!(holes.count(), model.len() as u64);
            }
        }
    }
}
