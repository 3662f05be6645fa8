//! A small MQTT 3.1.1 broker for presso's realtime messages: the server publishes, clients
//! subscribe.
//!
//! It plays the part AWS IoT Core plays in production: clients connect over WebSocket (subprotocol
//! `mqtt`, see [`Broker::websocket_route`]) or plain TCP ([`Broker::serve_tcp`]), present a token
//! as the CONNECT password, and subscribe to exact topics the [`Authorizer`] allows. Messages enter
//! only through [`Broker::publish`] (the IoT data plane's `Publish`, in-process).
//!
//! What it must never do: deliver a message a client published (client PUBLISH closes the
//! connection, as IoT Core does), accept a wildcard, `$` or shared subscription (refused with SUBACK
//! 0x80 before the authorizer is asked), let one slow subscriber delay the others, or panic on any
//! input.
//!
//! Scope: QoS 0 and 1 to subscribers (QoS 2 requests are granted QoS 1), clean sessions only, no
//! retained messages, wills accepted but never published.
//!
//! The codec is our own ([`codec`]): MQTT 3.1.1 is eleven small packet types, and owning the decoder
//! lets it refuse an oversized packet from its fixed header, slice payloads without copying and
//! answer an MQTT 5 CONNECT with the 3.1.1 CONNACK 1 that such clients expect, all without another
//! dependency.
//!
//! Wiring it into a server:
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use presso_mqtt::{Authorizer, Broker, ConnectRefused, Principal, QoS};
//! # struct Acl;
//! # impl Authorizer for Acl {
//! #     fn connect(&self, _: &str, _: Option<&str>, _: Option<&[u8]>) -> Result<Principal, ConnectRefused> { Ok(Principal::anonymous()) }
//! #     fn may_subscribe(&self, _: &Principal, _: &str) -> bool { true }
//! # }
//! # async fn wire() -> std::io::Result<()> {
//! let broker = Broker::new(Arc::new(Acl));
//! let app: axum::Router = axum::Router::new().route("/mqtt", broker.websocket_route());
//! let mqtt = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! tokio::spawn({
//!     let broker = broker.clone();
//!     async move { broker.serve_tcp(mqtt, std::future::pending()).await }
//! });
//! // The IoT data plane's Publish:
//! let delivered = broker.publish("serverlesspresso-config-default", "{}".into(), QoS::AtLeastOnce);
//! // On server shutdown (axum's graceful shutdown does not wait for upgraded WebSockets):
//! broker.shutdown().await;
//! # let _ = (app, delivered);
//! # Ok(())
//! # }
//! ```
//!
//! Modules: [`codec`] (wire format), `broker` (topic table, registry, publish, TCP listener),
//! `session` (one connection's life), `transport` (TCP and WebSocket byte pipes), `ws` (axum
//! integration), `auth` (the authorisation hook).

mod auth;
mod broker;
pub mod codec;
mod session;
mod transport;
mod ws;

pub use auth::{Authorizer, ConnectRefused, Principal, broker_refuses_filter};
pub use broker::{Broker, BrokerConfig, MessagingUsage, PublishError};
pub use codec::QoS;
pub use ws::{SUBPROTOCOL, websocket_handler};
