//! Wiring the app into `presso serve`: the services from the server's state, the addresses from
//! the bound listener, and the event functions registered as EventBridge targets and
//! as Step Functions' `lambda:invoke` functions.

use std::net::SocketAddr;

use super::{App, AppError, Services, Settings, SfnCall, SfnCallError};
use crate::Config;
use crate::server::AppState;

/// `http://<host>:<port>` as functions reach presso (a wildcard bind is reached on loopback).
pub fn endpoint_url(addr: SocketAddr) -> String {
    let ip = if addr.ip().is_unspecified() {
        "127.0.0.1".to_string()
    } else if addr.is_ipv6() {
        format!("[{}]", addr.ip())
    } else {
        addr.ip().to_string()
    };
    format!("http://{ip}:{}", addr.port())
}

/// Step Functions' API as the template loader calls it.
fn step_functions(sfn: &crate::stepfunctions::StepFunctions) -> SfnCall {
    let service = sfn.service.clone();
    std::sync::Arc::new(move |operation: String, body: serde_json::Value| {
        let service = service.clone();
        Box::pin(async move {
            let bytes = serde_json::to_vec(&body).unwrap_or_default();
            service.call_json(&operation, &bytes).await.map_err(|e| {
                let aws = crate::stepfunctions::to_aws(&e);
                SfnCallError {
                    type_name: aws.type_name,
                    message: aws.message,
                }
            })
        })
    })
}

/// Starts the app of `config.template` against the server's services.
pub async fn start_for(
    config: &Config,
    addr: SocketAddr,
    state: &AppState,
) -> Result<App, AppError> {
    let endpoint = endpoint_url(addr);
    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| endpoint.clone());
    let services = Services {
        dynamodb: state.dynamodb.clone(),
        cognito: state.cognito.clone(),
        events: Some(state.events.service.clone()),
        step_functions: Some(step_functions(&state.stepfunctions)),
        meter: state.meter.clone(),
    };
    let static_dir = super::static_dir(config.static_dir.as_deref());
    let app = super::start(
        Settings {
            template: config.template.as_deref(),
            parameter_overrides: &config.parameter_overrides,
            public_url,
            endpoint_url: endpoint,
            static_dir,
            functions: &config.functions,
            region: config.region.clone(),
            account_id: config.account_id.clone(),
        },
        &services,
    )
    .await?;
    if let Some(trusted) = &app.mqtt_trust {
        state.mqtt_auth.trust_only(trusted.clone());
    }
    for (name, handler) in &app.event_functions {
        let handler = handler.clone();
        state
            .stepfunctions
            .register_function(name.clone(), handler.clone());
        state.events.targets.register_function(
            name.clone(),
            std::sync::Arc::new(move |event| {
                let handler = handler.clone();
                Box::pin(async move { handler(event).await.map(|_| ()) })
            }),
        );
    }
    Ok(app)
}

/// Takes Step Functions' place as EventBridge's state-machine target once the server stopped.
/// The two services hold each other (rules start executions, `events:putEvents` tasks publish),
/// so without this neither is dropped and their stores stay open after `run` returns (a restart
/// in the same process would find the data directory locked).
pub struct Stopped;

#[async_trait::async_trait]
impl crate::events::StateMachines for Stopped {
    async fn start_execution(
        &self,
        state_machine_arn: &str,
        _input: serde_json::Value,
    ) -> Result<(), presso_events::DeliveryError> {
        Err(presso_events::DeliveryError::NotFound(format!(
            "{state_machine_arn} (presso is stopping)"
        )))
    }
}
