//! The evaluator: parameters, conditions, pseudo parameters and the intrinsic functions, over a
//! template already in long form (see `yaml`).
//!
//! Resource references resolve lazily: the first `Ref` to a resource computes its local names
//! (which may themselves refer to parameters or other resources), and a cycle is an error.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

use crate::Options;
use crate::error::{TemplateError, Warning};
use crate::names::{self, Names};

type Result<T> = std::result::Result<T, TemplateError>;

/// The intrinsic functions presso evaluates.
pub const SUPPORTED_FUNCTIONS: &[&str] = &[
    "Ref",
    "Fn::GetAtt",
    "Fn::Sub",
    "Fn::Join",
    "Fn::If",
    "Fn::Select",
    "Fn::Split",
    "Fn::FindInMap",
    "Fn::Equals",
    "Fn::Not",
    "Fn::And",
    "Fn::Or",
];

enum Slot {
    InProgress,
    Done(Names),
}

/// Everything evaluation needs, shared by the model builders.
pub(crate) struct Cx<'a> {
    pub opts: &'a Options,
    pub resources: &'a Map<String, Value>,
    mappings: Option<&'a Map<String, Value>>,
    conditions_src: Option<&'a Map<String, Value>>,
    pub params: BTreeMap<String, Value>,
    /// `Globals.HttpApi`, for SAM's implicit API.
    pub globals_http_api: Option<Value>,
    conditions: RefCell<HashMap<String, Option<bool>>>,
    names: RefCell<HashMap<String, Slot>>,
    pub warnings: RefCell<Vec<Warning>>,
}

impl<'a> Cx<'a> {
    pub fn new(
        template: &'a Map<String, Value>,
        resources: &'a Map<String, Value>,
        opts: &'a Options,
    ) -> Result<Self> {
        let params = resolve_parameters(template.get("Parameters"), &opts.parameter_overrides)?;
        Ok(Cx {
            opts,
            resources,
            mappings: template.get("Mappings").and_then(Value::as_object),
            conditions_src: template.get("Conditions").and_then(Value::as_object),
            params,
            globals_http_api: template
                .get("Globals")
                .and_then(|g| g.get("HttpApi"))
                .cloned(),
            conditions: RefCell::new(HashMap::new()),
            names: RefCell::new(HashMap::new()),
            warnings: RefCell::new(Vec::new()),
        })
    }

    pub fn warn(&self, path: &str, message: impl Into<String>) {
        self.warnings.borrow_mut().push(Warning {
            path: path.to_string(),
            message: message.into(),
        });
    }

    /// Whether a named condition holds.
    pub fn condition(&self, name: &str, path: &str) -> Result<bool> {
        if let Some(state) = self.conditions.borrow().get(name) {
            return state.ok_or_else(|| {
                TemplateError::invalid(path, format!("condition {name} depends on itself"))
            });
        }
        let expr = self
            .conditions_src
            .and_then(|c| c.get(name))
            .ok_or_else(|| TemplateError::invalid(path, format!("no condition named {name}")))?;
        self.conditions.borrow_mut().insert(name.to_string(), None);
        let cpath = format!("Conditions.{name}");
        let value = self.truth(expr, &cpath)?;
        self.conditions
            .borrow_mut()
            .insert(name.to_string(), Some(value));
        Ok(value)
    }

    /// A condition expression (`Fn::Equals`, `Fn::Not`, `Fn::And`, `Fn::Or`, `Condition`).
    fn truth(&self, expr: &Value, path: &str) -> Result<bool> {
        if let Some(name) = single(expr, "Condition") {
            let name = name
                .as_str()
                .ok_or_else(|| TemplateError::invalid(path, "Condition takes a condition name"))?;
            return self.condition(name, path);
        }
        match self.eval(expr, path)? {
            Some(Value::Bool(b)) => Ok(b),
            Some(Value::String(s)) if s == "true" || s == "false" => Ok(s == "true"),
            _ => Err(TemplateError::invalid(
                path,
                "expected a condition (Fn::Equals, Fn::Not, Fn::And, Fn::Or or Condition)",
            )),
        }
    }

    /// The local names of a resource (`Ref` and `Fn::GetAtt` values).
    pub fn names_of(&self, logical: &str, path: &str) -> Result<Names> {
        match self.names.borrow().get(logical) {
            Some(Slot::Done(n)) => return Ok(n.clone()),
            Some(Slot::InProgress) => {
                return Err(TemplateError::invalid(
                    path,
                    format!("the name of {logical} depends on itself"),
                ));
            }
            None => {}
        }
        let resource = self.resources.get(logical).ok_or_else(|| {
            TemplateError::invalid(
                path,
                format!("refers to {logical}, which is neither a parameter nor a resource"),
            )
        })?;
        if let Some(cond) = resource.get("Condition").and_then(Value::as_str)
            && !self.condition(cond, &format!("Resources.{logical}.Condition"))?
        {
            return Err(TemplateError::invalid(
                path,
                format!("refers to {logical}, which condition {cond} leaves out"),
            ));
        }
        self.names
            .borrow_mut()
            .insert(logical.to_string(), Slot::InProgress);
        let result = names::compute(self, logical, resource);
        match &result {
            Ok(n) => {
                self.names
                    .borrow_mut()
                    .insert(logical.to_string(), Slot::Done(n.clone()));
            }
            Err(_) => {
                self.names.borrow_mut().remove(logical);
            }
        }
        result
    }

    fn pseudo(&self, name: &str) -> Option<Option<Value>> {
        let o = self.opts;
        Some(Some(Value::String(match name {
            "AWS::Region" => o.region.clone(),
            "AWS::AccountId" => o.account_id.clone(),
            "AWS::StackName" => o.stack_name.clone(),
            "AWS::StackId" => format!(
                "arn:aws:cloudformation:{}:{}:stack/{}/00000000-0000-0000-0000-000000000000",
                o.region, o.account_id, o.stack_name
            ),
            "AWS::Partition" => "aws".to_string(),
            "AWS::URLSuffix" => "amazonaws.com".to_string(),
            "AWS::NotificationARNs" => return Some(Some(Value::Array(Vec::new()))),
            "AWS::NoValue" => return Some(None),
            _ => return None,
        })))
    }

    /// `Ref` of a name: a pseudo parameter, a parameter or a resource.
    pub fn reference(&self, name: &str, path: &str) -> Result<Option<Value>> {
        if let Some(v) = self.pseudo(name) {
            return Ok(v);
        }
        if let Some(v) = self.params.get(name) {
            return Ok(Some(v.clone()));
        }
        if name.starts_with("AWS::") {
            return Err(TemplateError::unsupported(
                path,
                format!("the pseudo parameter {name}"),
            ));
        }
        let names = self.names_of(name, path)?;
        if names.placeholder {
            self.warn(
                path,
                format!("{name} is a resource presso does not create; its Ref stays a placeholder"),
            );
        }
        Ok(Some(names.reference))
    }

    fn get_att(&self, logical: &str, attr: &str, path: &str) -> Result<Value> {
        let names = self.names_of(logical, path)?;
        if names.placeholder {
            self.warn(
                path,
                format!("{logical}.{attr} belongs to a resource presso does not create; it stays a placeholder"),
            );
            return Ok(Value::String(format!("{logical}.{attr}")));
        }
        names.attributes.get(attr).cloned().ok_or_else(|| {
            TemplateError::invalid(
                path,
                format!("{logical} has no attribute {attr} presso knows"),
            )
        })
    }

    /// Evaluates every intrinsic in `v`. `None` is `AWS::NoValue`: the caller drops the member.
    pub fn eval(&self, v: &Value, path: &str) -> Result<Option<Value>> {
        match v {
            Value::Object(map) => {
                if map.len() == 1 {
                    let (key, arg) = map.iter().next().expect("one entry");
                    if key == "Ref" || key.starts_with("Fn::") {
                        return self.intrinsic(key, arg, path);
                    }
                }
                let mut out = Map::new();
                for (k, child) in map {
                    if let Some(value) = self.eval(child, &format!("{path}.{k}"))? {
                        out.insert(k.clone(), value);
                    }
                }
                Ok(Some(Value::Object(out)))
            }
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, child) in items.iter().enumerate() {
                    if let Some(value) = self.eval(child, &format!("{path}[{i}]"))? {
                        out.push(value);
                    }
                }
                Ok(Some(Value::Array(out)))
            }
            other => Ok(Some(other.clone())),
        }
    }

    /// Evaluates `v`, which must not be `AWS::NoValue`.
    pub fn eval_some(&self, v: &Value, path: &str) -> Result<Value> {
        self.eval(v, path)?
            .ok_or_else(|| TemplateError::invalid(path, "AWS::NoValue cannot be used here"))
    }

    fn intrinsic(&self, key: &str, arg: &Value, path: &str) -> Result<Option<Value>> {
        let here = format!("{path}.{key}");
        let args = |n: usize| -> Result<&Vec<Value>> {
            match arg {
                Value::Array(a) if a.len() == n => Ok(a),
                _ => Err(TemplateError::invalid(
                    path,
                    format!("{key} takes a list of {n} arguments"),
                )),
            }
        };
        match key {
            "Ref" => {
                let name = arg
                    .as_str()
                    .ok_or_else(|| TemplateError::invalid(path, "Ref takes a name"))?;
                self.reference(name, path)
            }
            "Fn::GetAtt" => {
                let a = args(2)?;
                let logical = a[0].as_str().ok_or_else(|| {
                    TemplateError::invalid(path, "Fn::GetAtt takes a resource name")
                })?;
                let attr = self.eval_some(&a[1], &here)?;
                let attr = attr.as_str().ok_or_else(|| {
                    TemplateError::invalid(path, "Fn::GetAtt takes an attribute name")
                })?;
                self.get_att(logical, attr, path).map(Some)
            }
            "Fn::Sub" => {
                let (text, vars) = match arg {
                    Value::String(s) => (s.as_str(), None),
                    Value::Array(a) if a.len() == 2 => (
                        a[0].as_str().ok_or_else(|| {
                            TemplateError::invalid(path, "Fn::Sub takes a string first")
                        })?,
                        Some(a[1].as_object().ok_or_else(|| {
                            TemplateError::invalid(path, "Fn::Sub takes a map of variables second")
                        })?),
                    ),
                    _ => {
                        return Err(TemplateError::invalid(
                            path,
                            "Fn::Sub takes a string or [string, {variables}]",
                        ));
                    }
                };
                self.sub(text, vars, &here).map(|s| Some(Value::String(s)))
            }
            "Fn::Join" => {
                let a = args(2)?;
                let delim = a[0]
                    .as_str()
                    .ok_or_else(|| TemplateError::invalid(path, "Fn::Join takes a delimiter"))?;
                let list = self.eval_some(&a[1], &here)?;
                let Value::Array(items) = list else {
                    return Err(TemplateError::invalid(
                        path,
                        "Fn::Join takes a list to join",
                    ));
                };
                let parts = items
                    .iter()
                    .map(|v| scalar_string(v, path, key))
                    .collect::<Result<Vec<_>>>()?;
                Ok(Some(Value::String(parts.join(delim))))
            }
            "Fn::If" => {
                let a = args(3)?;
                let cond = a[0]
                    .as_str()
                    .ok_or_else(|| TemplateError::invalid(path, "Fn::If takes a condition name"))?;
                let chosen = if self.condition(cond, &here)? {
                    &a[1]
                } else {
                    &a[2]
                };
                self.eval(chosen, &here)
            }
            "Fn::Select" => {
                let a = args(2)?;
                let index = match self.eval_some(&a[0], &here)? {
                    Value::Number(n) => n.as_u64(),
                    Value::String(s) => s.parse().ok(),
                    _ => None,
                }
                .ok_or_else(|| TemplateError::invalid(path, "Fn::Select takes an index"))?;
                let Value::Array(items) = self.eval_some(&a[1], &here)? else {
                    return Err(TemplateError::invalid(path, "Fn::Select takes a list"));
                };
                let i = usize::try_from(index).unwrap_or(usize::MAX);
                items.get(i).cloned().map(Some).ok_or_else(|| {
                    TemplateError::invalid(
                        path,
                        format!(
                            "Fn::Select index {index} is out of range ({} items)",
                            items.len()
                        ),
                    )
                })
            }
            "Fn::Split" => {
                let a = args(2)?;
                let delim = a[0]
                    .as_str()
                    .ok_or_else(|| TemplateError::invalid(path, "Fn::Split takes a delimiter"))?;
                let text = scalar_string(&self.eval_some(&a[1], &here)?, path, key)?;
                Ok(Some(Value::Array(
                    text.split(delim)
                        .map(|s| Value::String(s.to_string()))
                        .collect(),
                )))
            }
            "Fn::FindInMap" => {
                let a = args(3)?;
                let keys = a
                    .iter()
                    .map(|k| scalar_string(&self.eval_some(k, &here)?, path, key))
                    .collect::<Result<Vec<_>>>()?;
                self.mappings
                    .and_then(|m| m.get(&keys[0]))
                    .and_then(|m| m.get(&keys[1]))
                    .and_then(|m| m.get(&keys[2]))
                    .cloned()
                    .map(Some)
                    .ok_or_else(|| {
                        TemplateError::invalid(
                            path,
                            format!("Mappings has no {}.{}.{}", keys[0], keys[1], keys[2]),
                        )
                    })
            }
            "Fn::Equals" => {
                let a = args(2)?;
                let l = self.eval(&a[0], &here)?;
                let r = self.eval(&a[1], &here)?;
                // CloudFormation compares as strings: `!Equals [!Ref Count, 1]` holds for "1".
                let as_text = |v: &Option<Value>| match v {
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(Value::Number(n)) => Some(n.to_string()),
                    Some(Value::Bool(b)) => Some(b.to_string()),
                    _ => None,
                };
                let equal = match (as_text(&l), as_text(&r)) {
                    (Some(a), Some(b)) => a == b,
                    _ => l == r,
                };
                Ok(Some(Value::Bool(equal)))
            }
            "Fn::Not" => {
                let a = args(1)?;
                Ok(Some(Value::Bool(!self.truth(&a[0], &here)?)))
            }
            "Fn::And" | "Fn::Or" => {
                let a = match arg {
                    Value::Array(a) if (2..=10).contains(&a.len()) => a,
                    _ => {
                        return Err(TemplateError::invalid(
                            path,
                            format!("{key} takes a list of 2 to 10 conditions"),
                        ));
                    }
                };
                let mut values = Vec::with_capacity(a.len());
                for (i, c) in a.iter().enumerate() {
                    values.push(self.truth(c, &format!("{here}[{i}]"))?);
                }
                let result = if key == "Fn::And" {
                    values.iter().all(|b| *b)
                } else {
                    values.iter().any(|b| *b)
                };
                Ok(Some(Value::Bool(result)))
            }
            other => Err(TemplateError::unsupported(path, other)),
        }
    }

    fn sub(&self, text: &str, vars: Option<&Map<String, Value>>, path: &str) -> Result<String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| TemplateError::invalid(path, format!("unclosed ${{ in {text:?}")))?;
            let var = &after[..end];
            rest = &after[end + 1..];
            if let Some(literal) = var.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
                continue;
            }
            let var = var.trim();
            let value = if let Some(v) = vars.and_then(|m| m.get(var)) {
                self.eval_some(v, &format!("{path}.{var}"))?
            } else if self.pseudo(var).is_some()
                || self.params.contains_key(var)
                || !var.contains('.')
            {
                self.reference(var, path)?.ok_or_else(|| {
                    TemplateError::invalid(path, "AWS::NoValue cannot be substituted")
                })?
            } else {
                let (logical, attr) = var.split_once('.').expect("has a dot");
                self.get_att(logical, attr, path)?
            };
            out.push_str(&scalar_string(&value, path, "Fn::Sub")?);
        }
        out.push_str(rest);
        Ok(out)
    }
}

fn single<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    match v {
        Value::Object(m) if m.len() == 1 => m.get(key),
        _ => None,
    }
}

pub(crate) fn scalar_string(v: &Value, path: &str, func: &str) -> Result<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(TemplateError::invalid(
            path,
            format!("{func} needs a string here, not {other}"),
        )),
    }
}

/// Parameter values: overrides, else defaults, checked against `AllowedValues`.
fn resolve_parameters(
    declared: Option<&Value>,
    overrides: &[(String, String)],
) -> Result<BTreeMap<String, Value>> {
    let empty = Map::new();
    let declared = declared.and_then(Value::as_object).unwrap_or(&empty);
    for (key, _) in overrides {
        if !declared.contains_key(key) {
            return Err(TemplateError::invalid(
                "Parameters",
                format!("the override {key}=... names no parameter of the template"),
            ));
        }
    }
    let mut out = BTreeMap::new();
    for (name, decl) in declared {
        let path = format!("Parameters.{name}");
        let given = overrides
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone());
        let default = match decl.get("Default") {
            None => None,
            Some(v) => Some(scalar_string(v, &path, "Default")?),
        };
        let value = given.or(default).ok_or_else(|| {
            TemplateError::invalid(
                &path,
                "no value given (it has no Default; pass --parameter-overrides {name}=...)"
                    .replace("{name}", name),
            )
        })?;
        let ty = decl.get("Type").and_then(Value::as_str).unwrap_or("String");
        let is_list = ty == "CommaDelimitedList" || ty.starts_with("List<");
        let items: Vec<String> = if is_list {
            value.split(',').map(|s| s.trim().to_string()).collect()
        } else {
            vec![value.clone()]
        };
        if let Some(Value::Array(allowed)) = decl.get("AllowedValues") {
            let allowed: Vec<String> = allowed
                .iter()
                .filter_map(|v| scalar_string(v, &path, "AllowedValues").ok())
                .collect();
            if let Some(bad) = items.iter().find(|i| !allowed.contains(i)) {
                return Err(TemplateError::invalid(
                    &path,
                    format!("{bad:?} is not one of the AllowedValues {allowed:?}"),
                ));
            }
        }
        if ty == "Number" && value.parse::<f64>().is_err() {
            return Err(TemplateError::invalid(
                &path,
                format!("{value:?} is not a Number"),
            ));
        }
        out.insert(
            name.clone(),
            if is_list {
                Value::Array(items.into_iter().map(Value::String).collect())
            } else {
                Value::String(value)
            },
        );
    }
    Ok(out)
}
