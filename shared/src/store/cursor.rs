//! The opaque cursor of a paged read. It names its stream, so a cursor handed out for one stream
//! is refused on any other: a client cannot turn it into a read of a stream it did not ask for.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use uuid::Uuid;

use crate::domain::{Direction, Version};

/// Where the next page of a read starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub stream: Uuid,
    pub direction: Direction,
    /// The version the next page starts at (inclusive).
    pub version: Version,
}

/// What every cursor of this API starts with.
pub const CURSOR_PREFIX: &str = "hp1";
const NOT_OURS: &str = "it is not a cursor this API handed out";

/// A cursor that was not handed out for this read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the cursor is not valid for this stream: {reason}")]
pub struct BadCursor {
    pub reason: &'static str,
}

impl Cursor {
    /// The cursor as an opaque, URL-safe string.
    pub fn encode(&self) -> String {
        let dir = match self.direction {
            Direction::Forward => 'f',
            Direction::Backward => 'b',
        };
        let raw = format!(
            "{CURSOR_PREFIX}:{}:{dir}:{}",
            self.stream.simple(),
            self.version
        );
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// Reads a cursor back, refusing one that was not made for `stream`.
    pub fn decode(text: &str, stream: Uuid) -> Result<Cursor, BadCursor> {
        let bad = |reason| BadCursor { reason };
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad(NOT_OURS))?;
        let raw = String::from_utf8(bytes).map_err(|_| bad(NOT_OURS))?;
        let mut parts = raw.split(':');
        let (Some(CURSOR_PREFIX), Some(id), Some(dir), Some(version), None) = (
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

/// A listing's cursor (the party, the campaigns): the id of the last item handed out, bound to
/// its listing, so that one listing's cursor (or a stream's) is refused by another.
pub fn encode_listing(listing: &str, after: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}:{listing}:{after}"))
}

/// Reads a cursor of `listing` back: the id after which the next page starts.
pub fn decode_listing(listing: &str, text: &str) -> Result<Uuid, BadCursor> {
    let bad = || BadCursor {
        reason: "it is not a cursor of this listing",
    };
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
    let raw = String::from_utf8(bytes).map_err(|_| bad())?;
    // Every id hitpoints writes is a uuid: nothing else is a place to resume.
    match raw.splitn(3, ':').collect::<Vec<_>>().as_slice() {
        [CURSOR_PREFIX, tag, after] if *tag == listing => Uuid::try_parse(after).map_err(|_| bad()),
        _ => Err(bad()),
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
            Err(BadCursor { reason }) if reason.contains("another stream")
        ));
        let wrong_shape = URL_SAFE_NO_PAD.encode("hp1:x:f:1");
        for garbage in ["", "!!", "aGVsbG8", wrong_shape.as_str()] {
            assert!(Cursor::decode(garbage, stream).is_err(), "{garbage}");
        }
    }
}
