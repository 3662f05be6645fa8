//! The interpreter: one execution as a sans-IO state machine.
//!
//! `Execution::start` and `Execution::handle` run the workflow as far as it can go
//! without the outside world and return [`Action`]s: history to record, tasks to run,
//! timers to start or cancel, and finally the outcome. Time only ever comes in with a
//! command (`now_ms`), so waits, retries and timeouts run on whatever clock the host
//! keeps — virtual in tests. Parallel branches and Map iterations are nested
//! [`Branch`]es inside the one execution state; every task or timer handle remembers the
//! route of child indexes that leads to the branch waiting on it. The whole state
//! serializes with serde; the compiled [`Definition`] is shared and re-attached on restore.

use crate::definition::{
    AssignSpec, Count, Definition, Kind, MapSpec, Next, PathSpec, ResultPath, STATES_ALL, Seconds,
    State, TaskSpec, Test, Text, WaitSpec,
};
use crate::expr::{ContextView, ExecInfo, Scope};
use crate::history::{
    EvaluationFailure, EventDetails, History, HistoryEvent, LambdaFunctionScheduled, PayloadId,
    StateType, TaskResource, TaskScheduled,
};
use crate::jsonata::{Env, JTemplate, States};
use crate::jsonpath::JsonPath;
use crate::rng::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// AWS's payload limit for state input/output and task results.
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;

/// Who and when: what the host knows about an execution when it starts it.
#[derive(Debug, Clone, PartialEq)]
pub struct StartContext {
    pub now_ms: i64,
    pub execution_arn: String,
    pub execution_name: String,
    pub state_machine_arn: String,
    pub state_machine_name: String,
    pub role_arn: String,
    pub region: String,
    /// Seeds the execution's generator (task tokens, `States.UUID`, jitter).
    pub seed: u64,
    /// AWS fails an execution whose history reaches 25,000 events; so does the engine
    /// (which also stops a workflow that loops without ever waiting).
    pub max_history_events: u64,
}

/// AWS's limit on the events in one execution history.
pub const MAX_HISTORY_EVENTS: u64 = 25_000;

/// AWS's limit on one variable's serialized value, and on all values one `Assign` sets.
pub const MAX_VARIABLE_BYTES: usize = 256 * 1024;

/// AWS's limit on all variables stored in one execution scope.
pub const MAX_VARIABLES_TOTAL_BYTES: usize = 10 * 1024 * 1024;

impl StartContext {
    /// A context with ARNs derived from the names, in `us-east-1` of account `123456789012`.
    pub fn new(state_machine_name: &str, execution_name: &str, now_ms: i64, seed: u64) -> Self {
        let region = "us-east-1";
        let account = "123456789012";
        StartContext {
            now_ms,
            execution_arn: format!(
                "arn:aws:states:{region}:{account}:execution:{state_machine_name}:{execution_name}"
            ),
            execution_name: execution_name.to_owned(),
            state_machine_arn: format!(
                "arn:aws:states:{region}:{account}:stateMachine:{state_machine_name}"
            ),
            state_machine_name: state_machine_name.to_owned(),
            role_arn: format!("arn:aws:iam::{account}:role/StepFunctions-{state_machine_name}"),
            region: region.to_owned(),
            seed,
            max_history_events: MAX_HISTORY_EVENTS,
        }
    }
}

/// What the host tells the engine. Every command carries the host's clock.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    TaskSucceeded {
        task_id: u64,
        output: Value,
    },
    TaskFailed {
        task_id: u64,
        error: String,
        cause: Option<String>,
    },
    TaskHeartbeat {
        task_id: u64,
    },
    TimerFired {
        timer_id: u64,
    },
    /// `StopExecution`.
    Stop {
        error: Option<String>,
        cause: Option<String>,
    },
}

/// A task the host must run.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRequest {
    pub task_id: u64,
    /// The state's `Resource` ARN as written.
    pub resource: String,
    /// e.g. `lambda`, `events`, `aws-sdk:dynamodb`.
    pub resource_type: String,
    /// e.g. `invoke`, `putEvents.waitForTaskToken`, `putItem`.
    pub resource_name: String,
    pub state_name: String,
    /// The resolved `Parameters` (or the effective input when there are none).
    pub parameters: Value,
    /// Set for `.waitForTaskToken` resources: the host reports on it later.
    pub token: Option<String>,
    pub timeout_seconds: Option<u64>,
    pub heartbeat_seconds: Option<u64>,
}

/// How an execution ended (or that it has not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Aborted,
}

/// The end of an execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub status: Status,
    /// Shared with the `ExecutionSucceeded` event's payload (a large output is not copied).
    #[serde(with = "opt_data")]
    pub output: Option<Arc<Value>>,
    pub error: Option<String>,
    pub cause: Option<String>,
}

/// What the host must do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Append these events to the execution's history.
    History(History),
    RunTask(TaskRequest),
    StartTimer {
        timer_id: u64,
        fire_at_ms: i64,
    },
    CancelTimer {
        timer_id: u64,
    },
    Finished(Outcome),
}

/// Misuse of the API by the host (not a workflow failure: those are data).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecutionError {
    #[error("the execution has already finished")]
    Finished,
    #[error("no task {0} is waiting in this execution (it finished, timed out or never existed)")]
    UnknownTask(u64),
    #[error("the restored state does not belong to this definition")]
    DefinitionMismatch,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Fault {
    pub(crate) error: Option<String>,
    pub(crate) cause: Option<String>,
    /// `States.Runtime`-class: never retried or caught.
    pub(crate) terminal: bool,
    /// A `States.Timeout` caused by a missed heartbeat, which `States.HeartbeatTimeout`
    /// also matches in Retry and Catch.
    #[serde(default)]
    pub(crate) heartbeat: bool,
    /// A JSONata state's own evaluation failure that has not yet been recorded and put
    /// through the state's Retry and Catch (see `Branch::attempt`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) fresh: bool,
}

impl Fault {
    fn new(error: &str, cause: impl Into<String>) -> Fault {
        Fault {
            error: Some(error.to_owned()),
            cause: Some(cause.into()),
            terminal: false,
            heartbeat: false,
            fresh: false,
        }
    }

    fn runtime(state: &str, entered_id: u64, msg: &str) -> Fault {
        Fault {
            error: Some("States.Runtime".into()),
            cause: Some(format!(
                "An error occurred while executing the state '{state}' (entered at the event id #{entered_id}). {msg}"
            )),
            terminal: true,
            heartbeat: false,
            fresh: false,
        }
    }

    /// `States.QueryEvaluationError`: a JSONata expression failed or gave the wrong type.
    fn query(state: &str, entered_id: u64, msg: &str) -> Fault {
        Fault {
            error: Some("States.QueryEvaluationError".into()),
            cause: Some(format!(
                "An error occurred while executing the state '{state}' (entered at the event id #{entered_id}). {msg}"
            )),
            terminal: false,
            heartbeat: false,
            fresh: true,
        }
    }

    /// A state's own failure: a query error in JSONata states, a runtime error otherwise.
    fn of_state(st: &State, entered_id: u64, msg: &str) -> Fault {
        if st.jsonata {
            Fault::query(&st.name, entered_id, msg)
        } else {
            Fault::runtime(&st.name, entered_id, msg)
        }
    }

    fn output(&self) -> Value {
        let mut m = Map::new();
        m.insert(
            "Error".into(),
            self.error.clone().map_or(Value::Null, Value::String),
        );
        if let Some(c) = &self.cause {
            m.insert("Cause".into(), Value::String(c.clone()));
        }
        Value::Object(m)
    }

    fn is(&self, name: &str) -> bool {
        self.error.as_deref() == Some(name)
    }
}

/// State data, shared between the running state and the history events that show it,
/// so a state that passes its input on copies nothing.
pub(crate) type Data = Arc<Value>;

mod opt_data {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use serde_json::Value;
    use std::sync::Arc;

    pub(super) fn serialize<S: Serializer>(
        v: &Option<Arc<Value>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        v.as_deref().serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Arc<Value>>, D::Error> {
        Option::<Value>::deserialize(d).map(|v| v.map(Arc::new))
    }
}

/// Workflow variables of one scope, shared copy-on-write with the branches it starts.
pub(crate) type Vars = Arc<Map<String, Value>>;

mod opt_vars {
    use super::Vars;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use serde_json::{Map, Value};
    use std::sync::Arc;

    pub(super) fn serialize<S: Serializer>(v: &Option<Vars>, s: S) -> Result<S::Ok, S::Error> {
        v.as_deref().serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vars>, D::Error> {
        Option::<Map<String, Value>>::deserialize(d).map(|v| v.map(Arc::new))
    }
}

pub(crate) mod data {
    use super::Data;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use serde_json::Value;
    use std::sync::Arc;

    pub(crate) fn serialize<S: Serializer>(v: &Data, s: S) -> Result<S::Ok, S::Error> {
        v.as_ref().serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Data, D::Error> {
        Value::deserialize(d).map(Arc::new)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Entered {
    id: u64,
    at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct TaskWait {
    state: u32,
    #[serde(with = "data")]
    input: Data,
    entered: Entered,
    retries: Vec<u32>,
    task_id: u64,
    token: Option<String>,
    timeout_timer: Option<u64>,
    heartbeat_timer: Option<u64>,
    heartbeat_seconds: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct MapRun {
    state: u32,
    #[serde(with = "data")]
    input: Data,
    entered: Entered,
    retries: Vec<u32>,
    #[serde(with = "data")]
    effective: Data,
    items: Vec<Value>,
    next: usize,
    active: BTreeMap<u32, Branch>,
    results: Vec<Value>,
    failures: u64,
    max: usize,
    tolerated_count: Option<u64>,
    tolerated_percentage: Option<f64>,
}

/// A state waiting out a retry interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Backoff {
    state: u32,
    #[serde(with = "data")]
    input: Data,
    entered: Entered,
    retries: Vec<u32>,
    timer: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ParRun {
    state: u32,
    #[serde(with = "data")]
    input: Data,
    entered: Entered,
    retries: Vec<u32>,
    active: BTreeMap<u32, Branch>,
    results: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Cursor {
    Idle,
    Enter {
        state: u32,
        #[serde(with = "data")]
        input: Data,
    },
    Task(Box<TaskWait>),
    Wait {
        state: u32,
        #[serde(with = "data")]
        output: Data,
        timer: u64,
    },
    Backoff(Box<Backoff>),
    Map(Box<MapRun>),
    Parallel(Box<ParRun>),
    Succeeded(#[serde(with = "data")] Data),
    Failed(Box<Fault>),
}

/// One thread of control: the top level, a Parallel branch or a Map iteration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Branch {
    machine: u32,
    /// Distributed Map children run as their own executions: their events are not ours.
    #[serde(default)]
    silent: bool,
    /// The variables this branch sees: its parent's when it started, plus its own
    /// assignments (which never reach the parent: AWS's scoping).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_vars")]
    variables: Option<Vars>,
    /// States entered by a silent branch, which records no history of its own: the
    /// history cap cannot stop it, so this does (as each child execution of a
    /// Distributed Map has its own history limit on AWS).
    #[serde(default, skip_serializing_if = "is_zero")]
    silent_entries: u64,
    cur: Cursor,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Wake {
    Task,
    TaskTimeout(u64),
    TaskHeartbeat(u64),
    Wait,
    Retry,
    ExecutionTimeout,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Pending {
    route: Vec<u32>,
    wake: Wake,
}

/// The serializable state of one execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionState {
    info: ExecInfo,
    root: Branch,
    status: Status,
    outcome: Option<Outcome>,
    last_event_id: u64,
    next_handle: u64,
    rng: Rng,
    pending: HashMap<u64, Pending>,
    tokens: HashMap<String, u64>,
    transitions: u64,
    max_history_events: u64,
}

/// A running (or finished) execution bound to its definition.
#[derive(Debug, Clone)]
pub struct Execution {
    def: Arc<Definition>,
    state: ExecutionState,
}

impl Serialize for Execution {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.state.serialize(s)
    }
}

enum StepEnd {
    End(Box<Outcome>),
    Unknown(u64),
}

struct Cx<'a> {
    def: &'a Definition,
    info: &'a ExecInfo,
    now: i64,
    last_event_id: &'a mut u64,
    next_handle: &'a mut u64,
    rng: &'a mut Rng,
    pending: &'a mut HashMap<u64, Pending>,
    tokens: &'a mut HashMap<String, u64>,
    transitions: &'a mut u64,
    max_history_events: u64,
    jsonata_timeout_ms: u64,
    events: Vec<HistoryEvent>,
    payloads: Vec<Data>,
    actions: Vec<Action>,
}

impl Cx<'_> {
    /// Files a state payload for this batch's events; consecutive events showing the
    /// same data share one entry (no copy, no reference count per event).
    #[inline]
    fn payload(&mut self, silent: bool, d: &Data) -> PayloadId {
        if silent {
            return PayloadId(0);
        }
        if let Some(last) = self.payloads.last()
            && Arc::ptr_eq(last, d)
        {
            return PayloadId(self.payloads.len() as u32 - 1);
        }
        self.payloads.push(d.clone());
        PayloadId(self.payloads.len() as u32 - 1)
    }

    /// Records an event (unless the branch is silent) and returns its id. The event is
    /// built only when it is recorded: one that might be dropped unrecorded is assembled
    /// on the stack and copied in, and its narrow fields stall the wide loads of the copy.
    #[inline]
    fn emit(&mut self, silent: bool, details: impl FnOnce() -> EventDetails) -> u64 {
        if silent {
            return 0;
        }
        let id = *self.last_event_id + 1;
        *self.last_event_id = id;
        self.events.push(HistoryEvent {
            id,
            details: details(),
        });
        id
    }

    fn handle(&mut self) -> u64 {
        *self.next_handle += 1;
        *self.next_handle
    }

    fn timer(&mut self, route: &[u32], wake: Wake, fire_at_ms: i64) -> u64 {
        let id = self.handle();
        self.pending.insert(
            id,
            Pending {
                route: route.to_vec(),
                wake,
            },
        );
        self.actions.push(Action::StartTimer {
            timer_id: id,
            fire_at_ms,
        });
        id
    }

    fn cancel_timer(&mut self, id: Option<u64>) {
        if let Some(id) = id
            && self.pending.remove(&id).is_some()
        {
            self.actions.push(Action::CancelTimer { timer_id: id });
        }
    }
}

fn state_type(k: &Kind) -> StateType {
    match k {
        Kind::Pass { .. } => StateType::Pass,
        Kind::Task(_) => StateType::Task,
        Kind::Choice { .. } => StateType::Choice,
        Kind::Wait(_) => StateType::Wait,
        Kind::Succeed => StateType::Succeed,
        Kind::Fail { .. } => StateType::Fail,
        Kind::Parallel { .. } => StateType::Parallel,
        Kind::Map(_) => StateType::Map,
    }
}

/// The `$$` view for a state.
fn view<'a>(
    info: &'a ExecInfo,
    st: &'a State,
    entered: Entered,
    retries: Option<u32>,
    token: Option<&'a str>,
    vars: Option<&'a Map<String, Value>>,
) -> ContextView<'a> {
    ContextView {
        exec: Some(info),
        state_name: &st.name,
        entered_ms: entered.at_ms,
        retry_count: retries,
        token,
        map_item: None,
        vars,
    }
}

/// A JSONata environment for one phase of a state: `$states` and the variables the
/// given templates mention, the host's clock, and a seed drawn from the execution's
/// generator (so `$random()` differs between states yet replays exactly).
fn jenv(
    cx: &mut Cx<'_>,
    ctx: &ContextView<'_>,
    input: &Value,
    result: Option<&Value>,
    error_output: Option<&Value>,
    templates: &[Option<&JTemplate>],
) -> Result<Env, String> {
    let mut sources = Vec::new();
    for t in templates.iter().flatten() {
        t.sources(&mut sources);
    }
    Env::new(
        &States {
            input,
            result,
            error_output,
            ctx,
            now_ms: cx.now,
            seed: cx.rng.next_u64(),
            timeout_ms: cx.jsonata_timeout_ms,
        },
        &sources,
    )
}

fn assign_template(a: Option<&AssignSpec>) -> Option<&JTemplate> {
    match a {
        Some(AssignSpec::Jsonata(t)) => Some(t),
        _ => None,
    }
}

/// Evaluates an `Assign` block to the variables it sets. JSONPath blocks read `$` from
/// `doc` (the state's result, effective input or error output); JSONata blocks read
/// `$states` from `env`.
fn eval_assign(
    a: Option<&AssignSpec>,
    doc: &Value,
    ctx: &ContextView<'_>,
    rng: &mut Rng,
    env: Option<&Env>,
) -> Result<Option<Map<String, Value>>, String> {
    let v = match (a, env) {
        (None, _) => return Ok(None),
        (Some(AssignSpec::Path(t)), _) => t.eval(&Scope::new(doc, ctx, rng))?,
        (Some(AssignSpec::Jsonata(t)), Some(env)) => t.eval(env, "Assign")?,
        (Some(AssignSpec::Jsonata(_)), None) => return Ok(None),
    };
    let Value::Object(mut m) = v else {
        return Ok(None);
    };
    // JSONPath keys name the variable without their `.$`.
    if matches!(a, Some(AssignSpec::Path(_))) {
        m = m
            .into_iter()
            .map(|(k, v)| match k.strip_suffix(".$") {
                Some(n) => (n.to_owned(), v),
                None => (k, v),
            })
            .collect();
    }
    let mut total = 0usize;
    for (k, v) in &m {
        let n = serde_json::to_string(v).map_or(0, |s| s.len());
        if n > MAX_VARIABLE_BYTES {
            return Err(format!(
                "The value assigned to the variable '{k}' is {n} bytes, more than the maximum of {MAX_VARIABLE_BYTES} bytes."
            ));
        }
        total += n;
    }
    if total > MAX_VARIABLE_BYTES {
        return Err(format!(
            "The variables assigned by the field 'Assign' total {total} bytes, more than the maximum of {MAX_VARIABLE_BYTES} bytes."
        ));
    }
    Ok(Some(m))
}

/// The text of a `Condition` (a literal boolean has none).
fn condition_source(t: &JTemplate) -> String {
    match t {
        JTemplate::Expr(e) => e.source.clone(),
        JTemplate::Const(v) => v.to_string(),
        _ => String::new(),
    }
}

/// The type names AWS uses in JSONata result-type errors.
fn jtype(v: &Value) -> &'static str {
    crate::jsonpath::type_name(v)
}

/// A JSONata result that must be a non-negative integer (`Seconds`, `MaxConcurrency`, ...).
fn jinteger(
    e: &crate::jsonata::JExpr,
    env: &Env,
    field: &str,
    integer: bool,
) -> Result<f64, String> {
    let v = e.eval_defined(env, field)?;
    match v.as_f64() {
        Some(x) if x >= 0.0 && (!integer || x.fract() == 0.0) => Ok(x),
        _ => Err(format!(
            "The JSONata expression '{}' specified for the field '{field}' returned an unexpected result type. Expected '{}', but was '{}' for value: {v}",
            e.source,
            if integer { "integer" } else { "number" },
            jtype(&v)
        )),
    }
}

fn retry_count(st: &State, retries: &[u32]) -> Option<u32> {
    matches!(
        st.kind,
        Kind::Task(_) | Kind::Map(_) | Kind::Parallel { .. }
    )
    .then(|| retries.iter().sum())
}

fn no_results(path: &JsonPath) -> String {
    format!(
        "Invalid path '{}' : No results for path: {}",
        path.source, path.source
    )
}

/// InputPath / OutputPath.
fn select_path(
    spec: &PathSpec,
    input: Data,
    scope_ctx: &ContextView<'_>,
    rng: &mut Rng,
) -> Result<Data, String> {
    match spec {
        PathSpec::Identity => Ok(input),
        PathSpec::Null => Ok(Arc::new(Value::Object(Map::new()))),
        PathSpec::Path(p) => {
            let scope = Scope::new(&input, scope_ctx, rng);
            scope.lookup(p).map(Arc::new).ok_or_else(|| no_results(p))
        }
    }
}

fn apply_result_path(spec: &ResultPath, raw: Data, result: Data) -> Result<Data, String> {
    match spec {
        ResultPath::Replace => Ok(result),
        ResultPath::Discard => Ok(raw),
        ResultPath::At(p) => {
            let err =
                |e: String| format!("Unable to apply ReferencePath {} to input: {e}", p.source);
            match Arc::try_unwrap(raw) {
                Ok(mut doc) => {
                    p.set(&mut doc, Arc::unwrap_or_clone(result)).map_err(err)?;
                    Ok(Arc::new(doc))
                }
                Err(shared) => p
                    .set_copy(&shared, Arc::unwrap_or_clone(result))
                    .map(Arc::new)
                    .map_err(err),
            }
        }
    }
}

/// Rough serialized size with early exit: enough to enforce the 256 KiB limit cheaply.
pub(crate) fn exceeds(v: &Value, limit: usize) -> bool {
    fn walk(v: &Value, budget: &mut isize) -> bool {
        *budget -= match v {
            Value::Null | Value::Bool(_) => 5,
            Value::Number(_) => 8,
            Value::String(s) => s.len() as isize + 2,
            Value::Array(a) => {
                for x in a {
                    if walk(x, budget) {
                        return true;
                    }
                }
                a.len() as isize + 2
            }
            Value::Object(m) => {
                for (k, x) in m {
                    *budget -= k.len() as isize + 3;
                    if walk(x, budget) {
                        return true;
                    }
                }
                2
            }
        };
        *budget < 0
    }
    let mut budget = limit as isize;
    walk(v, &mut budget) && v.to_string().len() > limit
}

fn matches_error(list: &[String], f: &Fault) -> bool {
    list.iter().any(|e| {
        if e == STATES_ALL {
            !f.is("States.DataLimitExceeded")
        } else if e == "States.TaskFailed" {
            !f.is("States.Timeout") && !f.is("States.DataLimitExceeded")
        } else if e == "States.HeartbeatTimeout" {
            f.heartbeat || f.is(e)
        } else {
            f.error.as_deref() == Some(e.as_str())
        }
    })
}

fn count_value(
    c: &Count,
    scope: &Scope<'_>,
    env: Option<&Env>,
    field: &str,
    integer: bool,
) -> Result<f64, String> {
    match c {
        Count::Fixed(x) => Ok(*x),
        Count::Expr(e) => match env {
            Some(env) => jinteger(e, env, field, integer),
            None => Ok(0.0),
        },
        Count::Path(p) => {
            let v = scope.lookup(p).ok_or_else(|| no_results(p))?;
            let shown = match &v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let kind = if integer { "integer" } else { "float" };
            let bad = || {
                format!(
                    "The {field}Path field refers to value \"{shown}\" which is not a valid {kind}: {}",
                    p.source
                )
            };
            // A variable may hold the number as a string ("1"), which AWS accepts.
            let x = match &v {
                Value::String(s) => s.trim().parse::<f64>().ok(),
                other => other.as_f64(),
            }
            .ok_or_else(bad)?;
            if integer && x.fract() != 0.0 {
                return Err(bad());
            }
            Ok(x)
        }
    }
}

fn seconds_value(
    s: &Seconds,
    scope: &Scope<'_>,
    env: Option<&Env>,
    field: &str,
) -> Result<u64, String> {
    match s {
        Seconds::Fixed(n) => Ok(*n),
        Seconds::Expr(e) => match env {
            Some(env) => jinteger(e, env, field, true).map(|x| x as u64),
            None => Ok(0),
        },
        Seconds::Path(p) => {
            let v = scope.lookup(p).ok_or_else(|| no_results(p))?;
            match v.as_f64() {
                Some(x) if x >= 0.0 && x.fract() == 0.0 => Ok(x as u64),
                _ => Err(format!(
                    "The {field}Path field refers to value \"{v}\" which is not a valid non-negative integer: {}",
                    p.source
                )),
            }
        }
    }
}

impl Branch {
    fn new(machine: u32, silent: bool, start: u32, input: Data, variables: Option<Vars>) -> Branch {
        Branch {
            machine,
            silent,
            variables,
            silent_entries: 0,
            cur: Cursor::Enter {
                state: start,
                input,
            },
        }
    }

    fn state<'d>(&self, def: &'d Definition, idx: u32) -> Option<&'d State> {
        def.machine(self.machine)?.states.get(idx as usize)
    }

    /// Stores what an `Assign` evaluated to, within AWS's limit on all variables.
    fn set_vars(&mut self, new: Option<Map<String, Value>>) -> Result<(), String> {
        let Some(new) = new else { return Ok(()) };
        if new.is_empty() {
            return Ok(());
        }
        let vars = Arc::make_mut(self.variables.get_or_insert_with(Default::default));
        for (k, v) in new {
            vars.insert(k, v);
        }
        let all = Value::Object(std::mem::take(vars));
        let over = exceeds(&all, MAX_VARIABLES_TOTAL_BYTES);
        if let Value::Object(m) = all {
            *vars = m;
        }
        if over {
            return Err(format!(
                "The variables stored by the execution exceed the maximum of {MAX_VARIABLES_TOTAL_BYTES} bytes."
            ));
        }
        Ok(())
    }

    fn done(&self) -> bool {
        matches!(self.cur, Cursor::Succeeded(_) | Cursor::Failed(_))
    }

    #[inline]
    fn goto(&self, next: Next, output: Data) -> Cursor {
        match next {
            Next::End => Cursor::Succeeded(output),
            Next::Goto(s) => Cursor::Enter {
                state: s,
                input: output,
            },
        }
    }

    /// Runs until the branch blocks or finishes.
    fn run(&mut self, cx: &mut Cx<'_>, route: &mut Vec<u32>) {
        // The cursor stays local while states chain: entering a state never reads the
        // branch's own cursor, and a local one is moved, never dropped, on each step.
        let mut cur = std::mem::replace(&mut self.cur, Cursor::Idle);
        loop {
            match cur {
                Cursor::Enter { state, input } => {
                    if self.silent {
                        self.silent_entries += 1;
                    }
                    if *cx.last_event_id >= cx.max_history_events
                        || self.silent_entries.saturating_mul(2) >= cx.max_history_events
                    {
                        self.cur = Cursor::Failed(Box::new(Fault {
                            error: Some("States.Runtime".into()),
                            cause: Some(format!(
                                "The execution reached the maximum number of history events ({}).",
                                cx.max_history_events
                            )),
                            terminal: true,
                            heartbeat: false,
                            fresh: false,
                        }));
                        return;
                    }
                    cur = self.enter(cx, route, state, input);
                }
                other => {
                    self.cur = other;
                    return;
                }
            }
        }
    }

    fn missing_state() -> Cursor {
        Cursor::Failed(Box::new(Fault {
            error: Some("States.Runtime".into()),
            cause: Some("The execution state does not match its definition".into()),
            terminal: true,
            heartbeat: false,
            fresh: false,
        }))
    }

    fn enter(&mut self, cx: &mut Cx<'_>, route: &mut Vec<u32>, idx: u32, input: Data) -> Cursor {
        let def = cx.def;
        let Some(st) = self.state(def, idx) else {
            return Self::missing_state();
        };
        *cx.transitions += 1;
        let ty = state_type(&st.kind);
        let pid = cx.payload(self.silent, &input);
        let id = cx.emit(self.silent, || EventDetails::StateEntered {
            state_type: ty,
            name: st.name.clone(),
            input: pid,
        });
        if st.passthrough {
            // A bare Pass state: its output is its input, nothing to evaluate.
            return self.exit(cx, st, input);
        }
        let entered = Entered { id, at_ms: cx.now };
        self.attempt(cx, route, idx, input, entered, Vec::new())
    }

    #[inline]
    fn exit(&self, cx: &mut Cx<'_>, st: &State, output: Data) -> Cursor {
        let pid = cx.payload(self.silent, &output);
        cx.emit(self.silent, || EventDetails::StateExited {
            state_type: state_type(&st.kind),
            name: st.name.clone(),
            output: pid,
        });
        self.goto(st.next, output)
    }

    /// Runs (or re-runs, after a retry back-off) a state that has been entered. A JSONata
    /// state whose own expression fails records `EvaluationFailed` and then retries,
    /// catches or fails like any state error.
    fn attempt(
        &mut self,
        cx: &mut Cx<'_>,
        route: &mut Vec<u32>,
        idx: u32,
        raw: Data,
        entered: Entered,
        retries: Vec<u32>,
    ) -> Cursor {
        let jsonata = self.state(cx.def, idx).is_some_and(|s| s.jsonata);
        let keep = jsonata.then(|| (raw.clone(), retries.clone()));
        let cur = self.attempt_state(cx, route, idx, raw, entered, retries);
        match (cur, keep) {
            (Cursor::Failed(mut f), Some((raw, retries))) if f.fresh => {
                f.fresh = false;
                self.evaluation_failed(cx, idx, &f);
                self.fail(cx, route, idx, raw, entered, retries, *f)
            }
            (cur, _) => cur,
        }
    }

    fn evaluation_failed(&self, cx: &mut Cx<'_>, idx: u32, f: &Fault) {
        let Some(st) = self.state(cx.def, idx) else {
            return;
        };
        cx.emit(self.silent, || {
            EventDetails::EvaluationFailed(Box::new(EvaluationFailure {
                state: st.name.clone(),
                error: f.error.clone(),
                cause: f.cause.clone(),
            }))
        });
    }

    fn attempt_state(
        &mut self,
        cx: &mut Cx<'_>,
        route: &mut Vec<u32>,
        idx: u32,
        raw: Data,
        entered: Entered,
        retries: Vec<u32>,
    ) -> Cursor {
        let def = cx.def;
        let Some(st) = self.state(def, idx) else {
            return Self::missing_state();
        };
        let info = cx.info;
        let rc = retry_count(st, &retries);
        let vars = self.variables.clone();
        let runtime = |msg: String| Cursor::Failed(Box::new(Fault::of_state(st, entered.id, &msg)));
        match &st.kind {
            Kind::Pass {
                result,
                result_too_large,
            } => {
                if *result_too_large {
                    return Cursor::Failed(Box::new(Fault {
                        error: Some("States.DataLimitExceeded".into()),
                        cause: Some(format!(
                            "The state/task '{}' returned a result with a size exceeding the maximum number of bytes service limit.",
                            st.name
                        )),
                        terminal: true,
                        heartbeat: false,
                        fresh: false,
                    }));
                }
                let ctx = view(info, st, entered, rc, None, vars.as_deref());
                if st.jsonata {
                    let r = (|| -> Result<(Data, Option<Map<String, Value>>), String> {
                        let env = jenv(
                            cx,
                            &ctx,
                            &raw,
                            None,
                            None,
                            &[st.output.as_ref(), assign_template(st.assign.as_ref())],
                        )?;
                        let out = match (&st.output, result) {
                            (Some(t), _) => Arc::new(t.eval(&env, "Output")?),
                            (None, Some(r)) => r.clone(),
                            (None, None) => raw.clone(),
                        };
                        let new = eval_assign(st.assign.as_ref(), &raw, &ctx, cx.rng, Some(&env))?;
                        Ok((out, new))
                    })();
                    return match r.and_then(|(o, new)| self.set_vars(new).map(|()| o)) {
                        Ok(o) => self.exit(cx, st, o),
                        Err(m) => runtime(m),
                    };
                }
                // The raw input is only needed again when ResultPath merges into it:
                // otherwise hand it on untouched (the common pass-through costs nothing).
                let (src, keep) = match st.result_path {
                    ResultPath::Replace => (raw, None),
                    _ => (raw.clone(), Some(raw)),
                };
                let r = (|| -> Result<(Data, Option<Map<String, Value>>), String> {
                    let eff = select_path(&st.input_path, src, &ctx, cx.rng)?;
                    let eff = match &st.parameters {
                        Some(t) => Arc::new(t.eval(&Scope::new(&eff, &ctx, cx.rng))?),
                        None => eff,
                    };
                    let result = match result {
                        Some(r) => r.clone(),
                        None => eff,
                    };
                    let new = eval_assign(st.assign.as_ref(), &result, &ctx, cx.rng, None)?;
                    Ok((result, new))
                })();
                let (result, new) = match r {
                    Ok(v) => v,
                    Err(m) => return runtime(m),
                };
                let merged = match keep {
                    None => Ok(result),
                    Some(raw) => apply_result_path(&st.result_path, raw, result),
                };
                let out = merged.and_then(|v| select_path(&st.output_path, v, &ctx, cx.rng));
                match out.and_then(|o| self.set_vars(new).map(|()| o)) {
                    Ok(o) => self.exit(cx, st, o),
                    Err(m) => runtime(m),
                }
            }
            Kind::Choice { choices, default } => {
                let ctx = view(info, st, entered, rc, None, vars.as_deref());
                let eff = match select_path(&st.input_path, raw, &ctx, cx.rng) {
                    Ok(v) => v,
                    Err(m) => return runtime(m),
                };
                let mut templates: Vec<Option<&JTemplate>> = Vec::new();
                if st.jsonata {
                    templates.push(st.output.as_ref());
                    templates.push(assign_template(st.assign.as_ref()));
                    for arm in choices {
                        if let Test::Condition(t) = &arm.test {
                            templates.push(Some(t));
                        }
                        templates.push(arm.output.as_ref());
                        templates.push(assign_template(arm.assign.as_ref()));
                    }
                }
                let env = if st.jsonata {
                    match jenv(cx, &ctx, &eff, None, None, &templates) {
                        Ok(e) => Some(e),
                        Err(m) => return runtime(m),
                    }
                } else {
                    None
                };
                let mut target = None;
                {
                    let scope = Scope::new(&eff, &ctx, cx.rng);
                    for arm in choices {
                        let hit = match (&arm.test, &env) {
                            (Test::Rule(rule), _) => rule.eval(&scope),
                            (Test::Condition(t), Some(env)) => match t.eval(env, "Condition") {
                                Ok(Value::Bool(b)) => Ok(b),
                                Ok(other) => Err(format!(
                                    "The JSONata expression '{}' specified for the field 'Condition' returned an unexpected result type. Expected 'boolean', but was '{}' for value: {other}",
                                    condition_source(t),
                                    jtype(&other)
                                )),
                                Err(m) => Err(m),
                            },
                            (Test::Condition(_), None) => Ok(false),
                        };
                        match hit {
                            Ok(true) => {
                                target = Some((arm.next, arm.output.as_ref(), arm.assign.as_ref()));
                                break;
                            }
                            Ok(false) => {}
                            Err(m) => return runtime(m),
                        }
                    }
                }
                let Some((next, output, assign)) =
                    target.or_else(|| default.map(|d| (d, st.output.as_ref(), st.assign.as_ref())))
                else {
                    return Cursor::Failed(Box::new(Fault::new(
                        "States.NoChoiceMatched",
                        format!("No Matches! at state '{}'", st.name),
                    )));
                };
                let r = (|| -> Result<Data, String> {
                    let new = eval_assign(assign, &eff, &ctx, cx.rng, env.as_ref())?;
                    let out = match (output, &env) {
                        (Some(t), Some(env)) => Arc::new(t.eval(env, "Output")?),
                        _ => select_path(&st.output_path, eff, &ctx, cx.rng)?,
                    };
                    self.set_vars(new)?;
                    Ok(out)
                })();
                let out = match r {
                    Ok(v) => v,
                    Err(m) => return runtime(m),
                };
                let pid = cx.payload(self.silent, &out);
                cx.emit(self.silent, || EventDetails::StateExited {
                    state_type: StateType::Choice,
                    name: st.name.clone(),
                    output: pid,
                });
                Cursor::Enter {
                    state: next,
                    input: out,
                }
            }
            Kind::Succeed => {
                let ctx = view(info, st, entered, rc, None, vars.as_deref());
                let out = if st.jsonata {
                    match &st.output {
                        None => Ok(raw),
                        Some(t) => jenv(cx, &ctx, &raw, None, None, &[Some(t)])
                            .and_then(|env| t.eval(&env, "Output"))
                            .map(Arc::new),
                    }
                } else {
                    select_path(&st.input_path, raw, &ctx, cx.rng)
                        .and_then(|v| select_path(&st.output_path, v, &ctx, cx.rng))
                };
                match out {
                    Ok(o) => {
                        let pid = cx.payload(self.silent, &o);
                        cx.emit(self.silent, || EventDetails::StateExited {
                            state_type: StateType::Succeed,
                            name: st.name.clone(),
                            output: pid,
                        });
                        Cursor::Succeeded(o)
                    }
                    Err(m) => runtime(m),
                }
            }
            Kind::Fail { error, cause } => {
                let ctx = view(info, st, entered, rc, None, vars.as_deref());
                let mut templates = Vec::new();
                for t in [error, cause].into_iter().flatten() {
                    if let Text::Jsonata(e) = t {
                        templates.push(e.source.as_str());
                    }
                }
                let env = if templates.is_empty() {
                    None
                } else {
                    let seed = cx.rng.next_u64();
                    match Env::new(
                        &States {
                            input: &raw,
                            result: None,
                            error_output: None,
                            ctx: &ctx,
                            now_ms: cx.now,
                            seed,
                            timeout_ms: cx.jsonata_timeout_ms,
                        },
                        &templates,
                    ) {
                        Ok(e) => Some(e),
                        Err(m) => return runtime(m),
                    }
                };
                let scope = Scope::new(&raw, &ctx, cx.rng);
                let text = |t: &Option<Text>, field: &str| -> Result<Option<String>, String> {
                    match t {
                        None => Ok(None),
                        Some(Text::Lit(s)) => Ok(Some(s.clone())),
                        Some(Text::Jsonata(e)) => {
                            let Some(env) = &env else { return Ok(None) };
                            match e.eval_defined(env, field)? {
                                Value::String(s) => Ok(Some(s)),
                                other => Err(format!(
                                    "The JSONata expression '{}' specified for the field '{field}' returned an unexpected result type. Expected 'string', but was '{}' for value: {other}",
                                    e.source,
                                    jtype(&other)
                                )),
                            }
                        }
                        Some(Text::Expr(e)) => match e.eval(&scope)? {
                            Some(Value::String(s)) => Ok(Some(s)),
                            Some(other) => Ok(Some(other.to_string())),
                            None => Err(format!(
                                "The JSONPath '{}' specified for the field '{field}' could not be found in the input '{}'",
                                e.source().unwrap_or_default(),
                                raw
                            )),
                        },
                    }
                };
                let (ef, cf) = if st.jsonata {
                    ("Error", "Cause")
                } else {
                    ("ErrorPath", "CausePath")
                };
                let error = match text(error, ef) {
                    Ok(v) => v,
                    Err(m) => return runtime(m),
                };
                let cause = match text(cause, cf) {
                    Ok(v) => v,
                    Err(m) => return runtime(m),
                };
                Cursor::Failed(Box::new(Fault {
                    error,
                    cause,
                    terminal: false,
                    heartbeat: false,
                    fresh: false,
                }))
            }
            Kind::Wait(spec) => {
                let ctx = view(info, st, entered, rc, None, vars.as_deref());
                let eff = match select_path(&st.input_path, raw, &ctx, cx.rng) {
                    Ok(v) => v,
                    Err(m) => return runtime(m),
                };
                let env = if st.jsonata {
                    let ts = match spec {
                        WaitSpec::TimestampExpr(e) => Some(e.source.as_str()),
                        WaitSpec::Seconds(Seconds::Expr(e)) => Some(e.source.as_str()),
                        _ => None,
                    };
                    let mut sources = Vec::new();
                    for t in [st.output.as_ref(), assign_template(st.assign.as_ref())]
                        .into_iter()
                        .flatten()
                    {
                        t.sources(&mut sources);
                    }
                    sources.extend(ts);
                    let seed = cx.rng.next_u64();
                    match Env::new(
                        &States {
                            input: &eff,
                            result: None,
                            error_output: None,
                            ctx: &ctx,
                            now_ms: cx.now,
                            seed,
                            timeout_ms: cx.jsonata_timeout_ms,
                        },
                        &sources,
                    ) {
                        Ok(e) => Some(e),
                        Err(m) => return runtime(m),
                    }
                } else {
                    None
                };
                let fire_at = match spec {
                    WaitSpec::Seconds(s) => {
                        let scope = Scope::new(&eff, &ctx, cx.rng);
                        match seconds_value(s, &scope, env.as_ref(), "Seconds") {
                            Ok(n) => cx.now.saturating_add((n as i64).saturating_mul(1000)),
                            Err(m) => return runtime(m),
                        }
                    }
                    WaitSpec::Timestamp(t) => {
                        crate::timestamp::parse(t).map_or(cx.now, |n| (n / 1_000_000) as i64)
                    }
                    WaitSpec::TimestampExpr(e) => {
                        let Some(env) = &env else {
                            return Self::missing_state();
                        };
                        let v = match e.eval_defined(env, "Timestamp") {
                            Ok(v) => v,
                            Err(m) => return runtime(m),
                        };
                        match v.as_str().and_then(crate::timestamp::parse) {
                            Some(n) => (n / 1_000_000)
                                .clamp(i128::from(i64::MIN), i128::from(i64::MAX))
                                as i64,
                            None => {
                                return runtime(format!(
                                    "The JSONata expression '{}' specified for the field 'Timestamp' returned an unexpected result type. Expected 'an ISO-8601 extended offset date-time format string', but was '{}' for value: {v}",
                                    e.source,
                                    jtype(&v)
                                ));
                            }
                        }
                    }
                    WaitSpec::TimestampPath(p) => {
                        let v = Scope::new(&eff, &ctx, cx.rng).lookup(p);
                        match v
                            .as_ref()
                            .and_then(Value::as_str)
                            .and_then(crate::timestamp::parse)
                        {
                            Some(n) => (n / 1_000_000)
                                .clamp(i128::from(i64::MIN), i128::from(i64::MAX))
                                as i64,
                            None => {
                                let shown = match &v {
                                    Some(Value::String(s)) => s.clone(),
                                    Some(other) => other.to_string(),
                                    None => return runtime(no_results(p)),
                                };
                                return runtime(format!(
                                    "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {} == {shown}",
                                    p.source
                                ));
                            }
                        }
                    }
                };
                let r = (|| -> Result<Data, String> {
                    let new = eval_assign(st.assign.as_ref(), &eff, &ctx, cx.rng, env.as_ref())?;
                    let out = match (&st.output, &env) {
                        (Some(t), Some(env)) => Arc::new(t.eval(env, "Output")?),
                        _ => select_path(&st.output_path, eff, &ctx, cx.rng)?,
                    };
                    self.set_vars(new)?;
                    Ok(out)
                })();
                let out = match r {
                    Ok(v) => v,
                    Err(m) => return runtime(m),
                };
                if fire_at <= cx.now {
                    return self.exit(cx, st, out);
                }
                let timer = cx.timer(route, Wake::Wait, fire_at);
                Cursor::Wait {
                    state: idx,
                    output: out,
                    timer,
                }
            }
            Kind::Task(spec) => self.start_task(cx, route, idx, st, spec, raw, entered, retries),
            Kind::Parallel { branches } => {
                let ctx = view(info, st, entered, rc, None, vars.as_deref());
                let eff = if st.jsonata {
                    match &st.arguments {
                        None => Ok(raw.clone()),
                        Some(t) => jenv(cx, &ctx, &raw, None, None, &[Some(t)])
                            .and_then(|env| t.eval(&env, "Arguments"))
                            .map(Arc::new),
                    }
                } else {
                    select_path(&st.input_path, raw.clone(), &ctx, cx.rng).and_then(|eff| match &st
                        .parameters
                    {
                        Some(t) => t.eval(&Scope::new(&eff, &ctx, cx.rng)).map(Arc::new),
                        None => Ok(eff),
                    })
                };
                let eff = match eff {
                    Ok(v) => v,
                    Err(m) => return runtime(m),
                };
                cx.emit(self.silent, || EventDetails::ParallelStateStarted);
                let mut run = ParRun {
                    state: idx,
                    input: raw,
                    entered,
                    retries,
                    active: BTreeMap::new(),
                    results: vec![Value::Null; branches.len()],
                };
                for (i, m) in branches.iter().enumerate() {
                    let Some(machine) = def.machine(*m) else {
                        return Self::missing_state();
                    };
                    let mut child =
                        Branch::new(*m, self.silent, machine.start, eff.clone(), vars.clone());
                    route.push(i as u32);
                    child.run(cx, route);
                    route.pop();
                    run.active.insert(i as u32, child);
                }
                self.settle_parallel(cx, route, run)
            }
            Kind::Map(spec) => self.start_map(cx, route, idx, st, spec, raw, entered, retries),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn start_task(
        &mut self,
        cx: &mut Cx<'_>,
        route: &[u32],
        idx: u32,
        st: &State,
        spec: &TaskSpec,
        raw: Data,
        entered: Entered,
        retries: Vec<u32>,
    ) -> Cursor {
        let info = cx.info;
        let rc = retry_count(st, &retries);
        let token = spec.wait_for_token.then(|| cx.rng.token());
        let vars = self.variables.clone();
        let ctx = view(info, st, entered, rc, token.as_deref(), vars.as_deref());
        let runtime = |msg: String| Cursor::Failed(Box::new(Fault::of_state(st, entered.id, &msg)));
        let eff = match select_path(&st.input_path, raw.clone(), &ctx, cx.rng) {
            Ok(v) => v,
            Err(m) => return runtime(m),
        };
        let env = if st.jsonata {
            let mut sources = Vec::new();
            if let Some(t) = &st.arguments {
                t.sources(&mut sources);
            }
            for s in [&spec.timeout, &spec.heartbeat].into_iter().flatten() {
                if let Seconds::Expr(e) = s {
                    sources.push(e.source.as_str());
                }
            }
            let seed = cx.rng.next_u64();
            match Env::new(
                &States {
                    input: &raw,
                    result: None,
                    error_output: None,
                    ctx: &ctx,
                    now_ms: cx.now,
                    seed,
                    timeout_ms: cx.jsonata_timeout_ms,
                },
                &sources,
            ) {
                Ok(e) => Some(e),
                Err(m) => return runtime(m),
            }
        } else {
            None
        };
        let timeout = {
            let scope = Scope::new(&eff, &ctx, cx.rng);
            spec.timeout
                .as_ref()
                .map(|s| seconds_value(s, &scope, env.as_ref(), "TimeoutSeconds"))
                .transpose()
                .and_then(|t| {
                    spec.heartbeat
                        .as_ref()
                        .map(|s| seconds_value(s, &scope, env.as_ref(), "HeartbeatSeconds"))
                        .transpose()
                        .map(|h| (t, h))
                })
        };
        let (timeout, heartbeat) = match timeout {
            Ok(v) => v,
            Err(m) => return runtime(m),
        };
        let params = match (&st.arguments, &env, &st.parameters) {
            (Some(t), Some(env), _) => match t.eval(env, "Arguments") {
                Ok(v) => v,
                Err(m) => return runtime(m),
            },
            (_, _, Some(t)) if !st.jsonata => match t.eval(&Scope::new(&eff, &ctx, cx.rng)) {
                Ok(v) => v,
                Err(m) => return runtime(m),
            },
            _ => Arc::unwrap_or_clone(eff),
        };
        let task_id = cx.handle();
        cx.pending.insert(
            task_id,
            Pending {
                route: route.to_vec(),
                wake: Wake::Task,
            },
        );
        if let Some(t) = &token {
            cx.tokens.insert(t.clone(), task_id);
        }
        let res = Arc::new(TaskResource {
            resource_type: spec.resource_type.clone(),
            resource: spec.resource_name.clone(),
        });
        if spec.lambda_function {
            cx.emit(self.silent, || {
                EventDetails::LambdaFunctionScheduled(Box::new(LambdaFunctionScheduled {
                    resource: spec.resource.clone(),
                    input: params.clone(),
                    timeout_seconds: timeout,
                }))
            });
            cx.emit(self.silent, || EventDetails::LambdaFunctionStarted);
        } else {
            cx.emit(self.silent, || {
                EventDetails::TaskScheduled(Box::new(TaskScheduled {
                    task: res.clone(),
                    region: if spec.region.is_empty() {
                        info.region.clone()
                    } else {
                        spec.region.clone()
                    },
                    parameters: params.clone(),
                    timeout_seconds: timeout,
                    heartbeat_seconds: heartbeat,
                }))
            });
            cx.emit(self.silent, || EventDetails::TaskStarted { task: res });
        }
        let timeout_timer = timeout.map(|t| {
            cx.timer(
                route,
                Wake::TaskTimeout(task_id),
                cx.now.saturating_add((t as i64).saturating_mul(1000)),
            )
        });
        let heartbeat_timer = heartbeat.map(|h| {
            cx.timer(
                route,
                Wake::TaskHeartbeat(task_id),
                cx.now.saturating_add((h as i64).saturating_mul(1000)),
            )
        });
        cx.actions.push(Action::RunTask(TaskRequest {
            task_id,
            resource: spec.resource.clone(),
            resource_type: spec.resource_type.clone(),
            resource_name: spec.resource_name.clone(),
            state_name: st.name.to_string(),
            parameters: params,
            token: token.clone(),
            timeout_seconds: timeout,
            heartbeat_seconds: heartbeat,
        }));
        Cursor::Task(Box::new(TaskWait {
            state: idx,
            input: raw,
            entered,
            retries,
            task_id,
            token,
            timeout_timer,
            heartbeat_timer,
            heartbeat_seconds: heartbeat,
        }))
    }

    #[allow(clippy::too_many_arguments)]
    fn start_map(
        &mut self,
        cx: &mut Cx<'_>,
        route: &mut Vec<u32>,
        idx: u32,
        st: &State,
        spec: &MapSpec,
        raw: Data,
        entered: Entered,
        retries: Vec<u32>,
    ) -> Cursor {
        let info = cx.info;
        let rc = retry_count(st, &retries);
        let vars = self.variables.clone();
        let ctx = view(info, st, entered, rc, None, vars.as_deref());
        let runtime = |msg: String| Cursor::Failed(Box::new(Fault::of_state(st, entered.id, &msg)));
        let eff = match select_path(&st.input_path, raw.clone(), &ctx, cx.rng) {
            Ok(v) => v,
            Err(m) => return runtime(m),
        };
        let env = if st.jsonata {
            let mut sources = Vec::new();
            if let Some(t) = &spec.items {
                t.sources(&mut sources);
            }
            let counts = [
                Some(&spec.max_concurrency),
                spec.tolerated_count.as_ref(),
                spec.tolerated_percentage.as_ref(),
            ];
            for c in counts.into_iter().flatten() {
                if let Count::Expr(e) = c {
                    sources.push(e.source.as_str());
                }
            }
            let seed = cx.rng.next_u64();
            match Env::new(
                &States {
                    input: &raw,
                    result: None,
                    error_output: None,
                    ctx: &ctx,
                    now_ms: cx.now,
                    seed,
                    timeout_ms: cx.jsonata_timeout_ms,
                },
                &sources,
            ) {
                Ok(e) => Some(e),
                Err(m) => return runtime(m),
            }
        } else {
            None
        };
        let items = match (&spec.items, &env, &spec.items_path) {
            (Some(t), Some(env), _) => match t.eval(env, "Items") {
                Ok(v @ Value::Array(_)) => Some(v),
                Ok(other) => {
                    let src = match t {
                        JTemplate::Expr(e) => e.source.clone(),
                        _ => String::new(),
                    };
                    return runtime(format!(
                        "The JSONata expression '{src}' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was '{}' for value: {other}",
                        jtype(&other)
                    ));
                }
                Err(m) => return runtime(m),
            },
            (_, _, None) => Some(Value::clone(&eff)),
            (_, _, Some(p)) => {
                let scope = Scope::new(&eff, &ctx, cx.rng);
                scope.lookup(p)
            }
        };
        let items = match items {
            Some(Value::Array(a)) => a,
            Some(other) => {
                return runtime(format!(
                    "Items of the Map state must be a JSON array, but the ItemsPath selected a {}: {other}",
                    crate::jsonpath::type_name(&other)
                ));
            }
            None => {
                let p = spec.items_path.as_ref().map_or("$", |p| p.source.as_str());
                return runtime(format!("Invalid path '{p}' : No results for path: {p}"));
            }
        };
        // The counts are read before any event is recorded (the scope holds the generator).
        let (max, tc, tp) = {
            let scope = Scope::new(&eff, &ctx, cx.rng);
            let max = count_value(
                &spec.max_concurrency,
                &scope,
                env.as_ref(),
                "MaxConcurrency",
                true,
            );
            let tc = spec
                .tolerated_count
                .as_ref()
                .map(|c| count_value(c, &scope, env.as_ref(), "ToleratedFailureCount", true))
                .transpose();
            let tp = spec
                .tolerated_percentage
                .as_ref()
                .map(|c| count_value(c, &scope, env.as_ref(), "ToleratedFailurePercentage", false))
                .transpose();
            (max, tc, tp)
        };
        let max = match max {
            Ok(x) if x >= 0.0 => x as usize,
            Ok(_) => return runtime("MaxConcurrency cannot be negative.".into()),
            Err(m) => return runtime(m),
        };
        cx.emit(self.silent, || EventDetails::MapStateStarted {
            length: items.len() as u64,
        });
        let tolerated_count = match tc {
            Ok(Some(x)) if x < 0.0 => {
                return runtime("ToleratedFailureCount cannot be negative.".into());
            }
            Ok(v) => v.map(|x| x as u64),
            Err(m) => return runtime(m),
        };
        let tolerated_percentage = match tp {
            Ok(Some(x)) if !(0.0..=100.0).contains(&x) => {
                return runtime("ToleratedFailurePercentage must be between 0 and 100.".into());
            }
            Ok(v) => v,
            Err(m) => return runtime(m),
        };
        if spec.distributed {
            cx.emit(self.silent, || EventDetails::MapRunStarted {
                map_run_arn: format!(
                    "{}/{}:{}",
                    info.state_machine_id
                        .replacen(":stateMachine:", ":mapRun:", 1),
                    st.name,
                    entered.id
                ),
            });
        }
        let n = items.len();
        let run = MapRun {
            state: idx,
            input: raw,
            entered,
            retries,
            effective: eff,
            items,
            next: 0,
            active: BTreeMap::new(),
            results: vec![Value::Null; n],
            failures: 0,
            max,
            tolerated_count,
            tolerated_percentage,
        };
        self.pump_map(cx, route, run)
    }

    /// Starts iterations up to MaxConcurrency, collects finished ones, and completes or
    /// fails the Map state when it can.
    fn pump_map(&mut self, cx: &mut Cx<'_>, route: &mut Vec<u32>, mut run: MapRun) -> Cursor {
        let def = cx.def;
        let Some(st) = self.state(def, run.state) else {
            return Self::missing_state();
        };
        let Kind::Map(spec) = &st.kind else {
            return Self::missing_state();
        };
        let Some(machine) = def.machine(spec.machine) else {
            return Self::missing_state();
        };
        let child_silent = self.silent || spec.distributed;
        loop {
            if run.max != 0 && run.active.len() >= run.max || run.next >= run.items.len() {
                break;
            }
            let i = run.next;
            run.next += 1;
            cx.emit(child_silent, || EventDetails::MapIterationStarted {
                name: st.name.clone(),
                index: i as u64,
            });
            let item = std::mem::take(&mut run.items[i]);
            let vars = self.variables.clone();
            let rc = retry_count(st, &run.retries);
            let input = match (&spec.item_selector, &spec.jitem_selector) {
                (_, Some(t)) => {
                    let mut ctx = view(cx.info, st, run.entered, rc, None, vars.as_deref());
                    ctx.map_item = Some((i as u64, &item));
                    let input = Arc::clone(&run.input);
                    match jenv(cx, &ctx, &input, None, None, &[Some(t)])
                        .and_then(|env| t.eval(&env, "ItemSelector"))
                    {
                        Ok(v) => v,
                        Err(m) => {
                            return Cursor::Failed(Box::new(Fault::of_state(
                                st,
                                run.entered.id,
                                &m,
                            )));
                        }
                    }
                }
                (None, None) => item,
                (Some(t), None) => {
                    let mut ctx = view(cx.info, st, run.entered, rc, None, vars.as_deref());
                    ctx.map_item = Some((i as u64, &item));
                    match t.eval(&Scope::new(&run.effective, &ctx, cx.rng)) {
                        Ok(v) => v,
                        Err(m) => {
                            return Cursor::Failed(Box::new(Fault::of_state(
                                st,
                                run.entered.id,
                                &m,
                            )));
                        }
                    }
                }
            };
            let mut child = Branch::new(
                spec.machine,
                child_silent,
                machine.start,
                Arc::new(input),
                vars,
            );
            route.push(i as u32);
            child.run(cx, route);
            route.pop();
            if child.done() {
                if let Some(c) = self.collect_iteration(cx, route, &mut run, i as u32, child) {
                    return c;
                }
            } else {
                run.active.insert(i as u32, child);
            }
        }
        if run.next >= run.items.len() && run.active.is_empty() {
            return self.finish_map(cx, run);
        }
        Cursor::Map(Box::new(run))
    }

    /// Records a finished iteration; returns a cursor if the Map state itself is now decided.
    fn collect_iteration(
        &mut self,
        cx: &mut Cx<'_>,
        route: &[u32],
        run: &mut MapRun,
        i: u32,
        child: Branch,
    ) -> Option<Cursor> {
        let def = cx.def;
        let st = self.state(def, run.state)?;
        let Kind::Map(spec) = &st.kind else {
            return None;
        };
        let child_silent = self.silent || spec.distributed;
        match child.cur {
            Cursor::Succeeded(v) => {
                cx.emit(child_silent, || EventDetails::MapIterationSucceeded {
                    name: st.name.clone(),
                    index: u64::from(i),
                });
                if let Some(slot) = run.results.get_mut(i as usize) {
                    *slot = Arc::unwrap_or_clone(v);
                }
                None
            }
            Cursor::Failed(f) => {
                cx.emit(child_silent, || EventDetails::MapIterationFailed {
                    name: st.name.clone(),
                    index: u64::from(i),
                });
                if f.terminal {
                    self.abort_children(cx, st, &mut run.active, true);
                    return Some(Cursor::Failed(f));
                }
                run.failures += 1;
                let total = run.items.len().max(1) as f64;
                let tolerance_set =
                    run.tolerated_count.is_some() || run.tolerated_percentage.is_some();
                let over_count = run.tolerated_count.is_none_or(|c| run.failures > c);
                let over_pct = run
                    .tolerated_percentage
                    .is_none_or(|p| (run.failures as f64) * 100.0 / total > p);
                let exceeded = if tolerance_set {
                    (run.tolerated_count.is_some() && over_count)
                        || (run.tolerated_percentage.is_some() && over_pct)
                } else {
                    true
                };
                if !exceeded {
                    if let Some(slot) = run.results.get_mut(i as usize) {
                        *slot = f.output();
                    }
                    return None;
                }
                self.abort_children(cx, st, &mut run.active, child_silent);
                let fault = if tolerance_set {
                    Fault::new(
                        "States.ExceedToleratedFailureThreshold",
                        "The specified tolerated failure threshold was exceeded",
                    )
                } else {
                    *f
                };
                if spec.distributed {
                    cx.emit(self.silent, || EventDetails::MapRunFailed {
                        error: fault.error.clone(),
                        cause: fault.cause.clone(),
                    });
                }
                let run_state = run.state;
                let input = std::mem::take(&mut run.input);
                let retries = std::mem::take(&mut run.retries);
                Some(self.fail(cx, route, run_state, input, run.entered, retries, fault))
            }
            _ => None,
        }
    }

    fn abort_children(
        &self,
        cx: &mut Cx<'_>,
        st: &State,
        active: &mut BTreeMap<u32, Branch>,
        silent: bool,
    ) {
        let is_map = matches!(st.kind, Kind::Map(_));
        for (i, child) in std::mem::take(active) {
            child.release(cx);
            if is_map {
                cx.emit(silent, || EventDetails::MapIterationAborted {
                    name: st.name.clone(),
                    index: u64::from(i),
                });
            }
        }
    }

    /// Forgets every task and timer this (abandoned) branch was waiting on.
    fn release(&self, cx: &mut Cx<'_>) {
        match &self.cur {
            Cursor::Task(t) => {
                cx.pending.remove(&t.task_id);
                if let Some(tok) = &t.token {
                    cx.tokens.remove(tok);
                }
                cx.cancel_timer(t.timeout_timer);
                cx.cancel_timer(t.heartbeat_timer);
            }
            Cursor::Wait { timer, .. } => cx.cancel_timer(Some(*timer)),
            Cursor::Backoff(b) => cx.cancel_timer(Some(b.timer)),
            Cursor::Map(run) => run.active.values().for_each(|c| c.release(cx)),
            Cursor::Parallel(run) => run.active.values().for_each(|c| c.release(cx)),
            _ => {}
        }
    }

    fn finish_map(&mut self, cx: &mut Cx<'_>, run: MapRun) -> Cursor {
        let def = cx.def;
        let Some(st) = self.state(def, run.state) else {
            return Self::missing_state();
        };
        if let Kind::Map(spec) = &st.kind
            && spec.distributed
        {
            cx.emit(self.silent, || EventDetails::MapRunSucceeded);
        }
        cx.emit(self.silent, || EventDetails::MapStateSucceeded);
        self.finish_with_result(
            cx,
            st,
            run.input,
            run.entered,
            &run.retries,
            Value::Array(run.results),
        )
    }

    /// ResultSelector → ResultPath → OutputPath → exit.
    fn finish_with_result(
        &mut self,
        cx: &mut Cx<'_>,
        st: &State,
        raw: Data,
        entered: Entered,
        retries: &[u32],
        result: Value,
    ) -> Cursor {
        let vars = self.variables.clone();
        let ctx = view(
            cx.info,
            st,
            entered,
            retry_count(st, retries),
            None,
            vars.as_deref(),
        );
        let out = (|| -> Result<(Data, Option<Map<String, Value>>), String> {
            if st.jsonata {
                // Output and Assign both see the state's input and result, and the
                // variables as they were before this state assigns any.
                let env = jenv(
                    cx,
                    &ctx,
                    &raw,
                    Some(&result),
                    None,
                    &[st.output.as_ref(), assign_template(st.assign.as_ref())],
                )?;
                let new = eval_assign(st.assign.as_ref(), &result, &ctx, cx.rng, Some(&env))?;
                let out = match &st.output {
                    Some(t) => t.eval(&env, "Output")?,
                    None => result,
                };
                return Ok((Arc::new(out), new));
            }
            let result = match &st.result_selector {
                Some(t) => t.eval(&Scope::new(&result, &ctx, cx.rng))?,
                None => result,
            };
            let new = eval_assign(st.assign.as_ref(), &result, &ctx, cx.rng, None)?;
            let merged = apply_result_path(&st.result_path, raw, Arc::new(result))?;
            Ok((select_path(&st.output_path, merged, &ctx, cx.rng)?, new))
        })();
        match out.and_then(|(o, new)| self.set_vars(new).map(|()| o)) {
            Ok(o) => self.exit(cx, st, o),
            Err(m) => {
                let mut f = Fault::of_state(st, entered.id, &m);
                if f.fresh {
                    f.fresh = false;
                    cx.emit(self.silent, || {
                        EventDetails::EvaluationFailed(Box::new(EvaluationFailure {
                            state: st.name.clone(),
                            error: f.error.clone(),
                            cause: f.cause.clone(),
                        }))
                    });
                }
                Cursor::Failed(Box::new(f))
            }
        }
    }

    fn settle_parallel(&mut self, cx: &mut Cx<'_>, route: &[u32], mut run: ParRun) -> Cursor {
        let def = cx.def;
        let Some(st) = self.state(def, run.state) else {
            return Self::missing_state();
        };
        let finished: Vec<u32> = run
            .active
            .iter()
            .filter(|(_, b)| b.done())
            .map(|(i, _)| *i)
            .collect();
        for i in finished {
            let Some(child) = run.active.remove(&i) else {
                continue;
            };
            match child.cur {
                Cursor::Succeeded(v) => {
                    if let Some(slot) = run.results.get_mut(i as usize) {
                        *slot = Arc::unwrap_or_clone(v);
                    }
                }
                Cursor::Failed(f) => {
                    self.abort_children(cx, st, &mut run.active, self.silent);
                    if f.terminal {
                        return Cursor::Failed(f);
                    }
                    return self.fail(
                        cx,
                        route,
                        run.state,
                        run.input,
                        run.entered,
                        run.retries,
                        *f,
                    );
                }
                _ => {}
            }
        }
        if run.active.is_empty() {
            return self.finish_with_result(
                cx,
                st,
                run.input,
                run.entered,
                &run.retries,
                Value::Array(run.results),
            );
        }
        Cursor::Parallel(Box::new(run))
    }

    /// A state failed with a catchable error: retry, catch, or fail the branch.
    #[allow(clippy::too_many_arguments)]
    fn fail(
        &mut self,
        cx: &mut Cx<'_>,
        route: &[u32],
        idx: u32,
        raw: Data,
        entered: Entered,
        mut retries: Vec<u32>,
        fault: Fault,
    ) -> Cursor {
        let def = cx.def;
        let Some(st) = self.state(def, idx) else {
            return Self::missing_state();
        };
        if fault.terminal {
            return Cursor::Failed(Box::new(fault));
        }
        if retries.len() < st.retry.len() {
            retries.resize(st.retry.len(), 0);
        }
        if let Some((i, r)) = st
            .retry
            .iter()
            .enumerate()
            .find(|(_, r)| matches_error(&r.errors, &fault))
            && retries[i] < r.max_attempts
        {
            let attempt = retries[i];
            retries[i] += 1;
            let mut delay = r.interval_seconds * r.backoff_rate.powi(attempt as i32);
            if let Some(cap) = r.max_delay_seconds {
                delay = delay.min(cap);
            }
            if r.full_jitter {
                delay *= cx.rng.next_f64();
            }
            let delay_ms = (delay * 1000.0).clamp(0.0, 1.0e15) as i64;
            let timer = cx.timer(route, Wake::Retry, cx.now.saturating_add(delay_ms));
            return Cursor::Backoff(Box::new(Backoff {
                state: idx,
                input: raw,
                entered,
                retries,
                timer,
            }));
        }
        match st.kind {
            Kind::Map(_) => {
                cx.emit(self.silent, || EventDetails::MapStateFailed);
            }
            Kind::Parallel { .. } => {
                cx.emit(self.silent, || EventDetails::ParallelStateFailed);
            }
            _ => {}
        }
        if let Some(c) = st.catch.iter().find(|c| matches_error(&c.errors, &fault)) {
            let vars = self.variables.clone();
            let ctx = view(
                cx.info,
                st,
                entered,
                retry_count(st, &retries),
                None,
                vars.as_deref(),
            );
            let error_output = fault.output();
            let caught = (|| -> Result<Data, String> {
                if st.jsonata {
                    let env = jenv(
                        cx,
                        &ctx,
                        &raw,
                        None,
                        Some(&error_output),
                        &[c.output.as_ref(), assign_template(c.assign.as_ref())],
                    )?;
                    let new =
                        eval_assign(c.assign.as_ref(), &error_output, &ctx, cx.rng, Some(&env))?;
                    let out = match &c.output {
                        Some(t) => t.eval(&env, "Output")?,
                        None => error_output.clone(),
                    };
                    self.set_vars(new)?;
                    return Ok(Arc::new(out));
                }
                let new = eval_assign(c.assign.as_ref(), &error_output, &ctx, cx.rng, None)?;
                let out = apply_result_path(&c.result_path, raw, Arc::new(error_output.clone()))?;
                self.set_vars(new)?;
                Ok(out)
            })();
            return match caught {
                Ok(out) => {
                    let pid = cx.payload(self.silent, &out);
                    cx.emit(self.silent, || EventDetails::StateExited {
                        state_type: state_type(&st.kind),
                        name: st.name.clone(),
                        output: pid,
                    });
                    Cursor::Enter {
                        state: c.next,
                        input: out,
                    }
                }
                Err(m) => {
                    let mut f = Fault::of_state(st, entered.id, &m);
                    if f.fresh {
                        f.fresh = false;
                        cx.emit(self.silent, || {
                            EventDetails::EvaluationFailed(Box::new(EvaluationFailure {
                                state: st.name.clone(),
                                error: f.error.clone(),
                                cause: f.cause.clone(),
                            }))
                        });
                    }
                    Cursor::Failed(Box::new(f))
                }
            };
        }
        Cursor::Failed(Box::new(fault))
    }

    /// Delivers a wake-up to the branch at `rest` below this one, then lets every
    /// branch on the way back up react.
    fn deliver(
        &mut self,
        cx: &mut Cx<'_>,
        route: &mut Vec<u32>,
        rest: &[u32],
        handle: u64,
        wake: Wake,
        cmd: &Command,
    ) -> Result<(), ExecutionError> {
        if let Some((&i, tail)) = rest.split_first() {
            let cur = std::mem::replace(&mut self.cur, Cursor::Idle);
            match cur {
                Cursor::Map(mut run) => {
                    let Some(mut child) = run.active.remove(&i) else {
                        self.cur = Cursor::Map(run);
                        return Err(ExecutionError::UnknownTask(handle));
                    };
                    route.push(i);
                    let r = child.deliver(cx, route, tail, handle, wake, cmd);
                    route.pop();
                    if child.done() {
                        let mut run = *run;
                        match self.collect_iteration(cx, route, &mut run, i, child) {
                            Some(c) => self.cur = c,
                            None => self.cur = self.pump_map(cx, route, run),
                        }
                    } else {
                        run.active.insert(i, child);
                        self.cur = Cursor::Map(run);
                    }
                    r?;
                }
                Cursor::Parallel(mut run) => {
                    let Some(child) = run.active.get_mut(&i) else {
                        self.cur = Cursor::Parallel(run);
                        return Err(ExecutionError::UnknownTask(handle));
                    };
                    route.push(i);
                    let r = child.deliver(cx, route, tail, handle, wake, cmd);
                    route.pop();
                    self.cur = self.settle_parallel(cx, route, *run);
                    r?;
                }
                other => {
                    self.cur = other;
                    return Err(ExecutionError::UnknownTask(handle));
                }
            }
            self.run(cx, route);
            return Ok(());
        }
        self.wake(cx, route, handle, wake, cmd)?;
        self.run(cx, route);
        Ok(())
    }

    fn wake(
        &mut self,
        cx: &mut Cx<'_>,
        route: &mut Vec<u32>,
        handle: u64,
        wake: Wake,
        cmd: &Command,
    ) -> Result<(), ExecutionError> {
        let def = cx.def;
        let cur = std::mem::replace(&mut self.cur, Cursor::Idle);
        match (cur, wake) {
            (
                Cursor::Wait {
                    state,
                    output,
                    timer,
                },
                Wake::Wait,
            ) if timer == handle => {
                let Some(st) = self.state(def, state) else {
                    self.cur = Self::missing_state();
                    return Ok(());
                };
                cx.pending.remove(&timer);
                self.cur = self.exit(cx, st, output);
            }
            (Cursor::Backoff(b), Wake::Retry) if b.timer == handle => {
                let Backoff {
                    state,
                    input,
                    entered,
                    retries,
                    timer,
                } = *b;
                cx.pending.remove(&timer);
                self.cur = self.attempt(cx, route, state, input, entered, retries);
            }
            (Cursor::Task(mut t), w) => {
                let task_id = t.task_id;
                let matches_task = match w {
                    Wake::Task => task_id == handle,
                    Wake::TaskTimeout(id) => id == task_id && t.timeout_timer == Some(handle),
                    Wake::TaskHeartbeat(id) => id == task_id && t.heartbeat_timer == Some(handle),
                    _ => false,
                };
                if !matches_task {
                    self.cur = Cursor::Task(t);
                    return Err(ExecutionError::UnknownTask(handle));
                }
                let Some(st) = self.state(def, t.state) else {
                    self.cur = Self::missing_state();
                    return Ok(());
                };
                let Kind::Task(spec) = &st.kind else {
                    self.cur = Self::missing_state();
                    return Ok(());
                };
                let res = Arc::new(TaskResource {
                    resource_type: spec.resource_type.clone(),
                    resource: spec.resource_name.clone(),
                });
                if let (Wake::Task, Command::TaskHeartbeat { .. }) = (w, cmd) {
                    if let Some(h) = t.heartbeat_seconds {
                        cx.cancel_timer(t.heartbeat_timer);
                        t.heartbeat_timer = Some(cx.timer(
                            route,
                            Wake::TaskHeartbeat(task_id),
                            cx.now.saturating_add((h as i64).saturating_mul(1000)),
                        ));
                    }
                    self.cur = Cursor::Task(t);
                    return Ok(());
                }
                // The task is over, one way or another: forget its handles.
                cx.pending.remove(&task_id);
                if let Some(tok) = &t.token {
                    cx.tokens.remove(tok);
                }
                cx.cancel_timer(t.timeout_timer);
                cx.cancel_timer(t.heartbeat_timer);
                let t = *t;
                let outcome: Result<Value, Fault> = match (w, cmd) {
                    (Wake::Task, Command::TaskSucceeded { output, .. }) => Ok(output.clone()),
                    (Wake::Task, Command::TaskFailed { error, cause, .. }) => Err(Fault {
                        error: Some(error.clone()),
                        cause: cause.clone(),
                        terminal: false,
                        heartbeat: false,
                        fresh: false,
                    }),
                    (Wake::TaskTimeout(_), _) => Err(Fault {
                        error: Some("States.Timeout".into()),
                        cause: None,
                        terminal: false,
                        heartbeat: false,
                        fresh: false,
                    }),
                    // AWS reports a missed heartbeat as States.Timeout.
                    (Wake::TaskHeartbeat(_), _) => Err(Fault {
                        error: Some("States.Timeout".into()),
                        cause: Some(
                            "The task did not send a heartbeat within its HeartbeatSeconds".into(),
                        ),
                        terminal: false,
                        heartbeat: true,
                        fresh: false,
                    }),
                    _ => Err(Fault::new(
                        "States.Runtime",
                        "unexpected command for a task",
                    )),
                };
                match outcome {
                    Ok(output) => {
                        if exceeds(&output, MAX_PAYLOAD_BYTES) {
                            let f = Fault::new(
                                "States.DataLimitExceeded",
                                format!(
                                    "The state/task '{}' returned a result with a size exceeding the maximum number of bytes service limit.",
                                    st.name
                                ),
                            );
                            let ev = if spec.lambda_function {
                                EventDetails::LambdaFunctionFailed {
                                    error: f.error.clone(),
                                    cause: f.cause.clone(),
                                }
                            } else {
                                EventDetails::TaskFailed {
                                    task: res,
                                    error: f.error.clone(),
                                    cause: f.cause.clone(),
                                }
                            };
                            cx.emit(self.silent, || ev);
                            self.cur =
                                self.fail(cx, route, t.state, t.input, t.entered, t.retries, f);
                            return Ok(());
                        }
                        let ev = if spec.lambda_function {
                            EventDetails::LambdaFunctionSucceeded {
                                output: Box::new(output.clone()),
                            }
                        } else {
                            EventDetails::TaskSucceeded {
                                task: res,
                                output: Box::new(output.clone()),
                            }
                        };
                        cx.emit(self.silent, || ev);
                        self.cur =
                            self.finish_with_result(cx, st, t.input, t.entered, &t.retries, output);
                    }
                    Err(f) => {
                        let timed_out = matches!(w, Wake::TaskTimeout(_) | Wake::TaskHeartbeat(_));
                        let ev = match (spec.lambda_function, timed_out) {
                            (true, true) => EventDetails::LambdaFunctionTimedOut {
                                error: f.error.clone(),
                                cause: f.cause.clone(),
                            },
                            (true, false) => EventDetails::LambdaFunctionFailed {
                                error: f.error.clone(),
                                cause: f.cause.clone(),
                            },
                            (false, true) => EventDetails::TaskTimedOut {
                                task: res,
                                error: f.error.clone(),
                                cause: f.cause.clone(),
                            },
                            (false, false) => EventDetails::TaskFailed {
                                task: res,
                                error: f.error.clone(),
                                cause: f.cause.clone(),
                            },
                        };
                        cx.emit(self.silent, || ev);
                        self.cur = self.fail(cx, route, t.state, t.input, t.entered, t.retries, f);
                    }
                }
            }
            (other, _) => {
                self.cur = other;
                return Err(ExecutionError::UnknownTask(handle));
            }
        }
        Ok(())
    }
}

impl Execution {
    /// Starts an execution and runs it until it blocks or ends.
    pub fn start(
        def: Arc<Definition>,
        input: Value,
        ctx: StartContext,
    ) -> (Execution, Vec<Action>) {
        let start = def.machine(0).map_or(0, |m| m.start);
        let input = Arc::new(input);
        let state = ExecutionState {
            info: ExecInfo {
                id: ctx.execution_arn,
                name: ctx.execution_name,
                input: input.clone(),
                start_ms: ctx.now_ms,
                role_arn: ctx.role_arn,
                state_machine_id: ctx.state_machine_arn,
                state_machine_name: ctx.state_machine_name,
                region: ctx.region,
                redrive_count: 0,
            },
            root: Branch::new(0, false, start, input.clone(), None),
            status: Status::Running,
            outcome: None,
            last_event_id: 0,
            next_handle: 0,
            rng: Rng::new(ctx.seed),
            pending: HashMap::new(),
            tokens: HashMap::new(),
            transitions: 0,
            max_history_events: ctx.max_history_events,
        };
        let mut exe = Execution { def, state };
        // A first run usually walks the definition once: two events per state.
        let hint = (2 * exe.def.state_count() + 4).min(4096);
        let actions = exe.step(ctx.now_ms, hint, |cx, root| {
            let role_arn = cx.info.role_arn.clone();
            let pid = cx.payload(false, &input);
            cx.emit(false, || EventDetails::ExecutionStarted {
                input: pid,
                role_arn,
            });
            if let Some(t) = cx.def.timeout_seconds {
                cx.timer(
                    &[],
                    Wake::ExecutionTimeout,
                    cx.now.saturating_add((t as i64).saturating_mul(1000)),
                );
            }
            root.run(cx, &mut Vec::new());
            Ok(())
        });
        (exe, actions.unwrap_or_default())
    }

    /// Re-attaches a persisted state to its definition.
    pub fn restore(
        def: Arc<Definition>,
        state: ExecutionState,
    ) -> Result<Execution, ExecutionError> {
        if def.machine(state.root.machine).is_none() {
            return Err(ExecutionError::DefinitionMismatch);
        }
        Ok(Execution { def, state })
    }

    /// The serializable state (also what `Serialize` on `Execution` writes).
    pub fn state(&self) -> &ExecutionState {
        &self.state
    }

    pub fn definition(&self) -> &Arc<Definition> {
        &self.def
    }

    pub fn status(&self) -> Status {
        self.state.status
    }

    pub fn outcome(&self) -> Option<&Outcome> {
        self.state.outcome.as_ref()
    }

    /// States entered so far (what AWS bills as state transitions).
    pub fn transitions(&self) -> u64 {
        self.state.transitions
    }

    /// The task waiting on this token, if any (for `SendTaskSuccess` and friends).
    pub fn task_for_token(&self, token: &str) -> Option<u64> {
        self.state.tokens.get(token).copied()
    }

    /// Feeds one command at the host's time `now_ms`.
    pub fn handle(&mut self, now_ms: i64, cmd: Command) -> Result<Vec<Action>, ExecutionError> {
        if self.state.status != Status::Running {
            return Err(ExecutionError::Finished);
        }
        match &cmd {
            Command::Stop { error, cause } => {
                let (error, cause) = (error.clone(), cause.clone());
                self.step(now_ms, 16, move |cx, root| {
                    root.release(cx);
                    cx.emit(false, || EventDetails::ExecutionAborted {
                        error: error.clone(),
                        cause: cause.clone(),
                    });
                    root.cur = Cursor::Idle;
                    Err(StepEnd::End(Box::new(Outcome {
                        status: Status::Aborted,
                        output: None,
                        error,
                        cause,
                    })))
                })
            }
            Command::TaskSucceeded { task_id, .. }
            | Command::TaskFailed { task_id, .. }
            | Command::TaskHeartbeat { task_id } => {
                let id = *task_id;
                let Some(p) = self.state.pending.get(&id).cloned() else {
                    return Err(ExecutionError::UnknownTask(id));
                };
                if p.wake != Wake::Task {
                    return Err(ExecutionError::UnknownTask(id));
                }
                self.step(now_ms, 16, |cx, root| {
                    root.deliver(cx, &mut Vec::new(), &p.route, id, p.wake, &cmd)
                        .map_err(|_| StepEnd::Unknown(id))
                })
            }
            Command::TimerFired { timer_id } => {
                let id = *timer_id;
                let Some(p) = self.state.pending.get(&id).cloned() else {
                    // A timer that was cancelled or already handled: nothing to do.
                    return Ok(Vec::new());
                };
                if p.wake == Wake::Task {
                    return Err(ExecutionError::UnknownTask(id));
                }
                if p.wake == Wake::ExecutionTimeout {
                    return self.step(now_ms, 16, |cx, root| {
                        cx.pending.remove(&id);
                        root.release(cx);
                        let error = Some("States.Timeout".to_owned());
                        let cause = Some("The execution exceeded its TimeoutSeconds".to_owned());
                        cx.emit(false, || EventDetails::ExecutionTimedOut {
                            error: error.clone(),
                            cause: cause.clone(),
                        });
                        root.cur = Cursor::Idle;
                        Err(StepEnd::End(Box::new(Outcome {
                            status: Status::TimedOut,
                            output: None,
                            error,
                            cause,
                        })))
                    });
                }
                self.step(now_ms, 16, |cx, root| {
                    let _ = root.deliver(cx, &mut Vec::new(), &p.route, id, p.wake, &cmd);
                    Ok(())
                })
            }
        }
    }

    /// Runs `f` with a context, then settles the outcome and packs the actions.
    /// `f` ends the execution itself (stop, timeout) or reports an unknown task.
    fn step(
        &mut self,
        now_ms: i64,
        events_hint: usize,
        f: impl FnOnce(&mut Cx<'_>, &mut Branch) -> Result<(), StepEnd>,
    ) -> Result<Vec<Action>, ExecutionError> {
        let ExecutionState {
            info,
            root,
            status,
            outcome,
            last_event_id,
            next_handle,
            rng,
            pending,
            tokens,
            transitions,
            max_history_events,
        } = &mut self.state;
        let mut cx = Cx {
            def: &self.def,
            info,
            now: now_ms,
            last_event_id,
            next_handle,
            rng,
            pending,
            tokens,
            transitions,
            max_history_events: *max_history_events,
            jsonata_timeout_ms: self.def.jsonata_timeout_ms,
            events: Vec::with_capacity(events_hint),
            payloads: Vec::new(),
            actions: Vec::new(),
        };
        let result = f(&mut cx, root);
        let mut ended: Option<Outcome> = None;
        match result {
            Err(StepEnd::Unknown(id)) => return Err(ExecutionError::UnknownTask(id)),
            Err(StepEnd::End(o)) => ended = Some(*o),
            Ok(()) => match std::mem::replace(&mut root.cur, Cursor::Idle) {
                Cursor::Succeeded(out) => {
                    let pid = cx.payload(false, &out);
                    cx.emit(false, || EventDetails::ExecutionSucceeded { output: pid });
                    ended = Some(Outcome {
                        status: Status::Succeeded,
                        output: Some(out),
                        error: None,
                        cause: None,
                    });
                }
                Cursor::Failed(fault) => {
                    cx.emit(false, || EventDetails::ExecutionFailed {
                        error: fault.error.clone(),
                        cause: fault.cause.clone(),
                    });
                    ended = Some(Outcome {
                        status: Status::Failed,
                        output: None,
                        error: fault.error,
                        cause: fault.cause,
                    });
                }
                other => root.cur = other,
            },
        }
        if ended.is_some() {
            // Nothing may wake a finished execution: cancel what is still pending.
            let ids: Vec<u64> = cx.pending.keys().copied().collect();
            for id in ids {
                if let Some(p) = cx.pending.remove(&id)
                    && p.wake != Wake::Task
                {
                    cx.actions.push(Action::CancelTimer { timer_id: id });
                }
            }
            cx.tokens.clear();
        }
        let mut actions = Vec::with_capacity(cx.actions.len() + 2);
        if !cx.events.is_empty() {
            actions.push(Action::History(History {
                timestamp_ms: now_ms,
                events: std::mem::take(&mut cx.events),
                payloads: std::mem::take(&mut cx.payloads),
            }));
        }
        actions.append(&mut cx.actions);
        if let Some(o) = ended {
            *status = o.status;
            actions.push(Action::Finished(o.clone()));
            *outcome = Some(o);
        }
        Ok(actions)
    }
}
