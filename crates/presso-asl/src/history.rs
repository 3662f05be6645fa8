//! Execution history events, shaped like AWS `GetExecutionHistory` events.
//!
//! Events are recorded cheaply while the engine runs (typed details, payloads kept as
//! JSON values) and serialize to AWS's wire shape — `timestamp`, `type`, `id`,
//! `previousEventId` and one `<kind>EventDetails` object whose payloads (`input`,
//! `output`, `parameters`) are JSON *strings* — so a host can serve them directly.

use crate::name::StateName;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Value, json};
use std::sync::Arc;

/// One history event.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEvent {
    pub id: u64,
    pub previous_event_id: u64,
    /// Milliseconds since the Unix epoch (the host's clock at the command that caused it).
    pub timestamp_ms: i64,
    pub details: EventDetails,
}

/// The state types, for `<Type>StateEntered` / `<Type>StateExited`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateType {
    Pass,
    Task,
    Choice,
    Wait,
    Succeed,
    Fail,
    Parallel,
    Map,
}

impl StateType {
    fn entered(self) -> &'static str {
        match self {
            StateType::Pass => "PassStateEntered",
            StateType::Task => "TaskStateEntered",
            StateType::Choice => "ChoiceStateEntered",
            StateType::Wait => "WaitStateEntered",
            StateType::Succeed => "SucceedStateEntered",
            StateType::Fail => "FailStateEntered",
            StateType::Parallel => "ParallelStateEntered",
            StateType::Map => "MapStateEntered",
        }
    }

    fn exited(self) -> &'static str {
        match self {
            StateType::Pass => "PassStateExited",
            StateType::Task => "TaskStateExited",
            StateType::Choice => "ChoiceStateExited",
            StateType::Wait => "WaitStateExited",
            StateType::Succeed => "SucceedStateExited",
            StateType::Fail => "FailStateExited",
            StateType::Parallel => "ParallelStateExited",
            StateType::Map => "MapStateExited",
        }
    }
}

/// Identifies a task for the task events: `resourceType` and `resource` as AWS splits them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskResource {
    pub resource_type: String,
    pub resource: String,
}

/// Details of `TaskScheduled` (boxed: rare and large).
#[derive(Debug, Clone, PartialEq)]
pub struct TaskScheduled {
    pub task: Arc<TaskResource>,
    pub region: String,
    /// The resolved parameters sent to the resource.
    pub parameters: Value,
    pub timeout_seconds: Option<u64>,
    pub heartbeat_seconds: Option<u64>,
}

/// Details of `LambdaFunctionScheduled` (a bare Lambda ARN as the resource).
#[derive(Debug, Clone, PartialEq)]
pub struct LambdaFunctionScheduled {
    pub resource: String,
    pub input: Value,
    pub timeout_seconds: Option<u64>,
}

/// The typed details of each event kind.
///
/// Kept small (large, rare payloads are boxed): the engine records two events per
/// state transition.
#[derive(Debug, Clone, PartialEq)]
pub enum EventDetails {
    ExecutionStarted {
        input: Arc<Value>,
        role_arn: String,
    },
    ExecutionSucceeded {
        output: Arc<Value>,
    },
    ExecutionFailed {
        error: Option<String>,
        cause: Option<String>,
    },
    ExecutionAborted {
        error: Option<String>,
        cause: Option<String>,
    },
    ExecutionTimedOut {
        error: Option<String>,
        cause: Option<String>,
    },
    StateEntered {
        state_type: StateType,
        name: StateName,
        input: Arc<Value>,
    },
    StateExited {
        state_type: StateType,
        name: StateName,
        output: Arc<Value>,
    },
    TaskScheduled(Box<TaskScheduled>),
    TaskStarted {
        task: Arc<TaskResource>,
    },
    TaskSucceeded {
        task: Arc<TaskResource>,
        output: Value,
    },
    TaskFailed {
        task: Arc<TaskResource>,
        error: Option<String>,
        cause: Option<String>,
    },
    TaskTimedOut {
        task: Arc<TaskResource>,
        error: Option<String>,
        cause: Option<String>,
    },
    LambdaFunctionScheduled(Box<LambdaFunctionScheduled>),
    LambdaFunctionStarted,
    LambdaFunctionSucceeded {
        output: Value,
    },
    LambdaFunctionFailed {
        error: Option<String>,
        cause: Option<String>,
    },
    LambdaFunctionTimedOut {
        error: Option<String>,
        cause: Option<String>,
    },
    MapStateStarted {
        length: u64,
    },
    MapStateSucceeded,
    MapStateFailed,
    MapStateAborted,
    MapIterationStarted {
        name: StateName,
        index: u64,
    },
    MapIterationSucceeded {
        name: StateName,
        index: u64,
    },
    MapIterationFailed {
        name: StateName,
        index: u64,
    },
    MapIterationAborted {
        name: StateName,
        index: u64,
    },
    MapRunStarted {
        map_run_arn: String,
    },
    MapRunSucceeded,
    MapRunFailed {
        error: Option<String>,
        cause: Option<String>,
    },
    ParallelStateStarted,
    ParallelStateSucceeded,
    ParallelStateFailed,
    ParallelStateAborted,
}

impl EventDetails {
    /// AWS's event type name, e.g. `PassStateEntered`.
    pub fn event_type(&self) -> &'static str {
        use EventDetails as E;
        match self {
            E::ExecutionStarted { .. } => "ExecutionStarted",
            E::ExecutionSucceeded { .. } => "ExecutionSucceeded",
            E::ExecutionFailed { .. } => "ExecutionFailed",
            E::ExecutionAborted { .. } => "ExecutionAborted",
            E::ExecutionTimedOut { .. } => "ExecutionTimedOut",
            E::StateEntered { state_type, .. } => state_type.entered(),
            E::StateExited { state_type, .. } => state_type.exited(),
            E::TaskScheduled(_) => "TaskScheduled",
            E::TaskStarted { .. } => "TaskStarted",
            E::TaskSucceeded { .. } => "TaskSucceeded",
            E::TaskFailed { .. } => "TaskFailed",
            E::TaskTimedOut { .. } => "TaskTimedOut",
            E::LambdaFunctionScheduled(_) => "LambdaFunctionScheduled",
            E::LambdaFunctionStarted => "LambdaFunctionStarted",
            E::LambdaFunctionSucceeded { .. } => "LambdaFunctionSucceeded",
            E::LambdaFunctionFailed { .. } => "LambdaFunctionFailed",
            E::LambdaFunctionTimedOut { .. } => "LambdaFunctionTimedOut",
            E::MapStateStarted { .. } => "MapStateStarted",
            E::MapStateSucceeded => "MapStateSucceeded",
            E::MapStateFailed => "MapStateFailed",
            E::MapStateAborted => "MapStateAborted",
            E::MapIterationStarted { .. } => "MapIterationStarted",
            E::MapIterationSucceeded { .. } => "MapIterationSucceeded",
            E::MapIterationFailed { .. } => "MapIterationFailed",
            E::MapIterationAborted { .. } => "MapIterationAborted",
            E::MapRunStarted { .. } => "MapRunStarted",
            E::MapRunSucceeded => "MapRunSucceeded",
            E::MapRunFailed { .. } => "MapRunFailed",
            E::ParallelStateStarted => "ParallelStateStarted",
            E::ParallelStateSucceeded => "ParallelStateSucceeded",
            E::ParallelStateFailed => "ParallelStateFailed",
            E::ParallelStateAborted => "ParallelStateAborted",
        }
    }

    /// The `<kind>EventDetails` key and object, or `None` for events without details.
    pub fn details_json(&self) -> Option<(&'static str, Value)> {
        use EventDetails as E;
        let payload = |v: &Value| Value::String(v.to_string());
        let err = |e: &Option<String>, c: &Option<String>| {
            let mut m = serde_json::Map::new();
            if let Some(e) = e {
                m.insert("error".into(), Value::String(e.clone()));
            }
            if let Some(c) = c {
                m.insert("cause".into(), Value::String(c.clone()));
            }
            Value::Object(m)
        };
        let task_err = |t: &TaskResource, e: &Option<String>, c: &Option<String>| {
            let mut v = err(e, c);
            if let Value::Object(m) = &mut v {
                m.insert(
                    "resourceType".into(),
                    Value::String(t.resource_type.clone()),
                );
                m.insert("resource".into(), Value::String(t.resource.clone()));
            }
            v
        };
        let truncated = json!({"truncated": false});
        Some(match self {
            E::ExecutionStarted { input, role_arn } => (
                "executionStartedEventDetails",
                json!({"input": payload(input), "inputDetails": truncated, "roleArn": role_arn}),
            ),
            E::ExecutionSucceeded { output } => (
                "executionSucceededEventDetails",
                json!({"output": payload(output), "outputDetails": truncated}),
            ),
            E::ExecutionFailed { error, cause } => {
                ("executionFailedEventDetails", err(error, cause))
            }
            E::ExecutionAborted { error, cause } => {
                ("executionAbortedEventDetails", err(error, cause))
            }
            E::ExecutionTimedOut { error, cause } => {
                ("executionTimedOutEventDetails", err(error, cause))
            }
            E::StateEntered { name, input, .. } => (
                "stateEnteredEventDetails",
                json!({"name": &**name, "input": payload(input), "inputDetails": truncated}),
            ),
            E::StateExited { name, output, .. } => (
                "stateExitedEventDetails",
                json!({"name": &**name, "output": payload(output), "outputDetails": truncated}),
            ),
            E::TaskScheduled(t) => {
                let TaskScheduled {
                    task,
                    region,
                    parameters,
                    timeout_seconds,
                    heartbeat_seconds,
                } = &**t;
                let mut m = serde_json::Map::new();
                m.insert(
                    "resourceType".into(),
                    Value::String(task.resource_type.clone()),
                );
                m.insert("resource".into(), Value::String(task.resource.clone()));
                m.insert("region".into(), Value::String(region.clone()));
                m.insert("parameters".into(), payload(parameters));
                if let Some(t) = timeout_seconds {
                    m.insert("timeoutInSeconds".into(), Value::from(*t));
                }
                if let Some(h) = heartbeat_seconds {
                    m.insert("heartbeatInSeconds".into(), Value::from(*h));
                }
                ("taskScheduledEventDetails", Value::Object(m))
            }
            E::TaskStarted { task } => (
                "taskStartedEventDetails",
                json!({"resourceType": task.resource_type, "resource": task.resource}),
            ),
            E::TaskSucceeded { task, output } => (
                "taskSucceededEventDetails",
                json!({"resourceType": task.resource_type, "resource": task.resource, "output": payload(output), "outputDetails": truncated}),
            ),
            E::TaskFailed { task, error, cause } => {
                ("taskFailedEventDetails", task_err(task, error, cause))
            }
            E::TaskTimedOut { task, error, cause } => {
                ("taskTimedOutEventDetails", task_err(task, error, cause))
            }
            E::LambdaFunctionScheduled(l) => {
                let LambdaFunctionScheduled {
                    resource,
                    input,
                    timeout_seconds,
                } = &**l;
                let mut m = serde_json::Map::new();
                m.insert("resource".into(), Value::String(resource.clone()));
                m.insert("input".into(), payload(input));
                m.insert("inputDetails".into(), truncated);
                if let Some(t) = timeout_seconds {
                    m.insert("timeoutInSeconds".into(), Value::from(*t));
                }
                ("lambdaFunctionScheduledEventDetails", Value::Object(m))
            }
            E::LambdaFunctionSucceeded { output } => (
                "lambdaFunctionSucceededEventDetails",
                json!({"output": payload(output), "outputDetails": truncated}),
            ),
            E::LambdaFunctionFailed { error, cause } => {
                ("lambdaFunctionFailedEventDetails", err(error, cause))
            }
            E::LambdaFunctionTimedOut { error, cause } => {
                ("lambdaFunctionTimedOutEventDetails", err(error, cause))
            }
            E::MapStateStarted { length } => {
                ("mapStateStartedEventDetails", json!({"length": length}))
            }
            E::MapIterationStarted { name, index } => (
                "mapIterationStartedEventDetails",
                json!({"name": &**name, "index": index}),
            ),
            E::MapIterationSucceeded { name, index } => (
                "mapIterationSucceededEventDetails",
                json!({"name": &**name, "index": index}),
            ),
            E::MapIterationFailed { name, index } => (
                "mapIterationFailedEventDetails",
                json!({"name": &**name, "index": index}),
            ),
            E::MapIterationAborted { name, index } => (
                "mapIterationAbortedEventDetails",
                json!({"name": &**name, "index": index}),
            ),
            E::MapRunStarted { map_run_arn } => (
                "mapRunStartedEventDetails",
                json!({"mapRunArn": map_run_arn}),
            ),
            E::MapRunFailed { error, cause } => ("mapRunFailedEventDetails", err(error, cause)),
            E::LambdaFunctionStarted
            | E::MapStateSucceeded
            | E::MapStateFailed
            | E::MapStateAborted
            | E::MapRunSucceeded
            | E::ParallelStateStarted
            | E::ParallelStateSucceeded
            | E::ParallelStateFailed
            | E::ParallelStateAborted => return None,
        })
    }
}

impl HistoryEvent {
    pub fn event_type(&self) -> &'static str {
        self.details.event_type()
    }
}

impl Serialize for HistoryEvent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let details = self.details.details_json();
        let mut m = s.serialize_map(Some(if details.is_some() { 5 } else { 4 }))?;
        // The JSON protocol sends timestamps as epoch seconds.
        m.serialize_entry("timestamp", &(self.timestamp_ms as f64 / 1000.0))?;
        m.serialize_entry("type", self.event_type())?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("previousEventId", &self.previous_event_id)?;
        if let Some((k, v)) = details {
            m.serialize_entry(k, &v)?;
        }
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialize_in_the_aws_wire_shape() {
        let e = HistoryEvent {
            id: 2,
            previous_event_id: 1,
            timestamp_ms: 1_500,
            details: EventDetails::StateEntered {
                state_type: StateType::Pass,
                name: StateName::from("A"),
                input: Arc::new(json!({"x": 1})),
            },
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(
            v,
            json!({"timestamp": 1.5, "type": "PassStateEntered", "id": 2, "previousEventId": 1,
                   "stateEnteredEventDetails": {"name": "A", "input": "{\"x\":1}", "inputDetails": {"truncated": false}}})
        );
    }

    #[test]
    fn task_scheduled_carries_resolved_parameters_and_limits() {
        let e = EventDetails::TaskScheduled(Box::new(TaskScheduled {
            task: Arc::new(TaskResource {
                resource_type: "lambda".into(),
                resource: "invoke".into(),
            }),
            region: "us-east-1".into(),
            parameters: json!({"a": 1}),
            timeout_seconds: Some(30),
            heartbeat_seconds: None,
        }));
        let (k, v) = e.details_json().unwrap();
        assert_eq!(k, "taskScheduledEventDetails");
        assert_eq!(v["parameters"], "{\"a\":1}");
        assert_eq!(v["timeoutInSeconds"], 30);
        assert!(v.get("heartbeatInSeconds").is_none());
    }
}
