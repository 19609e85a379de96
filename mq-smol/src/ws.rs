//! MQTT over WebSocket (feature `websocket`): async-tungstenite runs the
//! client handshake (subprotocol `mqtt`) over the TCP or TLS stream
//! `transport.rs` opened; [`mq_common::ws::WsTransport`], shared with
//! mq-tokio, turns the binary messages into the driver's byte stream.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use async_tungstenite::WebSocketStream;
use mq_common::runtime::BoxTransport;
use mq_common::Error;
use mq_proto::url::BrokerUrl;

use crate::transport::Stream;

/// Runs the WebSocket client handshake for `url` over the open `stream`.
pub(crate) async fn connect<S: Stream>(stream: S, url: &BrokerUrl) -> Result<BoxTransport, Error> {
    let handshake = |request| async_tungstenite::client_async(request, stream);
    mq_common::ws::open(url, handshake, shutdown::<S>).await
}

/// Closes the stream under the WebSocket (TLS close_notify, TCP shutdown).
fn shutdown<S: Stream>(ws: &mut WebSocketStream<S>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
    futures_lite::AsyncWrite::poll_close(Pin::new(ws.get_mut()), cx)
}

#[cfg(all(test, unix))]
mod tests {
    //! The transport over a Unix socket pair (a few hundred KiB of buffer);
    //! the handshake is tested through `connect` in `tests/websocket.rs`.
    use super::*;
    use async_io::{Async, Timer};
    use async_tungstenite::tungstenite::protocol::Role;
    use async_tungstenite::tungstenite::Message;
    use bytes::{Bytes, BytesMut};
    use futures_lite::{future, StreamExt};
    use mq_common::runtime::Transport;
    use mq_common::ws::WsTransport;
    use std::future::poll_fn;
    use std::io::ErrorKind::InvalidData;
    use std::os::unix::net::UnixStream;

    type Raw = WebSocketStream<Async<UnixStream>>;
    type Client = WsTransport<Raw>;

    /// Runs `fut` on smol, failing the test if it takes ten seconds.
    fn run<T>(fut: impl std::future::Future<Output = T>) -> T {
        smol::block_on(future::or(fut, async {
            Timer::after(std::time::Duration::from_secs(10)).await;
            panic!("the test took too long")
        }))
    }

    /// A client transport and the raw server side of the same WebSocket.
    async fn pair() -> (Client, Raw) {
        let (a, b) = Async::<UnixStream>::pair().unwrap();
        let server = WebSocketStream::from_raw_socket(b, Role::Server, None).await;
        let client = WebSocketStream::from_raw_socket(a, Role::Client, None).await;
        (WsTransport::new(client, shutdown), server)
    }

    async fn read(client: &mut Client, max: usize) -> io::Result<Vec<u8>> {
        let mut buf = BytesMut::new();
        poll_fn(|cx| client.poll_read(cx, &mut buf, max)).await?;
        Ok(buf.to_vec())
    }

    async fn write(client: &mut Client, data: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| client.poll_write(cx, data)).await
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
        let mut got = Vec::new();
        let read_all: io::Result<()> = run(async {
            loop {
                got.extend_from_slice(&read(&mut client, 4).await?);
            }
        });
        assert_eq!(
            (got, read_all.unwrap_err().kind()),
            (b"hello world".to_vec(), InvalidData)
        );
        // Reading answers the close and then reads end of file, for good.
        let ((), first) = run(future::zip(server, read(&mut client, 4)));
        let second = run(read(&mut client, 4)).unwrap();
        assert_eq!((first.unwrap(), second), (vec![], vec![]));
    }

    #[test]
    fn each_write_is_one_binary_message_one_waits_at_most_close_sends_close() {
        let (mut client, mut server) = run(pair());
        assert_eq!(run(write(&mut client, b"\x10\x02ab")).unwrap(), 4); // and no flush
        assert_eq!(run(next(&mut server)), bin(b"\x10\x02ab"));
        // Far more than the socket pair holds: taken, then the next write
        // waits until the peer reads, and a read pushes it out meanwhile.
        let big: Vec<u8> = (0..1 << 20).map(|i| i as u8).collect();
        assert_eq!(run(write(&mut client, &big)).unwrap(), big.len());
        assert!(future::block_on(future::poll_once(write(&mut client, b"x"))).is_none());
        let server = smol::spawn(async move {
            let first = next(&mut server).await;
            server.send(bin(b"y")).await.unwrap();
            let rest = [next(&mut server).await, next(&mut server).await];
            (first, rest, server)
        });
        assert_eq!(run(read(&mut client, 1)).unwrap().len(), 1);
        assert_eq!(run(write(&mut client, b"x")).unwrap(), 1);
        run(poll_fn(|cx| client.poll_close(cx))).unwrap();
        let (first, [second, close], mut server) = run(server);
        assert_eq!((first, second), (Message::Binary(big.into()), bin(b"x")));
        assert!(matches!(close, Message::Close(_)), "{close:?}");
        // Nothing follows: the client's side of the socket is shut.
        assert!(!matches!(run(server.next()), Some(Ok(_))));
    }
}
