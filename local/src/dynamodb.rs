//! The local run's DynamoDB: a client for a DynamoDB-API server on this machine, and the tables
//! (in AWS, template.yaml creates them). The tests use both through `hitpoints-testkit`.

use aws_sdk_dynamodb::config::SharedHttpClient;
use aws_sdk_dynamodb::error::{BuildError, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, CreateGlobalSecondaryIndexAction, GlobalSecondaryIndex,
    GlobalSecondaryIndexUpdate, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, StreamSpecification, StreamViewType, TableDescription,
};
use aws_sdk_dynamodb::Client;
use aws_types::SdkConfig;

use hitpoints::hp::table::{BY_CAMPAIGN, CAMPAIGN_ID};
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
    sdk_config(endpoint, hitpoints::store::https_client())
}

/// [`local_sdk_config`] with another HTTP client, such as [`bounded_http_client`].
pub fn sdk_config(endpoint: &str, http_client: SharedHttpClient) -> SdkConfig {
    use aws_sdk_dynamodb::config::{
        BehaviorVersion, Credentials, Region, SharedCredentialsProvider,
    };
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .http_client(http_client)
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

/// A plain-HTTP client for a DynamoDB-API server on this machine with at most
/// `max_exchanges` calls under way at once, however many come (a call past the bound waits for
/// one to finish), and at most as many idle connections kept: so never more than twice that
/// many connections open. Every SDK client given it shares the bound. Each connection costs two
/// file descriptors when the server is in-process (ours and its); this is what keeps the local
/// run within its open-files limit. A connection to 127.0.0.1 connects or is refused at once, so
/// the SDK's connect timeout is not applied.
pub fn bounded_http_client(max_exchanges: usize) -> SharedHttpClient {
    bounded::client(max_exchanges)
}

mod bounded {
    use std::sync::Arc;

    use aws_sdk_dynamodb::config::SharedHttpClient;
    use aws_smithy_runtime_api::client::http::{
        HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
    };
    use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
    use aws_smithy_runtime_api::client::result::ConnectorError;
    use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
    use aws_smithy_types::body::SdkBody;
    use http_body_util::BodyExt;
    use hyper_util::client::legacy::connect::HttpConnector as TcpConnector;
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::{TokioExecutor, TokioTimer};
    use tokio::sync::Semaphore;

    pub(super) fn client(max_exchanges: usize) -> SharedHttpClient {
        let bound = max_exchanges.max(1);
        let mut tcp = TcpConnector::new();
        tcp.set_nodelay(true);
        let hyper = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_max_idle_per_host(bound)
            .build(tcp);
        SharedHttpClient::new(Bounded {
            connector: SharedHttpConnector::new(Adapter {
                hyper,
                exchanges: Arc::new(Semaphore::new(bound)),
            }),
        })
    }

    #[derive(Debug)]
    struct Bounded {
        connector: SharedHttpConnector,
    }

    impl HttpClient for Bounded {
        fn http_connector(
            &self,
            _: &HttpConnectorSettings,
            _: &RuntimeComponents,
        ) -> SharedHttpConnector {
            // One connector whatever the settings: one pool, one bound.
            self.connector.clone()
        }
    }

    #[derive(Debug)]
    struct Adapter {
        hyper: Client<TcpConnector, SdkBody>,
        exchanges: Arc<Semaphore>,
    }

    impl HttpConnector for Adapter {
        fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
            let request = match request.try_into_http1x() {
                Ok(request) => request,
                Err(e) => return HttpConnectorFuture::ready(Err(ConnectorError::user(e.into()))),
            };
            let hyper = self.hyper.clone();
            let exchanges = self.exchanges.clone();
            HttpConnectorFuture::new(async move {
                // The bound is taken before the call and kept until its body is read, so a
                // connection is busy only while it holds a permit: the waiting happens here,
                // not in a connect that hyper may leave running in the background.
                let _exchange = exchanges
                    .acquire_owned()
                    .await
                    .map_err(|e| ConnectorError::other(e.into(), None))?;
                // A failed exchange with a local server (refused, or a pooled connection it
                // closed) is worth the SDK's retry.
                let response = hyper
                    .request(request)
                    .await
                    .map_err(|e| ConnectorError::io(e.into()))?;
                let (parts, body) = response.into_parts();
                let body = body
                    .collect()
                    .await
                    .map_err(|e| ConnectorError::io(e.into()))?
                    .to_bytes();
                let response = hyper::Response::from_parts(parts, SdkBody::from(body));
                HttpResponse::try_from(response).map_err(|e| ConnectorError::other(e.into(), None))
            })
        }
    }
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

/// Creates the HP snapshot table (`Id` S hash) with its index by campaign (`ByCampaign`:
/// `CampaignId` S hash, `Id` S range, every attribute) unless it exists; a table from before
/// campaigns gets the index. Returns whether it created the table.
pub async fn create_snapshots_table(client: &Client, table: &str) -> Result<bool, TableError> {
    let index_keys = || -> Result<Vec<KeySchemaElement>, TableError> {
        Ok(vec![
            key(table, CAMPAIGN_ID, KeyType::Hash)?,
            key(table, attr::ID, KeyType::Range)?,
        ])
    };
    let all = || {
        Projection::builder()
            .projection_type(ProjectionType::All)
            .build()
    };
    if let Some(description) = describe(client, table).await? {
        let indexed = description
            .global_secondary_indexes()
            .iter()
            .any(|i| i.index_name() == Some(BY_CAMPAIGN));
        if !indexed {
            let create = CreateGlobalSecondaryIndexAction::builder()
                .index_name(BY_CAMPAIGN)
                .set_key_schema(Some(index_keys()?))
                .projection(all())
                .build()
                .map_err(|e| table_error(table, e))?;
            client
                .update_table()
                .table_name(table)
                .attribute_definitions(attribute(table, CAMPAIGN_ID, ScalarAttributeType::S)?)
                .attribute_definitions(attribute(table, attr::ID, ScalarAttributeType::S)?)
                .global_secondary_index_updates(
                    GlobalSecondaryIndexUpdate::builder().create(create).build(),
                )
                .send()
                .await
                .map_err(|e| table_error(table, e))?;
        }
        return Ok(false);
    }
    let index = GlobalSecondaryIndex::builder()
        .index_name(BY_CAMPAIGN)
        .set_key_schema(Some(index_keys()?))
        .projection(all())
        .build()
        .map_err(|e| table_error(table, e))?;
    let request = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute(table, attr::ID, ScalarAttributeType::S)?)
        .attribute_definitions(attribute(table, CAMPAIGN_ID, ScalarAttributeType::S)?)
        .key_schema(key(table, attr::ID, KeyType::Hash)?)
        .global_secondary_indexes(index);
    created(table, request.send().await)
}

/// Creates the campaigns table (`Id` S hash) unless it exists. Returns whether it created it.
pub async fn create_campaigns_table(client: &Client, table: &str) -> Result<bool, TableError> {
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

/// Creates the memberships table (`Sub` S hash, `CampaignId` S range) with its index by
/// campaign (`ByCampaign`: `CampaignId` S hash, `Sub` S range, every attribute) unless it
/// exists. Returns whether it created it.
pub async fn create_memberships_table(client: &Client, table: &str) -> Result<bool, TableError> {
    if exists(client, table).await? {
        return Ok(false);
    }
    let index = GlobalSecondaryIndex::builder()
        .index_name(hitpoints::campaign::members::BY_CAMPAIGN_INDEX)
        .key_schema(key(table, CAMPAIGN_ID, KeyType::Hash)?)
        .key_schema(key(table, "Sub", KeyType::Range)?)
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
        .map_err(|e| table_error(table, e))?;
    let request = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute(table, "Sub", ScalarAttributeType::S)?)
        .attribute_definitions(attribute(table, CAMPAIGN_ID, ScalarAttributeType::S)?)
        .key_schema(key(table, "Sub", KeyType::Hash)?)
        .key_schema(key(table, CAMPAIGN_ID, KeyType::Range)?)
        .global_secondary_indexes(index);
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
    Ok(describe(client, table).await?.is_some())
}

async fn describe(client: &Client, table: &str) -> Result<Option<TableDescription>, TableError> {
    match client.describe_table().table_name(table).send().await {
        Ok(output) => Ok(Some(
            output
                .table
                .unwrap_or_else(|| TableDescription::builder().build()),
        )),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            Ok(None)
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
