//! The Dungeon Master's screen: a page of plain HTML, CSS and JavaScript, built into the local
//! run's binary and served beside the API. It uses the documented API only.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use hitpoints::metrics::Metrics;

const INDEX: &str = include_str!("../web/index.html");
const SCRIPT: &str = include_str!("../web/app.js");
const STYLE: &str = include_str!("../web/app.css");
const DOCS: &str = include_str!("../web/docs.html");
const DOCS_SCRIPT: &str = include_str!("../web/docs.js");
const DOCS_STYLE: &str = include_str!("../web/docs.css");

/// The screen at `/`, `/app.js` and `/app.css`; the API's document rendered at `/docs`,
/// `/docs.js` and `/docs.css` (it reads the API's own `/openapi.json`). Everything else is the
/// API's.
pub fn router() -> Router {
    Router::new()
        .route("/", get(|| file("text/html; charset=utf-8", INDEX)))
        .route(
            "/app.js",
            get(|| file("text/javascript; charset=utf-8", SCRIPT)),
        )
        .route("/app.css", get(|| file("text/css; charset=utf-8", STYLE)))
        .route("/docs", get(|| file("text/html; charset=utf-8", DOCS)))
        .route(
            "/docs.js",
            get(|| file("text/javascript; charset=utf-8", DOCS_SCRIPT)),
        )
        .route(
            "/docs.css",
            get(|| file("text/css; charset=utf-8", DOCS_STYLE)),
        )
}

async fn file(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    // Built into the binary: a new build is a new page, so no cache outlives the process.
    (
        [(CONTENT_TYPE, content_type), (CACHE_CONTROL, "no-cache")],
        body,
    )
}

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

/// The page's weight: its three files, in bytes, as served (uncompressed).
pub fn weight() -> usize {
    INDEX.len() + SCRIPT.len() + STYLE.len()
}
