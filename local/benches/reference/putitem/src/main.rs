//! A bare PutItem Lambda with the SDK's defaults: what any Rust Lambda on DynamoDB starts from.

use aws_sdk_dynamodb::types::AttributeValue;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let table = std::env::var("HITPOINTS_EVENTS_TABLE")?;
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    run(service_fn(|_: LambdaEvent<Value>| {
        let (client, table) = (&client, &table);
        async move {
            client
                .put_item()
                .table_name(table)
                .item("Id", AttributeValue::S(uuid::Uuid::new_v4().to_string()))
                .item("Version", AttributeValue::N("0".into()))
                .send()
                .await?;
            Ok::<_, Error>(json!({"written": true}))
        }
    }))
    .await
}
