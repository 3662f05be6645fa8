//! Execution history events, shaped like AWS `GetExecutionHistory` events.
//!
//! Events are recorded cheaply while the engine runs: typed details, and state
//! payloads (`input`/`output`) kept once per batch in [`History::payloads`] and referred
//! to by [`PayloadId`] — a state that passes its input on shares one payload with every
//! event that shows it. A [`History`] serializes to AWS's wire shape — `timestamp`,
//! `type`, `id`, `previousEventId` and one `<kind>EventDetails` object whose payloads
//! (`input`, `output`, `parameters`) are JSON *strings* — so a host can serve it directly.

use crate::name::StateName;
use serde::ser::{Serialize, SerializeSeq, Serializer};
use serde_json::{Value, json};
use std::sync::Arc;

/// A state payload of one [`History`] batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayloadId(pub u32);

/// One batch of history, as returned by one `start`/`handle` call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// When the batch was recorded: the host's clock at the command that caused it
    /// (milliseconds since the Unix epoch); every event of the batch carries it.
    pub timestamp_ms: i64,
    pub events: Vec<HistoryEvent>,
    /// The state payloads the events refer to.
    pub payloads: Vec<Arc<Value>>,
}

impl History {
    /// The payload an event refers to (`null` for an id from another batch).
    pub fn payload(&self, id: PayloadId) -> &Value {
        self.payloads.get(id.0 as usize).map_or(&Value::Null, |v| v)
    }

    /// One event in AWS's `GetExecutionHistory` shape.
    pub fn event_json(&self, e: &HistoryEvent) -> Value {
        let mut m = serde_json::Map::new();
        // The JSON protocol sends timestamps as epoch seconds.
        m.insert("timestamp".into(), json!(self.timestamp_ms as f64 / 1000.0));
        m.insert("type".into(), json!(e.event_type()));
        m.insert("id".into(), json!(e.id));
        m.insert("previousEventId".into(), json!(e.previous_event_id()));
        if let Some((k, v)) = e.details.details_json(self) {
            m.insert(k.into(), v);
        }
        Value::Object(m)
    }

    /// Every event of the batch in AWS's shape, ready to store or serve one by one.
    pub fn to_aws_json(&self) -> Vec<Value> {
        self.events.iter().map(|e| self.event_json(e)).collect()
    }
}

impl Serialize for History {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.events.len()))?;
        for e in &self.events {
            seq.serialize_element(&self.event_json(e))?;
        }
        seq.end()
    }
}

/// One history event (its timestamp is its batch's).
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEvent {
    pub id: u64,
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

/// Which state's JSONata expression failed, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluationFailure {
    pub state: StateName,
    pub error: Option<String>,
    pub cause: Option<String>,
}

/// The typed details of each event kind.
///
/// Kept small (large, rare payloads are boxed): the engine records two events per
/// state transition.
#[derive(Debug, Clone, PartialEq)]
pub enum EventDetails {
    ExecutionStarted {
        input: PayloadId,
        role_arn: String,
    },
    ExecutionSucceeded {
        output: PayloadId,
    },
    ExecutionFailed {
        error: Option<String>,
        cause: Option<String>,
    },
    ExecutionAborted {
        error: Option<String>,
        cause: Option<String>,
    },
    /// A JSONata expression of a state failed (`States.QueryEvaluationError`).
    EvaluationFailed(Box<EvaluationFailure>),
    ExecutionTimedOut {
        error: Option<String>,
        cause: Option<String>,
    },
    StateEntered {
        state_type: StateType,
        name: StateName,
        input: PayloadId,
    },
    StateExited {
        state_type: StateType,
        name: StateName,
        output: PayloadId,
    },
    TaskScheduled(Box<TaskScheduled>),
    TaskStarted {
        task: Arc<TaskResource>,
    },
    TaskSucceeded {
        task: Arc<TaskResource>,
        output: Box<Value>,
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
        output: Box<Value>,
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
            E::EvaluationFailed(_) => "EvaluationFailed",
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
    pub fn details_json(&self, history: &History) -> Option<(&'static str, Value)> {
        let state_payload = |id: &PayloadId| Value::String(history.payload(*id).to_string());
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
                json!({"input": state_payload(input), "inputDetails": truncated, "roleArn": role_arn}),
            ),
            E::ExecutionSucceeded { output } => (
                "executionSucceededEventDetails",
                json!({"output": state_payload(output), "outputDetails": truncated}),
            ),
            E::ExecutionFailed { error, cause } => {
                ("executionFailedEventDetails", err(error, cause))
            }
            E::ExecutionAborted { error, cause } => {
                ("executionAbortedEventDetails", err(error, cause))
            }
            E::EvaluationFailed(f) => {
                let mut d = err(&f.error, &f.cause);
                if let Value::Object(m) = &mut d {
                    m.insert("state".into(), Value::String(f.state.to_string()));
                }
                ("evaluationFailedEventDetails", d)
            }
            E::ExecutionTimedOut { error, cause } => {
                ("executionTimedOutEventDetails", err(error, cause))
            }
            E::StateEntered { name, input, .. } => (
                "stateEnteredEventDetails",
                json!({"name": &**name, "input": state_payload(input), "inputDetails": truncated}),
            ),
            E::StateExited { name, output, .. } => (
                "stateExitedEventDetails",
                json!({"name": &**name, "output": state_payload(output), "outputDetails": truncated}),
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

    /// The engine records one causal chain per execution, so this is always `id - 1`.
    pub fn previous_event_id(&self) -> u64 {
        self.id.saturating_sub(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialize_in_the_aws_wire_shape() {
        let e = HistoryEvent {
            id: 2,
            details: EventDetails::StateEntered {
                state_type: StateType::Pass,
                name: StateName::from("A"),
                input: PayloadId(0),
            },
        };
        let h = History {
            timestamp_ms: 1_500,
            events: vec![e],
            payloads: vec![Arc::new(json!({"x": 1}))],
        };
        let v = serde_json::to_value(&h).unwrap();
        assert_eq!(
            v,
            json!([{"timestamp": 1.5, "type": "PassStateEntered", "id": 2, "previousEventId": 1,
                   "stateEnteredEventDetails": {"name": "A", "input": "{\"x\":1}", "inputDetails": {"truncated": false}}}])
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
        let (k, v) = e.details_json(&History::default()).unwrap();
        assert_eq!(k, "taskScheduledEventDetails");
        assert_eq!(v["parameters"], "{\"a\":1}");
        assert_eq!(v["timeoutInSeconds"], 30);
        assert!(v.get("heartbeatInSeconds").is_none());
    }
}
#[cfg(test)]
mod size_budget {
    #[test]
    fn events_stay_small() {
        // Two events are recorded per state transition: keep them compact.
        assert!(
            std::mem::size_of::<super::HistoryEvent>() <= 72,
            "{}",
            std::mem::size_of::<super::HistoryEvent>()
        );
    }
}
