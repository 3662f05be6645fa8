//! MQTT over WebSocket for axum 0.8: the upgrade handler and the session runner.
//!
//! Clients must offer the `mqtt` subprotocol (browsers' mqtt.js, AWS IoT device SDKs and rumqttc
//! all do, and AWS IoT Core requires it); the server echoes it. A request without it gets 400
//! before any upgrade, so a stray WebSocket client learns why at once.

use crate::broker::Broker;
use crate::session;
use crate::transport::WsTransport;
use axum::extract::State;
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, any};

/// The WebSocket subprotocol of MQTT.
pub const SUBPROTOCOL: &str = "mqtt";

impl Broker {
    /// Runs one MQTT session on an already upgraded WebSocket until it ends.
    pub async fn serve_websocket(&self, socket: WebSocket) {
        session::run(self.clone(), WsTransport::new(socket), None).await;
    }

    /// Answers a WebSocket upgrade request: selects the `mqtt` subprotocol (400 without it) and
    /// runs the session on the upgraded connection.
    pub fn upgrade_websocket(&self, ws: WebSocketUpgrade) -> Response {
        let ws = ws.protocols([SUBPROTOCOL]);
        if ws.selected_protocol().is_none() {
            return (
                StatusCode::BAD_REQUEST,
                "MQTT over WebSocket needs the `mqtt` subprotocol (Sec-WebSocket-Protocol: mqtt)",
            )
                .into_response();
        }
        // One WebSocket message may carry several packets, so allow a few packets' worth; the
        // codec still enforces the per-packet limit.
        let limit = self
            .config()
            .max_packet_size
            .saturating_mul(4)
            .max(64 * 1024);
        let broker = self.clone();
        // tungstenite zero-fills `read_buffer_size` bytes on every read attempt (even one that
        // finds nothing), and a session attempts a read after each delivery it writes: at the
        // 128 KiB default that zeroing was the broker's largest user-space cost in a fan-out
        // profile. MQTT's packets are small, so small reads cost nothing extra.
        ws.read_buffer_size(8 * 1024)
            .max_message_size(limit)
            .max_frame_size(limit)
            .on_upgrade(move |socket| async move { broker.serve_websocket(socket).await })
    }

    /// A route serving MQTT over WebSocket, to mount at `/mqtt` on any router. It takes any
    /// method, as axum advises, so WebSockets over HTTP/2 (extended CONNECT) work too; the upgrade
    /// extractor refuses everything that is not a WebSocket handshake.
    pub fn websocket_route<S>(&self) -> MethodRouter<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let broker = self.clone();
        any(move |ws: WebSocketUpgrade| async move { broker.upgrade_websocket(ws) })
    }
}

/// An axum handler for routers whose state yields a [`Broker`] (`State<Broker>`, or any state
/// with `FromRef` to it).
pub async fn websocket_handler(State(broker): State<Broker>, ws: WebSocketUpgrade) -> Response {
    broker.upgrade_websocket(ws)
}
