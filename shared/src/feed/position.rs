//! A place in the feed, as the API hands it out, and why a read's position is refused.

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

    pub fn parse(text: &str) -> Result<Position, BadPosition> {
        let valid = !text.is_empty()
            && text.len() <= POSITION_DIGITS
            && text.bytes().all(|b| b.is_ascii_digit());
        valid
            .then(|| text.parse().ok())
            .flatten()
            .map(Position)
            .ok_or(BadPosition::NotAPosition)
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

/// A position a read cannot start from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BadPosition {
    #[error("not a position of the feed: use a position or a next the feed handed out")]
    NotAPosition,
    #[error("the position is beyond the end of the feed (its last is {last}): it was not handed out by this feed")]
    BeyondHead { last: u64 },
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
