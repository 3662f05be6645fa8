//! The order-timeouts function: the workflow's other outcomes. `OrderProcessor.OrderTimeOut`
//! times the order out, `OrderProcessor.ShopUnavailable` rejects it, `OrderProcessor.OrderFailed`
//! fails it — each releasing capacity exactly once if the order held any — and a
//! `Validator.NewOrder` put on the bus by a tool (the order robot) creates its order
//! (`usecases::workflow`). Its schedule rule's `Scheduled Event` (from `aws.events`) sweeps
//! the orders no workflow looks after (`usecases::workflow::sweep_orphans`).
//!
//! An event function: [`handle`] takes the EventBridge envelope Lambda delivers; `main.rs`
//! runs it with `lambda_runtime`, and presso calls it in-process with a [`Deps`] from
//! [`deps_from_env`]. Events of other types are acknowledged and ignored. Every delivery is
//! idempotent: a repeated event changes nothing twice.

use lambda_runtime::LambdaEvent;
use presso_core::events::detail_type;
use presso_core::ports::{ConfigRepository, EventPublisher, OrderRepository, WorkflowResumer};
use presso_core::usecases::{OrderPorts, workflow};
use presso_fn_common::event::{Envelope, HandlerError};
use serde_json::{Value, json};

pub use presso_fn_common::workflow::{Deps, deps_from_env};

/// The detail-types this function acts on (its rule in `template.yaml` selects them).
pub const ACCEPTS: &[&str] = &[
    detail_type::ORDER_TIME_OUT,
    detail_type::SHOP_UNAVAILABLE,
    detail_type::ORDER_FAILED,
    detail_type::NEW_ORDER,
];

/// What EventBridge's schedule rules send.
pub const SCHEDULED_SOURCE: &str = "aws.events";
pub const SCHEDULED_DETAIL_TYPE: &str = "Scheduled Event";

/// Handles one delivery of an accepted event (others are acknowledged and ignored), or a
/// scheduled sweep.
pub async fn handle<S, W, E>(
    deps: &Deps<S, W, E>,
    event: LambdaEvent<Envelope>,
) -> Result<Value, HandlerError>
where
    S: OrderRepository + ConfigRepository,
    W: WorkflowResumer,
    E: EventPublisher,
{
    let envelope = &event.payload;
    if envelope.source == SCHEDULED_SOURCE && envelope.detail_type == SCHEDULED_DETAIL_TYPE {
        let ports = OrderPorts {
            store: &deps.store,
            workflow: &deps.workflow,
            events: &deps.events,
            clock: &deps.clock,
        };
        return match workflow::sweep_orphans(&ports).await {
            Ok(failed) => {
                tracing::info!(failed, "swept the orders no workflow looks after");
                Ok(json!({ "swept": failed }))
            }
            Err(e) => {
                tracing::error!(error = %e, "the sweep failed");
                Err(e.into())
            }
        };
    }
    presso_fn_common::workflow::handle(deps, ACCEPTS, event).await
}
