//! The broker driven by real clients over real sockets: rumqttc over TCP and over WebSocket (an
//! axum server on port 0), and a raw MQTT client for what well-behaved clients never send.

use bytes::{Bytes, BytesMut};
use futures::{SinkExt, StreamExt};
use presso_mqtt::codec::{self, ConnectReturnCode, Packet, SubscribeReturnCode};
use presso_mqtt::{Authorizer, Broker, BrokerConfig, ConnectRefused, Principal, QoS};
use rumqttc::{
    AsyncClient, ConnectionError, Event, EventLoop, Incoming, MqttOptions, SubscribeFilter,
    SubscribeReasonCode, Transport,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};

const WAIT: Duration = Duration::from_secs(5);

/// Tokens are `token:<sub>` or `token:<sub>:<group>`; anything else is a bad token. The ACL is
/// presso's shape: config topics are public, a user may read their own user topic, admins the
/// admin topics.
#[derive(Default)]
struct TestAuthorizer {
    asked: Mutex<Vec<String>>,
}

impl Authorizer for TestAuthorizer {
    fn connect(
        &self,
        _client_id: &str,
        _username: Option<&str>,
        password: Option<&[u8]>,
    ) -> Result<Principal, ConnectRefused> {
        let Some(password) = password else {
            return Ok(Principal::anonymous());
        };
        let token = std::str::from_utf8(password).map_err(|_| ConnectRefused::NotAuthorized)?;
        let claims = token
            .strip_prefix("token:")
            .ok_or(ConnectRefused::NotAuthorized)?;
        let mut parts = claims.split(':');
        Ok(Principal {
            sub: parts.next().map(str::to_owned),
            groups: parts.map(str::to_owned).collect(),
        })
    }

    fn may_subscribe(&self, principal: &Principal, filter: &str) -> bool {
        self.asked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(filter.to_owned());
        if filter.starts_with("serverlesspresso-config-") {
            return true;
        }
        match &principal.sub {
            Some(sub) => {
                filter == format!("serverlesspresso-user-{sub}")
                    || (principal.in_group("admin")
                        && filter.starts_with("serverlesspresso-admin-"))
            }
            None => false,
        }
    }
}

struct App {
    broker: Broker,
    authorizer: Arc<TestAuthorizer>,
    tcp_port: u16,
    ws_port: u16,
    stop_tcp: Option<oneshot::Sender<()>>,
    tcp_task: JoinHandle<()>,
    http_task: JoinHandle<()>,
}

impl Drop for App {
    fn drop(&mut self) {
        self.tcp_task.abort();
        self.http_task.abort();
    }
}

async fn spawn_app() -> App {
    spawn_app_with(BrokerConfig::default()).await
}

async fn spawn_app_with(config: BrokerConfig) -> App {
    let authorizer = Arc::new(TestAuthorizer::default());
    let broker = Broker::with_config(authorizer.clone(), config);
    let tcp = TcpListener::bind("127.0.0.1:0").await.expect("bind tcp");
    let tcp_port = tcp.local_addr().expect("tcp addr").port();
    let (stop_tcp, stopped) = oneshot::channel::<()>();
    let tcp_task = tokio::spawn({
        let broker = broker.clone();
        async move {
            broker
                .serve_tcp(tcp, async {
                    let _ = stopped.await;
                })
                .await
        }
    });
    let http = TcpListener::bind("127.0.0.1:0").await.expect("bind http");
    let ws_port = http.local_addr().expect("http addr").port();
    let router = axum::Router::new()
        .route("/mqtt", broker.websocket_route())
        .route(
            "/mqtt-state",
            axum::routing::get(presso_mqtt::websocket_handler),
        )
        .with_state(broker.clone());
    let http_task = tokio::spawn(async move {
        let _ = axum::serve(http, router).await;
    });
    App {
        broker,
        authorizer,
        tcp_port,
        ws_port,
        stop_tcp: Some(stop_tcp),
        tcp_task,
        http_task,
    }
}

#[derive(Clone, Copy, Debug)]
enum Via {
    Tcp,
    Ws,
}

const BOTH: [Via; 2] = [Via::Tcp, Via::Ws];

fn options(app: &App, via: Via, id: &str, password: Option<&str>) -> MqttOptions {
    let mut options = match via {
        Via::Tcp => MqttOptions::new(id, "127.0.0.1", app.tcp_port),
        Via::Ws => {
            let url = format!("ws://127.0.0.1:{}/mqtt", app.ws_port);
            let mut options = MqttOptions::new(id, url, app.ws_port);
            options.set_transport(Transport::Ws);
            options
        }
    };
    if let Some(password) = password {
        options.set_credentials("presso", password);
    }
    options.set_keep_alive(Duration::from_secs(30));
    options
}

async fn next_event(events: &mut EventLoop) -> Result<Event, ConnectionError> {
    timeout(WAIT, events.poll())
        .await
        .expect("no client event within 5 s")
}

async fn next_incoming(events: &mut EventLoop) -> Incoming {
    loop {
        match next_event(events).await {
            Ok(Event::Incoming(packet)) => return packet,
            Ok(Event::Outgoing(_)) => {}
            Err(error) => panic!("the connection failed: {error}"),
        }
    }
}

/// Polls until the connection fails, returning why.
async fn connection_error(events: &mut EventLoop) -> ConnectionError {
    loop {
        if let Err(error) = next_event(events).await {
            return error;
        }
    }
}

async fn connect(
    app: &App,
    via: Via,
    id: &str,
    password: Option<&str>,
) -> (AsyncClient, EventLoop) {
    let (client, mut events) = AsyncClient::new(options(app, via, id, password), 16);
    match next_incoming(&mut events).await {
        Incoming::ConnAck(ack) => {
            assert_eq!(ack.code, rumqttc::ConnectReturnCode::Success, "{via:?}");
            assert!(!ack.session_present);
        }
        other => panic!("expected CONNACK, got {other:?}"),
    }
    (client, events)
}

async fn subscribe(
    client: &AsyncClient,
    events: &mut EventLoop,
    filters: &[(&str, rumqttc::QoS)],
) -> Vec<SubscribeReasonCode> {
    client
        .subscribe_many(
            filters
                .iter()
                .map(|(filter, qos)| SubscribeFilter::new((*filter).to_owned(), *qos)),
        )
        .await
        .expect("queue subscribe");
    loop {
        if let Incoming::SubAck(ack) = next_incoming(events).await {
            return ack.return_codes;
        }
    }
}

async fn next_publish(events: &mut EventLoop) -> rumqttc::Publish {
    loop {
        if let Incoming::Publish(publish) = next_incoming(events).await {
            return publish;
        }
    }
}

/// A client speaking raw MQTT bytes over TCP.
struct RawClient {
    stream: TcpStream,
    buf: BytesMut,
}

impl RawClient {
    async fn connect(app: &App) -> RawClient {
        let stream = TcpStream::connect(("127.0.0.1", app.tcp_port))
            .await
            .expect("connect tcp");
        RawClient {
            stream,
            buf: BytesMut::new(),
        }
    }

    /// Connects and completes the MQTT handshake.
    async fn connected(app: &App, keep_alive: u16) -> RawClient {
        let mut raw = RawClient::connect(app).await;
        raw.send(&connect_packet("raw", keep_alive, None)).await;
        assert_eq!(raw.recv().await, Some(connack(ConnectReturnCode::Accepted)));
        raw
    }

    async fn send(&mut self, packet: &Packet) {
        self.send_bytes(&packet.to_bytes()).await;
    }

    async fn send_bytes(&mut self, bytes: &[u8]) {
        // The server may already have closed; the test then sees it in `recv`.
        let _ = self.stream.write_all(bytes).await;
    }

    /// The next packet, or `None` once the server has closed the connection.
    async fn recv(&mut self) -> Option<Packet> {
        timeout(WAIT, async {
            loop {
                if let Some(packet) =
                    codec::decode(&mut self.buf, 1 << 20).expect("server sent a valid packet")
                {
                    return Some(packet);
                }
                match self.stream.read_buf(&mut self.buf).await {
                    Ok(0) | Err(_) => return None,
                    Ok(_) => {}
                }
            }
        })
        .await
        .expect("nothing from the server within 5 s")
    }

    async fn expect_closed(&mut self) {
        assert_eq!(
            self.recv().await,
            None,
            "the server should close the connection"
        );
    }
}

fn connect_packet(client_id: &str, keep_alive: u16, password: Option<&str>) -> Packet {
    Packet::Connect(codec::Connect {
        clean_session: true,
        keep_alive,
        client_id: client_id.to_owned(),
        will: None,
        username: password.map(|_| "presso".to_owned()),
        password: password.map(|p| Bytes::copy_from_slice(p.as_bytes())),
    })
}

fn connack(code: ConnectReturnCode) -> Packet {
    Packet::ConnAck {
        session_present: false,
        code,
    }
}

fn subscribe_packet(packet_id: u16, filter: &str, qos: QoS) -> Packet {
    Packet::Subscribe {
        packet_id,
        filters: vec![(filter.to_owned(), qos)],
    }
}

/// Polls `condition` until it holds or five seconds pass.
async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn an_anonymous_client_connects_and_subscribes_to_a_public_topic() {
    let app = spawn_app().await;
    for via in BOTH {
        let (client, mut events) = connect(&app, via, &format!("anon-{via:?}"), None).await;
        let codes = subscribe(
            &client,
            &mut events,
            &[("serverlesspresso-config-default", rumqttc::QoS::AtMostOnce)],
        )
        .await;
        assert_eq!(
            codes,
            [SubscribeReasonCode::Success(rumqttc::QoS::AtMostOnce)],
            "{via:?}"
        );
    }
}

#[tokio::test]
async fn an_empty_password_is_anonymous() {
    let app = spawn_app().await;
    let (client, mut events) = connect(&app, Via::Tcp, "empty", Some("")).await;
    let codes = subscribe(
        &client,
        &mut events,
        &[
            ("serverlesspresso-config-default", rumqttc::QoS::AtMostOnce),
            ("serverlesspresso-user-alice", rumqttc::QoS::AtMostOnce),
        ],
    )
    .await;
    assert_eq!(
        codes,
        [
            SubscribeReasonCode::Success(rumqttc::QoS::AtMostOnce),
            SubscribeReasonCode::Failure
        ]
    );
}

#[tokio::test]
async fn a_bad_token_gets_connack_5_not_authorized() {
    let app = spawn_app().await;
    for via in BOTH {
        let (_client, mut events) =
            AsyncClient::new(options(&app, via, "bad", Some("forged.jwt.value")), 16);
        match connection_error(&mut events).await {
            ConnectionError::ConnectionRefused(code) => {
                assert_eq!(code, rumqttc::ConnectReturnCode::NotAuthorized, "{via:?}")
            }
            other => panic!("expected CONNACK 5 over {via:?}, got {other}"),
        }
    }
}

#[tokio::test]
async fn allowed_filters_are_granted_and_refused_ones_get_0x80() {
    let app = spawn_app().await;
    for via in BOTH {
        let (client, mut events) =
            connect(&app, via, &format!("alice-{via:?}"), Some("token:alice")).await;
        let codes = subscribe(
            &client,
            &mut events,
            &[
                ("serverlesspresso-user-alice", rumqttc::QoS::AtLeastOnce),
                ("serverlesspresso-user-bob", rumqttc::QoS::AtLeastOnce),
                ("serverlesspresso-admin-default", rumqttc::QoS::AtMostOnce),
                ("serverlesspresso-config-default", rumqttc::QoS::ExactlyOnce),
            ],
        )
        .await;
        assert_eq!(
            codes,
            [
                SubscribeReasonCode::Success(rumqttc::QoS::AtLeastOnce),
                SubscribeReasonCode::Failure,
                SubscribeReasonCode::Failure,
                // QoS 2 is granted as QoS 1, the most this broker delivers.
                SubscribeReasonCode::Success(rumqttc::QoS::AtLeastOnce),
            ],
            "{via:?}"
        );
    }
    let (client, mut events) = connect(&app, Via::Ws, "barista", Some("token:bob:admin")).await;
    let codes = subscribe(
        &client,
        &mut events,
        &[("serverlesspresso-admin-default", rumqttc::QoS::AtMostOnce)],
    )
    .await;
    assert_eq!(
        codes,
        [SubscribeReasonCode::Success(rumqttc::QoS::AtMostOnce)]
    );
}

#[tokio::test]
async fn wildcard_dollar_and_shared_filters_are_refused_before_the_authorizer_is_asked() {
    let app = spawn_app().await;
    let mut raw = RawClient::connect(&app).await;
    raw.send(&connect_packet("admin", 0, Some("token:bob:admin")))
        .await;
    assert_eq!(raw.recv().await, Some(connack(ConnectReturnCode::Accepted)));
    let refused = [
        "#",
        "+",
        "serverlesspresso-admin-+",
        "serverlesspresso-user-alice/#",
        "$SYS/broker/clients",
        "$share/baristas/serverlesspresso-admin-default",
        "$aws/things/thing/shadow/update",
    ];
    raw.send(&Packet::Subscribe {
        packet_id: 9,
        filters: refused
            .iter()
            .map(|f| ((*f).to_owned(), QoS::AtMostOnce))
            .collect(),
    })
    .await;
    assert_eq!(
        raw.recv().await,
        Some(Packet::SubAck {
            packet_id: 9,
            codes: vec![SubscribeReturnCode::Failure; refused.len()]
        })
    );
    assert!(
        app.authorizer
            .asked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty(),
        "the authorizer must not see refused filters"
    );
}

#[tokio::test]
async fn in_process_publish_reaches_subscribers_at_qos_0_and_1() {
    let app = spawn_app().await;
    let topic = "serverlesspresso-config-default";
    let mut subscribers = Vec::new();
    for via in BOTH {
        for qos in [rumqttc::QoS::AtMostOnce, rumqttc::QoS::AtLeastOnce] {
            let (client, mut events) =
                connect(&app, via, &format!("sub-{via:?}-{qos:?}"), None).await;
            let codes = subscribe(&client, &mut events, &[(topic, qos)]).await;
            assert_eq!(codes, [SubscribeReasonCode::Success(qos)]);
            subscribers.push((via, qos, client, events));
        }
    }
    let payload = Bytes::from_static(br#"{"type":"Config.StoreOpened","detail":{}}"#);
    for published in [QoS::AtMostOnce, QoS::AtLeastOnce] {
        let delivered = app
            .broker
            .publish(topic, payload.clone(), published)
            .expect("publish");
        assert_eq!(delivered, 4);
        for (via, granted, _client, events) in &mut subscribers {
            let publish = next_publish(events).await;
            assert_eq!(publish.topic, topic);
            assert_eq!(publish.payload, payload);
            assert!(!publish.retain);
            let expected = if published == QoS::AtLeastOnce {
                *granted
            } else {
                rumqttc::QoS::AtMostOnce
            };
            assert_eq!(publish.qos, expected, "{via:?} granted {granted:?}");
        }
    }
    assert_eq!(
        app.broker
            .publish("serverlesspresso-config-nobody", payload, QoS::AtLeastOnce),
        Ok(0)
    );
    // Metered as IoT Core bills: every publication, and every delivery, per 5 KB started.
    let big = Bytes::from(vec![b'x'; 5 * 1024 + 1]);
    app.broker
        .publish("serverlesspresso-config-nobody", big, QoS::AtMostOnce)
        .expect("publish");
    let usage = app.broker.usage();
    assert_eq!(usage.published, 2 + 1 + 2, "{usage:?}");
    assert_eq!(usage.delivered, 8, "{usage:?}");
}

#[tokio::test]
async fn qos_1_deliveries_carry_distinct_packet_ids_until_acknowledged() {
    let app = spawn_app().await;
    let mut raw = RawClient::connected(&app, 0).await;
    raw.send(&subscribe_packet(
        1,
        "serverlesspresso-config-default",
        QoS::AtLeastOnce,
    ))
    .await;
    assert_eq!(
        raw.recv().await,
        Some(Packet::SubAck {
            packet_id: 1,
            codes: vec![SubscribeReturnCode::Granted(QoS::AtLeastOnce)]
        })
    );
    let mut ids = Vec::new();
    for n in 0..3 {
        app.broker
            .publish(
                "serverlesspresso-config-default",
                Bytes::from(format!("m{n}")),
                QoS::AtLeastOnce,
            )
            .expect("publish");
        match raw.recv().await {
            Some(Packet::Publish(publish)) => {
                assert_eq!(publish.qos, QoS::AtLeastOnce);
                assert_eq!(publish.payload, Bytes::from(format!("m{n}")));
                ids.push(publish.packet_id.expect("QoS 1 has a packet id"));
            }
            other => panic!("expected PUBLISH, got {other:?}"),
        }
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 3);
    // Acknowledging them (and an id never sent) keeps the session healthy.
    for id in ids.iter().copied().chain([4242]) {
        raw.send(&Packet::PubAck(id)).await;
    }
    raw.send(&Packet::PingReq).await;
    assert_eq!(raw.recv().await, Some(Packet::PingResp));
}

#[tokio::test]
async fn a_client_publish_is_never_delivered_and_disconnects_the_client() {
    let app = spawn_app().await;
    let topic = "serverlesspresso-user-alice";
    let (subscriber, mut sub_events) = connect(&app, Via::Ws, "alice", Some("token:alice")).await;
    subscribe(
        &subscriber,
        &mut sub_events,
        &[(topic, rumqttc::QoS::AtLeastOnce)],
    )
    .await;
    for via in BOTH {
        let (publisher, mut events) = connect(
            &app,
            via,
            &format!("mallory-{via:?}"),
            Some("token:mallory"),
        )
        .await;
        publisher
            .publish(topic, rumqttc::QoS::AtMostOnce, false, "forged order ready")
            .await
            .expect("queue publish");
        connection_error(&mut events).await;
    }
    // The first message the subscriber sees is the server's marker, not the forged one.
    app.broker
        .publish(topic, Bytes::from_static(b"marker"), QoS::AtMostOnce)
        .expect("publish");
    assert_eq!(
        next_publish(&mut sub_events).await.payload,
        Bytes::from_static(b"marker")
    );
}

#[tokio::test]
async fn unsubscribing_stops_delivery() {
    let app = spawn_app().await;
    let topic = "serverlesspresso-config-default";
    let (client, mut events) = connect(&app, Via::Tcp, "leaver", None).await;
    subscribe(&client, &mut events, &[(topic, rumqttc::QoS::AtMostOnce)]).await;
    assert_eq!(app.broker.subscriber_count(topic), 1);
    client.unsubscribe(topic).await.expect("queue unsubscribe");
    loop {
        if let Incoming::UnsubAck(_) = next_incoming(&mut events).await {
            break;
        }
    }
    assert_eq!(app.broker.subscriber_count(topic), 0);
    assert_eq!(
        app.broker.publish(topic, Bytes::new(), QoS::AtMostOnce),
        Ok(0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_subscriber_gets_every_message_in_order() {
    let app = spawn_app().await;
    let topic = "serverlesspresso-config-default";
    let subscribers = 100;
    let messages = 20u32;
    let (done_tx, mut done) = tokio::sync::mpsc::unbounded_channel();
    for n in 0..subscribers {
        let via = if n % 2 == 0 { Via::Ws } else { Via::Tcp };
        let qos = if n % 3 == 0 {
            rumqttc::QoS::AtMostOnce
        } else {
            rumqttc::QoS::AtLeastOnce
        };
        let (client, mut events) = connect(&app, via, &format!("fan-{n}"), None).await;
        subscribe(&client, &mut events, &[(topic, qos)]).await;
        let done_tx = done_tx.clone();
        tokio::spawn(async move {
            let mut received = Vec::new();
            while received.len() < messages as usize {
                received.push(next_publish(&mut events).await.payload);
            }
            let _ = done_tx.send((n, received));
            drop(client);
        });
    }
    for m in 0..messages {
        let delivered = app
            .broker
            .publish(topic, Bytes::from(m.to_string()), QoS::AtLeastOnce)
            .expect("publish");
        assert_eq!(delivered, subscribers);
    }
    let expected: Vec<Bytes> = (0..messages).map(|m| Bytes::from(m.to_string())).collect();
    for _ in 0..subscribers {
        let (n, received) = timeout(WAIT, done.recv())
            .await
            .expect("every subscriber finishes within 5 s")
            .expect("a result");
        assert_eq!(received, expected, "subscriber {n}");
    }
}

#[tokio::test]
async fn a_second_connection_with_the_same_client_id_takes_over() {
    let app = spawn_app().await;
    let topic = "serverlesspresso-config-default";
    let (first, mut first_events) = connect(&app, Via::Tcp, "phone", None).await;
    subscribe(
        &first,
        &mut first_events,
        &[(topic, rumqttc::QoS::AtMostOnce)],
    )
    .await;
    let (second, mut second_events) = connect(&app, Via::Ws, "phone", None).await;
    connection_error(&mut first_events).await;
    subscribe(
        &second,
        &mut second_events,
        &[(topic, rumqttc::QoS::AtMostOnce)],
    )
    .await;
    assert_eq!(app.broker.subscriber_count(topic), 1);
    assert_eq!(
        app.broker
            .publish(topic, Bytes::from_static(b"x"), QoS::AtMostOnce),
        Ok(1)
    );
    assert_eq!(
        next_publish(&mut second_events).await.payload,
        Bytes::from_static(b"x")
    );
}

#[tokio::test]
async fn an_idle_client_is_disconnected_after_one_and_a_half_keep_alives() {
    let app = spawn_app().await;
    // Timed from before CONNECT, so the server's clock cannot have started earlier.
    let started = tokio::time::Instant::now();
    let mut raw = RawClient::connected(&app, 1).await;
    raw.expect_closed().await;
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "closed after {:?}, before 1.5 keep-alive periods",
        started.elapsed()
    );
}

#[tokio::test]
async fn control_packets_keep_a_session_alive_past_its_keep_alive() {
    let app = spawn_app().await;
    let mut raw = RawClient::connected(&app, 1).await;
    let started = tokio::time::Instant::now();
    let mut pace = tokio::time::interval(Duration::from_millis(400));
    while started.elapsed() < Duration::from_millis(2000) {
        pace.tick().await;
        raw.send(&Packet::PingReq).await;
        assert_eq!(raw.recv().await, Some(Packet::PingResp));
    }
}

#[tokio::test]
async fn malformed_packets_close_the_connection() {
    let app = spawn_app().await;
    let cases: &[&[u8]] = &[
        &[0xf0, 0x00],                         // reserved packet type 15
        &[0xc1, 0x00],                         // PINGREQ with flags set
        &[0x82, 0x02, 0x00, 0x01],             // SUBSCRIBE without filters
        &[0x30, 0xff, 0xff, 0xff, 0xff, 0x01], // remaining length over four bytes
        &[0x30, 0xc0, 0x9a, 0x0c],             // a 200 KB PUBLISH, over the 128 KiB limit
        &[0x62, 0x02, 0x00, 0x01],             // PUBREL: no QoS 2 here
        &[0x10, 0x02, 0x00, 0x00],             // a second CONNECT (truncated, even)
    ];
    for bytes in cases {
        let mut raw = RawClient::connected(&app, 0).await;
        raw.send_bytes(bytes).await;
        raw.expect_closed().await;
    }
}

#[tokio::test]
async fn the_first_packet_must_be_connect() {
    let app = spawn_app().await;
    let mut raw = RawClient::connect(&app).await;
    raw.send(&Packet::PingReq).await;
    raw.expect_closed().await;
}

#[tokio::test]
async fn an_mqtt_5_or_3_1_connect_gets_connack_1() {
    let app = spawn_app().await;
    let cases: &[&[u8]] = &[
        // "MQTT" level 5 with an empty property block and client id "js".
        &[
            0x10, 0x0f, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x02, 0x00, 0x3c, 0x00, 0x00,
            0x02, b'j', b's',
        ],
        // "MQIsdp" level 3.
        &[
            0x10, 0x10, 0x00, 0x06, b'M', b'Q', b'I', b's', b'd', b'p', 0x03, 0x02, 0x00, 0x3c,
            0x00, 0x02, b'o', b'l',
        ],
    ];
    for bytes in cases {
        let mut raw = RawClient::connect(&app).await;
        raw.send_bytes(bytes).await;
        assert_eq!(
            raw.recv().await,
            Some(connack(ConnectReturnCode::UnacceptableProtocolVersion))
        );
        raw.expect_closed().await;
    }
}

#[tokio::test]
async fn client_identifiers_follow_the_mqtt_rules() {
    let app = spawn_app().await;
    // An empty id with a clean session gets one assigned.
    let mut raw = RawClient::connect(&app).await;
    raw.send(&connect_packet("", 0, None)).await;
    assert_eq!(raw.recv().await, Some(connack(ConnectReturnCode::Accepted)));
    // An empty id asking for a persistent session is rejected, and so is an over-long id.
    let mut persistent = connect_packet("", 0, None);
    if let Packet::Connect(connect) = &mut persistent {
        connect.clean_session = false;
    }
    for packet in [persistent, connect_packet(&"x".repeat(129), 0, None)] {
        let mut raw = RawClient::connect(&app).await;
        raw.send(&packet).await;
        assert_eq!(
            raw.recv().await,
            Some(connack(ConnectReturnCode::IdentifierRejected))
        );
        raw.expect_closed().await;
    }
}

async fn raw_websocket(
    app: &App,
    protocol: Option<&str>,
) -> Result<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>,
    tungstenite::Error,
> {
    let mut request = format!("ws://127.0.0.1:{}/mqtt", app.ws_port)
        .into_client_request()
        .expect("request");
    if let Some(protocol) = protocol {
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            protocol.parse().expect("header value"),
        );
    }
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(socket, response)| {
            assert_eq!(
                response
                    .headers()
                    .get("Sec-WebSocket-Protocol")
                    .and_then(|v| v.to_str().ok()),
                Some("mqtt")
            );
            socket
        })
}

#[tokio::test]
async fn websocket_packets_may_span_messages_and_share_one() {
    let app = spawn_app().await;
    let mut socket = raw_websocket(&app, Some("mqtt")).await.expect("upgrade");
    let connect = connect_packet("split", 0, None).to_bytes();
    let (head, tail) = connect.split_at(5);
    for part in [head, tail] {
        socket
            .send(Message::Binary(Bytes::copy_from_slice(part)))
            .await
            .expect("send");
    }
    let mut both = BytesMut::new();
    subscribe_packet(3, "serverlesspresso-config-default", QoS::AtMostOnce).encode(&mut both);
    Packet::PingReq.encode(&mut both);
    socket
        .send(Message::Binary(both.freeze()))
        .await
        .expect("send");
    let mut received = BytesMut::new();
    let mut packets = Vec::new();
    while packets.len() < 3 {
        match timeout(WAIT, socket.next())
            .await
            .expect("reply within 5 s")
        {
            Some(Ok(Message::Binary(data))) => received.extend_from_slice(&data),
            other => panic!("expected binary messages, got {other:?}"),
        }
        while let Some(packet) = codec::decode(&mut received, 1 << 20).expect("valid packet") {
            packets.push(packet);
        }
    }
    assert_eq!(
        packets,
        [
            connack(ConnectReturnCode::Accepted),
            Packet::SubAck {
                packet_id: 3,
                codes: vec![SubscribeReturnCode::Granted(QoS::AtMostOnce)]
            },
            Packet::PingResp
        ]
    );
}

#[tokio::test]
async fn a_websocket_without_the_mqtt_subprotocol_is_refused() {
    let app = spawn_app().await;
    for protocol in [None, Some("graphql-ws")] {
        match raw_websocket(&app, protocol).await {
            Err(tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), 400, "{protocol:?}")
            }
            Err(other) => panic!("expected HTTP 400, got {other}"),
            Ok(_) => panic!("the upgrade without `mqtt` should fail"),
        }
    }
    // A list that includes mqtt is accepted.
    raw_websocket(&app, Some("mqttv3.1, mqtt"))
        .await
        .expect("upgrade");
}

#[tokio::test]
async fn text_websocket_messages_close_the_session() {
    let app = spawn_app().await;
    let mut socket = raw_websocket(&app, Some("mqtt")).await.expect("upgrade");
    socket
        .send(Message::Text("CONNECT".into()))
        .await
        .expect("send");
    match timeout(WAIT, socket.next())
        .await
        .expect("close within 5 s")
    {
        None | Some(Err(_)) | Some(Ok(Message::Close(_))) => {}
        Some(Ok(other)) => panic!("expected the session to close, got {other:?}"),
    }
}

#[tokio::test]
async fn a_subscriber_that_stops_reading_is_disconnected_without_blocking_others() {
    let app = spawn_app_with(BrokerConfig {
        outbound_queue: 4,
        ..BrokerConfig::default()
    })
    .await;
    let topic = "serverlesspresso-config-default";
    let mut stalled = RawClient::connected(&app, 0).await;
    stalled
        .send(&subscribe_packet(1, topic, QoS::AtMostOnce))
        .await;
    assert!(matches!(stalled.recv().await, Some(Packet::SubAck { .. })));
    let mut healthy_options = options(&app, Via::Ws, "healthy", None);
    healthy_options.set_max_packet_size(1 << 20, 1 << 20);
    let (healthy, mut events) = AsyncClient::new(healthy_options, 16);
    assert!(matches!(
        next_incoming(&mut events).await,
        Incoming::ConnAck(_)
    ));
    subscribe(&healthy, &mut events, &[(topic, rumqttc::QoS::AtMostOnce)]).await;
    let (received_tx, mut received) = tokio::sync::mpsc::unbounded_channel();
    let reader = tokio::spawn(async move {
        loop {
            let publish = next_publish(&mut events).await;
            if received_tx.send(publish.payload.len()).is_err() {
                break;
            }
        }
    });
    // Publish big messages, one at a time as the healthy client takes them, until the stalled
    // client's socket buffers and queue are full and the broker drops it.
    let payload = Bytes::from(vec![b'x'; 100_000]);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while app.broker.subscriber_count(topic) == 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the stalled client was never dropped"
        );
        app.broker
            .publish(topic, payload.clone(), QoS::AtMostOnce)
            .expect("publish");
        let got = timeout(WAIT, received.recv())
            .await
            .expect("healthy client keeps receiving");
        assert_eq!(got, Some(payload.len()));
    }
    assert_eq!(
        app.broker.subscriber_count(topic),
        1,
        "the healthy client stays subscribed"
    );
    drop(stalled);
    reader.abort();
}

#[tokio::test]
async fn a_subscriber_that_leaves_qos_1_unacknowledged_is_disconnected() {
    let app = spawn_app_with(BrokerConfig {
        outbound_queue: 2,
        ..BrokerConfig::default()
    })
    .await;
    let topic = "serverlesspresso-config-default";
    let mut raw = RawClient::connected(&app, 0).await;
    raw.send(&subscribe_packet(1, topic, QoS::AtLeastOnce))
        .await;
    assert!(matches!(raw.recv().await, Some(Packet::SubAck { .. })));
    for n in 0..2 {
        app.broker
            .publish(topic, Bytes::from(format!("{n}")), QoS::AtLeastOnce)
            .expect("publish");
        assert!(matches!(raw.recv().await, Some(Packet::Publish(_))));
    }
    app.broker
        .publish(topic, Bytes::from_static(b"one too many"), QoS::AtLeastOnce)
        .expect("publish");
    raw.expect_closed().await;
}

#[tokio::test]
async fn a_session_holds_at_most_the_configured_number_of_subscriptions() {
    let app = spawn_app_with(BrokerConfig {
        max_subscriptions: 2,
        ..BrokerConfig::default()
    })
    .await;
    let mut raw = RawClient::connected(&app, 0).await;
    raw.send(&Packet::Subscribe {
        packet_id: 1,
        filters: ["a", "b", "a", "c"]
            .map(|f| (format!("serverlesspresso-config-{f}"), QoS::AtMostOnce))
            .to_vec(),
    })
    .await;
    let granted = SubscribeReturnCode::Granted(QoS::AtMostOnce);
    assert_eq!(
        raw.recv().await,
        Some(Packet::SubAck {
            packet_id: 1,
            // Subscribing again to a held filter replaces it and does not count twice.
            codes: vec![granted, granted, granted, SubscribeReturnCode::Failure]
        })
    );
}

#[tokio::test]
async fn the_state_based_websocket_handler_serves_mqtt_too() {
    let app = spawn_app().await;
    let mut request = format!("ws://127.0.0.1:{}/mqtt-state", app.ws_port)
        .into_client_request()
        .expect("request");
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", "mqtt".parse().expect("header"));
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("upgrade");
    socket
        .send(Message::Binary(connect_packet("state", 0, None).to_bytes()))
        .await
        .expect("send");
    match timeout(WAIT, socket.next())
        .await
        .expect("CONNACK within 5 s")
    {
        Some(Ok(Message::Binary(data))) => assert_eq!(
            codec::decode(&mut BytesMut::from(&data[..]), 1024),
            Ok(Some(connack(ConnectReturnCode::Accepted)))
        ),
        other => panic!("expected CONNACK, got {other:?}"),
    }
}

#[tokio::test]
async fn broker_shutdown_closes_every_session() {
    let mut app = spawn_app().await;
    let (_tcp_client, mut tcp_events) = connect(&app, Via::Tcp, "tcp", None).await;
    let (_ws_client, mut ws_events) = connect(&app, Via::Ws, "ws", None).await;
    let mut raw = RawClient::connect(&app).await; // still before CONNECT
    eventually("three sessions", || app.broker.session_count() == 3).await;
    timeout(WAIT, app.broker.shutdown())
        .await
        .expect("shutdown within 5 s");
    assert_eq!(app.broker.session_count(), 0);
    connection_error(&mut tcp_events).await;
    connection_error(&mut ws_events).await;
    raw.expect_closed().await;
    // The TCP listener stops with the broker.
    timeout(WAIT, &mut app.tcp_task)
        .await
        .expect("serve_tcp returns")
        .expect("serve_tcp did not panic");
    assert!(
        TcpStream::connect(("127.0.0.1", app.tcp_port))
            .await
            .is_err()
    );
    // A WebSocket arriving after shutdown is closed at once.
    let (_late, mut late_events) = AsyncClient::new(options(&app, Via::Ws, "late", None), 16);
    connection_error(&mut late_events).await;
}

#[tokio::test]
async fn stopping_the_tcp_listener_closes_its_sessions_only() {
    let mut app = spawn_app().await;
    let (_tcp_client, mut tcp_events) = connect(&app, Via::Tcp, "tcp", None).await;
    let (ws_client, mut ws_events) = connect(&app, Via::Ws, "ws", None).await;
    let _ = app.stop_tcp.take().expect("stop sender").send(());
    timeout(WAIT, &mut app.tcp_task)
        .await
        .expect("serve_tcp returns")
        .expect("serve_tcp did not panic");
    connection_error(&mut tcp_events).await;
    assert_eq!(app.broker.session_count(), 1);
    let codes = subscribe(
        &ws_client,
        &mut ws_events,
        &[("serverlesspresso-config-default", rumqttc::QoS::AtMostOnce)],
    )
    .await;
    assert_eq!(
        codes,
        [SubscribeReasonCode::Success(rumqttc::QoS::AtMostOnce)]
    );
}

#[tokio::test]
async fn aborting_the_tcp_listener_task_leaves_no_stale_subscriptions() {
    let app = spawn_app().await;
    let topic = "serverlesspresso-config-default";
    let (client, mut events) = connect(&app, Via::Tcp, "aborted", None).await;
    subscribe(&client, &mut events, &[(topic, rumqttc::QoS::AtMostOnce)]).await;
    assert_eq!(app.broker.subscriber_count(topic), 1);
    app.tcp_task.abort();
    eventually("the session's subscriptions to go", || {
        app.broker.subscriber_count(topic) == 0 && app.broker.session_count() == 0
    })
    .await;
}

/// The shutdown order a server embedding the broker uses: one signal stops axum (graceful) and
/// the broker together; axum alone would not end upgraded WebSocket sessions.
#[tokio::test]
async fn a_graceful_axum_shutdown_with_the_broker_ends_websocket_sessions() {
    let broker = Broker::new(Arc::new(TestAuthorizer::default()));
    let http = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = http.local_addr().expect("addr").port();
    let router = axum::Router::new().route("/mqtt", broker.websocket_route());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let server = tokio::spawn({
        let broker = broker.clone();
        let mut stopped = stopped.clone();
        async move {
            let signal = async move {
                let _ = stopped.wait_for(|s| *s).await;
                broker.shutdown().await;
            };
            axum::serve(http, router)
                .with_graceful_shutdown(signal)
                .await
        }
    });
    let url = format!("ws://127.0.0.1:{port}/mqtt");
    let mut options = MqttOptions::new("graceful", url, port);
    options.set_transport(Transport::Ws);
    let (_client, mut events) = AsyncClient::new(options, 16);
    assert!(matches!(
        next_incoming(&mut events).await,
        Incoming::ConnAck(_)
    ));
    stop.send_replace(true);
    timeout(WAIT, server)
        .await
        .expect("the server stops within 5 s")
        .expect("server task")
        .expect("serve");
    connection_error(&mut events).await;
    assert_eq!(broker.session_count(), 0);
}

#[test]
fn in_process_publish_refuses_bad_topics_and_oversized_payloads() {
    let broker = Broker::new(Arc::new(TestAuthorizer::default()));
    for topic in ["", "a/+", "a/#", "nul\0"] {
        assert!(
            matches!(
                broker.publish(topic, Bytes::new(), QoS::AtMostOnce),
                Err(presso_mqtt::PublishError::InvalidTopic(_))
            ),
            "{topic:?}"
        );
    }
    assert!(matches!(
        broker.publish("t", Bytes::from(vec![0; 200_000]), QoS::AtMostOnce),
        Err(presso_mqtt::PublishError::TooLarge { .. })
    ));
}
