//! The DynamoDB endpoint: `X-Amz-Target: DynamoDB_20120810.<Operation>` requests, answered by
//! `presso-dynamo`'s store.
//!
//! This module only translates: JSON body to the operation's input struct, the store's result
//! to a JSON body, the store's errors to DynamoDB's `__type`s. All semantics live in
//! `presso-dynamo`.

use crate::aws_json::{self, AwsError, JsonVersion};
use axum::response::Response;
use presso_dynamo::{Error, Store};
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
    if operation == "DescribeEndpoints" {
        let endpoints = serde_json::json!({
            "Endpoints": [{"Address": "localhost", "CachePeriodInMinutes": 1440}]
        });
        return Ok(serde_json::to_vec(&endpoints).unwrap_or_default());
    }
    store.call_json(operation, body).map_err(to_aws)
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
