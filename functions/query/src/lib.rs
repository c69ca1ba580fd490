//! The `query` Lambda: the GET routes of the hitpoints HTTP API.

use hitpoints::campaign::members::MemberStore;
use hitpoints::campaign::CampaignStore;
use hitpoints::config::{
    CAMPAIGNS_TABLE_VAR, EVENTS_TABLE_VAR, FEED_TABLE_VAR, MEMBERSHIPS_TABLE_VAR,
    SNAPSHOTS_TABLE_VAR,
};
use hitpoints::feed::FeedStore;
use hitpoints::hp::SnapshotStore;
use hitpoints::metrics::EmfWriter;
use hitpoints::store::EventStore;
use hitpoints_http::metrics::emf_after_each_request;
use hitpoints_http::{Api, Function, Router};

/// The environment variables this function reads at start-up (template.yaml sets them).
pub const REQUIRED_VARS: [&str; 5] = [
    EVENTS_TABLE_VAR,
    SNAPSHOTS_TABLE_VAR,
    FEED_TABLE_VAR,
    CAMPAIGNS_TABLE_VAR,
    MEMBERSHIPS_TABLE_VAR,
];

/// The function's handler: the API's router with this function's routes, writing each
/// request's metrics to `emf` as it answers.
pub fn app(
    store: EventStore,
    snapshots: SnapshotStore,
    feed: FeedStore,
    campaigns: CampaignStore,
    members: MemberStore,
    emf: EmfWriter,
) -> Router {
    let router = Api::new(store)
        .with_snapshots(snapshots)
        .with_feed(feed)
        .with_campaigns(campaigns)
        .with_members(members)
        .with_document(hitpoints_http::openapi::OPENAPI_JSON)
        .with_metrics(emf.metrics().clone())
        .router(Function::Query);
    emf_after_each_request(router, emf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hitpoints::metrics::Metrics;
    use hitpoints_testkit::{call_lambda, unreachable_client};

    /// The entry point's own routing, with sample events from `events/` as API Gateway sends
    /// them (the store behind it is never reached: these are routes this function does not
    /// serve, or its document, and a request that reached the unreachable store would be a 503).
    #[tokio::test]
    async fn routes_it_does_not_serve_are_404_or_405_and_it_serves_its_contract() {
        let client = unreachable_client();
        let app = app(
            EventStore::new(client.clone(), "events"),
            SnapshotStore::new(client.clone(), "snapshots"),
            FeedStore::new(client.clone(), "feed"),
            CampaignStore::new(client.clone(), "campaigns"),
            MemberStore::new(client, "memberships"),
            EmfWriter::buffer(Metrics::new()),
        );
        for (sample, status) in [
            // POST /characters: the path is this function's (GET lists the party).
            (
                include_str!("../../../events/apigw-create-character.json"),
                405,
            ),
            (
                include_str!("../../../events/apigw-append-events.json"),
                405,
            ),
            // Its contract, which needs no table.
            (include_str!("../../../events/apigw-openapi.json"), 200),
            // The screen, with its security headers (which needs no table either).
            (include_str!("../../../events/apigw-get-screen.json"), 200),
        ] {
            let (got, body, headers) = call_lambda(&app, sample).await;
            assert_eq!(got.as_u16(), status, "{body}");
            if headers["content-type"]
                .to_str()
                .is_ok_and(|t| t.starts_with("text/html"))
            {
                assert_eq!(
                    headers["content-security-policy"],
                    hitpoints_http::screen::POLICY
                );
            }
        }
    }
}
