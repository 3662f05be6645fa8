//! AWS's JSON protocols at the edge: how every service module answers, in one place.
//!
//! Successful calls answer `200` with `application/x-amz-json-1.0` (or 1.1); failures answer
//! `{"__type": "<namespace>#<ErrorName>", "message": "..."}` with 400 (client) or 500 (server),
//! which is what the AWS SDKs and CLI parse. Service modules build an [`AwsError`]; they never
//! build HTTP responses for errors themselves.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

/// An error as an AWS JSON-protocol service reports it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{type_name}: {message}")]
pub struct AwsError {
    pub status: StatusCode,
    /// The full `__type`, namespace included.
    pub type_name: String,
    pub message: String,
    /// Further members some errors carry (`CancellationReasons`, `Item`, …).
    pub extra: Vec<(String, Value)>,
}

impl AwsError {
    pub fn client(type_name: impl Into<String>, message: impl Into<String>) -> AwsError {
        AwsError {
            status: StatusCode::BAD_REQUEST,
            type_name: type_name.into(),
            message: message.into(),
            extra: Vec::new(),
        }
    }

    pub fn server(type_name: impl Into<String>, message: impl Into<String>) -> AwsError {
        AwsError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            ..AwsError::client(type_name, message)
        }
    }
}

/// The JSON protocol version a service speaks (DynamoDB 1.0; Step Functions, Cognito 1.1).
#[derive(Debug, Clone, Copy)]
pub enum JsonVersion {
    V1_0,
    V1_1,
}

impl JsonVersion {
    fn content_type(self) -> &'static str {
        match self {
            JsonVersion::V1_0 => "application/x-amz-json-1.0",
            JsonVersion::V1_1 => "application/x-amz-json-1.1",
        }
    }
}

fn request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("PRESSO{:020}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A successful response carrying an already-serialised JSON body.
pub fn ok(version: JsonVersion, body: Vec<u8>) -> Response {
    let mut resp = (StatusCode::OK, body).into_response();
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(version.content_type()),
    );
    if let Ok(id) = HeaderValue::from_str(&request_id()) {
        headers.insert("x-amzn-requestid", id);
    }
    resp
}

/// An error response in the protocol's shape.
pub fn error(version: JsonVersion, err: AwsError) -> Response {
    let mut body = Map::new();
    body.insert("__type".to_string(), Value::String(err.type_name.clone()));
    body.insert("message".to_string(), Value::String(err.message.clone()));
    body.extend(err.extra);
    let bytes = serde_json::to_vec(&Value::Object(body)).unwrap_or_default();
    let mut resp = ok(version, bytes);
    *resp.status_mut() = err.status;
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_carry_type_message_and_status() {
        let resp = error(
            JsonVersion::V1_0,
            AwsError::client(
                "com.amazonaws.dynamodb.v20120810#ValidationException",
                "bad",
            ),
        );
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            resp.headers()[header::CONTENT_TYPE],
            "application/x-amz-json-1.0"
        );
    }
}
