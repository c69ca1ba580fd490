//! The local run's HTTP server: hyper, one task per connection, with the limits a server on a
//! laptop needs so that no client can tie it up.
//!
//! - headers must arrive within [`Limits::header_timeout`] (10 s) of a connection becoming
//!   ready for a request, which also closes a keep-alive connection left idle that long;
//! - a body must arrive within [`Limits::body_timeout`] (10 s), or the answer is 408;
//! - at most [`Limits::max_connections`] (4,096) connections at once, fewer if the open-files
//!   limit is lower (see [`FileBudget`]); past that, a connection is answered 503
//!   (`server_busy`, `Retry-After`) and closed;
//! - on stop, connections are asked to finish and dropped after [`Limits::shutdown_grace`]
//!   (3 s), so the whole run stops within 5 s whatever a client does.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hitpoints_http::{ApiError, ErrorCode, MAX_BODY_BYTES};
use http_body_util::BodyExt;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

/// What no client may exceed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Time for a request's headers, counted from when the connection is ready for one: also
    /// how long a keep-alive connection may sit idle.
    pub header_timeout: Duration,
    /// Time for a request's body, counted from its headers.
    pub body_timeout: Duration,
    /// Connections served at once (lowered to what the open-files limit allows).
    pub max_connections: usize,
    /// How long a stop waits for requests under way before dropping their connections.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            // Well above a thousand idle connections.
            max_connections: 4096,
            shutdown_grace: Duration::from_secs(3),
        }
    }
}

/// Raises the soft limit of open files to the hard limit, so that thousands of connections can
/// be open at once (the usual soft limit of 1,024 is too low). Returns the limit now in force.
pub fn raise_open_files_limit() -> u64 {
    rlimit::increase_nofile_limit(u64::MAX)
        .or_else(|_| rlimit::getrlimit(rlimit::Resource::NOFILE).map(|(soft, _)| soft))
        .unwrap_or(u64::MAX)
}

/// Descriptors the process holds whatever its clients do: stdin, stdout and stderr, two epolls
/// and an eventfd, the signal handler's socket pair (three), the two listeners, the embedded
/// DynamoDB's SQLite files (database, WAL, shared memory) and the two stream positions being
/// saved: 17 at most in /proc/PID/fd of a run on a data directory (12 in memory), the rest
/// room for descriptors inherited from the parent or opened by a newer library.
const FIXED_FILES: u64 = 32;

/// How the open-files limit is shared out, so that no accept, connect or open fails for want
/// of a descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileBudget {
    /// The limit it was made for.
    pub open_files: u64,
    /// Calls to the embedded DynamoDB under way at once, all of the run's SDK clients together
    /// (more wait for one to finish): as many busy connections and at most as many idle ones,
    /// two descriptors each (ours and dynoxide's), so four descriptors per call.
    pub dynamodb_calls: usize,
    /// Connections past the cap answered 503 at once (one descriptor each, for up to 5 s).
    pub refusals: usize,
    /// API connections served at once: one descriptor each, whatever they do, since what a
    /// request costs besides is the bounded DynamoDB connections.
    pub connections: usize,
}

impl FileBudget {
    /// The budget under a limit of `open_files`, with no more than `max_connections` API
    /// connections. At 256 open files: 8 DynamoDB calls, 8 refusals, 184 connections.
    pub fn new(open_files: u64, max_connections: usize) -> FileBudget {
        let dynamodb = (open_files / 32).clamp(2, 32);
        let refusals = (open_files / 32).clamp(1, 64);
        let connections = open_files
            .saturating_sub(FIXED_FILES + 4 * dynamodb + refusals)
            .max(1);
        FileBudget {
            open_files,
            dynamodb_calls: dynamodb as usize,
            refusals: refusals as usize,
            connections: usize::try_from(connections)
                .unwrap_or(usize::MAX)
                .min(max_connections.max(1)),
        }
    }
}

/// Serves `router` on `listener` until `stop` turns true, with at most `budget.connections`
/// connections at once.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    budget: FileBudget,
    mut stop: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(budget.connections));
    let refusals = Arc::new(Semaphore::new(budget.refusals));
    let body_timeout = limits.body_timeout;
    let router = router.layer(axum::middleware::from_fn(move |request, next| {
        read_body_in_time(request, next, body_timeout)
    }));
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = until(&mut stop) => break,
        };
        // Reap finished connections as new ones come.
        while connections.try_join_next().is_some() {}
        let (socket, _) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors, most likely: wait for some to close.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = socket.set_nodelay(true);
        let io = TokioIo::new(socket);
        let mut stopped = stop.clone();
        match slots.clone().try_acquire_owned() {
            Ok(slot) => {
                let service = TowerToHyperService::new(router.clone());
                connections.spawn(async move {
                    let _slot = slot;
                    let connection = http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(limits.header_timeout)
                        .serve_connection(io, service);
                    tokio::pin!(connection);
                    tokio::select! {
                        _ = connection.as_mut() => {}
                        () = until(&mut stopped) => {
                            connection.as_mut().graceful_shutdown();
                            let _ = connection.await;
                        }
                    }
                });
            }
            Err(_) => {
                // Over the cap: one quick answer that says so, then the connection closes;
                // past a few such answers at once, the connection is simply closed.
                let Ok(refusal) = refusals.clone().try_acquire_owned() else {
                    continue;
                };
                connections.spawn(async move {
                    let _refusal = refusal;
                    let busy = hyper::service::service_fn(|_| async {
                        Ok::<_, Infallible>(ApiError::ServerBusy.into_response())
                    });
                    let connection = http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(Duration::from_secs(2))
                        .keep_alive(false)
                        .serve_connection(io, busy);
                    let _ = tokio::time::timeout(Duration::from_secs(5), connection).await;
                });
            }
        }
    }
    drop(listener);
    // Requests under way may finish; then every connection left is dropped.
    let drained = tokio::time::timeout(limits.shutdown_grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            connections = connections.len(),
            "connections still open after the grace period: closed"
        );
        connections.shutdown().await;
    }
}

/// Resolves once `stop` turns true (or its sender is gone).
async fn until(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// Reads a request's whole body within `timeout` before it is routed: a body that
/// stops coming is a 408, one that breaks off or is malformed (bad chunked encoding, shorter
/// than its `Content-Length`) a 400, one too large a 413; each the documented JSON error.
async fn read_body_in_time(
    request: Request,
    next: axum::middleware::Next,
    timeout: Duration,
) -> Response {
    let (parts, body) = request.into_parts();
    let limited = http_body_util::Limited::new(body, MAX_BODY_BYTES);
    let bytes = match tokio::time::timeout(timeout, limited.collect()).await {
        Err(_) => return ApiError::RequestTimeout.into_response(),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            return ApiError::BodyTooLarge {
                max: MAX_BODY_BYTES,
            }
            .into_response()
        }
        Ok(Err(_)) => {
            return ApiError::bad_request(
                ErrorCode::InvalidBody,
                "the request body could not be read to its end: it broke off, or its \
                 chunked encoding or Content-Length is wrong",
            )
            .into_response()
        }
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_open_files_limit_is_shared_out() {
        let budget = |open_files| {
            let b = FileBudget::new(open_files, 4096);
            (b.dynamodb_calls, b.refusals, b.connections)
        };
        // 32 fixed + 4 × 8 + 8 + 184 = 256.
        assert_eq!(budget(256), (8, 8, 184));
        assert_eq!(budget(1024), (32, 32, 832));
        assert_eq!(budget(1 << 20), (32, 64, 4096));
        assert_eq!(budget(u64::MAX), (32, 64, 4096));
        assert_eq!(budget(0), (2, 1, 1), "one connection whatever the limit");
        assert_eq!(FileBudget::new(256, 4).connections, 4);
        for open_files in [64, 100, 256, 300, 1024, 4096, 10_000] {
            let b = FileBudget::new(open_files, usize::MAX);
            let used = FIXED_FILES as usize + 4 * b.dynamodb_calls + b.refusals;
            assert_eq!(used + b.connections, open_files as usize, "{b:?}");
        }
    }
}
