//! An app's realtime connection: MQTT over WebSocket, the ID token as the CONNECT password
//! (user name `jwt`, as the apps send it) or anonymous, subscribed to its topics. Each message
//! goes to a channel with the instant it arrived, so latencies are measured where the app
//! would see them.

use crate::client::{Endpoint, User};
use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// One message as an app receives it.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub topic: String,
    /// `{"type", "detail"}`.
    pub payload: Value,
    pub at: Instant,
}

impl Delivery {
    pub fn kind(&self) -> &str {
        self.payload["type"].as_str().unwrap_or_default()
    }

    pub fn order_id(&self) -> &str {
        self.payload["detail"]["orderId"]
            .as_str()
            .unwrap_or_default()
    }
}

/// A connection; dropping it disconnects.
pub struct Subscriber {
    client: rumqttc::AsyncClient,
    task: tokio::task::JoinHandle<()>,
}

impl Subscriber {
    /// Connects and subscribes; answers once every subscription is granted (a refused one is an
    /// error). Messages go to `sink` until the connection is dropped.
    pub async fn connect(
        endpoint: &Endpoint,
        user: Option<&User>,
        topics: &[String],
        sink: mpsc::UnboundedSender<Delivery>,
    ) -> Result<Subscriber> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let url = endpoint.mqtt_url();
        let client_id = format!("robot-{}-{n}", std::process::id());
        let mut options = rumqttc::MqttOptions::new(client_id, &url, 443);
        if url.starts_with("wss://") {
            options.set_transport(rumqttc::Transport::wss_with_config(tls_config()));
        } else {
            options.set_transport(rumqttc::Transport::Ws);
        }
        options.set_keep_alive(Duration::from_secs(60));
        options.set_max_packet_size(256 * 1024, 256 * 1024);
        if let Some(u) = user {
            options.set_credentials("jwt", &u.id_token);
        }
        let (client, mut events) = rumqttc::AsyncClient::new(options, 64);
        for t in topics {
            client
                .subscribe(t, rumqttc::QoS::AtLeastOnce)
                .await
                .context("subscribe")?;
        }
        let mut granted = 0;
        let deadline = Instant::now() + Duration::from_secs(20);
        while granted < topics.len() {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, events.poll()).await {
                Ok(Ok(rumqttc::Event::Incoming(rumqttc::Incoming::SubAck(ack)))) => {
                    for code in ack.return_codes {
                        if !matches!(code, rumqttc::SubscribeReasonCode::Success(_)) {
                            bail!("a subscription was refused ({topics:?})");
                        }
                        granted += 1;
                    }
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => bail!("MQTT connection to {url} failed: {e}"),
                Err(_) => bail!("no SUBACK from {url} within 20 s"),
            }
        }
        let task = tokio::spawn(async move {
            loop {
                match events.poll().await {
                    Ok(rumqttc::Event::Incoming(rumqttc::Incoming::Publish(p))) => {
                        let at = Instant::now();
                        let payload = serde_json::from_slice(&p.payload).unwrap_or(Value::Null);
                        if sink
                            .send(Delivery {
                                topic: p.topic,
                                payload,
                                at,
                            })
                            .is_err()
                        {
                            return;
                        }
                    }
                    Ok(_) => {}
                    // rumqttc reconnects on the next poll; the apps do the same.
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        });
        Ok(Subscriber { client, task })
    }

    /// Disconnects politely.
    pub async fn close(self) {
        let _ = self.client.disconnect().await;
        self.task.abort();
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn tls_config() -> rumqttc::TlsConfiguration {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("ring supports the default TLS versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    rumqttc::TlsConfiguration::Rustls(std::sync::Arc::new(config))
}
