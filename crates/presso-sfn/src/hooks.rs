//! What the host lends the service: a clock, and the other services tasks call.
//!
//! The service runs its own integrations (`aws-sdk:sfn:*`, `states:startExecution`); every
//! other resource goes through one of these small traits, which the host implements with
//! its own services (presso-local: its DynamoDB store, later its EventBridge bus and hosted
//! functions). Defaults exist for the hooks a host may not have yet: [`RecordingEventSink`]
//! keeps the entries it is given so tests and users can read them, and [`NoFunctions`]
//! answers every invoke as Lambda does for a function that does not exist.

use async_trait::async_trait;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The one clock executions run on (virtual in tests, scaled with `--time-scale`).
pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since the Unix epoch, on this clock.
    fn now_ms(&self) -> i64;
    /// How long to wait on the wall clock until this clock shows `at_ms`.
    fn real_delay_until(&self, at_ms: i64) -> Duration {
        Duration::from_millis(at_ms.saturating_sub(self.now_ms()).max(0) as u64)
    }
}

/// The wall clock, unscaled.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
    }
}

/// A task's failure as the workflow sees it: the `Error` Retry and Catch match on, and a cause.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}: {cause}")]
pub struct TaskError {
    pub error: String,
    pub cause: String,
}

impl TaskError {
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> TaskError {
        TaskError {
            error: error.into(),
            cause: cause.into(),
        }
    }
}

/// DynamoDB as the tasks call it: one operation by its API name (`GetItem`) with its JSON
/// request; errors come back already named as Step Functions names them
/// (`DynamoDb.ConditionalCheckFailedException`). Blocking: the service calls it off the
/// async workers.
pub trait DynamoDb: Send + Sync + 'static {
    fn call(&self, operation: &str, request: &Value) -> Result<Value, TaskError>;
}

/// A host without DynamoDB: every call fails as a call to a missing table would.
#[derive(Debug, Default)]
pub struct NoDynamoDb;

impl DynamoDb for NoDynamoDb {
    fn call(&self, operation: &str, _request: &Value) -> Result<Value, TaskError> {
        Err(TaskError::new(
            "DynamoDb.ResourceNotFoundException",
            format!("no DynamoDB is attached to this Step Functions service ({operation})"),
        ))
    }
}

/// Where `events:putEvents` delivers: the EventBridge bus once one is wired.
#[async_trait]
pub trait EventSink: Send + Sync + 'static {
    /// Takes `PutEvents` entries (`Source`, `DetailType`, `Detail`, `EventBusName`, …) and
    /// answers `PutEvents`'s response (`Entries` with `EventId`s, `FailedEntryCount`).
    async fn put_events(&self, entries: Vec<Value>) -> Result<Value, TaskError>;
}

/// An event sink that keeps every entry it accepts, in order.
#[derive(Debug, Default, Clone)]
pub struct RecordingEventSink {
    entries: Arc<Mutex<Vec<Value>>>,
}

impl RecordingEventSink {
    pub fn new() -> RecordingEventSink {
        RecordingEventSink::default()
    }

    /// Every entry put so far, each with the `EventId` it was given.
    pub fn entries(&self) -> Vec<Value> {
        self.entries.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl EventSink for RecordingEventSink {
    async fn put_events(&self, entries: Vec<Value>) -> Result<Value, TaskError> {
        let mut out = Vec::with_capacity(entries.len());
        let mut kept = self
            .entries
            .lock()
            .map_err(|_| TaskError::new("EventBridge.InternalException", "sink poisoned"))?;
        for mut entry in entries {
            let id = uuid::Uuid::new_v4().to_string();
            if let Value::Object(m) = &mut entry {
                m.insert("EventId".into(), json!(id));
            }
            kept.push(entry);
            out.push(json!({"EventId": id}));
        }
        Ok(json!({"Entries": out, "FailedEntryCount": 0}))
    }
}

/// Runs Lambda functions for `lambda:invoke` and bare function ARNs.
#[async_trait]
pub trait FunctionInvoker: Send + Sync + 'static {
    /// Invokes the function named (name, ARN or partial ARN) with `payload`; answers the
    /// function's result, or the error the workflow sees (`Lambda.ResourceNotFoundException`,
    /// or the function's own `errorType`).
    async fn invoke(&self, function: &str, payload: Value) -> Result<Value, TaskError>;
}

/// A host that runs no functions.
#[derive(Debug, Default)]
pub struct NoFunctions;

#[async_trait]
impl FunctionInvoker for NoFunctions {
    async fn invoke(&self, function: &str, _payload: Value) -> Result<Value, TaskError> {
        Err(TaskError::new(
            "Lambda.ResourceNotFoundException",
            format!(
                "Function not found: {function} (Service: Lambda, Status Code: 404, Request ID: presso)"
            ),
        ))
    }
}

/// Everything a [`crate::Service`] borrows from its host.
#[derive(Clone)]
pub struct Hooks {
    pub clock: Arc<dyn Clock>,
    pub dynamodb: Arc<dyn DynamoDb>,
    pub events: Arc<dyn EventSink>,
    pub functions: Arc<dyn FunctionInvoker>,
}

impl Default for Hooks {
    fn default() -> Hooks {
        Hooks {
            clock: Arc::new(SystemClock),
            dynamodb: Arc::new(NoDynamoDb),
            events: Arc::new(RecordingEventSink::new()),
            functions: Arc::new(NoFunctions),
        }
    }
}
