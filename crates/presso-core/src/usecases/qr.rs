//! The validator: QR codes for displays, and verified scans that create orders.

use super::views::{NewOrderView, QrCodeView};
use super::{MAX_LIST, UseCaseError, require_admin, require_user};
use crate::config::StoreState;
use crate::events::{BucketSnapshot, Event, NewOrder, messages};
use crate::identity::Principal;
use crate::ids::{EventId, OrderId, QrToken};
use crate::order::{Order, OrderStatus, Wait};
use crate::ports::{
    Clock, ConfigRepository, EventPublisher, OrderRepository, QrRepository, Randomness,
    TakeTokenError,
};
use crate::qr::{QrBucket, QrError, WINDOW_MS, WindowId, accepting_windows, find_bucket_for};
use crate::time::Timestamp;

/// The ports of the validator.
pub struct QrPorts<'a, S, E, C, R> {
    pub store: &'a S,
    pub events: &'a E,
    pub clock: &'a C,
    pub rng: &'a R,
}

/// How often a fresh order id is drawn when the generated one exists already.
const ID_ATTEMPTS: usize = 3;

/// The current window's code for an event's displays (admin only). Creates the bucket if the
/// window has none yet; when two displays race, both get the winner's bucket.
pub async fn get_qr_code<S, E, C, R>(
    ports: &QrPorts<'_, S, E, C, R>,
    principal: &Principal,
    event: &EventId,
) -> Result<QrCodeView, UseCaseError>
where
    S: ConfigRepository + QrRepository,
    C: Clock,
    R: Randomness,
{
    require_admin(principal)?;
    let config = ConfigRepository::get(ports.store, event)
        .await?
        .ok_or_else(|| UseCaseError::EventNotFound(event.clone()))?;
    let now = ports.clock.now();
    let window = WindowId::containing(now);
    let bucket = match ports.store.get_bucket(event, window).await? {
        Some(b) => b,
        None => {
            let fresh = QrBucket::new(
                event.clone(),
                window,
                QrToken::generate(ports.rng),
                config.drinks_per_barcode,
                now,
            );
            ports.store.create_bucket(&fresh).await?
        }
    };
    Ok(QrCodeView {
        bucket,
        store_state: config.store_state(),
    })
}

/// A customer's scan: checks the code (current window, or the previous one within its 15 s of
/// grace), the store state and the customer's open orders; then, in one transaction, takes a
/// token and creates the pending order owned by the caller; then emits `Validator.NewOrder`,
/// which starts the workflow.
/// How long past its drink deadline a still-pending order must be before it counts as an
/// orphan: an order whose workflow never started, because the process died between storing
/// it and publishing its `Validator.NewOrder` (its customer was never answered). A live
/// workflow times a pending order out at the deadline, so by then it is long finished.
pub const ORPHAN_AFTER_SECONDS: i64 = 15 * 60;

/// Still pending long after its drink deadline: no workflow is looking after it, and it does
/// not count against its customer's open orders.
pub fn is_orphan(order: &Order, now: Timestamp) -> bool {
    order.status() == OrderStatus::Pending
        && now.millis_since(order.created_at)
            > (i64::from(Wait::DRINK_SECONDS) + ORPHAN_AFTER_SECONDS) * 1000
}

pub async fn verify_qr_and_create_order<S, E, C, R>(
    ports: &QrPorts<'_, S, E, C, R>,
    principal: &Principal,
    event: &EventId,
    token: &str,
) -> Result<NewOrderView, UseCaseError>
where
    S: ConfigRepository + QrRepository + OrderRepository,
    E: EventPublisher,
    C: Clock,
    R: Randomness,
{
    let caller = require_user(principal)?;
    let code = QrToken::parse(token).map_err(|_| QrError::InvalidCode)?;
    let config = ConfigRepository::get(ports.store, event)
        .await?
        .ok_or_else(|| UseCaseError::EventNotFound(event.clone()))?;
    match config.store_state() {
        StoreState::Closed => return Err(UseCaseError::StoreClosed),
        StoreState::Paused => return Err(UseCaseError::StorePaused),
        StoreState::Open => {}
    }

    let now = ports.clock.now();
    let open_orders = ports
        .store
        .list_by_user(&caller.user_id, MAX_LIST)
        .await?
        .iter()
        .filter(|o| &o.event_id == event && !o.is_finished() && !is_orphan(o, now))
        .count();
    if open_orders >= usize::try_from(config.max_orders_per_user).unwrap_or(usize::MAX) {
        return Err(UseCaseError::TooManyOpenOrders {
            max: config.max_orders_per_user,
        });
    }

    let mut buckets = Vec::new();
    for window in accepting_windows(now) {
        if let Some(b) = ports.store.get_bucket(event, window).await? {
            buckets.push(b);
        }
    }
    let bucket = find_bucket_for(&buckets, &code, now)?;
    let exhausted = || QrError::NoTokensRemaining {
        next_window_at: WindowId::containing(now).start().plus_millis(WINDOW_MS),
    };
    if bucket.available_tokens == 0 {
        return Err(exhausted().into());
    }

    for _ in 0..ID_ATTEMPTS {
        let order = Order::new_pending(
            OrderId::generate(ports.rng),
            event.clone(),
            caller.user_id.clone(),
            caller.display_name.clone(),
            now,
        );
        let after = match ports
            .store
            .take_token(event, bucket.window_id, &code, &order)
            .await
        {
            Ok(after) => after,
            Err(TakeTokenError::OrderExists) => continue,
            Err(TakeTokenError::InvalidCode) => return Err(QrError::InvalidCode.into()),
            Err(TakeTokenError::Exhausted) => return Err(exhausted().into()),
            Err(TakeTokenError::Store(e)) => return Err(e.into()),
        };
        let new_order = Event::NewOrder(NewOrder {
            order_id: order.order_id.clone(),
            user_id: order.user_id.clone(),
            event_id: order.event_id.clone(),
            state: order.status(),
            display_name: order.display_name.clone(),
            robot: order.robot,
            bucket: Some(BucketSnapshot::of(&after)),
            message: messages::NEW_ORDER.to_owned(),
        });
        if let Err(e) = ports.events.publish(&[new_order]).await {
            // Without the event no workflow starts: fail the order so it does not count against
            // the customer's open orders, and report the failure.
            if let Ok(Some(change)) = order.fail("the order could not be started", false, now) {
                let _ = ports.store.save(&change).await;
            }
            return Err(e.into());
        }
        return Ok(NewOrderView {
            order_id: order.order_id.clone(),
            event_id: order.event_id.clone(),
            state: order.status(),
            drink_deadline: now.plus_seconds(i64::from(Wait::DRINK_SECONDS)),
        });
    }
    Err(UseCaseError::Contention)
}
