//! The `append` Lambda's entry point: read the configuration, build the client once, serve.

use append::{app, REQUIRED_VARS};
use hitpoints::config::{dynamodb_client, read};
use hitpoints::store::EventStore;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let [events_table] = read(REQUIRED_VARS)?;
    let store = EventStore::new(dynamodb_client().await, events_table);
    lambda_http::run(app(store)).await
}
