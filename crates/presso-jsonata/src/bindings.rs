//! What an evaluation sees besides its input: variables (such as `$states`), the host's clock
//! reading and randomness seed, which function library is on, and evaluation limits.
//!
//! The crate never reads a clock or an entropy source itself: `$now()`/`$millis()` report
//! [`Bindings::set_now_millis`], and `$random()`, `$shuffle()` and `$uuid()` draw from a
//! generator seeded with [`Bindings::set_random_seed`]. A host passes a fresh seed and the current
//! time per evaluation; a test passes fixed ones and gets the same result every run.

use serde_json::Value;

/// Variables and host-supplied environment for one or many evaluations.
#[derive(Debug, Clone, Default)]
pub struct Bindings {
    pub(crate) vars: Vec<(String, Value)>,
    pub(crate) now_millis: i64,
    pub(crate) random_seed: u64,
    pub(crate) step_functions: bool,
    pub(crate) limits: Limits,
}

/// Evaluation guards. Without them evaluation is still bounded in depth (deep recursion ends in
/// a `U1001` error, never a stack overflow); these tighten the bounds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// Maximum evaluation depth (nested expression and function-call levels).
    pub max_depth: Option<usize>,
    /// Maximum evaluation time in milliseconds. This reads the monotonic clock during
    /// evaluation, so results near the limit are not deterministic: leave it unset where
    /// determinism matters more than a time cap.
    pub timeout_ms: Option<u64>,
    /// Maximum length of any sequence the evaluation builds.
    pub max_sequence_length: Option<usize>,
}

impl Bindings {
    /// Plain JSONata 2.x: no variables, the clock at the epoch, seed 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// The function library of Step Functions' JSONata states: the standard library plus
    /// `$partition`, `$range`, `$hash`, `$random(seed)`, `$uuid` and `$parse`, and without `$eval`.
    pub fn step_functions() -> Self {
        Bindings {
            step_functions: true,
            ..Self::default()
        }
    }

    /// Binds `$name` (give the name without the `$`) to a JSON value, replacing an earlier binding.
    pub fn bind(&mut self, name: impl Into<String>, value: Value) -> &mut Self {
        let name = name.into();
        let name = name.strip_prefix('$').map(str::to_owned).unwrap_or(name);
        match self.vars.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.vars.push((name, value)),
        }
        self
    }

    /// Binds `$states`, the variable Step Functions gives every JSONata expression.
    pub fn set_states(&mut self, states: Value) -> &mut Self {
        self.bind("states", states)
    }

    /// The time `$now()` and `$millis()` report, in milliseconds since the Unix epoch. Like
    /// jsonata-js, every call within one evaluation sees the same instant.
    pub fn set_now_millis(&mut self, millis: i64) -> &mut Self {
        self.now_millis = millis;
        self
    }

    /// Seeds the generator behind `$random()`, `$shuffle()` and `$uuid()` for each evaluation.
    pub fn set_random_seed(&mut self, seed: u64) -> &mut Self {
        self.random_seed = seed;
        self
    }

    /// Turns Step Functions' functions on or off (see [`Bindings::step_functions`]).
    pub fn set_step_functions(&mut self, on: bool) -> &mut Self {
        self.step_functions = on;
        self
    }

    /// Sets the evaluation guards.
    pub fn set_limits(&mut self, limits: Limits) -> &mut Self {
        self.limits = limits;
        self
    }

    /// The value bound to `$name`, if any.
    pub fn get(&self, name: &str) -> Option<&Value> {
        let name = name.strip_prefix('$').unwrap_or(name);
        self.vars.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn binding_a_name_twice_keeps_the_last_value() {
        let mut b = Bindings::new();
        b.bind("x", json!(1)).bind("$x", json!(2));
        assert_eq!(b.get("x"), Some(&json!(2)));
        assert_eq!(b.vars.len(), 1);
    }

    #[test]
    fn states_is_bound_as_a_variable() {
        let mut b = Bindings::step_functions();
        b.set_states(json!({"input": 1}));
        assert_eq!(b.get("$states"), Some(&json!({"input": 1})));
        assert!(b.step_functions);
    }
}
