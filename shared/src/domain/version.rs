//! Versions of a stream, what a writer expects the last one to be, and which way a read goes.

use serde::{Deserialize, Serialize};

/// A version of a stream: 0 is the first event.
pub type Version = u64;

/// The highest version an expected version may name: far beyond any real stream, and low
/// enough that the versions after it never overflow.
pub const MAX_EXPECTED_VERSION: Version = i64::MAX as Version;

/// What the writer expects the stream's last version to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExpectedVersion {
    /// Append after whatever is last (retrying a bounded number of times on a lost race).
    #[default]
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream's last version must be exactly this.
    Exact(Version),
}

impl ExpectedVersion {
    /// The stream's last version this expectation names, `None` for a stream without events.
    /// `Any` has none of its own and returns `None` too.
    pub fn last_version(self) -> Option<Version> {
        match self {
            ExpectedVersion::Exact(v) => Some(v),
            ExpectedVersion::Any | ExpectedVersion::NoStream => None,
        }
    }
}

/// On the wire: `"any"`, `"no_stream"`, or a version number.
impl Serialize for ExpectedVersion {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ExpectedVersion::Any => serializer.serialize_str("any"),
            ExpectedVersion::NoStream => serializer.serialize_str("no_stream"),
            ExpectedVersion::Exact(v) => serializer.serialize_u64(*v),
        }
    }
}

impl<'de> Deserialize<'de> for ExpectedVersion {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = ExpectedVersion;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("\"any\", \"no_stream\" or a version number (0 or more)")
            }
            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<ExpectedVersion, E> {
                match value {
                    "any" => Ok(ExpectedVersion::Any),
                    "no_stream" => Ok(ExpectedVersion::NoStream),
                    _ => Err(E::invalid_value(serde::de::Unexpected::Str(value), &self)),
                }
            }
            fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<ExpectedVersion, E> {
                Ok(ExpectedVersion::Exact(value))
            }
            fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<ExpectedVersion, E> {
                u64::try_from(value)
                    .map(ExpectedVersion::Exact)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(value), &self))
            }
            // Any whole JSON number, as `hp_change` reads it: `437.0` is 437 and `-0` is 0. One
            // beyond `u64` is kept as `u64`'s bound, out of range rather than unreadable.
            fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<ExpectedVersion, E> {
                if value.is_finite() && value.fract() == 0.0 && value > -1.0 {
                    // `as` saturates at u64's bound, which is out of range anyway.
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    Ok(ExpectedVersion::Exact(value as u64))
                } else {
                    Err(E::invalid_value(serde::de::Unexpected::Float(value), &self))
                }
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// `"any"`, `"no_stream"`, or the stream's last version (any whole JSON number from 0).
impl utoipa::PartialSchema for ExpectedVersion {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::gen::serde_json::{from_value, json};
        from_value(json!({
            "description": "What the stream's last version must be. Absent or null: \"any\".",
            "oneOf": [
                {"type": "string", "enum": ["any", "no_stream"],
                 "description": "any: after whatever is last; no_stream: the stream must not exist"},
                {"type": "integer", "minimum": 0, "maximum": MAX_EXPECTED_VERSION,
                 "description": "the stream's last version must be exactly this"}
            ],
            "example": 0
        }))
        .expect("a schema written as JSON")
    }
}

impl utoipa::ToSchema for ExpectedVersion {}

impl std::fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExpectedVersion::Any => f.write_str("any"),
            ExpectedVersion::NoStream => f.write_str("no_stream"),
            ExpectedVersion::Exact(v) => write!(f, "{v}"),
        }
    }
}

/// The first version an append writes when the stream's last version is `last`.
pub fn next_version(last: Option<Version>) -> Version {
    // Saturating: a version at the very top (written by other code) leaves no room, and the
    // write there is refused as a conflict rather than wrapping round to 0.
    last.map_or(0, |v| v.saturating_add(1))
}

/// Which way a stream is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    #[default]
    Forward,
    Backward,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_versions_read_and_write_themselves() {
        for (json, expected) in [
            ("\"any\"", ExpectedVersion::Any),
            ("\"no_stream\"", ExpectedVersion::NoStream),
            ("7", ExpectedVersion::Exact(7)),
        ] {
            let parsed: ExpectedVersion = serde_json::from_str(json).expect(json);
            assert_eq!(parsed, expected);
            assert_eq!(serde_json::to_string(&expected).expect("json"), json);
        }
        for bad in ["-1", "\"latest\"", "1.5", "null", "[]"] {
            assert!(
                serde_json::from_str::<ExpectedVersion>(bad).is_err(),
                "{bad}"
            );
        }
    }
}
