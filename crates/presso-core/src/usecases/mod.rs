//! Use cases: what the functions do, generic over the ports.
//!
//! Each HTTP use case takes the caller's [`Principal`] (never a user id from a body) and returns
//! a view or a [`UseCaseError`], which the HTTP edge maps once to a status and a problem
//! document ([`UseCaseError::status`], [`UseCaseError::code`]). Each event handler takes the
//! typed event and returns a [`Handled`]; a repeated delivery changes nothing twice.
//!
//! | area | functions | HTTP / trigger |
//! |---|---|---|
//! | [`qr`] | [`qr::get_qr_code`], [`qr::verify_qr_and_create_order`] | `GET /api/qr-code?eventId=` (admin), `POST /api/qr-code?eventId=&token=` |
//! | [`orders`] | [`orders::submit_drink`], [`orders::order_action`] ([`orders::barista_action`], [`orders::customer_cancel`]), [`orders::get_order`], [`orders::list_orders`], [`orders::my_orders`], [`orders::order_journey`] | `PUT /api/orders/{id}`, `PUT /api/orders/{id}?action=`, `GET /api/orders/{id}`, `GET /api/orders?eventId=&state=`, `GET /api/myOrders`, `GET /api/orders/{id}/journey` |
//! | [`workflow`] | [`workflow::handle_workflow_started`], [`workflow::handle_waiting_completion`], [`workflow::handle_timeout`], [`workflow::handle_shop_unavailable`], [`workflow::handle_order_failed`], [`workflow::handle_event`] | EventBridge rules on the `OrderProcessor.*` events |
//! | [`config`] | [`config::get_config`], [`config::update_config`], [`config::set_store_state`], [`config::create_event`], [`config::seed_default_event`] | `GET /api/events/{eventId}/config` (public), admin `PUT`s, first start |
//! | [`publish`] | [`publish::publish_event`], [`publish::record_journey`] | every event: MQTT topics and the order journey |

pub mod config;
mod error;
pub mod orders;
pub mod publish;
pub mod qr;
pub mod views;
pub mod workflow;

pub use error::UseCaseError;

use crate::identity::{Caller, Principal};
use crate::ids::OrderId;
use crate::order::{Order, Resume, TransitionResult};
use crate::ports::{Clock, OrderRepository, ResumeError, StoreError, WorkflowResumer};

/// The longest list any query returns.
pub const MAX_LIST: usize = 500;

/// How often a conditional write is retried against concurrent writers before giving up with
/// [`UseCaseError::Contention`].
pub(crate) const MAX_ATTEMPTS: usize = 8;

/// The ports of the use cases that change orders.
pub struct OrderPorts<'a, S, W, E, C> {
    pub store: &'a S,
    pub workflow: &'a W,
    pub events: &'a E,
    pub clock: &'a C,
}

// Derived `Clone` would require the port types to be `Clone`; the struct only holds references.
impl<S, W, E, C> Clone for OrderPorts<'_, S, W, E, C> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<S, W, E, C> Copy for OrderPorts<'_, S, W, E, C> {}

/// What an event handler did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    /// The event changed the order.
    Applied,
    /// The event had been applied before (a repeated delivery) or does not apply: nothing
    /// changed.
    Unchanged,
}

pub(crate) fn require_user(principal: &Principal) -> Result<&Caller, UseCaseError> {
    principal.caller().ok_or(UseCaseError::Unauthenticated)
}

pub(crate) fn require_admin(principal: &Principal) -> Result<&Caller, UseCaseError> {
    let caller = require_user(principal)?;
    if caller.is_admin() {
        Ok(caller)
    } else {
        Err(UseCaseError::AdminOnly)
    }
}

/// Reads the order, computes `transition` on it, and stores the result conditionally on the
/// version read, retrying on conflicts with a fresh read. After the write, resumes the wait
/// the change claimed. When `transition` has nothing to do, still claims and resumes a wait
/// that an earlier attempt failed to resume. Returns the order and whether it transitioned.
pub(crate) async fn mutate_order<S, W, E, C, F>(
    ports: &OrderPorts<'_, S, W, E, C>,
    id: &OrderId,
    mut transition: F,
) -> Result<(Order, bool), UseCaseError>
where
    S: OrderRepository,
    W: WorkflowResumer,
    C: Clock,
    F: FnMut(&Order) -> TransitionResult,
{
    for _ in 0..MAX_ATTEMPTS {
        let order = ports
            .store
            .get(id)
            .await?
            .ok_or_else(|| UseCaseError::OrderNotFound(id.clone()))?;
        let (change, transitioned) = match transition(&order)? {
            Some(change) => (change, true),
            None => match order.claim_pending_resumption(ports.clock.now()) {
                Some(change) => (change, false),
                None => return Ok((order, false)),
            },
        };
        match ports.store.save(&change).await {
            Ok(()) => {}
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
        if let Some(resume) = &change.resume {
            resume_or_undo(ports, &change.order, resume).await?;
        }
        return Ok((change.order, transitioned));
    }
    Err(UseCaseError::Contention)
}

/// Resumes the workflow. A token the workflow no longer waits on (timed out, or resumed by an
/// earlier delivery) is fine. On a transient failure the claim is undone, best effort, so that
/// a retry of the request or a redelivery of the event resumes it.
async fn resume_or_undo<S, W, E, C>(
    ports: &OrderPorts<'_, S, W, E, C>,
    order: &Order,
    resume: &Resume,
) -> Result<(), UseCaseError>
where
    S: OrderRepository,
    W: WorkflowResumer,
    C: Clock,
{
    match ports
        .workflow
        .resume(&resume.token, resume.resumption)
        .await
    {
        Ok(()) | Err(ResumeError::TokenGone) => Ok(()),
        Err(e) => {
            let undo = order.undo_resume(resume, ports.clock.now());
            // If this write loses a race, the winner saw the claim and the order moved on; the
            // original failure is what the caller needs to hear about either way.
            let _ = ports.store.save(&undo).await;
            Err(e.into())
        }
    }
}

#[cfg(test)]
mod tests;
