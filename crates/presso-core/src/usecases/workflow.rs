//! Handlers of the Order Processor workflow's events. Each is idempotent: a redelivered event
//! finds its change applied and changes nothing, and resumes nothing twice.
//!
//! The contract with the state machine (`statemachine/order-processor.asl.json`), whose input
//! is the `Validator.NewOrder` envelope (`$.detail.orderId`, `$.detail.userId`,
//! `$.detail.eventId`):
//! 1. take capacity on `capacity-<eventId>`: add the order's id to its holders with
//!    [`crate::keys::expressions::TAKE_CAPACITY_UPDATE`] on condition
//!    [`crate::keys::expressions::GATED_TAKE_CAPACITY_CONDITION`] (the gate the config writes:
//!    open, not paused, fewer holders than `maxOrdersInQueue`). Taking again after a crash
//!    changes nothing. On `ConditionalCheckFailed`, read the config item (`PK =
//!    config-<eventId>`): unless `open` is true and `paused` is not true, emit
//!    `OrderProcessor.ShopUnavailable` with `reason` `storeClosed` / `storePaused` and end;
//!    else take with [`crate::keys::expressions::TAKE_CAPACITY_CONDITION`] (`:max` =
//!    `maxOrdersInQueue`), and on `ConditionalCheckFailed` emit `ShopUnavailable` with
//!    `reason` `atCapacity` and end;
//! 2. `events:putEvents.waitForTaskToken` `OrderProcessor.WorkflowStarted` with
//!    `HeartbeatSeconds` [`crate::order::Wait::DRINK_SECONDS`]; on `States.Timeout` emit
//!    `OrderProcessor.OrderTimeOut` (`cause` "Customer timedout") and end; resumed with
//!    success when the drink is given, failed with `OrderCancelled` when the order is cancelled
//!    (→ step 5; see [`crate::order::Resumption`]);
//! 3. allocate the number with [`crate::keys::expressions::NEXT_ORDER_NUMBER`] on
//!    `orderID-<eventId>` (`ReturnValues UPDATED_NEW`);
//! 4. `putEvents.waitForTaskToken` `OrderProcessor.WaitingCompletion` with `orderNumber` and
//!    `HeartbeatSeconds` [`crate::order::Wait::BARISTA_SECONDS`]; on `States.Timeout` emit
//!    `OrderTimeOut` (`cause` "Barista timedout") and end; `OrderCancelled` → step 5;
//! 5. emit `OrderProcessor.orderFinished` (with `outcome`) and end;
//! 6. a catch-all on every state after capacity is taken emits `OrderProcessor.OrderFailed`
//!    with `capacityTaken: true` (before it: `false`).
//!
//! An order that is made costs five state transitions.
//!
//! The state machine never releases capacity: the write that finishes the order does, once.

use super::qr::is_orphan;
use super::{Handled, OrderPorts, UseCaseError, mutate_order};
use crate::events::{
    Event, NewOrder, OrderFailed, OrderTimeOut, ProcessorWaitingCompletion, ShopUnavailable,
    WorkflowStarted,
};
use crate::order::{Order, OrderStatus, Wait};
use crate::ports::{
    Clock, ConfigRepository, EventPublisher, OrderRepository, StoreError, WorkflowResumer,
};

fn handled(changed: bool) -> Handled {
    if changed {
        Handled::Applied
    } else {
        Handled::Unchanged
    }
}

/// `Validator.NewOrder`: the validator creates the order before it emits this event, so
/// normally there is nothing to do. Orders put on the bus by tools (the reference's order robot
/// and event player emit `Validator.NewOrder` themselves) are created here, marked `robot`.
pub async fn handle_new_order<S, W, E, C>(
    ports: &OrderPorts<'_, S, W, E, C>,
    event: &NewOrder,
) -> Result<Handled, UseCaseError>
where
    S: OrderRepository,
    C: Clock,
{
    if ports.store.get(&event.order_id).await?.is_some() {
        return Ok(Handled::Unchanged);
    }
    let mut order = Order::new_pending(
        event.order_id.clone(),
        event.event_id.clone(),
        event.user_id.clone(),
        event.display_name.clone(),
        ports.clock.now(),
    );
    order.robot = true;
    match ports.store.create(&order).await {
        Ok(()) => Ok(Handled::Applied),
        Err(StoreError::Conflict) => Ok(Handled::Unchanged),
        Err(e) => Err(e.into()),
    }
}

/// `OrderProcessor.WorkflowStarted`: records the first wait's token (and that the order now
/// holds capacity). If the drink is already there, this write is the one that resumes the
/// workflow; if the order was cancelled meanwhile, it resumes it with `cancelled` and releases
/// the capacity the workflow just took.
pub async fn handle_workflow_started<S, W, E, C>(
    ports: &OrderPorts<'_, S, W, E, C>,
    event: &WorkflowStarted,
) -> Result<Handled, UseCaseError>
where
    S: OrderRepository,
    W: WorkflowResumer,
    C: Clock,
{
    let (_, changed) = mutate_order(ports, &event.order_id, |o| {
        o.record_workflow_started(event.task_token.clone(), ports.clock.now())
    })
    .await?;
    Ok(handled(changed))
}

/// `OrderProcessor.WaitingCompletion`: records the order number and the barista wait's token,
/// queues the order and emits `OrderManager.WaitingCompletion` (the display's "Preparing", the
/// barista's new card). A cancelled order's wait is resumed with `cancelled` at once.
pub async fn handle_waiting_completion<S, W, E, C>(
    ports: &OrderPorts<'_, S, W, E, C>,
    event: &ProcessorWaitingCompletion,
) -> Result<Handled, UseCaseError>
where
    S: OrderRepository,
    W: WorkflowResumer,
    E: EventPublisher,
    C: Clock,
{
    let (order, changed) = mutate_order(ports, &event.order_id, |o| {
        o.record_waiting_completion(
            event.order_number,
            event.task_token.clone(),
            ports.clock.now(),
        )
    })
    .await?;
    if changed && order.status() == OrderStatus::Queued {
        ports
            .events
            .publish(&[Event::waiting_completion(&order)])
            .await?;
    }
    Ok(handled(changed))
}

/// `OrderProcessor.OrderTimeOut`: the order times out and releases its capacity, unless it
/// finished first.
pub async fn handle_timeout<S, W, E, C>(
    ports: &OrderPorts<'_, S, W, E, C>,
    event: &OrderTimeOut,
) -> Result<Handled, UseCaseError>
where
    S: OrderRepository,
    W: WorkflowResumer,
    C: Clock,
{
    let (_, changed) = mutate_order(ports, &event.order_id, |o| {
        // Without a known cause, the order says which wait it was in.
        let wait = event.wait().unwrap_or(if o.barista_wait.is_some() {
            Wait::Barista
        } else {
            Wait::Drink
        });
        o.time_out(wait, ports.clock.now())
    })
    .await?;
    Ok(handled(changed))
}

/// `OrderProcessor.ShopUnavailable`: the order is rejected (it took no capacity).
pub async fn handle_shop_unavailable<S, W, E, C>(
    ports: &OrderPorts<'_, S, W, E, C>,
    event: &ShopUnavailable,
) -> Result<Handled, UseCaseError>
where
    S: OrderRepository,
    W: WorkflowResumer,
    C: Clock,
{
    let (_, changed) = mutate_order(ports, &event.order_id, |o| {
        o.reject(event.reason, ports.clock.now())
    })
    .await?;
    Ok(handled(changed))
}

/// `OrderProcessor.OrderFailed`: the order fails and releases its capacity if it held any.
pub async fn handle_order_failed<S, W, E, C>(
    ports: &OrderPorts<'_, S, W, E, C>,
    event: &OrderFailed,
) -> Result<Handled, UseCaseError>
where
    S: OrderRepository,
    W: WorkflowResumer,
    C: Clock,
{
    let failure = if event.error.is_empty() {
        "workflow failed".to_owned()
    } else {
        event.error.clone()
    };
    let (_, changed) = mutate_order(ports, &event.order_id, |o| {
        o.fail(&failure, event.capacity_taken, ports.clock.now())
    })
    .await?;
    Ok(handled(changed))
}

/// What an order found by the sweep fails with.
pub const ORPHAN_FAILURE: &str = "abandoned: still pending long past its drink deadline";

/// How many of an event's oldest pending orders one sweep looks at; a later sweep goes on.
pub const SWEEP_BATCH: usize = 100;

/// The scheduled sweep (order-timeouts on its `rate(...)` rule): fails every order of every
/// event that is still pending long past its drink deadline ([`super::qr::is_orphan`]),
/// because no workflow is looking after it (the validator died between storing it and
/// publishing its `Validator.NewOrder`, or the workflow's timeout never arrived). Failing
/// releases capacity (by order id: a no-op when it held none) and resumes no wait: any
/// workflow's heartbeat ran out long before. Each failure is a versioned order write, so a
/// sweep running twice fails nothing twice. Answers how many orders it failed.
pub async fn sweep_orphans<S, W, E, C>(
    ports: &OrderPorts<'_, S, W, E, C>,
) -> Result<usize, UseCaseError>
where
    S: OrderRepository + ConfigRepository,
    W: WorkflowResumer,
    C: Clock,
{
    let now = ports.clock.now();
    let mut failed = 0;
    for event in ports.store.list_events().await? {
        let pending = ports
            .store
            .list_by_status(&event, OrderStatus::Pending, SWEEP_BATCH)
            .await?;
        // Oldest first: the orphans come before the live orders.
        for order in pending.iter().take_while(|o| is_orphan(o, now)) {
            let (_, changed) = mutate_order(ports, &order.order_id, |o| {
                if is_orphan(o, now) {
                    o.fail(ORPHAN_FAILURE, false, now)
                } else {
                    Ok(None)
                }
            })
            .await?;
            if changed {
                failed += 1;
            }
        }
    }
    Ok(failed)
}

/// Routes any catalogue event to its handler; events no handler acts on are `Unchanged`.
pub async fn handle_event<S, W, E, C>(
    ports: &OrderPorts<'_, S, W, E, C>,
    event: &Event,
) -> Result<Handled, UseCaseError>
where
    S: OrderRepository,
    W: WorkflowResumer,
    E: EventPublisher,
    C: Clock,
{
    match event {
        Event::NewOrder(e) => handle_new_order(ports, e).await,
        Event::WorkflowStarted(e) => handle_workflow_started(ports, e).await,
        Event::ProcessorWaitingCompletion(e) => handle_waiting_completion(ports, e).await,
        Event::OrderTimeOut(e) => handle_timeout(ports, e).await,
        Event::ShopUnavailable(e) => handle_shop_unavailable(ports, e).await,
        Event::OrderFailed(e) => handle_order_failed(ports, e).await,
        _ => Ok(Handled::Unchanged),
    }
}
