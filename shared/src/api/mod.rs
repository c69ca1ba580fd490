//! The HTTP API: one route table and one set of handlers, served by the `append` and `query`
//! Lambdas (each its own part of the table) and by the local run (all of it).
//!
//! Requests are routed on method and path, not on API Gateway's path parameters, so the same
//! code serves API Gateway (HTTP API, payload 2.0) and a plain HTTP server.

mod error;
mod request;

pub use request::{DEFAULT_PAGE_SIZE, MAX_BODY_BYTES};

use lambda_http::http::header::{HeaderValue, CONTENT_TYPE, LOCATION};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

pub use error::ApiError;
use request::{parse_append, parse_new_event, parse_read, Query};

use crate::domain::{ExpectedVersion, RecordedEvent};
use crate::store::{Appended, EventStore, SnapshotStore};

/// Which part of the route table a process serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// The `append` Lambda: the POST routes.
    Append,
    /// The `query` Lambda: the GET routes.
    Query,
    /// The local run: every route.
    All,
}

impl Function {
    fn serves(self, route: &RouteDef) -> bool {
        self == Function::All || self == route.function
    }
}

/// The paths the API knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Characters,
    Character,
    Events,
}

/// One row of the route table.
#[derive(Debug)]
pub struct RouteDef {
    pub method: Method,
    /// The path as API Gateway writes it, e.g. `/characters/{id}/events`.
    pub path: &'static str,
    pub function: Function,
    endpoint: Endpoint,
}

/// The route table: every route, and the function that serves it.
pub const ROUTES: [RouteDef; 4] = [
    RouteDef {
        method: Method::POST,
        path: "/characters",
        function: Function::Append,
        endpoint: Endpoint::Characters,
    },
    RouteDef {
        method: Method::POST,
        path: "/characters/{id}/events",
        function: Function::Append,
        endpoint: Endpoint::Events,
    },
    RouteDef {
        method: Method::GET,
        path: "/characters/{id}/events",
        function: Function::Query,
        endpoint: Endpoint::Events,
    },
    RouteDef {
        method: Method::GET,
        path: "/characters/{id}",
        function: Function::Query,
        endpoint: Endpoint::Character,
    },
];

/// What the handlers need: built once per process, shared by every request.
#[derive(Debug, Clone)]
pub struct Api {
    store: EventStore,
    snapshots: Option<SnapshotStore>,
    function: Function,
}

impl Api {
    pub fn new(store: EventStore, function: Function) -> Api {
        Api {
            store,
            snapshots: None,
            function,
        }
    }

    /// Answers `GET /characters/{id}` from the snapshot table when it has the character.
    pub fn with_snapshots(mut self, snapshots: SnapshotStore) -> Api {
        self.snapshots = Some(snapshots);
        self
    }

    /// Answers one request. Never fails and never panics: every error is a JSON response.
    pub async fn handle(&self, request: Request) -> Response<Body> {
        let method = request.method().clone();
        let path = request.uri().path().to_string();
        let response = match self.dispatch(request).await {
            Ok(response) => response,
            Err(error) => error.into_response(),
        };
        tracing::info!(%method, %path, status = response.status().as_u16(), "request");
        response
    }

    async fn dispatch(&self, request: Request) -> Result<Response<Body>, ApiError> {
        let path = request.uri().path();
        let trimmed = path.strip_suffix('/').unwrap_or(path);
        let segments: Vec<&str> = trimmed.split('/').skip(1).collect();
        let (endpoint, id) = match segments.as_slice() {
            ["characters"] => (Endpoint::Characters, None),
            ["characters", id] if !id.is_empty() => (Endpoint::Character, Some(*id)),
            ["characters", id, "events"] if !id.is_empty() => (Endpoint::Events, Some(*id)),
            _ => return Err(ApiError::RouteNotFound(path.to_string())),
        };
        let candidates: Vec<&RouteDef> = ROUTES
            .iter()
            .filter(|r| r.endpoint == endpoint && self.function.serves(r))
            .collect();
        if candidates.is_empty() {
            return Err(ApiError::RouteNotFound(path.to_string()));
        }
        let Some(route) = candidates.iter().find(|r| r.method == request.method()) else {
            let allow: Vec<&str> = candidates.iter().map(|r| r.method.as_str()).collect();
            return Err(ApiError::MethodNotAllowed {
                method: request.method().to_string(),
                allow: allow.join(", "),
            });
        };
        let stream = id.map(parse_id).transpose()?;
        let query = Query::parse(request.uri().query())?;
        match (route.method.clone(), route.endpoint, stream) {
            (Method::POST, Endpoint::Characters, _) => {
                query.expect_only(&[])?;
                self.create_character(request.body()).await
            }
            (Method::POST, Endpoint::Events, Some(stream)) => {
                query.expect_only(&[])?;
                self.append_events(stream, request.body()).await
            }
            (Method::GET, Endpoint::Events, Some(stream)) => self.read_events(stream, query).await,
            (Method::GET, Endpoint::Character, Some(stream)) => {
                query.expect_only(&["consistent"])?;
                let consistent = parse_consistent(query.get("consistent"))?;
                self.character(stream, consistent).await
            }
            _ => Err(ApiError::RouteNotFound(path.to_string())),
        }
    }

    /// `POST /characters`: a new stream whose first event is the body. With an `event_id`, the
    /// stream's id is derived from it, so a retry finds the character it created.
    async fn create_character(&self, body: &Body) -> Result<Response<Body>, ApiError> {
        let event = parse_new_event(body)?;
        let stream = match event.event_id {
            Some(event_id) => Uuid::new_v5(&CHARACTER_ID_NAMESPACE, event_id.as_bytes()),
            None => Uuid::new_v4(),
        };
        let appended = self
            .store
            .append(stream, ExpectedVersion::NoStream, vec![event])
            .await?;
        let mut response = appended_response(stream, appended);
        if let Ok(location) = HeaderValue::from_str(&format!("/characters/{stream}")) {
            response.headers_mut().insert(LOCATION, location);
        }
        Ok(response)
    }

    /// `POST /characters/{id}/events`.
    async fn append_events(&self, stream: Uuid, body: &Body) -> Result<Response<Body>, ApiError> {
        let (expected, events) = parse_append(body)?;
        let appended = self.store.append(stream, expected, events).await?;
        Ok(appended_response(stream, appended))
    }

    /// `GET /characters/{id}/events`.
    async fn read_events(&self, stream: Uuid, query: Query) -> Result<Response<Body>, ApiError> {
        let read = parse_read(stream, &query)?;
        let page = self.store.read(stream, read).await?;
        Ok(json_response(
            StatusCode::OK,
            &json!({
                "id": stream,
                "events": page.events,
                "next_cursor": page.next.map(|c| c.encode()),
            }),
        ))
    }

    /// `GET /characters/{id}`: one read of the snapshot table; the fold of the events when there
    /// is no snapshot yet, or when the caller asks for `consistent=true`.
    async fn character(&self, stream: Uuid, consistent: bool) -> Result<Response<Body>, ApiError> {
        let snapshot = match (&self.snapshots, consistent) {
            (Some(snapshots), false) => snapshots.get(stream, false).await?,
            _ => None,
        };
        let (name, hp, version, source) = match snapshot {
            Some(s) => (s.character_name, s.hit_points, s.version, "snapshot"),
            None => {
                let state = self.store.character(stream).await?;
                (state.character_name, state.hp, state.version, "events")
            }
        };
        Ok(json_response(
            StatusCode::OK,
            &json!({
                "id": stream,
                "character_name": name,
                "hp": hp,
                "version": version,
                "source": source,
            }),
        ))
    }
}

/// The namespace of character ids derived from a creating event's id.
const CHARACTER_ID_NAMESPACE: Uuid = Uuid::from_u128(0x6869_7470_6f69_6e74_7300_0000_0000_0001);

fn parse_consistent(value: Option<&str>) -> Result<bool, ApiError> {
    match value {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(ApiError::bad_request(
            "invalid_consistent",
            format!("consistent must be true or false, got {other:?}"),
        )),
    }
}

fn parse_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::try_parse(id).map_err(|_| {
        ApiError::bad_request(
            "invalid_id",
            format!("{id:?} is not a character id: ids are uuids such as 6f1c2a9e-0b7d-4c3e-9a51-2d8f4e6b7c10"),
        )
    })
}

#[derive(Serialize)]
struct AppendedBody<'a> {
    id: Uuid,
    events: &'a [RecordedEvent],
}

/// 201 for events written now, 200 for a replay of events written before.
fn appended_response(stream: Uuid, appended: Appended) -> Response<Body> {
    let status = if appended.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    json_response(
        status,
        &AppendedBody {
            id: stream,
            events: &appended.events,
        },
    )
}

fn json_response(status: StatusCode, body: &impl Serialize) -> Response<Body> {
    let text = serde_json::to_string(body).unwrap_or_else(|_| "{}".to_string());
    let mut response = Response::new(Body::Text(text));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn expected_version_json(expected: ExpectedVersion) -> Value {
    match expected {
        ExpectedVersion::Any => Value::from("any"),
        ExpectedVersion::NoStream => Value::from("no_stream"),
        ExpectedVersion::Exact(v) => Value::from(v),
    }
}
