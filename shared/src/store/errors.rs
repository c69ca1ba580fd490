//! SDK errors sorted into the store's kinds, with the SDK's error kept as the source.

use std::collections::HashMap;
use std::fmt::Debug;

use aws_sdk_dynamodb::error::{BuildError, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::AttributeValue;
use uuid::Uuid;

use super::item::{attr, EventItem};
use crate::error::InfraError;

const THROTTLING_CODES: [&str; 4] = [
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "TransactionInProgressException",
];

/// Sorts an SDK error: throttling, unreachable, or refused.
pub(crate) fn infra<E, R>(err: SdkError<E, R>) -> InfraError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    let throttled = err.code().is_some_and(|c| THROTTLING_CODES.contains(&c));
    let unreachable = matches!(
        err,
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)
    );
    let source = Box::new(err);
    if throttled {
        InfraError::Throttled(source)
    } else if unreachable {
        InfraError::Unavailable(source)
    } else {
        InfraError::Service(source)
    }
}

/// A cancelled transaction is a conflict when a condition failed, or when another transaction
/// was writing the same item at the same moment (a race the caller lost).
pub(crate) fn is_condition_failure<R>(err: &SdkError<TransactWriteItemsError, R>) -> bool {
    let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
        err.as_service_error()
    else {
        return false;
    };
    cancelled.cancellation_reasons().iter().any(|reason| {
        matches!(
            reason.code(),
            Some("ConditionalCheckFailed" | "TransactionConflict")
        )
    })
}

pub(crate) fn build(err: BuildError) -> InfraError {
    InfraError::Service(Box::new(err))
}

pub(crate) fn corrupt(
    stream: Uuid,
    version: Option<String>,
    err: serde_dynamo::Error,
) -> InfraError {
    InfraError::CorruptItem {
        stream: stream.to_string(),
        version,
        source: Box::new(err),
    }
}

/// Reads an events-table item, naming its keys when it cannot be read.
pub(crate) fn decode_item(item: HashMap<String, AttributeValue>) -> Result<EventItem, InfraError> {
    let key = |name: &str| match item.get(name) {
        Some(AttributeValue::S(s) | AttributeValue::N(s)) => Some(s.clone()),
        _ => None,
    };
    let (stream, version) = (key(attr::ID), key(attr::VERSION));
    serde_dynamo::from_item(item).map_err(|source| InfraError::CorruptItem {
        stream: stream.unwrap_or_default(),
        version,
        source: Box::new(source),
    })
}
