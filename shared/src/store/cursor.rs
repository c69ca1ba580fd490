//! The opaque cursor of a paged read. It names its stream, so a cursor handed out for one stream
//! is refused on any other: a client cannot turn it into a read of a stream it did not ask for.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use uuid::Uuid;

use crate::domain::InvalidInput;
use crate::domain::{Direction, Version};

/// Where the next page of a read starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub stream: Uuid,
    pub direction: Direction,
    /// The version the next page starts at (inclusive).
    pub version: Version,
}

const PREFIX: &str = "hp1";
const NOT_OURS: &str = "it is not a cursor this API handed out";

impl Cursor {
    /// The cursor as an opaque, URL-safe string.
    pub fn encode(&self) -> String {
        let dir = match self.direction {
            Direction::Forward => 'f',
            Direction::Backward => 'b',
        };
        let raw = format!("{PREFIX}:{}:{dir}:{}", self.stream.simple(), self.version);
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// Reads a cursor back, refusing one that was not made for `stream`.
    pub fn decode(text: &str, stream: Uuid) -> Result<Cursor, InvalidInput> {
        let bad = |reason| InvalidInput::BadCursor { reason };
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad(NOT_OURS))?;
        let raw = String::from_utf8(bytes).map_err(|_| bad(NOT_OURS))?;
        let mut parts = raw.split(':');
        let (Some(PREFIX), Some(id), Some(dir), Some(version), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(bad(NOT_OURS));
        };
        let id = Uuid::try_parse(id).map_err(|_| bad(NOT_OURS))?;
        if id != stream {
            return Err(bad("it was handed out for another stream"));
        }
        let direction = match dir {
            "f" => Direction::Forward,
            "b" => Direction::Backward,
            _ => return Err(bad(NOT_OURS)),
        };
        let version = version.parse().map_err(|_| bad(NOT_OURS))?;
        Ok(Cursor {
            stream,
            direction,
            version,
        })
    }
}

/// Where the next page of the party starts: after the snapshot of character `after`. Bound
/// to the listing: a stream's cursor is refused here, and this one on a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListCursor {
    pub after: String,
}

const LISTING: &str = "party";

impl ListCursor {
    /// The cursor as an opaque, URL-safe string.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{PREFIX}:{LISTING}:{}", self.after))
    }

    pub fn decode(text: &str) -> Result<ListCursor, InvalidInput> {
        let bad = || InvalidInput::BadCursor {
            reason: "it is not a cursor of this listing",
        };
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
        let raw = String::from_utf8(bytes).map_err(|_| bad())?;
        // Every character id hitpoints writes is a uuid: nothing else is a place to resume.
        match raw.splitn(3, ':').collect::<Vec<_>>().as_slice() {
            [PREFIX, LISTING, after] => Uuid::try_parse(after)
                .map(|id| ListCursor {
                    after: id.to_string(),
                })
                .map_err(|_| bad()),
            _ => Err(bad()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_other_streams_and_garbage() {
        let stream = Uuid::new_v4();
        let cursor = Cursor {
            stream,
            direction: Direction::Backward,
            version: 41,
        };
        let text = cursor.encode();
        assert_eq!(Cursor::decode(&text, stream), Ok(cursor));
        assert!(matches!(
            Cursor::decode(&text, Uuid::new_v4()),
            Err(InvalidInput::BadCursor { reason }) if reason.contains("another stream")
        ));
        let wrong_shape = URL_SAFE_NO_PAD.encode("hp1:x:f:1");
        for garbage in ["", "!!", "aGVsbG8", wrong_shape.as_str()] {
            assert!(Cursor::decode(garbage, stream).is_err(), "{garbage}");
        }
    }

    #[test]
    fn listing_cursors_round_trip_and_are_not_stream_cursors() {
        let listing = ListCursor {
            after: Uuid::new_v4().to_string(),
        };
        let text = listing.encode();
        assert_eq!(ListCursor::decode(&text), Ok(listing));
        let stream = Uuid::new_v4();
        assert!(Cursor::decode(&text, stream).is_err());
        let of_stream = Cursor {
            stream,
            direction: Direction::Forward,
            version: 3,
        };
        assert!(ListCursor::decode(&of_stream.encode()).is_err());
        let long = URL_SAFE_NO_PAD.encode(format!("hp1:party:{}", "x".repeat(3000)));
        let not_a_uuid = URL_SAFE_NO_PAD.encode("hp1:party:nuru");
        for garbage in [
            "",
            "!!",
            "aGVsbG8",
            &URL_SAFE_NO_PAD.encode("hp1:party:"),
            &long,
            &not_a_uuid,
        ] {
            assert!(ListCursor::decode(garbage).is_err(), "{garbage}");
        }
    }
}
