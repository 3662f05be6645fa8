//! Amazon States Language: parse, validate and interpret state machines, sans-IO.
//!
//! This is the engine behind presso's local Step Functions. It runs the same
//! `statemachine/*.asl.json` files AWS runs, with AWS's semantics for both query
//! languages. JSONPath: every state type, the input/output pipeline (`InputPath`,
//! `Parameters`, `ResultSelector`, `ResultPath`, `OutputPath`), the context object,
//! all 18 intrinsic functions, every Choice operator. JSONata (`QueryLanguage:
//! "JSONata"` on the definition or on one state): `Arguments` and `Output`, `{% %}`
//! expressions in every field that takes one (Choice `Condition`, Map `Items` and
//! `ItemSelector`, `Seconds`/`Timestamp`, `TimeoutSeconds`/`HeartbeatSeconds`, Fail
//! `Error`/`Cause`, Catch `Output`), `$states.input`/`result`/`errorOutput`/`context`,
//! and Step Functions' added functions (through `presso-jsonata`). Workflow variables
//! (`Assign`) in both languages, with AWS's scoping and size limits. And in both:
//! Retry/Catch, task tokens, heartbeats and timeouts, and AWS's execution-history
//! events.
//!
//! **It never performs effects**: no IO, no clock, no randomness of its own, no service
//! calls. The host feeds it commands (with the current time) and runs the actions it
//! returns. Workflow failures (`States.*` errors) are data in the execution, not Rust
//! errors.
//!
//! # Using it
//!
//! ```
//! use presso_asl::{Action, Command, Definition, Execution, StartContext, Status};
//! use serde_json::json;
//! use std::sync::Arc;
//!
//! let def = Arc::new(Definition::parse(r#"{
//!   "StartAt": "Call",
//!   "States": {"Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
//!                       "Parameters": {"n.$": "$.n"}, "End": true}}
//! }"#).expect("valid definition"));
//! let ctx = StartContext::new("Demo", "run-1", 1_700_000_000_000, 42);
//! let (mut exe, actions) = Execution::start(def, json!({"n": 1}), ctx);
//! // The host records history and runs the task it was asked to run ...
//! let task_id = actions.iter().find_map(|a| match a {
//!     Action::RunTask(t) => Some(t.task_id),
//!     _ => None,
//! }).expect("a task");
//! // ... and reports the result, with its clock.
//! let actions = exe.handle(1_700_000_000_500, Command::TaskSucceeded { task_id, output: json!(2) }).unwrap();
//! assert!(matches!(actions.last(), Some(Action::Finished(o)) if o.status == Status::Succeeded));
//! ```
//!
//! - [`Definition::parse`] validates and compiles a definition once (share it in an
//!   `Arc`); problems come back as [`Diagnostic`]s naming the JSON path of each, in the
//!   shape of `ValidateStateMachineDefinition`. JSONata expressions are compiled here
//!   too; a JSONata state with a JSONPath-only field (`InputPath`, `Parameters`,
//!   `ResultSelector`, `ResultPath`, `OutputPath`, any `*Path`) is refused, and so is a
//!   JSONPath state under a JSONata definition.
//! - [`Execution::start`] / [`Execution::handle`] drive one execution and return
//!   [`Action`]s, to be carried out in order: [`Action::History`] (a [`History`] batch;
//!   [`History::to_aws_json`] gives each event in `GetExecutionHistory`'s shape, and the
//!   batch serializes to that array), [`Action::RunTask`] (resolved parameters, task
//!   token, timeout/heartbeat), [`Action::StartTimer`]/[`Action::CancelTimer`] (absolute
//!   times on the host's clock) and finally [`Action::Finished`].
//! - Commands: [`Command::TaskSucceeded`]/[`Command::TaskFailed`]/[`Command::TaskHeartbeat`]
//!   by task id ([`Execution::task_for_token`] maps a `SendTask*` token to it),
//!   [`Command::TimerFired`] and [`Command::Stop`]. A command the execution cannot use
//!   (finished execution, stale task) is an [`ExecutionError`], which the host maps to
//!   AWS's `TaskTimedOut`/`InvalidToken`/`ExecutionDoesNotExist` answers.
//! - Limits as in AWS: payloads over [`MAX_PAYLOAD_BYTES`] fail with
//!   `States.DataLimitExceeded`; a history reaching [`MAX_HISTORY_EVENTS`] fails the
//!   execution (which also stops a workflow that loops without ever waiting).
//! - [`ExecutionState`] (what `Execution` serializes to) is plain serde data, variables
//!   included: persist it, and after a restart re-attach it with [`Execution::restore`].
//!   Randomness (task tokens, `States.UUID`, JSONata's `$random`/`$uuid`, retry jitter)
//!   comes from [`StartContext::seed`], so a run is reproducible; seed it from a CSPRNG
//!   where tokens must be unguessable. JSONata's `$now()`/`$millis()` report the time of
//!   the command being handled, never the system clock.
//! - Variables: `Assign` sets them after a state's work, from its result (JSONPath `$`;
//!   JSONata `$states.result`) or, for Choice and Wait, its input; all values of one
//!   `Assign` are computed from the variables as they were before it. A Map iteration or
//!   Parallel branch sees the variables of the scope that started it and may assign its
//!   own, which never leak out. One value and one `Assign` are limited to
//!   [`MAX_VARIABLE_BYTES`], a scope to [`MAX_VARIABLES_TOTAL_BYTES`]; going over fails
//!   the state (`States.Runtime`, or `States.QueryEvaluationError` in a JSONata state).
//!   JSONata failures are `States.QueryEvaluationError` (catchable), recorded
//!   with an `EvaluationFailed` event.
//!
//! # Modules
//!
//! - `definition`: parsing, validation, the compiled program.
//! - `execution`: the interpreter (branches, Map/Parallel, retries, tasks, timers).
//! - `expr`: the JSONPath expression seam (payload templates, context object, variable
//!   lookups); `jsonata`: `{% %}` templates and the `$states` they see.
//! - `jsonpath`, `intrinsic`, `choice`: the JSONPath dialect, intrinsic functions and
//!   Choice rules.
//! - `history`: event types and their AWS wire shape.
//! - `timestamp`, `rng`, `name`: RFC 3339, a seeded PRNG, and compact state names.

mod choice;
mod definition;
mod execution;
mod expr;
mod history;
mod intrinsic;
mod jsonata;
mod jsonpath;
mod name;
mod rng;
mod timestamp;

pub use definition::{Definition, Diagnostic, JSONATA_TIMEOUT_MS, Severity, ValidationError};
pub use execution::{
    Action, Command, Execution, ExecutionError, ExecutionState, MAX_HISTORY_EVENTS,
    MAX_PAYLOAD_BYTES, MAX_VARIABLE_BYTES, MAX_VARIABLES_TOTAL_BYTES, Outcome, StartContext,
    Status, TaskRequest,
};
pub use history::{
    EvaluationFailure, EventDetails, History, HistoryEvent, LambdaFunctionScheduled, PayloadId,
    StateType, TaskResource, TaskScheduled,
};
pub use name::StateName;
