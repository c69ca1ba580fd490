//! Configuration read from the environment, once, at start-up. Each function declares the
//! variables it needs in one constant (`REQUIRED_VARS`), reads them with [`read`] and fails fast
//! on any that is missing; the template test compares those constants with `template.yaml`.
//!
//! The DynamoDB client of a deployed function ([`dynamodb_client`]) is built from the
//! environment Lambda gives every function (region, credentials) without aws-config's provider
//! chains, which probe for files, profiles and metadata endpoints a function does not have.

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::Client;

/// The events table's name.
pub const EVENTS_TABLE_VAR: &str = "HITPOINTS_EVENTS_TABLE";
/// The HP snapshot table's name.
pub const SNAPSHOTS_TABLE_VAR: &str = "HITPOINTS_SNAPSHOTS_TABLE";
/// The campaigns table's name.
pub const CAMPAIGNS_TABLE_VAR: &str = "HITPOINTS_CAMPAIGNS_TABLE";
/// The memberships table: who is the DM or a player of which campaign.
pub const MEMBERSHIPS_TABLE_VAR: &str = "HITPOINTS_MEMBERSHIPS_TABLE";
/// Where people sign in (the query function's, optional): the Cognito domain's base URL, e.g.
/// `https://hitpoints-….auth.eu-west-1.amazoncognito.com`, whose `/oauth2/authorize`,
/// `/oauth2/token` and `/logout` the screen uses.
pub const SIGN_IN_DOMAIN_VAR: &str = "HITPOINTS_SIGN_IN_DOMAIN";
/// The user pool's app client the screen signs in with (optional, with the domain).
pub const SIGN_IN_CLIENT_ID_VAR: &str = "HITPOINTS_SIGN_IN_CLIENT_ID";
/// The longest a feed read may wait for a new event, in seconds (optional; at most 10, the
/// API's own bound). On Lambda a waiting request holds an execution environment, so the
/// template sets a shorter one.
pub const FEED_MAX_WAIT_VAR: &str = "HITPOINTS_FEED_MAX_WAIT_SECONDS";

/// The variable that names the feed table.
pub const FEED_TABLE_VAR: &str = "HITPOINTS_FEED_TABLE";

/// A required variable is missing or empty.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {0} must be set")]
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

/// Logs to stdout as Lambda's advanced logging controls ask: the level from
/// `AWS_LAMBDA_LOG_LEVEL` (else `RUST_LOG`, a level only; else INFO), JSON lines when
/// `AWS_LAMBDA_LOG_FORMAT` is `JSON`. (lambda_runtime's own set-up does the same with an
/// `EnvFilter`, which links regex engines a function has no use for.)
pub fn init_logging() {
    use tracing_subscriber::filter::LevelFilter;
    let level = optional("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|| optional("RUST_LOG"))
        .and_then(|level| level.parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO);
    let logs = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_target(false)
        .without_time();
    let json = optional("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json"));
    let installed = if json {
        tracing::subscriber::set_global_default(logs.json().finish())
    } else {
        tracing::subscriber::set_global_default(logs.finish())
    };
    if installed.is_err() {
        tracing::warn!("a logger was installed already");
    }
}

/// The value of an optional variable: `None` when it is unset or blank.
pub fn optional(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|v| !v.trim().is_empty())
}

/// The DynamoDB client of a deployed function, from the variables Lambda sets: `AWS_REGION`,
/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`; and
/// `AWS_ENDPOINT_URL_DYNAMODB` (or `AWS_ENDPOINT_URL`) to point it at another server, as the
/// SDK reads them. HTTPS through [`crate::store::https_client`]. Build it once, in `main`.
pub fn dynamodb_client() -> Result<Client, MissingVar> {
    let region = optional("AWS_REGION")
        .or_else(|| optional("AWS_DEFAULT_REGION"))
        .ok_or(MissingVar("AWS_REGION"))?;
    let credentials = Credentials::new(
        required("AWS_ACCESS_KEY_ID")?,
        required("AWS_SECRET_ACCESS_KEY")?,
        optional("AWS_SESSION_TOKEN"),
        None,
        "environment",
    );
    let mut config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region))
        .credentials_provider(credentials)
        .http_client(crate::store::https_client());
    if let Some(endpoint) =
        optional("AWS_ENDPOINT_URL_DYNAMODB").or_else(|| optional("AWS_ENDPOINT_URL"))
    {
        config = config.endpoint_url(endpoint);
    }
    Ok(Client::from_conf(config.build()))
}
