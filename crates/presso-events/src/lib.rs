//! Amazon EventBridge for presso: event buses, rules with the full event-pattern language,
//! targets, `PutEvents` with AWS's envelope and limits, `TestEventPattern`, and delivery.
//!
//! The host (presso-local) routes `AWSEvents.<Op>` JSON 1.1 requests to
//! [`EventBridge::handle`] and implements [`TargetInvoker`] for the targets it hosts (state
//! machines, functions). The log target (`arn:aws:logs:...:log-group:NAME`) is built in: its
//! events are kept in the store and read with [`EventBridge::log_events`].
//!
//! Invariants:
//! - a matched delivery is never dropped silently: it reaches its target or, after the
//!   [`RetryPolicy`]'s tries, lands in the dead-letter list ([`EventBridge::dead_letters`]) with
//!   the reason, and a warning is logged;
//! - `PutEvents` reads no database: each bus's enabled rules are compiled once, when a rule or
//!   target changes, and kept in memory;
//! - the `default` bus always exists;
//! - it opens no socket: the host owns transport and runs the deliveries on its tokio runtime.
//!
//! - schedule rules (`rate(...)`, `cron(...)`, on the default bus) fire on the service's clock
//!   once the host calls [`EventBridge::start_schedules`]: a `Scheduled Event` from
//!   `aws.events` to each target, kept like any delivery until it is made.
//!
//! Known limits: a rate counts its periods from when this process first saw the rule, so a
//! restart begins a new period; fires missed while presso was stopped are made once, not
//! once each.
//!
//! Modules: `service` (the facade and the operations), `input` (InputPath, InputTransformer),
//! `delivery` (the invoker port, retries, log ARNs), `store` (SQLite), `error`.

mod delivery;
mod error;
mod input;
mod schedule;
mod service;
mod store;

pub use delivery::{Delivery, DeliveryError, NoTargets, RetryPolicy, TargetInvoker, log_group_of};
pub use error::{ErrorType, EventsError};
pub use input::{DeliveryContext, JsonPath, Transformer};
pub use schedule::Schedule;
pub use service::{
    Clock, DEFAULT_BUS, EventBridge, MAX_PUT_EVENTS_ENTRIES, MAX_PUT_EVENTS_SIZE,
    MAX_TARGETS_PER_RULE, OPERATIONS, OpenError, Options, Storage, SystemClock, TARGET_PREFIX,
};
