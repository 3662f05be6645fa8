//! The order-timeouts function: the workflow's other outcomes. `OrderProcessor.OrderTimeOut`
//! times the order out, `OrderProcessor.ShopUnavailable` rejects it, `OrderProcessor.OrderFailed`
//! fails it — each releasing capacity exactly once if the order held any — and a
//! `Validator.NewOrder` put on the bus by a tool (the order robot) creates its order
//! (`usecases::workflow`).
//!
//! An event function: [`handle`] takes the EventBridge envelope Lambda delivers; `main.rs`
//! runs it with `lambda_runtime`, and presso calls it in-process with a [`Deps`] from
//! [`deps_from_env`]. Events of other types are acknowledged and ignored. Every delivery is
//! idempotent: a repeated event changes nothing twice.

use lambda_runtime::LambdaEvent;
use presso_aws::bus::EventBridgePublisher;
use presso_aws::dynamo::DynamoStore;
use presso_aws::workflow::StepFunctionsResumer;
use presso_aws::{AwsSettings, Env, SharedClock};
use presso_core::events::detail_type;
use presso_core::ports::{EventPublisher, OrderRepository, WorkflowResumer};
use presso_core::usecases::{OrderPorts, workflow};
use presso_fn_common::event::{self, Envelope, HandlerError};
use serde_json::Value;

/// The detail-types this function acts on (its rule in `template.yaml` selects them).
pub const ACCEPTS: &[&str] = &[
    detail_type::ORDER_TIME_OUT,
    detail_type::SHOP_UNAVAILABLE,
    detail_type::ORDER_FAILED,
    detail_type::NEW_ORDER,
];

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

pub async fn handle<S, W, E>(
    deps: &Deps<S, W, E>,
    event: LambdaEvent<Envelope>,
) -> Result<Value, HandlerError>
where
    S: OrderRepository,
    W: WorkflowResumer,
    E: EventPublisher,
{
    let envelope = event.payload;
    if !ACCEPTS.contains(&envelope.detail_type.as_str()) {
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
