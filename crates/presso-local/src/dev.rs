//! Dev endpoints under `/_presso/` for tests and demos (the clock has its own module):
//!
//! - `GET /_presso/outbox`: the newest sign-in and confirmation codes, oldest first;
//! - `GET /_presso/outbox/{email}/latest`: `{to, code, sentAt}` of the newest code sent to
//!   `email` (404 when none was);
//! - `GET /_presso/dead-letters`: EventBridge deliveries that failed every try;
//! - `GET /_presso/logs/{name}`: the events a CloudWatch-Logs target
//!   (`arn:aws:logs:...:log-group:NAME`) received, as `{logGroupName, count, events:
//!   [{timestamp, message}]}` (`count` is the total; `events` the newest 1000).
//!
//! - `GET /_presso/usage`: what presso has done since it started, counted as AWS bills it
//!   (see [`crate::usage`]).
//!
//! Failures answer `application/problem+json`.

use crate::server::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use std::sync::Arc;

/// How many entries the list endpoints return at most.
const LIST_LIMIT: usize = 1000;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/_presso/outbox", get(outbox))
        .route("/_presso/outbox/{email}/latest", get(outbox_latest))
        .route("/_presso/dead-letters", get(dead_letters))
        .route("/_presso/logs/{*name}", get(logs))
        .route("/_presso/usage", get(usage))
}

fn problem(status: StatusCode, detail: String) -> Response {
    let body = json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": detail,
    });
    let mut resp = (status, Json(body)).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    resp
}

fn internal(e: impl std::fmt::Display) -> Response {
    problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

async fn outbox(State(state): State<Arc<AppState>>) -> Response {
    match state.cognito.outbox(LIST_LIMIT) {
        Ok(messages) => Json(messages).into_response(),
        Err(e) => internal(e),
    }
}

async fn outbox_latest(State(state): State<Arc<AppState>>, Path(email): Path<String>) -> Response {
    match state.cognito.outbox_latest(&email) {
        Ok(Some(message)) => Json(message).into_response(),
        Ok(None) => problem(
            StatusCode::NOT_FOUND,
            format!("no code was sent to {email}"),
        ),
        Err(e) => internal(e),
    }
}

async fn usage(State(state): State<Arc<AppState>>) -> Response {
    Json(crate::usage::snapshot(&state)).into_response()
}

async fn dead_letters(State(state): State<Arc<AppState>>) -> Response {
    match state.events.service.dead_letters(LIST_LIMIT) {
        Ok(letters) => Json(Value::Array(letters)).into_response(),
        Err(e) => internal(e),
    }
}

async fn logs(State(state): State<Arc<AppState>>, Path(name): Path<String>) -> Response {
    let service = &state.events.service;
    match service
        .log_events(&name, LIST_LIMIT)
        .and_then(|events| Ok((service.log_count(&name)?, events)))
    {
        Ok((count, events)) => {
            Json(json!({"logGroupName": name, "count": count, "events": events})).into_response()
        }
        Err(e) => internal(e),
    }
}
