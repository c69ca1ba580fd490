//! The `query` Lambda's entry point: read the configuration, build the client once, serve.

use hitpoints::campaign::members::MemberStore;
use hitpoints::campaign::CampaignStore;
use hitpoints::config::{dynamodb_client, read};
use hitpoints::feed::FeedStore;
use hitpoints::hp::SnapshotStore;
use hitpoints::metrics::{EmfWriter, Metrics};
use hitpoints::store::EventStore;
use query::{app, Settings, REQUIRED_VARS};

// One thread: a function has a fraction of one core, and one request at a time.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    hitpoints::config::init_logging();
    let [events_table, snapshots_table, feed_table, campaigns_table, memberships_table] =
        read(REQUIRED_VARS)?;
    let client = dynamodb_client()?;
    let app = app(
        EventStore::new(client.clone(), events_table),
        SnapshotStore::new(client.clone(), snapshots_table),
        FeedStore::new(client.clone(), feed_table),
        CampaignStore::new(client.clone(), campaigns_table),
        MemberStore::new(client, memberships_table),
        Settings::read(hitpoints::config::optional)?,
        EmfWriter::stdout(Metrics::new()),
    );
    lambda_http::run(app).await
}
