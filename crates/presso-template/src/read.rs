//! From the evaluated template to the typed [`Stack`]: one builder per resource type presso
//! creates. Each builder evaluates only the properties presso uses, so an unsupported construct
//! elsewhere (an IAM policy, say) does not stop a local start.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value, json};

use crate::error::TemplateError;
use crate::eval::{Cx, scalar_string};
use crate::model::*;

type Result<T> = std::result::Result<T, TemplateError>;

/// SAM's logical id for the implicit HTTP API.
pub const IMPLICIT_HTTP_API: &str = "ServerlessHttpApi";

/// Merges `Globals.<section>` under every resource of `ty` (the resource's own values win;
/// maps merge key by key, as SAM does for `Environment.Variables`).
pub(crate) fn apply_globals(
    template: &Map<String, Value>,
    resources: &mut Map<String, Value>,
    warnings: &mut Vec<crate::Warning>,
) {
    let Some(globals) = template.get("Globals").and_then(Value::as_object) else {
        return;
    };
    for (section, defaults) in globals {
        let ty = match section.as_str() {
            "Function" => "AWS::Serverless::Function",
            "HttpApi" => "AWS::Serverless::HttpApi",
            "StateMachine" => "AWS::Serverless::StateMachine",
            "SimpleTable" => "AWS::Serverless::SimpleTable",
            other => {
                warnings.push(crate::Warning {
                    path: format!("Globals.{other}"),
                    message: "presso does not use this section; ignored".into(),
                });
                continue;
            }
        };
        for resource in resources.values_mut() {
            if resource.get("Type").and_then(Value::as_str) == Some(ty) {
                let props = resource
                    .as_object_mut()
                    .map(|r| r.entry("Properties").or_insert_with(|| json!({})));
                if let Some(props) = props {
                    merge_under(props, defaults);
                }
            }
        }
    }
}

fn merge_under(target: &mut Value, defaults: &Value) {
    // A resource's own scalar or list replaces the global one; only maps merge.
    if let (Value::Object(t), Value::Object(d)) = (target, defaults) {
        for (k, dv) in d {
            match t.get_mut(k) {
                Some(tv) => merge_under(tv, dv),
                None => {
                    t.insert(k.clone(), dv.clone());
                }
            }
        }
    }
}

const SUPPORTED_TYPES: &[&str] = &[
    "AWS::DynamoDB::Table",
    "AWS::Serverless::SimpleTable",
    "AWS::Events::EventBus",
    "AWS::Events::Rule",
    "AWS::Serverless::StateMachine",
    "AWS::StepFunctions::StateMachine",
    "AWS::Serverless::Function",
    "AWS::Serverless::HttpApi",
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::Cognito::UserPoolGroup",
    "AWS::Cognito::UserPoolUser",
    "AWS::Cognito::UserPoolUserToGroupAttachment",
];

struct Props<'c, 'a> {
    cx: &'c Cx<'a>,
    map: &'a Map<String, Value>,
    path: String,
}

impl Props<'_, '_> {
    fn get(&self, key: &str) -> Result<Option<Value>> {
        match self.map.get(key) {
            None => Ok(None),
            Some(v) => self.cx.eval(v, &format!("{}.{key}", self.path)),
        }
    }
    fn string(&self, key: &str) -> Result<Option<String>> {
        let path = format!("{}.{key}", self.path);
        self.get(key)?
            .map(|v| scalar_string(&v, &path, key))
            .transpose()
    }
    fn required(&self, key: &str) -> Result<String> {
        self.string(key)?
            .ok_or_else(|| TemplateError::invalid(&self.path, format!("{key} is required")))
    }
}

pub(crate) fn build(cx: &Cx<'_>, template_dir: &Path) -> Result<Stack> {
    let o = cx.opts;
    let mut stack = Stack {
        template_dir: template_dir.to_path_buf(),
        region: o.region.clone(),
        account_id: o.account_id.clone(),
        stack_name: o.stack_name.clone(),
        parameters: cx.params.clone(),
        ..Stack::default()
    };
    let empty = Map::new();
    let mut implicit_api_needed = false;
    for (logical, resource) in cx.resources {
        let rpath = format!("Resources.{logical}");
        let ty = resource.get("Type").and_then(Value::as_str).unwrap_or("");
        if !SUPPORTED_TYPES.contains(&ty) {
            cx.warn(
                &rpath,
                format!("type {ty:?} is not one presso creates locally; skipped"),
            );
            continue;
        }
        if let Some(cond) = resource.get("Condition").and_then(Value::as_str)
            && !cx.condition(cond, &format!("{rpath}.Condition"))?
        {
            continue;
        }
        let names = cx.names_of(logical, &rpath)?;
        let reference = names.reference.as_str().unwrap_or_default().to_string();
        let attr = |k: &str| {
            names
                .attributes
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let p = Props {
            cx,
            map: resource
                .get("Properties")
                .and_then(Value::as_object)
                .unwrap_or(&empty),
            path: format!("{rpath}.Properties"),
        };
        let logical_id = logical.clone();
        match ty {
            "AWS::DynamoDB::Table" => {
                stack
                    .tables
                    .push(table(&p, logical_id, reference, attr("Arn"))?)
            }
            "AWS::Serverless::SimpleTable" => {
                stack
                    .tables
                    .push(simple_table(&p, logical_id, reference, attr("Arn"))?)
            }
            "AWS::Events::EventBus" => stack.event_buses.push(EventBus {
                logical_id,
                name: reference,
                arn: attr("Arn"),
            }),
            "AWS::Events::Rule" => stack
                .rules
                .push(rule(&p, logical_id, reference, attr("Arn"))?),
            "AWS::Serverless::StateMachine" | "AWS::StepFunctions::StateMachine" => {
                let sm = state_machine(&p, ty, logical_id, attr("Name"), reference, template_dir)?;
                if ty == "AWS::Serverless::StateMachine" {
                    stack.rules.extend(event_rules(
                        &p,
                        &sm.logical_id,
                        &sm.arn,
                        "StepFunctionsTarget",
                    )?);
                }
                stack.state_machines.push(sm);
            }
            "AWS::Serverless::Function" => {
                let f = function(&p, logical_id, reference, attr("Arn"))?;
                implicit_api_needed |= f
                    .http_routes
                    .iter()
                    .any(|r| r.api_logical_id == IMPLICIT_HTTP_API);
                stack
                    .rules
                    .extend(event_rules(&p, &f.logical_id, &f.arn, "LambdaTarget")?);
                stack.functions.push(f);
            }
            "AWS::Serverless::HttpApi" => {
                stack.http_apis.push(http_api(&p, logical_id, reference)?)
            }
            "AWS::Cognito::UserPool" => {
                let mut properties = p.get_all()?;
                let name = properties
                    .as_object_mut()
                    .and_then(|m| m.remove("UserPoolName"))
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_else(|| format!("{}-{logical}", o.stack_name));
                stack.user_pools.push(UserPool {
                    logical_id,
                    id: reference,
                    name,
                    properties,
                });
            }
            "AWS::Cognito::UserPoolClient" => {
                let mut properties = p.get_all()?;
                let user_pool_id = p.required("UserPoolId")?;
                let name = attr("Name");
                if let Some(m) = properties.as_object_mut() {
                    m.remove("UserPoolId");
                    m.remove("ClientName");
                }
                stack.user_pool_clients.push(UserPoolClient {
                    logical_id,
                    id: reference,
                    user_pool_id,
                    name,
                    properties,
                });
            }
            "AWS::Cognito::UserPoolGroup" => stack.user_pool_groups.push(UserPoolGroup {
                logical_id,
                user_pool_id: p.required("UserPoolId")?,
                name: reference,
                description: p.string("Description")?,
                precedence: p
                    .string("Precedence")?
                    .map(|s| {
                        s.parse().map_err(|_| {
                            TemplateError::invalid(
                                &p.path,
                                format!("Precedence {s:?} is not a number"),
                            )
                        })
                    })
                    .transpose()?,
            }),
            "AWS::Cognito::UserPoolUser" => {
                let mut attributes = Vec::new();
                if let Some(Value::Array(items)) = p.get("UserAttributes")? {
                    for item in items {
                        let name = item.get("Name").and_then(Value::as_str);
                        let value = item.get("Value").and_then(Value::as_str);
                        if let (Some(n), Some(v)) = (name, value) {
                            attributes.push((n.to_string(), v.to_string()));
                        }
                    }
                }
                stack.user_pool_users.push(UserPoolUser {
                    logical_id,
                    user_pool_id: p.required("UserPoolId")?,
                    username: reference,
                    attributes,
                });
            }
            "AWS::Cognito::UserPoolUserToGroupAttachment" => {
                stack.user_to_group.push(UserToGroup {
                    logical_id,
                    user_pool_id: p.required("UserPoolId")?,
                    username: p.required("Username")?,
                    group_name: p.required("GroupName")?,
                })
            }
            _ => unreachable!("filtered by SUPPORTED_TYPES"),
        }
    }
    if implicit_api_needed
        && !stack
            .http_apis
            .iter()
            .any(|a| a.logical_id == IMPLICIT_HTTP_API)
    {
        let defaults = cx.globals_http_api.clone().unwrap_or_else(|| json!({}));
        let map = defaults.as_object().cloned().unwrap_or_default();
        let p = Props {
            cx,
            map: &map,
            path: "Globals.HttpApi".to_string(),
        };
        let id = crate::names::api_id(&o.stack_name, IMPLICIT_HTTP_API);
        stack
            .http_apis
            .push(http_api(&p, IMPLICIT_HTTP_API.to_string(), id)?);
    }
    resolve_route_authorizers(&mut stack);
    for f in &stack.functions {
        for r in &f.http_routes {
            let api = stack
                .http_apis
                .iter()
                .find(|a| a.logical_id == r.api_logical_id)
                .ok_or_else(|| {
                    TemplateError::invalid(
                        &format!(
                            "Resources.{}.Properties.Events.{}.Properties.ApiId",
                            f.logical_id, r.event_name
                        ),
                        format!(
                            "refers to {}, which is not an AWS::Serverless::HttpApi",
                            r.api_logical_id
                        ),
                    )
                })?;
            if let Some(a) = &r.authorizer
                && !api.authorizers.contains_key(a)
            {
                return Err(TemplateError::invalid(
                    &format!(
                        "Resources.{}.Properties.Events.{}.Properties.Auth.Authorizer",
                        f.logical_id, r.event_name
                    ),
                    format!("{} declares no authorizer named {a}", api.logical_id),
                ));
            }
        }
    }
    stack.warnings = cx.warnings.borrow().clone();
    Ok(stack)
}

impl Props<'_, '_> {
    fn get_all(&self) -> Result<Value> {
        Ok(self
            .cx
            .eval(&Value::Object(self.map.clone()), &self.path)?
            .unwrap_or_else(|| json!({})))
    }
}

fn table(p: &Props<'_, '_>, logical_id: String, name: String, arn: String) -> Result<Table> {
    // Every property is evaluated (a table is all used), but only those the API shares are sent.
    let all = p.get_all()?;
    let mut request = Map::new();
    request.insert("TableName".into(), json!(name));
    for key in [
        "AttributeDefinitions",
        "KeySchema",
        "BillingMode",
        "ProvisionedThroughput",
        "GlobalSecondaryIndexes",
        "LocalSecondaryIndexes",
        "Tags",
        "TableClass",
    ] {
        if let Some(v) = all.get(key) {
            request.insert(key.into(), v.clone());
        }
    }
    if !request.contains_key("KeySchema") {
        return Err(TemplateError::invalid(&p.path, "KeySchema is required"));
    }
    Ok(Table {
        logical_id,
        name,
        arn,
        create_request: Value::Object(request),
        time_to_live: all.get("TimeToLiveSpecification").cloned(),
    })
}

fn simple_table(p: &Props<'_, '_>, logical_id: String, name: String, arn: String) -> Result<Table> {
    let key = p.get("PrimaryKey")?.unwrap_or_else(|| json!({}));
    let key_name = key.get("Name").and_then(Value::as_str).unwrap_or("id");
    let key_type = match key.get("Type").and_then(Value::as_str).unwrap_or("String") {
        "String" => "S",
        "Number" => "N",
        "Binary" => "B",
        other => {
            return Err(TemplateError::invalid(
                &format!("{}.PrimaryKey.Type", p.path),
                format!("{other:?} is not String, Number or Binary"),
            ));
        }
    };
    let mut request = json!({
        "TableName": name,
        "AttributeDefinitions": [{"AttributeName": key_name, "AttributeType": key_type}],
        "KeySchema": [{"AttributeName": key_name, "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    });
    if let Some(pt) = p.get("ProvisionedThroughput")? {
        request["BillingMode"] = json!("PROVISIONED");
        request["ProvisionedThroughput"] = pt;
    }
    Ok(Table {
        logical_id,
        name,
        arn,
        create_request: request,
        time_to_live: None,
    })
}

fn bus_name(v: Option<String>) -> String {
    // A bus may be named by name or by ARN (`...:event-bus/<name>`).
    v.map(|b| b.rsplit('/').next().unwrap_or_default().to_string())
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| "default".to_string())
}

fn rule(p: &Props<'_, '_>, logical_id: String, name: String, arn: String) -> Result<Rule> {
    let mut targets = Vec::new();
    if let Some(list) = p.map.get("Targets") {
        let Value::Array(items) = list else {
            return Err(TemplateError::invalid(
                &format!("{}.Targets", p.path),
                "must be a list",
            ));
        };
        for (i, item) in items.iter().enumerate() {
            let tmap = item.as_object().cloned().unwrap_or_default();
            let tp = Props {
                cx: p.cx,
                map: &tmap,
                path: format!("{}.Targets[{i}]", p.path),
            };
            targets.push(Target {
                id: tp.required("Id")?,
                arn: tp.required("Arn")?,
                input: tp.string("Input")?,
                input_path: tp.string("InputPath")?,
                input_transformer: tp.get("InputTransformer")?,
            });
        }
    }
    Ok(Rule {
        logical_id,
        name,
        arn,
        event_bus_name: bus_name(p.string("EventBusName")?),
        event_pattern: p.get("EventPattern")?,
        schedule_expression: p.string("ScheduleExpression")?,
        state: p.string("State")?.unwrap_or_else(|| "ENABLED".into()),
        targets,
    })
}

/// The rules SAM makes from `EventBridgeRule` and `Schedule` events.
fn event_rules(
    p: &Props<'_, '_>,
    owner: &str,
    target_arn: &str,
    target_suffix: &str,
) -> Result<Vec<Rule>> {
    let mut rules = Vec::new();
    let Some(Value::Object(events)) = p.map.get("Events") else {
        return Ok(rules);
    };
    let cx = p.cx;
    let o = cx.opts;
    for (event_name, event) in events {
        let epath = format!("{}.Events.{event_name}", p.path);
        let ty = event.get("Type").and_then(Value::as_str).unwrap_or("");
        if !matches!(ty, "EventBridgeRule" | "Schedule") {
            if ty != "HttpApi" || target_suffix != "LambdaTarget" {
                cx.warn(
                    &epath,
                    format!("event type {ty:?} is not one presso wires locally; skipped"),
                );
            }
            continue;
        }
        let emap = event
            .get("Properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let ep = Props {
            cx,
            map: &emap,
            path: format!("{epath}.Properties"),
        };
        let logical_id = format!("{owner}{event_name}");
        let name = ep
            .string("RuleName")?
            .or(ep.string("Name")?)
            .unwrap_or_else(|| format!("{}-{logical_id}", o.stack_name));
        let bus = bus_name(ep.string("EventBusName")?);
        let arn = if bus == "default" {
            format!("arn:aws:events:{}:{}:rule/{name}", o.region, o.account_id)
        } else {
            format!(
                "arn:aws:events:{}:{}:rule/{bus}/{name}",
                o.region, o.account_id
            )
        };
        let target_id = match ep.get("Target")? {
            Some(t) => t.get("Id").and_then(Value::as_str).map(str::to_string),
            None => None,
        }
        .unwrap_or_else(|| format!("{logical_id}{target_suffix}"));
        let enabled = match ep.get("Enabled")? {
            Some(Value::Bool(false)) => false,
            Some(Value::String(s)) if s == "false" => false,
            _ => true,
        };
        rules.push(Rule {
            logical_id,
            name,
            arn,
            event_bus_name: bus,
            event_pattern: if ty == "EventBridgeRule" {
                ep.get("Pattern")?
            } else {
                None
            },
            schedule_expression: if ty == "Schedule" {
                ep.string("Schedule")?
            } else {
                None
            },
            state: ep
                .string("State")?
                .unwrap_or_else(|| if enabled { "ENABLED" } else { "DISABLED" }.into()),
            targets: vec![Target {
                id: target_id,
                arn: target_arn.to_string(),
                input: ep.string("Input")?,
                input_path: ep.string("InputPath")?,
                input_transformer: ep.get("InputTransformer")?,
            }],
        });
    }
    Ok(rules)
}

fn state_machine(
    p: &Props<'_, '_>,
    ty: &str,
    logical_id: String,
    name: String,
    arn: String,
    template_dir: &Path,
) -> Result<StateMachine> {
    let serverless = ty == "AWS::Serverless::StateMachine";
    let (uri_key, def_key, subs_key) = if serverless {
        ("DefinitionUri", "Definition", "DefinitionSubstitutions")
    } else {
        (
            "DefinitionS3Location",
            "DefinitionString",
            "DefinitionSubstitutions",
        )
    };
    let mut text = if let Some(uri) = p.get(uri_key)? {
        let Value::String(uri) = uri else {
            return Err(TemplateError::unsupported(
                &format!("{}.{uri_key}", p.path),
                "a definition in S3",
            ));
        };
        let file = template_dir.join(&uri);
        std::fs::read_to_string(&file).map_err(|e| {
            TemplateError::invalid(
                &format!("{}.{uri_key}", p.path),
                format!("cannot read {}: {e}", file.display()),
            )
        })?
    } else if let Some(def) = p.get(def_key)? {
        match def {
            Value::String(s) => s,
            other => other.to_string(),
        }
    } else if let Some(def) = (!serverless)
        .then(|| p.get("Definition"))
        .transpose()?
        .flatten()
    {
        def.to_string()
    } else {
        return Err(TemplateError::invalid(
            &p.path,
            format!("{uri_key} or {def_key} is required"),
        ));
    };
    if let Some(subs) = p.get(subs_key)? {
        let Value::Object(subs) = subs else {
            return Err(TemplateError::invalid(
                &format!("{}.{subs_key}", p.path),
                "must be a map",
            ));
        };
        for (k, v) in subs {
            let v = scalar_string(&v, &format!("{}.{subs_key}.{k}", p.path), subs_key)?;
            text = text.replace(&format!("${{{k}}}"), &v);
        }
    }
    // SAM accepts YAML definition files too; keep what the engine reads JSON.
    let definition = if serde_json::from_str::<Value>(&text).is_ok() {
        text
    } else {
        crate::yaml::parse(&text, &format!("{}.{uri_key}", p.path))?.to_string()
    };
    Ok(StateMachine {
        logical_id,
        name,
        arn,
        kind: p
            .string(if serverless {
                "Type"
            } else {
                "StateMachineType"
            })?
            .unwrap_or_else(|| "STANDARD".into()),
        definition,
    })
}

fn function(p: &Props<'_, '_>, logical_id: String, name: String, arn: String) -> Result<Function> {
    let code_uri = match p.get("CodeUri")? {
        Some(Value::String(s)) => s,
        Some(_) => {
            return Err(TemplateError::unsupported(
                &format!("{}.CodeUri", p.path),
                "code in S3",
            ));
        }
        None => return Err(TemplateError::invalid(&p.path, "CodeUri is required")),
    };
    let crate_name = code_uri
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let mut environment = BTreeMap::new();
    if let Some(env) = p.get("Environment")?
        && let Some(Value::Object(vars)) = env.get("Variables")
    {
        for (k, v) in vars {
            let path = format!("{}.Environment.Variables.{k}", p.path);
            environment.insert(k.clone(), scalar_string(v, &path, "Environment")?);
        }
    }
    let mut http_routes = Vec::new();
    if let Some(Value::Object(events)) = p.map.get("Events") {
        for (event_name, event) in events {
            if event.get("Type").and_then(Value::as_str) != Some("HttpApi") {
                continue;
            }
            let emap = event
                .get("Properties")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            let ep = Props {
                cx: p.cx,
                map: &emap,
                path: format!("{}.Events.{event_name}.Properties", p.path),
            };
            // ApiId names the API by `Ref`; keep the logical id rather than the resolved id.
            let api_logical_id = match emap.get("ApiId") {
                None => IMPLICIT_HTTP_API.to_string(),
                Some(Value::Object(m))
                    if m.len() == 1 && m.get("Ref").is_some_and(Value::is_string) =>
                {
                    m["Ref"].as_str().unwrap_or_default().to_string()
                }
                Some(_) => {
                    return Err(TemplateError::unsupported(
                        &format!("{}.ApiId", ep.path),
                        "an ApiId other than !Ref <HttpApi>",
                    ));
                }
            };
            if let Some(v) = ep.string("PayloadFormatVersion")?
                && v != "2.0"
            {
                return Err(TemplateError::unsupported(
                    &format!("{}.PayloadFormatVersion", ep.path),
                    format!("payload format {v}"),
                ));
            }
            let auth = ep.get("Auth")?;
            let authorizer = auth
                .as_ref()
                .and_then(|a| a.get("Authorizer"))
                .and_then(Value::as_str)
                .map(str::to_string);
            let scopes = auth
                .as_ref()
                .and_then(|a| a.get("AuthorizationScopes"))
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            http_routes.push(HttpRoute {
                event_name: event_name.clone(),
                api_logical_id,
                method: ep
                    .string("Method")?
                    .map(|m| m.to_ascii_uppercase())
                    .unwrap_or_else(|| "ANY".into()),
                path: ep.string("Path")?.unwrap_or_else(|| "$default".into()),
                // Resolved against the API's DefaultAuthorizer below, once the APIs are known.
                authorizer: authorizer.or(Some(DEFAULT_MARK.into())),
                authorization_scopes: scopes,
            });
        }
    }
    let timeout_seconds = p.string("Timeout")?.and_then(|t| t.parse().ok());
    Ok(Function {
        logical_id,
        name,
        arn,
        code_uri,
        crate_name,
        environment,
        timeout_seconds,
        http_routes,
    })
}

/// Marks a route that takes its API's default authorizer.
pub(crate) const DEFAULT_MARK: &str = "\u{0}default";

/// Replaces [`DEFAULT_MARK`] by each API's `DefaultAuthorizer` and `NONE` by no authorizer.
pub(crate) fn resolve_route_authorizers(stack: &mut Stack) {
    let defaults: BTreeMap<String, Option<String>> = stack
        .http_apis
        .iter()
        .map(|a| (a.logical_id.clone(), a.default_authorizer.clone()))
        .collect();
    for f in &mut stack.functions {
        for r in &mut f.http_routes {
            r.authorizer = match r.authorizer.take() {
                Some(a) if a == DEFAULT_MARK => defaults.get(&r.api_logical_id).cloned().flatten(),
                Some(a) if a == "NONE" => None,
                other => other,
            };
        }
    }
}

fn http_api(p: &Props<'_, '_>, logical_id: String, id: String) -> Result<HttpApi> {
    let mut authorizers = BTreeMap::new();
    let mut default_authorizer = None;
    if let Some(auth) = p.get("Auth")? {
        let apath = format!("{}.Auth", p.path);
        if let Some(Value::Object(list)) = auth.get("Authorizers") {
            for (name, a) in list {
                let path = format!("{apath}.Authorizers.{name}");
                let Some(jwt) = a.get("JwtConfiguration") else {
                    return Err(TemplateError::unsupported(
                        &path,
                        "an authorizer other than a JWT authorizer",
                    ));
                };
                let issuer = jwt
                    .get("issuer")
                    .or(jwt.get("Issuer"))
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        TemplateError::invalid(&path, "JwtConfiguration.issuer is required")
                    })?;
                let audience = jwt
                    .get("audience")
                    .or(jwt.get("Audience"))
                    .map(|a| match a {
                        Value::Array(items) => items
                            .iter()
                            .filter_map(Value::as_str)
                            .map(str::to_string)
                            .collect(),
                        Value::String(s) => vec![s.clone()],
                        _ => Vec::new(),
                    })
                    .unwrap_or_default();
                authorizers.insert(
                    name.clone(),
                    JwtAuthorizer {
                        name: name.clone(),
                        issuer: issuer.to_string(),
                        audience,
                        identity_source: a
                            .get("IdentitySource")
                            .and_then(Value::as_str)
                            .unwrap_or("$request.header.Authorization")
                            .to_string(),
                    },
                );
            }
        }
        default_authorizer = auth
            .get("DefaultAuthorizer")
            .and_then(Value::as_str)
            .map(str::to_string);
        if let Some(d) = &default_authorizer
            && !authorizers.contains_key(d)
        {
            return Err(TemplateError::invalid(
                &format!("{apath}.DefaultAuthorizer"),
                format!("no authorizer named {d}"),
            ));
        }
    }
    let cors = match p.get("CorsConfiguration")? {
        None | Some(Value::Bool(false)) => None,
        Some(Value::Bool(true)) => Some(Cors {
            allow_origins: vec!["*".into()],
            allow_methods: vec!["*".into()],
            allow_headers: vec!["*".into()],
            ..Cors::default()
        }),
        Some(Value::Object(c)) => {
            let list = |k: &str| -> Vec<String> {
                c.get(k)
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            Some(Cors {
                allow_origins: list("AllowOrigins"),
                allow_methods: list("AllowMethods"),
                allow_headers: list("AllowHeaders"),
                expose_headers: list("ExposeHeaders"),
                allow_credentials: matches!(c.get("AllowCredentials"), Some(Value::Bool(true)))
                    || c.get("AllowCredentials").and_then(Value::as_str) == Some("true"),
                max_age: c.get("MaxAge").and_then(|v| {
                    v.as_u64()
                        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                }),
            })
        }
        Some(_) => {
            return Err(TemplateError::invalid(
                &format!("{}.CorsConfiguration", p.path),
                "must be true or a map",
            ));
        }
    };
    Ok(HttpApi {
        logical_id,
        id,
        authorizers,
        default_authorizer,
        cors,
    })
}
