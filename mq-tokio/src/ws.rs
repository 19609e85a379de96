//! MQTT over WebSocket (feature `websocket`): tokio-tungstenite runs the
//! client handshake; [`mq_common::ws::WsTransport`], shared with mq-smol,
//! turns the binary messages into the driver's byte stream.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use mq_common::runtime::BoxTransport;
use mq_proto::url::BrokerUrl;
use tokio_tungstenite::WebSocketStream;

use crate::transport::Stream;
use crate::Error;

/// Runs the WebSocket client handshake for `url` over the open `stream` (TCP
/// or TLS), asking for the `mqtt` subprotocol.
pub(crate) async fn connect<S: Stream>(stream: S, url: &BrokerUrl) -> Result<BoxTransport, Error> {
    let handshake = |request| tokio_tungstenite::client_async(request, stream);
    mq_common::ws::open(url, handshake, shutdown::<S>).await
}

/// Shuts the stream under the WebSocket down (TLS close_notify, TCP FIN).
fn shutdown<S: Stream>(ws: &mut WebSocketStream<S>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
    Pin::new(ws.get_mut()).poll_shutdown(cx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::{Bytes, BytesMut};
    use futures_sink::Sink;
    use mq_common::runtime::Transport;
    use mq_common::ws::WsTransport;
    use std::future::poll_fn;
    use tokio_tungstenite::tungstenite::protocol::Role;
    use tokio_tungstenite::tungstenite::Message;

    type Client = WsTransport<WebSocketStream<tokio::io::DuplexStream>>;
    type Server = WebSocketStream<tokio::io::DuplexStream>;

    /// A client transport and the raw server side of the same WebSocket.
    async fn pair() -> (Client, Server) {
        let (a, b) = tokio::io::duplex(64);
        let client = WebSocketStream::from_raw_socket(a, Role::Client, None).await;
        let server = WebSocketStream::from_raw_socket(b, Role::Server, None).await;
        (WsTransport::new(client, shutdown), server)
    }

    /// Every test is over in well under this.
    async fn bounded<T>(fut: impl std::future::Future<Output = T>) -> T {
        tokio::time::timeout(std::time::Duration::from_secs(10), fut)
            .await
            .expect("the test took too long")
    }

    async fn read(client: &mut Client, max: usize) -> io::Result<Vec<u8>> {
        let mut buf = BytesMut::with_capacity(max);
        poll_fn(|cx| client.poll_read(cx, &mut buf, max)).await?;
        Ok(buf.to_vec())
    }

    async fn write_all(client: &mut Client, mut data: &[u8]) {
        while !data.is_empty() {
            let n = poll_fn(|cx| client.poll_write(cx, data)).await.unwrap();
            data = &data[n..];
        }
    }

    async fn next(server: &mut Server) -> Message {
        poll_fn(|cx| futures_core::Stream::poll_next(Pin::new(&mut *server), cx))
            .await
            .unwrap()
            .unwrap()
    }

    async fn send(server: &mut Server, msg: Message) {
        let mut server = Pin::new(server);
        poll_fn(|cx| server.as_mut().poll_ready(cx)).await.unwrap();
        server.as_mut().start_send(msg).unwrap();
        poll_fn(|cx| server.as_mut().poll_flush(cx)).await.unwrap();
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
        loop {
            let small = read(&mut client, 4).await.unwrap();
            if small.is_empty() {
                break;
            }
            got.extend_from_slice(&small);
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
        write_all(&mut client, b"\x10\x02ab").await;
        assert_eq!(
            next(&mut server).await,
            Message::Binary(Bytes::from_static(b"\x10\x02ab"))
        );
        // Bigger than the duplex buffer: sent as the server reads.
        let big = vec![7u8; 1000];
        let writer = tokio::spawn(async move {
            write_all(&mut client, &big).await;
            // Reading drives the rest of the write out.
            let n = read(&mut client, 1).await.unwrap().len();
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
        let err = bounded(read(&mut client, 8)).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }

    #[tokio::test]
    async fn shutdown_sends_a_close_frame() {
        let (mut client, mut server) = pair().await;
        let closer = tokio::spawn(async move { poll_fn(|cx| client.poll_close(cx)).await });
        assert!(matches!(
            bounded(next(&mut server)).await,
            Message::Close(_)
        ));
        drop(server);
        let _ = bounded(closer).await.unwrap();
    }
}
