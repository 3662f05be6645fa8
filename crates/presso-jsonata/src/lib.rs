//! JSONata for the ASL engine's `QueryLanguage: "JSONata"` states: compile an expression once,
//! evaluate it against `serde_json::Value` inputs many times.
//!
//! The language (JSONata 2.x) comes from the `jsonata-core` evaluator (see README.md for why);
//! this crate adds what Step Functions needs around it: the functions Step Functions adds
//! (`$partition`, `$range`, `$hash`, `$random(seed)`, `$uuid`, `$parse`), `$states` and other
//! variable bindings, deterministic time and randomness supplied by the host, evaluation limits,
//! and errors carrying JSONata's codes (`S0201`, `T2001`, ...) that hosts map to
//! `States.QueryEvaluationError`.
//!
//! It must never do IO, read the clock or the environment, or draw entropy itself, and must never
//! panic or overflow the stack on any expression or input.
//!
//! Modules: [`expression`] (compile/evaluate), [`bindings`] (variables, clock, seed, limits),
//! [`scope`] (bindings prepared once for several evaluations),
//! [`error`], [`template`] (`"{% ... %}"` strings), `functions` (the functions this crate
//! supplies), `convert` (value conversion).
//!
//! ```
//! use presso_jsonata::{Bindings, Expression};
//! use serde_json::json;
//!
//! let expr = Expression::compile("$sum($states.input.items.price) * 2").unwrap();
//! let mut bindings = Bindings::step_functions();
//! bindings.set_states(json!({"input": {"items": [{"price": 1}, {"price": 2}]}}));
//! assert_eq!(expr.evaluate(&json!({}), &bindings).unwrap(), Some(json!(6)));
//! ```

pub mod bindings;
mod convert;
pub mod error;
pub mod expression;
mod functions;
pub mod scope;
pub mod template;

pub use bindings::{Bindings, Limits};
pub use error::{Error, QUERY_EVALUATION_ERROR};
pub use expression::Expression;
pub use functions::RANGE_MAX_ITEMS;
pub use scope::Scope;
