//! The capacity units DynamoDB (here dynoxide) reports for each call a client makes: an SDK
//! interceptor asks every metered call for `ReturnConsumedCapacity: TOTAL` and adds up what the
//! answers say, by table and by reads and writes.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextMut,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::{Storable, StoreReplace};

/// Whether a call writes or reads, from its request to its answer.
#[derive(Debug, Clone)]
struct Kind(&'static str);

impl Storable for Kind {
    type Storer = StoreReplace<Kind>;
}

/// Capacity units dynoxide reported, by table, for the calls made through the client.
#[derive(Debug, Default, Clone)]
pub(crate) struct Meter(Arc<Mutex<BTreeMap<String, f64>>>);

impl Meter {
    pub(crate) fn take(&self) -> BTreeMap<String, f64> {
        std::mem::take(&mut *self.0.lock().expect("meter"))
    }
}

const METERED: [&str; 7] = [
    "Scan",
    "PutItem",
    "UpdateItem",
    "TransactWriteItems",
    "GetItem",
    "Query",
    "DeleteItem",
];

impl Intercept for Meter {
    fn name(&self) -> &'static str {
        "ConsumedCapacity meter"
    }

    /// Asks each metered call for its consumed capacity.
    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        let target = request
            .headers()
            .get("x-amz-target")
            .unwrap_or_default()
            .to_owned();
        let write = ["PutItem", "UpdateItem", "TransactWriteItems", "DeleteItem"]
            .iter()
            .any(|op| target.ends_with(&format!(".{op}")));
        cfg.interceptor_state()
            .store_put(Kind(if write { "write" } else { "read" }));
        if !METERED.iter().any(|op| target.ends_with(&format!(".{op}"))) {
            return Ok(());
        }
        let Some(bytes) = request.body().bytes() else {
            return Ok(());
        };
        let mut body: serde_json::Value = serde_json::from_slice(bytes)?;
        body["ReturnConsumedCapacity"] = serde_json::json!("TOTAL");
        let bytes = serde_json::to_vec(&body)?;
        request
            .headers_mut()
            .insert("content-length", bytes.len().to_string());
        *request.body_mut() = SdkBody::from(bytes);
        Ok(())
    }

    /// Adds what each answer says it consumed, by table.
    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(bytes) = context.response().body().bytes() else {
            return Ok(());
        };
        let Ok(body) = serde_json::from_slice::<serde_json::Value>(bytes) else {
            return Ok(());
        };
        let consumed = match &body["ConsumedCapacity"] {
            serde_json::Value::Array(list) => list.clone(),
            serde_json::Value::Object(_) => vec![body["ConsumedCapacity"].clone()],
            _ => Vec::new(),
        };
        let kind = match cfg.load::<Kind>() {
            Some(Kind(kind)) => *kind,
            None => "read",
        };
        let mut meter = self.0.lock().expect("meter");
        for c in consumed {
            let table = c["TableName"].as_str().unwrap_or("?");
            *meter.entry(format!("{table} {kind}")).or_default() +=
                c["CapacityUnits"].as_f64().unwrap_or(0.0);
        }
        Ok(())
    }
}
