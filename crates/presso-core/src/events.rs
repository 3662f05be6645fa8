//! The event catalogue: every EventBridge event of the system as a typed detail, with its
//! static detail-type; where each one is published over MQTT; and the MQTT payload.
//!
//! Invariants:
//! - detail-types are static strings ([`detail_type`]); the event id and the order's state
//!   travel in the detail (`eventId`, `state`), never in the detail-type;
//! - every order event carries `orderId`, `userId`, `eventId` and `state`, so every handler can
//!   be idempotent on `(orderId, detail-type, state)` ([`Event::idempotency_key`]);
//! - task tokens travel only in the two workflow events that hand them over
//!   (`OrderProcessor.WorkflowStarted`, `OrderProcessor.WaitingCompletion`) and are stripped
//!   from every MQTT payload ([`MqttMessage::from_event`]).

use crate::config::{ConfigView, StoreConfig, StoreState};
use crate::ids::{DisplayName, EventId, OrderId, OrderNumber, TaskToken, UserId};
use crate::menu::DrinkOrder;
use crate::order::{CancelledBy, Order, OrderState, OrderStatus, RejectReason, Wait};
use crate::qr::{QrBucket, WindowId};
use crate::time::Timestamp;
use crate::topics::Topic;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The `source` of every application event.
pub const SOURCE: &str = "awsserverlessda.serverlesspresso";
/// The custom event bus.
pub const BUS_NAME: &str = "Serverlesspresso";

/// The detail-types, one constant each.
pub mod detail_type {
    pub const NEW_ORDER: &str = "Validator.NewOrder";
    pub const WORKFLOW_STARTED: &str = "OrderProcessor.WorkflowStarted";
    pub const SHOP_UNAVAILABLE: &str = "OrderProcessor.ShopUnavailable";
    pub const PROCESSOR_WAITING_COMPLETION: &str = "OrderProcessor.WaitingCompletion";
    pub const ORDER_TIME_OUT: &str = "OrderProcessor.OrderTimeOut";
    /// Lower-case `o`, as in the reference.
    pub const ORDER_FINISHED: &str = "OrderProcessor.orderFinished";
    pub const ORDER_FAILED: &str = "OrderProcessor.OrderFailed";
    pub const ORDER_SUBMITTED: &str = "OrderManager.OrderSubmitted";
    pub const WAITING_COMPLETION: &str = "OrderManager.WaitingCompletion";
    pub const MAKE_ORDER: &str = "OrderManager.MakeOrder";
    pub const UNMAKE_ORDER: &str = "OrderManager.UnmakeOrder";
    pub const ORDER_COMPLETED: &str = "OrderManager.OrderCompleted";
    pub const ORDER_CANCELLED: &str = "OrderManager.OrderCancelled";
    pub const CONFIG_CHANGED: &str = "ConfigService.ConfigChanged";

    /// Where a detail-type comes in an order's life: how the journey orders events of the same
    /// time (EventBridge's `time` has whole seconds, so a fast journey shares one). A drink
    /// submitted before the workflow's first wait still sorts after `WorkflowStarted` then.
    pub fn lifecycle_rank(detail_type: &str) -> u8 {
        match detail_type {
            NEW_ORDER => 0,
            WORKFLOW_STARTED => 1,
            ORDER_SUBMITTED | SHOP_UNAVAILABLE => 2,
            PROCESSOR_WAITING_COMPLETION => 3,
            WAITING_COMPLETION => 4,
            MAKE_ORDER => 5,
            UNMAKE_ORDER => 6,
            ORDER_COMPLETED | ORDER_CANCELLED => 7,
            ORDER_TIME_OUT | ORDER_FAILED => 8,
            ORDER_FINISHED => 9,
            _ => 10,
        }
    }

    /// Every detail-type of the catalogue.
    pub const ALL: [&str; 14] = [
        NEW_ORDER,
        WORKFLOW_STARTED,
        SHOP_UNAVAILABLE,
        PROCESSOR_WAITING_COMPLETION,
        ORDER_TIME_OUT,
        ORDER_FINISHED,
        ORDER_FAILED,
        ORDER_SUBMITTED,
        WAITING_COMPLETION,
        MAKE_ORDER,
        UNMAKE_ORDER,
        ORDER_COMPLETED,
        ORDER_CANCELLED,
        CONFIG_CHANGED,
    ];
}

/// One row of the catalogue, for ARCHITECTURE.md and the docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatalogueEntry {
    pub detail_type: &'static str,
    pub emitted_by: &'static str,
    pub handled_by: &'static str,
    pub meaning: &'static str,
}

/// Every event: who emits it, who acts on it (besides the publisher, which forwards all of them
/// to [`Event::topics`], and the journey, which records every order event).
pub const CATALOGUE: [CatalogueEntry; 14] = [
    CatalogueEntry {
        detail_type: detail_type::NEW_ORDER,
        emitted_by: "validator (POST /api/qr-code)",
        handled_by: "Order Processor workflow (start)",
        meaning: "a QR code was verified; the order exists, pending",
    },
    CatalogueEntry {
        detail_type: detail_type::WORKFLOW_STARTED,
        emitted_by: "Order Processor (putEvents.waitForTaskToken, 300 s)",
        handled_by: "workflow-started",
        meaning: "capacity taken; waiting for the customer's drink",
    },
    CatalogueEntry {
        detail_type: detail_type::SHOP_UNAVAILABLE,
        emitted_by: "Order Processor",
        handled_by: "order-timeouts (rejects the order)",
        meaning: "store closed, paused or at capacity; the order is rejected",
    },
    CatalogueEntry {
        detail_type: detail_type::PROCESSOR_WAITING_COMPLETION,
        emitted_by: "Order Processor (putEvents.waitForTaskToken, 900 s)",
        handled_by: "waiting-completion",
        meaning: "order number allocated; waiting for the barista",
    },
    CatalogueEntry {
        detail_type: detail_type::ORDER_TIME_OUT,
        emitted_by: "Order Processor (heartbeat expired)",
        handled_by: "order-timeouts",
        meaning: "the customer or the barista did not act in time",
    },
    CatalogueEntry {
        detail_type: detail_type::ORDER_FINISHED,
        emitted_by: "Order Processor",
        handled_by: "(publisher, journey)",
        meaning: "the workflow ended after the barista's wait",
    },
    CatalogueEntry {
        detail_type: detail_type::ORDER_FAILED,
        emitted_by: "Order Processor (catch-all)",
        handled_by: "order-timeouts (fails the order)",
        meaning: "the workflow failed; capacity is released",
    },
    CatalogueEntry {
        detail_type: detail_type::ORDER_SUBMITTED,
        emitted_by: "order-manager (PUT /api/orders/{id})",
        handled_by: "(publisher, journey)",
        meaning: "the customer gave a valid drink",
    },
    CatalogueEntry {
        detail_type: detail_type::WAITING_COMPLETION,
        emitted_by: "waiting-completion",
        handled_by: "(publisher, journey)",
        meaning: "the order is in the barista's queue with its number",
    },
    CatalogueEntry {
        detail_type: detail_type::MAKE_ORDER,
        emitted_by: "order-manager (action=make)",
        handled_by: "(publisher, journey)",
        meaning: "a barista is making the drink",
    },
    CatalogueEntry {
        detail_type: detail_type::UNMAKE_ORDER,
        emitted_by: "order-manager (action=unmake)",
        handled_by: "(publisher, journey)",
        meaning: "the order went back to the queue",
    },
    CatalogueEntry {
        detail_type: detail_type::ORDER_COMPLETED,
        emitted_by: "order-manager (action=complete)",
        handled_by: "(publisher, journey)",
        meaning: "ready for collection",
    },
    CatalogueEntry {
        detail_type: detail_type::ORDER_CANCELLED,
        emitted_by: "order-manager (action=cancel)",
        handled_by: "(publisher, journey)",
        meaning: "cancelled by the customer or a barista",
    },
    CatalogueEntry {
        detail_type: detail_type::CONFIG_CHANGED,
        emitted_by: "config (PUT/POST /api/events/...)",
        handled_by: "(publisher)",
        meaning: "store state, limits or menu changed",
    },
];

fn pending() -> OrderStatus {
    OrderStatus::Pending
}
fn queued() -> OrderStatus {
    OrderStatus::Queued
}
fn timed_out() -> OrderStatus {
    OrderStatus::TimedOut
}
fn rejected() -> OrderStatus {
    OrderStatus::Rejected
}
fn failed() -> OrderStatus {
    OrderStatus::Failed
}

/// The bucket as `Validator.NewOrder` reports it (the display hides the QR at 0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BucketSnapshot {
    pub window_id: WindowId,
    /// After this order's token was taken.
    pub available_tokens: u32,
    pub tokens_per_window: u32,
    pub valid_until: Timestamp,
}

impl BucketSnapshot {
    pub fn of(bucket: &QrBucket) -> Self {
        Self {
            window_id: bucket.window_id,
            available_tokens: bucket.available_tokens,
            tokens_per_window: bucket.tokens_per_window,
            valid_until: bucket.valid_until,
        }
    }
}

/// `Validator.NewOrder`: a QR code was verified and the order created. Starts the workflow,
/// whose input reads `$.detail.orderId`, `$.detail.userId` and `$.detail.eventId`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewOrder {
    pub order_id: OrderId,
    pub user_id: UserId,
    pub event_id: EventId,
    #[serde(default = "pending")]
    pub state: OrderStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<DisplayName>,
    #[serde(default)]
    pub robot: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<BucketSnapshot>,
    #[serde(rename = "Message", default)]
    pub message: String,
}

/// `OrderProcessor.WorkflowStarted`: the workflow took capacity and waits (up to 300 s) for the
/// drink; `TaskToken` resumes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowStarted {
    pub order_id: OrderId,
    pub user_id: UserId,
    pub event_id: EventId,
    #[serde(default = "pending")]
    pub state: OrderStatus,
    #[serde(rename = "TaskToken")]
    pub task_token: TaskToken,
    #[serde(rename = "Message", default)]
    pub message: String,
}

/// `OrderProcessor.ShopUnavailable`: the store was closed, paused or full; the order is
/// rejected. Unlike the reference, it names the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShopUnavailable {
    pub order_id: OrderId,
    pub user_id: UserId,
    pub event_id: EventId,
    #[serde(default = "rejected")]
    pub state: OrderStatus,
    pub reason: RejectReason,
    #[serde(rename = "Message", default)]
    pub message: String,
}

/// `OrderProcessor.WaitingCompletion`: the number is allocated; the workflow waits (up to
/// 900 s) for the barista; `TaskToken` resumes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessorWaitingCompletion {
    pub order_id: OrderId,
    pub user_id: UserId,
    pub event_id: EventId,
    pub order_number: OrderNumber,
    #[serde(default = "queued")]
    pub state: OrderStatus,
    #[serde(rename = "TaskToken")]
    pub task_token: TaskToken,
    #[serde(rename = "Message", default)]
    pub message: String,
}

/// `OrderProcessor.OrderTimeOut`: a wait's heartbeat expired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderTimeOut {
    pub order_id: OrderId,
    pub user_id: UserId,
    pub event_id: EventId,
    #[serde(default = "timed_out")]
    pub state: OrderStatus,
    /// `"Customer timedout"` or `"Barista timedout"`, as in the reference.
    pub cause: String,
    #[serde(rename = "Message", default)]
    pub message: String,
}

impl OrderTimeOut {
    /// Which wait timed out, when the cause says.
    pub fn wait(&self) -> Option<Wait> {
        Wait::from_cause(&self.cause)
    }
}

/// `OrderProcessor.orderFinished`: the workflow ended after the barista's wait.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderFinished {
    pub order_id: OrderId,
    pub user_id: UserId,
    pub event_id: EventId,
    /// The outcome the wait was resumed with (`completed`, `cancelled`), when the workflow
    /// passes it on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(rename = "Message", default)]
    pub message: String,
}

/// `OrderProcessor.OrderFailed`: the workflow's catch-all; the order is failed and its
/// capacity, if taken, released.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderFailed {
    pub order_id: OrderId,
    pub user_id: UserId,
    pub event_id: EventId,
    #[serde(default = "failed")]
    pub state: OrderStatus,
    #[serde(default)]
    pub error: String,
    #[serde(default)]
    pub cause: String,
    /// Whether the workflow had taken capacity before failing.
    #[serde(default)]
    pub capacity_taken: bool,
    #[serde(rename = "Message", default)]
    pub message: String,
}

/// The detail of every `OrderManager.*` event: the order as the apps show it, never its task
/// tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderDetail {
    pub order_id: OrderId,
    pub user_id: UserId,
    pub event_id: EventId,
    pub state: OrderStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<DisplayName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_number: Option<OrderNumber>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drink_order: Option<DrinkOrder>,
    /// Who is making (or made) the drink.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub barista_user_id: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_by: Option<CancelledBy>,
    #[serde(default)]
    pub robot: bool,
    /// When the order last changed (epoch ms), as the reference's `TS`.
    #[serde(rename = "TS")]
    pub ts: Timestamp,
    #[serde(rename = "Message", default)]
    pub message: String,
}

impl OrderDetail {
    pub fn of(order: &Order, message: &str) -> Self {
        let cancelled_by = match &order.state {
            OrderState::Cancelled { cancelled_by, .. } => Some(*cancelled_by),
            _ => None,
        };
        Self {
            order_id: order.order_id.clone(),
            user_id: order.user_id.clone(),
            event_id: order.event_id.clone(),
            state: order.status(),
            display_name: order.display_name.clone(),
            order_number: order.order_number,
            drink_order: order.drink_order.clone(),
            barista_user_id: order.barista().cloned(),
            cancelled_by,
            robot: order.robot,
            ts: order.updated_at,
            message: message.to_owned(),
        }
    }
}

/// `ConfigService.ConfigChanged`: an event's config changed (store state, limits or menu).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigChanged {
    pub event_id: EventId,
    /// The store state after the change.
    pub state: StoreState,
    pub config: ConfigView,
    #[serde(rename = "Message", default)]
    pub message: String,
}

impl ConfigChanged {
    pub fn of(config: &StoreConfig) -> Self {
        Self {
            event_id: config.event_id.clone(),
            state: config.store_state(),
            config: config.view(),
            message: messages::CONFIG_CHANGED.to_owned(),
        }
    }
}

/// The didactic sentences the journey page shows (the reference's texts, typos fixed).
pub mod messages {
    pub const NEW_ORDER: &str = "A QR code was scanned and verified. The validator created the order and emitted this event, which starts the Order Processor workflow.";
    pub const WORKFLOW_STARTED: &str = "The workflow waits for your order to be submitted. It emits an event with a unique 'task token'. The token is stored in an Amazon DynamoDB table, along with your order ID.";
    pub const SHOP_UNAVAILABLE: &str = "The shop was not ready, and so a 'not ready' event is emitted to cancel the current order.";
    pub const PROCESSOR_WAITING_COMPLETION: &str = "The workflow allocated an order number and now waits for the barista to complete the order.";
    pub const ORDER_TIME_OUT: &str = "The order timed out. Step Functions waits a set amount of time (5 minutes for a customer, 15 minutes for a barista), no action was taken and so the order is ended.";
    pub const ORDER_FINISHED: &str = "The order has reached the end of the workflow.";
    pub const ORDER_FAILED: &str = "The workflow failed, so the order was ended.";
    pub const ORDER_SUBMITTED: &str =
        "You chose your drink. The order manager checked it against the menu and stored it.";
    pub const WAITING_COMPLETION: &str =
        "Your order is in the queue. It appears on the barista's tablet and on the display.";
    pub const MAKE_ORDER: &str =
        "The barista has pressed the 'Make order' button, and your drink is being made.";
    pub const UNMAKE_ORDER: &str = "The barista put your order back in the queue.";
    pub const ORDER_COMPLETED: &str =
        "The barista has completed the order. It is ready for collection.";
    pub const ORDER_CANCELLED: &str = "The order was cancelled.";
    pub const CONFIG_CHANGED: &str = "The store configuration changed.";
}

/// One event of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    NewOrder(NewOrder),
    WorkflowStarted(WorkflowStarted),
    ShopUnavailable(ShopUnavailable),
    ProcessorWaitingCompletion(ProcessorWaitingCompletion),
    OrderTimeOut(OrderTimeOut),
    OrderFinished(OrderFinished),
    OrderFailed(OrderFailed),
    OrderSubmitted(OrderDetail),
    WaitingCompletion(OrderDetail),
    MakeOrder(OrderDetail),
    UnmakeOrder(OrderDetail),
    OrderCompleted(OrderDetail),
    OrderCancelled(OrderDetail),
    ConfigChanged(ConfigChanged),
}

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("unknown detail-type {0:?}")]
    UnknownDetailType(String),
    #[error("bad {detail_type} detail: {source}")]
    BadDetail {
        detail_type: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("could not serialise the detail: {0}")]
    Serialise(#[source] serde_json::Error),
}

fn parse<T: DeserializeOwned>(dt: &'static str, detail: Value) -> Result<T, EventError> {
    serde_json::from_value(detail).map_err(|source| EventError::BadDetail {
        detail_type: dt,
        source,
    })
}

impl Event {
    /// Reads an event from its detail-type and detail (an EventBridge envelope's two fields).
    pub fn from_parts(detail_type: &str, detail: Value) -> Result<Self, EventError> {
        use self::detail_type as dt;
        // A state machine may hand the detail over as a JSON string (`States.JsonToString`).
        let detail = match detail {
            Value::String(s) => serde_json::from_str(&s).unwrap_or(Value::String(s)),
            other => other,
        };
        Ok(match detail_type {
            dt::NEW_ORDER => Self::NewOrder(parse(dt::NEW_ORDER, detail)?),
            dt::WORKFLOW_STARTED => Self::WorkflowStarted(parse(dt::WORKFLOW_STARTED, detail)?),
            dt::SHOP_UNAVAILABLE => Self::ShopUnavailable(parse(dt::SHOP_UNAVAILABLE, detail)?),
            dt::PROCESSOR_WAITING_COMPLETION => {
                Self::ProcessorWaitingCompletion(parse(dt::PROCESSOR_WAITING_COMPLETION, detail)?)
            }
            dt::ORDER_TIME_OUT => Self::OrderTimeOut(parse(dt::ORDER_TIME_OUT, detail)?),
            dt::ORDER_FINISHED => Self::OrderFinished(parse(dt::ORDER_FINISHED, detail)?),
            dt::ORDER_FAILED => Self::OrderFailed(parse(dt::ORDER_FAILED, detail)?),
            dt::ORDER_SUBMITTED => Self::OrderSubmitted(parse(dt::ORDER_SUBMITTED, detail)?),
            dt::WAITING_COMPLETION => {
                Self::WaitingCompletion(parse(dt::WAITING_COMPLETION, detail)?)
            }
            dt::MAKE_ORDER => Self::MakeOrder(parse(dt::MAKE_ORDER, detail)?),
            dt::UNMAKE_ORDER => Self::UnmakeOrder(parse(dt::UNMAKE_ORDER, detail)?),
            dt::ORDER_COMPLETED => Self::OrderCompleted(parse(dt::ORDER_COMPLETED, detail)?),
            dt::ORDER_CANCELLED => Self::OrderCancelled(parse(dt::ORDER_CANCELLED, detail)?),
            dt::CONFIG_CHANGED => Self::ConfigChanged(parse(dt::CONFIG_CHANGED, detail)?),
            other => {
                return Err(EventError::UnknownDetailType(
                    other.chars().take(128).collect(),
                ));
            }
        })
    }

    pub fn detail_type(&self) -> &'static str {
        use self::detail_type as dt;
        match self {
            Self::NewOrder(_) => dt::NEW_ORDER,
            Self::WorkflowStarted(_) => dt::WORKFLOW_STARTED,
            Self::ShopUnavailable(_) => dt::SHOP_UNAVAILABLE,
            Self::ProcessorWaitingCompletion(_) => dt::PROCESSOR_WAITING_COMPLETION,
            Self::OrderTimeOut(_) => dt::ORDER_TIME_OUT,
            Self::OrderFinished(_) => dt::ORDER_FINISHED,
            Self::OrderFailed(_) => dt::ORDER_FAILED,
            Self::OrderSubmitted(_) => dt::ORDER_SUBMITTED,
            Self::WaitingCompletion(_) => dt::WAITING_COMPLETION,
            Self::MakeOrder(_) => dt::MAKE_ORDER,
            Self::UnmakeOrder(_) => dt::UNMAKE_ORDER,
            Self::OrderCompleted(_) => dt::ORDER_COMPLETED,
            Self::OrderCancelled(_) => dt::ORDER_CANCELLED,
            Self::ConfigChanged(_) => dt::CONFIG_CHANGED,
        }
    }

    /// The detail as JSON (what `PutEvents` sends as `Detail`).
    pub fn detail(&self) -> Result<Value, EventError> {
        let v = match self {
            Self::NewOrder(d) => serde_json::to_value(d),
            Self::WorkflowStarted(d) => serde_json::to_value(d),
            Self::ShopUnavailable(d) => serde_json::to_value(d),
            Self::ProcessorWaitingCompletion(d) => serde_json::to_value(d),
            Self::OrderTimeOut(d) => serde_json::to_value(d),
            Self::OrderFinished(d) => serde_json::to_value(d),
            Self::OrderFailed(d) => serde_json::to_value(d),
            Self::OrderSubmitted(d)
            | Self::WaitingCompletion(d)
            | Self::MakeOrder(d)
            | Self::UnmakeOrder(d)
            | Self::OrderCompleted(d)
            | Self::OrderCancelled(d) => serde_json::to_value(d),
            Self::ConfigChanged(d) => serde_json::to_value(d),
        };
        v.map_err(EventError::Serialise)
    }

    pub fn event_id(&self) -> &EventId {
        match self {
            Self::NewOrder(d) => &d.event_id,
            Self::WorkflowStarted(d) => &d.event_id,
            Self::ShopUnavailable(d) => &d.event_id,
            Self::ProcessorWaitingCompletion(d) => &d.event_id,
            Self::OrderTimeOut(d) => &d.event_id,
            Self::OrderFinished(d) => &d.event_id,
            Self::OrderFailed(d) => &d.event_id,
            Self::OrderSubmitted(d)
            | Self::WaitingCompletion(d)
            | Self::MakeOrder(d)
            | Self::UnmakeOrder(d)
            | Self::OrderCompleted(d)
            | Self::OrderCancelled(d) => &d.event_id,
            Self::ConfigChanged(d) => &d.event_id,
        }
    }

    /// The order and its owner, for order events.
    pub fn order(&self) -> Option<(&OrderId, &UserId)> {
        match self {
            Self::NewOrder(d) => Some((&d.order_id, &d.user_id)),
            Self::WorkflowStarted(d) => Some((&d.order_id, &d.user_id)),
            Self::ShopUnavailable(d) => Some((&d.order_id, &d.user_id)),
            Self::ProcessorWaitingCompletion(d) => Some((&d.order_id, &d.user_id)),
            Self::OrderTimeOut(d) => Some((&d.order_id, &d.user_id)),
            Self::OrderFinished(d) => Some((&d.order_id, &d.user_id)),
            Self::OrderFailed(d) => Some((&d.order_id, &d.user_id)),
            Self::OrderSubmitted(d)
            | Self::WaitingCompletion(d)
            | Self::MakeOrder(d)
            | Self::UnmakeOrder(d)
            | Self::OrderCompleted(d)
            | Self::OrderCancelled(d) => Some((&d.order_id, &d.user_id)),
            Self::ConfigChanged(_) => None,
        }
    }

    /// The `state` of the detail: an order state name, or the store state for config events.
    /// `orderFinished` has none of its own and reports `finished`.
    pub fn state_name(&self) -> &'static str {
        match self {
            Self::NewOrder(d) => d.state.as_str(),
            Self::WorkflowStarted(d) => d.state.as_str(),
            Self::ShopUnavailable(d) => d.state.as_str(),
            Self::ProcessorWaitingCompletion(d) => d.state.as_str(),
            Self::OrderTimeOut(d) => d.state.as_str(),
            Self::OrderFinished(_) => "finished",
            Self::OrderFailed(d) => d.state.as_str(),
            Self::OrderSubmitted(d)
            | Self::WaitingCompletion(d)
            | Self::MakeOrder(d)
            | Self::UnmakeOrder(d)
            | Self::OrderCompleted(d)
            | Self::OrderCancelled(d) => d.state.as_str(),
            Self::ConfigChanged(d) => d.state.as_str(),
        }
    }

    /// `<orderId>|<detail-type>|<state>`: what every order-event handler is idempotent on.
    pub fn idempotency_key(&self) -> Option<String> {
        self.order()
            .map(|(id, _)| format!("{id}|{}|{}", self.detail_type(), self.state_name()))
    }

    /// The MQTT topics the publisher forwards this event to.
    ///
    /// Order events go to the event's admin topic and, except `Validator.NewOrder` (the
    /// customer learns of the order from the HTTP response), to the owner's user topic.
    /// Config changes go to the event's config and admin topics.
    pub fn topics(&self) -> Vec<Topic> {
        let admin = Topic::Admin(self.event_id().clone());
        match self {
            Self::NewOrder(_) => vec![admin],
            Self::ConfigChanged(d) => vec![Topic::Config(d.event_id.clone()), admin],
            _ => match self.order() {
                Some((_, user)) => vec![admin, Topic::User(user.clone())],
                None => vec![admin],
            },
        }
    }

    /// The didactic sentence for a detail-type.
    pub fn default_message(detail_type: &str) -> &'static str {
        use self::detail_type as dt;
        match detail_type {
            dt::NEW_ORDER => messages::NEW_ORDER,
            dt::WORKFLOW_STARTED => messages::WORKFLOW_STARTED,
            dt::SHOP_UNAVAILABLE => messages::SHOP_UNAVAILABLE,
            dt::PROCESSOR_WAITING_COMPLETION => messages::PROCESSOR_WAITING_COMPLETION,
            dt::ORDER_TIME_OUT => messages::ORDER_TIME_OUT,
            dt::ORDER_FINISHED => messages::ORDER_FINISHED,
            dt::ORDER_FAILED => messages::ORDER_FAILED,
            dt::ORDER_SUBMITTED => messages::ORDER_SUBMITTED,
            dt::WAITING_COMPLETION => messages::WAITING_COMPLETION,
            dt::MAKE_ORDER => messages::MAKE_ORDER,
            dt::UNMAKE_ORDER => messages::UNMAKE_ORDER,
            dt::ORDER_COMPLETED => messages::ORDER_COMPLETED,
            dt::ORDER_CANCELLED => messages::ORDER_CANCELLED,
            dt::CONFIG_CHANGED => messages::CONFIG_CHANGED,
            _ => "",
        }
    }

    /// An `OrderManager.*` event about `order`, chosen by `make`.
    pub fn about(order: &Order, make: fn(OrderDetail) -> Event, detail_type: &str) -> Event {
        make(OrderDetail::of(order, Self::default_message(detail_type)))
    }

    pub fn order_submitted(order: &Order) -> Event {
        Self::about(order, Event::OrderSubmitted, detail_type::ORDER_SUBMITTED)
    }
    pub fn waiting_completion(order: &Order) -> Event {
        Self::about(
            order,
            Event::WaitingCompletion,
            detail_type::WAITING_COMPLETION,
        )
    }
    pub fn make_order(order: &Order) -> Event {
        Self::about(order, Event::MakeOrder, detail_type::MAKE_ORDER)
    }
    pub fn unmake_order(order: &Order) -> Event {
        Self::about(order, Event::UnmakeOrder, detail_type::UNMAKE_ORDER)
    }
    pub fn order_completed(order: &Order) -> Event {
        Self::about(order, Event::OrderCompleted, detail_type::ORDER_COMPLETED)
    }
    pub fn order_cancelled(order: &Order) -> Event {
        Self::about(order, Event::OrderCancelled, detail_type::ORDER_CANCELLED)
    }
}

/// Keys that hold a task token, removed from anything published.
const SECRET_KEYS: [&str; 3] = ["TaskToken", "taskToken", "task_token"];

fn strip_secrets(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for k in SECRET_KEYS {
                map.remove(k);
            }
            map.values_mut().for_each(strip_secrets);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_secrets),
        _ => {}
    }
}

/// The MQTT payload: `{"type": <detail-type>, "detail": {...}}`, task tokens removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MqttMessage {
    #[serde(rename = "type")]
    pub kind: String,
    pub detail: Value,
}

impl MqttMessage {
    pub fn from_event(event: &Event) -> Result<Self, EventError> {
        Self::from_parts(event.detail_type(), event.detail()?)
    }

    /// For events outside the catalogue: the same shape, the same stripping.
    pub fn from_parts(detail_type: &str, mut detail: Value) -> Result<Self, EventError> {
        strip_secrets(&mut detail);
        Ok(Self {
            kind: detail_type.to_owned(),
            detail,
        })
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>, EventError> {
        serde_json::to_vec(self).map_err(EventError::Serialise)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample_events() -> Vec<(&'static str, Value)> {
        let order = json!({"orderId": "o1", "userId": "u1", "eventId": "E"});
        let with = |extra: Value| {
            let mut v = order.clone();
            if let (Some(m), Value::Object(e)) = (v.as_object_mut(), extra) {
                m.extend(e);
            }
            v
        };
        let detail = with(json!({"state": "queued", "TS": 5, "orderNumber": 3}));
        let config = serde_json::to_value(ConfigChanged::of(&StoreConfig::seed_default(
            Timestamp::from_millis(1),
        )))
        .unwrap();
        vec![
            (
                detail_type::NEW_ORDER,
                with(
                    json!({"bucket": {"windowId": 1, "availableTokens": 9, "tokensPerWindow": 10, "validUntil": 315000}}),
                ),
            ),
            (
                detail_type::WORKFLOW_STARTED,
                with(json!({"TaskToken": "tt-secret"})),
            ),
            (
                detail_type::SHOP_UNAVAILABLE,
                with(json!({"reason": "atCapacity"})),
            ),
            (
                detail_type::PROCESSOR_WAITING_COMPLETION,
                with(json!({"TaskToken": "tt-secret", "orderNumber": "12"})),
            ),
            (
                detail_type::ORDER_TIME_OUT,
                with(json!({"cause": "Barista timedout"})),
            ),
            (detail_type::ORDER_FINISHED, with(json!({}))),
            (
                detail_type::ORDER_FAILED,
                with(json!({"error": "States.Runtime"})),
            ),
            (detail_type::ORDER_SUBMITTED, detail.clone()),
            (detail_type::WAITING_COMPLETION, detail.clone()),
            (
                detail_type::MAKE_ORDER,
                with(json!({"state": "inProgress", "TS": 5, "baristaUserId": "b"})),
            ),
            (detail_type::UNMAKE_ORDER, detail.clone()),
            (
                detail_type::ORDER_COMPLETED,
                with(json!({"state": "completed", "TS": 5})),
            ),
            (
                detail_type::ORDER_CANCELLED,
                with(json!({"state": "cancelled", "TS": 5, "cancelledBy": "customer"})),
            ),
            (detail_type::CONFIG_CHANGED, config),
        ]
    }

    #[test]
    fn every_detail_type_of_the_catalogue_parses_and_round_trips() {
        let samples = sample_events();
        assert_eq!(samples.len(), detail_type::ALL.len());
        for (dt, detail) in samples {
            let e = Event::from_parts(dt, detail).unwrap_or_else(|err| panic!("{dt}: {err}"));
            assert_eq!(e.detail_type(), dt);
            let again = Event::from_parts(dt, e.detail().unwrap()).unwrap();
            assert_eq!(again, e, "{dt}");
        }
    }

    #[test]
    fn the_catalogue_lists_every_detail_type_once() {
        let listed: Vec<&str> = CATALOGUE.iter().map(|e| e.detail_type).collect();
        assert_eq!(listed, detail_type::ALL);
    }

    #[test]
    fn detail_types_are_static_and_carry_no_event_id() {
        for dt in detail_type::ALL {
            assert!(!dt.contains('-'), "{dt}");
            assert!(dt.split('.').count() == 2, "{dt}");
        }
    }

    #[test]
    fn workflow_events_default_their_state_when_the_state_machine_omits_it() {
        let e = Event::from_parts(
            detail_type::WORKFLOW_STARTED,
            json!({"orderId": "o1", "userId": "u1", "eventId": "E", "TaskToken": "t"}),
        )
        .unwrap();
        assert_eq!(e.state_name(), "pending");
        assert_eq!(
            e.idempotency_key().as_deref(),
            Some("o1|OrderProcessor.WorkflowStarted|pending")
        );
    }

    #[test]
    fn a_detail_sent_as_a_json_string_is_read() {
        let e = Event::from_parts(
            detail_type::ORDER_FINISHED,
            json!(r#"{"orderId":"o1","userId":"u1","eventId":"E"}"#),
        );
        assert!(e.is_ok());
    }

    #[test]
    fn unknown_detail_types_and_bad_details_are_errors() {
        assert!(matches!(
            Event::from_parts("OrderRobot.FulfillOrder", json!({})),
            Err(EventError::UnknownDetailType(_))
        ));
        assert!(matches!(
            Event::from_parts(detail_type::WORKFLOW_STARTED, json!({"orderId": "o1"})),
            Err(EventError::BadDetail { .. })
        ));
        assert!(matches!(
            Event::from_parts(
                detail_type::NEW_ORDER,
                json!({"orderId": "a/b", "userId": "u", "eventId": "E"})
            ),
            Err(EventError::BadDetail { .. })
        ));
    }

    #[test]
    fn task_tokens_never_reach_an_mqtt_payload() {
        for (dt, detail) in sample_events() {
            let e = Event::from_parts(dt, detail).unwrap();
            let bytes = MqttMessage::from_event(&e).unwrap().to_bytes().unwrap();
            let text = String::from_utf8(bytes).unwrap();
            assert!(!text.contains("tt-secret"), "{dt}: {text}");
            assert!(!text.contains("TaskToken"), "{dt}");
        }
        let nested = MqttMessage::from_parts("X.Y", json!({"a": [{"taskToken": "s"}]})).unwrap();
        assert_eq!(nested.detail, json!({"a": [{}]}));
    }

    #[test]
    fn the_mqtt_payload_has_type_and_detail() {
        let e = Event::from_parts(
            detail_type::ORDER_FINISHED,
            json!({"orderId": "o1", "userId": "u1", "eventId": "E"}),
        )
        .unwrap();
        let v = serde_json::to_value(MqttMessage::from_event(&e).unwrap()).unwrap();
        assert_eq!(v["type"], "OrderProcessor.orderFinished");
        assert_eq!(v["detail"]["orderId"], "o1");
    }

    #[test]
    fn events_are_routed_to_admin_user_and_config_topics() {
        let names = |dt: &str, detail: Value| -> Vec<String> {
            Event::from_parts(dt, detail)
                .unwrap()
                .topics()
                .iter()
                .map(Topic::name)
                .collect()
        };
        let samples: std::collections::HashMap<_, _> = sample_events().into_iter().collect();
        assert_eq!(
            names(
                detail_type::NEW_ORDER,
                samples[detail_type::NEW_ORDER].clone()
            ),
            ["serverlesspresso-admin-E"]
        );
        assert_eq!(
            names(
                detail_type::ORDER_COMPLETED,
                samples[detail_type::ORDER_COMPLETED].clone()
            ),
            ["serverlesspresso-admin-E", "serverlesspresso-user-u1"]
        );
        assert_eq!(
            names(
                detail_type::CONFIG_CHANGED,
                samples[detail_type::CONFIG_CHANGED].clone()
            ),
            [
                "serverlesspresso-config-default",
                "serverlesspresso-admin-default"
            ]
        );
    }

    #[test]
    fn the_timeout_cause_names_the_wait() {
        let e = OrderTimeOut {
            order_id: OrderId::parse("o").unwrap(),
            user_id: UserId::parse("u").unwrap(),
            event_id: EventId::parse("E").unwrap(),
            state: OrderStatus::TimedOut,
            cause: "Barista timedout".to_owned(),
            message: String::new(),
        };
        assert_eq!(e.wait(), Some(Wait::Barista));
    }
}
