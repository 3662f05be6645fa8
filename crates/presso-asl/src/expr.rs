//! Expression evaluation: the one seam between states and the query language.
//!
//! States never look at JSONPath or intrinsic syntax themselves; they hold compiled
//! [`Template`]s (payload templates: `Parameters`, `ItemSelector`, `ResultSelector`)
//! and [`ValueExpr`]s (`ErrorPath`, `SecondsPath`, ...) and evaluate them against a
//! [`Scope`] (the state input, the lazily built context object `$$`, and the
//! execution's random generator). A JSONata mode and `Assign` variables plug in
//! here as further variants without touching the interpreter.

use crate::intrinsic::{Call, looks_like_call};
use crate::jsonpath::{JsonPath, Selected};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::cell::{OnceCell, RefCell};

/// What the context object says about the execution; fixed at start.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct ExecInfo {
    pub(crate) id: String,
    pub(crate) name: String,
    #[serde(with = "crate::execution::data")]
    pub(crate) input: std::sync::Arc<Value>,
    pub(crate) start_ms: i64,
    pub(crate) role_arn: String,
    pub(crate) state_machine_id: String,
    pub(crate) state_machine_name: String,
    pub(crate) region: String,
    pub(crate) redrive_count: u32,
}

/// The per-state view from which `$$` is built only if a path asks for it.
pub(crate) struct ContextView<'a> {
    pub(crate) exec: Option<&'a ExecInfo>,
    pub(crate) state_name: &'a crate::name::StateName,
    pub(crate) entered_ms: i64,
    pub(crate) retry_count: Option<u32>,
    pub(crate) token: Option<&'a str>,
    pub(crate) map_item: Option<(u64, &'a Value)>,
    /// The workflow variables in scope for this state.
    pub(crate) vars: Option<&'a Map<String, Value>>,
}

static EMPTY_NAME: std::sync::LazyLock<crate::name::StateName> =
    std::sync::LazyLock::new(|| crate::name::StateName::new(""));

impl ContextView<'_> {
    /// A view of no execution: for values computed when a definition loads.
    pub(crate) fn detached() -> ContextView<'static> {
        ContextView {
            exec: None,
            state_name: &EMPTY_NAME,
            entered_ms: 0,
            retry_count: None,
            token: None,
            map_item: None,
            vars: None,
        }
    }

    pub(crate) fn build(&self) -> Value {
        let mut root = Map::new();
        if let Some(e) = self.exec {
            let mut ex = Map::new();
            ex.insert("Id".into(), Value::String(e.id.clone()));
            ex.insert("Input".into(), Value::clone(&e.input));
            ex.insert(
                "StartTime".into(),
                Value::String(crate::timestamp::format_millis(e.start_ms)),
            );
            ex.insert("Name".into(), Value::String(e.name.clone()));
            ex.insert("RoleArn".into(), Value::String(e.role_arn.clone()));
            ex.insert("RedriveCount".into(), Value::from(e.redrive_count));
            root.insert("Execution".into(), Value::Object(ex));
            let mut sm = Map::new();
            sm.insert("Id".into(), Value::String(e.state_machine_id.clone()));
            sm.insert("Name".into(), Value::String(e.state_machine_name.clone()));
            root.insert("StateMachine".into(), Value::Object(sm));
        }
        let mut st = Map::new();
        st.insert("Name".into(), Value::String(self.state_name.to_string()));
        st.insert(
            "EnteredTime".into(),
            Value::String(crate::timestamp::format_millis(self.entered_ms)),
        );
        if let Some(r) = self.retry_count {
            st.insert("RetryCount".into(), Value::from(r));
        }
        root.insert("State".into(), Value::Object(st));
        if let Some(t) = self.token {
            let mut task = Map::new();
            task.insert("Token".into(), Value::String(t.to_owned()));
            root.insert("Task".into(), Value::Object(task));
        }
        if let Some((i, v)) = self.map_item {
            let mut item = Map::new();
            item.insert("Index".into(), Value::from(i));
            item.insert("Value".into(), v.clone());
            let mut m = Map::new();
            m.insert("Item".into(), Value::Object(item));
            root.insert("Map".into(), Value::Object(m));
        }
        Value::Object(root)
    }
}

/// Everything an expression may read while it is evaluated.
pub(crate) struct Scope<'a> {
    input: &'a Value,
    ctx: &'a ContextView<'a>,
    context: OnceCell<Value>,
    rng: RefCell<&'a mut Rng>,
}

impl<'a> Scope<'a> {
    pub(crate) fn new(input: &'a Value, ctx: &'a ContextView<'a>, rng: &'a mut Rng) -> Self {
        Scope {
            input,
            ctx,
            context: OnceCell::new(),
            rng: RefCell::new(rng),
        }
    }

    pub(crate) fn input(&self) -> &Value {
        self.input
    }

    fn context(&self) -> &Value {
        self.context.get_or_init(|| self.ctx.build())
    }

    /// The document a path starts from: the input, the context object or a variable.
    fn root(&self, p: &JsonPath) -> Option<&Value> {
        match &p.var {
            Some(name) => self.ctx.vars.and_then(|v| v.get(name)),
            None if p.context => Some(self.context()),
            None => Some(self.input),
        }
    }

    /// Selects a path; `None` when a definite path finds nothing.
    pub(crate) fn lookup(&self, p: &JsonPath) -> Option<Value> {
        p.select(self.root(p)?).into_value()
    }

    /// Like `lookup`, by reference, for callers that only inspect the value.
    pub(crate) fn with_lookup<R>(&self, p: &JsonPath, f: impl FnOnce(Option<&Value>) -> R) -> R {
        let Some(root) = self.root(p) else {
            return f(None);
        };
        match p.select(root) {
            Selected::One(v) => f(Some(v)),
            Selected::Missing => f(None),
            many @ Selected::Many(_) => {
                let v = many.into_value();
                f(v.as_ref())
            }
        }
    }

    pub(crate) fn select(&self, p: &JsonPath) -> Result<Value, String> {
        self.lookup(p).ok_or_else(|| {
            if let Some(name) = &p.var {
                return format!(
                    "The variable path '{}' could not be resolved: no value for '${name}'",
                    p.source
                );
            }
            format!(
                "The JSONPath '{}' could not be found in the input '{}'",
                p.source,
                if p.context {
                    self.context()
                } else {
                    self.input
                }
            )
        })
    }

    /// Like `select`, borrowing when the path selects one value.
    pub(crate) fn select_cow(&self, p: &JsonPath) -> Result<std::borrow::Cow<'_, Value>, String> {
        let Some(root) = self.root(p) else {
            return self.select(p).map(std::borrow::Cow::Owned);
        };
        match p.select(root) {
            Selected::One(v) => Ok(std::borrow::Cow::Borrowed(v)),
            many @ Selected::Many(_) => Ok(std::borrow::Cow::Owned(
                many.into_value().unwrap_or(Value::Null),
            )),
            Selected::Missing => self.select(p).map(std::borrow::Cow::Owned),
        }
    }

    pub(crate) fn random_f64(&self) -> f64 {
        self.rng.borrow_mut().next_f64()
    }

    pub(crate) fn uuid(&self) -> String {
        self.rng.borrow_mut().uuid_v4()
    }
}

/// A single dynamic value: a JSONPath or an intrinsic call.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ValueExpr {
    Path(JsonPath),
    Call(Call),
}

impl ValueExpr {
    /// Compiles a `*Path`-style field; intrinsics allowed only where AWS allows them.
    pub(crate) fn compile(src: &str, allow_call: bool) -> Result<ValueExpr, String> {
        if allow_call && looks_like_call(src) {
            return Call::parse(src).map(ValueExpr::Call);
        }
        JsonPath::parse(src).map(ValueExpr::Path).map_err(|e| e.0)
    }

    pub(crate) fn source(&self) -> Option<&str> {
        match self {
            ValueExpr::Path(p) => Some(&p.source),
            ValueExpr::Call(_) => None,
        }
    }

    /// Evaluates; `Ok(None)` when a path finds nothing (the caller words the error).
    pub(crate) fn eval(&self, scope: &Scope<'_>) -> Result<Option<Value>, String> {
        match self {
            ValueExpr::Path(p) => Ok(scope.lookup(p)),
            ValueExpr::Call(c) => c.eval(scope).map(Some),
        }
    }
}

/// An object template's fields, with the result's keys laid out once.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ObjectTemplate {
    fields: Vec<(String, Template)>,
    /// The result's keys in order, each with a `null` value, when the keys are distinct
    /// (`a` and `a.$` are not): a clone of it is the result's map with its hash table
    /// already built, so filling it in hashes no key.
    skeleton: Option<Map<String, Value>>,
}

impl ObjectTemplate {
    fn new(fields: Vec<(String, Template)>) -> Self {
        let skeleton: Map<String, Value> = fields
            .iter()
            .map(|(k, _)| (k.clone(), Value::Null))
            .collect();
        let distinct = skeleton.len() == fields.len();
        ObjectTemplate {
            fields,
            skeleton: distinct.then_some(skeleton),
        }
    }

    fn eval(&self, scope: &Scope<'_>) -> Result<Value, String> {
        let Some(skeleton) = &self.skeleton else {
            // A later field of the same name overwrites an earlier one in place.
            let mut m = Map::with_capacity(self.fields.len());
            for (k, t) in &self.fields {
                m.insert(k.clone(), t.eval(scope)?);
            }
            return Ok(Value::Object(m));
        };
        let mut m = skeleton.clone();
        for (slot, (_, t)) in m.values_mut().zip(&self.fields) {
            *slot = t.eval(scope)?;
        }
        Ok(Value::Object(m))
    }
}

/// A compiled payload template.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Template {
    Const(Value),
    Object(ObjectTemplate),
    Array(Vec<Template>),
    Dynamic { field: String, expr: ValueExpr },
}

impl Template {
    /// Compiles a payload template; errors name the offending key.
    pub(crate) fn compile(v: &Value) -> Result<Template, (String, String)> {
        match v {
            Value::Object(m) => {
                let mut fields = Vec::with_capacity(m.len());
                let mut dynamic = false;
                for (k, x) in m {
                    if let Some(name) = k.strip_suffix(".$") {
                        let Value::String(src) = x else {
                            return Err((
                                k.clone(),
                                format!(
                                    "The value for the field '{k}' must be a STRING that contains a JSONPath but was {}",
                                    crate::jsonpath::type_name(x).to_uppercase()
                                ),
                            ));
                        };
                        let expr = ValueExpr::compile(src, true).map_err(|e| (k.clone(), e))?;
                        let t = match &expr {
                            ValueExpr::Call(c) => c.constant().map(Template::Const),
                            ValueExpr::Path(_) => None,
                        };
                        fields.push((
                            name.to_owned(),
                            t.unwrap_or(Template::Dynamic {
                                field: k.clone(),
                                expr,
                            }),
                        ));
                        dynamic = true;
                    } else {
                        let t = Template::compile(x).map_err(|(p, e)| (format!("{k}/{p}"), e))?;
                        dynamic |= !matches!(t, Template::Const(_));
                        fields.push((k.clone(), t));
                    }
                }
                if dynamic {
                    Ok(Template::Object(ObjectTemplate::new(fields)))
                } else {
                    Ok(Template::Const(v.clone()))
                }
            }
            Value::Array(a) => {
                let mut items = Vec::with_capacity(a.len());
                let mut dynamic = false;
                for (i, x) in a.iter().enumerate() {
                    let t = Template::compile(x).map_err(|(p, e)| (format!("{i}/{p}"), e))?;
                    dynamic |= !matches!(t, Template::Const(_));
                    items.push(t);
                }
                if dynamic {
                    Ok(Template::Array(items))
                } else {
                    Ok(Template::Const(v.clone()))
                }
            }
            other => Ok(Template::Const(other.clone())),
        }
    }

    pub(crate) fn eval(&self, scope: &Scope<'_>) -> Result<Value, String> {
        match self {
            Template::Const(v) => Ok(v.clone()),
            Template::Object(o) => o.eval(scope),
            Template::Array(items) => items
                .iter()
                .map(|t| t.eval(scope))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            Template::Dynamic { field, expr } => match expr.eval(scope)? {
                Some(v) => Ok(v),
                None => {
                    let path = expr.source().unwrap_or_default();
                    Err(format!(
                        "The JSONPath '{path}' specified for the field '{field}' could not be found in the input '{}'",
                        scope.input()
                    ))
                }
            },
        }
    }
}

#[cfg(test)]
mod template_tests {
    use super::*;
    use crate::rng::Rng;
    use serde_json::json;

    fn eval(template: Value, input: Value) -> Value {
        let t = Template::compile(&template).unwrap();
        let ctx = ContextView::detached();
        let mut rng = Rng::new(1);
        t.eval(&Scope::new(&input, &ctx, &mut rng)).unwrap()
    }

    #[test]
    fn an_object_template_keeps_the_definition_order_of_its_keys() {
        let out = eval(
            json!({"z": 1, "m.$": "$.x", "a": {"b.$": "$.y"}, "k.$": "States.MathAdd($.x, 1)"}),
            json!({"x": 2, "y": "why"}),
        );
        assert_eq!(out, json!({"z": 1, "m": 2, "a": {"b": "why"}, "k": 3}));
        let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["z", "m", "a", "k"]);
        // The result is an ordinary map: lookups by key work.
        assert_eq!(out["k"], json!(3));
        assert_eq!(out.get("m"), Some(&json!(2)));
    }

    #[test]
    fn a_dynamic_field_named_like_a_static_one_overwrites_it_in_place() {
        let out = eval(
            json!({"a": 1, "b": 2, "a.$": "$.x"}),
            json!({"x": "from input"}),
        );
        assert_eq!(out, json!({"a": "from input", "b": 2}));
        let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["a", "b"]);
    }

    #[test]
    fn a_call_on_literals_is_computed_once_and_one_that_reads_anything_else_each_time() {
        let folded = |src: &str| match Template::compile(&json!({"v.$": src})).unwrap() {
            Template::Object(o) => matches!(o.fields[0].1, Template::Const(_)),
            _ => unreachable!(),
        };
        assert!(folded("States.Base64Decode('bGF0dGU=')"));
        assert!(folded("States.ArrayLength(States.ArrayRange(1, 10, 3))"));
        assert!(!folded("States.Format('{}', $.x)"));
        assert!(!folded("States.Format('{}', $$.Execution.Id)"));
        assert!(!folded("States.UUID()"));
        assert!(!folded("States.MathRandom(1, 10)"));
        assert!(!folded("States.ArrayLength(States.Array(States.UUID()))"));
        // A failing call is left to fail at run time.
        assert!(!folded("States.ArrayRange(1, 5000, 1)"));
        assert_eq!(
            eval(json!({"v.$": "States.ArrayRange(1, 10, 3)"}), json!({})),
            json!({"v": [1, 4, 7, 10]})
        );
    }
}
