//! The `query` Lambda: the GET routes of the hitpoints HTTP API.

use hitpoints::api::{Api, Function};
use hitpoints::config::{dynamodb_client, required, EVENTS_TABLE_VAR};
use hitpoints::store::EventStore;
use lambda_http::{run, service_fn, Body, Error, Request, Response};

/// One invocation: every outcome, errors included, is a JSON response.
async fn handler(api: &Api, request: Request) -> Result<Response<Body>, Error> {
    Ok(api.handle(request).await)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let table = required(EVENTS_TABLE_VAR)?;
    let api = Api::new(
        EventStore::new(dynamodb_client().await, table),
        Function::Query,
    );
    run(service_fn(|request| handler(&api, request))).await
}
