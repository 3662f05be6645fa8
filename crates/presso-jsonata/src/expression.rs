//! A compiled JSONata expression: parse once, evaluate against many inputs.
//!
//! Evaluation runs the tree-walking evaluator of `jsonata-core` with this crate's functions
//! installed, converting the host's `serde_json::Value`s at the boundary. It never panics on an
//! expression or input: evaluator panics, should any remain, come back as `U1000` errors.

use std::panic::{AssertUnwindSafe, catch_unwind};

use jsonata_core::ast::AstNode;
use jsonata_core::evaluator::{Context, Evaluator, EvaluatorOptions};
use jsonata_core::value::JValue;
use serde_json::Value;

use crate::bindings::Bindings;
use crate::convert;
use crate::error::{Error, codes};
use crate::functions;

/// Deepest bracket nesting an expression may have. The parser guards its own recursion at 1,000
/// levels, but that takes more stack than a 2 MiB thread has; real expressions stay far below.
pub const MAX_EXPRESSION_NESTING: usize = 200;

/// A parsed JSONata expression. Cheap to share: it is `Send + Sync` and evaluation borrows it.
#[derive(Debug, Clone)]
pub struct Expression {
    source: String,
    ast: AstNode,
}

impl Expression {
    /// Parses `source`; syntax errors come back with their JSONata `S0xxx` code.
    pub fn compile(source: &str) -> Result<Self, Error> {
        check_nesting(source)?;
        let ast = catch_unwind(|| jsonata_core::parser::parse(source))
            .map_err(|_| Error::Compile {
                code: codes::UNCODED_SYNTAX.to_owned(),
                message: "the expression could not be parsed".to_owned(),
                position: None,
            })?
            .map_err(|e| Error::from_coded(true, &e.to_string()))?;
        Ok(Expression {
            source: source.to_owned(),
            ast,
        })
    }

    /// The text this expression was compiled from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates against `input`; `Ok(None)` means the result is undefined.
    pub fn evaluate(&self, input: &Value, bindings: &Bindings) -> Result<Option<Value>, Error> {
        self.evaluate_input(Some(input), bindings)
    }

    /// Evaluates against an optional input (`None`: no input at all, as JSONata's undefined).
    pub fn evaluate_input(
        &self,
        input: Option<&Value>,
        bindings: &Bindings,
    ) -> Result<Option<Value>, Error> {
        let data = match input {
            Some(v) => convert::to_jvalue(v)?,
            None => JValue::Undefined,
        };
        let mut ctx = Context::new();
        for (name, value) in &bindings.vars {
            ctx.bind(name.clone(), convert::to_jvalue(value)?);
        }
        let options = EvaluatorOptions {
            timeout_ms: bindings.limits.timeout_ms,
            max_stack_depth: bindings.limits.max_depth,
            max_sequence_length: bindings.limits.max_sequence_length,
            ..EvaluatorOptions::default()
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let mut ev = Evaluator::with_options(ctx, options);
            functions::install(&mut ev, bindings)?;
            ev.evaluate(&self.ast, &data)
        }));
        match outcome {
            Ok(Ok(result)) => convert::from_jvalue(&result),
            Ok(Err(e)) => Err(Error::from_coded(false, e.message())),
            Err(_) => Err(Error::evaluate(
                codes::UNCODED,
                "internal evaluator failure",
            )),
        }
    }
}

/// Refuses expressions whose brackets nest deeper than [`MAX_EXPRESSION_NESTING`], skipping
/// string literals, backquoted names and comments so their brackets do not count.
fn check_nesting(source: &str) -> Result<(), Error> {
    let mut depth = 0usize;
    let mut chars = source.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' | '\'' | '`' => {
                while let Some((_, d)) = chars.next() {
                    if d == '\\' && c != '`' {
                        chars.next();
                    } else if d == c {
                        break;
                    }
                }
            }
            '/' if chars.peek().is_some_and(|(_, d)| *d == '*') => {
                chars.next();
                let mut last = ' ';
                for (_, d) in chars.by_ref() {
                    if last == '*' && d == '/' {
                        break;
                    }
                    last = d;
                }
            }
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_EXPRESSION_NESTING {
                    return Err(Error::Compile {
                        code: "U1002".to_owned(),
                        message: format!(
                            "expression nested deeper than {MAX_EXPRESSION_NESTING} levels"
                        ),
                        position: Some(at),
                    });
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}
