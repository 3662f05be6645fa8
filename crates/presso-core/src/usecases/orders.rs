//! The orders API: the customer's drink, barista actions, cancellation, reads and the journey.

use super::{
    MAX_LIST, OrderPorts, UseCaseError, mutate_order, require_admin, require_user, views::OrderView,
};
use crate::config::StoreConfig;
use crate::events::Event;
use crate::identity::Principal;
use crate::ids::{EventId, OrderId};
use crate::menu::DrinkRequest;
use crate::order::{CancelledBy, Order, OrderStatus, queue_estimate};
use crate::ports::{
    Clock, ConfigRepository, EventPublisher, JourneyEntry, OrderRepository, WorkflowResumer,
};
use serde::{Deserialize, Serialize};

/// `PUT /api/orders/{id}?action=...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OrderAction {
    Make,
    Unmake,
    Complete,
    Cancel,
}

impl OrderAction {
    pub fn parse(s: &str) -> Result<Self, UseCaseError> {
        match s {
            "make" => Ok(Self::Make),
            "unmake" => Ok(Self::Unmake),
            "complete" => Ok(Self::Complete),
            "cancel" => Ok(Self::Cancel),
            other => Err(UseCaseError::BadRequest(format!(
                "unknown action {:?}; expected make, unmake, complete or cancel",
                other.chars().take(32).collect::<String>()
            ))),
        }
    }
}

/// Loads an order the caller may see: the owner's, or any for an admin. Someone else's order
/// is "not found", so order ids leak nothing. `event` (the optional `eventId` query parameter)
/// must match when given.
async fn load_visible(
    orders: &impl OrderRepository,
    principal: &Principal,
    id: &OrderId,
    event: Option<&EventId>,
) -> Result<Order, UseCaseError> {
    let caller = require_user(principal)?;
    let order = orders
        .get(id)
        .await?
        .ok_or_else(|| UseCaseError::OrderNotFound(id.clone()))?;
    let visible = order.user_id == caller.user_id || caller.is_admin();
    if !visible || event.is_some_and(|e| *e != order.event_id) {
        return Err(UseCaseError::OrderNotFound(id.clone()));
    }
    Ok(order)
}

/// The customer gives the drink of their pending order. It is checked against the event's menu
/// and availability (422 with the reason otherwise), stored, and — if the workflow already
/// waits for it — the workflow is resumed, exactly once.
pub async fn submit_drink<S, W, E, C>(
    ports: &OrderPorts<'_, S, W, E, C>,
    principal: &Principal,
    order_id: &OrderId,
    event: Option<&EventId>,
    request: &DrinkRequest,
) -> Result<OrderView, UseCaseError>
where
    S: OrderRepository + ConfigRepository,
    W: WorkflowResumer,
    E: EventPublisher,
    C: Clock,
{
    let OrderPorts {
        store,
        events,
        clock,
        ..
    } = *ports;
    let caller = require_user(principal)?;
    let order = load_visible(store, principal, order_id, event).await?;
    if order.user_id != caller.user_id {
        // Admins may see any order, but the drink is the owner's to give.
        return Err(UseCaseError::OrderNotFound(order_id.clone()));
    }
    let config = ConfigRepository::get(store, &order.event_id)
        .await?
        .ok_or_else(|| UseCaseError::EventNotFound(order.event_id.clone()))?;
    let drink = config.menu.check_order(request)?;
    let (order, changed) = mutate_order(ports, order_id, |o| {
        o.submit_drink(drink.clone(), clock.now())
    })
    .await?;
    if changed {
        events.publish(&[Event::order_submitted(&order)]).await?;
    }
    Ok(OrderView::of(&order))
}

/// A barista's action on any order of any event (admin only).
pub async fn barista_action<S, W, E, C>(
    ports: &OrderPorts<'_, S, W, E, C>,
    principal: &Principal,
    order_id: &OrderId,
    event: Option<&EventId>,
    action: OrderAction,
) -> Result<OrderView, UseCaseError>
where
    S: OrderRepository,
    W: WorkflowResumer,
    E: EventPublisher,
    C: Clock,
{
    let OrderPorts {
        store,
        events,
        clock,
        ..
    } = *ports;
    let caller = require_admin(principal)?;
    load_visible(store, principal, order_id, event).await?;
    let barista = caller.user_id.clone();
    let (order, changed) = mutate_order(ports, order_id, |o| {
        let now = clock.now();
        match action {
            OrderAction::Make => o.make(&barista, now),
            OrderAction::Unmake => o.unmake(now),
            OrderAction::Complete => o.complete(&barista, now),
            OrderAction::Cancel => o.cancel(CancelledBy::Barista, &barista, now),
        }
    })
    .await?;
    if changed {
        let event = match action {
            OrderAction::Make => Event::make_order(&order),
            OrderAction::Unmake => Event::unmake_order(&order),
            OrderAction::Complete => Event::order_completed(&order),
            OrderAction::Cancel => Event::order_cancelled(&order),
        };
        events.publish(&[event]).await?;
    }
    Ok(OrderView::of(&order))
}

/// The owner cancels their order, until a barista starts making it.
pub async fn customer_cancel<S, W, E, C>(
    ports: &OrderPorts<'_, S, W, E, C>,
    principal: &Principal,
    order_id: &OrderId,
    event: Option<&EventId>,
) -> Result<OrderView, UseCaseError>
where
    S: OrderRepository,
    W: WorkflowResumer,
    E: EventPublisher,
    C: Clock,
{
    let OrderPorts {
        store,
        events,
        clock,
        ..
    } = *ports;
    let caller = require_user(principal)?;
    let order = load_visible(store, principal, order_id, event).await?;
    if order.user_id != caller.user_id {
        return Err(UseCaseError::OrderNotFound(order_id.clone()));
    }
    let user = caller.user_id.clone();
    let (order, changed) = mutate_order(ports, order_id, |o| {
        o.cancel(CancelledBy::Customer, &user, clock.now())
    })
    .await?;
    if changed {
        events.publish(&[Event::order_cancelled(&order)]).await?;
    }
    Ok(OrderView::of(&order))
}

/// `PUT /api/orders/{id}?action=`: barista actions for admins; `cancel` also for the owner
/// (an admin cancelling their own order cancels as a barista).
pub async fn order_action<S, W, E, C>(
    ports: &OrderPorts<'_, S, W, E, C>,
    principal: &Principal,
    order_id: &OrderId,
    event: Option<&EventId>,
    action: OrderAction,
) -> Result<OrderView, UseCaseError>
where
    S: OrderRepository,
    W: WorkflowResumer,
    E: EventPublisher,
    C: Clock,
{
    let caller = require_user(principal)?;
    if action == OrderAction::Cancel && !caller.is_admin() {
        return customer_cancel(ports, principal, order_id, event).await;
    }
    barista_action(ports, principal, order_id, event, action).await
}

/// One order with its queue position and estimated wait (owner or admin).
pub async fn get_order<S>(
    store: &S,
    principal: &Principal,
    order_id: &OrderId,
) -> Result<OrderView, UseCaseError>
where
    S: OrderRepository + ConfigRepository,
{
    let order = load_visible(store, principal, order_id, None).await?;
    let mut queue = None;
    if order.status().is_active() {
        let mut active = store
            .list_by_status(&order.event_id, OrderStatus::Queued, MAX_LIST)
            .await?;
        active.extend(
            store
                .list_by_status(&order.event_id, OrderStatus::InProgress, MAX_LIST)
                .await?,
        );
        let seconds_per_drink = ConfigRepository::get(store, &order.event_id)
            .await?
            .map_or(StoreConfig::DEFAULT_SECONDS_PER_DRINK, |c| {
                c.seconds_per_drink
            });
        queue = queue_estimate(&order, &active, seconds_per_drink);
    }
    Ok(OrderView::of(&order).with_queue(queue))
}

/// An event's orders in one state, oldest first (admin only).
pub async fn list_orders(
    orders: &impl OrderRepository,
    principal: &Principal,
    event: &EventId,
    status: OrderStatus,
    limit: Option<usize>,
) -> Result<Vec<OrderView>, UseCaseError> {
    require_admin(principal)?;
    let limit = limit.unwrap_or(100).clamp(1, MAX_LIST);
    let list = orders.list_by_status(event, status, limit).await?;
    Ok(list.iter().map(OrderView::of).collect())
}

/// The caller's own orders, newest first, optionally in one event.
pub async fn my_orders(
    orders: &impl OrderRepository,
    principal: &Principal,
    event: Option<&EventId>,
    limit: Option<usize>,
) -> Result<Vec<OrderView>, UseCaseError> {
    let caller = require_user(principal)?;
    let limit = limit.unwrap_or(100).clamp(1, MAX_LIST);
    let list = orders.list_by_user(&caller.user_id, MAX_LIST).await?;
    Ok(list
        .iter()
        .filter(|o| event.is_none_or(|e| *e == o.event_id))
        .take(limit)
        .map(OrderView::of)
        .collect())
}

/// Every event of an order, in order (owner or admin).
pub async fn order_journey(
    orders: &impl OrderRepository,
    principal: &Principal,
    order_id: &OrderId,
) -> Result<Vec<JourneyEntry>, UseCaseError> {
    load_visible(orders, principal, order_id, None).await?;
    let mut journey = orders.journey(order_id).await?;
    journey.sort_by(|a, b| {
        let rank = |e: &JourneyEntry| {
            (
                e.at,
                crate::events::detail_type::lifecycle_rank(&e.detail_type),
            )
        };
        rank(a).cmp(&rank(b)).then_with(|| a.key().cmp(&b.key()))
    });
    Ok(journey)
}
