//! What the API counts, read off each response as it leaves: the error's code (the one
//! error-to-response mapping marks it), the events an append wrote and whether it was a replay
//! (the append's answer marks it), and whether a waiting feed read ended with an event.

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use hitpoints::metrics::{EmfWriter, Metric, Metrics};

use crate::routes::{Function, ROUTES};
use crate::wire::ErrorCode;

/// An answer that wrote events, or replayed them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Written {
    pub events: usize,
    pub replayed: bool,
}

/// A conditional feed read answered 304.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NotModified;

/// A feed read that waited for an event.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Waited {
    pub answered: bool,
}

impl Function {
    /// Its name as a metric's `Function` dimension (the Lambda's name).
    pub fn metric_name(self) -> &'static str {
        match self {
            Function::Append => "append",
            Function::Query => "query",
            Function::All => "api",
        }
    }
}

/// Counts one request under the function serving it: a Lambda's own name, or in the local run
/// (which serves every route) the function the route table gives the route (`api` for a
/// request no route takes).
pub(crate) async fn record(
    State((metrics, serving)): State<(Metrics, Function)>,
    request: Request,
    next: Next,
) -> Response {
    let function = match serving {
        Function::All => request
            .extensions()
            .get::<MatchedPath>()
            .and_then(|path| route_function(path.as_str(), request.method()))
            .unwrap_or(serving),
        lambda => lambda,
    }
    .metric_name();
    let response = next.run(request).await;
    metrics.add(function, Metric::Requests, 1);
    if let Some(written) = response.extensions().get::<Written>() {
        if written.replayed {
            metrics.add(function, Metric::Replays, 1);
        } else {
            metrics.add(function, Metric::Appends, 1);
            metrics.add(function, Metric::EventsWritten, written.events as u64);
        }
    }
    if let Some(waited) = response.extensions().get::<Waited>() {
        metrics.add(function, Metric::FeedWaits, 1);
        metrics.add(
            function,
            Metric::FeedWaitsAnswered,
            u64::from(waited.answered),
        );
    }
    if response.extensions().get::<NotModified>().is_some() {
        metrics.add(function, Metric::FeedNotModified, 1);
    }
    if let Some(code) = response.extensions().get::<ErrorCode>() {
        let metric = match code.status().as_u16() {
            409 => Metric::Conflicts,
            422 => Metric::Refusals,
            500.. => Metric::ServerErrors,
            _ => Metric::ClientErrors,
        };
        metrics.add_outcome(function, metric, &code.text(), 1);
    }
    response
}

fn route_function(path: &str, method: &Method) -> Option<Function> {
    let path = path
        .strip_suffix('/')
        .filter(|p| !p.is_empty())
        .unwrap_or(path);
    ROUTES
        .iter()
        .find(|r| r.path == path && r.method == *method)
        .map(|r| r.function)
}

/// A deployed function's router: what each request counted is written as Embedded Metric Format
/// lines before its answer goes back (one invocation, one flush).
pub fn emf_after_each_request(router: Router, writer: EmfWriter) -> Router {
    router.layer(middleware::map_response(move |response: Response| {
        writer.flush();
        async move { response }
    }))
}
