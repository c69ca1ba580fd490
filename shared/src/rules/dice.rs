//! Hit dice: a pool such as `3d10+2d8` (SRD 5.1 "Resting: Short Rest"; SRD 5.2.1 "Hit Point
//! Dice"). Stored and answered in that text form.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The dice a hit die can be: the SRD's classes use d6 to d12, its creatures d4 to d20.
pub const DICE: [u32; 6] = [4, 6, 8, 10, 12, 20];
/// The most dice of one size in a pool.
pub const MAX_DICE: u32 = 1000;

/// A pool of hit dice: how many of each size. Empty is `""`.
#[derive(Debug, Clone, Default, PartialEq, Eq, utoipa::ToSchema)]
#[schema(value_type = String, example = "3d10+2d8")]
pub struct HitDice(BTreeMap<u32, u32>);

/// One hit die spent on a short rest, and what it rolled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SpentDie {
    /// The die's size: 10 for a d10.
    pub die: u32,
    /// What it rolled, 1 to `die`.
    pub roll: u32,
}

/// Why a text is not a pool of hit dice.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "hit dice are written like 3d10+2d8: each term a count from 1 to {MAX_DICE} and a d4, d6, d8, d10, d12 or d20"
)]
pub struct BadHitDice;

impl HitDice {
    pub fn parse(text: &str) -> Result<HitDice, BadHitDice> {
        let mut pool = BTreeMap::new();
        if text.is_empty() {
            return Ok(HitDice(pool));
        }
        for term in text.split('+') {
            let (count, die) = term.trim().split_once('d').ok_or(BadHitDice)?;
            let count: u32 = count.parse().map_err(|_| BadHitDice)?;
            let die: u32 = die.parse().map_err(|_| BadHitDice)?;
            if !DICE.contains(&die) || count == 0 {
                return Err(BadHitDice);
            }
            let total: &mut u32 = pool.entry(die).or_default();
            *total = total.saturating_add(count);
            if *total > MAX_DICE {
                return Err(BadHitDice);
            }
        }
        Ok(HitDice(pool))
    }

    /// How many dice of size `die` the pool holds.
    pub fn count(&self, die: u32) -> u32 {
        self.0.get(&die).copied().unwrap_or(0)
    }

    /// How many dice the pool holds in all.
    pub fn total(&self) -> u32 {
        self.0.values().sum()
    }

    /// The pool less one die of size `die`, if it has one.
    pub fn without_one(&self, die: u32) -> Option<HitDice> {
        let mut pool = self.0.clone();
        let count = pool.get_mut(&die).filter(|c| **c > 0)?;
        *count -= 1;
        if *count == 0 {
            pool.remove(&die);
        }
        Some(HitDice(pool))
    }

    /// This pool (the dice remaining) with up to `n` of `total`'s spent dice regained, the
    /// largest first.
    pub fn regain(&self, total: &HitDice, mut n: u32) -> HitDice {
        let mut pool = self.0.clone();
        for (&die, &all) in total.0.iter().rev() {
            let have = pool.entry(die).or_default();
            let back = all.saturating_sub(*have).min(n);
            *have += back;
            n -= back;
        }
        pool.retain(|_, c| *c > 0);
        HitDice(pool)
    }

    /// This pool (the dice remaining) cut to fit `total`, and raised by what `total` adds over
    /// `before` (a new level's die arrives unspent).
    pub fn refit(&self, before: &HitDice, total: &HitDice) -> HitDice {
        let mut pool = BTreeMap::new();
        for (&die, &all) in &total.0 {
            let gained = all.saturating_sub(before.count(die));
            let have = (self.count(die) + gained).min(all);
            if have > 0 {
                pool.insert(die, have);
            }
        }
        HitDice(pool)
    }
}

impl fmt::Display for HitDice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (die, count) in self.0.iter().rev() {
            if !first {
                f.write_str("+")?;
            }
            first = false;
            write!(f, "{count}d{die}")?;
        }
        Ok(())
    }
}

impl Serialize for HitDice {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for HitDice {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<HitDice, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        HitDice::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_mix_dice_and_read_back_as_written() {
        let pool = HitDice::parse("3d10+2d8").expect("a pool");
        assert_eq!((pool.count(10), pool.count(8), pool.total()), (3, 2, 5));
        assert_eq!(pool.to_string(), "3d10+2d8");
        assert_eq!(
            HitDice::parse("2d8+1d8").expect("a pool").to_string(),
            "3d8"
        );
        assert_eq!(HitDice::parse("").expect("empty").total(), 0);
        for bad in [
            "3d7", "0d8", "d8", "3x8", "3d8+", "-1d8", "1001d8", "3d10 2d8",
        ] {
            assert_eq!(HitDice::parse(bad), Err(BadHitDice), "{bad}");
        }
    }

    #[test]
    fn spent_dice_come_back_largest_first_and_a_new_die_arrives_unspent() {
        let total = HitDice::parse("3d10+2d8").expect("a pool");
        let spent = HitDice::parse("1d10").expect("a pool");
        assert_eq!(spent.regain(&total, 3).to_string(), "3d10+1d8");
        assert_eq!(spent.regain(&total, 99), total);
        assert_eq!(spent.without_one(10).expect("one").total(), 0);
        assert_eq!(spent.without_one(8), None);
        let levelled = HitDice::parse("4d10+2d8").expect("a pool");
        assert_eq!(spent.refit(&total, &levelled).to_string(), "2d10");
        let fewer = HitDice::parse("1d8").expect("a pool");
        assert_eq!(total.refit(&total, &fewer).to_string(), "1d8");
    }
}
