//! The broker: the topic table, the client registry, server-side publish and the TCP listener.
//!
//! Delivery is exact-match only (the broker refuses wildcard filters), so routing is one hash
//! lookup from topic to its subscribers. A publication is encoded once; QoS 0 subscribers share
//! that one buffer, QoS 1 subscribers share its head and payload and add their own packet
//! identifier. Each session has a bounded outbound queue: [`Broker::publish`] never waits, and a
//! subscriber whose queue is full is disconnected (see [`BrokerConfig::outbound_queue`]).
//!
//! Locks here are synchronous and never held across an `.await`.

use crate::auth::Authorizer;
use crate::codec::{self, QoS};
use crate::session::{self, Outgoing, Qos1Publish};
use crate::transport::IoTransport;
use bytes::{Bytes, BytesMut};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinSet;

/// Limits and timeouts of a broker. `Default` matches what AWS IoT Core allows where it matters.
#[derive(Clone, Debug)]
pub struct BrokerConfig {
    /// The largest packet accepted or published, fixed header included (IoT Core: 128 KiB).
    pub max_packet_size: usize,
    /// Deliveries queued per session before the session counts as a slow consumer.
    ///
    /// Policy: a publication never waits for a subscriber. When a session's queue is full (or it
    /// has this many QoS 1 deliveries unacknowledged) the broker closes that session; the client
    /// reconnects and re-reads current state over HTTP. Dropping silently would leave an app
    /// showing stale orders with no sign that anything was lost.
    pub outbound_queue: usize,
    /// How long a new connection may take to send its CONNECT.
    pub connect_timeout: Duration,
    /// The longest client identifier accepted, in bytes (IoT Core: 128).
    pub max_client_id_len: usize,
    /// Subscriptions one session may hold; further filters get SUBACK 0x80 (IoT Core: 50).
    pub max_subscriptions: usize,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        BrokerConfig {
            max_packet_size: 128 * 1024,
            outbound_queue: 1024,
            connect_timeout: Duration::from_secs(10),
            max_client_id_len: 128,
            max_subscriptions: 50,
        }
    }
}

/// Why an in-process publication was not accepted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PublishError {
    #[error("topic name {0:?} is empty, has a wildcard or U+0000, or is longer than 65,535 bytes")]
    InvalidTopic(String),
    #[error("the PUBLISH would be {size} bytes, over the limit of {max}")]
    TooLarge { size: usize, max: usize },
}

/// Why the broker ends a session from outside its own task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Kick {
    None = 0,
    TakenOver = 1,
    SlowConsumer = 2,
    Shutdown = 3,
}

/// A handle through which others end a session: the first reason given wins.
#[derive(Debug)]
pub(crate) struct Control {
    notify: Notify,
    reason: AtomicU8,
}

impl Control {
    pub(crate) fn new() -> Control {
        Control {
            notify: Notify::new(),
            reason: AtomicU8::new(Kick::None as u8),
        }
    }

    pub(crate) fn kick(&self, why: Kick) {
        let _ = self.reason.compare_exchange(
            Kick::None as u8,
            why as u8,
            Ordering::AcqRel,
            Ordering::Acquire,
        );
        // notify_one keeps a permit, so a kick before the session waits is not lost.
        self.notify.notify_one();
    }

    pub(crate) async fn kicked(&self) -> Kick {
        self.notify.notified().await;
        match self.reason.load(Ordering::Acquire) {
            1 => Kick::TakenOver,
            2 => Kick::SlowConsumer,
            3 => Kick::Shutdown,
            _ => Kick::None,
        }
    }
}

pub(crate) struct Subscriber {
    pub(crate) qos: QoS,
    pub(crate) tx: mpsc::Sender<Outgoing>,
    pub(crate) control: Arc<Control>,
}

pub(crate) struct Registered {
    session: u64,
    control: Arc<Control>,
}

pub(crate) struct Inner {
    pub(crate) authorizer: Arc<dyn Authorizer>,
    pub(crate) config: BrokerConfig,
    /// topic -> session id -> subscriber.
    topics: RwLock<HashMap<String, HashMap<u64, Subscriber>>>,
    /// client id -> the session currently connected with it.
    clients: Mutex<HashMap<String, Registered>>,
    next_session: AtomicU64,
    shutdown: watch::Sender<bool>,
    /// Sessions alive (connected or still in CONNECT), so shutdown can wait for zero.
    active: watch::Sender<usize>,
    /// Messages published and delivered since the broker started, in the 5 KB units IoT Core
    /// bills.
    published_units: AtomicU64,
    delivered_units: AtomicU64,
}

/// A cheaply cloneable handle to one broker.
#[derive(Clone)]
pub struct Broker {
    pub(crate) inner: Arc<Inner>,
}

/// Messages the broker has carried, in IoT Core's 5 KB billing units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MessagingUsage {
    /// Server-side publications (the IoT data plane's `Publish`).
    pub published: u64,
    /// Deliveries to subscribers.
    pub delivered: u64,
}

impl std::fmt::Debug for Broker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Broker")
            .field("config", &self.inner.config)
            .field("sessions", &self.session_count())
            .finish()
    }
}

impl Broker {
    pub fn new(authorizer: Arc<dyn Authorizer>) -> Broker {
        Broker::with_config(authorizer, BrokerConfig::default())
    }

    pub fn with_config(authorizer: Arc<dyn Authorizer>, config: BrokerConfig) -> Broker {
        Broker {
            inner: Arc::new(Inner {
                authorizer,
                config,
                topics: RwLock::new(HashMap::new()),
                clients: Mutex::new(HashMap::new()),
                next_session: AtomicU64::new(1),
                shutdown: watch::channel(false).0,
                active: watch::channel(0).0,
                published_units: AtomicU64::new(0),
                delivered_units: AtomicU64::new(0),
            }),
        }
    }

    pub fn config(&self) -> &BrokerConfig {
        &self.inner.config
    }

    /// Messages published and delivered since the broker started, each counted in 5 KB units
    /// as IoT Core bills messaging.
    pub fn usage(&self) -> MessagingUsage {
        MessagingUsage {
            published: self.inner.published_units.load(Ordering::Relaxed),
            delivered: self.inner.delivered_units.load(Ordering::Relaxed),
        }
    }

    /// Publishes from the server side (the IoT data plane's `Publish`): returns how many
    /// subscribers the message was queued for. Never waits; QoS 2 is delivered as QoS 1, the most
    /// any subscription is granted. Retained messages are not kept.
    pub fn publish(&self, topic: &str, payload: Bytes, qos: QoS) -> Result<usize, PublishError> {
        if topic.is_empty()
            || topic.len() > usize::from(u16::MAX)
            || topic.contains(['#', '+', '\0'])
        {
            return Err(PublishError::InvalidTopic(topic.to_owned()));
        }
        let qos = qos.min(QoS::AtLeastOnce);
        let size = codec::publish_size(topic.len(), qos, payload.len());
        let max = self.inner.config.max_packet_size;
        if size > max {
            return Err(PublishError::TooLarge { size, max });
        }
        let units = payload.len().div_ceil(5 * 1024).max(1) as u64;
        self.inner
            .published_units
            .fetch_add(units, Ordering::Relaxed);
        let topics = self
            .inner
            .topics
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(subscribers) = topics.get(topic) else {
            return Ok(0);
        };
        // Both encodings are built at most once per publication, whatever the subscriber count.
        let mut qos0: Option<Bytes> = None;
        let mut qos1: Option<Arc<Qos1Publish>> = None;
        let mut delivered = 0;
        for subscriber in subscribers.values() {
            let item = if qos.min(subscriber.qos) == QoS::AtMostOnce {
                Outgoing::Packet(
                    qos0.get_or_insert_with(|| {
                        let mut packet = BytesMut::from(
                            &codec::publish_head(topic, QoS::AtMostOnce, payload.len())[..],
                        );
                        packet.extend_from_slice(&payload);
                        packet.freeze()
                    })
                    .clone(),
                )
            } else {
                Outgoing::Qos1(
                    qos1.get_or_insert_with(|| {
                        Arc::new(Qos1Publish {
                            head: codec::publish_head(topic, QoS::AtLeastOnce, payload.len()),
                            payload: payload.clone(),
                        })
                    })
                    .clone(),
                )
            };
            match subscriber.tx.try_send(item) {
                Ok(()) => delivered += 1,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    subscriber.control.kick(Kick::SlowConsumer)
                }
                Err(mpsc::error::TrySendError::Closed(_)) => {}
            }
        }
        self.inner
            .delivered_units
            .fetch_add(units * delivered as u64, Ordering::Relaxed);
        Ok(delivered)
    }

    /// How many sessions are open (connected, or still sending their CONNECT).
    pub fn session_count(&self) -> usize {
        *self.inner.active.borrow()
    }

    /// How many sessions subscribe to `topic`.
    pub fn subscriber_count(&self, topic: &str) -> usize {
        self.inner
            .topics
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(topic)
            .map_or(0, HashMap::len)
    }

    /// Closes every session (TCP and WebSocket), refuses new ones, and returns once all sessions
    /// have ended.
    pub async fn shutdown(&self) {
        self.inner.shutdown.send_replace(true);
        let mut active = self.inner.active.subscribe();
        let _ = active.wait_for(|n| *n == 0).await;
    }

    pub fn is_shut_down(&self) -> bool {
        *self.inner.shutdown.borrow()
    }

    /// Serves MQTT over plain TCP until `shutdown` resolves or the broker shuts down; then stops
    /// accepting, closes the sessions this listener accepted and returns once they have ended.
    pub async fn serve_tcp(&self, listener: TcpListener, shutdown: impl Future<Output = ()>) {
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut sessions = JoinSet::new();
        let mut broker_shutdown = self.inner.shutdown.subscribe();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                () = crate::session::signalled(&mut broker_shutdown) => break,
                // Reap finished sessions so the set does not grow with every connection ever made.
                Some(finished) = sessions.join_next(), if !sessions.is_empty() => {
                    if let Err(error) = finished {
                        tracing::error!(%error, "mqtt tcp session task failed");
                    }
                }
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        let _ = stream.set_nodelay(true);
                        let (read, write) = stream.into_split();
                        let broker = self.clone();
                        let stop = stop_rx.clone();
                        sessions.spawn(async move {
                            tracing::debug!(%peer, "mqtt tcp connection");
                            session::run(broker, IoTransport::new(read, write), Some(stop)).await;
                        });
                    }
                    Err(error) => {
                        // Usually out of file descriptors: back off instead of spinning.
                        tracing::warn!(%error, "mqtt tcp accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
            }
        }
        drop(listener);
        stop_tx.send_replace(true);
        while sessions.join_next().await.is_some() {}
    }

    pub(crate) fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.inner.shutdown.subscribe()
    }

    pub(crate) fn next_session_id(&self) -> u64 {
        self.inner.next_session.fetch_add(1, Ordering::Relaxed)
    }

    /// Counts a session as alive until the guard drops.
    pub(crate) fn session_guard(&self) -> ActiveGuard {
        self.inner.active.send_modify(|n| *n += 1);
        ActiveGuard {
            broker: self.clone(),
        }
    }

    /// Makes `session` the one connected as `client_id`, ending any earlier one (MQTT 3.1.1
    /// 3.1.4-2: the server disconnects the existing client).
    pub(crate) fn register_client(&self, client_id: &str, session: u64, control: Arc<Control>) {
        let previous = self
            .inner
            .clients
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(client_id.to_owned(), Registered { session, control });
        if let Some(previous) = previous {
            previous.control.kick(Kick::TakenOver);
        }
    }

    pub(crate) fn unregister_client(&self, client_id: &str, session: u64) {
        let mut clients = self
            .inner
            .clients
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if clients.get(client_id).is_some_and(|r| r.session == session) {
            clients.remove(client_id);
        }
    }

    pub(crate) fn subscribe(&self, topic: &str, session: u64, subscriber: Subscriber) {
        self.inner
            .topics
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entry(topic.to_owned())
            .or_default()
            .insert(session, subscriber);
    }

    pub(crate) fn unsubscribe<'a>(&self, topics: impl IntoIterator<Item = &'a str>, session: u64) {
        let mut table = self
            .inner
            .topics
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for topic in topics {
            if let Some(subscribers) = table.get_mut(topic) {
                subscribers.remove(&session);
                if subscribers.is_empty() {
                    table.remove(topic);
                }
            }
        }
    }
}

pub(crate) struct ActiveGuard {
    broker: Broker,
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.broker
            .inner
            .active
            .send_modify(|n| *n = n.saturating_sub(1));
    }
}
