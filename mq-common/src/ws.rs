//! MQTT over WebSocket (feature `websocket`), the part every async runtime
//! shares: the client request (subprotocol `mqtt`) and [`WsTransport`], a
//! byte stream over binary messages. Each adapter runs the handshake with its
//! runtime's tungstenite wrapper (tokio-tungstenite, async-tungstenite); both
//! give a [`Stream`] + [`Sink`] of tungstenite messages.
//!
//! A binary message may hold part of a packet or several packets, so the
//! driver sees bytes: received binary messages are read out in order, each
//! write goes out as one binary message, pings are answered by tungstenite,
//! a close frame or the end of the connection reads as end of stream, and a
//! text message is an `InvalidData` error.

use std::future::Future;
use std::io::{self, ErrorKind::InvalidData};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use futures_core::Stream;
use futures_sink::Sink;
use mq_proto::url::BrokerUrl;
pub use tungstenite;
use tungstenite::client::IntoClientRequest;
use tungstenite::handshake::client::{Request, Response};
use tungstenite::http::HeaderValue;
use tungstenite::{Error as WsError, Message};

use crate::runtime::{BoxTransport, Transport};
use crate::Error;

/// Opens a WebSocket to `url`: `handshake` runs the client handshake for
/// the request it is given (a runtime's tungstenite wrapper over the open TCP
/// or TLS stream), then the socket becomes a [`WsTransport`].
pub async fn open<W, F>(
    url: &BrokerUrl,
    handshake: impl FnOnce(Request) -> F,
    shutdown: ShutdownFn<W>,
) -> Result<BoxTransport, Error>
where
    F: Future<Output = Result<(W, Response), WsError>>,
    W: Stream<Item = Result<Message, WsError>> + Sink<Message, Error = WsError>,
    W: Unpin + Send + 'static,
{
    let (request, target) = request(url)?;
    let (ws, response) = handshake(request)
        .await
        .map_err(|e| handshake_failed(&target, e))?;
    tracing::debug!(url = %target, status = %response.status(), "WebSocket open");
    Ok(Box::new(WsTransport::new(ws, shutdown)))
}

/// The handshake request for `url` (its path, subprotocol `mqtt`), and the
/// URL as text for errors.
pub fn request(url: &BrokerUrl) -> Result<(Request, String), Error> {
    // `ws://host:port/path` (IPv6 hosts in brackets), or `wss://`.
    let target = url.to_string();
    let mut request = target
        .as_str()
        .into_client_request()
        .map_err(|e| handshake_failed(&target, e))?;
    let mqtt = HeaderValue::from_static("mqtt");
    request.headers_mut().insert("Sec-WebSocket-Protocol", mqtt);
    Ok((request, target))
}

/// The error for a failed handshake with `url` (tungstenite checks that the
/// server chose the subprotocol offered).
pub fn handshake_failed(url: &str, e: WsError) -> Error {
    let reason = match e {
        WsError::Http(response) => format!("the server answered {}", response.status()),
        e => e.to_string(),
    };
    Error::WebSocket {
        url: url.to_owned(),
        reason,
    }
}

/// Shuts the stream under a WebSocket down (a TLS close_notify, a TCP FIN).
pub type ShutdownFn<W> = fn(&mut W, &mut Context<'_>) -> Poll<io::Result<()>>;

/// A [`Transport`] over an open WebSocket `W` (see the [module docs](self)).
pub struct WsTransport<W> {
    ws: W,
    shutdown: ShutdownFn<W>,
    /// The unread rest of the last binary message.
    read: Bytes,
    /// The peer closed (close frame or end of connection): reads return 0.
    eof: bool,
    /// A written message may still sit in tungstenite's buffer.
    unflushed: bool,
}

impl<W> std::fmt::Debug for WsTransport<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsTransport")
            .field("eof", &self.eof)
            .finish()
    }
}

const TEXT: &str = "the broker sent a text WebSocket message; MQTT uses binary messages";

impl<W> WsTransport<W>
where
    W: Stream<Item = Result<Message, WsError>> + Sink<Message, Error = WsError> + Unpin,
{
    /// Wraps an open WebSocket; `shutdown` closes the stream underneath.
    pub fn new(ws: W, shutdown: ShutdownFn<W>) -> Self {
        WsTransport {
            ws,
            shutdown,
            read: Bytes::new(),
            eof: false,
            unflushed: false,
        }
    }

    /// Pushes the buffered message to the socket. The driver need not flush
    /// after writing, so every read and write pushes too.
    fn poll_push(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.unflushed {
            ready!(Pin::new(&mut self.ws).poll_flush(cx)).map_err(into_io)?;
            self.unflushed = false;
        }
        Poll::Ready(Ok(()))
    }

    fn read_into(
        &mut self,
        cx: &mut Context<'_>,
        out: &mut BytesMut,
        max: usize,
    ) -> Poll<io::Result<usize>> {
        // A message waiting for room goes out as soon as the socket takes
        // it; a pending push does not hold up reading.
        if let Poll::Ready(Err(e)) = self.poll_push(cx) {
            return Poll::Ready(Err(e));
        }
        while self.read.is_empty() && max > 0 && !self.eof {
            match ready!(Pin::new(&mut self.ws).poll_next(cx)) {
                Some(Ok(Message::Binary(data))) => self.read = data,
                // tungstenite queues the pong and sends it on the next poll.
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                Some(Ok(Message::Close(_))) => {
                    // One more poll sends tungstenite's closing reply if the
                    // socket takes it; whatever follows a close is not read.
                    let _ = Pin::new(&mut self.ws).poll_next(cx);
                    self.eof = true;
                }
                Some(Ok(Message::Text(_))) => Err(io::Error::new(InvalidData, TEXT))?,
                Some(Err(e)) => Err(into_io(e))?,
                None => self.eof = true,
            }
        }
        let n = self.read.len().min(max);
        out.extend_from_slice(&self.read[..n]);
        self.read.advance(n);
        Poll::Ready(Ok(n))
    }

    /// Takes all of `data` as one binary message once the previous one is out.
    fn write_message(&mut self, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        if data.is_empty() {
            return Poll::Ready(Ok(0));
        }
        // At most one message waits in tungstenite's buffer: the caller
        // feels the socket's backpressure.
        ready!(self.poll_push(cx))?;
        ready!(Pin::new(&mut self.ws).poll_ready(cx)).map_err(into_io)?;
        let message = Message::Binary(Bytes::copy_from_slice(data));
        Pin::new(&mut self.ws)
            .start_send(message)
            .map_err(into_io)?;
        self.unflushed = true;
        // The message is taken: send what the socket takes now, the rest on
        // the next read, write or flush.
        if let Poll::Ready(Err(e)) = self.poll_push(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(data.len()))
    }

    fn flush_all(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.unflushed = true;
        self.poll_push(cx)
    }

    /// Sends a close frame, then shuts the stream underneath down.
    fn shutdown(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.unflushed = false;
        ready!(Pin::new(&mut self.ws).poll_close(cx)).map_err(into_io)?;
        (self.shutdown)(&mut self.ws, cx)
    }
}

impl<W> Transport for WsTransport<W>
where
    W: Stream<Item = Result<Message, WsError>>
        + Sink<Message, Error = WsError>
        + Unpin
        + Send
        + 'static,
{
    fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut BytesMut,
        max: usize,
    ) -> Poll<io::Result<usize>> {
        self.read_into(cx, buf, max)
    }

    fn poll_write(&mut self, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        self.write_message(cx, data)
    }

    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.flush_all(cx)
    }

    fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.shutdown(cx)
    }
}

fn into_io(e: WsError) -> io::Error {
    match e {
        WsError::Io(e) => e,
        WsError::ConnectionClosed | WsError::AlreadyClosed => {
            io::Error::new(io::ErrorKind::BrokenPipe, "the WebSocket is closed")
        }
        e => io::Error::new(InvalidData, e),
    }
}
