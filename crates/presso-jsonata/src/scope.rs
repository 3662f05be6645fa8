//! A [`Scope`]: bindings converted once into the evaluator's values, plus one random stream,
//! shared by several evaluations.
//!
//! An ASL state evaluates many expressions against the same `$states` (each field of `Arguments`,
//! `Output`, `Assign`...). Through one scope, `$states` is converted once, and `$random()`,
//! `$shuffle()` and `$uuid()` keep drawing from the same stream, so two `$uuid()` fields of one
//! state differ while the whole state stays reproducible from its seed.

use std::rc::Rc;

use jsonata_core::value::JValue;

use crate::bindings::{Bindings, Limits};
use crate::convert;
use crate::error::Error;
use crate::functions::SplitMix;

/// Prepared bindings for a run of evaluations on one thread (it is not `Send`).
#[derive(Debug)]
pub struct Scope {
    pub(crate) vars: Vec<(String, JValue)>,
    pub(crate) rng: Rc<SplitMix>,
    pub(crate) now_millis: i64,
    pub(crate) step_functions: bool,
    pub(crate) limits: Limits,
}

impl Scope {
    /// Converts `bindings` once; fails only when a bound value is nested too deeply.
    pub fn new(bindings: &Bindings) -> Result<Self, Error> {
        Ok(Scope {
            vars: bindings
                .vars
                .iter()
                .map(|(name, value)| Ok((name.clone(), convert::to_jvalue(value)?)))
                .collect::<Result<_, Error>>()?,
            rng: Rc::new(SplitMix::new(bindings.random_seed)),
            now_millis: bindings.now_millis,
            step_functions: bindings.step_functions,
            limits: bindings.limits,
        })
    }
}

impl Bindings {
    /// A [`Scope`] for several evaluations with these bindings.
    pub fn scope(&self) -> Result<Scope, Error> {
        Scope::new(self)
    }
}
