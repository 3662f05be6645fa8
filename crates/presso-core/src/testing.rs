//! In-memory implementations of every port, for unit tests here and in the crates built on
//! this one (feature `testing`).
//!
//! [`InMemoryStore`] implements the three repositories over one lock, so its conditional
//! writes and transactions have the same all-or-nothing semantics the DynamoDB adapter gets from
//! conditions and `TransactWriteItems`. [`block_on`] drives a use case to completion: these
//! ports never suspend, so no async runtime is needed.

use crate::config::StoreConfig;
use crate::events::{Event, MqttMessage};
use crate::ids::{EventId, OrderId, QrToken, TaskToken, UserId};
use crate::order::{Change, Order, OrderStatus, Resumption};
use crate::ports::{
    Clock, ConfigRepository, EventPublisher, JourneyEntry, OrderRepository, PublishError,
    QrRepository, Randomness, RealtimePublisher, ResumeError, StoreError, TakeTokenError,
    WorkflowResumer,
};
use crate::qr::{QrBucket, WindowId};
use crate::time::Timestamp;
use crate::topics::Topic;
use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs a future that never waits on anything external (every port here is in memory).
pub fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::yield_now();
    }
}

/// A clock the test moves by hand.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn at(ms: i64) -> Self {
        Self(AtomicI64::new(ms))
    }
    pub fn set(&self, t: Timestamp) {
        self.0.store(t.as_millis(), Ordering::SeqCst);
    }
    pub fn advance_millis(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.0.load(Ordering::SeqCst))
    }
}

/// Deterministic randomness (splitmix64 from a seed): every call gives new bytes.
#[derive(Debug)]
pub struct SeqRandomness(AtomicU64);

impl SeqRandomness {
    pub fn new(seed: u64) -> Self {
        Self(AtomicU64::new(seed))
    }
}

impl Randomness for SeqRandomness {
    fn fill_bytes(&self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let mut z = self
                .0
                .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::SeqCst)
                .wrapping_add(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            let bytes = z.to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

#[derive(Debug, Default)]
struct Tables {
    orders: BTreeMap<OrderId, Order>,
    journeys: BTreeMap<OrderId, BTreeMap<String, JourneyEntry>>,
    configs: BTreeMap<EventId, StoreConfig>,
    buckets: BTreeMap<(EventId, WindowId), QrBucket>,
    /// Per event, the orders holding capacity.
    capacity: BTreeMap<EventId, std::collections::BTreeSet<String>>,
    /// The workflow's gate per event: `(open, paused, maxOrdersInQueue)`, written with each
    /// config (see `keys::expressions::GATED_TAKE_CAPACITY_CONDITION`).
    gates: BTreeMap<EventId, (bool, bool, u32)>,
    order_numbers: BTreeMap<EventId, u64>,
}

/// The order, config and validator tables, plus the counters, in memory.
#[derive(Debug, Default)]
pub struct InMemoryStore {
    tables: Mutex<Tables>,
    /// When set, every repository call fails with [`StoreError::Unavailable`].
    pub unavailable: AtomicBool,
}

impl InMemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// A store holding one config.
    pub fn with_config(config: StoreConfig) -> Self {
        let s = Self::new();
        let mut t = lock(&s.tables);
        t.gates.insert(
            config.event_id.clone(),
            (config.open, config.paused, config.max_orders_in_queue),
        );
        t.configs.insert(config.event_id.clone(), config);
        drop(t);
        s
    }

    /// What the workflow's first write does: takes a unit of capacity when the gate says
    /// open, not paused and not full. `false` also when there is no gate (as a condition on a
    /// missing attribute fails).
    pub fn take_capacity_gated(&self, event: &EventId, holder: &str) -> bool {
        let mut t = lock(&self.tables);
        let Some(&(open, paused, max)) = t.gates.get(event) else {
            return false;
        };
        let held = t.capacity.entry(event.clone()).or_default();
        if open && !paused && (held.contains(holder) || held.len() < max as usize) {
            held.insert(holder.to_owned());
            true
        } else {
            false
        }
    }

    /// Forgets an event's gate, as on a table written before gates existed.
    pub fn clear_gate(&self, event: &EventId) {
        lock(&self.tables).gates.remove(event);
    }

    fn check(&self) -> Result<(), StoreError> {
        if self.unavailable.load(Ordering::SeqCst) {
            Err(StoreError::Unavailable(
                "in-memory store switched off".to_owned(),
            ))
        } else {
            Ok(())
        }
    }

    /// What the workflow does before its first wait: `holder` takes one unit of capacity if
    /// fewer than `max` are taken (or already holds one: a retried take changes nothing).
    pub fn take_capacity(&self, event: &EventId, holder: &str, max: u32) -> bool {
        let mut t = lock(&self.tables);
        let held = t.capacity.entry(event.clone()).or_default();
        if held.contains(holder) || held.len() < max as usize {
            held.insert(holder.to_owned());
            true
        } else {
            false
        }
    }

    /// Units of capacity taken in `event`.
    pub fn capacity_in_use(&self, event: &EventId) -> u32 {
        lock(&self.tables)
            .capacity
            .get(event)
            .map_or(0, |h| u32::try_from(h.len()).unwrap_or(u32::MAX))
    }

    /// What the workflow does after the drink: the next order number (from 1).
    pub fn next_order_number(&self, event: &EventId) -> u64 {
        let mut t = lock(&self.tables);
        let n = t.order_numbers.entry(event.clone()).or_insert(0);
        *n += 1;
        *n
    }

    pub fn order(&self, id: &OrderId) -> Option<Order> {
        lock(&self.tables).orders.get(id).cloned()
    }

    pub fn orders(&self) -> Vec<Order> {
        lock(&self.tables).orders.values().cloned().collect()
    }

    pub fn insert_order(&self, order: Order) {
        lock(&self.tables)
            .orders
            .insert(order.order_id.clone(), order);
    }

    pub fn bucket(&self, event: &EventId, window: WindowId) -> Option<QrBucket> {
        lock(&self.tables)
            .buckets
            .get(&(event.clone(), window))
            .cloned()
    }
}

impl OrderRepository for InMemoryStore {
    async fn get(&self, id: &OrderId) -> Result<Option<Order>, StoreError> {
        self.check()?;
        Ok(lock(&self.tables).orders.get(id).cloned())
    }

    async fn create(&self, order: &Order) -> Result<(), StoreError> {
        self.check()?;
        let mut t = lock(&self.tables);
        if t.orders.contains_key(&order.order_id) {
            return Err(StoreError::Conflict);
        }
        t.orders.insert(order.order_id.clone(), order.clone());
        Ok(())
    }

    async fn save(&self, change: &Change) -> Result<(), StoreError> {
        self.check()?;
        let mut t = lock(&self.tables);
        let id = &change.order.order_id;
        match t.orders.get(id) {
            Some(stored) if stored.version == change.expected_version => {}
            _ => return Err(StoreError::Conflict),
        }
        if change.release_capacity
            && let Some(held) = t.capacity.get_mut(&change.order.event_id)
        {
            held.remove(id.as_str());
        }
        t.orders.insert(id.clone(), change.order.clone());
        Ok(())
    }

    async fn list_by_status(
        &self,
        event: &EventId,
        status: OrderStatus,
        limit: usize,
    ) -> Result<Vec<Order>, StoreError> {
        self.check()?;
        let t = lock(&self.tables);
        let mut out: Vec<Order> = t
            .orders
            .values()
            .filter(|o| &o.event_id == event && o.status() == status)
            .cloned()
            .collect();
        out.sort_by_key(|o| (o.created_at, o.order_id.clone()));
        out.truncate(limit);
        Ok(out)
    }

    async fn list_by_user(&self, user: &UserId, limit: usize) -> Result<Vec<Order>, StoreError> {
        self.check()?;
        let t = lock(&self.tables);
        let mut out: Vec<Order> = t
            .orders
            .values()
            .filter(|o| &o.user_id == user)
            .cloned()
            .collect();
        out.sort_by_key(|o| std::cmp::Reverse((o.created_at, o.order_id.clone())));
        out.truncate(limit);
        Ok(out)
    }

    async fn append_journey(&self, entry: &JourneyEntry) -> Result<bool, StoreError> {
        self.check()?;
        let mut t = lock(&self.tables);
        let journey = t.journeys.entry(entry.order_id.clone()).or_default();
        let key = entry.key();
        if journey.contains_key(&key) {
            return Ok(false);
        }
        journey.insert(key, entry.clone());
        Ok(true)
    }

    async fn journey(&self, id: &OrderId) -> Result<Vec<JourneyEntry>, StoreError> {
        self.check()?;
        Ok(lock(&self.tables)
            .journeys
            .get(id)
            .map(|j| j.values().cloned().collect())
            .unwrap_or_default())
    }
}

impl ConfigRepository for InMemoryStore {
    async fn get(&self, event: &EventId) -> Result<Option<StoreConfig>, StoreError> {
        self.check()?;
        Ok(lock(&self.tables).configs.get(event).cloned())
    }

    async fn put(
        &self,
        config: &StoreConfig,
        expected_version: Option<u64>,
    ) -> Result<(), StoreError> {
        self.check()?;
        let mut t = lock(&self.tables);
        let stored = t.configs.get(&config.event_id).map(|c| c.version);
        if stored != expected_version {
            return Err(StoreError::Conflict);
        }
        t.configs.insert(config.event_id.clone(), config.clone());
        t.gates.insert(
            config.event_id.clone(),
            (config.open, config.paused, config.max_orders_in_queue),
        );
        Ok(())
    }

    async fn list_events(&self) -> Result<Vec<EventId>, StoreError> {
        self.check()?;
        Ok(lock(&self.tables).configs.keys().cloned().collect())
    }
}

impl QrRepository for InMemoryStore {
    async fn get_bucket(
        &self,
        event: &EventId,
        window: WindowId,
    ) -> Result<Option<QrBucket>, StoreError> {
        self.check()?;
        Ok(self.bucket(event, window))
    }

    async fn create_bucket(&self, bucket: &QrBucket) -> Result<QrBucket, StoreError> {
        self.check()?;
        let mut t = lock(&self.tables);
        Ok(t.buckets
            .entry((bucket.event_id.clone(), bucket.window_id))
            .or_insert_with(|| bucket.clone())
            .clone())
    }

    async fn take_token(
        &self,
        event: &EventId,
        window: WindowId,
        code: &QrToken,
        order: &Order,
    ) -> Result<QrBucket, TakeTokenError> {
        self.check()?;
        let mut t = lock(&self.tables);
        let key = (event.clone(), window);
        let bucket = match t.buckets.get(&key) {
            Some(b) if &b.code == code => b.clone(),
            _ => return Err(TakeTokenError::InvalidCode),
        };
        if bucket.available_tokens == 0 {
            return Err(TakeTokenError::Exhausted);
        }
        if t.orders.contains_key(&order.order_id) {
            return Err(TakeTokenError::OrderExists);
        }
        let mut next = bucket;
        next.available_tokens -= 1;
        t.buckets.insert(key, next.clone());
        t.orders.insert(order.order_id.clone(), order.clone());
        Ok(next)
    }
}

/// Records published events; can be told to fail.
#[derive(Debug, Default)]
pub struct RecordingEvents {
    events: Mutex<Vec<Event>>,
    pub fail: AtomicBool,
}

impl RecordingEvents {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn events(&self) -> Vec<Event> {
        lock(&self.events).clone()
    }
    pub fn detail_types(&self) -> Vec<&'static str> {
        lock(&self.events).iter().map(Event::detail_type).collect()
    }
    pub fn clear(&self) {
        lock(&self.events).clear();
    }
}

impl EventPublisher for RecordingEvents {
    async fn publish(&self, events: &[Event]) -> Result<(), PublishError> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(PublishError::Unavailable("switched off".to_owned()));
        }
        lock(&self.events).extend_from_slice(events);
        Ok(())
    }
}

/// Records resumptions with Step Functions' rule that a token resumes once: a second use
/// answers [`ResumeError::TokenGone`].
#[derive(Debug, Default)]
pub struct RecordingResumer {
    resumed: Mutex<Vec<(TaskToken, Resumption)>>,
    used: Mutex<HashSet<TaskToken>>,
    /// When set, the next call fails with [`ResumeError::Unavailable`] (and the flag clears).
    pub fail_next: AtomicBool,
}

impl RecordingResumer {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn resumed(&self) -> Vec<(TaskToken, Resumption)> {
        lock(&self.resumed).clone()
    }
}

impl WorkflowResumer for RecordingResumer {
    async fn resume(&self, token: &TaskToken, resumption: Resumption) -> Result<(), ResumeError> {
        if self.fail_next.swap(false, Ordering::SeqCst) {
            return Err(ResumeError::Unavailable("switched off".to_owned()));
        }
        if !lock(&self.used).insert(token.clone()) {
            return Err(ResumeError::TokenGone);
        }
        lock(&self.resumed).push((token.clone(), resumption));
        Ok(())
    }
}

/// Records MQTT publications.
#[derive(Debug, Default)]
pub struct RecordingRealtime {
    published: Mutex<Vec<(Topic, MqttMessage)>>,
}

impl RecordingRealtime {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn published(&self) -> Vec<(Topic, MqttMessage)> {
        lock(&self.published).clone()
    }
}

impl RealtimePublisher for RecordingRealtime {
    async fn publish(&self, topic: &Topic, message: &MqttMessage) -> Result<(), PublishError> {
        lock(&self.published).push((topic.clone(), message.clone()));
        Ok(())
    }
}
