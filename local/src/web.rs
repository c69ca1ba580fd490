//! What the local run serves besides the API and the screen (both are the HTTP crate's): its
//! metrics, as Prometheus text.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::routing::get;
use axum::Router;
use hitpoints::metrics::Metrics;

/// What the run counted since it started (the API, the projector, the indexer), at `/metrics`
/// in Prometheus's text format: the figures the functions publish to CloudWatch on AWS.
pub fn metrics_router(metrics: Metrics) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let text = metrics.prometheus();
            async move {
                (
                    [
                        (CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8"),
                        (CACHE_CONTROL, "no-store"),
                    ],
                    text,
                )
            }
        }),
    )
}
