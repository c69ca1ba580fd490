//! The local run's DynamoDB: a client for a DynamoDB-API server on this machine, and the tables
//! (in AWS, template.yaml creates them). The tests use both through `hitpoints-testkit`.

use aws_sdk_dynamodb::error::{BuildError, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    StreamSpecification, StreamViewType,
};
use aws_sdk_dynamodb::Client;
use aws_types::SdkConfig;

use hitpoints::store::item::attr;

/// A table could not be created or described.
#[derive(Debug, thiserror::Error)]
#[error("DynamoDB refused to create table {table}")]
pub struct TableError {
    pub table: String,
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

fn table_error(table: &str, source: impl std::error::Error + Send + Sync + 'static) -> TableError {
    TableError {
        table: table.to_owned(),
        source: Box::new(source),
    }
}

/// The SDK configuration for a DynamoDB-API server at `endpoint` (dynoxide, DynamoDB Local):
/// the fixed region and credentials such servers want. Deployed functions use `aws-config`.
pub fn local_sdk_config(endpoint: &str) -> SdkConfig {
    use aws_sdk_dynamodb::config::{
        BehaviorVersion, Credentials, Region, SharedCredentialsProvider,
    };
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .http_client(hitpoints::store::https_client())
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "local",
            "local",
            None,
            None,
            "hitpoints-local",
        )))
        .build()
}

/// A DynamoDB client for a DynamoDB-API server at `endpoint`.
pub fn local_client(endpoint: &str) -> Client {
    Client::new(&local_sdk_config(endpoint))
}

/// Creates the events table (`Id` S hash, `Version` N range) unless it exists; with
/// `stream` its DynamoDB stream carries new images. Returns whether it created it.
pub async fn create_events_table(
    client: &Client,
    table: &str,
    stream: bool,
) -> Result<bool, TableError> {
    if exists(client, table).await? {
        return Ok(false);
    }
    let mut request = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute(table, attr::ID, ScalarAttributeType::S)?)
        .attribute_definitions(attribute(table, attr::VERSION, ScalarAttributeType::N)?)
        .key_schema(key(table, attr::ID, KeyType::Hash)?)
        .key_schema(key(table, attr::VERSION, KeyType::Range)?);
    if stream {
        request = request.stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewImage)
                .build()
                .map_err(|e| table_error(table, e))?,
        );
    }
    created(table, request.send().await)
}

/// Creates the HP snapshot table (`Id` S hash) unless it exists. Returns whether it created it.
pub async fn create_snapshots_table(client: &Client, table: &str) -> Result<bool, TableError> {
    if exists(client, table).await? {
        return Ok(false);
    }
    let request = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute(table, attr::ID, ScalarAttributeType::S)?)
        .key_schema(key(table, attr::ID, KeyType::Hash)?);
    created(table, request.send().await)
}

/// Creates the feed table (`Key` S hash, `Position` N range) unless it exists. Returns whether
/// it created it.
pub async fn create_feed_table(client: &Client, table: &str) -> Result<bool, TableError> {
    if exists(client, table).await? {
        return Ok(false);
    }
    let request = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute(table, "Key", ScalarAttributeType::S)?)
        .attribute_definitions(attribute(table, "Position", ScalarAttributeType::N)?)
        .key_schema(key(table, "Key", KeyType::Hash)?)
        .key_schema(key(table, "Position", KeyType::Range)?);
    created(table, request.send().await)
}

async fn exists(client: &Client, table: &str) -> Result<bool, TableError> {
    match client.describe_table().table_name(table).send().await {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            Ok(false)
        }
        Err(e) => Err(table_error(table, e)),
    }
}

/// A table created meanwhile by someone else counts as existing.
fn created<T, R>(
    table: &str,
    result: Result<T, SdkError<aws_sdk_dynamodb::operation::create_table::CreateTableError, R>>,
) -> Result<bool, TableError>
where
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_in_use_exception()) =>
        {
            Ok(false)
        }
        Err(e) => Err(table_error(table, e)),
    }
}

fn attribute(
    table: &str,
    name: &str,
    kind: ScalarAttributeType,
) -> Result<AttributeDefinition, TableError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(kind)
        .build()
        .map_err(|e: BuildError| table_error(table, e))
}

fn key(table: &str, name: &str, kind: KeyType) -> Result<KeySchemaElement, TableError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .map_err(|e: BuildError| table_error(table, e))
}
