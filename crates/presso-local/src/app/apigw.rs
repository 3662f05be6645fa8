//! API Gateway HTTP API emulation: the template's routes at their full paths, each behind its
//! JWT authorizer, with the `$default`-stage request context `lambda_http` handlers read.
//!
//! What API Gateway does and presso does too: a missing or bad token on an authorized route
//! is `401 {"message":"Unauthorized"}` (a token without a required scope is `403
//! {"message":"Forbidden"}`); the authorizer checks the issuer the template declares (mapped to
//! the local pool's with `local_issuer`) and the audience (`aud` of ID tokens, `client_id` of
//! access tokens); `authorizer.jwt.claims` carries every claim as a string, arrays flattened
//! to `"[admin barista]"`; CORS is answered as the API's `CorsConfiguration` says; bodies over
//! 10 MB are refused with 413. Unknown routes are `404 {"message":"Not Found"}`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, RawPathParams, Request};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use lambda_http::RequestExt as _;
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use lambda_http::request::RequestContext;
use presso_cognito::{IdentityProvider, TokenUse, local_issuer};
use presso_template::{Cors, HttpApi, JwtAuthorizer};
use serde_json::{Map, Value, json};
use tower::ServiceExt as _;
use tower_http::cors::{AllowHeaders, AllowMethods, AllowOrigin, CorsLayer, ExposeHeaders};

/// API Gateway's payload limit.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// One route, served by one function's router.
#[derive(Clone)]
pub struct Route {
    pub route_key: String,
    pub method: String,
    pub authorizer: Option<JwtAuthorizer>,
    pub scopes: Vec<String>,
    /// The function behind the route (its `FunctionName`), for the meter.
    pub function: String,
    pub router: Router,
}

/// The routes of one API, by path.
pub struct Api {
    pub api: HttpApi,
    pub routes: BTreeMap<String, Vec<Route>>,
}

/// What every route handler shares.
#[derive(Clone)]
pub struct Gateway {
    pub meter: Arc<crate::usage::Meter>,
    pub cognito: Arc<IdentityProvider>,
    pub account_id: String,
}

/// `{"message": ...}` with a status, as API Gateway answers its own errors.
pub fn message(status: StatusCode, text: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json!({ "message": text }).to_string(),
    )
        .into_response()
}

/// API Gateway's route paths to axum's (`{proxy+}` → `{*proxy}`).
fn axum_path(path: &str) -> String {
    path.split('/')
        .map(
            |seg| match seg.strip_prefix('{').and_then(|s| s.strip_suffix("+}")) {
                Some(name) => format!("{{*{name}}}"),
                None => seg.to_string(),
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

/// The router serving one API's routes.
pub fn router(gateway: Gateway, api: Api) -> Router {
    let mut router = Router::new();
    let api_id = api.api.id.clone();
    for (path, routes) in api.routes {
        let routes = Arc::new(routes);
        let gateway = gateway.clone();
        let api_id = api_id.clone();
        router = router.route(
            &axum_path(&path),
            any(
                move |params: Result<
                    RawPathParams,
                    axum::extract::rejection::RawPathParamsRejection,
                >,
                      req: Request| {
                    let routes = routes.clone();
                    let gateway = gateway.clone();
                    let api_id = api_id.clone();
                    async move {
                        match params {
                            Ok(params) => dispatch(&gateway, &api_id, &routes, params, req).await,
                            // A path parameter that does not decode to UTF-8: the gateway's own
                            // 400, as it answers what it cannot route.
                            Err(_) => {
                                gateway.meter.api_request();
                                message(StatusCode::BAD_REQUEST, "Bad Request")
                            }
                        }
                    }
                },
            ),
        );
    }
    if let Some(cors) = &api.api.cors {
        router = router.layer(cors_layer(cors));
    }
    router
}

fn cors_layer(c: &Cors) -> CorsLayer {
    let star = |l: &[String]| l.iter().any(|v| v == "*");
    let values = |l: &[String]| -> Vec<HeaderValue> {
        l.iter()
            .filter_map(|v| HeaderValue::from_str(v).ok())
            .collect()
    };
    let names = |l: &[String]| -> Vec<HeaderName> {
        l.iter()
            .filter_map(|v| HeaderName::try_from(v.as_str()).ok())
            .collect()
    };
    let mut layer = CorsLayer::new();
    // tower-http refuses `*` together with credentials; API Gateway then echoes the origin.
    layer = if star(&c.allow_origins) && c.allow_credentials {
        layer.allow_origin(AllowOrigin::mirror_request())
    } else if star(&c.allow_origins) {
        layer.allow_origin(AllowOrigin::any())
    } else {
        layer.allow_origin(values(&c.allow_origins))
    };
    layer = if star(&c.allow_methods) && c.allow_credentials {
        layer.allow_methods(AllowMethods::mirror_request())
    } else if star(&c.allow_methods) {
        layer.allow_methods(AllowMethods::any())
    } else {
        layer.allow_methods(
            c.allow_methods
                .iter()
                .filter_map(|m| Method::from_bytes(m.as_bytes()).ok())
                .collect::<Vec<_>>(),
        )
    };
    layer = if star(&c.allow_headers) && c.allow_credentials {
        layer.allow_headers(AllowHeaders::mirror_request())
    } else if star(&c.allow_headers) {
        layer.allow_headers(AllowHeaders::any())
    } else {
        layer.allow_headers(names(&c.allow_headers))
    };
    if star(&c.expose_headers) && !c.allow_credentials {
        layer = layer.expose_headers(ExposeHeaders::any());
    } else if !c.expose_headers.is_empty() {
        layer = layer.expose_headers(names(&c.expose_headers));
    }
    if c.allow_credentials {
        layer = layer.allow_credentials(true);
    }
    if let Some(age) = c.max_age {
        layer = layer.max_age(std::time::Duration::from_secs(age));
    }
    layer
}

async fn dispatch(
    gateway: &Gateway,
    api_id: &str,
    routes: &[Route],
    params: RawPathParams,
    req: Request,
) -> Response {
    gateway.meter.api_request();
    let method = req.method().as_str().to_string();
    let Some(route) = routes
        .iter()
        .find(|r| r.method == method)
        .or_else(|| routes.iter().find(|r| r.method == "ANY"))
    else {
        return message(StatusCode::NOT_FOUND, "Not Found");
    };
    if req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|n| n > MAX_BODY_BYTES)
    {
        return message(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large");
    }
    let claims = match &route.authorizer {
        None => None,
        Some(jwt) => match authorize(gateway, jwt, &route.scopes, req.headers()) {
            Ok(claims) => Some(claims),
            Err(Denied::Unauthorized) => return message(StatusCode::UNAUTHORIZED, "Unauthorized"),
            Err(Denied::Forbidden) => return message(StatusCode::FORBIDDEN, "Forbidden"),
        },
    };
    let context = context(gateway, api_id, route, &req, claims.as_ref());
    let path_params: std::collections::HashMap<String, String> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let query: std::collections::HashMap<String, Vec<String>> = req
        .uri()
        .query()
        .map(|q| {
            let mut m: std::collections::HashMap<String, Vec<String>> = Default::default();
            for pair in q.split('&').filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                m.entry(k.to_string()).or_default().push(v.to_string());
            }
            m
        })
        .unwrap_or_default();
    let (mut parts, body) = req.into_parts();
    // The function's router matches the path again, as it does on Lambda: the outer route's
    // matched parameters must not reach it (axum would hand its extractors both sets).
    parts.extensions = Default::default();
    // API Gateway buffers the body (and caps it, also when no Content-Length announced it).
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => Body::from(bytes),
        Err(_) => return message(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large"),
    };
    let req = Request::from_parts(parts, body)
        .with_request_context(RequestContext::ApiGatewayV2(context))
        .with_path_parameters(path_params)
        .with_query_string_parameters(query);
    let t = std::time::Instant::now();
    let resp = match route.router.clone().oneshot(req).await {
        Ok(resp) => resp,
        Err(never) => match never {},
    };
    gateway.meter.invoked(&route.function, t.elapsed());
    resp
}

/// Why the authorizer turned a request away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Denied {
    /// No token, a bad one, or one for another issuer or audience: 401.
    Unauthorized,
    /// A good token without a scope the route requires: 403.
    Forbidden,
}

/// Runs the JWT authorizer: the verified claims, or API Gateway's 401/403.
fn authorize(
    gateway: &Gateway,
    jwt: &JwtAuthorizer,
    scopes: &[String],
    headers: &axum::http::HeaderMap,
) -> Result<Map<String, Value>, Denied> {
    let unauthorized = || Denied::Unauthorized;
    let header_name = jwt
        .identity_source
        .strip_prefix("$request.header.")
        .unwrap_or("Authorization");
    let raw = headers
        .get(header_name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .ok_or_else(unauthorized)?;
    let token = match raw.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ => raw,
    };
    let claims = gateway.cognito.verify(token).map_err(|e| {
        tracing::debug!(error = %e, "JWT authorizer refused a token");
        unauthorized()
    })?;
    if claims.issuer != local_issuer(&jwt.issuer) {
        tracing::debug!(issuer = %claims.issuer, expected = %jwt.issuer, "JWT authorizer: wrong issuer");
        return Err(unauthorized());
    }
    if !jwt.audience.is_empty() && !jwt.audience.contains(&claims.client_id) {
        tracing::debug!(client = %claims.client_id, "JWT authorizer: wrong audience");
        return Err(unauthorized());
    }
    if !scopes.is_empty() {
        let granted: Vec<&str> = match claims.token_use {
            TokenUse::Access => claims
                .raw
                .get("scope")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .split(' ')
                .collect(),
            TokenUse::Id => Vec::new(),
        };
        if !scopes.iter().any(|s| granted.contains(&s.as_str())) {
            return Err(Denied::Forbidden);
        }
    }
    Ok(claims.raw)
}

/// A claim as API Gateway hands it to the function: always a string.
pub fn flatten_claim(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(flatten_claim)
                .collect::<Vec<_>>()
                .join(" ")
        ),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn context(
    gateway: &Gateway,
    api_id: &str,
    route: &Route,
    req: &Request,
    claims: Option<&Map<String, Value>>,
) -> ApiGatewayV2httpRequestContext {
    let now = time::OffsetDateTime::now_utc();
    let format = time::macros::format_description!(
        "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000"
    );
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost")
        .to_string();
    let source_ip = req
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "127.0.0.1".to_string());
    let mut ctx = json!({
        "routeKey": route.route_key,
        "accountId": gateway.account_id,
        "stage": "$default",
        "requestId": uuid_like(),
        "apiId": api_id,
        "domainName": host,
        "domainPrefix": host.split('.').next().unwrap_or_default(),
        "time": now.format(&format).unwrap_or_default(),
        "timeEpoch": i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or_default(),
        "http": {
            "method": req.method().as_str(),
            "path": req.uri().path(),
            "protocol": format!("{:?}", req.version()),
            "sourceIp": source_ip,
            "userAgent": req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default(),
        },
    });
    if let Some(claims) = claims {
        let flat: Map<String, Value> = claims
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(flatten_claim(v))))
            .collect();
        ctx["authorizer"] = json!({"jwt": {"claims": flat, "scopes": null}});
    }
    serde_json::from_value(ctx).unwrap_or_default()
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("presso{:014x}", NEXT.fetch_add(1, Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_are_flattened_as_api_gateway_does() {
        assert_eq!(
            flatten_claim(&json!(["admin", "barista"])),
            "[admin barista]"
        );
        assert_eq!(flatten_claim(&json!(1700000000)), "1700000000");
        assert_eq!(flatten_claim(&json!(true)), "true");
        assert_eq!(flatten_claim(&json!("x")), "x");
    }

    #[test]
    fn greedy_path_parameters_become_axum_wildcards() {
        assert_eq!(axum_path("/api/{proxy+}"), "/api/{*proxy}");
        assert_eq!(axum_path("/api/orders/{id}"), "/api/orders/{id}");
    }
}
