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
use presso_core::events::detail_type;
use presso_core::ports::{EventPublisher, OrderRepository, WorkflowResumer};
use presso_fn_common::event::{Envelope, HandlerError};
use serde_json::Value;

pub use presso_fn_common::workflow::{Deps, deps_from_env};

/// The detail-types this function acts on (its rule in `template.yaml` selects them).
pub const ACCEPTS: &[&str] = &[
    detail_type::ORDER_TIME_OUT,
    detail_type::SHOP_UNAVAILABLE,
    detail_type::ORDER_FAILED,
    detail_type::NEW_ORDER,
];

/// Handles one delivery of an accepted event (others are acknowledged and ignored).
pub fn handle<S, W, E>(
    deps: &Deps<S, W, E>,
    event: LambdaEvent<Envelope>,
) -> impl Future<Output = Result<Value, HandlerError>> + '_
where
    S: OrderRepository,
    W: WorkflowResumer,
    E: EventPublisher,
{
    // Not an `async fn`: one future fewer keeps the Lambda's future shallow.
    presso_fn_common::workflow::handle(deps, ACCEPTS, event)
}
