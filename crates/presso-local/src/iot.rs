//! The IoT data plane's `Publish`: `POST /topics/{topic}?qos=N` (REST-JSON, as
//! `aws iot-data publish --endpoint-url ...` and the SDK send it) delivers the body into the
//! broker.
//!
//! Answers as IoT Core does: 200 with an empty JSON body when accepted (whether or not anyone
//! subscribes), `InvalidRequestException` (400) for a bad topic or QoS and
//! `RequestEntityTooLargeException` (413) for a payload over the broker's packet limit. Retained
//! messages are not kept: `retain=true` is accepted and delivered like any other message.

use crate::server::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use presso_mqtt::{PublishError, QoS};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/topics/{*topic}", post(publish))
}

fn error(status: StatusCode, type_name: &'static str, message: String) -> Response {
    let mut resp = (status, Json(json!({"message": message}))).into_response();
    resp.headers_mut()
        .insert("x-amzn-errortype", HeaderValue::from_static(type_name));
    resp
}

async fn publish(
    State(state): State<Arc<AppState>>,
    Path(topic): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let qos = match query.get("qos").map(String::as_str) {
        None | Some("0") => QoS::AtMostOnce,
        Some("1") => QoS::AtLeastOnce,
        Some(other) => {
            return error(
                StatusCode::BAD_REQUEST,
                "InvalidRequestException",
                format!("qos must be 0 or 1, not {other}"),
            );
        }
    };
    match state.broker.publish(&topic, body, qos) {
        Ok(delivered) => {
            tracing::debug!(topic, delivered, "iot data publish");
            let mut resp = (StatusCode::OK, "{}").into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            resp
        }
        Err(e @ PublishError::InvalidTopic(_)) => error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestException",
            e.to_string(),
        ),
        Err(e @ PublishError::TooLarge { .. }) => error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLargeException",
            e.to_string(),
        ),
    }
}
