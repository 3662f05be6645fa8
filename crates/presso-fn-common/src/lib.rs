//! What every function crate shares at its edge, so each `presso-fn-*` stays a thin
//! translation of requests and events into `presso-core` use cases:
//!
//! - [`http`]: the caller's [`presso_core::identity::Principal`] from the API Gateway request
//!   context (an axum extractor), use-case errors as `application/problem+json`, JSON bodies
//!   and query parameters;
//! - [`event`]: an EventBridge envelope as a catalogue [`presso_core::events::Event`], and the
//!   Lambda error an event handler returns;
//! - [`env`]: reading a function's environment map;
//! - [`logging`]: JSON logs on Lambda;
//! - `workflow` (feature `workflow`): the workflow event functions' dependencies and handler;
//! - `testing` (feature `testing`): handler tests over the committed `events/` fixtures.
//!
//! It holds no business rules and no AWS clients (those are `presso-aws`').

pub mod env;
pub mod event;
pub mod http;
pub mod logging;
#[cfg(feature = "testing")]
pub mod testing;
#[cfg(feature = "workflow")]
pub mod workflow;
