//! MQTT over WebSocket (feature `websocket`): the client handshake with
//! subprotocol `mqtt`, then a byte stream over binary messages.
//!
//! MQTT packets travel in binary WebSocket messages; a message may hold part
//! of a packet or several packets, so the stream is just bytes to the driver.
//! [`WsStream`] turns the message stream of tokio-tungstenite back into an
//! [`AsyncRead`] + [`AsyncWrite`]: each write becomes one binary message,
//! received binary messages are read out in order (across as many reads as
//! the caller's buffer needs), pings are answered by tungstenite, and a close
//! frame or the end of the connection reads as end of file.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, Bytes};
use futures_core::Stream as _;
use futures_sink::Sink;
use mq_proto::url::{BrokerUrl, Scheme};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

use crate::transport::{BoxStream, Stream};
use crate::Error;

/// Runs the WebSocket client handshake for `url` over the open `stream` (TCP
/// or TLS), asking for the `mqtt` subprotocol, and returns the byte stream
/// the MQTT driver reads and writes.
pub(crate) async fn connect<S: Stream>(stream: S, url: &BrokerUrl) -> Result<BoxStream, Error> {
    let scheme = if url.scheme == Scheme::Wss {
        "wss"
    } else {
        "ws"
    };
    let host = if url.host.contains(':') {
        format!("[{}]", url.host)
    } else {
        url.host.clone()
    };
    let target = format!("{scheme}://{host}:{}{}", url.port, url.path);
    let failed = |reason: String| Error::WebSocket {
        url: target.clone(),
        reason,
    };
    let mut request = target
        .as_str()
        .into_client_request()
        .map_err(|e| failed(e.to_string()))?;
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("mqtt"));
    // tungstenite checks that the server chose a subprotocol we offered.
    let (ws, response) = tokio_tungstenite::client_async(request, stream)
        .await
        .map_err(|e| match e {
            WsError::Http(response) => failed(format!("the server answered {}", response.status())),
            e => failed(e.to_string()),
        })?;
    tracing::debug!(url = %target, status = %response.status(), "WebSocket open");
    Ok(Box::new(WsStream::new(ws)))
}

/// A byte stream over a WebSocket: binary messages in, bytes out; writes out
/// as binary messages.
pub(crate) struct WsStream<S> {
    ws: WebSocketStream<S>,
    /// The unread rest of the last binary message.
    read: Bytes,
    /// The peer closed (close frame or end of connection): reads return 0.
    eof: bool,
    /// A written message may still sit in tungstenite's buffer.
    unflushed: bool,
}

impl<S> WsStream<S> {
    pub(crate) fn new(ws: WebSocketStream<S>) -> Self {
        WsStream {
            ws,
            read: Bytes::new(),
            eof: false,
            unflushed: false,
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WsStream<S> {
    /// Pushes buffered messages to the socket. The driver does not always
    /// flush after writing, so every read and write also pushes.
    fn poll_push(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.unflushed {
            return Poll::Ready(Ok(()));
        }
        ready!(Pin::new(&mut self.ws).poll_flush(cx)).map_err(into_io)?;
        self.unflushed = false;
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for WsStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // Writes waiting for room go out as soon as the socket takes them;
        // a pending push must not hold up reading.
        if let Poll::Ready(Err(e)) = this.poll_push(cx) {
            return Poll::Ready(Err(e));
        }
        loop {
            if !this.read.is_empty() {
                let n = this.read.len().min(buf.remaining());
                buf.put_slice(&this.read[..n]);
                this.read.advance(n);
                return Poll::Ready(Ok(()));
            }
            if this.eof {
                return Poll::Ready(Ok(()));
            }
            match ready!(Pin::new(&mut this.ws).poll_next(cx)) {
                Some(Ok(Message::Binary(data))) => this.read = data,
                // tungstenite queues the pong and sends it on the next poll.
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                Some(Ok(Message::Close(_))) => {
                    // One more poll sends tungstenite's closing reply if the
                    // socket takes it; whatever follows a close is not read.
                    let _ = Pin::new(&mut this.ws).poll_next(cx);
                    this.eof = true;
                }
                Some(Ok(Message::Text(_))) => {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "the broker sent a text WebSocket message; MQTT uses binary messages",
                    )))
                }
                Some(Err(e)) => return Poll::Ready(Err(into_io(e))),
                None => this.eof = true,
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for WsStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        // At most one message waits in tungstenite's buffer: the caller
        // feels the socket's backpressure.
        ready!(this.poll_push(cx))?;
        ready!(Pin::new(&mut this.ws).poll_ready(cx)).map_err(into_io)?;
        Pin::new(&mut this.ws)
            .start_send(Message::Binary(Bytes::copy_from_slice(buf)))
            .map_err(into_io)?;
        this.unflushed = true;
        // The message is ours now; try to send it at once, and if the socket
        // is full, the next read or write sends it.
        if let Poll::Ready(Err(e)) = this.poll_push(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(Pin::new(&mut this.ws).poll_flush(cx)).map_err(into_io)?;
        this.unflushed = false;
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.unflushed = false;
        Pin::new(&mut this.ws).poll_close(cx).map_err(into_io)
    }
}

fn into_io(e: WsError) -> io::Error {
    match e {
        WsError::Io(e) => e,
        WsError::ConnectionClosed | WsError::AlreadyClosed => {
            io::Error::new(io::ErrorKind::BrokenPipe, "the WebSocket is closed")
        }
        e => io::Error::new(io::ErrorKind::InvalidData, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_tungstenite::tungstenite::protocol::Role;

    /// A client WsStream and the raw server side of the same WebSocket.
    async fn pair() -> (
        WsStream<tokio::io::DuplexStream>,
        WebSocketStream<tokio::io::DuplexStream>,
    ) {
        let (a, b) = tokio::io::duplex(64);
        let client = WebSocketStream::from_raw_socket(a, Role::Client, None).await;
        let server = WebSocketStream::from_raw_socket(b, Role::Server, None).await;
        (WsStream::new(client), server)
    }

    /// Every test is over in well under this.
    async fn bounded<T>(fut: impl std::future::Future<Output = T>) -> T {
        tokio::time::timeout(std::time::Duration::from_secs(10), fut)
            .await
            .expect("the test took too long")
    }

    async fn next(server: &mut WebSocketStream<tokio::io::DuplexStream>) -> Message {
        std::future::poll_fn(|cx| Pin::new(&mut *server).poll_next(cx))
            .await
            .unwrap()
            .unwrap()
    }

    async fn send(server: &mut WebSocketStream<tokio::io::DuplexStream>, msg: Message) {
        let mut server = Pin::new(server);
        std::future::poll_fn(|cx| server.as_mut().poll_ready(cx))
            .await
            .unwrap();
        server.as_mut().start_send(msg).unwrap();
        std::future::poll_fn(|cx| server.as_mut().poll_flush(cx))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn binary_messages_read_as_bytes_across_small_reads() {
        bounded(binary_messages_read_as_bytes_across_small_reads_body()).await;
    }

    async fn binary_messages_read_as_bytes_across_small_reads_body() {
        let (mut client, mut server) = pair().await;
        let server_task = tokio::spawn(async move {
            send(&mut server, Message::Binary(Bytes::from_static(b"hello "))).await;
            send(&mut server, Message::Ping(Bytes::from_static(b"p"))).await;
            send(&mut server, Message::Binary(Bytes::from_static(b"world"))).await;
            // The ping was answered while the client read.
            assert_eq!(
                next(&mut server).await,
                Message::Pong(Bytes::from_static(b"p"))
            );
            send(&mut server, Message::Close(None)).await;
            // The client answers the close before it reads end of file.
            assert!(matches!(next(&mut server).await, Message::Close(_)));
            server
        });
        let mut got = Vec::new();
        let mut small = [0u8; 4];
        loop {
            let n = client.read(&mut small).await.unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&small[..n]);
        }
        assert_eq!(got, b"hello world");
        server_task.await.unwrap();
    }

    #[tokio::test]
    async fn each_write_is_one_binary_message_without_flush() {
        bounded(each_write_is_one_binary_message_without_flush_body()).await;
    }

    async fn each_write_is_one_binary_message_without_flush_body() {
        let (mut client, mut server) = pair().await;
        client.write_all(b"\x10\x02ab").await.unwrap();
        assert_eq!(
            next(&mut server).await,
            Message::Binary(Bytes::from_static(b"\x10\x02ab"))
        );
        // Bigger than the duplex buffer: sent as the server reads.
        let big = vec![7u8; 1000];
        let writer = tokio::spawn(async move {
            client.write_all(&big).await.unwrap();
            // Reading drives the rest of the write out.
            let mut buf = [0u8; 1];
            let n = client.read(&mut buf).await.unwrap();
            (client, n)
        });
        match next(&mut server).await {
            Message::Binary(data) => assert_eq!(data.len(), 1000),
            other => panic!("{other:?}"),
        }
        send(&mut server, Message::Binary(Bytes::from_static(b"x"))).await;
        let (_client, n) = writer.await.unwrap();
        assert_eq!(n, 1);
    }

    #[tokio::test]
    async fn text_messages_are_an_error() {
        let (mut client, mut server) = pair().await;
        send(&mut server, Message::text("nope")).await;
        let err = bounded(client.read(&mut [0u8; 8])).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }

    #[tokio::test]
    async fn shutdown_sends_a_close_frame() {
        let (mut client, mut server) = pair().await;
        let closer = tokio::spawn(async move { client.shutdown().await });
        assert!(matches!(
            bounded(next(&mut server)).await,
            Message::Close(_)
        ));
        drop(server);
        let _ = bounded(closer).await.unwrap();
    }
}
