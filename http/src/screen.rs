//! The Dungeon Master's screen: plain HTML, CSS and JavaScript built into the binary, served by
//! the query function (on AWS, on routes without authorisation: the page itself holds no data)
//! and by the local run, on the API's own origin, so the page's calls need no CORS. It uses the
//! documented API only.
//!
//! Every file is answered with security headers: a Content-Security-Policy that allows only the
//! page's own scripts, styles and connections (no inline script or style; no page may frame
//! it), `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer`.

use axum::http::header::{
    HeaderValue, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY,
    X_CONTENT_TYPE_OPTIONS,
};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::error::ApiError;

/// What the page may load and connect to: its own files and its own API, nothing inline (images:
/// only the empty `data:` icon that spares a request for `/favicon.ico`).
pub const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                          connect-src 'self'; img-src data:; base-uri 'none'; \
                          form-action 'self'; frame-ancestors 'none'";

/// The screen's files: path, content type, content. The screen at `/`, `/app.js` and
/// `/app.css`; the API's document rendered at `/docs`, `/docs.js` and `/docs.css` (it reads the
/// API's own `/openapi.json`).
pub const FILES: [(&str, &str, &str); 6] = [
    (
        "/",
        "text/html; charset=utf-8",
        include_str!("../web/index.html"),
    ),
    (
        "/app.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/app.js"),
    ),
    (
        "/app.css",
        "text/css; charset=utf-8",
        include_str!("../web/app.css"),
    ),
    (
        "/docs",
        "text/html; charset=utf-8",
        include_str!("../web/docs.html"),
    ),
    (
        "/docs.js",
        "text/javascript; charset=utf-8",
        include_str!("../web/docs.js"),
    ),
    (
        "/docs.css",
        "text/css; charset=utf-8",
        include_str!("../web/docs.css"),
    ),
];

/// The screen's routes, each answering its file with the security headers.
pub(crate) fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    FILES
        .iter()
        .fold(Router::new(), |router, &(path, content_type, body)| {
            let methods = get(move || async move { file(content_type, body) }).fallback(
                |method: Method| async move {
                    ApiError::MethodNotAllowed {
                        method,
                        allow: "GET".to_owned(),
                    }
                },
            );
            router.route(path, methods)
        })
}

fn file(content_type: &'static str, body: &'static str) -> Response {
    // Built into the binary: a new build is a new page, so no cache outlives the process.
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// The screen's weight: its three files, in bytes, as served (uncompressed).
pub fn weight() -> usize {
    FILES[..3].iter().map(|(_, _, body)| body.len()).sum()
}
