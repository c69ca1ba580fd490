//! The HTTP API of hitpoints: one route table, one axum [`Router`] built from it, one mapping
//! of errors to responses. The `append` and `query` Lambdas serve their parts of the table
//! through `lambda_http::run(router)`; the local run serves all of it with `axum::serve`.
//!
//! ```no_run
//! # async fn example(store: hitpoints::store::EventStore) {
//! use hitpoints_http::{Api, Function};
//! let router = Api::new(store).router(Function::Append);
//! # let _ = router;
//! # }
//! ```

mod access;
pub mod caller;
mod campaigns;
pub mod commands;
mod error;
mod extract;
mod handlers;
pub mod metrics;
pub mod openapi;
mod routes;
pub mod screen;
pub mod wire;

use std::sync::Arc;

pub use axum::Router;
use hitpoints::access::{Action, Caller};
use hitpoints::campaign::members::MemberStore;
use hitpoints::campaign::{Campaign, CampaignError, CampaignStore};
use hitpoints::domain::DEFAULT_CAMPAIGN;
use hitpoints::feed::FeedStore;
use hitpoints::hp::SnapshotStore;
use hitpoints::metrics::Metrics;
use hitpoints::store::EventStore;
use uuid::Uuid;

pub use error::ApiError;
pub use routes::{Function, Route, ROUTES};
pub use screen::SignIn;
pub use wire::{ErrorCode, DEFAULT_PAGE_SIZE, MAX_BODY_BYTES};

/// What the handlers need: built once per process, shared by every request.
#[derive(Debug, Clone)]
pub struct Api {
    store: EventStore,
    snapshots: Option<SnapshotStore>,
    feed: Option<FeedStore>,
    campaigns: Option<CampaignStore>,
    members: Option<MemberStore>,
    sign_in: Option<SignIn>,
    max_wait_seconds: u64,
    document: Option<&'static str>,
    metrics: Option<Metrics>,
}

impl Api {
    pub fn new(store: EventStore) -> Api {
        Api {
            store,
            snapshots: None,
            feed: None,
            campaigns: None,
            members: None,
            sign_in: None,
            max_wait_seconds: hitpoints::feed::MAX_WAIT_SECONDS,
            document: None,
            metrics: None,
        }
    }

    /// Answers `GET /characters/{id}` from the snapshot table when it has the character.
    pub fn with_snapshots(mut self, snapshots: SnapshotStore) -> Api {
        self.snapshots = Some(snapshots);
        self
    }

    /// Serves `GET /events` from the feed table.
    pub fn with_feed(mut self, feed: FeedStore) -> Api {
        self.feed = Some(feed);
        self
    }

    /// Serves the campaign routes, and creates characters in campaigns, from the campaigns
    /// table.
    pub fn with_campaigns(mut self, campaigns: CampaignStore) -> Api {
        self.campaigns = Some(campaigns);
        self
    }

    pub(crate) fn campaigns(&self) -> Result<&CampaignStore, ApiError> {
        self.campaigns.as_ref().ok_or(ApiError::NoCampaignTable)
    }

    /// Tells the screen where people sign in (see [`screen`](mod@screen)).
    pub fn with_sign_in(mut self, sign_in: SignIn) -> Api {
        self.sign_in = Some(sign_in);
        self
    }

    /// Waits at most `seconds` (at most the API's own bound) for a feed read's `wait`: the
    /// answer is the same as a wait that ran out, sooner.
    pub fn with_max_wait(mut self, seconds: u64) -> Api {
        self.max_wait_seconds = seconds.min(hitpoints::feed::MAX_WAIT_SECONDS);
        self
    }

    /// Decides who belongs to which campaign from the memberships table.
    pub fn with_members(mut self, members: MemberStore) -> Api {
        self.members = Some(members);
        self
    }

    pub(crate) fn members(&self) -> Result<&MemberStore, ApiError> {
        self.members.as_ref().ok_or(ApiError::NoMembersTable)
    }

    /// The campaign a character is created in or moved to: the one its body names, which must
    /// exist and be the caller's to manage, or the default campaign (no read). To a person, a
    /// campaign they do not manage is one that does not exist.
    pub(crate) async fn campaign_of_new(
        &self,
        caller: &Caller,
        id: Option<Uuid>,
    ) -> Result<Campaign, ApiError> {
        let named = id.unwrap_or(DEFAULT_CAMPAIGN);
        self.allow(caller, named, &Action::Manage, || {
            CampaignError::Unknown(named).into()
        })
        .await?;
        match id {
            None => Ok(Campaign::default_campaign()),
            Some(id) if id == DEFAULT_CAMPAIGN => Ok(Campaign::default_campaign()),
            Some(id) => Ok(self.campaigns()?.existing(id).await?),
        }
    }

    /// Serves `GET /openapi.json`: [`openapi::OPENAPI_JSON`]. Given only where that route is
    /// served, so the append function does not carry a document it never sends.
    pub fn with_document(mut self, document: &'static str) -> Api {
        self.document = Some(document);
        self
    }

    /// Counts every request in `metrics` (see [`metrics`](mod@metrics)).
    pub fn with_metrics(mut self, metrics: Metrics) -> Api {
        self.metrics = Some(metrics);
        self
    }

    /// The routes `function` serves, ready to be served.
    pub fn router(self, function: Function) -> Router {
        routes::router(Arc::new(self), function)
    }
}
