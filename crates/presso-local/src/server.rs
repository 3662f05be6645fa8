//! One port for everything: the axum router that sends each request to its service.
//!
//! AWS JSON-protocol calls (`POST /` with `X-Amz-Target: <Service>.<Operation>`) are routed by
//! the target's prefix to one module per service; later services (Step Functions, EventBridge,
//! Cognito, IoT) add a prefix here and a module beside `dynamodb`. No credential or SigV4
//! check is made: local emulators accept any credentials and region.

use crate::aws_json::{self, AwsError, JsonVersion};
use crate::{cognito, dev, dynamodb, events, iot, realtime};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use presso_dynamo::Store;
use std::sync::Arc;

/// What request handlers share.
#[derive(Clone)]
pub struct AppState {
    pub dynamodb: Store,
    pub stepfunctions: crate::stepfunctions::StepFunctions,
    pub cognito: Arc<presso_cognito::IdentityProvider>,
    pub broker: presso_mqtt::Broker,
    pub mqtt_auth: Arc<crate::realtime::JwtAuthorizer>,
    pub events: events::Events,
    /// What presso has done, counted as AWS bills it (`GET /_presso/usage`).
    pub meter: Arc<crate::usage::Meter>,
}

/// The router serving every service on one port.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", post(aws_json_call))
        .merge(crate::stepfunctions::routes())
        .merge(cognito::routes())
        .merge(dev::routes())
        .merge(iot::routes())
        .merge(realtime::routes(&state.broker))
        // DynamoDB items are up to 400 KB and batches up to 25 of them.
        .layer(DefaultBodyLimit::max(16 * 1024 * 1024))
        .with_state(state)
}

async fn aws_json_call(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (service, operation) = target.split_once('.').unwrap_or((target, ""));
    match service {
        dynamodb::TARGET_PREFIX => {
            // SQLite calls block: run them off the async workers (other services share them),
            // which also lets concurrent writes meet in the store's group commit.
            let store = state.dynamodb.clone();
            let operation = operation.to_string();
            match tokio::task::spawn_blocking(move || dynamodb::handle(&store, &operation, &body))
                .await
            {
                Ok(response) => response,
                Err(err) => aws_json::error(
                    JsonVersion::V1_0,
                    AwsError::server(
                        "com.amazonaws.dynamodb.v20120810#InternalServerError",
                        format!("the request handler failed: {err}"),
                    ),
                ),
            }
        }
        events::SERVICE => state.events.handle(target, body).await,
        crate::stepfunctions::TARGET_PREFIX => state.stepfunctions.handle(operation, &body).await,
        cognito::SERVICE => cognito::handle(&state.cognito, target, body).await,
        _ => aws_json::error(
            JsonVersion::V1_1,
            AwsError::client(
                "UnknownOperationException",
                format!("No service answers X-Amz-Target `{target}`"),
            ),
        ),
    }
}
