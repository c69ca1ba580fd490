//! The Dungeon Master's screen: plain HTML, CSS and JavaScript built into the binary, served by
//! the query function (on AWS, on routes without authorisation: the page itself holds no data)
//! and by the local run, on the API's own origin, so the page's calls need no CORS. It uses the
//! documented API only.
//!
//! Every file is answered with security headers: a Content-Security-Policy that allows only the
//! page's own scripts, styles and connections (no inline script or style; no page may frame
//! it), `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer`.

use std::sync::{Arc, OnceLock};

use axum::body::Bytes;
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

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// The screen's files: path, content type, source. The screen at `/`, its ES modules (the
/// routes and the feed, the views, the chart, the rules' words and commands, the players, the
/// sign-in, the API client, building elements) and `/app.css`; the API's document rendered at
/// `/docs`, `/docs.js` and `/docs.css` (it reads the API's own `/openapi.json`).
pub const FILES: [(&str, &str, &str); 17] = [
    ("/", HTML, include_str!("../web/index.html")),
    ("/app.js", JS, include_str!("../web/app.js")),
    ("/page.js", JS, include_str!("../web/page.js")),
    ("/campaigns.js", JS, include_str!("../web/campaigns.js")),
    ("/party.js", JS, include_str!("../web/party.js")),
    ("/character.js", JS, include_str!("../web/character.js")),
    ("/chart.js", JS, include_str!("../web/chart.js")),
    ("/rules.js", JS, include_str!("../web/rules.js")),
    ("/commands.js", JS, include_str!("../web/commands.js")),
    ("/members.js", JS, include_str!("../web/members.js")),
    ("/signin.js", JS, include_str!("../web/signin.js")),
    ("/api.js", JS, include_str!("../web/api.js")),
    ("/dom.js", JS, include_str!("../web/dom.js")),
    ("/app.css", CSS, include_str!("../web/app.css")),
    ("/docs", HTML, include_str!("../web/docs.html")),
    ("/docs.js", JS, include_str!("../web/docs.js")),
    ("/docs.css", CSS, include_str!("../web/docs.css")),
];

/// A file as served: a script or a style without the lines that are only a comment, and without
/// indentation. The source keeps them for its readers; the browser has no use for them. No
/// string in these files spans lines (a template literal that did would lose its indentation).
pub fn served(path: &str, source: &str) -> String {
    let comment = |line: &str| match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("js") => line.starts_with("//"),
        // One comment, alone on its line.
        Some("css") => line.starts_with("/*") && line.find("*/") == Some(line.len() - 2),
        _ => false,
    };
    // HTML as it is: its whitespace may be content.
    if !matches!(path.rsplit_once('.'), Some((_, "js" | "css"))) {
        return source.to_owned();
    }
    source
        .lines()
        .map(str::trim_start)
        .filter(|line| !line.is_empty() && !comment(line))
        .flat_map(|line| [line, "\n"])
        .collect()
}

/// Where the screen reads how people sign in here (no data: no authorisation).
pub const SIGN_IN_PATH: &str = "/sign-in.json";

/// Where people sign in: an OAuth 2.0 authorization server with Cognito's endpoints
/// (`/oauth2/authorize`, `/oauth2/token`, `/logout`) and the public app client the screen uses
/// (the authorization-code flow with PKCE; no secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignIn {
    /// The server's origin, e.g. `https://hitpoints-….auth.eu-west-1.amazoncognito.com`; empty:
    /// the screen's own origin (the local run's dev issuer).
    domain: String,
    client_id: String,
}

/// A sign-in configuration that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the sign-in domain must be an origin such as https://name.auth.eu-west-1.amazoncognito.com, and the client id letters and digits")]
pub struct BadSignIn;

impl SignIn {
    /// `domain`: an `https://` origin (or `http://127.0.0.1:…` / `http://localhost:…`), or empty
    /// for this origin; it goes into the pages' Content-Security-Policy, so nothing else is
    /// accepted.
    pub fn new(domain: &str, client_id: &str) -> Result<SignIn, BadSignIn> {
        let domain = domain.trim_end_matches('/');
        let host = domain.strip_prefix("https://").or_else(|| {
            domain
                .strip_prefix("http://")
                .filter(|h| h.starts_with("127.0.0.1:") || h.starts_with("localhost:"))
        });
        let origin_ok = domain.is_empty()
            || host.is_some_and(|h| {
                !h.is_empty()
                    && h.chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
            });
        let client_ok = !client_id.is_empty()
            && client_id.len() <= 128
            && client_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if origin_ok && client_ok {
            Ok(SignIn {
                domain: domain.to_owned(),
                client_id: client_id.to_owned(),
            })
        } else {
            Err(BadSignIn)
        }
    }

    /// What `/sign-in.json` answers.
    fn body(&self) -> serde_json::Value {
        let d = &self.domain;
        serde_json::json!({
            "required": true,
            "authorize": format!("{d}/oauth2/authorize"),
            "token": format!("{d}/oauth2/token"),
            "logout": format!("{d}/logout"),
            "client_id": self.client_id,
        })
    }
}

/// The pages' policy: [`POLICY`], and the sign-in server's token endpoint among the connections.
fn policy(sign_in: Option<&SignIn>) -> String {
    match sign_in.filter(|s| !s.domain.is_empty()) {
        Some(s) => POLICY.replace(
            "connect-src 'self'",
            &format!("connect-src 'self' {}", s.domain),
        ),
        None => POLICY.to_owned(),
    }
}

/// The screen's routes, each answering its file with the security headers, and its sign-in
/// configuration.
pub(crate) fn router<S: Clone + Send + Sync + 'static>(sign_in: Option<&SignIn>) -> Router<S> {
    let policy = HeaderValue::from_str(&policy(sign_in))
        .unwrap_or_else(|_| HeaderValue::from_static(POLICY));
    let config = sign_in.map_or_else(|| serde_json::json!({"required": false}), SignIn::body);
    let config = OnceLock::from(Bytes::from(config.to_string()));
    // A file is made ready on its first request, not at start-up: most cold starts serve none.
    FILES
        .iter()
        .map(|&(path, content_type, source)| (path, content_type, source, OnceLock::new()))
        .chain([(SIGN_IN_PATH, "application/json", "", config)])
        .fold(
            Router::new(),
            |router, (path, content_type, source, body)| {
                let policy = policy.clone();
                let body = Arc::new(body);
                let methods = get(move || async move {
                    let body = body.get_or_init(|| Bytes::from(served(path, source)));
                    file(content_type, body.clone(), policy)
                })
                .fallback(|method: Method| async move {
                    ApiError::MethodNotAllowed {
                        method,
                        allow: "GET".to_owned(),
                    }
                });
                router.route(path, methods)
            },
        )
}

fn file(content_type: &'static str, body: Bytes, policy: HeaderValue) -> Response {
    // Built into the binary: a new build is a new page, so no cache outlives the process.
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(CONTENT_SECURITY_POLICY, policy);
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// The screen's weight: its page, modules and style (not the API's document), in bytes, as
/// served (uncompressed).
pub fn weight() -> usize {
    FILES
        .iter()
        .filter(|(path, _, _)| !path.starts_with("/docs"))
        .map(|&(path, _, source)| served(path, source).len())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn served_files_drop_comment_lines_and_indentation_only() {
        let js = "// why\nconst a = 1;\n  // indented why\n  const url = \"http://x\"; // kept\n\n";
        assert_eq!(
            served("/a.js", js),
            "const a = 1;\nconst url = \"http://x\"; // kept\n"
        );
        let css = "/* why */\na { b: c; }\n  /* more */\n  d { e: f; }\n";
        assert_eq!(served("/a.css", css), "a { b: c; }\nd { e: f; }\n");
        // A line with code between two comments is code.
        let mixed = "/* a */ b { c: d; } /* e */\n";
        assert_eq!(served("/a.css", mixed), mixed);
        // HTML is served as written: its whitespace may be content.
        let html = "<pre>\n  // text\n</pre>\n";
        assert_eq!(served("/", html), html);
    }

    #[test]
    fn no_template_literal_spans_lines() {
        // A template literal over two lines would lose the second line's indentation: every
        // line of every module opens as many as it closes.
        for (path, _, source) in FILES.iter().filter(|(p, _, _)| p.ends_with(".js")) {
            for (number, line) in source.lines().enumerate() {
                let mut open: Option<char> = None;
                let mut chars = line.trim_start().chars();
                while let Some(c) = chars.next() {
                    match (open, c) {
                        (None, '/') if chars.clone().next() == Some('/') => break,
                        (None, '\'' | '"' | '`') => open = Some(c),
                        (Some(_), '\\') => _ = chars.next(),
                        (Some(quote), c) if c == quote => open = None,
                        _ => {}
                    }
                }
                assert_eq!(open, None, "{path}:{}", number + 1);
            }
        }
    }

    #[test]
    fn the_screen_weighs_at_most_60_kb() {
        let weight = weight();
        assert!(weight <= 60_000, "the screen weighs {weight} bytes");
        assert!(
            weight > 10_000,
            "the screen's files are missing: {weight} bytes"
        );
    }
}
