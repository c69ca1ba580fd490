//! The `query` Lambda: the GET routes of the hitpoints HTTP API.

use hitpoints::campaign::members::MemberStore;
use hitpoints::campaign::CampaignStore;
use hitpoints::config::{
    CAMPAIGNS_TABLE_VAR, EVENTS_TABLE_VAR, FEED_MAX_WAIT_VAR, FEED_TABLE_VAR,
    MEMBERSHIPS_TABLE_VAR, SIGN_IN_CLIENT_ID_VAR, SIGN_IN_DOMAIN_VAR, SNAPSHOTS_TABLE_VAR,
};
use hitpoints::feed::FeedStore;
use hitpoints::hp::SnapshotStore;
use hitpoints::metrics::EmfWriter;
use hitpoints::store::EventStore;
use hitpoints_http::metrics::emf_after_each_request;
use hitpoints_http::{Api, Function, Router, SignIn};

/// The environment variables this function reads at start-up (template.yaml sets them).
pub const REQUIRED_VARS: [&str; 5] = [
    EVENTS_TABLE_VAR,
    SNAPSHOTS_TABLE_VAR,
    FEED_TABLE_VAR,
    CAMPAIGNS_TABLE_VAR,
    MEMBERSHIPS_TABLE_VAR,
];

/// The environment variables this function reads when they are set: where people sign in,
/// and the longest a feed read waits here.
pub const OPTIONAL_VARS: [&str; 3] = [SIGN_IN_DOMAIN_VAR, SIGN_IN_CLIENT_ID_VAR, FEED_MAX_WAIT_VAR];

/// What this function reads from [`OPTIONAL_VARS`].
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub sign_in: Option<SignIn>,
    pub max_wait_seconds: Option<u64>,
}

/// A setting that is there but cannot be used: the function does not start.
#[derive(Debug, thiserror::Error)]
pub enum BadSetting {
    #[error("{SIGN_IN_DOMAIN_VAR} and {SIGN_IN_CLIENT_ID_VAR} are set both or neither: {0}")]
    SignIn(String),
    #[error("{FEED_MAX_WAIT_VAR} must be a whole number of seconds from 0 to 10")]
    MaxWait,
}

impl Settings {
    /// Reads [`OPTIONAL_VARS`] through `var` (the environment, in `main`).
    pub fn read(var: impl Fn(&str) -> Option<String>) -> Result<Settings, BadSetting> {
        let sign_in = match (var(SIGN_IN_DOMAIN_VAR), var(SIGN_IN_CLIENT_ID_VAR)) {
            (None, None) => None,
            (Some(domain), Some(client)) => {
                Some(SignIn::new(&domain, &client).map_err(|e| BadSetting::SignIn(e.to_string()))?)
            }
            _ => return Err(BadSetting::SignIn("only one is set".to_owned())),
        };
        let max_wait_seconds = var(FEED_MAX_WAIT_VAR)
            .map(|v| match v.trim().parse::<u64>() {
                Ok(seconds) if seconds <= hitpoints::feed::MAX_WAIT_SECONDS => Ok(seconds),
                _ => Err(BadSetting::MaxWait),
            })
            .transpose()?;
        Ok(Settings {
            sign_in,
            max_wait_seconds,
        })
    }
}

/// The function's handler: the API's router with this function's routes, writing each
/// request's metrics to `emf` as it answers.
pub fn app(
    store: EventStore,
    snapshots: SnapshotStore,
    feed: FeedStore,
    campaigns: CampaignStore,
    members: MemberStore,
    settings: Settings,
    emf: EmfWriter,
) -> Router {
    let mut api = Api::new(store);
    if let Some(sign_in) = settings.sign_in {
        api = api.with_sign_in(sign_in);
    }
    if let Some(seconds) = settings.max_wait_seconds {
        api = api.with_max_wait(seconds);
    }
    let router = api
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
            Settings::default(),
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

#[cfg(test)]
mod settings {
    use super::*;

    #[test]
    fn optional_settings_are_read_or_refused() {
        let none = Settings::read(|_| None).expect("none is fine");
        assert!(none.sign_in.is_none() && none.max_wait_seconds.is_none());
        let all = Settings::read(|var| match var {
            SIGN_IN_DOMAIN_VAR => Some("https://hp-1.auth.eu-west-1.amazoncognito.com".into()),
            SIGN_IN_CLIENT_ID_VAR => Some("3n4b5urk1ft4fl3mg5e62d9ado".into()),
            FEED_MAX_WAIT_VAR => Some("3".into()),
            _ => None,
        })
        .expect("all set");
        assert!(all.sign_in.is_some());
        assert_eq!(all.max_wait_seconds, Some(3));
        for (domain, client, wait) in [
            (Some("https://a.example"), None, None),
            (Some("https://a.example; script-src *"), Some("abc"), None),
            (Some("http://evil.example"), Some("abc"), None),
            (None, None, Some("11")),
            (None, None, Some("soon")),
        ] {
            let read = Settings::read(|var| match var {
                SIGN_IN_DOMAIN_VAR => domain.map(String::from),
                SIGN_IN_CLIENT_ID_VAR => client.map(String::from),
                FEED_MAX_WAIT_VAR => wait.map(String::from),
                _ => None,
            });
            assert!(read.is_err(), "{domain:?} {client:?} {wait:?}");
        }
    }
}
