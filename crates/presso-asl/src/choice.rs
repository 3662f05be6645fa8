//! Choice rules: compiled comparison trees and their evaluation.
//!
//! A comparison whose variable has the wrong type is simply false (AWS does not fail
//! `NumericEquals` on a string); a `Variable` or `*Path` operand that points nowhere
//! is a `States.Runtime` error, except for `IsPresent`, which exists to ask exactly that.

use crate::expr::Scope;
use crate::jsonpath::JsonPath;
use crate::timestamp;
use serde_json::Value;
use std::cmp::Ordering;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    String,
    Numeric,
    Boolean,
    Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Lt,
    Gt,
    Le,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TypeTest {
    Null,
    Present,
    Numeric,
    String,
    Boolean,
    Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Rhs {
    Lit(Value),
    Path(JsonPath),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Rule {
    And(Vec<Rule>),
    Or(Vec<Rule>),
    Not(Box<Rule>),
    Compare {
        var: JsonPath,
        kind: Kind,
        cmp: Cmp,
        rhs: Rhs,
    },
    Matches {
        var: JsonPath,
        pattern: Vec<PatTok>,
    },
    Test {
        var: JsonPath,
        test: TypeTest,
        expect: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PatTok {
    Lit(char),
    Star,
}

const OPERATORS: &[(&str, Kind, Cmp)] = &[
    ("StringEquals", Kind::String, Cmp::Eq),
    ("StringLessThan", Kind::String, Cmp::Lt),
    ("StringGreaterThan", Kind::String, Cmp::Gt),
    ("StringLessThanEquals", Kind::String, Cmp::Le),
    ("StringGreaterThanEquals", Kind::String, Cmp::Ge),
    ("NumericEquals", Kind::Numeric, Cmp::Eq),
    ("NumericLessThan", Kind::Numeric, Cmp::Lt),
    ("NumericGreaterThan", Kind::Numeric, Cmp::Gt),
    ("NumericLessThanEquals", Kind::Numeric, Cmp::Le),
    ("NumericGreaterThanEquals", Kind::Numeric, Cmp::Ge),
    ("BooleanEquals", Kind::Boolean, Cmp::Eq),
    ("TimestampEquals", Kind::Timestamp, Cmp::Eq),
    ("TimestampLessThan", Kind::Timestamp, Cmp::Lt),
    ("TimestampGreaterThan", Kind::Timestamp, Cmp::Gt),
    ("TimestampLessThanEquals", Kind::Timestamp, Cmp::Le),
    ("TimestampGreaterThanEquals", Kind::Timestamp, Cmp::Ge),
];

const TESTS: &[(&str, TypeTest)] = &[
    ("IsNull", TypeTest::Null),
    ("IsPresent", TypeTest::Present),
    ("IsNumeric", TypeTest::Numeric),
    ("IsString", TypeTest::String),
    ("IsBoolean", TypeTest::Boolean),
    ("IsTimestamp", TypeTest::Timestamp),
];

/// Compiles one rule object; `loc` is the JSON Pointer of the rule for error messages.
/// Returns (path, message) on error.
pub(crate) fn compile(v: &Value, loc: &str, top: bool) -> Result<Rule, (String, String)> {
    let Value::Object(m) = v else {
        return Err((loc.to_owned(), "A Choice rule must be an object".into()));
    };
    let err = |k: &str, msg: String| Err((format!("{loc}/{k}"), msg));
    if let Some(x) = m.get("And").or_else(|| m.get("Or")) {
        let key = if m.contains_key("And") { "And" } else { "Or" };
        let Value::Array(items) = x else {
            return err(key, format!("The field '{key}' must be an array of rules"));
        };
        if items.is_empty() {
            return err(
                key,
                format!("The field '{key}' must have at least one rule"),
            );
        }
        let mut rules = Vec::with_capacity(items.len());
        for (i, it) in items.iter().enumerate() {
            rules.push(compile(it, &format!("{loc}/{key}[{i}]"), false)?);
        }
        return Ok(if key == "And" {
            Rule::And(rules)
        } else {
            Rule::Or(rules)
        });
    }
    if let Some(x) = m.get("Not") {
        return Ok(Rule::Not(Box::new(compile(
            x,
            &format!("{loc}/Not"),
            false,
        )?)));
    }
    let Some(var_v) = m.get("Variable") else {
        return Err((
            loc.to_owned(),
            "A Choice rule must have a 'Variable' field (or And, Or, Not)".into(),
        ));
    };
    let Value::String(var_s) = var_v else {
        return err("Variable", "The field 'Variable' must be a string".into());
    };
    let var = JsonPath::parse(var_s).map_err(|e| {
        (
            format!("{loc}/Variable"),
            format!(
                "The value for the field 'Variable' must be a valid JSONPath: {}",
                e.0
            ),
        )
    })?;
    let mut found: Option<Rule> = None;
    for (k, x) in m {
        if !top && k == "Next" {
            return err(
                k,
                "Only top-level Choice rules may have a 'Next' field".into(),
            );
        }
        if matches!(k.as_str(), "Variable" | "Next" | "Comment") {
            continue;
        }
        let rule = if k == "StringMatches" {
            let Value::String(p) = x else {
                return err(k, "The value of 'StringMatches' must be a string".into());
            };
            Rule::Matches {
                var: var.clone(),
                pattern: compile_pattern(p),
            }
        } else if let Some((_, t)) = TESTS.iter().find(|(n, _)| n == k) {
            let Value::Bool(b) = x else {
                return err(k, format!("The value of '{k}' must be a boolean"));
            };
            Rule::Test {
                var: var.clone(),
                test: *t,
                expect: *b,
            }
        } else if let Some((_, kind, cmp)) = OPERATORS.iter().find(|(n, _, _)| n == k) {
            let ok = match kind {
                Kind::String => x.is_string(),
                Kind::Numeric => x.is_number(),
                Kind::Boolean => x.is_boolean(),
                Kind::Timestamp => x.as_str().is_some_and(|s| timestamp::parse(s).is_some()),
            };
            if !ok {
                return err(
                    k,
                    format!("The value of '{k}' has the wrong type or format: {x}"),
                );
            }
            Rule::Compare {
                var: var.clone(),
                kind: *kind,
                cmp: *cmp,
                rhs: Rhs::Lit(x.clone()),
            }
        } else if let Some((_, kind, cmp)) = OPERATORS
            .iter()
            .find(|(n, _, _)| k.strip_suffix("Path") == Some(n))
        {
            let Value::String(p) = x else {
                return err(k, format!("The value of '{k}' must be a JSONPath string"));
            };
            let path = JsonPath::parse(p).map_err(|e| {
                (
                    format!("{loc}/{k}"),
                    format!("The value of '{k}' must be a valid JSONPath: {}", e.0),
                )
            })?;
            Rule::Compare {
                var: var.clone(),
                kind: *kind,
                cmp: *cmp,
                rhs: Rhs::Path(path),
            }
        } else {
            return err(
                k,
                format!("The field '{k}' is not a supported Choice operator"),
            );
        };
        if found.is_some() {
            return err(
                k,
                "A Choice rule must have exactly one comparison operator".into(),
            );
        }
        found = Some(rule);
    }
    found.ok_or_else(|| {
        (
            loc.to_owned(),
            "A Choice rule must have a comparison operator".into(),
        )
    })
}

fn compile_pattern(p: &str) -> Vec<PatTok> {
    let mut out = Vec::new();
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n) => out.push(PatTok::Lit(n)),
                None => out.push(PatTok::Lit('\\')),
            },
            '*' => out.push(PatTok::Star),
            c => out.push(PatTok::Lit(c)),
        }
    }
    out
}

/// Glob match with `*` only, iterative with backtracking to the last star: linear-ish, no recursion.
fn glob(pat: &[PatTok], s: &str) -> bool {
    let text: Vec<char> = s.chars().collect();
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pat.get(p) {
            Some(PatTok::Lit(c)) if *c == text[t] => {
                p += 1;
                t += 1;
            }
            Some(PatTok::Star) => {
                star = Some((p, t));
                p += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    while let Some(PatTok::Star) = pat.get(p) {
        p += 1;
    }
    p == pat.len()
}

fn num_cmp(a: &serde_json::Number, b: &serde_json::Number) -> Option<Ordering> {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return Some(x.cmp(&y));
    }
    a.as_f64()?.partial_cmp(&b.as_f64()?)
}

fn holds(ord: Option<Ordering>, cmp: Cmp) -> bool {
    match (ord, cmp) {
        (None, _) => false,
        (Some(o), Cmp::Eq) => o == Ordering::Equal,
        (Some(o), Cmp::Lt) => o == Ordering::Less,
        (Some(o), Cmp::Gt) => o == Ordering::Greater,
        (Some(o), Cmp::Le) => o != Ordering::Greater,
        (Some(o), Cmp::Ge) => o != Ordering::Less,
    }
}

fn compare(kind: Kind, cmp: Cmp, l: &Value, r: &Value) -> bool {
    match kind {
        Kind::String => match (l, r) {
            (Value::String(a), Value::String(b)) => holds(Some(a.as_str().cmp(b.as_str())), cmp),
            _ => false,
        },
        Kind::Numeric => match (l, r) {
            (Value::Number(a), Value::Number(b)) => holds(num_cmp(a, b), cmp),
            _ => false,
        },
        Kind::Boolean => match (l, r) {
            (Value::Bool(a), Value::Bool(b)) => a == b,
            _ => false,
        },
        Kind::Timestamp => {
            let (Some(a), Some(b)) = (
                l.as_str().and_then(timestamp::parse),
                r.as_str().and_then(timestamp::parse),
            ) else {
                return false;
            };
            holds(Some(a.cmp(&b)), cmp)
        }
    }
}

fn missing(p: &JsonPath) -> String {
    format!(
        "Invalid path '{}': The choice state's condition path references an invalid value.",
        p.source
    )
}

impl Rule {
    pub(crate) fn eval(&self, scope: &Scope<'_>) -> Result<bool, String> {
        match self {
            Rule::And(rs) => {
                for r in rs {
                    if !r.eval(scope)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Rule::Or(rs) => {
                for r in rs {
                    if r.eval(scope)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Rule::Not(r) => Ok(!r.eval(scope)?),
            Rule::Test { var, test, expect } => {
                let got = scope.with_lookup(var, |v| match (test, v) {
                    (TypeTest::Present, v) => v.is_some(),
                    (_, None) => false,
                    (TypeTest::Null, Some(v)) => v.is_null(),
                    (TypeTest::Numeric, Some(v)) => v.is_number(),
                    (TypeTest::String, Some(v)) => v.is_string(),
                    (TypeTest::Boolean, Some(v)) => v.is_boolean(),
                    (TypeTest::Timestamp, Some(v)) => {
                        v.as_str().and_then(timestamp::parse).is_some()
                    }
                });
                Ok(got == *expect)
            }
            Rule::Matches { var, pattern } => scope.with_lookup(var, |v| match v {
                None => Err(missing(var)),
                Some(Value::String(s)) => Ok(glob(pattern, s)),
                Some(_) => Ok(false),
            }),
            Rule::Compare {
                var,
                kind,
                cmp,
                rhs,
            } => scope.with_lookup(var, |l| {
                let Some(l) = l else {
                    return Err(missing(var));
                };
                match rhs {
                    Rhs::Lit(r) => Ok(compare(*kind, *cmp, l, r)),
                    Rhs::Path(p) => scope.with_lookup(p, |r| match r {
                        None => Err(missing(p)),
                        Some(r) => Ok(compare(*kind, *cmp, l, r)),
                    }),
                }
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{ContextView, Scope};
    use crate::rng::Rng;
    use serde_json::json;

    fn check(rule: Value, input: Value) -> Result<bool, String> {
        let r = compile(&rule, "/r", true).map_err(|e| e.1)?;
        let ctx = ContextView::detached();
        let mut rng = Rng::new(0);
        let scope = Scope::new(&input, &ctx, &mut rng);
        r.eval(&scope)
    }

    #[test]
    fn string_operators_compare_only_strings() {
        assert_eq!(
            check(
                json!({"Variable": "$.v", "StringEquals": "a"}),
                json!({"v": "a"})
            ),
            Ok(true)
        );
        assert_eq!(
            check(
                json!({"Variable": "$.v", "StringEquals": "1"}),
                json!({"v": 1})
            ),
            Ok(false)
        );
        assert_eq!(
            check(
                json!({"Variable": "$.v", "StringLessThan": "b"}),
                json!({"v": "a"})
            ),
            Ok(true)
        );
        assert_eq!(
            check(
                json!({"Variable": "$.v", "StringGreaterThanEquals": "a"}),
                json!({"v": "a"})
            ),
            Ok(true)
        );
        assert_eq!(
            check(
                json!({"Variable": "$.v", "StringLessThanEqualsPath": "$.w"}),
                json!({"v": "a", "w": "a"})
            ),
            Ok(true)
        );
    }

    #[test]
    fn string_matches_supports_stars_and_escapes() {
        let m = |p: &str, s: &str| {
            check(
                json!({"Variable": "$.v", "StringMatches": p}),
                json!({"v": s}),
            )
        };
        assert_eq!(m("log-*.txt", "log-2024.txt"), Ok(true));
        assert_eq!(m("*.log", "a.txt"), Ok(false));
        assert_eq!(m("a\\*b", "a*b"), Ok(true));
        assert_eq!(m("a\\*b", "axb"), Ok(false));
        assert_eq!(m("*", ""), Ok(true));
        assert_eq!(m("a*b*c", "aXbYbZc"), Ok(true));
    }

    #[test]
    fn numeric_operators_compare_by_value() {
        assert_eq!(
            check(
                json!({"Variable": "$.v", "NumericEquals": 0}),
                json!({"v": 0.0})
            ),
            Ok(true)
        );
        assert_eq!(
            check(
                json!({"Variable": "$.v", "NumericEquals": 0}),
                json!({"v": "0"})
            ),
            Ok(false)
        );
        assert_eq!(
            check(
                json!({"Variable": "$.v", "NumericLessThan": 2}),
                json!({"v": 1.5})
            ),
            Ok(true)
        );
        assert_eq!(
            check(
                json!({"Variable": "$.v", "NumericGreaterThanPath": "$.w"}),
                json!({"v": 3, "w": 2})
            ),
            Ok(true)
        );
        assert_eq!(
            check(
                json!({"Variable": "$.v", "NumericLessThanEquals": 1}),
                json!({"v": 1})
            ),
            Ok(true)
        );
        assert_eq!(
            check(
                json!({"Variable": "$.v", "NumericGreaterThanEquals": 1}),
                json!({"v": 0})
            ),
            Ok(false)
        );
    }

    #[test]
    fn boolean_and_timestamp_operators() {
        assert_eq!(
            check(
                json!({"Variable": "$.v", "BooleanEquals": true}),
                json!({"v": true})
            ),
            Ok(true)
        );
        assert_eq!(
            check(
                json!({"Variable": "$.v", "BooleanEqualsPath": "$.w"}),
                json!({"v": 1, "w": true})
            ),
            Ok(false)
        );
        assert_eq!(
            check(
                json!({"Variable": "$.v", "TimestampLessThan": "2020-01-01T00:00:00Z"}),
                json!({"v": "2019-12-31T23:00:00-00:30"})
            ),
            Ok(true)
        );
        assert_eq!(
            check(
                json!({"Variable": "$.v", "TimestampEquals": "2020-01-01T00:00:00Z"}),
                json!({"v": "2020-01-01 00:00:00"})
            ),
            Ok(false)
        );
    }

    #[test]
    fn type_tests_and_presence() {
        assert_eq!(
            check(
                json!({"Variable": "$.v", "IsPresent": true}),
                json!({"v": null})
            ),
            Ok(true)
        );
        assert_eq!(
            check(
                json!({"Variable": "$.x", "IsPresent": false}),
                json!({"v": null})
            ),
            Ok(true)
        );
        assert_eq!(
            check(
                json!({"Variable": "$.v", "IsNull": true}),
                json!({"v": null})
            ),
            Ok(true)
        );
        assert_eq!(
            check(
                json!({"Variable": "$.v", "IsNumeric": true}),
                json!({"v": 1.5})
            ),
            Ok(true)
        );
        assert_eq!(
            check(
                json!({"Variable": "$.v", "IsString": false}),
                json!({"v": 1})
            ),
            Ok(true)
        );
        assert_eq!(
            check(
                json!({"Variable": "$.v", "IsBoolean": true}),
                json!({"v": false})
            ),
            Ok(true)
        );
        assert_eq!(
            check(
                json!({"Variable": "$.v", "IsTimestamp": true}),
                json!({"v": "2020-01-01T00:00:00Z"})
            ),
            Ok(true)
        );
    }

    #[test]
    fn boolean_combinators_short_circuit() {
        let rule = json!({"And": [{"Variable": "$.a", "IsPresent": true}, {"Not": {"Variable": "$.a", "NumericEquals": 1}}]});
        assert_eq!(check(rule.clone(), json!({"a": 2})), Ok(true));
        assert_eq!(check(rule, json!({})), Ok(false));
        let or = json!({"Or": [{"Variable": "$.a", "BooleanEquals": true}, {"Variable": "$.b", "BooleanEquals": true}]});
        assert_eq!(check(or, json!({"a": false, "b": true})), Ok(true));
    }

    #[test]
    fn a_missing_variable_is_a_runtime_error() {
        assert!(
            check(
                json!({"Variable": "$.nope", "StringEquals": "a"}),
                json!({})
            )
            .is_err()
        );
        assert!(
            check(
                json!({"Variable": "$.a", "NumericEqualsPath": "$.nope"}),
                json!({"a": 1})
            )
            .is_err()
        );
    }

    #[test]
    fn malformed_rules_are_rejected() {
        assert!(check(json!({"Variable": "$.v", "NumericEquals": "1"}), json!({})).is_err());
        assert!(check(json!({"Variable": "$.v", "Bogus": 1}), json!({})).is_err());
        assert!(
            check(
                json!({"Variable": "$.v", "IsNull": true, "IsString": true}),
                json!({})
            )
            .is_err()
        );
        assert!(check(json!({"And": []}), json!({})).is_err());
        assert!(
            check(
                json!({"Not": {"Variable": "$.v", "IsNull": true, "Next": "X"}}),
                json!({})
            )
            .is_err()
        );
    }
}
