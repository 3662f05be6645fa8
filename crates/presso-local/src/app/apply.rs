//! Applies a template's resources to presso's services, idempotently: what exists is kept as it
//! is (tables keep their items, pools their users), what is missing is created. Rules, targets
//! and state machine definitions are upserts, so a changed template takes effect on restart
//! without touching data.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use presso_cognito::{ClientSpec, IdentityProvider, PoolSpec, UserSpec};
use presso_dynamo::Store;
use presso_template::Stack;
use serde_json::{Value, json};

use super::AppError;

/// Calls one Step Functions operation (`CreateStateMachine`, ...) with its JSON request.
pub type SfnCall = Arc<
    dyn Fn(String, Value) -> Pin<Box<dyn Future<Output = Result<Value, SfnCallError>> + Send>>
        + Send
        + Sync,
>;

/// A Step Functions error: its `__type` name and message.
#[derive(Debug, Clone)]
pub struct SfnCallError {
    pub type_name: String,
    pub message: String,
}

/// What was created (for the start-up log); everything else already existed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Applied {
    pub tables_created: Vec<String>,
    pub buses_created: Vec<String>,
    pub rules: usize,
    pub state_machines: usize,
}

pub fn tables(store: &Store, stack: &Stack, applied: &mut Applied) -> Result<(), AppError> {
    for t in &stack.tables {
        let body = serde_json::to_vec(&t.create_request).unwrap_or_default();
        match store.call_json("CreateTable", &body) {
            Ok(_) => {
                applied.tables_created.push(t.name.clone());
                if let Some(ttl) = &t.time_to_live {
                    let req = json!({"TableName": t.name, "TimeToLiveSpecification": ttl});
                    store
                        .call_json("UpdateTimeToLive", req.to_string().as_bytes())
                        .map_err(|e| AppError::Apply(format!("table {}: {e}", t.name)))?;
                }
            }
            Err(presso_dynamo::Error::ResourceInUse(_)) => {}
            Err(e) => {
                return Err(AppError::Apply(format!(
                    "table {} ({}): {e}",
                    t.name, t.logical_id
                )));
            }
        }
    }
    Ok(())
}

pub fn cognito(idp: &IdentityProvider, stack: &Stack) -> Result<(), AppError> {
    let fail = |what: &str, e: presso_cognito::CognitoError| {
        AppError::Apply(format!("{what}: {}", e.message()))
    };
    for pool in &stack.user_pools {
        idp.ensure_user_pool(&PoolSpec {
            id: Some(pool.id.clone()),
            name: pool.name.clone(),
            properties: pool.properties.clone(),
        })
        .map_err(|e| fail(&format!("user pool {}", pool.logical_id), e))?;
    }
    for client in &stack.user_pool_clients {
        idp.ensure_user_pool_client(&ClientSpec {
            user_pool_id: client.user_pool_id.clone(),
            client_id: Some(client.id.clone()),
            name: client.name.clone(),
            properties: client.properties.clone(),
        })
        .map_err(|e| fail(&format!("user pool client {}", client.logical_id), e))?;
    }
    for group in &stack.user_pool_groups {
        idp.ensure_group(
            &group.user_pool_id,
            &group.name,
            group.description.as_deref(),
            group.precedence,
        )
        .map_err(|e| fail(&format!("group {}", group.logical_id), e))?;
    }
    for user in &stack.user_pool_users {
        let groups = stack
            .user_to_group
            .iter()
            .filter(|a| a.user_pool_id == user.user_pool_id && a.username == user.username)
            .map(|a| a.group_name.clone())
            .collect();
        idp.ensure_user(&UserSpec {
            user_pool_id: user.user_pool_id.clone(),
            username: user.username.clone(),
            attributes: user
                .attributes
                .iter()
                .filter(|(k, _)| k != "email" || !user.username.contains('@'))
                .cloned()
                .collect(),
            password: None,
            groups,
        })
        .map_err(|e| fail(&format!("user {}", user.logical_id), e))?;
    }
    Ok(())
}

pub fn events(
    bus: &presso_events::EventBridge,
    stack: &Stack,
    applied: &mut Applied,
) -> Result<(), AppError> {
    let fail = |what: String, e: presso_events::EventsError| {
        AppError::Apply(format!("{what}: {}", e.message()))
    };
    for b in &stack.event_buses {
        match bus.call("CreateEventBus", &json!({"Name": b.name})) {
            Ok(_) => applied.buses_created.push(b.name.clone()),
            Err(e) if e.type_name() == "ResourceAlreadyExistsException" => {}
            Err(e) => return Err(fail(format!("event bus {}", b.logical_id), e)),
        }
    }
    for r in &stack.rules {
        let mut put = json!({"Name": r.name, "EventBusName": r.event_bus_name, "State": r.state});
        if let Some(p) = &r.event_pattern {
            put["EventPattern"] = json!(p.to_string());
        }
        if let Some(s) = &r.schedule_expression {
            put["ScheduleExpression"] = json!(s);
        }
        bus.call("PutRule", &put)
            .map_err(|e| fail(format!("rule {}", r.logical_id), e))?;
        let targets: Vec<Value> = r
            .targets
            .iter()
            .map(|t| {
                let mut v = json!({"Id": t.id, "Arn": t.arn});
                if let Some(i) = &t.input {
                    v["Input"] = json!(i);
                }
                if let Some(p) = &t.input_path {
                    v["InputPath"] = json!(p);
                }
                if let Some(x) = &t.input_transformer {
                    v["InputTransformer"] = x.clone();
                }
                v
            })
            .collect();
        if !targets.is_empty() {
            let resp = bus
                .call(
                    "PutTargets",
                    &json!({"Rule": r.name, "EventBusName": r.event_bus_name, "Targets": targets}),
                )
                .map_err(|e| fail(format!("targets of rule {}", r.logical_id), e))?;
            if resp
                .get("FailedEntryCount")
                .and_then(Value::as_u64)
                .unwrap_or(0)
                > 0
            {
                return Err(AppError::Apply(format!(
                    "targets of rule {}: {resp}",
                    r.logical_id
                )));
            }
        }
        applied.rules += 1;
    }
    Ok(())
}

pub async fn state_machines(
    sfn: &SfnCall,
    stack: &Stack,
    applied: &mut Applied,
) -> Result<(), AppError> {
    for sm in &stack.state_machines {
        let role = format!(
            "arn:aws:iam::{}:role/{}-{}",
            stack.account_id, stack.stack_name, sm.logical_id
        );
        let create = json!({
            "name": sm.name,
            "definition": sm.definition,
            "roleArn": role,
            "type": sm.kind,
        });
        match sfn("CreateStateMachine".into(), create).await {
            Ok(_) => {}
            Err(e) if e.type_name.ends_with("StateMachineAlreadyExists") => {
                let update = json!({"stateMachineArn": sm.arn, "definition": sm.definition});
                sfn("UpdateStateMachine".into(), update)
                    .await
                    .map_err(|e| {
                        AppError::Apply(format!(
                            "state machine {}: {}: {}",
                            sm.logical_id, e.type_name, e.message
                        ))
                    })?;
            }
            Err(e) => {
                return Err(AppError::Apply(format!(
                    "state machine {}: {}: {}",
                    sm.logical_id, e.type_name, e.message
                )));
            }
        }
        applied.state_machines += 1;
    }
    Ok(())
}
