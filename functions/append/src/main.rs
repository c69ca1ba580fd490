//! The `append` Lambda's entry point: read the configuration, build the client once, serve.

use append::{app, REQUIRED_VARS};
use hitpoints::campaign::members::MemberStore;
use hitpoints::campaign::CampaignStore;
use hitpoints::config::{dynamodb_client, read};
use hitpoints::metrics::{EmfWriter, Metrics};
use hitpoints::store::EventStore;

// One thread: a function has a fraction of one core, and one request at a time.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    hitpoints::config::init_logging();
    let [events_table, campaigns_table, memberships_table] = read(REQUIRED_VARS)?;
    let client = dynamodb_client()?;
    let store = EventStore::new(client.clone(), events_table);
    let campaigns = CampaignStore::new(client.clone(), campaigns_table);
    let members = MemberStore::new(client, memberships_table);
    let emf = EmfWriter::stdout(Metrics::new());
    lambda_http::run(app(store, campaigns, members, emf)).await
}
