//! JSONata mode: `{% ... %}` templates and the `$states` an expression sees.
//!
//! A JSONata state's fields (`Arguments`, `Output`, `Assign`, `Items`, `Condition`,
//! `Seconds`, ...) are JSON values in which a string of the form `"{% expr %}"` is an
//! expression and everything else is a literal. They compile once, at load, into
//! [`JTemplate`]s; at run time an [`Env`] binds `$states` (`input`, `context`, and where the
//! state has them `result` and `errorOutput`) and the workflow variables, and every
//! expression of one phase of a state evaluates in it.
//!
//! The evaluator reads no clock and no entropy: `$now()`/`$millis()` report the time the
//! host passed with its command, and `$random()`/`$uuid()` draw from the execution's
//! seeded generator, so an execution replays exactly.

use crate::expr::ContextView;
use presso_jsonata::{Bindings, Expression, Limits};
use serde_json::{Map, Value};

/// Guards for state expressions: recursion and sequence sizes are bounded, so a hostile
/// definition ends in an error rather than exhausting memory; the host's time limit
/// (`StartContext::jsonata_timeout_ms`) stops what has no depth, such as tail recursion.
const LIMITS: Limits = Limits {
    max_depth: Some(400),
    timeout_ms: None,
    max_sequence_length: Some(1_000_000),
};

/// One compiled `{% %}` expression with its text (AWS quotes it in error causes).
#[derive(Debug)]
pub(crate) struct JExpr {
    pub(crate) source: String,
    expr: Expression,
}

impl JExpr {
    /// Compiles the expression inside `{% %}`; `None` when `text` is a literal string.
    pub(crate) fn of(text: &str) -> Option<Result<JExpr, String>> {
        let inner = presso_jsonata::template::expression_of(text)?;
        Some(
            Expression::compile(inner)
                .map(|expr| JExpr {
                    source: inner.to_owned(),
                    expr,
                })
                .map_err(|e| format!("The JSONata expression '{inner}' is not valid: {e}")),
        )
    }

    /// Evaluates; `Ok(None)` when the result is undefined. A result over AWS's payload
    /// limit is an error too: state data can never grow past it, not even by a loop
    /// that doubles its input each time round.
    pub(crate) fn eval(&self, env: &Env, field: &str) -> Result<Option<Value>, String> {
        let v = self.expr.evaluate_in(None, &env.scope).map_err(|e| {
            format!(
                "The JSONata expression '{}' specified for the field '{field}' threw an error during evaluation: {e}",
                self.source
            )
        })?;
        if v.as_ref()
            .is_some_and(|v| crate::execution::exceeds(v, crate::execution::MAX_PAYLOAD_BYTES))
        {
            return Err(format!(
                "The JSONata expression '{}' specified for the field '{field}' returned a result larger than the maximum of {} bytes.",
                self.source,
                crate::execution::MAX_PAYLOAD_BYTES
            ));
        }
        Ok(v)
    }

    /// Evaluates and insists on a value.
    pub(crate) fn eval_defined(&self, env: &Env, field: &str) -> Result<Value, String> {
        self.eval(env, field)?.ok_or_else(|| {
            format!(
                "The JSONata expression '{}' specified for the field '{field}' returned nothing (undefined).",
                self.source
            )
        })
    }
}

/// A JSON value with `{% %}` expressions in its strings.
#[derive(Debug)]
pub(crate) enum JTemplate {
    Const(Value),
    Expr(Box<JExpr>),
    Object(Vec<(String, JTemplate)>),
    Array(Vec<JTemplate>),
}

impl JTemplate {
    /// Compiles a field value; errors carry the JSON Pointer suffix of the bad string.
    pub(crate) fn compile(v: &Value) -> Result<JTemplate, (String, String)> {
        Ok(match v {
            Value::String(s) => match JExpr::of(s) {
                None => JTemplate::Const(v.clone()),
                Some(Ok(e)) => JTemplate::Expr(Box::new(e)),
                Some(Err(m)) => return Err((String::new(), m)),
            },
            Value::Object(m) => {
                let mut fields = Vec::with_capacity(m.len());
                for (k, x) in m {
                    let t = Self::compile(x).map_err(|(p, e)| (join(k, &p), e))?;
                    fields.push((k.clone(), t));
                }
                if fields.iter().all(|(_, t)| matches!(t, JTemplate::Const(_))) {
                    JTemplate::Const(v.clone())
                } else {
                    JTemplate::Object(fields)
                }
            }
            Value::Array(a) => {
                let mut items = Vec::with_capacity(a.len());
                for (i, x) in a.iter().enumerate() {
                    items.push(Self::compile(x).map_err(|(p, e)| (join(&i.to_string(), &p), e))?);
                }
                if items.iter().all(|t| matches!(t, JTemplate::Const(_))) {
                    JTemplate::Const(v.clone())
                } else {
                    JTemplate::Array(items)
                }
            }
            other => JTemplate::Const(other.clone()),
        })
    }

    /// The expression texts, to decide what an [`Env`] must bind.
    pub(crate) fn sources<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            JTemplate::Const(_) => {}
            JTemplate::Expr(e) => out.push(&e.source),
            JTemplate::Object(f) => f.iter().for_each(|(_, t)| t.sources(out)),
            JTemplate::Array(a) => a.iter().for_each(|t| t.sources(out)),
        }
    }

    /// Evaluates; an undefined expression anywhere is an error naming its field path
    /// (`Output/result`), as AWS words it.
    pub(crate) fn eval(&self, env: &Env, field: &str) -> Result<Value, String> {
        match self {
            JTemplate::Const(v) => Ok(v.clone()),
            JTemplate::Expr(e) => e.eval_defined(env, field),
            JTemplate::Object(fields) => {
                let mut m = Map::with_capacity(fields.len());
                for (k, t) in fields {
                    m.insert(k.clone(), t.eval(env, &format!("{field}/{k}"))?);
                }
                Ok(Value::Object(m))
            }
            JTemplate::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, t)| t.eval(env, &format!("{field}[{i}]")))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
        }
    }
}

fn join(k: &str, rest: &str) -> String {
    if rest.is_empty() {
        k.to_owned()
    } else {
        format!("{k}/{rest}")
    }
}

/// What `$states` holds for one phase of a state.
pub(crate) struct States<'a> {
    pub(crate) input: &'a Value,
    pub(crate) result: Option<&'a Value>,
    pub(crate) error_output: Option<&'a Value>,
    pub(crate) ctx: &'a ContextView<'a>,
    pub(crate) now_ms: i64,
    pub(crate) seed: u64,
    pub(crate) timeout_ms: u64,
}

/// Prepared bindings for the expressions of one phase of a state.
pub(crate) struct Env {
    scope: presso_jsonata::Scope,
}

impl Env {
    /// Binds `$states` and the variables the given expressions mention (binding one
    /// costs a conversion of its value, so unmentioned ones are left out).
    pub(crate) fn new(states: &States<'_>, sources: &[&str]) -> Result<Env, String> {
        let mut b = Bindings::step_functions();
        b.set_now_millis(states.now_ms)
            .set_random_seed(states.seed)
            .set_limits(Limits {
                timeout_ms: Some(states.timeout_ms),
                ..LIMITS
            });
        if sources.iter().any(|s| s.contains("$states")) {
            let mut st = Map::new();
            st.insert("input".into(), states.input.clone());
            if sources.iter().any(|s| s.contains("context")) {
                st.insert("context".into(), states.ctx.build());
            }
            if let Some(r) = states.result {
                st.insert("result".into(), r.clone());
            }
            if let Some(e) = states.error_output {
                st.insert("errorOutput".into(), e.clone());
            }
            b.set_states(Value::Object(st));
        }
        if let Some(vars) = states.ctx.vars {
            for (name, value) in vars {
                if mentions(sources, name) {
                    b.bind(name.clone(), value.clone());
                }
            }
        }
        let scope = b.scope().map_err(|e| e.to_string())?;
        Ok(Env { scope })
    }
}

/// Whether any source says `$name` (not as the prefix of a longer name).
fn mentions(sources: &[&str], name: &str) -> bool {
    sources.iter().any(|s| {
        let mut rest = *s;
        while let Some(i) = rest.find('$') {
            rest = &rest[i + 1..];
            if let Some(after) = rest.strip_prefix(name)
                && !after.starts_with(|c: char| c.is_alphanumeric() || c == '_')
            {
                return true;
            }
        }
        false
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_whole_delimited_strings_are_expressions() {
        let t = JTemplate::compile(&json!({"a": "{% 1 + 1 %}", "b": " {% 1 %} ", "c": [1, "x"]}))
            .unwrap();
        let ctx = ContextView::detached();
        let input = json!({});
        let env = Env::new(
            &States {
                input: &input,
                result: None,
                error_output: None,
                ctx: &ctx,
                now_ms: 0,
                seed: 0,
                timeout_ms: 1_000,
            },
            &[],
        )
        .unwrap();
        assert_eq!(
            t.eval(&env, "Output").unwrap(),
            json!({"a": 2, "b": " {% 1 %} ", "c": [1, "x"]})
        );
    }

    #[test]
    fn an_undefined_field_is_named_by_its_path() {
        let t = JTemplate::compile(&json!({"result": "{% $nope %}"})).unwrap();
        let ctx = ContextView::detached();
        let input = json!({});
        let states = States {
            input: &input,
            result: None,
            error_output: None,
            ctx: &ctx,
            now_ms: 0,
            seed: 0,
            timeout_ms: 1_000,
        };
        let env = Env::new(&states, &["$nope"]).unwrap();
        let e = t.eval(&env, "Output").unwrap_err();
        assert!(
            e.contains("'Output/result' returned nothing (undefined)"),
            "{e}"
        );
    }

    #[test]
    fn variable_mentions_ignore_longer_names() {
        assert!(mentions(&["$x + 1"], "x"));
        assert!(!mentions(&["$xy + 1"], "x"));
        assert!(mentions(&["$xy + $x"], "x"));
    }
}
