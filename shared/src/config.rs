//! Configuration read from the environment, once, at start-up.

/// The events table's name.
pub const EVENTS_TABLE_VAR: &str = "HITPOINTS_EVENTS_TABLE";
/// The HP snapshot table's name.
pub const SNAPSHOTS_TABLE_VAR: &str = "HITPOINTS_SNAPSHOTS_TABLE";

/// A required variable is missing or empty.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {0} must name a table")]
pub struct MissingVar(pub &'static str);

/// The value of a required variable.
pub fn required(var: &'static str) -> Result<String, MissingVar> {
    match std::env::var(var) {
        Ok(value) if !value.trim().is_empty() => Ok(value),
        _ => Err(MissingVar(var)),
    }
}

/// The DynamoDB client of a deployed function, configured from its environment (region,
/// credentials, and `AWS_ENDPOINT_URL_DYNAMODB` to point it at a local server). Build it once.
#[cfg(feature = "lambda")]
pub async fn dynamodb_client() -> aws_sdk_dynamodb::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    aws_sdk_dynamodb::Client::new(&config)
}
