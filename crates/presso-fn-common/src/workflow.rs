//! The shared body of the workflow's event functions (workflow-started, waiting-completion,
//! order-timeouts): their dependencies, built from a function environment, and the handler that
//! runs an EventBridge envelope through `usecases::workflow`. Each function crate only says which
//! detail-types it accepts. Behind the `workflow` feature, so HTTP functions link no
//! Step Functions client.

use crate::event::{self, Envelope, HandlerError};
use lambda_runtime::LambdaEvent;
use presso_aws::bus::EventBridgePublisher;
use presso_aws::dynamo::DynamoStore;
use presso_aws::workflow::StepFunctionsResumer;
use presso_aws::{AwsSettings, Env, SharedClock};
use presso_core::ports::{EventPublisher, OrderRepository, WorkflowResumer};
use presso_core::usecases::{OrderPorts, workflow};
use serde_json::Value;

/// What the handler uses: the order table, the workflow service, the bus and the clock.
#[derive(Debug, Clone)]
pub struct Deps<S = DynamoStore, W = StepFunctionsResumer, E = EventBridgePublisher> {
    pub store: S,
    pub workflow: W,
    pub events: E,
    pub clock: SharedClock,
}

impl<S, W, E> Deps<S, W, E> {
    pub fn new(store: S, workflow: W, events: E) -> Self {
        Self {
            store,
            workflow,
            events,
            clock: SharedClock::system(),
        }
    }

    /// The same dependencies on another clock (presso's virtual clock).
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }
}

/// The AWS dependencies from a function environment (`AWS_ENDPOINT_URL`, `AWS_REGION`,
/// `ORDER_TABLE`, `COUNTING_TABLE`, `BUS_NAME`).
pub async fn deps_from_env(env: &Env) -> Deps {
    let config = AwsSettings::from_env(env).load().await;
    Deps::new(
        DynamoStore::from_config(&config, env),
        StepFunctionsResumer::from_config(&config),
        EventBridgePublisher::from_config(&config, env),
    )
}

/// Runs one workflow event through `usecases::workflow`, acting only on the detail-types in
/// `accepts` (others are acknowledged and ignored).
pub async fn handle<S, W, E>(
    deps: &Deps<S, W, E>,
    accepts: &[&str],
    event: LambdaEvent<Envelope>,
) -> Result<Value, HandlerError>
where
    S: OrderRepository,
    W: WorkflowResumer,
    E: EventPublisher,
{
    let envelope = event.payload;
    if !accepts.contains(&envelope.detail_type.as_str()) {
        tracing::warn!(detail_type = %envelope.detail_type, "ignored an event of another type");
        return Ok(serde_json::json!({ "handled": "ignored" }));
    }
    let parsed = event::parse(&envelope)?;
    let ports = OrderPorts {
        store: &deps.store,
        workflow: &deps.workflow,
        events: &deps.events,
        clock: &deps.clock,
    };
    match workflow::handle_event(&ports, &parsed).await {
        Ok(handled) => {
            tracing::info!(
                detail_type = %envelope.detail_type,
                order_id = parsed.order().map(|(id, _)| id.as_str()).unwrap_or_default(),
                ?handled,
                "event handled"
            );
            Ok(event::outcome(handled))
        }
        Err(e) => {
            tracing::error!(detail_type = %envelope.detail_type, error = %e, "event failed");
            Err(e.into())
        }
    }
}
