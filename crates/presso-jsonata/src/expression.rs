//! A compiled JSONata expression: parse once, evaluate against many inputs.
//!
//! Evaluation runs the tree-walking evaluator of `jsonata-core` with this crate's functions
//! installed, converting the host's `serde_json::Value`s at the boundary. It never panics on an
//! expression or input: evaluator panics, should any remain, come back as `U1000` errors (where panics unwind).

use std::panic::{AssertUnwindSafe, catch_unwind};

use jsonata_core::ast::AstNode;
use jsonata_core::evaluator::{Context, Evaluator, EvaluatorOptions};
use jsonata_core::value::JValue;
use serde_json::Value;

use crate::bindings::Bindings;
use crate::convert;
use crate::error::{Error, codes};
use crate::functions;
use crate::scope::Scope;

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
            .map_err(|e| locate(source, Error::from_coded(true, &e.to_string())))?;
        Ok(Expression {
            source: source.to_owned(),
            ast: guard_calls(source, ast),
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
        self.evaluate_in(input, &Scope::new(bindings)?)
    }

    /// Evaluates within a [`Scope`]: its bindings are already converted, and random functions
    /// continue the scope's stream rather than restarting from the seed.
    pub fn evaluate_in(
        &self,
        input: Option<&Value>,
        scope: &Scope,
    ) -> Result<Option<Value>, Error> {
        let data = match input {
            Some(v) => convert::to_jvalue(v)?,
            None => JValue::Undefined,
        };
        let mut ctx = Context::new();
        for (name, value) in &scope.vars {
            ctx.bind(name.clone(), value.clone());
        }
        let options = EvaluatorOptions {
            timeout_ms: scope.limits.timeout_ms,
            max_stack_depth: scope.limits.max_depth,
            max_sequence_length: scope.limits.max_sequence_length,
            ..EvaluatorOptions::default()
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let mut ev = Evaluator::with_options(ctx, options);
            functions::install(&mut ev, scope)?;
            ev.evaluate(&self.ast, &data)
        }));
        match outcome {
            Ok(Ok(result)) => convert::from_jvalue(&result),
            Ok(Err(e)) => Err(Error::from_coded(false, e.message())),
            Err(_) => Err(Error::evaluate(
                codes::INTERNAL,
                "internal evaluator failure",
            )),
        }
    }
}

/// Built-ins whose calls are compiled to a guarded host function instead: the name, the
/// guard's name, and how many arguments a call needs to be redirected.
const GUARDED_CALLS: &[(&str, &str, usize)] = &[
    ("substring", functions::GUARDED_SUBSTRING, 0),
    ("fromMillis", functions::GUARDED_FROM_MILLIS, 1),
    ("toMillis", functions::GUARDED_TO_MILLIS, 1),
];

/// Redirects calls of the built-ins in [`GUARDED_CALLS`] to guards that keep the evaluator's
/// integer arithmetic from overflowing on extreme arguments. Done for a name only when every
/// occurrence of it in the source is a plain call (not a variable of that name or a function
/// value), so the renaming cannot change which function a name means.
fn guard_calls(source: &str, ast: AstNode) -> AstNode {
    let guarded: Vec<&(&str, &str, usize)> = GUARDED_CALLS
        .iter()
        .filter(|(name, _, _)| only_called(source, name))
        .collect();
    if guarded.is_empty() {
        return ast;
    }
    let Ok(mut tree) = serde_json::to_value(&ast) else {
        return ast;
    };
    // Iterative walk: the tree can be as deep as the parser allows.
    let mut stack = vec![&mut tree];
    while let Some(node) = stack.pop() {
        match node {
            Value::Object(map) => {
                if let Some(Value::Object(call)) = map.get_mut("Function")
                    && call.get("is_builtin") == Some(&Value::Bool(true))
                {
                    let argc = call
                        .get("args")
                        .and_then(Value::as_array)
                        .map_or(0, Vec::len);
                    let name = call.get("name").and_then(Value::as_str).unwrap_or_default();
                    if let Some((_, guard, min_args)) = guarded.iter().find(|(n, _, _)| *n == name)
                        && argc >= *min_args
                    {
                        call.insert("name".to_owned(), Value::String((*guard).to_owned()));
                    }
                }
                stack.extend(map.values_mut());
            }
            Value::Array(items) => stack.extend(items.iter_mut()),
            _ => {}
        }
    }
    serde_json::from_value(tree).unwrap_or(ast)
}

/// Whether `$name` occurs in `source` and every occurrence is directly called (`$name(`);
/// longer names that merely start with it (`$substringBefore`) do not count.
fn only_called(source: &str, name: &str) -> bool {
    let needle = format!("${name}");
    let mut found = false;
    let mut rest = source;
    while let Some(i) = rest.find(&needle) {
        let after = &rest[i + needle.len()..];
        rest = after;
        if after.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if !after.trim_start().starts_with('(') {
            return false;
        }
        found = true;
    }
    found
}

/// Codes the parser raises when the text simply stops early: a prefix of any expression can
/// fail with these, so they do not mark where an error is.
const END_OF_INPUT_CODES: &[&str] = &["S0207", "S0101", "S0105", "S0106", "S0203", "S0202"];

/// Longest expression [`locate`] probes; the search parses every prefix once.
const MAX_LOCATED_SOURCE: usize = 2_000;

/// Gives a compile error the character offset where it shows: the end of the shortest prefix of
/// the source that already fails with the same code for a reason other than running out of
/// text. jsonata-js reports positions the same way (just past the offending token); the parser
/// this crate uses keeps none, so they are recovered by probing prefixes.
fn locate(source: &str, error: Error) -> Error {
    let Error::Compile {
        code,
        message,
        position: None,
    } = error
    else {
        return error;
    };
    let mut position = None;
    if source.len() <= MAX_LOCATED_SOURCE {
        for (chars, (end, c)) in source.char_indices().enumerate() {
            let prefix = &source[..end + c.len_utf8()];
            let failed = catch_unwind(|| jsonata_core::parser::parse(prefix))
                .ok()
                .and_then(Result::err)
                .map(|e| Error::from_coded(true, &e.to_string()));
            if let Some(e) = failed
                && e.code() == code
                && (prefix.len() == source.len() || !END_OF_INPUT_CODES.contains(&e.code()))
            {
                position = Some(chars + 1);
                break;
            }
        }
    }
    Error::Compile {
        code,
        message,
        position,
    }
}

/// Refuses expressions whose brackets nest deeper than [`MAX_EXPRESSION_NESTING`], skipping
/// string literals, backquoted names and comments so their brackets do not count.
fn check_nesting(source: &str) -> Result<(), Error> {
    let mut depth = 0usize;
    let mut chars = source.chars().enumerate().peekable();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn position_of(src: &str) -> Option<usize> {
        Expression::compile(src).map(|_| ()).unwrap_err().position()
    }

    #[test]
    fn syntax_errors_point_just_past_the_offending_token() {
        assert_eq!(position_of("1 + )"), Some(5));
        assert_eq!(position_of("Account.Order@o.Product"), Some(14));
        assert_eq!(position_of("[1, 2"), Some(5));
    }

    #[test]
    fn nesting_beyond_the_limit_points_at_the_bracket_that_exceeds_it() {
        let src = format!("{}1{}", "(".repeat(300), ")".repeat(300));
        let e = Expression::compile(&src).unwrap_err();
        assert_eq!(e.code(), "U1002");
        assert_eq!(e.position(), Some(MAX_EXPRESSION_NESTING));
    }
}
