//! The DynamoDB endpoint: `X-Amz-Target: DynamoDB_20120810.<Operation>` requests, answered by
//! `presso-dynamo`'s store.
//!
//! This module only translates: JSON body to the operation's input struct, the store's result
//! to a JSON body, the store's errors to DynamoDB's `__type`s. All semantics live in
//! `presso-dynamo`.

use crate::aws_json::{self, AwsError, JsonVersion};
use axum::response::Response;
use presso_dynamo::{Error, Store};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The `X-Amz-Target` prefix DynamoDB requests carry.
pub const TARGET_PREFIX: &str = "DynamoDB_20120810";
const NAMESPACE: &str = "com.amazonaws.dynamodb.v20120810#";

/// Answers one DynamoDB request.
pub fn handle(store: &Store, operation: &str, body: &[u8]) -> Response {
    match dispatch(store, operation, body) {
        Ok(bytes) => aws_json::ok(JsonVersion::V1_0, bytes),
        Err(err) => {
            if err.status.is_server_error() {
                tracing::error!(operation, error = %err.message, "dynamodb request failed");
            }
            aws_json::error(JsonVersion::V1_0, err)
        }
    }
}

fn dispatch(store: &Store, operation: &str, body: &[u8]) -> Result<Vec<u8>, AwsError> {
    match operation {
        "CreateTable" => call(body, |i| store.create_table(i)),
        "DescribeTable" => call(body, |i| store.describe_table(i)),
        "ListTables" => call(body, |i| store.list_tables(i)),
        "DeleteTable" => call(body, |i| store.delete_table(i)),
        "UpdateTable" => call(body, |i| store.update_table(i)),
        "PutItem" => call(body, |i| store.put_item(i)),
        "GetItem" => call(body, |i| store.get_item(i)),
        "UpdateItem" => call(body, |i| store.update_item(i)),
        "DeleteItem" => call(body, |i| store.delete_item(i)),
        "Query" => call(body, |i| store.query(i)),
        "Scan" => call(body, |i| store.scan(i)),
        "BatchGetItem" => call(body, |i| store.batch_get_item(i)),
        "BatchWriteItem" => call(body, |i| store.batch_write_item(i)),
        "TransactWriteItems" => call(body, |i| store.transact_write_items(i)),
        "TransactGetItems" => call(body, |i| store.transact_get_items(i)),
        "DescribeEndpoints" => Ok(serde_json::to_vec(&serde_json::json!({
            "Endpoints": [{"Address": "localhost", "CachePeriodInMinutes": 1440}]
        }))
        .unwrap_or_default()),
        other => Err(AwsError::client(
            format!("{NAMESPACE}UnknownOperationException"),
            format!("Unknown operation: {other}"),
        )),
    }
}

fn call<I: DeserializeOwned, O: Serialize>(
    body: &[u8],
    op: impl FnOnce(I) -> presso_dynamo::Result<O>,
) -> Result<Vec<u8>, AwsError> {
    let body = if body.is_empty() {
        b"{}".as_slice()
    } else {
        body
    };
    let input: I = serde_json::from_slice(body).map_err(bad_body)?;
    let output = op(input).map_err(to_aws)?;
    serde_json::to_vec(&output)
        .map_err(|e| AwsError::server(format!("{NAMESPACE}InternalServerError"), e.to_string()))
}

fn bad_body(err: serde_json::Error) -> AwsError {
    let text = err.to_string();
    if let Some(rest) = text.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or("");
        let mut camel = field.to_string();
        if let Some(first) = camel.get_mut(0..1) {
            first.make_ascii_lowercase();
        }
        return AwsError::client(
            format!("{NAMESPACE}ValidationException"),
            format!(
                "1 validation error detected: Value null at '{camel}' failed to satisfy constraint: Member must not be null"
            ),
        );
    }
    AwsError::client(format!("{NAMESPACE}SerializationException"), text)
}

/// Maps the store's error to DynamoDB's wire error, with the extra members some carry.
pub fn to_aws(err: Error) -> AwsError {
    let type_name = format!("{NAMESPACE}{}", err.aws_type());
    let message = err.to_string();
    let mut aws = if err.is_server_error() {
        AwsError::server(type_name, message)
    } else {
        AwsError::client(type_name, message)
    };
    match err {
        Error::ConditionalCheckFailed { item: Some(item) } => {
            if let Ok(v) = serde_json::to_value(item) {
                aws.extra.push(("Item".to_string(), v));
            }
        }
        Error::TransactionCanceled { reasons, .. } => {
            if let Ok(v) = serde_json::to_value(reasons) {
                aws.extra.push(("CancellationReasons".to_string(), v));
            }
            // DynamoDB spells this one's message with a capital M; SDKs read both.
            aws.extra
                .push(("Message".to_string(), Value::String(aws.message.clone())));
        }
        _ => {}
    }
    aws
}
