//! Extractors whose rejections are the API's own JSON errors: path ids, query parameters and
//! JSON bodies, each parsed once into the types the handlers take.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use hitpoints::domain::parse_hyphenated_uuid;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::error::ApiError;
use crate::wire::{ErrorCode, MAX_BODY_BYTES};

/// The `{id}` of a path: a character's uuid.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CharacterId(pub(crate) Uuid);

impl<S: Send + Sync> FromRequestParts<S> for CharacterId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        path_uuid(parts, state, "character").await.map(CharacterId)
    }
}

/// The campaign's id in the path (`/campaigns/{id}`), as a hyphenated uuid.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CampaignId(pub(crate) Uuid);

impl<S: Send + Sync> FromRequestParts<S> for CampaignId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        path_uuid(parts, state, "campaign").await.map(CampaignId)
    }
}

/// The route's one path parameter, a uuid naming `what`.
async fn path_uuid<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
    what: &str,
) -> Result<Uuid, ApiError> {
    // An empty segment (`/characters//events`) names nothing: no such route.
    let id = match path_param(parts, state, "id").await {
        Some(id) if !id.is_empty() => id,
        _ => return Err(ApiError::RouteNotFound(parts.uri.path().to_owned())),
    };
    parse_hyphenated_uuid(&id).ok_or_else(|| {
        ApiError::bad_request(
            ErrorCode::InvalidId,
            format!(
                "{id:?} is not a {what} id: ids are uuids such as \
                 6f1c2a9e-0b7d-4c3e-9a51-2d8f4e6b7c10"
            ),
        )
    })
}

/// The path parameter `name`, decoded.
async fn path_param<S: Send + Sync>(parts: &mut Parts, state: &S, name: &str) -> Option<String> {
    let Path(mut params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
        .await
        .ok()?;
    params.remove(name)
}

/// The `{sub}` of a member's path: a person's identity, as their identity provider wrote it.
#[derive(Debug, Clone)]
pub(crate) struct MemberSub(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for MemberSub {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match path_param(parts, state, "sub").await {
            Some(sub)
                if !sub.trim().is_empty()
                    && sub.chars().count() <= hitpoints::campaign::members::MAX_SUB_CHARS =>
            {
                Ok(MemberSub(sub))
            }
            _ => Err(ApiError::MemberNotFound),
        }
    }
}

/// The query string as `T`: each parameter at most once, none unknown, each of its type.
#[derive(Debug)]
pub(crate) struct Params<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(Params)
            .map_err(|e| {
                let field = e.path().to_string();
                let inner = e.into_inner().to_string();
                let code = if inner.starts_with("unknown field") {
                    ErrorCode::UnknownParameter
                } else if inner.starts_with("duplicate field") {
                    ErrorCode::InvalidParameter
                } else {
                    ErrorCode::for_field(&field).unwrap_or(ErrorCode::InvalidParameter)
                };
                let message = match code {
                    ErrorCode::UnknownParameter => {
                        format!("query parameter not known here: {inner}")
                    }
                    ErrorCode::InvalidParameter => {
                        format!(
                            "a query parameter is given more than once or is not valid: {inner}"
                        )
                    }
                    code => format!("{}: {inner}", code.expectation()),
                };
                ApiError::bad_request(code, message)
            })
    }
}

/// A JSON body as `T`, read whatever the `Content-Type` says, at most [`MAX_BODY_BYTES`].
#[derive(Debug)]
pub(crate) struct JsonBody<T>(pub(crate) T);

/// A body that is there, as bytes, not yet read as any type (for a route that takes one of
/// several bodies).
#[derive(Debug)]
pub(crate) struct RawBody(pub(crate) Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = body_bytes(request, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::bad_request(
                ErrorCode::MissingBody,
                "the request needs a JSON body",
            ));
        }
        Ok(RawBody(bytes))
    }
}

/// A JSON body as `T`, or `T::default()` when the request has none.
#[derive(Debug)]
pub(crate) struct OptionalJsonBody<T>(pub(crate) T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalJsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = body_bytes(request, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJsonBody(T::default()));
        }
        parse_json(&bytes).map(OptionalJsonBody)
    }
}

/// The request's body, at most [`MAX_BODY_BYTES`].
async fn body_bytes<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::BodyTooLarge {
                    max: MAX_BODY_BYTES,
                }
            } else {
                ApiError::bad_request(
                    ErrorCode::InvalidBody,
                    "the request body could not be read to its end",
                )
            }
        })
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let RawBody(bytes) = RawBody::from_request(request, state).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// `bytes` as JSON of `T`; what does not parse is a 400 naming the field.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let parsed = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        let code = if !inner.is_data() {
            ErrorCode::MalformedJson
        } else if inner.to_string().starts_with("unknown field") {
            // The path then names the unknown key, which may share a parameter's name.
            ErrorCode::InvalidBody
        } else {
            ErrorCode::for_field(&field).unwrap_or(ErrorCode::InvalidBody)
        };
        let message = match code {
            ErrorCode::InvalidExpectedVersion => {
                format!("{}: {inner}", code.expectation())
            }
            _ if field == "." => format!("the JSON body cannot be read: {inner}"),
            _ => format!("the JSON body cannot be read: {field}: {inner}"),
        };
        ApiError::bad_request(code, message)
    })?;
    deserializer.end().map_err(|e| {
        ApiError::bad_request(
            ErrorCode::MalformedJson,
            format!("the JSON body cannot be read: {e}"),
        )
    })?;
    Ok(parsed)
}
