//! The EventBridge endpoint: `X-Amz-Target: AWSEvents.<Operation>` requests, answered by
//! `presso-events`, and the targets presso hosts.
//!
//! Deliveries to a CloudWatch Logs ARN are kept by `presso-events` itself (read at
//! `GET /_presso/logs/{name}`); deliveries to functions and state machines go through
//! [`LocalTargets`], which other modules fill: the app module registers its functions
//! ([`LocalTargets::register_function`]) and the Step Functions service installs itself
//! ([`LocalTargets::set_state_machines`]). A delivery to a target nobody registered ends in the
//! dead-letter list (`GET /_presso/dead-letters`).

use crate::config::Storage;
use async_trait::async_trait;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use presso_events::{DeliveryError, EventBridge, Options, TargetInvoker};
use serde_json::Value;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

/// The `X-Amz-Target` service name EventBridge requests carry.
pub const SERVICE: &str = "AWSEvents";

/// What a hosted function returns to a delivery.
pub type FunctionFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// A function presso hosts, invoked with the target's input.
pub type FunctionHandler = Arc<dyn Fn(Value) -> FunctionFuture + Send + Sync>;

/// Starts executions of the state machines presso hosts.
#[async_trait]
pub trait StateMachines: Send + Sync {
    /// Starts an execution of `state_machine_arn` with `input` (StartExecution); an unknown
    /// state machine is [`DeliveryError::NotFound`].
    async fn start_execution(
        &self,
        state_machine_arn: &str,
        input: Value,
    ) -> Result<(), DeliveryError>;
}

/// The targets presso hosts besides logs: functions by name, and state machines.
#[derive(Default)]
pub struct LocalTargets {
    functions: RwLock<HashMap<String, FunctionHandler>>,
    state_machines: RwLock<Option<Arc<dyn StateMachines>>>,
}

impl LocalTargets {
    /// Makes `arn:aws:lambda:<region>:<account>:function:<name>` deliverable.
    pub fn register_function(&self, name: impl Into<String>, handler: FunctionHandler) {
        self.functions
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(name.into(), handler);
    }

    /// Makes `arn:aws:states:...:stateMachine:<name>` targets deliverable.
    pub fn set_state_machines(&self, service: Arc<dyn StateMachines>) {
        *self
            .state_machines
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(service);
    }

    fn function(&self, name: &str) -> Option<FunctionHandler> {
        self.functions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(name)
            .cloned()
    }

    fn state_machines(&self) -> Option<Arc<dyn StateMachines>> {
        self.state_machines
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// The function name of a Lambda ARN (`...:function:NAME` or `...:function:NAME:qualifier`).
fn function_name(arn: &str) -> Option<&str> {
    let (_, rest) = arn.split_once(":function:")?;
    Some(rest.split(':').next().unwrap_or(rest))
}

struct Invoker(Arc<LocalTargets>);

#[async_trait]
impl TargetInvoker for Invoker {
    async fn deliver(&self, target_arn: &str, input: Value) -> Result<(), DeliveryError> {
        if target_arn.starts_with("arn:aws:lambda:") {
            let name = function_name(target_arn).unwrap_or_default();
            let Some(handler) = self.0.function(name) else {
                return Err(DeliveryError::NotFound(format!(
                    "{target_arn} (presso hosts no function named {name:?})"
                )));
            };
            return handler(input).await.map_err(DeliveryError::Failed);
        }
        if target_arn.starts_with("arn:aws:states:") {
            let Some(service) = self.0.state_machines() else {
                return Err(DeliveryError::NotFound(format!(
                    "{target_arn} (presso's Step Functions service is not running)"
                )));
            };
            return service.start_execution(target_arn, input).await;
        }
        Err(DeliveryError::NotFound(format!(
            "{target_arn} (presso delivers to functions, state machines and log groups only)"
        )))
    }
}

/// The EventBridge service and the targets it delivers to.
#[derive(Clone)]
pub struct Events {
    pub service: EventBridge,
    pub targets: Arc<LocalTargets>,
}

/// presso's clock, as the event service reads it.
struct EventClock(crate::clock::Clock);

impl presso_events::Clock for EventClock {
    fn now_millis(&self) -> i64 {
        self.0.now_ms()
    }
}

impl Events {
    /// Opens `events.sqlite` in the data directory (or memory), on presso's clock (event times,
    /// schedules). Must run on the tokio runtime that will run the deliveries.
    pub fn open(
        storage: &Storage,
        clock: crate::clock::Clock,
    ) -> Result<Events, presso_events::OpenError> {
        let targets = Arc::new(LocalTargets::default());
        let storage = match storage {
            Storage::InMemory => presso_events::Storage::InMemory,
            Storage::Dir(dir) => presso_events::Storage::in_data_dir(dir),
        };
        let service = EventBridge::open(
            storage,
            Options {
                invoker: Arc::new(Invoker(targets.clone())),
                clock: Arc::new(EventClock(clock)),
                ..Options::default()
            },
        )?;
        Ok(Events { service, targets })
    }

    /// Answers one EventBridge request. `PutEvents` and `TestEventPattern` touch no database and
    /// run inline; the others run off the async workers.
    pub async fn handle(&self, target: &str, body: axum::body::Bytes) -> Response {
        let operation = target.split_once('.').map_or("", |(_, op)| op);
        let (status, value) = if matches!(operation, "PutEvents" | "TestEventPattern") {
            self.service.handle(target, &body)
        } else {
            let service = self.service.clone();
            let target = target.to_string();
            tokio::task::spawn_blocking(move || service.handle(&target, &body))
                .await
                .unwrap_or_else(|e| {
                    (
                        500,
                        serde_json::json!({"__type": "InternalException", "message": format!("the request handler failed: {e}")}),
                    )
                })
        };
        json_1_1(status, &value)
    }
}

/// A JSON 1.1 response as AWS sends it, errors with `x-amzn-ErrorType` too.
pub(crate) fn json_1_1(status: u16, value: &Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = (status, serde_json::to_vec(value).unwrap_or_default()).into_response();
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    if !status.is_success()
        && let Some(t) = value.get("__type").and_then(Value::as_str)
        && let Ok(v) = HeaderValue::from_str(t)
    {
        headers.insert("x-amzn-errortype", v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_arns_name_their_function_with_or_without_a_qualifier() {
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:1:function:publisher"),
            Some("publisher")
        );
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:1:function:publisher:live"),
            Some("publisher")
        );
        assert_eq!(function_name("arn:aws:states:x"), None);
    }
}
