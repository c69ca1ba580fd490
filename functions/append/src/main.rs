//! The `append` Lambda's entry point: read the configuration, build the client once, serve.

use append::{app, REQUIRED_VARS};
use hitpoints::config::{dynamodb_client, read};
use hitpoints::store::EventStore;

// One thread: a function has a fraction of one core, and one request at a time.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    hitpoints::config::init_logging();
    let [events_table] = read(REQUIRED_VARS)?;
    let store = EventStore::new(dynamodb_client()?, events_table);
    lambda_http::run(app(store)).await
}
