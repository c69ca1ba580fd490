//! DynamoDB's idioms, each written once for every table: SDK errors sorted into the store's
//! kinds (whether a retry can cure them; what can be said without DynamoDB's message text,
//! which quotes the request), a failed condition, a cancelled transaction, and a Query followed
//! across its pages.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::time::SystemTime;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{BuildError, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::RequestId;
use aws_sdk_dynamodb::primitives::{DateTime, DateTimeFormat};
use aws_sdk_dynamodb::types::AttributeValue;

use crate::error::{Error, InfraError, SdkFailure};

/// An item as the SDK reads and writes it.
pub(crate) type Item = HashMap<String, AttributeValue>;

/// The HTTP client of every DynamoDB client here: hyper with rustls on ring, trusting the
/// system's roots (`SSL_CERT_FILE` and `SSL_CERT_DIR` as OpenSSL reads them). Ring starts with
/// no per-process entropy collection, where the SDK's default (aws-lc) spends tens of
/// milliseconds of CPU in the first TLS handshake; ring offers no post-quantum key exchange.
pub fn https_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// Now, in RFC 3339 UTC, as `RecordedAt` and `UpdatedAt` are written.
pub(crate) fn now() -> Option<String> {
    DateTime::from(SystemTime::now())
        .fmt(DateTimeFormat::DateTime)
        .ok()
}

/// A conditional write's result: `Ok(true)` written, `Ok(false)` its condition failed.
pub(crate) fn condition_held<T, E>(
    operation: &'static str,
    result: Result<T, SdkError<E, HttpResponse>>,
) -> Result<bool, InfraError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error().and_then(ProvideErrorMetadata::code)
                == Some("ConditionalCheckFailedException") =>
        {
            Ok(false)
        }
        Err(e) => Err(infra(operation, e)),
    }
}

/// Why a transaction wrote nothing, when the caller can act on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lost {
    /// A condition failed.
    Condition,
    /// Another transaction was writing one of the items at the same moment: try again.
    Race(SdkFailure),
}

/// A `TransactWriteItems` call's result: `Ok(Ok(()))` written, `Ok(Err(lost))` when it lost a
/// condition or a race, and the other failures sorted into the store's kinds.
pub(crate) fn transacted<T>(
    result: Result<T, SdkError<TransactWriteItemsError, HttpResponse>>,
) -> Result<Result<(), Lost>, InfraError> {
    const OPERATION: &str = "TransactWriteItems";
    let Err(e) = result else {
        return Ok(Ok(()));
    };
    let cancelled = cancellation(&e);
    let (failure, answered) = sdk_failure(OPERATION, &e);
    match cancelled {
        Some(Cancelled::ConditionFailed) => Ok(Err(Lost::Condition)),
        Some(Cancelled::TransactionConflict) => Ok(Err(Lost::Race(failure))),
        Some(Cancelled::Throttled) => Err(InfraError::Throttled(failure)),
        Some(Cancelled::Rejected) => Err(InfraError::Rejected(failure)),
        None => Err(classify(failure, answered)),
    }
}

/// Sends `query` page by page, following `LastEvaluatedKey` across DynamoDB's 1 MB pages, and
/// hands each item to `visit` until it breaks or the items end. `limit` says how many items the
/// next page should ask for (`None`: a whole page), from what is kept in `state`.
pub(crate) async fn query_pages<S>(
    query: QueryFluentBuilder,
    state: &mut S,
    mut limit: impl FnMut(&mut S) -> Option<usize>,
    mut visit: impl FnMut(&mut S, Item) -> Result<ControlFlow<()>, Error>,
) -> Result<(), Error> {
    let mut start_key = None;
    loop {
        let output = query
            .clone()
            .set_limit(limit(state).map(|l| i32::try_from(l.max(1)).unwrap_or(i32::MAX)))
            .set_exclusive_start_key(start_key.take())
            .send()
            .await
            .map_err(|e| infra("Query", e))?;
        for item in output.items.unwrap_or_default() {
            if visit(state, item)?.is_break() {
                return Ok(());
            }
        }
        match output.last_evaluated_key {
            Some(key) if !key.is_empty() => start_key = Some(key),
            _ => return Ok(()),
        }
    }
}

/// Error codes of throttling: a retry later can succeed.
const THROTTLING_CODES: [&str; 5] = [
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "TransactionInProgressException",
    "LimitExceededException",
];
/// Error codes of a failure on DynamoDB's side: a retry can succeed.
const SERVER_CODES: [&str; 2] = ["InternalServerError", "ServiceUnavailable"];

/// Sorts a failure: throttling; another transaction on the same item; no answer, a timeout or a
/// server error (5xx); or a refusal of the request itself (4xx), which a retry cannot cure.
pub(crate) fn classify(failure: SdkFailure, answered: bool) -> InfraError {
    let code = failure.code.as_str();
    if THROTTLING_CODES.contains(&code) {
        InfraError::Throttled(failure)
    } else if code == "TransactionConflictException" {
        InfraError::Contended(failure)
    } else if !answered || SERVER_CODES.contains(&code) || failure.status.is_some_and(|s| s >= 500)
    {
        InfraError::Unavailable(failure)
    } else {
        InfraError::Rejected(failure)
    }
}

/// What can be said of an SDK error without its message: its code, status and request id;
/// and whether DynamoDB answered at all.
pub(crate) fn sdk_failure<E>(
    operation: &'static str,
    err: &SdkError<E, HttpResponse>,
) -> (SdkFailure, bool)
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let (code, answered) = match err {
        SdkError::ServiceError(_) => (err.code().unwrap_or("unknown error"), true),
        SdkError::ResponseError(_) => ("unreadable response", false),
        SdkError::TimeoutError(_) => ("timeout", false),
        SdkError::DispatchFailure(_) => ("dispatch failure", false),
        // A request the SDK could not build: ours, and permanent.
        _ => ("construction failure", true),
    };
    let failure = SdkFailure {
        operation,
        code: code.to_owned(),
        status: err.raw_response().map(|r| r.status().as_u16()),
        request_id: err.request_id().map(str::to_owned),
    };
    (failure, answered)
}

/// Sorts an SDK error into the store's kinds, keeping its code, status and request id only.
pub(crate) fn infra<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> InfraError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let (failure, answered) = sdk_failure(operation, &err);
    classify(failure, answered)
}

/// What a cancelled transaction came to, from its reasons taken one by one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cancelled {
    /// A condition failed: a version was taken, or the expected last version is missing.
    ConditionFailed,
    /// Another transaction was writing one of the items at the same moment: try again.
    TransactionConflict,
    /// Throttled: a retry later can succeed.
    Throttled,
    /// Anything else (a validation error, an item collection over its size): permanent.
    Rejected,
}

/// Reads the reasons of a cancelled transaction, one per action (`None` or `"None"`: that
/// action was fine). A failed condition decides it, whatever else happened: the append lost.
pub(crate) fn cancelled<'a>(reasons: impl IntoIterator<Item = Option<&'a str>>) -> Cancelled {
    let mut outcome = None;
    for code in reasons.into_iter().flatten() {
        let this = match code {
            "None" => continue,
            "ConditionalCheckFailed" => return Cancelled::ConditionFailed,
            "TransactionConflict" => Cancelled::TransactionConflict,
            "ThrottlingError" | "ProvisionedThroughputExceeded" | "RequestLimitExceeded" => {
                Cancelled::Throttled
            }
            _ => Cancelled::Rejected,
        };
        // Permanent outweighs transient; a conflict outweighs throttling.
        outcome = Some(match (outcome, this) {
            (Some(Cancelled::Rejected), _) | (_, Cancelled::Rejected) => Cancelled::Rejected,
            (Some(Cancelled::TransactionConflict), _) | (_, Cancelled::TransactionConflict) => {
                Cancelled::TransactionConflict
            }
            _ => this,
        });
    }
    outcome.unwrap_or(Cancelled::Rejected)
}

/// The reasons of a cancelled transaction, if that is what `err` is.
pub(crate) fn cancellation(
    err: &SdkError<TransactWriteItemsError, HttpResponse>,
) -> Option<Cancelled> {
    let TransactWriteItemsError::TransactionCanceledException(exception) =
        err.as_service_error()?
    else {
        return None;
    };
    Some(cancelled(
        exception.cancellation_reasons().iter().map(|r| r.code()),
    ))
}

pub(crate) fn build(operation: &'static str, _: BuildError) -> InfraError {
    InfraError::Rejected(SdkFailure {
        operation,
        code: "construction failure".to_owned(),
        status: None,
        request_id: None,
    })
}

/// An item under `key` that cannot be converted with serde_dynamo.
pub(crate) fn corrupt(key: impl std::fmt::Display, err: &serde_dynamo::Error) -> InfraError {
    InfraError::corrupt(key, None, without_quotes(&err.to_string()))
}

/// serde's messages quote the values they could not read (`invalid type: string "…"`), which
/// may be a name or a note: keep the message's shape, drop what it quotes.
pub(crate) fn without_quotes(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut quoted = false;
    let mut chars = message.chars();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            // serde writes strings with escapes: `\"` inside is not the end.
            (true, '\\') => {
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, _) => {}
            (false, '"') => {
                out.push_str("\"…\"");
                quoted = true;
            }
            (false, c) => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_sorted_by_whether_a_retry_can_cure_them() {
        let kind = |code: &str, status: Option<u16>, answered: bool| {
            let failure = SdkFailure {
                operation: "PutItem",
                code: code.to_owned(),
                status,
                request_id: None,
            };
            classify(failure, answered).kind_name()
        };
        assert_eq!(kind("ThrottlingException", Some(400), true), "throttled");
        assert_eq!(
            kind("ProvisionedThroughputExceededException", Some(400), true),
            "throttled"
        );
        assert_eq!(
            kind("TransactionConflictException", Some(400), true),
            "contended"
        );
        assert_eq!(kind("InternalServerError", Some(500), true), "unavailable");
        assert_eq!(kind("whatever", Some(503), true), "unavailable");
        assert_eq!(kind("timeout", None, false), "unavailable");
        assert_eq!(kind("ValidationException", Some(400), true), "rejected");
        assert_eq!(
            kind("ResourceNotFoundException", Some(400), true),
            "rejected"
        );
        assert_eq!(kind("AccessDeniedException", Some(400), true), "rejected");
    }

    #[test]
    fn a_cancelled_transaction_is_read_reason_by_reason() {
        use Cancelled::{ConditionFailed, Rejected, Throttled, TransactionConflict};
        let read = |codes: &[Option<&str>]| cancelled(codes.iter().copied());
        assert_eq!(
            read(&[Some("None"), Some("ConditionalCheckFailed")]),
            ConditionFailed
        );
        assert_eq!(
            read(&[Some("TransactionConflict"), Some("ConditionalCheckFailed")]),
            ConditionFailed
        );
        assert_eq!(
            read(&[None, Some("TransactionConflict"), Some("None")]),
            TransactionConflict
        );
        assert_eq!(read(&[Some("ThrottlingError")]), Throttled);
        assert_eq!(
            read(&[Some("ThrottlingError"), Some("TransactionConflict")]),
            TransactionConflict
        );
        assert_eq!(
            read(&[Some("ValidationError"), Some("TransactionConflict")]),
            Rejected
        );
        assert_eq!(read(&[Some("ItemCollectionSizeLimitExceeded")]), Rejected);
        // No reason at all: nothing says a retry would help.
        assert_eq!(read(&[]), Rejected);
        assert_eq!(read(&[Some("None")]), Rejected);
    }

    #[test]
    fn decoding_errors_do_not_quote_values() {
        assert_eq!(
            without_quotes(r#"invalid type: string "Nuru's secret", expected i64"#),
            r#"invalid type: string "…", expected i64"#
        );
        assert_eq!(
            without_quotes("missing field `Note`"),
            "missing field `Note`"
        );
    }
}
