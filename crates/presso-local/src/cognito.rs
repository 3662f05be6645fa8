//! The Cognito identity-provider endpoint: `X-Amz-Target:
//! AWSCognitoIdentityProviderService.<Operation>` requests answered by `presso-cognito`, and
//! each pool's JWKS at `/<poolId>/.well-known/jwks.json`, the path the pool's issuer
//! (`https://cognito-idp.<region>.localhost/<poolId>`) names.
//!
//! Codes go to the log (presso-cognito's `LogSink`) and to the durable dev outbox served by
//! [`crate::dev`].

use crate::config::Storage;
use crate::events::json_1_1;
use crate::server::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use presso_cognito::{Clock, IdentityProvider, OpenError, Options};
use std::sync::Arc;

/// The `X-Amz-Target` service name Cognito requests carry.
pub const SERVICE: &str = "AWSCognitoIdentityProviderService";

/// A clock read through a function: presso passes its one clock, so `POST /_presso/clock`
/// moves code, session and token expiry too.
pub struct FnClock<F>(pub F);

impl<F: Fn() -> i64 + Send + Sync> Clock for FnClock<F> {
    fn now_millis(&self) -> i64 {
        (self.0)()
    }
}

/// Opens `cognito.sqlite` in the data directory (or memory), with expiry on `clock`.
pub fn open(storage: &Storage, clock: Arc<dyn Clock>) -> Result<Arc<IdentityProvider>, OpenError> {
    let storage = match storage {
        Storage::InMemory => presso_cognito::Storage::InMemory,
        Storage::Dir(dir) => presso_cognito::Storage::in_data_dir(dir),
    };
    let options = Options {
        clock,
        ..Options::default()
    };
    IdentityProvider::open(storage, options).map(Arc::new)
}

/// Answers one identity-provider request off the async workers (SQLite and RSA signing block).
pub async fn handle(
    idp: &Arc<IdentityProvider>,
    target: &str,
    body: axum::body::Bytes,
) -> Response {
    let idp = idp.clone();
    let target = target.to_string();
    let (status, value) = tokio::task::spawn_blocking(move || idp.handle(&target, &body))
        .await
        .unwrap_or_else(|e| {
            (
                500,
                serde_json::json!({"__type": "InternalErrorException", "message": format!("the request handler failed: {e}")}),
            )
        });
    json_1_1(status, &value)
}

/// The routes this module serves besides the JSON protocol.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/{pool_id}/.well-known/jwks.json", get(jwks))
}

/// `GET /{poolId}/.well-known/jwks.json`.
async fn jwks(State(state): State<Arc<AppState>>, Path(pool_id): Path<String>) -> Response {
    match state.cognito.pool_jwks(&pool_id) {
        Ok(Some(jwks)) => Json(jwks).into_response(),
        Ok(None) => (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({"message": format!("User pool {pool_id} does not exist.")})),
        )
            .into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(serde_json::json!({"message": e.message()})),
        )
            .into_response(),
    }
}
