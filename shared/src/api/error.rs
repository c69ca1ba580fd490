//! The one place where errors become HTTP responses.

use lambda_http::http::header::{HeaderValue, ALLOW, CONTENT_TYPE, RETRY_AFTER};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::{json, Value};

use crate::error::{Error, InfraError, InvalidInput};

/// Seconds a client is told to wait before retrying after a 503.
const RETRY_AFTER_SECONDS: u64 = 1;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("no route for {0}")]
    RouteNotFound(String),
    #[error("{method} is not allowed here; use {allow}")]
    MethodNotAllowed { method: String, allow: String },
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("the request body has {bytes} bytes; at most {max} are accepted")]
    BodyTooLarge { bytes: usize, max: usize },
    #[error(transparent)]
    Store(#[from] Error),
}

impl ApiError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            code,
            message: message.into(),
        }
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::RouteNotFound(_) => (StatusCode::NOT_FOUND, "route_not_found"),
            ApiError::MethodNotAllowed { .. } => {
                (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
            }
            ApiError::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code),
            ApiError::BodyTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
            ApiError::Store(Error::NotFound(_)) => (StatusCode::NOT_FOUND, "stream_not_found"),
            ApiError::Store(Error::Conflict(_)) => (StatusCode::CONFLICT, "version_conflict"),
            ApiError::Store(Error::Invalid(invalid)) => invalid_status(invalid),
            ApiError::Store(Error::Infrastructure(infra)) => match infra {
                InfraError::Throttled(_) => (StatusCode::SERVICE_UNAVAILABLE, "throttled"),
                InfraError::Unavailable(_) => {
                    (StatusCode::SERVICE_UNAVAILABLE, "store_unreachable")
                }
                InfraError::Service(_) | InfraError::CorruptItem { .. } => {
                    (StatusCode::SERVICE_UNAVAILABLE, "store_error")
                }
            },
        }
    }

    /// The JSON response: `{"error", "message"}` plus what the kind adds.
    pub fn into_response(self) -> Response<Body> {
        let (status, code) = self.status_and_code();
        let mut body = json!({ "error": code, "message": self.to_string() });
        match &self {
            ApiError::Store(Error::Conflict(conflict)) => {
                body["expected_version"] = super::expected_version_json(conflict.expected);
                body["current_version"] = conflict.current.map_or(Value::Null, Value::from);
                body["partial_replay"] = Value::Bool(conflict.partial_replay);
            }
            ApiError::Store(Error::Infrastructure(infra)) => {
                // The message says what kind; the SDK's error chain goes to the log only.
                tracing::error!(error = ?infra, "DynamoDB request failed");
                body["message"] =
                    Value::from(format!("{infra}; retry after {RETRY_AFTER_SECONDS} s"));
                body["retry_after_seconds"] = Value::from(RETRY_AFTER_SECONDS);
            }
            _ => {}
        }
        let mut response = super::json_response(status, &body);
        match &self {
            ApiError::MethodNotAllowed { allow, .. } => {
                response.headers_mut().insert(
                    ALLOW,
                    HeaderValue::from_str(allow).unwrap_or(HeaderValue::from_static("GET, POST")),
                );
            }
            ApiError::Store(Error::Infrastructure(_)) => {
                response
                    .headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
            }
            _ => {}
        }
        debug_assert!(response.headers().contains_key(CONTENT_TYPE));
        response
    }
}

fn invalid_status(invalid: &InvalidInput) -> (StatusCode, &'static str) {
    use InvalidInput::*;
    match invalid {
        TooManyEvents { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "too_many_events"),
        EventTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "event_too_large"),
        BatchTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "events_too_large"),
        BadCursor { .. } => (StatusCode::BAD_REQUEST, "invalid_cursor"),
        BadLimit { .. } => (StatusCode::BAD_REQUEST, "invalid_limit"),
        ExpectedVersionOutOfRange { .. } => (StatusCode::BAD_REQUEST, "invalid_expected_version"),
        NoEvents
        | EmptyName { .. }
        | NameTooLong { .. }
        | EmptyNote { .. }
        | NoteTooLong { .. }
        | HpChangeOutOfRange { .. }
        | DuplicateEventId { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_event"),
    }
}
