//! The app under `presso serve --template`: reads `template.yaml` (with `presso-template`),
//! applies its resources to presso's services on every start (idempotently: nothing existing is
//! reset), hosts its functions in-process, emulates API Gateway's HTTP API in front of them,
//! and serves the apps and `/config.json`.
//!
//! Modules: [`functions`] (the registry of hostable crates and the environment each function
//! gets), [`apigw`] (routes, JWT authorizer, request context, CORS, payload limit), [`apply`]
//! (tables, pools, buses, rules, state machines), [`web`] (the apps and `/config.json`),
//! [`host`] (the wiring into `presso serve`).
//!
//! Region and account are `presso serve`'s (`--region`, `--account-id`), the ones Step Functions
//! names its ARNs with, so a template's ARNs point at what presso created.

pub mod apigw;
pub mod apply;
pub mod functions;
pub mod host;
pub mod web;

pub use apply::{Applied, SfnCall, SfnCallError};
pub use functions::{
    BoxFuture, Env, EventHandler, FunctionRegistry, HostError, Hosted, event_handler,
};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use presso_cognito::IdentityProvider;
use presso_dynamo::Store;
use presso_template::Stack;
use tower::ServiceExt as _;

/// The stack name `AWS::StackName` resolves to.
pub const STACK_NAME: &str = "presso";

/// Why the app could not start.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Template(#[from] presso_template::TemplateError),
    #[error(transparent)]
    Host(#[from] HostError),
    #[error("the template's HTTP API is not one presso can serve: {0}")]
    Routes(String),
    #[error("cannot apply the template: {0}")]
    Apply(String),
}

/// The services the app is applied to.
#[derive(Clone)]
pub struct Services {
    pub dynamodb: Store,
    pub cognito: Arc<IdentityProvider>,
    /// EventBridge, when the host runs it (buses, rules and targets are created there).
    pub events: Option<presso_events::EventBridge>,
    /// Step Functions, when the host runs it.
    pub step_functions: Option<SfnCall>,
    /// Counts API requests and function invocations.
    pub meter: Arc<crate::usage::Meter>,
}

/// What `start` needs besides the services.
pub struct Settings<'a> {
    pub template: Option<&'a Path>,
    pub parameter_overrides: &'a [String],
    /// What `/config.json` and QR codes point at.
    pub public_url: String,
    /// Where functions reach presso's AWS APIs (`AWS_ENDPOINT_URL`).
    pub endpoint_url: String,
    pub static_dir: Option<PathBuf>,
    pub functions: &'a FunctionRegistry,
    pub region: String,
    pub account_id: String,
}

/// The running app.
pub struct App {
    pub stack: Option<Stack>,
    /// The HTTP API, the apps and `/config.json`; merge it with the AWS endpoints.
    pub router: Router,
    /// Event functions by function name, for the hosts that deliver to them (EventBridge
    /// targets, Step Functions' `lambda:invoke`).
    pub event_functions: BTreeMap<String, EventHandler>,
    /// The pool and clients the template's IoT custom authorizer accepts: presso's broker,
    /// which does that function's work, accepts exactly these.
    pub mqtt_trust: Option<crate::realtime::Trusted>,
    pub applied: Applied,
    pub config_json: serde_json::Value,
}

impl App {
    /// Invokes an event function by name or ARN.
    pub async fn invoke(
        &self,
        name_or_arn: &str,
        event: serde_json::Value,
    ) -> Option<Result<serde_json::Value, String>> {
        let name = name_or_arn
            .split_once(":function:")
            .map_or(name_or_arn, |(_, rest)| {
                rest.split(':').next().unwrap_or(rest)
            });
        let handler = self.event_functions.get(name)?.clone();
        Some(handler(event).await)
    }
}

/// Registers an event function crate: `deps_from_env(&env)` once, then `handle(&deps,
/// LambdaEvent<Envelope>)` per event, as its `main` does on Lambda.
macro_rules! event_function {
    ($registry:expr, $name:literal, $krate:ident) => {
        $registry.event($name, |env| async move {
            let deps = Arc::new($krate::deps_from_env(&env_map(env)).await);
            Ok(event_handler(move |event: serde_json::Value| {
                let deps = deps.clone();
                async move {
                    let envelope: presso_fn_common::event::Envelope = serde_json::from_value(event)
                        .map_err(|e| format!("not an EventBridge event: {e}"))?;
                    let event = lambda_runtime::LambdaEvent::new(
                        envelope,
                        lambda_runtime::Context::default(),
                    );
                    $krate::handle(&deps, event)
                        .await
                        .map_err(|e| e.to_string())
                }
            }))
        })
    };
}

/// Counts each invocation of `handler` and its duration.
fn metered(handler: EventHandler, name: &str, meter: Arc<crate::usage::Meter>) -> EventHandler {
    let name: Arc<str> = Arc::from(name);
    functions::event_handler(move |event| {
        let (handler, name, meter) = (handler.clone(), name.clone(), meter.clone());
        async move {
            let t = std::time::Instant::now();
            let result = handler(event).await;
            meter.invoked(&name, t.elapsed());
            result
        }
    })
}

fn env_map(env: Env) -> std::collections::HashMap<String, String> {
    env.into_iter().collect()
}

/// The IoT custom authorizer's crate: replaced by the broker, which takes its configuration.
const MQTT_AUTHORIZER_CRATE: &str = "presso-fn-mqtt-authorizer";

/// The authorizer's `USER_POOL_ID` and `USER_POOL_CLIENT_IDS` (comma-separated).
fn mqtt_trust_of(env: &std::collections::BTreeMap<String, String>) -> crate::realtime::Trusted {
    crate::realtime::Trusted {
        user_pool_id: env.get("USER_POOL_ID").cloned().unwrap_or_default(),
        client_ids: env
            .get("USER_POOL_CLIENT_IDS")
            .map(|ids| {
                ids.split(',')
                    .map(str::trim)
                    .filter(|id| !id.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// The crates this `presso` hosts: the app's HTTP functions (each `app(&env)` is the router
/// `lambda_http::run` serves on Lambda) and its event functions.
pub fn builtin_functions() -> FunctionRegistry {
    let registry = FunctionRegistry::new()
        .replaced(
            MQTT_AUTHORIZER_CRATE,
            "presso's broker checks the token and the ACL itself",
        )
        .replaced(
            "presso-fn-iot-endpoint",
            "IoT data Publish is answered on presso's own port",
        )
        .http("presso-fn-config", |env| async move {
            Ok(presso_fn_config::app(&env_map(env)).await)
        })
        .http("presso-fn-order-manager", |env| async move {
            Ok(presso_fn_order_manager::app(&env_map(env)).await)
        })
        .http("presso-fn-validator", |env| async move {
            Ok(presso_fn_validator::app(&env_map(env)).await)
        });
    let registry = event_function!(registry, "presso-fn-journey", presso_fn_journey);
    let registry = event_function!(
        registry,
        "presso-fn-order-timeouts",
        presso_fn_order_timeouts
    );
    let registry = event_function!(registry, "presso-fn-publisher", presso_fn_publisher);
    let registry = event_function!(
        registry,
        "presso-fn-waiting-completion",
        presso_fn_waiting_completion
    );
    event_function!(
        registry,
        "presso-fn-workflow-started",
        presso_fn_workflow_started
    )
}

/// The static folder to serve: the one given, else `frontend/dist` if it exists.
pub fn static_dir(given: Option<&Path>) -> Option<PathBuf> {
    match given {
        Some(d) => Some(d.to_path_buf()),
        None => {
            let d = PathBuf::from("frontend/dist");
            d.is_dir().then_some(d)
        }
    }
}

/// Reads the template, applies it, builds the functions and the router.
pub async fn start(settings: Settings<'_>, services: &Services) -> Result<App, AppError> {
    let mut applied = Applied::default();
    let stack = match settings.template {
        None => None,
        Some(path) => {
            let options = presso_template::Options {
                region: settings.region.clone(),
                account_id: settings.account_id.clone(),
                stack_name: STACK_NAME.into(),
                parameter_overrides: presso_template::parse_overrides(
                    settings.parameter_overrides,
                )?,
                public_url: Some(settings.public_url.clone()),
            };
            let stack = presso_template::load(path, &options)?;
            for w in &stack.warnings {
                tracing::warn!(template = %path.display(), "{w}");
            }
            Some(stack)
        }
    };
    let mut event_functions = BTreeMap::new();
    let mut mqtt_trust = None;
    let mut api_router = Router::new();
    if let Some(stack) = &stack {
        // Functions first: an unknown crate fails start-up before anything is written.
        let mut http = BTreeMap::new();
        for f in &stack.functions {
            let mut env = f.environment.clone();
            for (k, v) in [
                ("AWS_ENDPOINT_URL", settings.endpoint_url.as_str()),
                ("AWS_REGION", stack.region.as_str()),
                ("AWS_DEFAULT_REGION", stack.region.as_str()),
                ("AWS_ACCESS_KEY_ID", "presso"),
                ("AWS_SECRET_ACCESS_KEY", "presso"),
                ("AWS_LAMBDA_FUNCTION_NAME", f.name.as_str()),
            ] {
                env.insert(k.to_string(), v.to_string());
            }
            match settings
                .functions
                .build(&f.logical_id, &f.crate_name, env)
                .await?
            {
                Hosted::Http(router) => {
                    http.insert(f.logical_id.clone(), router);
                }
                Hosted::Replaced(reason) => {
                    tracing::info!(function = %f.logical_id, crate_name = %f.crate_name, "not started locally: {reason}");
                    if f.crate_name == MQTT_AUTHORIZER_CRATE {
                        mqtt_trust = Some(mqtt_trust_of(&f.environment));
                    }
                }
                Hosted::Event(handler) => {
                    if !f.http_routes.is_empty() {
                        return Err(AppError::Routes(format!(
                            "function {} has HttpApi events, but crate {} is an event function",
                            f.logical_id, f.crate_name
                        )));
                    }
                    event_functions.insert(
                        f.name.clone(),
                        metered(handler, &f.name, services.meter.clone()),
                    );
                }
            }
        }
        api_router = routes(stack, &http, services)?;

        apply::tables(&services.dynamodb, stack, &mut applied)?;
        let cognito = services.cognito.clone();
        let s = stack.clone();
        tokio::task::spawn_blocking(move || apply::cognito(&cognito, &s))
            .await
            .map_err(|e| AppError::Apply(format!("user pools: {e}")))??;
        match &services.events {
            Some(bus) => apply::events(bus, stack, &mut applied)?,
            None if !stack.event_buses.is_empty() || !stack.rules.is_empty() => {
                tracing::warn!(
                    "EventBridge is not running: the template's buses and rules are not created"
                );
            }
            None => {}
        }
        match &services.step_functions {
            Some(sfn) => apply::state_machines(sfn, stack, &mut applied).await?,
            None if !stack.state_machines.is_empty() => {
                tracing::warn!(
                    "Step Functions is not running: the template's state machines are not created"
                );
            }
            None => {}
        }
    }
    let pool = stack.as_ref().and_then(|s| s.user_pools.first());
    let client = stack.as_ref().and_then(|s| {
        s.user_pool_clients
            .iter()
            .find(|c| pool.is_some_and(|p| p.id == c.user_pool_id))
    });
    let config_json = web::config_json(
        &settings.region,
        pool.map(|p| p.id.as_str()),
        client.map(|c| c.id.as_str()),
        &settings.public_url,
    );
    let static_dir = settings.static_dir.clone();
    let fallback_dir = static_dir.clone();
    let router = api_router
        .merge(web::router(config_json.clone(), static_dir.as_deref()))
        .fallback(move |req: Request| fallback(fallback_dir.clone(), req));
    announce(
        &settings.public_url,
        static_dir.as_deref(),
        pool.map(|p| p.id.as_str()),
    );
    Ok(App {
        stack,
        router,
        event_functions,
        mqtt_trust,
        applied,
        config_json,
    })
}

/// What no route answers: API Gateway's 404 under `/api/`, else a file of the static build.
async fn fallback(static_dir: Option<PathBuf>, req: Request) -> Response {
    if req.uri().path().starts_with("/api/") || req.uri().path() == "/api" {
        return apigw::message(StatusCode::NOT_FOUND, "Not Found");
    }
    match static_dir {
        Some(dir) => match tower_http::services::ServeDir::new(dir).oneshot(req).await {
            Ok(resp) => resp.into_response(),
            Err(never) => match never {},
        },
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The API Gateway router for every HTTP API of the stack.
fn routes(
    stack: &Stack,
    http: &BTreeMap<String, Router>,
    services: &Services,
) -> Result<Router, AppError> {
    let gateway = apigw::Gateway {
        meter: services.meter.clone(),
        cognito: services.cognito.clone(),
        account_id: stack.account_id.clone(),
    };
    let mut seen_paths: BTreeMap<String, String> = BTreeMap::new();
    let mut router = Router::new();
    for api in &stack.http_apis {
        let mut routes: BTreeMap<String, Vec<apigw::Route>> = BTreeMap::new();
        for f in &stack.functions {
            for r in f
                .http_routes
                .iter()
                .filter(|r| r.api_logical_id == api.logical_id)
            {
                if r.path == "/config.json" {
                    // On AWS a function serves it from its environment; locally presso knows the
                    // bound address and the pool, so its own answer is the true one.
                    tracing::info!(
                        function = %f.logical_id,
                        "GET /config.json is answered by presso itself locally; the route is not mounted"
                    );
                    continue;
                }
                if let Some(own) = reserved(&r.path) {
                    return Err(AppError::Routes(format!(
                        "{} (function {}) collides with presso's own {own}",
                        r.route_key(),
                        f.logical_id
                    )));
                }
                if r.path == "$default" {
                    tracing::warn!(function = %f.logical_id, "the $default route is not served locally; skipped");
                    continue;
                }
                let fn_router = http.get(&f.logical_id).cloned().ok_or_else(|| {
                    AppError::Routes(format!("function {} serves no HTTP", f.logical_id))
                })?;
                let list = routes.entry(r.path.clone()).or_default();
                if list.iter().any(|x| x.method == r.method) {
                    return Err(AppError::Routes(format!(
                        "{} is declared twice",
                        r.route_key()
                    )));
                }
                list.push(apigw::Route {
                    route_key: r.route_key(),
                    method: r.method.clone(),
                    authorizer: r
                        .authorizer
                        .as_ref()
                        .and_then(|a| api.authorizers.get(a).cloned()),
                    scopes: r.authorization_scopes.clone(),
                    function: f.name.clone(),
                    router: fn_router,
                });
            }
        }
        for path in routes.keys() {
            if let Some(other) = seen_paths.insert(path.clone(), api.logical_id.clone()) {
                return Err(AppError::Routes(format!(
                    "{path} is a route of both {other} and {}; presso serves all APIs on one port",
                    api.logical_id
                )));
            }
        }
        router = router.merge(apigw::router(
            gateway.clone(),
            apigw::Api {
                api: api.clone(),
                routes,
            },
        ));
    }
    Ok(router)
}

/// The endpoint of presso's own a route path would shadow, if any: the AWS APIs, the broker,
/// the dev endpoints, the apps and `/config.json` share the port with the HTTP API.
fn reserved(path: &str) -> Option<&'static str> {
    let first = path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    match first {
        "" => Some("AWS endpoint at /"),
        "_presso" => Some("dev endpoints under /_presso/"),
        "topics" => Some("IoT data endpoint under /topics/"),
        "mqtt" => Some("MQTT endpoint at /mqtt"),
        "config.json" => Some("/config.json"),
        "display" | "barista" | "order" | "assets" => Some("apps"),
        _ if first.starts_with('{') => Some("endpoints (a route cannot start with a parameter)"),
        _ => None,
    }
}

fn announce(public_url: &str, static_dir: Option<&Path>, pool_id: Option<&str>) {
    let base = public_url.trim_end_matches('/');
    if let Some(dir) = static_dir {
        tracing::info!(
            static_dir = %dir.display(),
            "the apps: {base}/display/ (display), {base}/barista/ (barista), {base}/order/ (customers)"
        );
    }
    if let Some(pool) = pool_id {
        tracing::info!(
            "to make a barista, sign in once in the order app, then run: aws --endpoint-url {base} cognito-idp admin-add-user-to-group --user-pool-id {pool} --group-name admin --username <email>"
        );
    }
}
