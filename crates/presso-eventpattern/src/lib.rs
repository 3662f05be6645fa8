//! The Amazon EventBridge event-pattern language: parse and validate a pattern once, then match
//! events against it quickly.
//!
//! ```
//! use presso_eventpattern::Pattern;
//! use serde_json::json;
//!
//! let pattern = Pattern::parse(r#"{
//!     "source": ["awsserverlessda.serverlesspresso"],
//!     "detail-type": [{"prefix": "OrderManager."}],
//!     "detail": {"eventId": [{"exists": true}], "drink": [{"anything-but": "Espresso"}]}
//! }"#)?;
//! let event = json!({
//!     "source": "awsserverlessda.serverlesspresso",
//!     "detail-type": "OrderManager.OrderCompleted",
//!     "detail": {"eventId": "default", "drink": "Latte"}
//! });
//! assert!(pattern.matches(&event));
//! # Ok::<(), presso_eventpattern::PatternError>(())
//! ```
//!
//! Everything EventBridge rules accept is supported: exact strings, numbers, booleans and `null`;
//! `prefix` and `suffix` (each also with `equals-ignore-case`); `equals-ignore-case`; `wildcard`;
//! `anything-but` with a value, a list, or `prefix`/`suffix`/`wildcard`/`equals-ignore-case`;
//! `numeric` comparisons and ranges; `cidr`; `exists`; `$or`; nested objects and arrays. Invalid
//! patterns are refused with the messages EventBridge gives (see [`PatternError`]).
//!
//! This crate never does IO, reads no clock and no environment: it is pure logic, shared by the local
//! EventBridge service (rule matching in `PutEvents`, `TestEventPattern`) and anything else that needs
//! to know whether an event matches.
//!
//! [`test_event_pattern`] decides a whole `TestEventPattern` call, event validation included.
//!
//! Where presso knowingly differs from EventBridge:
//! - EventBridge refuses patterns whose wildcards it judges "too complex"; its measure and threshold
//!   are not documented, so presso refuses none (its matcher does not slow down with wildcards).
//! - EventBridge joins nested keys with dots internally, so `{"a.b": [..]}` and `{"a": {"b": [..]}}`
//!   collide there; presso keeps them apart (the collision is documented as behaviour not to rely on).
//! - Inside arrays of objects, `exists: false` is judged after the other conditions of its object have
//!   chosen an element; EventBridge's answer can depend on the alphabetical order of field names in
//!   that corner.
//! - presso bounds `$or` expansion at [`MAX_OR_COMBINATIONS`] alternatives.
//!
//! Modules: `compile` (JSON to compiled alternatives, validation), `tree` (walking an event),
//! `value` (conditions on one leaf value), `number`, `ip` and `wildcard` (their operand types),
//! `test_event` (the `TestEventPattern` decision).

mod compile;
mod error;
mod ip;
mod number;
mod test_event;
mod tree;
mod value;
mod wildcard;

use serde_json::Value;

pub use error::PatternError;
pub use test_event::{MANDATORY_EVENT_FIELDS, TestEventPatternError, test_event_pattern};

/// The longest pattern text, in characters, the `EventPattern` API parameter accepts.
pub const MAX_PATTERN_LENGTH: usize = 4096;

/// The most alternatives a pattern's `$or` blocks may multiply out to. EventBridge documents no such
/// number; presso keeps one so a small pattern cannot demand unbounded work per event.
pub const MAX_OR_COMBINATIONS: usize = 1000;

/// A compiled event pattern. Compiling once and matching many times is the point: matching walks the
/// event in place and allocates nothing.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// The pattern matches when any alternative does; a pattern without `$or` has exactly one.
    alternatives: Box<[tree::Node]>,
}

impl Pattern {
    /// Parses and compiles pattern text, as given to `PutRule` or `TestEventPattern`.
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        let length = text.chars().count();
        if length > MAX_PATTERN_LENGTH {
            return Err(PatternError::TooLong {
                length,
                max: MAX_PATTERN_LENGTH,
            });
        }
        let value: Value =
            serde_json::from_str(text).map_err(|e| PatternError::Json(e.to_string()))?;
        Self::from_value(&value)
    }

    /// Compiles a pattern that is already JSON (for instance an `EventPattern` written as a YAML
    /// object in a SAM template). No length limit applies here: the text form is what the API limits.
    pub fn from_value(pattern: &Value) -> Result<Self, PatternError> {
        let alternatives = compile::compile(pattern, MAX_OR_COMBINATIONS)?;
        Ok(Pattern {
            alternatives: alternatives.into_boxed_slice(),
        })
    }

    /// Whether the event matches. Events that are not JSON objects match nothing but patterns made
    /// only of `exists: false` conditions, as on EventBridge.
    pub fn matches(&self, event: &Value) -> bool {
        let object = event.as_object();
        self.alternatives
            .iter()
            .any(|alternative| alternative.matches_object(object))
    }
}

impl std::str::FromStr for Pattern {
    type Err = PatternError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Pattern::parse(text)
    }
}
