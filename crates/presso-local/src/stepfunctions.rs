//! The Step Functions endpoint: `X-Amz-Target: AWSStepFunctions.<Operation>` requests
//! (JSON 1.0), answered by `presso-sfn`'s durable service, plus the hooks its tasks call.
//!
//! This module translates and wires: request bytes to [`presso_sfn::Service::call_json`],
//! [`presso_sfn::SfnError`] to the wire error, and the service's hooks to presso's own
//! services — `dynamodb:*` tasks to the DynamoDB store, `events:putEvents` to the bus (every
//! entry is also kept and readable at `GET /_presso/events`), the clock to [`Clock`]. It also
//! serves `POST /_presso/clock {"advanceSeconds": N}` (and `GET` to read it), which moves the
//! one clock and lets due workflow timers fire at once.

use crate::aws_json::{self, AwsError, JsonVersion};
use crate::clock::Clock;
use crate::config::{Config, Storage};
use crate::server::AppState;
use async_trait::async_trait;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use presso_dynamo::Store;
use presso_sfn::{Hooks, Service, ServiceConfig, SfnError, TaskError};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// The `X-Amz-Target` prefix Step Functions requests carry.
pub const TARGET_PREFIX: &str = "AWSStepFunctions";

/// Forwards `PutEvents` entries to an event bus: takes the `PutEvents` request body and
/// answers its response.
pub type Bus = Arc<dyn Fn(Value) -> Result<Value, TaskError> + Send + Sync>;

/// A function `lambda:invoke` tasks run: the event in, the function's result or its error
/// message out.
pub type Function = Arc<
    dyn Fn(Value) -> std::pin::Pin<Box<dyn Future<Output = Result<Value, String>> + Send>>
        + Send
        + Sync,
>;

/// The running service and what the dev endpoints read.
#[derive(Clone)]
pub struct StepFunctions {
    pub service: Service,
    pub clock: Clock,
    sink: Arc<LocalEventSink>,
    functions: Arc<LocalFunctions>,
}

/// Where the service keeps its data and how it names ARNs.
pub struct Options {
    pub data_dir: Option<PathBuf>,
    pub region: String,
    pub account: String,
}

/// Opens the service as `presso serve` configures it, on `clock`, with `dynamodb:*` tasks
/// answered by `store`.
pub fn open(config: &Config, clock: Clock, store: &Store) -> Result<StepFunctions, SfnError> {
    let data_dir = match &config.storage {
        Storage::InMemory => None,
        Storage::Dir(dir) => Some(dir.clone()),
    };
    let options = Options {
        data_dir,
        region: config.region.clone(),
        account: config.account_id.clone(),
    };
    StepFunctions::open(options, clock, store.clone(), None)
}

impl StepFunctions {
    /// Opens the service (reloading everything pending). Must run inside the tokio runtime.
    pub fn open(
        options: Options,
        clock: Clock,
        dynamodb: Store,
        bus: Option<Bus>,
    ) -> Result<StepFunctions, SfnError> {
        let sink = Arc::new(LocalEventSink {
            recorded: Mutex::new(Vec::new()),
            bus: RwLock::new(bus),
        });
        let functions = Arc::new(LocalFunctions::default());
        let hooks = Hooks {
            clock: Arc::new(clock.clone()),
            dynamodb: Arc::new(StoreDynamoDb(dynamodb)),
            events: sink.clone(),
            functions: functions.clone(),
        };
        let service = Service::open(
            ServiceConfig {
                data_dir: options.data_dir,
                region: options.region,
                account: options.account,
                // The bus and the functions are wired after the service opens.
                hold_until_started: true,
            },
            hooks,
        )?;
        Ok(StepFunctions {
            service,
            clock,
            sink,
            functions,
        })
    }

    /// Answers one Step Functions request.
    pub async fn handle(&self, operation: &str, body: &[u8]) -> Response {
        match self.service.call_json(operation, body).await {
            Ok(v) => aws_json::ok(
                JsonVersion::V1_0,
                serde_json::to_vec(&v).unwrap_or_default(),
            ),
            Err(err) => {
                if err.is_server_error() {
                    tracing::error!(operation, error = %err, "stepfunctions request failed");
                }
                aws_json::error(JsonVersion::V1_0, to_aws(&err))
            }
        }
    }

    /// Sends `events:putEvents` entries to this bus from now on (they are still recorded).
    pub fn set_bus(&self, bus: Bus) {
        if let Ok(mut b) = self.sink.bus.write() {
            *b = Some(bus);
        }
    }

    /// Makes the function `name` (and `arn:aws:lambda:...:function:<name>`) runnable by
    /// `lambda:invoke` tasks and bare function ARNs.
    pub fn register_function(&self, name: impl Into<String>, function: Function) {
        self.functions
            .by_name
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(name.into(), function);
    }

    /// Every `PutEvents` entry workflows sent, oldest first, each with its `EventId`.
    pub fn recorded_events(&self) -> Vec<Value> {
        self.sink
            .recorded
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }
}

/// Maps the service's error to Step Functions' wire error.
pub fn to_aws(err: &SfnError) -> AwsError {
    let message = err.to_string();
    if err.is_server_error() {
        AwsError::server(err.aws_type(), message)
    } else {
        AwsError::client(err.aws_type(), message)
    }
}

/// `dynamodb:*` and `aws-sdk:dynamodb:*` tasks, against presso's store.
struct StoreDynamoDb(Store);

impl presso_sfn::DynamoDb for StoreDynamoDb {
    fn call(&self, operation: &str, request: &Value) -> Result<Value, TaskError> {
        let body = serde_json::to_vec(request).unwrap_or_default();
        match self.0.call_json(operation, &body) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                TaskError::new("States.Runtime", format!("DynamoDB answered non-JSON: {e}"))
            }),
            Err(e) => {
                let status = if e.is_server_error() { 500 } else { 400 };
                Err(TaskError::new(
                    format!("DynamoDb.{}", e.aws_type()),
                    format!(
                        "{e} (Service: DynamoDb, Status Code: {status}, Error Code: {})",
                        e.aws_type()
                    ),
                ))
            }
        }
    }
}

/// The functions presso hosts, by function name, for `lambda:invoke`.
#[derive(Default)]
struct LocalFunctions {
    by_name: RwLock<std::collections::HashMap<String, Function>>,
}

#[async_trait]
impl presso_sfn::FunctionInvoker for LocalFunctions {
    async fn invoke(&self, function: &str, payload: Value) -> Result<Value, TaskError> {
        // A name, a full ARN (`...:function:NAME[:qualifier]`) or a partial one (`NAME:qualifier`).
        let name = match function.split_once(":function:") {
            Some((_, rest)) => rest.split(':').next().unwrap_or(rest),
            None => function.split(':').next().unwrap_or(function),
        };
        let found = self
            .by_name
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(name)
            .cloned();
        let Some(run) = found else {
            return presso_sfn::NoFunctions.invoke(function, payload).await;
        };
        // A function that fails: the task's error is the function's error type, its cause the
        // error document Lambda returns, as Step Functions reports an unhandled function error.
        run(payload).await.map_err(|message| {
            TaskError::new(
                "Error",
                json!({"errorType": "Error", "errorMessage": message}).to_string(),
            )
        })
    }
}

/// Keeps every entry, then hands them to the bus when one is wired.
struct LocalEventSink {
    recorded: Mutex<Vec<Value>>,
    bus: RwLock<Option<Bus>>,
}

#[async_trait]
impl presso_sfn::EventSink for LocalEventSink {
    async fn put_events(&self, entries: Vec<Value>) -> Result<Value, TaskError> {
        let bus = self.bus.read().ok().and_then(|b| b.clone());
        let out = match bus {
            Some(bus) => bus(json!({"Entries": entries.clone()}))?,
            None => {
                let ids: Vec<Value> = entries
                    .iter()
                    .map(|_| json!({"EventId": uuid_like()}))
                    .collect();
                json!({"Entries": ids, "FailedEntryCount": 0})
            }
        };
        let ids = out.get("Entries").and_then(Value::as_array);
        if let Ok(mut recorded) = self.recorded.lock() {
            for (i, mut e) in entries.into_iter().enumerate() {
                if let (Value::Object(m), Some(id)) = (
                    &mut e,
                    ids.and_then(|ids| ids.get(i))
                        .and_then(|r| r.get("EventId")),
                ) {
                    m.insert("EventId".into(), id.clone());
                }
                recorded.push(e);
            }
        }
        Ok(out)
    }
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{:08x}-0000-4000-8000-{:012x}", std::process::id(), n)
}

/// `/_presso/clock` and `/_presso/events`.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/_presso/clock", get(read_clock).post(advance_clock))
        .route("/_presso/events", get(recorded_events))
}

fn clock_json(clock: &Clock) -> Value {
    let ms = clock.now_ms();
    json!({"nowMs": ms, "now": ms as f64 / 1000.0, "timeScale": clock.scale()})
}

async fn read_clock(State(state): State<Arc<AppState>>) -> Response {
    axum::Json(clock_json(&state.stepfunctions.clock)).into_response()
}

async fn advance_clock(State(state): State<Arc<AppState>>, body: axum::body::Bytes) -> Response {
    let secs = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("advanceSeconds").and_then(Value::as_f64));
    let Some(secs) = secs.filter(|s| s.is_finite() && *s >= 0.0) else {
        let problem = json!({
            "type": "about:blank",
            "title": "Bad Request",
            "status": 400,
            "detail": "expected {\"advanceSeconds\": N} with N a non-negative number",
        });
        let mut resp = (StatusCode::BAD_REQUEST, axum::Json(problem)).into_response();
        resp.headers_mut().insert(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/problem+json"),
        );
        return resp;
    };
    let sfn = &state.stepfunctions;
    sfn.clock.advance(Duration::from_secs_f64(secs));
    sfn.service.clock_changed();
    axum::Json(clock_json(&sfn.clock)).into_response()
}

async fn recorded_events(State(state): State<Arc<AppState>>) -> Response {
    axum::Json(state.stepfunctions.recorded_events()).into_response()
}

/// EventBridge rules whose target is a state machine start executions here.
struct RuleTargets(Service);

#[async_trait]
impl crate::events::StateMachines for RuleTargets {
    async fn start_execution(
        &self,
        state_machine_arn: &str,
        input: Value,
    ) -> Result<(), presso_events::DeliveryError> {
        let body = json!({"stateMachineArn": state_machine_arn, "input": input.to_string()});
        match self.0.call("StartExecution", body).await {
            Ok(_) => Ok(()),
            Err(SfnError::StateMachineDoesNotExist(m)) => {
                Err(presso_events::DeliveryError::NotFound(m))
            }
            Err(e) => Err(presso_events::DeliveryError::Failed(e.to_string())),
        }
    }
}

/// Connects the service and the bus both ways: `events:putEvents` tasks publish on it, and
/// rules targeting a state machine start executions.
pub fn connect_bus(sfn: &StepFunctions, events: &crate::events::Events) {
    let bus = events.service.clone();
    sfn.set_bus(Arc::new(move |body| {
        bus.call("PutEvents", &body)
            .map_err(|e| TaskError::new(format!("EventBridge.{}", e.type_name()), e.message()))
    }));
    events
        .targets
        .set_state_machines(Arc::new(RuleTargets(sfn.service.clone())));
}
