//! What the HTTP API answers: views of domain values without anything internal (task tokens,
//! versions, capacity bookkeeping).

use crate::config::StoreState;
use crate::ids::{DisplayName, EventId, OrderId, OrderNumber, UserId};
use crate::menu::DrinkOrder;
use crate::order::{
    CancelledBy, Order, OrderState, OrderStatus, QueueEstimate, RejectReason, Wait,
};
use crate::qr::QrBucket;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// An order as its owner and the baristas see it (`GET /api/orders/{id}` and the lists).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderView {
    pub order_id: OrderId,
    pub event_id: EventId,
    pub user_id: UserId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<DisplayName>,
    pub state: OrderStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_number: Option<OrderNumber>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drink_order: Option<DrinkOrder>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub barista_user_id: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_by: Option<CancelledBy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timed_out_wait: Option<Wait>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reject_reason: Option<RejectReason>,
    pub robot: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Until when the customer may give the drink (pending orders only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drink_deadline: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queued_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Timestamp>,
    /// `queuePosition` and `estimatedWaitSeconds`, for queued and in-progress orders.
    #[serde(default, flatten, skip_serializing_if = "Option::is_none")]
    pub queue: Option<QueueEstimate>,
}

impl OrderView {
    pub fn of(order: &Order) -> Self {
        let (cancelled_by, timed_out_wait, reject_reason) = match &order.state {
            OrderState::Cancelled { cancelled_by, .. } => (Some(*cancelled_by), None, None),
            OrderState::TimedOut { timed_out_wait } => (None, Some(*timed_out_wait), None),
            OrderState::Rejected { reject_reason } => (None, None, Some(*reject_reason)),
            _ => (None, None, None),
        };
        let drink_deadline = (order.status() == OrderStatus::Pending).then(|| {
            order
                .created_at
                .plus_seconds(i64::from(Wait::DRINK_SECONDS))
        });
        Self {
            order_id: order.order_id.clone(),
            event_id: order.event_id.clone(),
            user_id: order.user_id.clone(),
            display_name: order.display_name.clone(),
            state: order.status(),
            order_number: order.order_number,
            drink_order: order.drink_order.clone(),
            barista_user_id: order.barista().cloned(),
            cancelled_by,
            timed_out_wait,
            reject_reason,
            robot: order.robot,
            created_at: order.created_at,
            updated_at: order.updated_at,
            drink_deadline,
            submitted_at: order.submitted_at,
            queued_at: order.queued_at,
            finished_at: order.finished_at,
            queue: None,
        }
    }

    pub fn with_queue(mut self, queue: Option<QueueEstimate>) -> Self {
        self.queue = queue;
        self
    }
}

/// The answer to a verified QR scan (`POST /api/qr-code`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewOrderView {
    pub order_id: OrderId,
    pub event_id: EventId,
    pub state: OrderStatus,
    pub drink_deadline: Timestamp,
}

/// The display's code (`GET /api/qr-code`): `{"bucket": {...}, "storeState": "open"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QrCodeView {
    pub bucket: QrBucket,
    pub store_state: StoreState,
}
