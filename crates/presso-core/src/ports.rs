//! Ports: the capabilities the use cases need from the outside world, as traits.
//!
//! Adapters implement them: `presso-aws` with the AWS SDK (DynamoDB, EventBridge, Step
//! Functions, IoT data), the `testing` module in memory. Each method's doc states the
//! semantics an adapter must keep; the conditional ones are what make the system race-free, so
//! an adapter must implement them as single conditional writes or transactions, never as a read
//! followed by a write. No SDK type crosses a port: errors are [`StoreError`] and friends.
//!
//! Methods return `impl Future + Send` so a use case can run on a multi-threaded runtime;
//! implementations may simply write `async fn`.

use crate::config::StoreConfig;
use crate::events::{Event, MqttMessage};
use crate::ids::{EventId, OrderId, QrToken, TaskToken, UserId};
use crate::order::{Change, Order, OrderStatus, Resumption};
use crate::qr::{QrBucket, WindowId};
use crate::time::Timestamp;
use crate::topics::Topic;
use serde::{Deserialize, Serialize};
use std::future::Future;

/// A storage failure, in the terms the use cases act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A conditional write found the item changed (or present, or absent) since it was read.
    #[error("the item changed since it was read")]
    Conflict,
    /// The store could not be reached or refused for a transient reason (throttling, network).
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    /// A stored item does not decode into the domain type.
    #[error("a stored item is corrupt: {0}")]
    Corrupt(String),
}

/// The host's clock (presso's virtual clock locally, the system clock on Lambda).
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The host's source of randomness, for order ids and QR codes.
pub trait Randomness: Send + Sync {
    fn fill_bytes(&self, buf: &mut [u8]);
}

/// Orders and their journeys. See [`crate::keys`] for the DynamoDB layout.
pub trait OrderRepository: Send + Sync {
    fn get(&self, id: &OrderId) -> impl Future<Output = Result<Option<Order>, StoreError>> + Send;

    /// Creates `order` only if no order has its id ([`StoreError::Conflict`] otherwise).
    fn create(&self, order: &Order) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Stores `change.order` only if the stored version is `change.expected_version`
    /// ([`StoreError::Conflict`] otherwise). When `change.release_capacity`, decrements the
    /// order's event capacity counter in the same transaction (never below zero).
    fn save(&self, change: &Change) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// An event's orders in one state, oldest first, at most `limit`.
    fn list_by_status(
        &self,
        event: &EventId,
        status: OrderStatus,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Order>, StoreError>> + Send;

    /// A user's orders in every event, newest first, at most `limit`.
    fn list_by_user(
        &self,
        user: &UserId,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Order>, StoreError>> + Send;

    /// Adds an entry to an order's journey unless one with the same
    /// [`JourneyEntry::key`] exists; returns whether it was added.
    fn append_journey(
        &self,
        entry: &JourneyEntry,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// An order's journey, ordered by time.
    fn journey(
        &self,
        id: &OrderId,
    ) -> impl Future<Output = Result<Vec<JourneyEntry>, StoreError>> + Send;
}

/// Per-event configs.
pub trait ConfigRepository: Send + Sync {
    fn get(
        &self,
        event: &EventId,
    ) -> impl Future<Output = Result<Option<StoreConfig>, StoreError>> + Send;

    /// Stores `config`: with `expected_version` `None` only if no config exists for the event
    /// (creation, seeding: a restart never overwrites live data); otherwise only if the stored
    /// version equals it. [`StoreError::Conflict`] when the condition fails.
    fn put(
        &self,
        config: &StoreConfig,
        expected_version: Option<u64>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Every event that has a config (the scheduled sweep visits each).
    fn list_events(&self) -> impl Future<Output = Result<Vec<EventId>, StoreError>> + Send;
}

/// Why a token could not be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TakeTokenError {
    /// No bucket for that window, or its code differs.
    #[error("no such code")]
    InvalidCode,
    /// The bucket has no token left.
    #[error("no tokens remaining")]
    Exhausted,
    /// An order with that id exists already (a retried request with the same generated id).
    #[error("the order exists already")]
    OrderExists,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// QR buckets, one per event and window.
pub trait QrRepository: Send + Sync {
    fn get_bucket(
        &self,
        event: &EventId,
        window: WindowId,
    ) -> impl Future<Output = Result<Option<QrBucket>, StoreError>> + Send;

    /// Creates `bucket` only if its event has none for its window, and returns the stored
    /// bucket: `bucket` itself, or the one another caller created first. Two displays asking at
    /// once therefore always show the same code.
    fn create_bucket(
        &self,
        bucket: &QrBucket,
    ) -> impl Future<Output = Result<QrBucket, StoreError>> + Send;

    /// In one transaction: takes one token from the bucket of (`event`, `window`) if its code
    /// is `code` and it has a token left, and creates `order` if no order has its id. Returns
    /// the bucket after the decrement. Never more orders than tokens, under any concurrency.
    fn take_token(
        &self,
        event: &EventId,
        window: WindowId,
        code: &QrToken,
        order: &Order,
    ) -> impl Future<Output = Result<QrBucket, TakeTokenError>> + Send;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    #[error("publishing failed: {0}")]
    Unavailable(String),
}

/// EventBridge: puts events on the bus with [`crate::events::SOURCE`] as source.
pub trait EventPublisher: Send + Sync {
    fn publish(&self, events: &[Event]) -> impl Future<Output = Result<(), PublishError>> + Send;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResumeError {
    /// The wait is over (Step Functions: `TaskTimedOut`, `InvalidToken`, `TaskDoesNotExist`):
    /// the workflow timed out or was resumed already. Nothing to retry.
    #[error("the workflow no longer waits on this token")]
    TokenGone,
    #[error("the workflow service is unavailable: {0}")]
    Unavailable(String),
}

/// Step Functions: resumes a waiting workflow (`SendTaskSuccess` with
/// [`Resumption::output_json`] as output).
pub trait WorkflowResumer: Send + Sync {
    fn resume(
        &self,
        token: &TaskToken,
        resumption: Resumption,
    ) -> impl Future<Output = Result<(), ResumeError>> + Send;
}

/// IoT data plane / presso's broker: publishes one message (QoS 1) to one topic.
pub trait RealtimePublisher: Send + Sync {
    fn publish(
        &self,
        topic: &Topic,
        message: &MqttMessage,
    ) -> impl Future<Output = Result<(), PublishError>> + Send;
}

/// One event in an order's journey (`GET /api/orders/{id}/journey`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JourneyEntry {
    pub order_id: OrderId,
    pub at: Timestamp,
    pub detail_type: String,
    pub state: String,
    #[serde(rename = "Message", default)]
    pub message: String,
    /// The published detail (task tokens stripped).
    pub detail: serde_json::Value,
}

impl JourneyEntry {
    /// Unique per order: `(time, detail-type, state)`. A redelivered event has the same key; a
    /// second "make" after an "unmake" does not.
    pub fn key(&self) -> String {
        format!(
            "{:013}#{}#{}",
            self.at.as_millis(),
            self.detail_type,
            self.state
        )
    }
}
