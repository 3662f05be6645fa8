//! The workflow-started function: on `OrderProcessor.WorkflowStarted` it records the first
//! wait's task token on the order (and that the order holds capacity). If the drink is already
//! there, this write resumes the workflow; if the order was cancelled meanwhile, it resumes it
//! with `cancelled` (`usecases::workflow::handle_workflow_started`).
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
pub const ACCEPTS: &[&str] = &[detail_type::WORKFLOW_STARTED];

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
