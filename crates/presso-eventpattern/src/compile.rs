//! From pattern JSON to compiled alternatives, validating as EventBridge does.
//!
//! Compilation runs in two steps. The first walks the JSON in document order and multiplies `$or`
//! blocks out into flat alternatives, each a list of (path, value array) pairs; this is the model
//! EventBridge uses, and it settles the corner cases the same way (a path written twice in one
//! alternative keeps the later value array). The second step turns every alternative into a [`Node`]
//! tree so matching walks the event once per alternative, keeping array elements consistent.
//!
//! Messages are EventBridge's own wording, including its quirks (a non-string `cidr` operand is
//! reported as a "prefix match pattern"), because users search for those exact strings.

use serde_json::{Map, Value};

use crate::error::PatternError;
use crate::ip::{parse_cidr, parse_ip};
use crate::number::{self, Bound, Range};
use crate::tree::{Field, Leaf, Node};
use crate::value::{AnythingBut, Condition, fold};
use crate::wildcard::Wildcard;

/// Names that cannot be field names inside `$or`, because they are (or may become) operators.
const RESERVED_IN_OR: &[&str] = &[
    "exactly",
    "equals-ignore-case",
    "prefix",
    "suffix",
    "anything-but",
    "exists",
    "wildcard",
    "numeric",
    "cidr",
    "=",
    "<",
    "<=",
    ">",
    ">=",
    "regex",
    "not-wildcard",
    "not-equals-ignore-case",
    "date-after",
    "date-on-or-after",
    "date-before",
    "date-on-or-before",
    "in-date-range",
    "ip-address-in-range",
    "ip-address-not-in-range",
];

/// Patterns nest objects only so deep; JSON text cannot go deeper than the parser's own limit, and this
/// bound protects compilation from values built in code.
const MAX_DEPTH: usize = 100;

type Path = Vec<Box<str>>;

/// One alternative before it becomes a tree: value arrays by path, in first-written order.
#[derive(Debug, Clone, Default)]
struct Alternative {
    leaves: Vec<(Path, Leaf)>,
}

impl Alternative {
    fn put(&mut self, path: &[Box<str>], leaf: Leaf) {
        match self.leaves.iter_mut().find(|(p, _)| p[..] == *path) {
            Some((_, existing)) => *existing = leaf,
            None => self.leaves.push((path.to_vec(), leaf)),
        }
    }
}

struct Compiler {
    max_alternatives: usize,
}

fn invalid<T>(reason: impl Into<String>) -> Result<T, PatternError> {
    Err(PatternError::invalid(reason))
}

/// Compiles a pattern into its alternatives; the pattern matches when any alternative does.
pub(crate) fn compile(pattern: &Value, max_alternatives: usize) -> Result<Vec<Node>, PatternError> {
    let Value::Object(object) = pattern else {
        return invalid("Filter is not an object");
    };
    let compiler = Compiler { max_alternatives };
    let mut alternatives = Vec::new();
    let mut path = Vec::new();
    compiler.object(&mut alternatives, &mut path, object, false, 0)?;
    Ok(alternatives.into_iter().map(build_tree).collect())
}

impl Compiler {
    fn object(
        &self,
        alternatives: &mut Vec<Alternative>,
        path: &mut Path,
        object: &Map<String, Value>,
        inside_or: bool,
        depth: usize,
    ) -> Result<(), PatternError> {
        if depth > MAX_DEPTH {
            return invalid("Pattern is nested too deeply");
        }
        if object.is_empty() {
            return invalid("Empty objects are not allowed");
        }
        for (key, value) in object {
            if key == "$or" {
                self.or(alternatives, path, value, depth + 1)?;
                continue;
            }
            if inside_or && RESERVED_IN_OR.contains(&key.as_str()) {
                return invalid(format!(
                    "{key} is Ruler reserved fieldName which cannot be used inside $or."
                ));
            }
            path.push(key.as_str().into());
            let result = match value {
                Value::Object(inner) => {
                    self.object(alternatives, path, inner, inside_or, depth + 1)
                }
                Value::Array(values) => leaf(values).map(|leaf| {
                    if alternatives.is_empty() {
                        alternatives.push(Alternative::default());
                    }
                    for alternative in alternatives.iter_mut() {
                        alternative.put(path, leaf.clone());
                    }
                }),
                _ => invalid(format!("\"{key}\" must be an object or an array")),
            };
            path.pop();
            result?;
        }
        Ok(())
    }

    fn or(
        &self,
        alternatives: &mut Vec<Alternative>,
        path: &mut Path,
        value: &Value,
        depth: usize,
    ) -> Result<(), PatternError> {
        let Value::Array(branches) = value else {
            return invalid("It must be an Array followed with $or.");
        };
        let before = std::mem::take(alternatives);
        for branch in branches {
            let Value::Object(branch) = branch else {
                return invalid("Only JSON object is allowed in array of $or relationship.");
            };
            let mut forked = before.clone();
            if forked.is_empty() {
                forked.push(Alternative::default());
            }
            self.object(&mut forked, path, branch, true, depth + 1)?;
            alternatives.extend(forked);
            if alternatives.len() > self.max_alternatives {
                return Err(PatternError::TooComplex {
                    combinations: alternatives.len(),
                    max: self.max_alternatives,
                });
            }
        }
        if branches.len() < 2 {
            return invalid("There must have at least 2 Objects in $or relationship.");
        }
        Ok(())
    }
}

/// Compiles one value array.
fn leaf(values: &[Value]) -> Result<Leaf, PatternError> {
    if values.is_empty() {
        return invalid("Empty arrays are not allowed");
    }
    let mut leaf = Leaf {
        conditions: Box::new([]),
        when_present: false,
        when_absent: false,
    };
    let mut conditions = Vec::with_capacity(values.len());
    for value in values {
        match value {
            Value::String(text) => conditions.push(exact_string(text)),
            Value::Number(number) => conditions.push(Condition::Number {
                number: number.clone(),
                micros: number::micros_of(number),
            }),
            Value::Bool(b) => conditions.push(Condition::Bool(*b)),
            Value::Null => conditions.push(Condition::Null),
            Value::Object(expression) => match expression_condition(expression)? {
                Expression::Condition(c) => conditions.push(c),
                Expression::Exists(true) => leaf.when_present = true,
                Expression::Exists(false) => leaf.when_absent = true,
            },
            Value::Array(_) => {
                return invalid("Match value must be String, number, true, false, or null");
            }
        }
    }
    leaf.conditions = conditions.into_boxed_slice();
    Ok(leaf)
}

fn exact_string(text: &str) -> Condition {
    Condition::String {
        text: text.into(),
        ip: parse_ip(text),
    }
}

enum Expression {
    Condition(Condition),
    Exists(bool),
}

/// Compiles one `{operator: operand}` entry of a value array.
fn expression_condition(expression: &Map<String, Value>) -> Result<Expression, PatternError> {
    let Some((operator, operand)) = expression.iter().next() else {
        return invalid("Match expression name not found");
    };
    let single = expression.len() == 1;
    let only_one_key = || invalid("Only one key allowed in match expression");
    let too_many = || invalid("Too many elements in numeric expression");
    let condition = match operator.as_str() {
        "exactly" => {
            let Value::String(text) = operand else {
                return invalid("exact match pattern must be a string");
            };
            exact_string(text)
        }
        "prefix" | "suffix" => {
            let is_prefix = operator == "prefix";
            match operand {
                Value::String(text) if is_prefix => Condition::Prefix(text.as_str().into()),
                Value::String(text) => Condition::Suffix(text.as_str().into()),
                Value::Object(inner) => {
                    let folded = ignore_case_operand(
                        inner,
                        if is_prefix { "Prefix" } else { "Suffix" },
                        operator,
                    )?;
                    if is_prefix {
                        Condition::PrefixIgnoreCase(folded)
                    } else {
                        Condition::SuffixIgnoreCase(folded)
                    }
                }
                _ => return invalid(format!("{operator} match pattern must be a string")),
            }
        }
        "equals-ignore-case" => {
            let Value::String(text) = operand else {
                return invalid("equals-ignore-case match pattern must be a string");
            };
            Condition::EqualsIgnoreCase(fold(text))
        }
        "wildcard" => {
            let Value::String(text) = operand else {
                return invalid("wildcard match pattern must be a string");
            };
            Condition::Wildcard(Wildcard::parse(text).map_err(PatternError::invalid)?)
        }
        "numeric" => {
            let Value::Array(terms) = operand else {
                return invalid("Value of numeric must be an array.");
            };
            let range = numeric(terms)?;
            if !single {
                return too_many();
            }
            Condition::Numeric(range)
        }
        "cidr" => {
            let Value::String(text) = operand else {
                // EventBridge's message for this case really does say "prefix".
                return invalid("prefix match pattern must be a string");
            };
            Condition::Cidr(parse_cidr(text).map_err(PatternError::invalid)?)
        }
        "exists" => {
            let Value::Bool(exists) = operand else {
                return invalid("exists match pattern must be either true or false.");
            };
            if !single {
                return only_one_key();
            }
            return Ok(Expression::Exists(*exists));
        }
        "anything-but" => {
            let excluded = anything_but(operand)?;
            if !single {
                return too_many();
            }
            Condition::AnythingBut(excluded)
        }
        other => return invalid(format!("Unrecognized match type {other}")),
    };
    if !single {
        return only_one_key();
    }
    Ok(Expression::Condition(condition))
}

/// The `{"equals-ignore-case": "text"}` operand of `prefix` or `suffix`, folded.
fn ignore_case_operand(
    inner: &Map<String, Value>,
    what: &str,
    operator: &str,
) -> Result<Box<str>, PatternError> {
    let Some((name, value)) = inner.iter().next() else {
        return invalid(format!("{what} expression name not found"));
    };
    if name != "equals-ignore-case" {
        return invalid(format!("Unsupported {operator} pattern: {name}"));
    }
    let Value::String(text) = value else {
        return invalid("equals-ignore-case match pattern must be a string");
    };
    if inner.len() > 1 {
        return invalid("Only one key allowed in match expression");
    }
    Ok(fold(text))
}

fn anything_but(operand: &Value) -> Result<AnythingBut, PatternError> {
    let Value::Object(inner) = operand else {
        return plain_anything_but(operand);
    };
    let Some((name, value)) = inner.iter().next() else {
        return invalid("Anything-But expression name not found");
    };
    if !matches!(
        name.as_str(),
        "equals-ignore-case" | "prefix" | "suffix" | "wildcard"
    ) {
        return invalid(format!("Unsupported anything-but pattern: {name}"));
    }
    let texts: Vec<&str> = match value {
        Value::Array(items) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .ok_or_else(|| not_a_string_in_anything_but(name))
            })
            .collect::<Result<_, _>>()?,
        Value::String(text) => vec![text.as_str()],
        Value::Number(_) => return Err(not_a_string_in_anything_but(name)),
        _ => {
            return invalid(
                "Value of anything-but must be an array or single string/number value.",
            );
        }
    };
    if matches!(name.as_str(), "prefix" | "suffix") && texts.iter().any(|t| t.is_empty()) {
        return invalid("Null prefix/suffix not allowed");
    }
    let excluded = match name.as_str() {
        "equals-ignore-case" => AnythingBut::IgnoreCase(texts.iter().map(|t| fold(t)).collect()),
        "prefix" => AnythingBut::Prefixes(texts.iter().map(|t| (*t).into()).collect()),
        "suffix" => AnythingBut::Suffixes(texts.iter().map(|t| (*t).into()).collect()),
        _ => AnythingBut::Wildcards(
            texts
                .iter()
                .map(|t| Wildcard::parse(t).map_err(PatternError::invalid))
                .collect::<Result<_, _>>()?,
        ),
    };
    if inner.len() > 1 {
        return invalid("Too many elements in numeric expression");
    }
    Ok(excluded)
}

fn not_a_string_in_anything_but(name: &str) -> PatternError {
    PatternError::invalid(match name {
        "equals-ignore-case" => {
            "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."
        }
        "wildcard" => "wildcard match pattern must be a string",
        _ => "prefix/suffix match pattern must be a string",
    })
}

/// `anything-but` with a string, a number, or a list of only strings or only numbers.
fn plain_anything_but(operand: &Value) -> Result<AnythingBut, PatternError> {
    let items: &[Value] = match operand {
        Value::Array(items) => items,
        Value::String(_) | Value::Number(_) => std::slice::from_ref(operand),
        _ => {
            return invalid(
                "Value of anything-but must be an array or single string/number value.",
            );
        }
    };
    let mut strings = Vec::new();
    let mut numbers = Vec::new();
    for item in items {
        match item {
            Value::String(s) => strings.push(s.as_str().into()),
            Value::Number(n) => numbers.push(
                number::micros_of(n).ok_or_else(|| PatternError::invalid(number::OUT_OF_RANGE))?,
            ),
            _ => return invalid("Inside anything but list, start|null|boolean is not supported."),
        }
    }
    match (strings.is_empty(), numbers.is_empty()) {
        (false, true) => Ok(AnythingBut::Strings(strings.into_boxed_slice())),
        (true, false) => Ok(AnythingBut::Numbers(numbers.into_boxed_slice())),
        _ => invalid(
            "Inside anything but list, either all values are number or string, mixed type is not supported",
        ),
    }
}

/// The operand of `numeric`: `["op", n]` or `[">" | ">=", n, "<" | "<=", m]`.
fn numeric(terms: &[Value]) -> Result<Range, PatternError> {
    let mut terms = terms.iter();
    let operator = match terms.next() {
        Some(Value::String(op)) => op.as_str(),
        Some(other) => return invalid(format!("Invalid member in numeric match: {other}")),
        None => return invalid("Invalid member in numeric match: ]"),
    };
    let value_of = |term: Option<&Value>, name: &str| -> Result<i64, PatternError> {
        match term {
            Some(Value::Number(n)) => {
                number::micros_of(n).ok_or_else(|| PatternError::invalid(number::OUT_OF_RANGE))
            }
            _ => invalid(format!("Value of {name} must be numeric")),
        }
    };
    let bound = |micros, inclusive| Some(Bound { micros, inclusive });
    let range = match operator {
        "=" => {
            let v = value_of(terms.next(), "equals")?;
            Range {
                lower: bound(v, true),
                upper: bound(v, true),
            }
        }
        "<" | "<=" => {
            let v = value_of(terms.next(), operator)?;
            Range {
                lower: None,
                upper: bound(v, operator == "<="),
            }
        }
        ">" | ">=" => {
            let low = value_of(terms.next(), operator)?;
            let lower = bound(low, operator == ">=");
            match terms.next() {
                None => return Ok(Range { lower, upper: None }),
                Some(Value::String(top_op)) if top_op == "<" || top_op == "<=" => {
                    let high = value_of(terms.next(), top_op)?;
                    if terms.next().is_some() {
                        return invalid("Too many terms in numeric range expression");
                    }
                    if low >= high {
                        return invalid("Bottom must be less than top");
                    }
                    return Ok(Range {
                        lower,
                        upper: bound(high, top_op == "<="),
                    });
                }
                Some(Value::String(top_op)) => {
                    return invalid(format!("Bad numeric range operator: {top_op}"));
                }
                Some(other) => return invalid(format!("Bad value in numeric range: {other}")),
            }
        }
        other => return invalid(format!("Unrecognized numeric range operator: {other}")),
    };
    if terms.next().is_some() {
        return invalid("Too many elements in numeric expression");
    }
    Ok(range)
}

/// Turns one flat alternative into a tree, grouping paths by their first key.
fn build_tree(alternative: Alternative) -> Node {
    let entries: Vec<(&[Box<str>], &Leaf)> = alternative
        .leaves
        .iter()
        .map(|(path, leaf)| (&path[..], leaf))
        .collect();
    node_from(&entries)
}

fn node_from(entries: &[(&[Box<str>], &Leaf)]) -> Node {
    let mut keys: Vec<&Box<str>> = Vec::new();
    for (path, _) in entries {
        if let Some(first) = path.first()
            && !keys.contains(&first)
        {
            keys.push(first);
        }
    }
    let mut fields: Vec<Field> = keys
        .into_iter()
        .map(|key| {
            let mut leaf = None;
            let mut deeper = Vec::new();
            for (path, l) in entries {
                match path {
                    [first] if first == key => leaf = Some((*l).clone()),
                    [first, rest @ ..] if first == key => deeper.push((rest, *l)),
                    _ => {}
                }
            }
            let object = (!deeper.is_empty()).then(|| node_from(&deeper));
            Field {
                key: key.clone(),
                leaf,
                object,
            }
        })
        .collect();
    // Leaf checks are the cheapest and most often decisive (`source`, `detail-type`), so they go first.
    fields.sort_by_key(|f| f.object.is_some());
    let pins = fields.iter().any(|f| {
        f.leaf.as_ref().is_some_and(Leaf::pins) || f.object.as_ref().is_some_and(|n| n.pins)
    });
    Node {
        fields: fields.into_boxed_slice(),
        pins,
    }
}
