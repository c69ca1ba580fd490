//! Creating the tables, for the local run and the tests (in AWS, template.yaml creates them).

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    StreamSpecification, StreamViewType,
};
use aws_sdk_dynamodb::Client;

use super::errors::{build, infra};
use super::item::attr;
use crate::error::InfraError;

/// Creates the events table (`Id` S hash, `Version` N range) unless it exists; with
/// `stream` its DynamoDB stream carries new images. Returns whether it created it.
pub async fn create_events_table(
    client: &Client,
    table: &str,
    stream: bool,
) -> Result<bool, InfraError> {
    if exists(client, table).await? {
        return Ok(false);
    }
    let mut request = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute(attr::ID, ScalarAttributeType::S)?)
        .attribute_definitions(attribute(attr::VERSION, ScalarAttributeType::N)?)
        .key_schema(key(attr::ID, KeyType::Hash)?)
        .key_schema(key(attr::VERSION, KeyType::Range)?);
    if stream {
        request = request.stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewImage)
                .build()
                .map_err(build)?,
        );
    }
    created(request.send().await)
}

/// Creates the HP snapshot table (`Id` S hash) unless it exists. Returns whether it created it.
pub async fn create_snapshots_table(client: &Client, table: &str) -> Result<bool, InfraError> {
    if exists(client, table).await? {
        return Ok(false);
    }
    let request = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute(attr::ID, ScalarAttributeType::S)?)
        .key_schema(key(attr::ID, KeyType::Hash)?);
    created(request.send().await)
}

async fn exists(client: &Client, table: &str) -> Result<bool, InfraError> {
    match client.describe_table().table_name(table).send().await {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            Ok(false)
        }
        Err(e) => Err(infra(e)),
    }
}

/// A table created meanwhile by someone else counts as existing.
fn created<T, R>(
    result: Result<
        T,
        aws_sdk_dynamodb::error::SdkError<
            aws_sdk_dynamodb::operation::create_table::CreateTableError,
            R,
        >,
    >,
) -> Result<bool, InfraError>
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
        Err(e) => Err(infra(e)),
    }
}

fn attribute(name: &str, kind: ScalarAttributeType) -> Result<AttributeDefinition, InfraError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(kind)
        .build()
        .map_err(build)
}

fn key(name: &str, kind: KeyType) -> Result<KeySchemaElement, InfraError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .map_err(build)
}
