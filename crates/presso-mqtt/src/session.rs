//! One client connection from CONNECT to close.
//!
//! A session is one task that races four things: bytes from the client, deliveries from its
//! outbound queue, the keep-alive deadline and being told to stop (take-over by the same client
//! id, slow consumer, shutdown). Anything the specification calls a protocol violation, and any
//! PUBLISH from the client, ends the session by closing the connection; MQTT 3.1.1 has no way to
//! tell the client why, so the reason goes to the log.
//!
//! Sessions are always clean: a client asking for a persistent session (CleanSession = 0) is
//! served as if it had asked for a clean one and is told `session present = 0`; nothing of a
//! session outlives its connection. Wills are accepted and never published, because clients may
//! not publish.

use crate::auth::broker_refuses_filter;
use crate::broker::{Broker, Control, Kick, Subscriber};
use crate::codec::{self, ConnectReturnCode, DecodeError, Packet, QoS, SubscribeReturnCode};
use crate::transport::Transport;
use bytes::{BufMut, Bytes, BytesMut};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// A delivery waiting in a session's outbound queue.
pub(crate) enum Outgoing {
    /// A whole packet (a QoS 0 PUBLISH), shared by every subscriber.
    Packet(Bytes),
    /// A QoS 1 PUBLISH still needing this session's packet identifier.
    Qos1(Arc<Qos1Publish>),
}

pub(crate) struct Qos1Publish {
    /// Fixed header and topic, up to the packet identifier.
    pub(crate) head: Bytes,
    pub(crate) payload: Bytes,
}

/// Why a session ended (for the log).
#[derive(Debug, thiserror::Error)]
enum End {
    #[error("client disconnected")]
    Disconnect,
    #[error("connection closed by the client")]
    Closed,
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("malformed packet: {0}")]
    Malformed(#[from] DecodeError),
    #[error("protocol violation: {0}")]
    Protocol(&'static str),
    #[error("client PUBLISH to {0:?} refused: clients may not publish")]
    PublishRefused(String),
    #[error("keep-alive expired")]
    KeepAlive,
    #[error("no CONNECT in time")]
    ConnectTimeout,
    #[error("CONNECT refused with return code {0:?}")]
    Refused(ConnectReturnCode),
    #[error("another connection took over the client id")]
    TakenOver,
    #[error("slow consumer: outbound queue or in-flight window full")]
    SlowConsumer,
    #[error("broker shutting down")]
    Shutdown,
}

impl End {
    fn from_kick(kick: Kick) -> End {
        match kick {
            Kick::TakenOver => End::TakenOver,
            Kick::SlowConsumer => End::SlowConsumer,
            Kick::Shutdown | Kick::None => End::Shutdown,
        }
    }
}

/// Runs one connection to its end. `stop`, when given, is a listener's own shutdown signal.
pub(crate) async fn run<T: Transport>(
    broker: Broker,
    mut transport: T,
    stop: Option<watch::Receiver<bool>>,
) {
    let _alive = broker.session_guard();
    let mut shutdown = broker.shutdown_signal();
    let mut stop = stop;
    let session_id = broker.next_session_id();
    let mut session = Session {
        broker: broker.clone(),
        id: session_id,
        client_id: String::new(),
        buf: BytesMut::with_capacity(1024),
        out: Vec::new(),
        subscriptions: HashSet::new(),
        inflight: HashMap::new(),
        next_packet_id: 1,
        registered: false,
    };
    let end = tokio::select! {
        end = session.serve(&mut transport) => end,
        () = signalled(&mut shutdown) => End::Shutdown,
        () = stopped(&mut stop) => End::Shutdown,
    };
    match &end {
        End::Disconnect | End::Closed | End::Shutdown | End::TakenOver => {
            tracing::debug!(client_id = %session.client_id, reason = %end, "mqtt session ended")
        }
        _ => tracing::info!(client_id = %session.client_id, reason = %end, "mqtt session closed"),
    }
    // Leave the topic table and the registry first, so no publication waits on a closing socket.
    session.cleanup();
    // A refused CONNECT still owes the client its CONNACK.
    if matches!(end, End::Refused(_)) {
        let _ = tokio::time::timeout(Duration::from_secs(1), transport.write(&session.out)).await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), transport.close()).await;
}

async fn stopped(stop: &mut Option<watch::Receiver<bool>>) {
    match stop {
        Some(stop) => signalled(stop).await,
        None => std::future::pending().await,
    }
}

/// Resolves once the flag is raised (or its sender is gone). The guard `wait_for` returns is not
/// `Send`, so it must not live in a `select!` of a spawned task.
pub(crate) async fn signalled(flag: &mut watch::Receiver<bool>) {
    let _ = flag.wait_for(|raised| *raised).await;
}

struct Session {
    broker: Broker,
    id: u64,
    client_id: String,
    buf: BytesMut,
    /// Packets decided but not yet written.
    out: Vec<Bytes>,
    subscriptions: HashSet<String>,
    /// QoS 1 deliveries sent and not yet acknowledged.
    inflight: HashMap<u16, Arc<Qos1Publish>>,
    next_packet_id: u16,
    registered: bool,
}

impl Session {
    async fn serve<T: Transport>(&mut self, transport: &mut T) -> End {
        let connect = match self.read_connect(transport).await {
            Ok(connect) => connect,
            Err(end) => return end,
        };
        match self.accept(transport, connect).await {
            Err(end) => end,
            Ok(never) => match never {},
        }
    }

    /// Reads until the first packet, which must be a CONNECT.
    async fn read_connect<T: Transport>(
        &mut self,
        transport: &mut T,
    ) -> Result<codec::Connect, End> {
        let max_packet_size = self.broker.inner.config.max_packet_size;
        let now = Instant::now();
        let deadline = now
            .checked_add(self.broker.inner.config.connect_timeout)
            .unwrap_or(now + Duration::from_secs(86_400));
        loop {
            match codec::decode(&mut self.buf, max_packet_size) {
                Ok(Some(Packet::Connect(connect))) => return Ok(connect),
                Ok(Some(_)) => return Err(End::Protocol("the first packet is not CONNECT")),
                Ok(None) => {}
                Err(DecodeError::UnsupportedProtocolLevel(level)) => {
                    self.push(&Packet::ConnAck {
                        session_present: false,
                        code: ConnectReturnCode::UnacceptableProtocolVersion,
                    });
                    tracing::debug!(level, "mqtt connect with unsupported protocol level");
                    return Err(End::Refused(ConnectReturnCode::UnacceptableProtocolVersion));
                }
                Err(error) => return Err(error.into()),
            }
            match tokio::time::timeout_at(deadline, transport.read(&mut self.buf)).await {
                Err(_) => return Err(End::ConnectTimeout),
                Ok(Ok(true)) => {}
                Ok(Ok(false)) => return Err(End::Closed),
                Ok(Err(error)) => return Err(error.into()),
            }
        }
    }

    fn refuse(&mut self, code: ConnectReturnCode) -> End {
        self.push(&Packet::ConnAck {
            session_present: false,
            code,
        });
        End::Refused(code)
    }

    async fn accept<T: Transport>(
        &mut self,
        transport: &mut T,
        connect: codec::Connect,
    ) -> Result<std::convert::Infallible, End> {
        let broker = self.broker.clone();
        let config = &broker.inner.config;
        if connect.client_id.is_empty() {
            if !connect.clean_session {
                return Err(self.refuse(ConnectReturnCode::IdentifierRejected));
            }
            // MQTT 3.1.1 3.1.3-6: the server assigns a unique identifier.
            self.client_id = format!("presso-anon-{}", self.id);
        } else if connect.client_id.len() > config.max_client_id_len {
            return Err(self.refuse(ConnectReturnCode::IdentifierRejected));
        } else {
            self.client_id = connect.client_id.clone();
        }
        let password = connect.password.as_deref().filter(|p| !p.is_empty());
        let principal = match broker.inner.authorizer.connect(
            &self.client_id,
            connect.username.as_deref(),
            password,
        ) {
            Ok(principal) => principal,
            Err(refused) => return Err(self.refuse(refused.return_code())),
        };
        let control = Arc::new(Control::new());
        broker.register_client(&self.client_id, self.id, control.clone());
        self.registered = true;
        self.push(&Packet::ConnAck {
            session_present: false,
            code: ConnectReturnCode::Accepted,
        });
        tracing::debug!(client_id = %self.client_id, sub = ?principal.sub, "mqtt session connected");

        let (tx, mut rx) = mpsc::channel(config.outbound_queue.max(1));
        // 3.1.2-24: no control packet within one and a half keep-alive periods ends the session.
        let keep_alive = (connect.keep_alive > 0)
            .then(|| Duration::from_millis(u64::from(connect.keep_alive) * 1500));
        let mut last_heard = Instant::now();
        // One timer and one kick waiter for the whole session rather than new ones per loop turn
        // (under fan-out the loop turns once per delivery); the timer moves forward only when it
        // fires.
        let keep_alive_timer =
            tokio::time::sleep(keep_alive.unwrap_or(Duration::from_secs(86_400)));
        tokio::pin!(keep_alive_timer);
        let kicked = control.kicked();
        tokio::pin!(kicked);
        loop {
            // Handle every whole packet already buffered (a WebSocket message may hold several).
            while let Some(packet) = codec::decode(&mut self.buf, config.max_packet_size)? {
                last_heard = Instant::now();
                self.handle(packet, &principal, &tx, &control)?;
            }
            if !self.out.is_empty() {
                // A client that stops reading must not pin the session: a kick (slow consumer,
                // take-over) ends the write.
                tokio::select! {
                    biased;
                    kick = &mut kicked => return Err(End::from_kick(kick)),
                    written = transport.write(&self.out) => written?,
                }
                self.out.clear();
            }
            tokio::select! {
                biased;
                kick = &mut kicked => return Err(End::from_kick(kick)),
                read = transport.read(&mut self.buf) => {
                    if !read? {
                        return Err(End::Closed);
                    }
                }
                Some(first) = rx.recv() => {
                    self.deliver(first)?;
                    // Drain what else is queued, up to a batch, into one write.
                    while self.out.len() < 64 {
                        match rx.try_recv() {
                            Ok(next) => self.deliver(next)?,
                            Err(_) => break,
                        }
                    }
                }
                () = &mut keep_alive_timer, if keep_alive.is_some() => {
                    let deadline = last_heard + keep_alive.unwrap_or_default();
                    if Instant::now() >= deadline {
                        return Err(End::KeepAlive);
                    }
                    keep_alive_timer.as_mut().reset(deadline);
                }
            }
        }
    }

    fn handle(
        &mut self,
        packet: Packet,
        principal: &crate::auth::Principal,
        tx: &mpsc::Sender<Outgoing>,
        control: &Arc<Control>,
    ) -> Result<(), End> {
        match packet {
            Packet::Subscribe { packet_id, filters } => {
                let max = self.broker.inner.config.max_subscriptions;
                let mut codes = Vec::with_capacity(filters.len());
                for (filter, requested) in filters {
                    let allowed = !broker_refuses_filter(&filter)
                        && (self.subscriptions.contains(&filter) || self.subscriptions.len() < max)
                        && self
                            .broker
                            .inner
                            .authorizer
                            .may_subscribe(principal, &filter);
                    if !allowed {
                        tracing::debug!(client_id = %self.client_id, %filter, "mqtt subscription refused");
                        codes.push(SubscribeReturnCode::Failure);
                        continue;
                    }
                    let granted = requested.min(QoS::AtLeastOnce);
                    self.broker.subscribe(
                        &filter,
                        self.id,
                        Subscriber {
                            qos: granted,
                            tx: tx.clone(),
                            control: control.clone(),
                        },
                    );
                    self.subscriptions.insert(filter);
                    codes.push(SubscribeReturnCode::Granted(granted));
                }
                self.push(&Packet::SubAck { packet_id, codes });
            }
            Packet::Unsubscribe { packet_id, filters } => {
                self.broker
                    .unsubscribe(filters.iter().map(String::as_str), self.id);
                for filter in &filters {
                    self.subscriptions.remove(filter);
                }
                self.push(&Packet::UnsubAck(packet_id));
            }
            Packet::PingReq => self.push(&Packet::PingResp),
            Packet::PubAck(packet_id) => {
                // An acknowledgement for an unknown identifier is harmless; ignore it.
                self.inflight.remove(&packet_id);
            }
            Packet::Disconnect => return Err(End::Disconnect),
            // Clients never publish (the ACL); AWS IoT Core disconnects such clients, and so do we,
            // which 3.3.5 allows.
            Packet::Publish(publish) => return Err(End::PublishRefused(publish.topic)),
            Packet::Connect(_) => return Err(End::Protocol("a second CONNECT")),
            Packet::PubRec(_) | Packet::PubRel(_) | Packet::PubComp(_) => {
                return Err(End::Protocol("QoS 2 flow without a QoS 2 delivery"));
            }
            Packet::ConnAck { .. }
            | Packet::SubAck { .. }
            | Packet::UnsubAck(_)
            | Packet::PingResp => {
                return Err(End::Protocol("a server-to-client packet from the client"));
            }
        }
        Ok(())
    }

    fn deliver(&mut self, item: Outgoing) -> Result<(), End> {
        match item {
            Outgoing::Packet(packet) => self.out.push(packet),
            Outgoing::Qos1(publish) => {
                if self.inflight.len() >= self.broker.inner.config.outbound_queue.clamp(1, 65_535) {
                    return Err(End::SlowConsumer);
                }
                let packet_id = self.allocate_packet_id();
                let mut packet =
                    BytesMut::with_capacity(publish.head.len() + 2 + publish.payload.len());
                packet.extend_from_slice(&publish.head);
                packet.put_u16(packet_id);
                packet.extend_from_slice(&publish.payload);
                self.inflight.insert(packet_id, publish);
                self.out.push(packet.freeze());
            }
        }
        Ok(())
    }

    /// The next packet identifier not in flight (never 0). The in-flight window is far below
    /// 65,535, so a free one is always found.
    fn allocate_packet_id(&mut self) -> u16 {
        loop {
            let id = self.next_packet_id;
            self.next_packet_id = self.next_packet_id.checked_add(1).unwrap_or(1);
            if !self.inflight.contains_key(&id) {
                return id;
            }
        }
    }

    fn push(&mut self, packet: &Packet) {
        self.out.push(packet.to_bytes());
    }

    /// Removes every trace of the session from the broker; safe to call twice.
    fn cleanup(&mut self) {
        if !self.subscriptions.is_empty() {
            self.broker
                .unsubscribe(self.subscriptions.iter().map(String::as_str), self.id);
            self.subscriptions.clear();
        }
        if self.registered {
            self.broker.unregister_client(&self.client_id, self.id);
            self.registered = false;
        }
    }
}

/// A session's task may be dropped without finishing (its listener's task aborted, say): the
/// topic table and the registry must not keep it.
impl Drop for Session {
    fn drop(&mut self) {
        self.cleanup();
    }
}
