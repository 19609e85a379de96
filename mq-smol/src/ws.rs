//! MQTT over WebSocket (feature `websocket`): async-tungstenite's client
//! handshake (subprotocol `mqtt`) over the TCP or TLS stream `transport.rs`
//! opened, then [`WsStream`], a futures-io byte stream over binary messages:
//! a message may hold part of a packet or several, so the driver sees bytes.

use std::io::{self, ErrorKind::InvalidData};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use async_tungstenite::tungstenite::client::IntoClientRequest;
use async_tungstenite::tungstenite::http::HeaderValue;
use async_tungstenite::tungstenite::{Error as WsError, Message};
use async_tungstenite::WebSocketStream;
use bytes::{Buf, Bytes};
use futures_core::Stream as _;
use futures_lite::io::{AsyncRead, AsyncWrite};
use futures_sink::Sink;
use mq_common::Error;
use mq_proto::url::BrokerUrl;

use crate::transport::{BoxStream, Stream};

/// Runs the WebSocket client handshake for `url` (its path, subprotocol
/// `mqtt`) over the open `stream` and returns the byte stream the driver uses.
pub(crate) async fn connect<S: Stream>(stream: S, url: &BrokerUrl) -> Result<BoxStream, Error> {
    // `ws://host:port/path` (IPv6 hosts in brackets), or `wss://`.
    let target = url.to_string();
    let failed = |e: WsError| Error::WebSocket {
        url: target.clone(),
        reason: e.to_string(),
    };
    let mut request = target.as_str().into_client_request().map_err(failed)?;
    let mqtt = HeaderValue::from_static("mqtt");
    request.headers_mut().insert("Sec-WebSocket-Protocol", mqtt);
    // tungstenite checks that the server chose the subprotocol we offered;
    // a refusal reads "HTTP error: <status>".
    let (ws, response) = async_tungstenite::client_async(request, stream)
        .await
        .map_err(failed)?;
    tracing::debug!(url = %target, status = %response.status(), "WebSocket open");
    Ok(Box::new(WsStream::new(ws)))
}

/// A byte stream over a WebSocket: received binary messages are read out in
/// order (across as many reads as the caller's buffer needs), each write goes
/// out as one binary message, pings are answered by tungstenite, a close
/// frame or the end of the connection reads as end of file, and a text
/// message is an [`InvalidData`] error.
pub(crate) struct WsStream<S> {
    ws: WebSocketStream<S>,
    /// The unread rest of the last binary message.
    read: Bytes,
    /// The peer closed (close frame or end of connection): reads return 0.
    eof: bool,
    /// A written message may still sit in tungstenite's buffer.
    unflushed: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin> WsStream<S> {
    pub(crate) fn new(ws: WebSocketStream<S>) -> Self {
        let read = Bytes::new();
        WsStream {
            ws,
            read,
            eof: false,
            unflushed: false,
        }
    }

    /// Pushes the buffered message to the socket. A caller need not flush
    /// after writing, so every read and write pushes too.
    fn poll_push(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.unflushed {
            ready!(Pin::new(&mut self.ws).poll_flush(cx)).map_err(into_io)?;
            self.unflushed = false;
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for WsStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        // A message waiting for room goes out as soon as the socket takes
        // it; a pending push does not hold up reading.
        if let Poll::Ready(Err(e)) = this.poll_push(cx) {
            return Poll::Ready(Err(e));
        }
        while this.read.is_empty() && !buf.is_empty() && !this.eof {
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
                Some(Ok(Message::Text(_))) => Err(io::Error::new(InvalidData, TEXT))?,
                Some(Err(e)) => Err(into_io(e))?,
                None => this.eof = true,
            }
        }
        let n = this.read.len().min(buf.len());
        this.read.copy_to_slice(&mut buf[..n]);
        Poll::Ready(Ok(n))
    }
}

const TEXT: &str = "the broker sent a text WebSocket message; MQTT uses binary messages";

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
        let message = Message::Binary(Bytes::copy_from_slice(buf));
        Pin::new(&mut this.ws)
            .start_send(message)
            .map_err(into_io)?;
        this.unflushed = true;
        // The message is taken: send what the socket takes now, the rest on
        // the next read, write or flush.
        if let Poll::Ready(Err(e)) = this.poll_push(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.unflushed = true;
        this.poll_push(cx)
    }

    /// Sends a close frame, then closes the stream underneath (a TLS
    /// close_notify, a TCP shutdown).
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.unflushed = false;
        ready!(Pin::new(&mut this.ws).poll_close(cx)).map_err(into_io)?;
        Pin::new(this.ws.get_mut()).poll_close(cx)
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

#[cfg(all(test, unix))]
mod tests {
    //! The adapter over a Unix socket pair (a few hundred KiB of buffer); the
    //! handshake is tested through `connect` in `tests/websocket.rs`.
    use super::*;
    use async_io::{Async, Timer};
    use async_tungstenite::tungstenite::protocol::Role;
    use futures_lite::{future, AsyncReadExt, AsyncWriteExt, StreamExt};
    use std::os::unix::net::UnixStream;

    type Raw = WebSocketStream<Async<UnixStream>>;

    /// Runs `fut` on smol, failing the test if it takes ten seconds.
    fn run<T>(fut: impl std::future::Future<Output = T>) -> T {
        smol::block_on(future::or(fut, async {
            Timer::after(std::time::Duration::from_secs(10)).await;
            panic!("the test took too long")
        }))
    }

    /// A client WsStream and the raw server side of the same WebSocket.
    async fn pair() -> (WsStream<Async<UnixStream>>, Raw) {
        let (a, b) = Async::<UnixStream>::pair().unwrap();
        let server = WebSocketStream::from_raw_socket(b, Role::Server, None).await;
        let client = WebSocketStream::from_raw_socket(a, Role::Client, None).await;
        (WsStream::new(client), server)
    }

    async fn next(server: &mut Raw) -> Message {
        server.next().await.unwrap().unwrap()
    }

    fn bin(data: &'static [u8]) -> Message {
        Message::Binary(Bytes::from_static(data))
    }

    #[test]
    fn reads_binary_as_bytes_answers_pings_refuses_text_and_ends_at_close() {
        let (mut client, mut server) = run(pair());
        let server = smol::spawn(async move {
            let ping = Message::Ping(Bytes::from_static(b"p"));
            let msgs = [
                bin(b"hello "),
                ping.clone(),
                bin(b"world"),
                Message::text("no"),
            ];
            for msg in msgs {
                server.send(msg).await.unwrap();
            }
            assert_eq!(next(&mut server).await, Message::Pong(ping.into_data()));
            server.send(Message::Close(None)).await.unwrap();
            // The client answers the close before it reads end of file.
            assert!(matches!(next(&mut server).await, Message::Close(_)));
        });
        let (mut got, mut small) = (Vec::new(), [0u8; 4]);
        let read: io::Result<()> = run(async {
            loop {
                let n = client.read(&mut small).await?;
                got.extend_from_slice(&small[..n]);
            }
        });
        assert_eq!(
            (got, read.unwrap_err().kind()),
            (b"hello world".to_vec(), InvalidData)
        );
        // Reading answers the close and then reads end of file, for good.
        let ((), n) = run(future::zip(server, client.read(&mut small)));
        assert_eq!((n.unwrap(), run(client.read(&mut small)).unwrap()), (0, 0));
    }

    #[test]
    fn each_write_is_one_binary_message_one_waits_at_most_close_sends_close() {
        let (mut client, mut server) = run(pair());
        run(client.write_all(b"\x10\x02ab")).unwrap(); // and no flush
        assert_eq!(run(next(&mut server)), bin(b"\x10\x02ab"));
        // Far more than the socket pair holds: taken, then the next write
        // waits until the peer reads, and a read pushes it out meanwhile.
        let big: Vec<u8> = (0..1 << 20).map(|i| i as u8).collect();
        assert_eq!(run(client.write(&big)).unwrap(), big.len());
        assert!(future::block_on(future::poll_once(client.write(b"x"))).is_none());
        let server = smol::spawn(async move {
            let first = next(&mut server).await;
            server.send(bin(b"y")).await.unwrap();
            let rest = [next(&mut server).await, next(&mut server).await];
            (first, rest, server)
        });
        assert_eq!(run(client.read(&mut [0u8; 1])).unwrap(), 1);
        run(client.write_all(b"x")).unwrap();
        run(client.close()).unwrap();
        let (first, [second, close], mut server) = run(server);
        assert_eq!((first, second), (Message::Binary(big.into()), bin(b"x")));
        assert!(matches!(close, Message::Close(_)), "{close:?}");
        // Nothing follows: the client's side of the socket is shut.
        assert!(!matches!(run(server.next()), Some(Ok(_))));
    }
}
