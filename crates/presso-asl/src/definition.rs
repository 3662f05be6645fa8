//! Loading a definition: parse, validate, compile.
//!
//! `Definition::parse` turns ASL text into an immutable, validated program (states by
//! index, JSONPaths, intrinsic calls and Choice rules precompiled) that executions
//! share through an `Arc`. Every problem found is reported at once, each with the
//! JSON Pointer of the offending field, in the shape of AWS's
//! `ValidateStateMachineDefinition` diagnostics.

use crate::choice::{self, Rule};
use crate::expr::{Template, ValueExpr};
use crate::jsonata::{JExpr, JTemplate};
use crate::jsonpath::JsonPath;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// One finding of validation, shaped like AWS's `ValidateStateMachineDefinitionDiagnostic`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// `ERROR` or `WARNING`.
    pub severity: Severity,
    /// AWS's code, e.g. `SCHEMA_VALIDATION_FAILED`, `MISSING_TRANSITION_TARGET`.
    pub code: String,
    pub message: String,
    /// JSON Pointer of the problem, e.g. `/States/Check/Next`.
    pub location: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    Error,
    Warning,
}

/// Why a definition was refused: every error diagnostic found (warnings too).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid state machine definition: {}", summary(.diagnostics))]
pub struct ValidationError {
    pub diagnostics: Vec<Diagnostic>,
}

fn summary(d: &[Diagnostic]) -> String {
    d.iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| format!("{}: {} at {}", d.code, d.message, d.location))
        .collect::<Vec<_>>()
        .join("; ")
}

impl ValidationError {
    /// `{"result": "FAIL", "diagnostics": [...], "truncated": false}`, as the API answers.
    pub fn to_validate_response(&self) -> Value {
        serde_json::json!({"result": "FAIL", "diagnostics": self.diagnostics, "truncated": false})
    }
}

/// A validated, compiled state machine. Cheap to share: wrap it in an `Arc`.
#[derive(Debug)]
pub struct Definition {
    pub(crate) machines: Vec<Machine>,
    pub(crate) timeout_seconds: Option<u64>,
    pub(crate) jsonata_timeout_ms: u64,
    warnings: Vec<Diagnostic>,
}

#[derive(Debug)]
pub(crate) struct Machine {
    pub(crate) start: u32,
    pub(crate) states: Vec<State>,
}

#[derive(Debug)]
pub(crate) struct State {
    pub(crate) name: crate::name::StateName,
    pub(crate) kind: Kind,
    pub(crate) input_path: PathSpec,
    pub(crate) output_path: PathSpec,
    pub(crate) parameters: Option<Template>,
    pub(crate) result_selector: Option<Template>,
    pub(crate) result_path: ResultPath,
    pub(crate) next: Next,
    pub(crate) retry: Vec<Retrier>,
    pub(crate) catch: Vec<Catcher>,
    /// A Pass state with no paths, parameters or result: output = input.
    pub(crate) passthrough: bool,
    /// The state uses JSONata (its own `QueryLanguage` or the definition's).
    pub(crate) jsonata: bool,
    /// JSONata `Arguments` (Task, Parallel).
    pub(crate) arguments: Option<JTemplate>,
    /// JSONata `Output`.
    pub(crate) output: Option<JTemplate>,
    pub(crate) assign: Option<AssignSpec>,
}

/// An `Assign` block: evaluates to an object whose fields become variables.
#[derive(Debug)]
pub(crate) enum AssignSpec {
    /// JSONPath: a payload template (`"name.$": "$.path"`), `$` being the state's result.
    Path(Template),
    Jsonata(JTemplate),
}

/// How a Choice rule decides.
#[derive(Debug)]
pub(crate) enum Test {
    Rule(Rule),
    /// JSONata `Condition`: a boolean or an expression that must give one.
    Condition(JTemplate),
}

#[derive(Debug)]
pub(crate) struct ChoiceArm {
    pub(crate) test: Test,
    pub(crate) next: u32,
    pub(crate) output: Option<JTemplate>,
    pub(crate) assign: Option<AssignSpec>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PathSpec {
    Identity,
    Null,
    Path(JsonPath),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ResultPath {
    Replace,
    Discard,
    At(JsonPath),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Next {
    End,
    Goto(u32),
}

#[derive(Debug)]
pub(crate) enum Seconds {
    Fixed(u64),
    Path(JsonPath),
    Expr(Box<JExpr>),
}

#[derive(Debug)]
pub(crate) enum Text {
    Lit(String),
    Expr(ValueExpr),
    Jsonata(Box<JExpr>),
}

#[derive(Debug)]
pub(crate) enum Count {
    Fixed(f64),
    Path(JsonPath),
    Expr(Box<JExpr>),
}

#[derive(Debug)]
pub(crate) enum WaitSpec {
    Seconds(Seconds),
    Timestamp(String),
    TimestampPath(JsonPath),
    TimestampExpr(Box<JExpr>),
}

#[derive(Debug)]
pub(crate) struct TaskSpec {
    pub(crate) resource: String,
    pub(crate) resource_type: String,
    pub(crate) resource_name: String,
    pub(crate) region: String,
    pub(crate) wait_for_token: bool,
    pub(crate) lambda_function: bool,
    pub(crate) timeout: Option<Seconds>,
    pub(crate) heartbeat: Option<Seconds>,
}

#[derive(Debug)]
pub(crate) struct MapSpec {
    pub(crate) machine: u32,
    pub(crate) items_path: Option<JsonPath>,
    pub(crate) item_selector: Option<Template>,
    /// JSONata `Items` (default: the state input, which must be an array).
    pub(crate) items: Option<JTemplate>,
    /// JSONata `ItemSelector`.
    pub(crate) jitem_selector: Option<JTemplate>,
    pub(crate) max_concurrency: Count,
    pub(crate) tolerated_count: Option<Count>,
    pub(crate) tolerated_percentage: Option<Count>,
    pub(crate) distributed: bool,
}

#[derive(Debug)]
pub(crate) enum Kind {
    Pass {
        result: Option<Arc<Value>>,
        /// Over AWS's payload limit: the state fails with `States.DataLimitExceeded`.
        result_too_large: bool,
    },
    Task(Box<TaskSpec>),
    Choice {
        choices: Vec<ChoiceArm>,
        default: Option<u32>,
    },
    Wait(WaitSpec),
    Succeed,
    Fail {
        error: Option<Text>,
        cause: Option<Text>,
    },
    Parallel {
        branches: Vec<u32>,
    },
    Map(Box<MapSpec>),
}

#[derive(Debug)]
pub(crate) struct Retrier {
    pub(crate) errors: Vec<String>,
    pub(crate) interval_seconds: f64,
    pub(crate) max_attempts: u32,
    pub(crate) backoff_rate: f64,
    pub(crate) max_delay_seconds: Option<f64>,
    pub(crate) full_jitter: bool,
}

#[derive(Debug)]
pub(crate) struct Catcher {
    pub(crate) errors: Vec<String>,
    pub(crate) result_path: ResultPath,
    pub(crate) next: u32,
    /// JSONata `Output` (default: the error output).
    pub(crate) output: Option<JTemplate>,
    pub(crate) assign: Option<AssignSpec>,
}

const COMMON: &[&str] = &["Type", "Comment", "QueryLanguage"];

fn allowed_fields(ty: &str) -> &'static [&'static str] {
    match ty {
        "Pass" => &[
            "Assign",
            "Output",
            "InputPath",
            "OutputPath",
            "Parameters",
            "ResultPath",
            "Result",
            "Next",
            "End",
        ],
        "Task" => &[
            "Assign",
            "Output",
            "Arguments",
            "InputPath",
            "OutputPath",
            "Parameters",
            "ResultSelector",
            "ResultPath",
            "Resource",
            "Next",
            "End",
            "Retry",
            "Catch",
            "TimeoutSeconds",
            "TimeoutSecondsPath",
            "HeartbeatSeconds",
            "HeartbeatSecondsPath",
            "Credentials",
        ],
        "Choice" => &[
            "Assign",
            "Output",
            "InputPath",
            "OutputPath",
            "Choices",
            "Default",
        ],
        "Wait" => &[
            "Assign",
            "Output",
            "InputPath",
            "OutputPath",
            "Seconds",
            "SecondsPath",
            "Timestamp",
            "TimestampPath",
            "Next",
            "End",
        ],
        "Succeed" => &["Output", "InputPath", "OutputPath"],
        "Fail" => &["Error", "ErrorPath", "Cause", "CausePath"],
        "Parallel" => &[
            "Assign",
            "Output",
            "Arguments",
            "InputPath",
            "OutputPath",
            "Parameters",
            "ResultSelector",
            "ResultPath",
            "Branches",
            "Next",
            "End",
            "Retry",
            "Catch",
        ],
        "Map" => &[
            "Assign",
            "Output",
            "Items",
            "InputPath",
            "OutputPath",
            "Parameters",
            "ItemSelector",
            "ResultSelector",
            "ResultPath",
            "ItemsPath",
            "ItemProcessor",
            "Iterator",
            "MaxConcurrency",
            "MaxConcurrencyPath",
            "ToleratedFailureCount",
            "ToleratedFailureCountPath",
            "ToleratedFailurePercentage",
            "ToleratedFailurePercentagePath",
            "ItemReader",
            "ItemBatcher",
            "ResultWriter",
            "Label",
            "Next",
            "End",
            "Retry",
            "Catch",
        ],
        _ => &[],
    }
}

/// The errors `States.ALL` must not be combined with, and the predefined names.
pub(crate) const STATES_ALL: &str = "States.ALL";

/// Fields only a JSONata state may have.
const JSONATA_ONLY: &[&str] = &["Arguments", "Output", "Items"];

/// Fields a JSONata state must not have (JSONPath's data-flow and `*Path` fields).
const JSONPATH_ONLY: &[&str] = &[
    "InputPath",
    "Parameters",
    "ResultSelector",
    "ResultPath",
    "OutputPath",
    "ItemsPath",
    "SecondsPath",
    "TimestampPath",
    "ErrorPath",
    "CausePath",
    "TimeoutSecondsPath",
    "HeartbeatSecondsPath",
    "MaxConcurrencyPath",
    "ToleratedFailureCountPath",
    "ToleratedFailurePercentagePath",
];

/// The default time limit of one JSONata expression ([`Definition::set_jsonata_timeout_ms`]).
pub const JSONATA_TIMEOUT_MS: u64 = 1_000;

/// AWS's limit on a variable name's length.
const MAX_VARIABLE_NAME: usize = 80;

struct Compiler {
    machines: Vec<Machine>,
    diags: Vec<Diagnostic>,
    /// The definition's own `QueryLanguage` is JSONata: every state inherits it.
    top_jsonata: bool,
    /// The state being compiled uses JSONata.
    state_jsonata: bool,
}

impl Compiler {
    fn error(&mut self, code: &str, loc: &str, msg: impl Into<String>) {
        self.diags.push(Diagnostic {
            severity: Severity::Error,
            code: code.to_owned(),
            message: msg.into(),
            location: loc.to_owned(),
        });
    }

    fn warn(&mut self, code: &str, loc: &str, msg: impl Into<String>) {
        self.diags.push(Diagnostic {
            severity: Severity::Warning,
            code: code.to_owned(),
            message: msg.into(),
            location: loc.to_owned(),
        });
    }

    fn schema(&mut self, loc: &str, msg: impl Into<String>) {
        self.error("SCHEMA_VALIDATION_FAILED", loc, msg);
    }

    /// Compiles one `{StartAt, States}` object into a machine and returns its index.
    fn machine(&mut self, v: &Value, loc: &str) -> u32 {
        // A branch's states must not change the query language of the state holding it.
        let outer = self.state_jsonata;
        let id = self.machine_inner(v, loc);
        self.state_jsonata = outer;
        id
    }

    fn machine_inner(&mut self, v: &Value, loc: &str) -> u32 {
        let id = self.machines.len() as u32;
        self.machines.push(Machine {
            start: 0,
            states: Vec::new(),
        });
        let Value::Object(m) = v else {
            self.schema(loc, "Expected an object with 'StartAt' and 'States'");
            return id;
        };
        if let Some(ql) = m.get("QueryLanguage") {
            let _ = self.query_language(ql, &format!("{loc}/QueryLanguage"));
        }
        let states_v = m.get("States");
        let Some(Value::Object(states)) = states_v else {
            self.schema(
                &format!("{loc}/States"),
                "The field 'States' is required and must be an object",
            );
            return id;
        };
        if states.is_empty() {
            self.schema(
                &format!("{loc}/States"),
                "The field 'States' must contain at least one state",
            );
            return id;
        }
        let names: HashMap<&str, u32> = states
            .keys()
            .enumerate()
            .map(|(i, k)| (k.as_str(), i as u32))
            .collect();
        let start = match m.get("StartAt") {
            Some(Value::String(s)) => match names.get(s.as_str()) {
                Some(i) => *i,
                None => {
                    self.error(
                        "MISSING_TRANSITION_TARGET",
                        &format!("{loc}/StartAt"),
                        format!("Missing 'Next' target: {s}"),
                    );
                    0
                }
            },
            _ => {
                self.schema(
                    &format!("{loc}/StartAt"),
                    "The field 'StartAt' is required and must be a string",
                );
                0
            }
        };
        for k in m.keys() {
            if !matches!(
                k.as_str(),
                "StartAt"
                    | "States"
                    | "Comment"
                    | "Version"
                    | "TimeoutSeconds"
                    | "QueryLanguage"
                    | "ProcessorConfig"
            ) {
                self.schema(
                    &format!("{loc}/{k}"),
                    format!("Field '{k}' is not supported"),
                );
            }
        }
        let mut compiled = Vec::with_capacity(states.len());
        for (name, sv) in states {
            let sloc = format!("{loc}/States/{name}");
            if name.is_empty() || name.chars().count() > 80 {
                self.error(
                    "INVALID_STATE_NAME",
                    &sloc,
                    "State names must be 1 to 80 characters long",
                );
            }
            compiled.push(self.state(name, sv, &sloc, &names));
        }
        // Reachability and termination: AWS refuses unreachable states and loops with no way out.
        let mut seen = vec![false; compiled.len()];
        let mut stack = vec![start as usize];
        while let Some(i) = stack.pop() {
            if i >= seen.len() || seen[i] {
                continue;
            }
            seen[i] = true;
            if let Some(s) = compiled.get(i) {
                for t in successors(s) {
                    stack.push(t as usize);
                }
            }
        }
        for (i, s) in compiled.iter().enumerate() {
            if !seen[i] {
                self.schema(
                    &format!("{loc}/States/{}", s.name),
                    format!("State '{}' is not reachable", s.name),
                );
            }
        }
        if !compiled.iter().any(is_terminal) {
            self.error(
                "MISSING_END_STATE",
                &format!("{loc}/States"),
                "No terminal state: the workflow has no state with 'End' or of type Succeed/Fail",
            );
        }
        if let Some(mm) = self.machines.get_mut(id as usize) {
            mm.start = start;
            mm.states = compiled;
        }
        id
    }

    /// Checks a `QueryLanguage` field; `Some(true)` for JSONata.
    fn query_language(&mut self, v: &Value, loc: &str) -> Option<bool> {
        match v.as_str() {
            Some("JSONPath") => Some(false),
            Some("JSONata") => Some(true),
            _ => {
                self.schema(
                    loc,
                    "The field 'QueryLanguage' must be 'JSONPath' or 'JSONata'",
                );
                None
            }
        }
    }

    /// Compiles a JSONata field value, reporting a bad expression where it is.
    fn jtemplate(&mut self, v: &Value, loc: &str) -> Option<JTemplate> {
        match JTemplate::compile(v) {
            Ok(t) => Some(t),
            Err((p, e)) => {
                let at = if p.is_empty() {
                    loc.to_owned()
                } else {
                    format!("{loc}/{p}")
                };
                self.schema(&at, e);
                None
            }
        }
    }

    /// A field that is a number or a `{% %}` expression (JSONata `Seconds`, `MaxConcurrency`).
    fn jexpr(&mut self, v: &Value, loc: &str) -> Option<Result<Box<JExpr>, ()>> {
        let Value::String(s) = v else { return None };
        Some(match JExpr::of(s) {
            Some(Ok(e)) => Ok(Box::new(e)),
            Some(Err(m)) => {
                self.schema(loc, m);
                Err(())
            }
            None => {
                self.schema(
                    loc,
                    format!(
                        "The value '{s}' must be a number or a JSONata expression '{{% ... %}}'"
                    ),
                );
                Err(())
            }
        })
    }

    /// `Assign`: an object of variable names; JSONPath values may be `.$` paths.
    fn assign(&mut self, m: &Map<String, Value>, loc: &str, jsonata: bool) -> Option<AssignSpec> {
        let v = m.get("Assign")?;
        let loc = format!("{loc}/Assign");
        let Value::Object(vars) = v else {
            self.schema(&loc, "The field 'Assign' must be an object");
            return None;
        };
        for k in vars.keys() {
            let name = if jsonata {
                k.as_str()
            } else {
                k.strip_suffix(".$").unwrap_or(k)
            };
            let valid = name.len() <= MAX_VARIABLE_NAME
                && name
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid || name == "states" {
                self.schema(
                    &format!("{loc}/{k}"),
                    format!("The variable name '{name}' is invalid: names start with a letter or '_', contain only letters, digits and '_', are at most {MAX_VARIABLE_NAME} characters long, and 'states' is reserved"),
                );
            }
        }
        if jsonata {
            self.jtemplate(v, &loc).map(AssignSpec::Jsonata)
        } else {
            match Template::compile(v) {
                Ok(t) => Some(AssignSpec::Path(t)),
                Err((p, e)) => {
                    self.schema(&format!("{loc}/{p}"), e);
                    None
                }
            }
        }
    }

    fn target(&mut self, v: Option<&Value>, loc: &str, names: &HashMap<&str, u32>) -> Option<u32> {
        match v {
            Some(Value::String(s)) => match names.get(s.as_str()) {
                Some(i) => Some(*i),
                None => {
                    self.error(
                        "MISSING_TRANSITION_TARGET",
                        loc,
                        format!("Missing 'Next' target: {s}"),
                    );
                    None
                }
            },
            Some(_) => {
                self.schema(loc, "The transition target must be a string naming a state");
                None
            }
            None => None,
        }
    }

    fn path_spec(&mut self, m: &Map<String, Value>, key: &str, loc: &str) -> PathSpec {
        match m.get(key) {
            None => PathSpec::Identity,
            Some(Value::Null) => PathSpec::Null,
            Some(Value::String(s)) => match JsonPath::parse(s) {
                Ok(p) if p.is_root() && !p.context => PathSpec::Identity,
                Ok(p) => PathSpec::Path(p),
                Err(e) => {
                    self.schema(
                        &format!("{loc}/{key}"),
                        format!(
                            "The value for the field '{key}' must be a valid JSONPath: {}",
                            e.0
                        ),
                    );
                    PathSpec::Identity
                }
            },
            Some(_) => {
                self.schema(
                    &format!("{loc}/{key}"),
                    format!("The field '{key}' must be a string or null"),
                );
                PathSpec::Identity
            }
        }
    }

    fn result_path(&mut self, v: Option<&Value>, loc: &str) -> ResultPath {
        match v {
            None => ResultPath::Replace,
            Some(Value::Null) => ResultPath::Discard,
            Some(Value::String(s)) => match JsonPath::parse_reference(s) {
                Ok(p) if p.var.is_some() => {
                    self.schema(loc, "The field 'ResultPath' cannot point into a variable");
                    ResultPath::Replace
                }
                Ok(p) if p.context => {
                    self.schema(
                        loc,
                        "The field 'ResultPath' cannot point into the context object",
                    );
                    ResultPath::Replace
                }
                Ok(p) if p.is_root() => ResultPath::Replace,
                Ok(p) => ResultPath::At(p),
                Err(e) => {
                    self.schema(loc, format!("The value for the field 'ResultPath' must be a valid ReferencePath: {}", e.0));
                    ResultPath::Replace
                }
            },
            Some(_) => {
                self.schema(loc, "The field 'ResultPath' must be a string or null");
                ResultPath::Replace
            }
        }
    }

    fn template(&mut self, m: &Map<String, Value>, key: &str, loc: &str) -> Option<Template> {
        let v = m.get(key)?;
        self.no_dollar_warnings(v, &format!("{loc}/{key}"));
        match Template::compile(v) {
            Ok(t) => Some(t),
            Err((p, e)) => {
                self.schema(&format!("{loc}/{key}/{p}"), e);
                None
            }
        }
    }

    fn no_dollar_warnings(&mut self, v: &Value, loc: &str) {
        if let Value::Object(m) = v {
            for (k, x) in m {
                if let Value::String(s) = x {
                    if !k.ends_with(".$") && (s.starts_with("$.") || s.starts_with("States.")) {
                        self.warn("NO_DOLLAR", &format!("{loc}/{k}"), format!("The value of '{k}' looks like a JSONPath or intrinsic function, but the field name does not end with '.$'"));
                    }
                } else {
                    self.no_dollar_warnings(x, &format!("{loc}/{k}"));
                }
            }
        }
    }

    fn seconds(&mut self, m: &Map<String, Value>, key: &str, loc: &str) -> Option<Seconds> {
        let path_key = format!("{key}Path");
        match (m.get(key), m.get(&path_key)) {
            (Some(_), Some(_)) => {
                self.schema(
                    &format!("{loc}/{key}"),
                    format!("Only one of '{key}' and '{path_key}' may be given"),
                );
                None
            }
            (Some(v @ Value::String(_)), None) => match self.jexpr(v, &format!("{loc}/{key}")) {
                Some(Ok(e)) => Some(Seconds::Expr(e)),
                _ => None,
            },
            (Some(v), None) => match v.as_u64() {
                Some(n) if n > 0 || key == "Seconds" => Some(Seconds::Fixed(n)),
                _ => {
                    self.schema(
                        &format!("{loc}/{key}"),
                        format!("The field '{key}' must be a positive integer"),
                    );
                    None
                }
            },
            (None, Some(Value::String(p))) => match JsonPath::parse_reference(p) {
                Ok(p) => Some(Seconds::Path(p)),
                Err(e) => {
                    self.schema(&format!("{loc}/{path_key}"), e.0);
                    None
                }
            },
            (None, Some(_)) => {
                self.schema(
                    &format!("{loc}/{path_key}"),
                    format!("The field '{path_key}' must be a JSONPath string"),
                );
                None
            }
            (None, None) => None,
        }
    }

    fn count(
        &mut self,
        m: &Map<String, Value>,
        key: &str,
        loc: &str,
        integer: bool,
    ) -> Option<Count> {
        let path_key = format!("{key}Path");
        match (m.get(key), m.get(&path_key)) {
            (Some(_), Some(_)) => {
                self.schema(
                    &format!("{loc}/{key}"),
                    format!("Only one of '{key}' and '{path_key}' may be given"),
                );
                None
            }
            (Some(v @ Value::String(_)), None) => match self.jexpr(v, &format!("{loc}/{key}")) {
                Some(Ok(e)) => Some(Count::Expr(e)),
                _ => None,
            },
            (Some(v), None) => {
                let ok = v
                    .as_f64()
                    .filter(|x| *x >= 0.0 && (!integer || x.fract() == 0.0));
                match ok {
                    Some(x) if key != "ToleratedFailurePercentage" || x <= 100.0 => {
                        Some(Count::Fixed(x))
                    }
                    _ => {
                        self.schema(
                            &format!("{loc}/{key}"),
                            format!(
                                "The field '{key}' must be a non-negative {}",
                                if integer { "integer" } else { "number" }
                            ),
                        );
                        None
                    }
                }
            }
            (None, Some(Value::String(p))) => match JsonPath::parse_reference(p) {
                Ok(p) => Some(Count::Path(p)),
                Err(e) => {
                    self.schema(&format!("{loc}/{path_key}"), e.0);
                    None
                }
            },
            (None, Some(_)) => {
                self.schema(
                    &format!("{loc}/{path_key}"),
                    format!("The field '{path_key}' must be a JSONPath string"),
                );
                None
            }
            (None, None) => None,
        }
    }

    fn text(&mut self, m: &Map<String, Value>, key: &str, loc: &str) -> Option<Text> {
        let path_key = format!("{key}Path");
        match (m.get(key), m.get(&path_key)) {
            (Some(_), Some(_)) => {
                self.schema(
                    &format!("{loc}/{key}"),
                    format!("Only one of '{key}' and '{path_key}' may be given"),
                );
                None
            }
            (Some(Value::String(s)), None) => match JExpr::of(s) {
                Some(Ok(e)) if self.state_jsonata => Some(Text::Jsonata(Box::new(e))),
                Some(Err(m)) if self.state_jsonata => {
                    self.schema(&format!("{loc}/{key}"), m);
                    None
                }
                _ => Some(Text::Lit(s.clone())),
            },
            (Some(_), None) => {
                self.schema(
                    &format!("{loc}/{key}"),
                    format!("The field '{key}' must be a string"),
                );
                None
            }
            (None, Some(Value::String(p))) => match ValueExpr::compile(p, true) {
                Ok(e) => Some(Text::Expr(e)),
                Err(e) => {
                    self.schema(&format!("{loc}/{path_key}"), e);
                    None
                }
            },
            (None, Some(_)) => {
                self.schema(
                    &format!("{loc}/{path_key}"),
                    format!("The field '{path_key}' must be a string"),
                );
                None
            }
            (None, None) => None,
        }
    }

    fn error_list(&mut self, v: Option<&Value>, loc: &str) -> Vec<String> {
        let Some(Value::Array(a)) = v else {
            self.schema(
                loc,
                "The field 'ErrorEquals' is required and must be a non-empty array of strings",
            );
            return Vec::new();
        };
        if a.is_empty() {
            self.schema(loc, "The field 'ErrorEquals' must not be empty");
        }
        let mut out = Vec::with_capacity(a.len());
        for (i, e) in a.iter().enumerate() {
            match e.as_str() {
                Some(s) => out.push(s.to_owned()),
                None => self.schema(&format!("{loc}[{i}]"), "Error names must be strings"),
            }
        }
        if out.iter().any(|e| e == STATES_ALL) && out.len() > 1 {
            self.schema(loc, "'States.ALL' must appear alone in 'ErrorEquals'");
        }
        out
    }

    fn retriers(&mut self, v: Option<&Value>, loc: &str) -> Vec<Retrier> {
        let Some(v) = v else { return Vec::new() };
        let Value::Array(a) = v else {
            self.schema(loc, "The field 'Retry' must be an array");
            return Vec::new();
        };
        let mut out = Vec::with_capacity(a.len());
        for (i, r) in a.iter().enumerate() {
            let rloc = format!("{loc}[{i}]");
            let Value::Object(m) = r else {
                self.schema(&rloc, "A retrier must be an object");
                continue;
            };
            for k in m.keys() {
                if !matches!(
                    k.as_str(),
                    "ErrorEquals"
                        | "IntervalSeconds"
                        | "MaxAttempts"
                        | "BackoffRate"
                        | "MaxDelaySeconds"
                        | "JitterStrategy"
                        | "Comment"
                ) {
                    self.schema(
                        &format!("{rloc}/{k}"),
                        format!("Field '{k}' is not supported in a retrier"),
                    );
                }
            }
            let errors = self.error_list(m.get("ErrorEquals"), &format!("{rloc}/ErrorEquals"));
            if errors.iter().any(|e| e == STATES_ALL) && i + 1 != a.len() {
                self.schema(
                    &format!("{rloc}/ErrorEquals"),
                    "A retrier with 'States.ALL' must be the last one",
                );
            }
            let num = |c: &mut Self, k: &str, default: f64, min: f64, int: bool| -> f64 {
                match m.get(k) {
                    None => default,
                    Some(x) => match x.as_f64() {
                        Some(f) if f >= min && (!int || f.fract() == 0.0) => f,
                        _ => {
                            c.schema(
                                &format!("{rloc}/{k}"),
                                format!("The field '{k}' has an invalid value: {x}"),
                            );
                            default
                        }
                    },
                }
            };
            let interval_seconds = num(self, "IntervalSeconds", 1.0, 1.0, true);
            let max_attempts = num(self, "MaxAttempts", 3.0, 0.0, true) as u32;
            let backoff_rate = num(self, "BackoffRate", 2.0, 1.0, false);
            let max_delay_seconds = m
                .get("MaxDelaySeconds")
                .map(|_| num(self, "MaxDelaySeconds", 0.0, 1.0, true));
            let full_jitter = match m.get("JitterStrategy") {
                None => false,
                Some(Value::String(s)) if s == "FULL" => true,
                Some(Value::String(s)) if s == "NONE" => false,
                Some(_) => {
                    self.schema(
                        &format!("{rloc}/JitterStrategy"),
                        "The field 'JitterStrategy' must be FULL or NONE",
                    );
                    false
                }
            };
            out.push(Retrier {
                errors,
                interval_seconds,
                max_attempts,
                backoff_rate,
                max_delay_seconds,
                full_jitter,
            });
        }
        out
    }

    fn catchers(
        &mut self,
        v: Option<&Value>,
        loc: &str,
        names: &HashMap<&str, u32>,
    ) -> Vec<Catcher> {
        let Some(v) = v else { return Vec::new() };
        let Value::Array(a) = v else {
            self.schema(loc, "The field 'Catch' must be an array");
            return Vec::new();
        };
        let mut out = Vec::with_capacity(a.len());
        for (i, c) in a.iter().enumerate() {
            let cloc = format!("{loc}[{i}]");
            let Value::Object(m) = c else {
                self.schema(&cloc, "A catcher must be an object");
                continue;
            };
            for k in m.keys() {
                let jsonata = self.state_jsonata;
                if !matches!(k.as_str(), "ErrorEquals" | "Next" | "Comment" | "Assign") {
                    if k == "ResultPath" && !jsonata || k == "Output" && jsonata {
                        continue;
                    }
                    let why = match k.as_str() {
                        "ResultPath" => " when the query language is JSONata",
                        "Output" => " when the query language is JSONPath",
                        _ => "",
                    };
                    self.schema(
                        &format!("{cloc}/{k}"),
                        format!("Field '{k}' is not supported in a catcher{why}"),
                    );
                }
            }
            let errors = self.error_list(m.get("ErrorEquals"), &format!("{cloc}/ErrorEquals"));
            if errors.iter().any(|e| e == STATES_ALL) && i + 1 != a.len() {
                self.schema(
                    &format!("{cloc}/ErrorEquals"),
                    "A catcher with 'States.ALL' must be the last one",
                );
            }
            let result_path = self.result_path(m.get("ResultPath"), &format!("{cloc}/ResultPath"));
            let next = match m.get("Next") {
                None => {
                    self.schema(
                        &format!("{cloc}/Next"),
                        "A catcher must have a 'Next' field",
                    );
                    None
                }
                v => self.target(v, &format!("{cloc}/Next"), names),
            };
            let jsonata = self.state_jsonata;
            let output = match m.get("Output") {
                Some(v) if jsonata => self.jtemplate(v, &format!("{cloc}/Output")),
                _ => None,
            };
            let assign = self.assign(m, &cloc, jsonata);
            if let Some(next) = next {
                out.push(Catcher {
                    errors,
                    result_path,
                    next,
                    output,
                    assign,
                });
            }
        }
        out
    }

    fn state(&mut self, name: &str, v: &Value, loc: &str, names: &HashMap<&str, u32>) -> State {
        let mut st = State {
            name: crate::name::StateName::new(name),
            kind: Kind::Succeed,
            input_path: PathSpec::Identity,
            output_path: PathSpec::Identity,
            parameters: None,
            result_selector: None,
            result_path: ResultPath::Replace,
            next: Next::End,
            retry: Vec::new(),
            catch: Vec::new(),
            passthrough: false,
            jsonata: false,
            arguments: None,
            output: None,
            assign: None,
        };
        let Value::Object(m) = v else {
            self.schema(loc, "A state must be an object");
            return st;
        };
        let ty = match m.get("Type") {
            Some(Value::String(t)) => t.as_str(),
            Some(_) => {
                self.schema(&format!("{loc}/Type"), "The field 'Type' must be a string");
                return st;
            }
            None => {
                self.schema(&format!("{loc}/Type"), "The field 'Type' is required");
                return st;
            }
        };
        let allowed = allowed_fields(ty);
        if allowed.is_empty() {
            self.schema(&format!("{loc}/Type"), format!("Unknown state type '{ty}': expected one of Pass, Task, Choice, Wait, Succeed, Fail, Parallel, Map"));
            return st;
        }
        let own = m
            .get("QueryLanguage")
            .and_then(|ql| self.query_language(ql, &format!("{loc}/QueryLanguage")));
        if self.top_jsonata && own == Some(false) {
            self.schema(
                &format!("{loc}/QueryLanguage"),
                "A state cannot use the JSONPath query language when the state machine's QueryLanguage is JSONata",
            );
        }
        let jsonata = own.unwrap_or(self.top_jsonata);
        self.state_jsonata = jsonata;
        st.jsonata = jsonata;
        for k in m.keys() {
            let k = k.as_str();
            if !COMMON.contains(&k) && !allowed.contains(&k) {
                self.schema(
                    &format!("{loc}/{k}"),
                    format!("Field '{k}' is not supported by a {ty} state"),
                );
            } else if jsonata && JSONPATH_ONLY.contains(&k) {
                self.schema(
                    &format!("{loc}/{k}"),
                    format!("The field '{k}' is not supported when the state's QueryLanguage is JSONata: use 'Arguments', 'Output' or 'Assign' instead"),
                );
            } else if !jsonata && JSONATA_ONLY.contains(&k) {
                self.schema(
                    &format!("{loc}/{k}"),
                    format!("The field '{k}' is only supported when the state's QueryLanguage is JSONata"),
                );
            }
        }
        st.assign = self.assign(m, loc, jsonata);
        if jsonata {
            if let Some(v) = m.get("Output") {
                st.output = self.jtemplate(v, &format!("{loc}/Output"));
            }
            if let Some(v) = m.get("Arguments") {
                st.arguments = self.jtemplate(v, &format!("{loc}/Arguments"));
            }
        }
        st.input_path = self.path_spec(m, "InputPath", loc);
        st.output_path = self.path_spec(m, "OutputPath", loc);
        st.result_path = self.result_path(m.get("ResultPath"), &format!("{loc}/ResultPath"));
        if ty == "Map" && jsonata {
            // JSONata's ItemSelector is compiled into the Map spec (see `map`).
        } else if ty == "Map" {
            st.parameters = if m.contains_key("ItemSelector") && m.contains_key("Parameters") {
                self.schema(
                    &format!("{loc}/Parameters"),
                    "Only one of 'ItemSelector' and 'Parameters' may be given",
                );
                None
            } else if m.contains_key("ItemSelector") {
                self.template(m, "ItemSelector", loc)
            } else {
                self.template(m, "Parameters", loc)
            };
        } else {
            st.parameters = self.template(m, "Parameters", loc);
        }
        st.result_selector = self.template(m, "ResultSelector", loc);
        st.retry = self.retriers(m.get("Retry"), &format!("{loc}/Retry"));
        st.catch = self.catchers(m.get("Catch"), &format!("{loc}/Catch"), names);

        let needs_transition = matches!(ty, "Pass" | "Task" | "Wait" | "Parallel" | "Map");
        if needs_transition {
            let end = match m.get("End") {
                None => false,
                Some(Value::Bool(b)) => *b,
                Some(_) => {
                    self.schema(&format!("{loc}/End"), "The field 'End' must be a boolean");
                    false
                }
            };
            match (m.get("Next"), end) {
                (Some(_), true) => self.schema(loc, "Only one of 'Next' and 'End' may be given"),
                (Some(n), false) => {
                    if let Some(t) = self.target(Some(n), &format!("{loc}/Next"), names) {
                        st.next = Next::Goto(t);
                    }
                }
                (None, true) => {}
                (None, false) => self.schema(
                    loc,
                    "A state of this type must have either 'Next' or 'End': true",
                ),
            }
        }

        st.kind = match ty {
            "Pass" => {
                if let Some(Value::Object(r)) = m.get("Result")
                    && r.keys().any(|k| k.ends_with(".$"))
                {
                    self.warn(
                        "PASS_RESULT_IS_STATIC",
                        &format!("{loc}/Result"),
                        "The 'Result' of a Pass state is static: '.$' keys are not evaluated",
                    );
                }
                Kind::Pass {
                    result: m.get("Result").cloned().map(Arc::new),
                    result_too_large: m
                        .get("Result")
                        .is_some_and(|r| r.to_string().len() > crate::execution::MAX_PAYLOAD_BYTES),
                }
            }
            "Task" => self.task(m, loc),
            "Choice" => {
                let mut choices = Vec::new();
                match m.get("Choices") {
                    Some(Value::Array(a)) if !a.is_empty() => {
                        for (i, c) in a.iter().enumerate() {
                            let cloc = format!("{loc}/Choices[{i}]");
                            let next = match c.get("Next") {
                                None => {
                                    self.schema(
                                        &format!("{cloc}/Next"),
                                        "A top-level Choice rule must have a 'Next' field",
                                    );
                                    None
                                }
                                n => self.target(n, &format!("{cloc}/Next"), names),
                            };
                            let test = if jsonata {
                                match c.get("Condition") {
                                    Some(v @ (Value::Bool(_) | Value::String(_))) => self
                                        .jtemplate(v, &format!("{cloc}/Condition"))
                                        .map(Test::Condition),
                                    _ => {
                                        self.schema(&format!("{cloc}/Condition"), "A JSONata Choice rule must have a 'Condition' that is a boolean or a JSONata expression");
                                        None
                                    }
                                }
                            } else {
                                match choice::compile(c, &cloc, true) {
                                    Ok(rule) => Some(Test::Rule(rule)),
                                    Err((p, e)) => {
                                        self.schema(&p, e);
                                        None
                                    }
                                }
                            };
                            let output = match c.get("Output") {
                                Some(v) if jsonata => self.jtemplate(v, &format!("{cloc}/Output")),
                                Some(_) => {
                                    self.schema(&format!("{cloc}/Output"), "The field 'Output' is only supported when the state's QueryLanguage is JSONata");
                                    None
                                }
                                None => None,
                            };
                            let assign = match c {
                                Value::Object(cm) => self.assign(cm, &cloc, jsonata),
                                _ => None,
                            };
                            if let (Some(test), Some(next)) = (test, next) {
                                choices.push(ChoiceArm {
                                    test,
                                    next,
                                    output,
                                    assign,
                                });
                            }
                        }
                    }
                    _ => self.schema(
                        &format!("{loc}/Choices"),
                        "The field 'Choices' is required and must be a non-empty array",
                    ),
                }
                let default = self.target(m.get("Default"), &format!("{loc}/Default"), names);
                Kind::Choice { choices, default }
            }
            "Wait" => {
                let given: Vec<&str> = ["Seconds", "SecondsPath", "Timestamp", "TimestampPath"]
                    .into_iter()
                    .filter(|k| m.contains_key(*k))
                    .collect();
                if given.len() != 1 {
                    self.schema(loc, "A Wait state must have exactly one of 'Seconds', 'SecondsPath', 'Timestamp', 'TimestampPath'");
                    Kind::Wait(WaitSpec::Seconds(Seconds::Fixed(0)))
                } else if let Some(e) = m
                    .get("Timestamp")
                    .filter(|_| jsonata)
                    .and_then(|t| self.jexpr(t, &format!("{loc}/Timestamp")))
                {
                    match e {
                        Ok(e) => Kind::Wait(WaitSpec::TimestampExpr(e)),
                        Err(()) => Kind::Wait(WaitSpec::Seconds(Seconds::Fixed(0))),
                    }
                } else if let Some(Value::String(t)) = m.get("Timestamp") {
                    if crate::timestamp::parse(t).is_none() {
                        self.schema(
                            &format!("{loc}/Timestamp"),
                            "The field 'Timestamp' must be an RFC 3339 timestamp",
                        );
                    }
                    Kind::Wait(WaitSpec::Timestamp(t.clone()))
                } else if m.contains_key("Timestamp") {
                    self.schema(
                        &format!("{loc}/Timestamp"),
                        "The field 'Timestamp' must be a string",
                    );
                    Kind::Wait(WaitSpec::Seconds(Seconds::Fixed(0)))
                } else if let Some(tp) = m.get("TimestampPath") {
                    match tp.as_str().map(JsonPath::parse_reference) {
                        Some(Ok(p)) => Kind::Wait(WaitSpec::TimestampPath(p)),
                        _ => {
                            self.schema(
                                &format!("{loc}/TimestampPath"),
                                "The field 'TimestampPath' must be a valid reference path",
                            );
                            Kind::Wait(WaitSpec::Seconds(Seconds::Fixed(0)))
                        }
                    }
                } else {
                    Kind::Wait(WaitSpec::Seconds(
                        self.seconds(m, "Seconds", loc).unwrap_or(Seconds::Fixed(0)),
                    ))
                }
            }
            "Succeed" => Kind::Succeed,
            "Fail" => Kind::Fail {
                error: self.text(m, "Error", loc),
                cause: self.text(m, "Cause", loc),
            },
            "Parallel" => {
                let mut branches = Vec::new();
                match m.get("Branches") {
                    Some(Value::Array(a)) if !a.is_empty() => {
                        for (i, b) in a.iter().enumerate() {
                            branches.push(self.machine(b, &format!("{loc}/Branches[{i}]")));
                        }
                    }
                    _ => self.schema(
                        &format!("{loc}/Branches"),
                        "The field 'Branches' is required and must be a non-empty array",
                    ),
                }
                Kind::Parallel { branches }
            }
            "Map" => self.map(m, loc),
            _ => Kind::Succeed,
        };
        st.passthrough = matches!(st.kind, Kind::Pass { result: None, .. })
            && st.input_path == PathSpec::Identity
            && st.output_path == PathSpec::Identity
            && st.result_path == ResultPath::Replace
            && st.parameters.is_none()
            && st.output.is_none()
            && st.assign.is_none();
        st
    }

    fn task(&mut self, m: &Map<String, Value>, loc: &str) -> Kind {
        let resource = match m.get("Resource") {
            Some(Value::String(r)) => r.clone(),
            _ => {
                self.schema(
                    &format!("{loc}/Resource"),
                    "The field 'Resource' is required and must be a string",
                );
                String::new()
            }
        };
        let parts: Vec<&str> = resource.splitn(6, ':').collect();
        let (mut resource_type, mut resource_name, region, lambda_function) = if parts.len() == 6
            && parts[0] == "arn"
            && parts[2] == "states"
            && parts[3].is_empty()
            && parts[4].is_empty()
        {
            // arn:aws:states:::service:action[.pattern] or :::aws-sdk:service:action
            let rest = parts[5];
            let (ty, name) = match rest.rsplit_once(':') {
                Some((ty, name)) => (ty.to_owned(), name.to_owned()),
                None => (rest.to_owned(), String::new()),
            };
            (ty, name, String::new(), false)
        } else if parts.len() >= 6 && parts[0] == "arn" && parts[2] == "lambda" {
            (
                "lambda".to_owned(),
                resource.clone(),
                parts[3].to_owned(),
                true,
            )
        } else if parts.len() >= 6
            && parts[0] == "arn"
            && parts[2] == "states"
            && parts[5].starts_with("activity")
        {
            (
                "activity".to_owned(),
                resource.clone(),
                parts[3].to_owned(),
                false,
            )
        } else {
            if !resource.is_empty() {
                self.error(
                    "INVALID_RESOURCE",
                    &format!("{loc}/Resource"),
                    format!("The resource '{resource}' is not a valid Task resource ARN"),
                );
            }
            (String::new(), String::new(), String::new(), false)
        };
        let wait_for_token = resource_name.ends_with(".waitForTaskToken");
        if resource_type.is_empty() && resource_name.is_empty() {
            resource_type = "unknown".into();
            resource_name = resource.clone();
        }
        let timeout = self.seconds(m, "TimeoutSeconds", loc);
        let heartbeat = self.seconds(m, "HeartbeatSeconds", loc);
        if let (Some(Seconds::Fixed(t)), Some(Seconds::Fixed(h))) = (&timeout, &heartbeat)
            && h >= t
        {
            self.schema(
                &format!("{loc}/HeartbeatSeconds"),
                "'HeartbeatSeconds' must be smaller than 'TimeoutSeconds'",
            );
        }
        if wait_for_token {
            let has_token = m.get("Parameters").is_some_and(mentions_task_token)
                || m.get("Arguments").is_some_and(mentions_task_token);
            if !has_token {
                self.schema(
                    &format!("{loc}/Parameters"),
                    "A '.waitForTaskToken' task must pass '$$.Task.Token' in its 'Parameters'",
                );
            }
        }
        Kind::Task(Box::new(TaskSpec {
            resource,
            resource_type,
            resource_name,
            region,
            wait_for_token,
            lambda_function,
            timeout,
            heartbeat,
        }))
    }

    fn map(&mut self, m: &Map<String, Value>, loc: &str) -> Kind {
        // Reading items from S3 or writing results there would silently do something
        // else here than on AWS: refuse them until they are supported.
        for k in ["ItemReader", "ResultWriter", "ItemBatcher"] {
            if m.contains_key(k) {
                self.schema(
                    &format!("{loc}/{k}"),
                    format!(
                        "The field '{k}' (Distributed Map over external data) is not supported yet"
                    ),
                );
            }
        }
        let (proc_key, proc) = match (m.get("ItemProcessor"), m.get("Iterator")) {
            (Some(p), None) => ("ItemProcessor", Some(p)),
            (None, Some(p)) => ("Iterator", Some(p)),
            (Some(_), Some(_)) => {
                self.schema(
                    loc,
                    "Only one of 'ItemProcessor' and 'Iterator' may be given",
                );
                ("ItemProcessor", None)
            }
            (None, None) => {
                self.schema(
                    &format!("{loc}/ItemProcessor"),
                    "The field 'ItemProcessor' is required",
                );
                ("ItemProcessor", None)
            }
        };
        let distributed = proc
            .and_then(|p| p.get("ProcessorConfig"))
            .and_then(|c| c.get("Mode"))
            .and_then(Value::as_str)
            == Some("DISTRIBUTED");
        let machine = match proc {
            Some(p) => self.machine(p, &format!("{loc}/{proc_key}")),
            None => self.machine(&Value::Null, &format!("{loc}/{proc_key}")),
        };
        let jsonata = self.state_jsonata;
        let items = match m.get("Items") {
            Some(v @ (Value::Array(_) | Value::String(_))) if jsonata => {
                self.jtemplate(v, &format!("{loc}/Items"))
            }
            Some(_) if jsonata => {
                self.schema(
                    &format!("{loc}/Items"),
                    "The field 'Items' must be an array or a JSONata expression",
                );
                None
            }
            _ => None,
        };
        let jitem_selector = match m.get("ItemSelector") {
            Some(v) if jsonata => self.jtemplate(v, &format!("{loc}/ItemSelector")),
            _ => None,
        };
        let items_path = match m.get("ItemsPath") {
            None => None,
            Some(Value::String(s)) => match JsonPath::parse_reference(s) {
                Ok(p) => Some(p),
                Err(e) => {
                    self.schema(&format!("{loc}/ItemsPath"), e.0);
                    None
                }
            },
            Some(_) => {
                self.schema(
                    &format!("{loc}/ItemsPath"),
                    "The field 'ItemsPath' must be a string",
                );
                None
            }
        };
        let max_concurrency = self
            .count(m, "MaxConcurrency", loc, true)
            .unwrap_or(Count::Fixed(0.0));
        let tolerated_count = self.count(m, "ToleratedFailureCount", loc, true);
        let tolerated_percentage = self.count(m, "ToleratedFailurePercentage", loc, false);
        Kind::Map(Box::new(MapSpec {
            machine,
            items_path,
            item_selector: None,
            items,
            jitem_selector,
            max_concurrency,
            tolerated_count,
            tolerated_percentage,
            distributed,
        }))
    }
}

fn mentions_task_token(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains("$$.Task.Token") || s.contains("Task.Token"),
        Value::Object(m) => m.values().any(mentions_task_token),
        Value::Array(a) => a.iter().any(mentions_task_token),
        _ => false,
    }
}

fn successors(s: &State) -> Vec<u32> {
    let mut out = Vec::new();
    if let Next::Goto(n) = s.next {
        out.push(n);
    }
    if let Kind::Choice { choices, default } = &s.kind {
        out.extend(choices.iter().map(|c| c.next));
        out.extend(default.iter());
    }
    out.extend(s.catch.iter().map(|c| c.next));
    out
}

fn is_terminal(s: &State) -> bool {
    match s.kind {
        Kind::Succeed | Kind::Fail { .. } => true,
        Kind::Choice { .. } => false,
        _ => s.next == Next::End,
    }
}

impl Definition {
    /// Parses, validates and compiles ASL JSON text.
    pub fn parse(text: &str) -> Result<Definition, ValidationError> {
        match serde_json::from_str::<Value>(text) {
            Ok(v) => Self::from_value(&v),
            Err(e) => Err(ValidationError {
                diagnostics: vec![Diagnostic {
                    severity: Severity::Error,
                    code: "INVALID_JSON_DESCRIPTION".into(),
                    message: format!("The definition is not valid JSON: {e}"),
                    location: String::new(),
                }],
            }),
        }
    }

    /// Like [`Definition::parse`], from an already parsed JSON value.
    pub fn from_value(v: &Value) -> Result<Definition, ValidationError> {
        let mut c = Compiler {
            machines: Vec::new(),
            diags: Vec::new(),
            top_jsonata: v.get("QueryLanguage").and_then(Value::as_str) == Some("JSONata"),
            state_jsonata: false,
        };
        c.machine(v, "");
        let timeout_seconds = match v.get("TimeoutSeconds") {
            None => None,
            Some(t) => match t.as_u64() {
                Some(n) if n > 0 => Some(n),
                _ => {
                    c.schema(
                        "/TimeoutSeconds",
                        "The field 'TimeoutSeconds' must be a positive integer",
                    );
                    None
                }
            },
        };
        if c.diags.iter().any(|d| d.severity == Severity::Error) {
            return Err(ValidationError {
                diagnostics: c.diags,
            });
        }
        // Inline ItemSelector is stored on the state as its "parameters"; move it into the spec.
        for m in &mut c.machines {
            for s in &mut m.states {
                if let Kind::Map(spec) = &mut s.kind {
                    spec.item_selector = s.parameters.take();
                }
            }
        }
        Ok(Definition {
            machines: c.machines,
            timeout_seconds,
            jsonata_timeout_ms: JSONATA_TIMEOUT_MS,
            warnings: c.diags,
        })
    }

    /// How long one JSONata expression may run before it fails with
    /// `States.QueryEvaluationError` (default [`JSONATA_TIMEOUT_MS`]). This guard is the
    /// one time measurement in the engine (made inside the evaluator): tail recursion has
    /// no depth to bound, so without it `($f := function($n){ $f($n + 1) }; $f(0))` would
    /// never return. No result depends on it otherwise.
    pub fn set_jsonata_timeout_ms(&mut self, ms: u64) -> &mut Self {
        self.jsonata_timeout_ms = ms;
        self
    }

    /// Warnings found while loading (e.g. `NO_DOLLAR`); the definition is usable.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// Number of states across the definition, nested branches included.
    pub fn state_count(&self) -> usize {
        self.machines.iter().map(|m| m.states.len()).sum()
    }

    pub(crate) fn machine(&self, id: u32) -> Option<&Machine> {
        self.machines.get(id as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn errors(def: Value) -> Vec<(String, String)> {
        match Definition::from_value(&def) {
            Ok(_) => Vec::new(),
            Err(e) => e
                .diagnostics
                .into_iter()
                .filter(|d| d.severity == Severity::Error)
                .map(|d| (d.code, d.location))
                .collect(),
        }
    }

    #[test]
    fn a_minimal_definition_loads() {
        assert!(
            errors(json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}))
                .is_empty()
        );
    }

    #[test]
    fn unknown_state_types_are_named_by_path() {
        let e = errors(json!({"StartAt": "A", "States": {"A": {"Type": "Bogus", "End": true}}}));
        assert_eq!(
            e,
            vec![("SCHEMA_VALIDATION_FAILED".into(), "/States/A/Type".into())]
        );
    }

    #[test]
    fn missing_next_or_end_is_refused() {
        let e = errors(json!({"StartAt": "A", "States": {"A": {"Type": "Pass"}}}));
        assert!(
            e.iter()
                .any(|(c, l)| c == "SCHEMA_VALIDATION_FAILED" && l == "/States/A")
        );
    }

    #[test]
    fn missing_targets_and_unreachable_states_are_reported() {
        let e = errors(json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Next": "Nope"},
            "B": {"Type": "Succeed"}
        }}));
        assert!(e.contains(&("MISSING_TRANSITION_TARGET".into(), "/States/A/Next".into())));
        assert!(e.contains(&("SCHEMA_VALIDATION_FAILED".into(), "/States/B".into())));
    }

    #[test]
    fn bad_paths_and_intrinsics_are_reported_where_they_are() {
        let e = errors(
            json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "InputPath": "$.a[", "Parameters": {"x.$": "States.Nope(1)"}, "End": true}}}),
        );
        assert!(e.contains(&(
            "SCHEMA_VALIDATION_FAILED".into(),
            "/States/A/InputPath".into()
        )));
        assert!(e.contains(&(
            "SCHEMA_VALIDATION_FAILED".into(),
            "/States/A/Parameters/x.$".into()
        )));
    }

    #[test]
    fn retry_and_catch_misuse_is_refused() {
        let e = errors(json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Retry": [{"ErrorEquals": ["States.ALL"]}], "End": true}
        }}));
        assert!(e.contains(&("SCHEMA_VALIDATION_FAILED".into(), "/States/A/Retry".into())));
        let e = errors(json!({"StartAt": "A", "States": {
            "A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
                  "Retry": [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["X"]}],
                  "Catch": [{"ErrorEquals": ["States.ALL", "X"], "Next": "A"}]}
        }}));
        assert!(e.contains(&(
            "SCHEMA_VALIDATION_FAILED".into(),
            "/States/A/Retry[0]/ErrorEquals".into()
        )));
        assert!(e.contains(&(
            "SCHEMA_VALIDATION_FAILED".into(),
            "/States/A/Catch[0]/ErrorEquals".into()
        )));
    }

    #[test]
    fn nested_branches_are_validated_with_their_paths() {
        let e = errors(
            json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
                {"StartAt": "X", "States": {"X": {"Type": "Pass", "Next": "Y"}}}
            ]}}}),
        );
        assert!(e.contains(&(
            "MISSING_TRANSITION_TARGET".into(),
            "/States/P/Branches[0]/States/X/Next".into()
        )));
    }

    #[test]
    fn invalid_json_gets_its_own_code() {
        let e = Definition::parse("{").unwrap_err();
        assert_eq!(e.diagnostics[0].code, "INVALID_JSON_DESCRIPTION");
        let resp = e.to_validate_response();
        assert_eq!(resp["result"], "FAIL");
    }

    #[test]
    fn wait_for_token_tasks_must_pass_the_token() {
        let e = errors(
            json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents.waitForTaskToken", "End": true}}}),
        );
        assert!(e.contains(&(
            "SCHEMA_VALIDATION_FAILED".into(),
            "/States/T/Parameters".into()
        )));
    }
}
