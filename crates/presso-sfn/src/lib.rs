//! Step Functions for presso: state machines and executions that survive `kill -9`, over
//! the sans-IO ASL engine (`presso-asl`).
//!
//! [`Service::call`] answers the Step Functions API by operation name with AWS's JSON shapes
//! and errors ([`SfnError::aws_type`] is the `__type`); there is no HTTP here. Everything
//! lives in one SQLite database (WAL, `synchronous=NORMAL`): machines with every revision of
//! their definition, executions with the engine's serialized state, history, task tokens,
//! tasks handed out and timers. A call is answered only after what it changed is committed,
//! and a task is recorded before it starts, so after a crash nothing that AWS runs once runs
//! twice; on open, pending timers are reloaded (late ones fire at once).
//!
//! It must never do HTTP or read the environment: the host lends it a clock and the other
//! services its tasks call, through the small traits in [`hooks`].
//!
//! Modules: `engine` (the single writer thread: batches, group commit, timers), `api` (the
//! operations), `tasks` (service integrations), `db` (the schema), [`hooks`], `error`.

mod api;
mod db;
mod engine;
mod error;
pub mod hooks;
mod tasks;

pub use engine::{Service, ServiceConfig, Usage};
pub use error::SfnError;
pub use hooks::{
    Clock, DynamoDb, EventSink, FunctionInvoker, Hooks, NoDynamoDb, NoFunctions,
    RecordingEventSink, SystemClock, TaskError,
};
