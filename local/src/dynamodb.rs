//! The local run's DynamoDB: a client for a DynamoDB-API server on this machine, and the tables
//! (in AWS, template.yaml creates them). The tests use both through `hitpoints-testkit`.

use aws_sdk_dynamodb::config::SharedHttpClient;
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

/// A plain-HTTP client for a DynamoDB-API server on this machine that never has more than
/// `max_connections` connections open (busy or idle in its pool), however many calls come at
/// once: a call past the bound waits for one to come free. Every SDK client given it shares the
/// bound. Each connection costs two file descriptors when the server is in-process (ours and
/// its), and the SDK's own client opens one per concurrent call; this is what keeps the local
/// run within its open-files limit. A connection to 127.0.0.1 connects or is refused at once, so
/// the SDK's connect timeout is not applied.
pub fn bounded_http_client(max_connections: usize) -> SharedHttpClient {
    bounded::client(max_connections)
}

mod bounded {
    use std::future::Future;
    use std::io;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::task::{Context, Poll};

    use aws_sdk_dynamodb::config::SharedHttpClient;
    use aws_smithy_runtime_api::client::http::{
        HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
    };
    use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
    use aws_smithy_runtime_api::client::result::ConnectorError;
    use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
    use aws_smithy_types::body::SdkBody;
    use hyper::Uri;
    use hyper_util::client::legacy::connect::{Connected, Connection};
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use tokio::net::TcpStream;
    use tokio::sync::{OwnedSemaphorePermit, Semaphore};

    pub(super) fn client(max_connections: usize) -> SharedHttpClient {
        let connect = Connect {
            permits: Arc::new(Semaphore::new(max_connections.max(1))),
        };
        let hyper = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .build(connect);
        SharedHttpClient::new(Bounded {
            connector: SharedHttpConnector::new(Adapter { hyper }),
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
        hyper: Client<Connect, SdkBody>,
    }

    impl HttpConnector for Adapter {
        fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
            let request = match request.try_into_http1x() {
                Ok(request) => request,
                Err(e) => return HttpConnectorFuture::ready(Err(ConnectorError::user(e.into()))),
            };
            let sent = self.hyper.request(request);
            HttpConnectorFuture::new(async move {
                // A failed exchange with a local server (refused, or a pooled connection it
                // closed) is worth the SDK's retry.
                let response = sent.await.map_err(|e| ConnectorError::io(e.into()))?;
                HttpResponse::try_from(response.map(SdkBody::from_body_1_x))
                    .map_err(|e| ConnectorError::other(e.into(), None))
            })
        }
    }

    /// Opens a TCP connection once a permit is free; the connection holds it until closed.
    #[derive(Debug, Clone)]
    struct Connect {
        permits: Arc<Semaphore>,
    }

    impl tower_service::Service<Uri> for Connect {
        type Response = Permitted;
        type Error = io::Error;
        type Future = Pin<Box<dyn Future<Output = io::Result<Permitted>> + Send>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, uri: Uri) -> Self::Future {
            let permits = self.permits.clone();
            Box::pin(async move {
                let permit = permits.acquire_owned().await.map_err(io::Error::other)?;
                let host = uri
                    .host()
                    .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_owned())
                    .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no host"))?;
                let stream = TcpStream::connect((host, uri.port_u16().unwrap_or(80))).await?;
                stream.set_nodelay(true)?;
                Ok(Permitted {
                    io: TokioIo::new(stream),
                    _permit: permit,
                })
            })
        }
    }

    struct Permitted {
        io: TokioIo<TcpStream>,
        _permit: OwnedSemaphorePermit,
    }

    impl Connection for Permitted {
        fn connected(&self) -> Connected {
            self.io.connected()
        }
    }

    impl hyper::rt::Read for Permitted {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: hyper::rt::ReadBufCursor<'_>,
        ) -> Poll<io::Result<()>> {
            Pin::new(&mut self.io).poll_read(cx, buf)
        }
    }

    impl hyper::rt::Write for Permitted {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut self.io).poll_write(cx, buf)
        }

        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.io).poll_flush(cx)
        }

        fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.io).poll_shutdown(cx)
        }

        fn is_write_vectored(&self) -> bool {
            self.io.is_write_vectored()
        }

        fn poll_write_vectored(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            bufs: &[io::IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
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
