//! The byte pipes a session runs over: a TCP-like stream, or WebSocket binary messages.
//!
//! MQTT over WebSocket carries the same byte stream in binary messages whose boundaries mean
//! nothing: one message may hold part of a packet or several packets. So both transports just
//! append what arrives to the session's buffer, and the codec finds the packets. Text messages
//! are a protocol error (the MQTT specification, 6.0: binary frames only).

use axum::extract::ws::{Message, WebSocket};
use bytes::{Bytes, BytesMut};
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use std::future::Future;
use std::io;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// One connection, split into what the session reads and what it writes.
pub(crate) trait Transport: Send + 'static {
    /// Appends received bytes to `buf`. `Ok(false)` means the peer closed the connection.
    /// Must be cancel-safe: the session races it against deliveries and timers.
    fn read(&mut self, buf: &mut BytesMut) -> impl Future<Output = io::Result<bool>> + Send;

    /// Writes whole packets, in order, and flushes them.
    fn write(&mut self, packets: &[Bytes]) -> impl Future<Output = io::Result<()>> + Send;

    /// Closes the connection, as politely as the transport allows.
    fn close(&mut self) -> impl Future<Output = ()> + Send;
}

/// A byte stream (TCP, or anything `AsyncRead` + `AsyncWrite`).
pub(crate) struct IoTransport<R, W> {
    read: R,
    write: W,
    scratch: BytesMut,
}

impl<R, W> IoTransport<R, W> {
    pub(crate) fn new(read: R, write: W) -> Self {
        IoTransport {
            read,
            write,
            scratch: BytesMut::new(),
        }
    }
}

impl<R, W> Transport for IoTransport<R, W>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    async fn read(&mut self, buf: &mut BytesMut) -> io::Result<bool> {
        if buf.capacity() - buf.len() < 4096 {
            buf.reserve(8192);
        }
        Ok(self.read.read_buf(buf).await? > 0)
    }

    async fn write(&mut self, packets: &[Bytes]) -> io::Result<()> {
        match packets {
            [] => {}
            [one] => self.write.write_all(one).await?,
            many => {
                // One write per batch: fewer syscalls and fewer TCP segments under fan-out.
                self.scratch.clear();
                for packet in many {
                    self.scratch.extend_from_slice(packet);
                }
                self.write.write_all(&self.scratch).await?;
            }
        }
        self.write.flush().await
    }

    async fn close(&mut self) {
        let _ = self.write.shutdown().await;
    }
}

/// An axum WebSocket carrying MQTT in binary messages.
pub(crate) struct WsTransport {
    read: SplitStream<WebSocket>,
    write: SplitSink<WebSocket, Message>,
}

impl WsTransport {
    pub(crate) fn new(socket: WebSocket) -> Self {
        let (write, read) = socket.split();
        WsTransport { read, write }
    }
}

impl Transport for WsTransport {
    async fn read(&mut self, buf: &mut BytesMut) -> io::Result<bool> {
        match self.read.next().await {
            None | Some(Ok(Message::Close(_))) => Ok(false),
            Some(Ok(Message::Binary(data))) => {
                buf.extend_from_slice(&data);
                Ok(true)
            }
            // The WebSocket layer answers pings itself.
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(true),
            Some(Ok(Message::Text(_))) => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "MQTT over WebSocket must use binary messages",
            )),
            Some(Err(error)) => Err(io::Error::other(error)),
        }
    }

    async fn write(&mut self, packets: &[Bytes]) -> io::Result<()> {
        let message = match packets {
            [] => return Ok(()),
            // The common case under fan-out: the shared buffer goes out as is.
            [one] => Message::Binary(one.clone()),
            many => {
                let mut joined = BytesMut::with_capacity(many.iter().map(Bytes::len).sum());
                for packet in many {
                    joined.extend_from_slice(packet);
                }
                Message::Binary(joined.freeze())
            }
        };
        self.write.send(message).await.map_err(io::Error::other)
    }

    async fn close(&mut self) {
        let _ = self.write.send(Message::Close(None)).await;
        let _ = self.write.close().await;
    }
}
