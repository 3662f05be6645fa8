//! A stand-alone broker for trying clients by hand (mqtt.js, mosquitto_sub, MQTT Explorer).
//!
//! ```text
//! cargo run -p presso-mqtt --example serve -- [--port 1883] [--ws-port 8083]
//! ```
//!
//! Anyone may connect; a password `bad` is refused with CONNACK 5, so clients' error handling can
//! be tried. Any exact topic may be subscribed to. Each line typed on stdin, `topic payload`, is
//! published at QoS 1. Port 0 picks free ports; the chosen ones are printed.

use bytes::Bytes;
use presso_mqtt::{Authorizer, Broker, ConnectRefused, Principal, QoS};
use std::sync::Arc;
use tokio::io::AsyncBufReadExt;
use tokio::net::TcpListener;

struct Demo;

impl Authorizer for Demo {
    fn connect(
        &self,
        _client_id: &str,
        username: Option<&str>,
        password: Option<&[u8]>,
    ) -> Result<Principal, ConnectRefused> {
        match password {
            Some(b"bad") => Err(ConnectRefused::NotAuthorized),
            Some(_) => Ok(Principal {
                sub: username.map(str::to_owned),
                groups: Vec::new(),
            }),
            None => Ok(Principal::anonymous()),
        }
    }

    fn may_subscribe(&self, _principal: &Principal, _filter: &str) -> bool {
        true
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut port = 1883u16;
    let mut ws_port = 8083u16;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_default();
        match flag.as_str() {
            "--port" => port = value.parse()?,
            "--ws-port" => ws_port = value.parse()?,
            other => anyhow::bail!("unknown flag {other}"),
        }
    }
    let broker = Broker::new(Arc::new(Demo));
    let tcp = TcpListener::bind(("127.0.0.1", port)).await?;
    let http = TcpListener::bind(("127.0.0.1", ws_port)).await?;
    println!(
        "mqtt://{} ws://{}/mqtt",
        tcp.local_addr()?,
        http.local_addr()?
    );
    let router = axum::Router::new().route("/mqtt", broker.websocket_route());
    tokio::spawn(async move { axum::serve(http, router).await });
    tokio::spawn({
        let broker = broker.clone();
        async move { broker.serve_tcp(tcp, std::future::pending()).await }
    });
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        let (topic, payload) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        match broker.publish(topic, Bytes::from(payload.to_owned()), QoS::AtLeastOnce) {
            Ok(n) => println!("published to {n} subscribers"),
            Err(error) => println!("not published: {error}"),
        }
    }
    broker.shutdown().await;
    Ok(())
}
