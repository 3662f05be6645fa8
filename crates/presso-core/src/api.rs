//! The HTTP API written down once: paths, parameters, who may call each route, its request and
//! response types and its statuses; the request types that have no other home; the problem
//! document every error answers with; and the apps' runtime settings (`/config.json`).
//!
//! The Lambda crates route by these constants, and the OpenAPI document is generated from
//! [`ROUTES`] and the serde types named in it. Paths carry the full `/api/...` prefix on both
//! runtimes (the HTTP API uses the `$default` stage).

use crate::config::StoreState;
use crate::ids::EventId;
use crate::order::OrderStatus;
use crate::time::Timestamp;
use crate::usecases::UseCaseError;
use serde::{Deserialize, Serialize};

pub mod paths {
    pub const QR_CODE: &str = "/api/qr-code";
    pub const ORDERS: &str = "/api/orders";
    pub const MY_ORDERS: &str = "/api/myOrders";
    pub const ORDER: &str = "/api/orders/{orderId}";
    pub const ORDER_JOURNEY: &str = "/api/orders/{orderId}/journey";
    pub const EVENT: &str = "/api/events/{eventId}";
    pub const EVENT_CONFIG: &str = "/api/events/{eventId}/config";
    pub const EVENT_STORE: &str = "/api/events/{eventId}/store";
    pub const RUNTIME_SETTINGS: &str = "/config.json";
}

/// Query and path parameter names.
pub mod params {
    pub const EVENT_ID: &str = "eventId";
    pub const ORDER_ID: &str = "orderId";
    pub const TOKEN: &str = "token";
    pub const STATE: &str = "state";
    pub const ACTION: &str = "action";
    pub const LIMIT: &str = "limit";
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No token needed.
    Public,
    /// Any signed-in user.
    SignedIn,
    /// The order's owner or a member of `admin`.
    OwnerOrAdmin,
    /// Members of `admin` only.
    Admin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
    /// Query parameters: (name, required).
    pub query: &'static [(&'static str, bool)],
    /// The request body's type, if any.
    pub request: Option<&'static str>,
    /// The success body's type.
    pub response: &'static str,
    /// Every status the route answers with; the first is the success status.
    pub statuses: &'static [u16],
    /// The Lambda crate that serves it.
    pub function: &'static str,
    pub summary: &'static str,
}

/// Every route of the app's HTTP API.
pub const ROUTES: &[Route] = &[
    Route {
        method: "GET",
        path: paths::QR_CODE,
        access: Access::Admin,
        query: &[(params::EVENT_ID, true)],
        request: None,
        response: "QrCodeView",
        statuses: &[200, 400, 401, 403, 404, 503],
        function: "presso-fn-validator",
        summary: "The current window's QR code for an event's displays (created on first ask).",
    },
    Route {
        method: "POST",
        path: paths::QR_CODE,
        access: Access::SignedIn,
        query: &[(params::EVENT_ID, true), (params::TOKEN, true)],
        request: None,
        response: "NewOrderView",
        statuses: &[200, 400, 401, 404, 409, 429, 503],
        function: "presso-fn-validator",
        summary: "Verifies a scanned code and creates the caller's pending order.",
    },
    Route {
        method: "GET",
        path: paths::ORDERS,
        access: Access::Admin,
        query: &[
            (params::EVENT_ID, true),
            (params::STATE, true),
            (params::LIMIT, false),
        ],
        request: None,
        response: "OrderView[]",
        statuses: &[200, 400, 401, 403, 503],
        function: "presso-fn-order-manager",
        summary: "An event's orders in one state, oldest first.",
    },
    Route {
        method: "GET",
        path: paths::MY_ORDERS,
        access: Access::SignedIn,
        query: &[(params::EVENT_ID, false), (params::LIMIT, false)],
        request: None,
        response: "OrderView[]",
        statuses: &[200, 400, 401, 503],
        function: "presso-fn-order-manager",
        summary: "The caller's orders, newest first.",
    },
    Route {
        method: "GET",
        path: paths::ORDER,
        access: Access::OwnerOrAdmin,
        query: &[],
        request: None,
        response: "OrderView",
        statuses: &[200, 400, 401, 404, 503],
        function: "presso-fn-order-manager",
        summary: "One order, with queuePosition and estimatedWaitSeconds while queued.",
    },
    Route {
        method: "PUT",
        path: paths::ORDER,
        access: Access::OwnerOrAdmin,
        query: &[(params::EVENT_ID, false), (params::ACTION, false)],
        request: Some("DrinkRequest"),
        response: "OrderView",
        statuses: &[200, 400, 401, 403, 404, 409, 422, 503],
        function: "presso-fn-order-manager",
        summary: "Without `action`: the owner gives the drink (body DrinkRequest). With `action=make|unmake|complete|cancel`: a barista action (admin); `cancel` also for the owner until the drink is being made.",
    },
    Route {
        method: "GET",
        path: paths::ORDER_JOURNEY,
        access: Access::OwnerOrAdmin,
        query: &[],
        request: None,
        response: "JourneyEntry[]",
        statuses: &[200, 400, 401, 404, 503],
        function: "presso-fn-order-manager",
        summary: "Every event of the order, in order.",
    },
    Route {
        method: "POST",
        path: paths::EVENT,
        access: Access::Admin,
        query: &[],
        request: Some("ConfigUpdate"),
        response: "ConfigView",
        statuses: &[201, 400, 401, 403, 409, 422, 503],
        function: "presso-fn-config",
        summary: "Creates an event with the default menu and limits, adjusted by the body.",
    },
    Route {
        method: "GET",
        path: paths::EVENT_CONFIG,
        access: Access::Public,
        query: &[],
        request: None,
        response: "ConfigView",
        statuses: &[200, 400, 404, 503],
        function: "presso-fn-config",
        summary: "An event's store state, limits and menu.",
    },
    Route {
        method: "PUT",
        path: paths::EVENT_CONFIG,
        access: Access::Admin,
        query: &[],
        request: Some("ConfigUpdate"),
        response: "ConfigView",
        statuses: &[200, 400, 401, 403, 404, 409, 422, 503],
        function: "presso-fn-config",
        summary: "Changes limits, the menu and availability (a partial update).",
    },
    Route {
        method: "PUT",
        path: paths::EVENT_STORE,
        access: Access::Admin,
        query: &[],
        request: Some("StoreStateRequest"),
        response: "ConfigView",
        statuses: &[200, 400, 401, 403, 404, 409, 503],
        function: "presso-fn-config",
        summary: "Opens, pauses or closes the store.",
    },
    Route {
        method: "GET",
        path: paths::RUNTIME_SETTINGS,
        access: Access::Public,
        query: &[],
        request: None,
        response: "RuntimeSettings",
        statuses: &[200],
        function: "presso-fn-config",
        summary: "The apps' runtime settings.",
    },
];

/// `PUT /api/events/{eventId}/store`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreStateRequest {
    pub state: StoreState,
}

/// `/config.json`: what the three apps need to find everything else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuntimeSettings {
    pub region: String,
    pub user_pool_id: String,
    pub user_pool_client_id: String,
    pub cognito_endpoint: String,
    /// Always `/api`: the apps call the API on their own origin.
    pub api_base: String,
    pub mqtt_url: String,
    /// `jwt`: the MQTT password is the user-pool ID token.
    pub mqtt_auth: String,
    pub default_event_id: EventId,
    pub order_app_url: String,
}

/// An error as `application/problem+json` (RFC 9457), with a stable `code`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: String,
    #[serde(
        rename = "retryAfterSeconds",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub retry_after_seconds: Option<u64>,
}

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

impl Problem {
    pub fn of(error: &UseCaseError, now: Timestamp) -> Self {
        let status = error.status();
        Self {
            kind: format!("urn:serverlesspresso:problem:{}", error.code()),
            title: reason_phrase(status).to_owned(),
            status,
            detail: error.to_string(),
            code: error.code().to_owned(),
            retry_after_seconds: error.retry_after_seconds(now),
        }
    }
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        503 => "Service Unavailable",
        _ => "Internal Server Error",
    }
}

/// The `state` query parameter of `GET /api/orders`.
pub fn parse_state(raw: &str) -> Result<OrderStatus, UseCaseError> {
    OrderStatus::parse(raw).ok_or_else(|| {
        let names: Vec<&str> = OrderStatus::ALL.iter().map(|s| s.as_str()).collect();
        UseCaseError::BadRequest(format!(
            "unknown state {:?}; expected one of {}",
            raw.chars().take(32).collect::<String>(),
            names.join(", ")
        ))
    })
}

/// The optional `limit` query parameter.
pub fn parse_limit(raw: Option<&str>) -> Result<Option<usize>, UseCaseError> {
    raw.map(|s| {
        s.parse::<usize>()
            .ok()
            .filter(|n| (1..=crate::usecases::MAX_LIST).contains(n))
            .ok_or_else(|| {
                UseCaseError::BadRequest(format!(
                    "limit must be a number from 1 to {}",
                    crate::usecases::MAX_LIST
                ))
            })
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qr::QrError;

    #[test]
    fn every_route_starts_with_its_success_status_and_lives_under_api_or_config_json() {
        for r in ROUTES {
            assert!(
                r.path.starts_with("/api/") || r.path == paths::RUNTIME_SETTINGS,
                "{}",
                r.path
            );
            assert!(matches!(r.statuses[0], 200 | 201), "{}", r.path);
            if r.access != Access::Public {
                assert!(r.statuses.contains(&401), "{} {}", r.method, r.path);
            }
            if r.access == Access::Admin {
                assert!(r.statuses.contains(&403), "{} {}", r.method, r.path);
            }
        }
    }

    #[test]
    fn a_problem_document_carries_status_code_detail_and_retry_after() {
        let err = UseCaseError::Qr(QrError::NoTokensRemaining {
            next_window_at: Timestamp::from_millis(10_000),
        });
        let p = Problem::of(&err, Timestamp::from_millis(1_500));
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["status"], 429);
        assert_eq!(v["code"], "no_tokens_remaining");
        assert_eq!(v["title"], "Too Many Requests");
        assert_eq!(v["retryAfterSeconds"], 9);
        assert_eq!(
            v["type"],
            "urn:serverlesspresso:problem:no_tokens_remaining"
        );
    }

    #[test]
    fn query_parameters_parse_or_explain_themselves() {
        assert_eq!(parse_state("inProgress").unwrap(), OrderStatus::InProgress);
        let err = parse_state("CREATED").unwrap_err();
        assert!(err.to_string().contains("queued"));
        assert_eq!(parse_limit(None).unwrap(), None);
        assert_eq!(parse_limit(Some("10")).unwrap(), Some(10));
        assert!(parse_limit(Some("0")).is_err());
        assert!(parse_limit(Some("x")).is_err());
    }

    #[test]
    fn the_store_state_body_is_one_of_three_words() {
        let ok: StoreStateRequest = serde_json::from_str(r#"{"state":"paused"}"#).unwrap();
        assert_eq!(ok.state, StoreState::Paused);
        assert!(serde_json::from_str::<StoreStateRequest>(r#"{"state":"ajar"}"#).is_err());
    }
}
