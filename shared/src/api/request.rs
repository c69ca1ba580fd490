//! Reading requests: JSON bodies and query strings, each mistake a 400 that says what is wrong.

use lambda_http::Body;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::ApiError;
use crate::domain::{Direction, ExpectedVersion, NewEvent};
use crate::store::{Cursor, ReadRequest};

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Events per page when the request does not say.
pub const DEFAULT_PAGE_SIZE: usize = 100;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppendBody {
    #[serde(default)]
    expected_version: Option<Value>,
    events: Vec<NewEvent>,
}

pub(super) fn parse_new_event(body: &Body) -> Result<NewEvent, ApiError> {
    parse_json(body)
}

pub(super) fn parse_append(body: &Body) -> Result<(ExpectedVersion, Vec<NewEvent>), ApiError> {
    let parsed: AppendBody = parse_json(body)?;
    let expected = match parsed.expected_version {
        None | Some(Value::Null) => ExpectedVersion::Any,
        Some(Value::String(s)) if s == "any" => ExpectedVersion::Any,
        Some(Value::String(s)) if s == "no_stream" => ExpectedVersion::NoStream,
        Some(Value::Number(n)) if n.as_u64().is_some() => {
            ExpectedVersion::Exact(n.as_u64().unwrap_or_default())
        }
        Some(other) => {
            return Err(ApiError::bad_request(
                "invalid_expected_version",
                format!(
                    "expected_version must be \"any\", \"no_stream\" or a version number \
                     (0 or more), got {other}"
                ),
            ))
        }
    };
    Ok((expected, parsed.events))
}

fn parse_json<T: DeserializeOwned>(body: &Body) -> Result<T, ApiError> {
    let bytes: &[u8] = match body {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::BodyTooLarge {
            bytes: bytes.len(),
            max: MAX_BODY_BYTES,
        });
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "missing_body",
            "the request needs a JSON body",
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        let code = if e.is_data() {
            "invalid_body"
        } else {
            "malformed_json"
        };
        ApiError::bad_request(code, format!("the JSON body cannot be read: {e}"))
    })
}

/// A query string's parameters, each at most once.
pub(super) struct Query(Vec<(String, String)>);

impl Query {
    pub(super) fn parse(query: Option<&str>) -> Result<Query, ApiError> {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        for (i, (key, _)) in pairs.iter().enumerate() {
            if pairs[..i].iter().any(|(k, _)| k == key) {
                return Err(ApiError::bad_request(
                    "invalid_parameter",
                    format!("query parameter {key} is given more than once"),
                ));
            }
        }
        Ok(Query(pairs))
    }

    /// Refuses any parameter not in `known`.
    pub(super) fn expect_only(&self, known: &[&str]) -> Result<(), ApiError> {
        match self.0.iter().find(|(k, _)| !known.contains(&k.as_str())) {
            None => Ok(()),
            Some((key, _)) => Err(ApiError::bad_request(
                "unknown_parameter",
                if known.is_empty() {
                    format!("query parameter {key} is not known here: this route takes none")
                } else {
                    format!(
                        "query parameter {key} is not known here; this route takes {}",
                        known.join(", ")
                    )
                },
            )),
        }
    }

    pub(super) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// The query of `GET /characters/{id}/events`.
pub(super) fn parse_read(stream: Uuid, query: &Query) -> Result<ReadRequest, ApiError> {
    query.expect_only(&["from_version", "limit", "direction", "cursor"])?;
    let limit = match query.get("limit") {
        None => DEFAULT_PAGE_SIZE,
        Some(text) => text.parse().map_err(|_| {
            ApiError::bad_request(
                "invalid_limit",
                format!("limit must be a whole number from 1 to 1000, got {text:?}"),
            )
        })?,
    };
    let direction = match query.get("direction") {
        None => None,
        Some("forward") => Some(Direction::Forward),
        Some("backward") => Some(Direction::Backward),
        Some(other) => {
            return Err(ApiError::bad_request(
                "invalid_direction",
                format!("direction must be forward or backward, got {other:?}"),
            ))
        }
    };
    let from_version = match query.get("from_version") {
        None => None,
        Some(text) => Some(text.parse().map_err(|_| {
            ApiError::bad_request(
                "invalid_from_version",
                format!("from_version must be a version number (0 or more), got {text:?}"),
            )
        })?),
    };
    match query.get("cursor") {
        None => Ok(ReadRequest {
            from_version,
            direction: direction.unwrap_or_default(),
            limit,
        }),
        Some(text) => {
            let cursor = Cursor::decode(text, stream).map_err(crate::Error::from)?;
            if from_version.is_some() {
                return Err(ApiError::bad_request(
                    "invalid_parameter",
                    "give either cursor or from_version: the cursor says where to continue",
                ));
            }
            if direction.is_some_and(|d| d != cursor.direction) {
                return Err(ApiError::bad_request(
                    "invalid_parameter",
                    "direction differs from the cursor's: drop it or start a new read",
                ));
            }
            Ok(ReadRequest::continuing(cursor, limit))
        }
    }
}
