//! Service integrations: what a Task state's `Resource` does.
//!
//! - Run here, inside the batch that scheduled them: `aws-sdk:sfn:*` and
//!   `states:startExecution` (plain, `.sync`, `.sync:2`, `.waitForTaskToken`).
//! - Run by the host through [`crate::hooks`], after the batch that scheduled them is
//!   committed: `dynamodb:getItem|putItem|updateItem|deleteItem` (the optimized integration,
//!   whose result carries `SdkHttpMetadata`), `aws-sdk:dynamodb:*`, `events:putEvents`,
//!   `lambda:invoke` and bare Lambda function ARNs.
//!
//! `.waitForTaskToken` on any of them runs the call, and the task then waits for
//! `SendTask*` with the token. Anything else fails the task (`States.Runtime`, naming the
//! resource): nothing silently succeeds.

use crate::engine::{Batch, Core, Work};
use crate::hooks::{Hooks, TaskError};
use presso_asl::{Command, TaskRequest};
use rusqlite::params;
use serde_json::{Map, Value, json};

/// Where a resource runs.
pub(crate) enum Kind {
    Internal,
    External(ExternalKind),
    Unsupported(String),
}

#[derive(Debug, Clone)]
pub(crate) enum ExternalKind {
    /// The optimized integration, by API operation name (`GetItem`).
    DynamoOptimized(String),
    /// `aws-sdk:dynamodb:<action>`, by API operation name.
    DynamoSdk(String),
    PutEvents,
    LambdaInvoke,
    /// A function ARN used directly as the resource: the result is the function's output.
    LambdaBare(String),
}

/// A task for the host, recorded before it runs.
pub(crate) struct External {
    pub(crate) exec: String,
    pub(crate) task_id: u64,
    pub(crate) kind: ExternalKind,
    pub(crate) parameters: Value,
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn decapitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_lowercase().chain(c).collect())
        .unwrap_or_default()
}

/// The SDK integrations speak PascalCase members; the JSON API camelCase.
fn rekey(v: Value, f: fn(&str) -> String) -> Value {
    match v {
        Value::Object(m) => {
            Value::Object(m.into_iter().map(|(k, v)| (f(&k), rekey(v, f))).collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(|v| rekey(v, f)).collect()),
        other => other,
    }
}

fn unsupported(resource: &str) -> Kind {
    Kind::Unsupported(format!(
        "The resource provided {resource} is not recognized by presso's Step Functions (supported: dynamodb:getItem|putItem|updateItem|deleteItem, aws-sdk:dynamodb:*, aws-sdk:sfn:*, states:startExecution, events:putEvents, lambda:invoke)"
    ))
}

/// Sorts a `Resource` ARN into where it runs.
pub(crate) fn classify(resource: &str) -> Kind {
    let parts: Vec<&str> = resource.split(':').collect();
    if parts.len() >= 7 && parts[0] == "arn" && parts[2] == "lambda" && parts[5] == "function" {
        return Kind::External(ExternalKind::LambdaBare(resource.to_string()));
    }
    if parts.len() < 7 || parts[0] != "arn" || parts[2] != "states" {
        return unsupported(resource);
    }
    let service = parts[5];
    let rest = parts[6..].join(":");
    let action = rest
        .split_once('.')
        .map_or(rest.as_str(), |(a, _)| a)
        .to_string();
    match service {
        "dynamodb" => match action.as_str() {
            "getItem" | "putItem" | "updateItem" | "deleteItem" => {
                Kind::External(ExternalKind::DynamoOptimized(capitalize(&action)))
            }
            _ => unsupported(resource),
        },
        "aws-sdk" => match rest.split_once(':') {
            Some(("dynamodb", a)) => {
                let a = a.split_once('.').map_or(a, |(a, _)| a);
                Kind::External(ExternalKind::DynamoSdk(capitalize(a)))
            }
            Some(("sfn", _)) => Kind::Internal,
            _ => unsupported(resource),
        },
        "states" if action == "startExecution" => Kind::Internal,
        "events" if action == "putEvents" => Kind::External(ExternalKind::PutEvents),
        "lambda" if action == "invoke" => Kind::External(ExternalKind::LambdaInvoke),
        _ => unsupported(resource),
    }
}

fn sdk_metadata() -> (Value, Value) {
    (
        json!({
            "AllHttpHeaders": {"Content-Type": ["application/x-amz-json-1.0"]},
            "HttpHeaders": {"Content-Type": "application/x-amz-json-1.0"},
            "HttpStatusCode": 200
        }),
        json!({"RequestId": uuid::Uuid::new_v4().to_string()}),
    )
}

/// The optimized integration names DynamoDB's errors `DynamoDB.<Exception>` (the AWS SDK
/// integration, whose name the hook gives, says `DynamoDb.<Exception>`), so a workflow's
/// `Catch` on `DynamoDB.ConditionalCheckFailedException` matches as it does on AWS.
fn optimized_error(mut e: TaskError) -> TaskError {
    if let Some(rest) = e.error.strip_prefix("DynamoDb.") {
        e.error = format!("DynamoDB.{rest}");
    }
    e
}

/// Runs a host task to its result.
pub(crate) async fn run_external(hooks: &Hooks, task: &External) -> Result<Value, TaskError> {
    match &task.kind {
        ExternalKind::DynamoOptimized(op) | ExternalKind::DynamoSdk(op) => {
            let db = hooks.dynamodb.clone();
            let (op2, params) = (op.clone(), task.parameters.clone());
            let optimized = matches!(task.kind, ExternalKind::DynamoOptimized(_));
            let out = tokio::task::spawn_blocking(move || db.call(&op2, &params))
                .await
                .map_err(|e| {
                    TaskError::new("States.Runtime", format!("the DynamoDB call panicked: {e}"))
                })?
                .map_err(|e| if optimized { optimized_error(e) } else { e })?;
            if matches!(task.kind, ExternalKind::DynamoOptimized(_)) {
                let mut out = match out {
                    Value::Object(m) => m,
                    _ => Map::new(),
                };
                let (http, resp) = sdk_metadata();
                out.insert("SdkHttpMetadata".into(), http);
                out.insert("SdkResponseMetadata".into(), resp);
                Ok(Value::Object(out))
            } else {
                Ok(out)
            }
        }
        ExternalKind::PutEvents => {
            let Some(entries) = task.parameters.get("Entries").and_then(Value::as_array) else {
                return Err(TaskError::new(
                    "EventBridge.ValidationException",
                    "putEvents needs an Entries array",
                ));
            };
            // PutEvents carries Detail as a JSON string; the integration accepts an object.
            let entries: Vec<Value> = entries
                .iter()
                .cloned()
                .map(|mut e| {
                    if let Some(d) = e.get_mut("Detail")
                        && !d.is_string()
                    {
                        *d = Value::String(d.to_string());
                    }
                    e
                })
                .collect();
            let out = hooks.events.put_events(entries).await?;
            if out
                .get("FailedEntryCount")
                .and_then(Value::as_i64)
                .unwrap_or(0)
                > 0
            {
                return Err(TaskError::new("EventBridge.FailedEntry", out.to_string()));
            }
            Ok(out)
        }
        ExternalKind::LambdaInvoke => {
            let Some(function) = task.parameters.get("FunctionName").and_then(Value::as_str) else {
                return Err(TaskError::new(
                    "Lambda.InvalidParameterValueException",
                    "lambda:invoke needs a FunctionName",
                ));
            };
            let payload = task.parameters.get("Payload").cloned().unwrap_or(json!({}));
            let out = hooks.functions.invoke(function, payload).await?;
            let (http, resp) = sdk_metadata();
            Ok(json!({
                "ExecutedVersion": "$LATEST",
                "Payload": out,
                "SdkHttpMetadata": http,
                "SdkResponseMetadata": resp,
                "StatusCode": 200
            }))
        }
        ExternalKind::LambdaBare(arn) => hooks.functions.invoke(arn, task.parameters.clone()).await,
    }
}

fn sfn_error(e: crate::SfnError) -> TaskError {
    let t = e.aws_type();
    let name = if t.ends_with("Exception") {
        format!("Sfn.{t}")
    } else {
        format!("Sfn.{t}Exception")
    };
    TaskError::new(name, e.to_string())
}

/// Runs a task this service answers itself. `Ok(None)`: the task now waits (for a child
/// execution, or for its token).
pub(crate) fn run_internal(
    core: &mut Core,
    b: &mut Batch,
    exec: &str,
    task: TaskRequest,
) -> Result<Option<Value>, TaskError> {
    let waits_for_token = task.token.is_some();
    if let Some(action) = task.resource.strip_prefix("arn:aws:states:::aws-sdk:sfn:") {
        let action = action.split_once('.').map_or(action, |(a, _)| a);
        let body = rekey(task.parameters, decapitalize);
        let out = core.api(b, &capitalize(action), &body).map_err(sfn_error)?;
        return Ok((!waits_for_token).then(|| rekey(out, capitalize)));
    }
    // states:startExecution[.sync|.sync:2|.waitForTaskToken]
    let mode = task
        .resource
        .split_once("startExecution")
        .map_or("", |(_, m)| m);
    let p = &task.parameters;
    let Some(sm_arn) = p.get("StateMachineArn").and_then(Value::as_str) else {
        return Err(TaskError::new(
            "States.Runtime",
            "startExecution needs a StateMachineArn",
        ));
    };
    let input = match p.get("Input") {
        None | Some(Value::Null) => "{}".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    };
    let name = match p.get("Name").and_then(Value::as_str) {
        Some(n) => n.to_string(),
        None => uuid::Uuid::new_v4().to_string(),
    };
    let body = json!({"stateMachineArn": sm_arn, "input": input, "name": name});
    let sync = mode.starts_with(".sync");
    if sync {
        // Registered before the child starts: a child that ends at once finds its parent.
        let machine = crate::api::parse_machine_arn(sm_arn).map_err(sfn_error)?;
        let child = core.execution_arn(&machine.name, &name);
        core.conn
            .execute(
                "INSERT OR REPLACE INTO tasks (exec_arn, task_id, resource, token, child_arn) VALUES (?1, ?2, ?3, NULL, ?4)",
                params![exec, task.task_id as i64, task.resource, child],
            )
            .map_err(|e| TaskError::new("States.Runtime", e.to_string()))?;
        if let Err(e) = core.start_execution(b, &body) {
            let _ = core.conn.execute(
                "DELETE FROM tasks WHERE exec_arn = ?1 AND task_id = ?2",
                params![exec, task.task_id as i64],
            );
            return Err(sfn_error(e));
        }
        return Ok(None);
    }
    let out = core.start_execution(b, &body).map_err(sfn_error)?;
    Ok((!waits_for_token)
        .then(|| json!({"ExecutionArn": out["executionArn"], "StartDate": out["startDate"]})))
}

/// A child execution ended: the `.sync` parents waiting on it get its description.
pub(crate) fn child_finished(
    core: &mut Core,
    b: &mut Batch,
    child: &str,
) -> Result<(), crate::SfnError> {
    let parents: Vec<(String, i64, String)> = {
        let mut stmt = core.conn.prepare_cached(
            "DELETE FROM tasks WHERE child_arn = ?1 RETURNING exec_arn, task_id, resource",
        )?;
        stmt.query_map([child], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?
    };
    if parents.is_empty() {
        return Ok(());
    }
    let described = core.describe_execution(child)?;
    for (parent, task_id, resource) in parents {
        let mut out = rekey(described.clone(), capitalize);
        if resource.ends_with(".sync:2")
            && let Some(Value::String(s)) = out.get("Output")
        {
            out["Output"] = serde_json::from_str(s).unwrap_or(Value::Null);
        }
        let cmd = if described["status"] == "SUCCEEDED" {
            Command::TaskSucceeded {
                task_id: task_id as u64,
                output: out,
            }
        } else {
            Command::TaskFailed {
                task_id: task_id as u64,
                error: "States.TaskFailed".into(),
                cause: Some(out.to_string()),
            }
        };
        b.work.push_back(Work::Command { exec: parent, cmd });
    }
    Ok(())
}
