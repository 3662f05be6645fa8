//! Handler tests over the committed fixtures (`events/<function>/<case>.json`, the same files
//! `cargo lambda invoke --data-file` takes), feature `testing`.

use crate::event::Envelope;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;
use std::path::PathBuf;
use tower::ServiceExt;

/// `events/<function>/<case>.json` at the workspace root.
pub fn fixture_path(function: &str, case: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../events")
        .join(function)
        .join(format!("{case}.json"))
}

pub fn fixture(function: &str, case: &str) -> String {
    let path = fixture_path(function, case);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// An EventBridge fixture as the envelope Lambda hands the function.
pub fn envelope(function: &str, case: &str) -> Envelope {
    serde_json::from_str(&fixture(function, case))
        .unwrap_or_else(|e| panic!("{function}/{case}: not an EventBridge event: {e}"))
}

/// What a router answered.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

/// Sends an API Gateway v2 fixture through `router` as `lambda_http` would (the request
/// context in the extensions) and reads the JSON answer.
pub async fn call(router: Router, function: &str, case: &str) -> Answer {
    let request = lambda_http::request::from_str(&fixture(function, case))
        .unwrap_or_else(|e| panic!("{function}/{case}: not an API Gateway event: {e}"));
    let (parts, body) = request.into_parts();
    let request = axum::http::Request::from_parts(parts, Body::from(body.to_vec()));
    let response = router
        .oneshot(request)
        .await
        .expect("routers are infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("a body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!(
                "{function}/{case}: not JSON ({e}): {}",
                String::from_utf8_lossy(&bytes)
            )
        })
    };
    Answer {
        status,
        headers,
        body,
    }
}

/// An EventBridge fixture as the `LambdaEvent` the runtime hands the handler.
pub fn lambda_event(function: &str, case: &str) -> lambda_runtime::LambdaEvent<Envelope> {
    lambda_runtime::LambdaEvent::new(envelope(function, case), lambda_runtime::Context::default())
}
