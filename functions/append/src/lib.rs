//! The `append` Lambda: the POST routes of the hitpoints HTTP API.

use hitpoints::campaign::CampaignStore;
use hitpoints::config::{CAMPAIGNS_TABLE_VAR, EVENTS_TABLE_VAR};
use hitpoints::store::EventStore;
use hitpoints_http::{Api, Function, Router};

/// The environment variables this function reads at start-up (template.yaml sets them).
pub const REQUIRED_VARS: [&str; 2] = [EVENTS_TABLE_VAR, CAMPAIGNS_TABLE_VAR];

/// The function's handler: the API's router with this function's routes.
pub fn app(store: EventStore, campaigns: CampaignStore) -> Router {
    Api::new(store)
        .with_campaigns(campaigns)
        .router(Function::Append)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hitpoints_testkit::{call_lambda, unreachable_client};

    /// The entry point's own routing, with sample events from `events/` as API Gateway sends
    /// them (the store behind it is never reached: these are routes this function does not
    /// serve, and a request that reached the unreachable store would be a 503).
    #[tokio::test]
    async fn routes_it_does_not_serve_are_404_or_405() {
        let client = unreachable_client();
        let app = app(
            EventStore::new(client.clone(), "events"),
            CampaignStore::new(client, "campaigns"),
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
    }
}
