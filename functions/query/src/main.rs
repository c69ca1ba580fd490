//! The `query` Lambda: the GET routes of the hitpoints HTTP API.

use hitpoints::api::{Api, Function};
use hitpoints::config::{dynamodb_client, required, EVENTS_TABLE_VAR, SNAPSHOTS_TABLE_VAR};
use hitpoints::store::{EventStore, SnapshotStore};
use lambda_http::{run, service_fn, Body, Error, Request, Response};

/// One invocation: every outcome, errors included, is a JSON response.
async fn handler(api: &Api, request: Request) -> Result<Response<Body>, Error> {
    Ok(api.handle(request).await)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let events_table = required(EVENTS_TABLE_VAR)?;
    let snapshots_table = required(SNAPSHOTS_TABLE_VAR)?;
    let client = dynamodb_client().await;
    let api = Api::new(
        EventStore::new(client.clone(), events_table),
        Function::Query,
    )
    .with_snapshots(SnapshotStore::new(client, snapshots_table));
    run(service_fn(|request| handler(&api, request))).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use hitpoints::store::local_client;

    /// The entry point's own routing, with sample events from `events/` (the store behind it
    /// is never reached: these are routes this function does not serve).
    #[tokio::test]
    async fn routes_it_does_not_serve_are_404_or_405() {
        // Nothing listens on the discard port: a request that reached the store would be a 503.
        let store = EventStore::new(local_client("http://127.0.0.1:9"), "events");
        let api = Api::new(store, Function::Query);
        for (sample, status) in [
            (
                include_str!("../../../events/apigw-create-character.json"),
                404,
            ),
            (
                include_str!("../../../events/apigw-append-events.json"),
                405,
            ),
        ] {
            let request = lambda_http::request::from_str(sample).expect("a payload 2.0 event");
            let response = handler(&api, request).await.expect("a response");
            assert_eq!(response.status().as_u16(), status);
        }
    }
}
