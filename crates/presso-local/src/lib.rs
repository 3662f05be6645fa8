//! The local cloud: `presso serve` answers AWS's own wire protocols on one loopback port, so
//! the SDK clients inside the functions, the `aws` CLI and boto3 work against it unchanged.
//!
//! Modules: [`config`] (the command line, parsed once into [`Config`]), [`server`] (the one
//! router, routing AWS JSON calls by `X-Amz-Target`), [`aws_json`] (AWS's JSON-protocol
//! responses and errors), and one module per service ([`dynamodb`], [`events`] for
//! EventBridge, [`cognito`], [`realtime`] for the MQTT broker, [`iot`] for the IoT data plane),
//! with the dev endpoints under `/_presso/` in [`dev`]. Service semantics live in their own
//! crates (`presso-dynamo`, `presso-events`, `presso-cognito`, `presso-mqtt`); the modules here
//! only translate the wire format.
//!
//! [`run`] serves on a listener the caller bound until a shutdown future resolves, so tests
//! start the whole server in process on port 0.

pub mod app;
pub mod aws_json;
pub mod clock;
pub mod cognito;
pub mod config;
pub mod dev;
pub mod dynamodb;
pub mod events;
pub mod iot;
pub mod realtime;
pub mod server;
pub mod stepfunctions;
pub mod transport;
pub mod usage;

pub use config::{Config, Storage};

use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot open the DynamoDB store: {0}")]
    Store(#[from] presso_dynamo::Error),
    #[error("network error: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot open Step Functions: {0}")]
    StepFunctions(#[from] presso_sfn::SfnError),
    #[error("cannot open the Cognito store: {0}")]
    Cognito(#[from] presso_cognito::OpenError),
    #[error("cannot open the EventBridge store: {0}")]
    Events(#[from] presso_events::OpenError),
    #[error("cannot start the app: {0}")]
    App(#[from] app::AppError),
    #[error("cannot resume EventBridge's pending deliveries: {0}")]
    Deliveries(#[from] presso_events::EventsError),
}

/// Serves every service on `listener` until `shutdown` resolves, then stops accepting,
/// finishes in-flight requests and returns.
pub async fn run(
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    config: Config,
) -> Result<(), ServeError> {
    let store = match &config.storage {
        Storage::InMemory => presso_dynamo::Store::open_in_memory()?,
        Storage::Dir(dir) => presso_dynamo::Store::open(dir)?,
    };
    let clock = clock::Clock::new(config.time_scale);
    // The hosted functions read the same clock (QR windows, deadlines, timestamps).
    presso_aws::system::install_host_clock(std::sync::Arc::new(clock.clone()));
    let cognito = cognito::open(
        &config.storage,
        Arc::new(cognito::FnClock({
            let clock = clock.clone();
            move || clock.now_ms()
        })),
    )?;
    let events = events::Events::open(&config.storage, clock.clone())?;
    let stepfunctions = stepfunctions::open(&config, clock, &store)?;
    let (broker, mqtt_auth) = realtime::broker(cognito.clone());
    stepfunctions::connect_bus(&stepfunctions, &events);
    if let Some(port) = config.mqtt_port {
        realtime::serve_tcp(&broker, &config.host, port).await?;
    }
    let state = Arc::new(server::AppState {
        dynamodb: store,
        stepfunctions,
        cognito,
        broker: broker.clone(),
        mqtt_auth,
        events,
        meter: Arc::new(usage::Meter::default()),
    });
    // The functions presso hosts reach its AWS APIs in-process, not over loopback sockets
    // (for as long as this router lives: until presso stops).
    let aws_router = Arc::new(server::router(state.clone()));
    presso_aws::system::install_host_transport(
        &app::host::endpoint_url(listener.local_addr()?),
        transport::InProcess::client(&aws_router),
    );
    // The template's app (functions, HTTP API, the apps): see `app`.
    let hosted = app::host::start_for(&config, listener.local_addr()?, &state).await?;
    let event_targets = state.events.targets.clone();
    // What a killed presso left running (executions, timers, deliveries): now that the bus,
    // the functions and the state machines are all wired.
    state.stepfunctions.service.start();
    state.events.service.resume_pending()?;
    state.events.service.start_schedules();
    let app = server::router(state).merge(hosted.router);
    let addr = listener.local_addr()?;
    tracing::info!(
        url = %format!("http://{addr}"),
        storage = ?config.storage,
        "presso is accepting requests on http://{addr}"
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    // Upgraded WebSockets outlive axum's graceful shutdown; the broker ends them (and the TCP
    // listener) itself.
    broker.shutdown().await;
    // The hosted functions' transport lets go of the services with it.
    drop(aws_router);
    event_targets.set_state_machines(Arc::new(app::host::Stopped));
    tracing::info!("presso stopped");
    Ok(())
}
