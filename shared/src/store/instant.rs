//! The time a read by time (`as_of`) names, compared with the times events were recorded.

use serde::Deserialize;

use crate::domain::RecordedEvent;

/// An instant in time, read from RFC 3339 text with any offset (`2026-11-29T20:15:00Z`,
/// `2026-11-29T21:15:00.5+01:00`). Instants compare as instants: text would not (a stored
/// timestamp omits a zero fraction, and offsets differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Instant {
    /// Nanoseconds since the Unix epoch.
    nanos: i128,
}

/// Text that is not an RFC 3339 time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not an RFC 3339 time such as 2026-11-29T20:15:00Z or 2026-11-29T21:15:00+01:00")]
pub struct BadInstant;

impl std::str::FromStr for Instant {
    type Err = BadInstant;

    fn from_str(text: &str) -> Result<Instant, BadInstant> {
        use aws_sdk_dynamodb::primitives::{DateTime, DateTimeFormat};
        DateTime::from_str(text, DateTimeFormat::DateTimeWithOffset)
            .map(|t| Instant {
                nanos: t.as_nanos(),
            })
            .map_err(|_| BadInstant)
    }
}

impl<'de> Deserialize<'de> for Instant {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Instant, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl Instant {
    /// The instant a system time is (before the epoch: the epoch).
    pub fn of(time: std::time::SystemTime) -> Instant {
        let nanos = time
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i128::try_from(d.as_nanos()).unwrap_or(i128::MAX));
        Instant { nanos }
    }

    /// Whether `event` was recorded at or before this instant. An event without a readable
    /// `RecordedAt` (written by the source material's code) counts as older than any time.
    pub fn saw(self, event: &RecordedEvent) -> bool {
        event
            .recorded_at
            .as_deref()
            .and_then(|at| at.trim().parse::<Instant>().ok())
            .is_none_or(|at| at <= self)
    }
}
