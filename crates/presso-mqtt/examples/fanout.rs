//! Fan-out measurement: one topic, many WebSocket subscribers, server-side publishes; prints the
//! delivery latency (publish call to a subscriber's client library handing over the message).
//!
//! ```text
//! cargo run --profile local -p presso-mqtt --example fanout -- [--subscribers 1000] [--messages 100]
//!     [--interval-ms 100] [--qos 0|1] [--transport ws|tcp] [--payload-bytes 256] [--client raw|rumqttc]
//! ```
//!
//! Subscribers run in the same process, on the same cores as the broker, so the figures include
//! their share: an upper bound on the broker's. The default `raw` client is lean (tokio-tungstenite
//! and this crate's codec); `rumqttc` is a full client library, whose WebSocket stack zero-fills a
//! 128 KiB read buffer on every read and so mostly measures itself.

use bytes::{Bytes, BytesMut};
use futures::{SinkExt, StreamExt};
use presso_mqtt::codec::{self, Packet};
use presso_mqtt::{Authorizer, Broker, ConnectRefused, Principal, QoS};
use rumqttc::{AsyncClient, Event, Incoming, MqttOptions, Transport};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

const TOPIC: &str = "serverlesspresso-config-fanout";

/// Set once the measurement is over, so the shutdown's closed connections are not reported.
static DONE: AtomicBool = AtomicBool::new(false);

type Latencies = mpsc::UnboundedSender<(u64, Duration)>;

struct AllowAll;

impl Authorizer for AllowAll {
    fn connect(
        &self,
        _: &str,
        _: Option<&str>,
        _: Option<&[u8]>,
    ) -> Result<Principal, ConnectRefused> {
        Ok(Principal::anonymous())
    }

    fn may_subscribe(&self, _: &Principal, _: &str) -> bool {
        true
    }
}

struct Args {
    subscribers: usize,
    messages: usize,
    interval: Duration,
    qos: QoS,
    websocket: bool,
    payload_bytes: usize,
    rumqttc: bool,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        subscribers: 1000,
        messages: 100,
        interval: Duration::from_millis(100),
        qos: QoS::AtMostOnce,
        websocket: true,
        payload_bytes: 256,
        rumqttc: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it
            .next()
            .ok_or_else(|| anyhow::anyhow!("{flag} needs a value"))?;
        match flag.as_str() {
            "--subscribers" => args.subscribers = value.parse()?,
            "--messages" => args.messages = value.parse()?,
            "--interval-ms" => args.interval = Duration::from_millis(value.parse()?),
            "--qos" => {
                args.qos = match value.as_str() {
                    "0" => QoS::AtMostOnce,
                    "1" => QoS::AtLeastOnce,
                    other => anyhow::bail!("--qos {other}: 0 or 1"),
                }
            }
            "--transport" => args.websocket = value == "ws",
            "--payload-bytes" => args.payload_bytes = value.parse::<usize>()?.max(16),
            "--client" => args.rumqttc = value == "rumqttc",
            other => anyhow::bail!("unknown flag {other}"),
        }
    }
    Ok(args)
}

/// Records one delivery: the payload starts with the sequence number and the send time.
fn record(payload: &[u8], base: Instant, latencies: &Latencies) -> bool {
    let received = base.elapsed();
    let (Some(seq), Some(sent)) = (payload.get(..8), payload.get(8..16)) else {
        return true;
    };
    let seq = u64::from_be_bytes(seq.try_into().unwrap_or_default());
    let sent = u64::from_be_bytes(sent.try_into().unwrap_or_default());
    latencies
        .send((seq, received.saturating_sub(Duration::from_nanos(sent))))
        .is_ok()
}

/// A lean subscriber: MQTT packets from this crate's codec over tokio-tungstenite or TCP.
async fn raw_subscriber(
    n: usize,
    port: u16,
    websocket: bool,
    qos: QoS,
    base: Instant,
    latencies: Latencies,
) -> anyhow::Result<()> {
    let mut hello = BytesMut::new();
    Packet::Connect(codec::Connect {
        clean_session: true,
        keep_alive: 60,
        client_id: format!("sub-{n}"),
        will: None,
        username: None,
        password: None,
    })
    .encode(&mut hello);
    Packet::Subscribe {
        packet_id: 1,
        filters: vec![(TOPIC.to_owned(), qos)],
    }
    .encode(&mut hello);
    let mut buf = BytesMut::new();
    if websocket {
        let mut request = format!("ws://127.0.0.1:{port}/mqtt").into_client_request()?;
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", "mqtt".parse()?);
        let config = WebSocketConfig::default().read_buffer_size(8 * 1024);
        let (mut ws, _) =
            tokio_tungstenite::connect_async_with_config(request, Some(config), true).await?;
        ws.send(Message::Binary(hello.freeze())).await?;
        while let Some(message) = ws.next().await {
            if let Message::Binary(data) = message? {
                buf.extend_from_slice(&data);
            }
            while let Some(packet) = codec::decode(&mut buf, 1 << 20)? {
                if let Packet::Publish(publish) = packet {
                    if !record(&publish.payload, base, &latencies) {
                        return Ok(());
                    }
                    if let Some(id) = publish.packet_id {
                        ws.send(Message::Binary(Packet::PubAck(id).to_bytes()))
                            .await?;
                    }
                }
            }
        }
    } else {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
        stream.set_nodelay(true)?;
        stream.write_all(&hello).await?;
        while stream.read_buf(&mut buf).await? > 0 {
            while let Some(packet) = codec::decode(&mut buf, 1 << 20)? {
                if let Packet::Publish(publish) = packet {
                    if !record(&publish.payload, base, &latencies) {
                        return Ok(());
                    }
                    if let Some(id) = publish.packet_id {
                        stream.write_all(&Packet::PubAck(id).to_bytes()).await?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// A subscriber using the rumqttc client library.
async fn rumqttc_subscriber(
    n: usize,
    port: u16,
    websocket: bool,
    qos: QoS,
    base: Instant,
    latencies: Latencies,
) -> anyhow::Result<()> {
    let mut options = if websocket {
        let url = format!("ws://127.0.0.1:{port}/mqtt");
        let mut options = MqttOptions::new(format!("sub-{n}"), url, port);
        options.set_transport(Transport::Ws);
        options
    } else {
        MqttOptions::new(format!("sub-{n}"), "127.0.0.1", port)
    };
    options.set_keep_alive(Duration::from_secs(60));
    options.set_max_packet_size(256 * 1024, 256 * 1024);
    let (client, mut events) = AsyncClient::new(options, 16);
    let qos = match qos {
        QoS::AtMostOnce => rumqttc::QoS::AtMostOnce,
        _ => rumqttc::QoS::AtLeastOnce,
    };
    loop {
        match events.poll().await? {
            Event::Incoming(Incoming::ConnAck(_)) => client.subscribe(TOPIC, qos).await?,
            Event::Incoming(Incoming::Publish(publish))
                if !record(&publish.payload, base, &latencies) =>
            {
                return Ok(());
            }
            _ => {}
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// CPU time (user + system) of this process's threads whose name starts with `prefix`, from
/// `/proc` (Linux; `None` elsewhere). Assumes the usual 100 clock ticks a second.
fn threads_cpu(prefix: &str) -> Option<Duration> {
    let mut ticks = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let dir = task.ok()?.path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if !comm.starts_with(prefix) {
            continue;
        }
        let stat = std::fs::read_to_string(dir.join("stat")).unwrap_or_default();
        // Fields after the parenthesised name: state is field 3, utime 14, stime 15.
        let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = rest.split_whitespace().collect();
        for index in [11, 12] {
            ticks += fields
                .get(index)
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    Some(Duration::from_millis(ticks * 10))
}

/// The broker and the subscribers run on runtimes of their own, with named threads, so the
/// broker's CPU time can be told apart from its clients'.
fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let broker_runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("broker")
        .build()?;
    let subscriber_runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("subscriber")
        .build()?;
    let subscribers = subscriber_runtime.handle().clone();
    broker_runtime.block_on(measure(args, subscribers))
}

async fn measure(args: Args, subscribers: tokio::runtime::Handle) -> anyhow::Result<()> {
    let broker = Broker::new(Arc::new(AllowAll));

    let http = TcpListener::bind("127.0.0.1:0").await?;
    let ws_port = http.local_addr()?.port();
    let router = axum::Router::new().route("/mqtt", broker.websocket_route());
    tokio::spawn(async move { axum::serve(http, router).await });
    let tcp = TcpListener::bind("127.0.0.1:0").await?;
    let tcp_port = tcp.local_addr()?.port();
    tokio::spawn({
        let broker = broker.clone();
        async move { broker.serve_tcp(tcp, std::future::pending()).await }
    });

    let base = Instant::now();
    let (latency_tx, mut latency_rx) = mpsc::unbounded_channel::<(u64, Duration)>();
    let connect_started = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(120);
    for n in 0..args.subscribers {
        // Connect in waves of 100: a thousand SYNs at once overflow the listen backlog, and the
        // dropped ones are retried only after a second.
        if n > 0 && n % 100 == 0 {
            while broker.subscriber_count(TOPIC) < n {
                anyhow::ensure!(
                    Instant::now() < deadline,
                    "subscribers did not all subscribe"
                );
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        let latency_tx = latency_tx.clone();
        let (qos, websocket, rumqttc) = (args.qos, args.websocket, args.rumqttc);
        let port = if websocket { ws_port } else { tcp_port };
        subscribers.spawn(async move {
            let result = if rumqttc {
                rumqttc_subscriber(n, port, websocket, qos, base, latency_tx).await
            } else {
                raw_subscriber(n, port, websocket, qos, base, latency_tx).await
            };
            if let Err(error) = result
                && !DONE.load(Ordering::Relaxed)
            {
                eprintln!("subscriber {n}: {error}");
            }
        });
    }
    drop(latency_tx);
    while broker.subscriber_count(TOPIC) < args.subscribers {
        anyhow::ensure!(
            Instant::now() < deadline,
            "subscribers did not all subscribe"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    println!(
        "{} {} subscribers connected and subscribed in {:.0} ms",
        args.subscribers,
        if args.websocket { "WebSocket" } else { "TCP" },
        ms(connect_started.elapsed())
    );

    let cpu_before = (threads_cpu("broker"), threads_cpu("subscriber"));
    // Publish from a spawned task, as a request handler in a server would (on a runtime worker).
    let publisher = tokio::spawn({
        let broker = broker.clone();
        let (messages, interval, payload_bytes, qos, subscribers) = (
            args.messages,
            args.interval,
            args.payload_bytes,
            args.qos,
            args.subscribers,
        );
        async move {
            let mut publish_calls = Vec::with_capacity(messages);
            let mut ticker = tokio::time::interval(interval);
            for seq in 0..messages as u64 {
                ticker.tick().await;
                let mut payload = vec![b' '; payload_bytes.max(16)];
                payload[..8].copy_from_slice(&seq.to_be_bytes());
                let sent = base.elapsed().as_nanos() as u64;
                payload[8..16].copy_from_slice(&sent.to_be_bytes());
                let started = Instant::now();
                let delivered = broker.publish(TOPIC, Bytes::from(payload), qos)?;
                publish_calls.push(started.elapsed());
                anyhow::ensure!(delivered == subscribers, "queued for {delivered} only");
            }
            anyhow::Ok(publish_calls)
        }
    });
    let mut publish_calls = publisher.await??;

    let expected = args.subscribers * args.messages;
    let mut latencies = Vec::with_capacity(expected);
    let mut last_per_message = vec![Duration::ZERO; args.messages];
    let collect_deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while latencies.len() < expected {
        match tokio::time::timeout_at(collect_deadline, latency_rx.recv()).await {
            Ok(Some((seq, latency))) => {
                if let Some(last) = last_per_message.get_mut(seq as usize) {
                    *last = (*last).max(latency);
                }
                latencies.push(latency);
            }
            _ => break,
        }
    }
    let cpu_after = (threads_cpu("broker"), threads_cpu("subscriber"));
    latencies.sort_unstable();
    last_per_message.sort_unstable();
    publish_calls.sort_unstable();
    println!(
        "{} messages x {} subscribers at QoS {}, {} B payload, one every {} ms: {} of {} deliveries",
        args.messages,
        args.subscribers,
        args.qos as u8,
        args.payload_bytes,
        args.interval.as_millis(),
        latencies.len(),
        expected
    );
    println!(
        "delivery latency     p50 {:7.2} ms  p99 {:7.2} ms  max {:7.2} ms",
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 99.0)),
        ms(percentile(&latencies, 100.0))
    );
    println!(
        "last subscriber      p50 {:7.2} ms  p99 {:7.2} ms  max {:7.2} ms",
        ms(percentile(&last_per_message, 50.0)),
        ms(percentile(&last_per_message, 99.0)),
        ms(percentile(&last_per_message, 100.0))
    );
    // The subscribers share the cores with everything else running: say how busy they were.
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!(
            "load average (1/5/15 min): {}",
            load.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    println!(
        "publish() call       p50 {:7.3} ms  p99 {:7.3} ms",
        ms(percentile(&publish_calls, 50.0)),
        ms(percentile(&publish_calls, 99.0))
    );
    if let ((Some(b0), Some(s0)), (Some(b1), Some(s1))) = (cpu_before, cpu_after)
        && !latencies.is_empty()
    {
        let per = |d: Duration| d.as_secs_f64() * 1e6 / latencies.len() as f64;
        // On loopback the sender's system time includes much of the receiver's TCP work.
        println!(
            "CPU per delivery     broker {:.1} us, subscribers {:.1} us (user + system, threads by name)",
            per(b1.saturating_sub(b0)),
            per(s1.saturating_sub(s0))
        );
    }
    DONE.store(true, Ordering::Relaxed);
    drop(latency_rx);
    broker.shutdown().await;
    Ok(())
}
