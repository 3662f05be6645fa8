//! The HTTP edge: identity from the request context, problem documents, bodies and queries.
//!
//! API Gateway's JWT authorizer has verified the token before a request reaches a function and
//! puts the claims, flattened to strings, in `requestContext.authorizer.jwt.claims`;
//! `lambda_http` stores that context in the request's extensions, and presso's local API
//! Gateway puts the same context there. [`Identity`] reads it; no context or no claims means
//! anonymous.

use axum::Json;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lambda_http::request::RequestContext;
use presso_core::api::{PROBLEM_CONTENT_TYPE, Problem};
use presso_core::identity::Principal;
use presso_core::ports::Clock;
use presso_core::time::Timestamp;
use presso_core::usecases::UseCaseError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;

/// The caller, from the request context's JWT claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity(pub Principal);

/// The principal of a request's context: claims present means a user, none means anonymous.
pub fn principal_of(context: Option<&RequestContext>) -> Result<Principal, UseCaseError> {
    let claims = match context {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx
            .authorizer
            .as_ref()
            .and_then(|a| a.jwt.as_ref())
            .map(|jwt| &jwt.claims),
        _ => None,
    };
    match claims {
        None => Ok(Principal::Anonymous),
        Some(claims) => {
            Principal::from_claim_strings(claims.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                // A verified token without a usable `sub` is the authorizer's bug, not the caller's
                // fault; refusing it as unauthenticated is the safe answer.
                .map_err(|_| UseCaseError::Unauthenticated)
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Identity {
    type Rejection = ProblemResponse;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        principal_of(parts.extensions.get::<RequestContext>())
            .map(Identity)
            .map_err(|e| ProblemResponse::new(&e, Timestamp::from_millis(0)))
    }
}

/// A use-case error as an HTTP response: the status, `application/problem+json`, and
/// `Retry-After` when retrying later makes sense.
#[derive(Debug)]
pub struct ProblemResponse(pub Problem);

impl ProblemResponse {
    pub fn new(error: &UseCaseError, now: Timestamp) -> Self {
        if error.status() >= 500 {
            tracing::error!(code = error.code(), error = %error, "request failed");
        }
        Self(Problem::of(error, now))
    }
}

impl IntoResponse for ProblemResponse {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry = self.0.retry_after_seconds;
        let mut response = (status, Json(self.0)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
        );
        if let Some(seconds) = retry {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// What a handler answers: a JSON body with a status, or a problem.
pub type Reply = Result<Response, ProblemResponse>;

/// Turns a use case's result into a reply (`status` on success).
pub fn reply<T: Serialize>(
    result: Result<T, UseCaseError>,
    status: StatusCode,
    clock: &impl Clock,
) -> Reply {
    match result {
        Ok(body) => Ok((status, Json(body)).into_response()),
        Err(e) => Err(ProblemResponse::new(&e, clock.now())),
    }
}

/// A JSON object body; an empty, malformed or non-object one is a 400 saying why. (serde
/// would also read a struct from an array of its fields in order: `["Latte", []]` is not a
/// drink request.)
pub fn json_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, UseCaseError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(UseCaseError::BadRequest(
            "a JSON body is required".to_owned(),
        ));
    }
    // serde's messages quote the offending value: never echo more than a line of it.
    let invalid = |e: serde_json::Error| {
        let message: String = e.to_string().chars().take(200).collect();
        UseCaseError::BadRequest(format!("the body is not valid: {message}"))
    };
    let value: serde_json::Value = serde_json::from_slice(body).map_err(invalid)?;
    if !value.is_object() {
        return Err(UseCaseError::BadRequest(
            "the body is not valid: a JSON object is required".to_owned(),
        ));
    }
    serde_json::from_value(value).map_err(invalid)
}

/// The largest body API Gateway passes to a function (10 MB); the function's router takes
/// anything the gateway let through.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// An extractor's own refusal (a path parameter that is not UTF-8, say) is plain text; the
/// API answers problem documents only.
async fn problem_for_rejection(response: Response) -> Response {
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if !response.status().is_client_error() || !plain {
        return response;
    }
    let bytes = axum::body::to_bytes(response.into_body(), 4096)
        .await
        .unwrap_or_default();
    let detail = String::from_utf8_lossy(&bytes).into_owned();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    ProblemResponse::new(
        &UseCaseError::BadRequest(detail),
        Timestamp::from_millis(now),
    )
    .into_response()
}

/// The query string's parameters (the last value of a repeated name wins).
pub type Query = HashMap<String, String>;

/// A required query parameter.
pub fn required<'a>(query: &'a Query, name: &str) -> Result<&'a str, UseCaseError> {
    query
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| UseCaseError::BadRequest(format!("the query parameter {name} is required")))
}

/// An optional query parameter (empty counts as absent).
pub fn optional<'a>(query: &'a Query, name: &str) -> Option<&'a str> {
    query
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
}

/// Routes that do not exist answer as API Gateway does.
pub async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(serde_json::json!({"message": "Not Found"})),
    )
        .into_response()
}

/// First start: before an instance answers its first request, it makes sure event `default`
/// exists (`seed`, one conditional write that never overwrites, e.g.
/// `usecases::config::seed_default_event`). Every HTTP function that reads an event's config
/// mounts it, so whichever the first request reaches (a display's QR code, the order app's
/// menu), a fresh stack answers with the reference's menu instead of `event_not_found`; a
/// restart or a stack update never resets live data. A failed seed is logged and tried again
/// on the next request; the request itself goes on (and fails on its own terms if it must).
pub fn seed_first<D, F, Fut>(router: axum::Router, deps: std::sync::Arc<D>, seed: F) -> axum::Router
where
    D: Send + Sync + 'static,
    F: Fn(std::sync::Arc<D>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<bool, UseCaseError>> + Send + 'static,
{
    use std::sync::atomic::{AtomicBool, Ordering};
    let done = std::sync::Arc::new(AtomicBool::new(false));
    router
        .layer(axum::middleware::map_response(problem_for_rejection))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                let (deps, seed, done) = (deps.clone(), seed.clone(), done.clone());
                async move {
                    if !done.load(Ordering::Acquire) {
                        match seed(deps).await {
                            Ok(seeded) => {
                                if seeded {
                                    tracing::info!(
                                        event_id = "default",
                                        "seeded the default event"
                                    );
                                }
                                done.store(true, Ordering::Release);
                            }
                            Err(e) => tracing::warn!(
                                error = %e,
                                "could not seed the default event; trying again next request"
                            ),
                        }
                    }
                    next.run(request).await
                }
            },
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_context_is_anonymous_and_bodies_explain_what_is_wrong() {
        assert_eq!(principal_of(None).unwrap(), Principal::Anonymous);
        let err = json_body::<serde_json::Value>(b"  ").unwrap_err();
        assert_eq!(err.status(), 400);
        let err = json_body::<presso_core::api::StoreStateRequest>(b"{\"state\":1}").unwrap_err();
        assert!(err.to_string().contains("not valid"), "{err}");
        // A struct is not read from an array of its fields.
        let err = json_body::<presso_core::api::StoreStateRequest>(b"[\"open\"]").unwrap_err();
        assert!(err.to_string().contains("JSON object"), "{err}");
        assert!(json_body::<presso_core::api::StoreStateRequest>(b"{\"state\":\"open\"}").is_ok());
        let q: Query = [("a".to_owned(), String::new())].into_iter().collect();
        assert!(required(&q, "a").is_err());
        assert_eq!(optional(&q, "a"), None);
    }

    #[test]
    fn a_problem_response_carries_its_status_type_and_retry_after() {
        let r = ProblemResponse::new(&UseCaseError::Contention, Timestamp::from_millis(0))
            .into_response();
        assert_eq!(r.status(), StatusCode::CONFLICT);
        assert_eq!(r.headers()[header::CONTENT_TYPE], PROBLEM_CONTENT_TYPE);
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
    }
}
