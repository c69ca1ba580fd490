//! Configuration read from the environment, once, at start-up. Each function declares the
//! variables it needs in one constant (`REQUIRED_VARS`), reads them with [`read`] and fails fast
//! on any that is missing; the template test compares those constants with `template.yaml`.

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

/// The values of `vars`, in their order; the first one missing stops it.
///
/// ```
/// # use hitpoints::config::{read, MissingVar};
/// const REQUIRED_VARS: [&str; 1] = ["HITPOINTS_DOC_EXAMPLE_UNSET"];
/// assert!(matches!(read(REQUIRED_VARS), Err(MissingVar("HITPOINTS_DOC_EXAMPLE_UNSET"))));
/// ```
pub fn read<const N: usize>(vars: [&'static str; N]) -> Result<[String; N], MissingVar> {
    let mut values: [String; N] = std::array::from_fn(|_| String::new());
    for (value, var) in values.iter_mut().zip(vars) {
        *value = required(var)?;
    }
    Ok(values)
}

/// The DynamoDB client of a deployed function, configured from its environment (region,
/// credentials, and `AWS_ENDPOINT_URL_DYNAMODB` to point it at a local server). Build it once.
/// Feature `aws-config`: the local run and the tests configure their clients themselves.
#[cfg(feature = "aws-config")]
pub async fn dynamodb_client() -> aws_sdk_dynamodb::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    aws_sdk_dynamodb::Client::new(&config)
}
