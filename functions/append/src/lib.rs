//! The `append` Lambda: the POST routes of the hitpoints HTTP API.

use hitpoints::campaign::members::MemberStore;
use hitpoints::campaign::CampaignStore;
use hitpoints::config::{CAMPAIGNS_TABLE_VAR, EVENTS_TABLE_VAR, MEMBERSHIPS_TABLE_VAR};
use hitpoints::metrics::EmfWriter;
use hitpoints::store::EventStore;
use hitpoints_http::metrics::emf_after_each_request;
use hitpoints_http::{Api, Function, Router};

/// The environment variables this function reads at start-up (template.yaml sets them).
pub const REQUIRED_VARS: [&str; 3] = [EVENTS_TABLE_VAR, CAMPAIGNS_TABLE_VAR, MEMBERSHIPS_TABLE_VAR];

/// The function's handler: the API's router with this function's routes, writing each
/// request's metrics to `emf` as it answers.
pub fn app(
    store: EventStore,
    campaigns: CampaignStore,
    members: MemberStore,
    emf: EmfWriter,
) -> Router {
    let router = Api::new(store)
        .with_campaigns(campaigns)
        .with_members(members)
        .with_metrics(emf.metrics().clone())
        .router(Function::Append);
    emf_after_each_request(router, emf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hitpoints::metrics::Metrics;
    use hitpoints_testkit::{call_lambda, emf_documents, emf_value, unreachable_client};

    /// The entry point's own routing, with sample events from `events/` as API Gateway sends
    /// them (the store behind it is never reached: these are routes this function does not
    /// serve, and a request that reached the unreachable store would be a 503).
    #[tokio::test]
    async fn routes_it_does_not_serve_are_404_or_405() {
        let client = unreachable_client();
        let emf = EmfWriter::buffer(Metrics::new());
        let app = app(
            EventStore::new(client.clone(), "events"),
            CampaignStore::new(client.clone(), "campaigns"),
            MemberStore::new(client, "memberships"),
            emf.clone(),
        );
        for (sample, status) in [
            (
                include_str!("../../../events/apigw-get-character.json"),
                404,
            ),
            (include_str!("../../../events/apigw-read-events.json"), 405),
        ] {
            let (got, body, _) = call_lambda(&app, sample).await;
            assert_eq!(got.as_u16(), status, "{body}");
        }
        // One flush per request, each a document CloudWatch takes.
        let documents = emf_documents(&emf.lines());
        let value = |metric, outcome| emf_value(&documents, "append", metric, outcome);
        assert_eq!(value("Requests", None), 2.0);
        assert_eq!(value("ClientErrors", Some("route_not_found")), 1.0);
        assert_eq!(value("ClientErrors", Some("method_not_allowed")), 1.0);
        // Per request: one document by function, one by function and outcome.
        assert_eq!(documents.len(), 4, "{documents:?}");
    }
}
