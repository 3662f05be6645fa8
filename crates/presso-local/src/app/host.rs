//! Wiring the app into `presso serve`: the services from the server's state, the addresses from
//! the bound listener, and the event functions registered as EventBridge targets.

use std::net::SocketAddr;

use super::{App, AppError, Services, Settings};
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
        step_functions: None,
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
        },
        &services,
    )
    .await?;
    for (name, handler) in &app.event_functions {
        let handler = handler.clone();
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
