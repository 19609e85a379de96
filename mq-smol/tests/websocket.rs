//! `ws://` through `mq_smol::connect` against a scripted WebSocket broker on
//! a loopback socket (tungstenite's blocking server on a thread): the
//! handshake asks for the URL's path with subprotocol `mqtt`, MQTT travels in
//! binary messages whose boundaries need not match the packets', and failed
//! handshakes are `Error::WebSocket`. Every wait is bounded by [`WAIT`].
// tungstenite's handshake callbacks return `Result<Response, ErrorResponse>`.
#![allow(clippy::result_large_err)]

use std::future::Future;
use std::net::{TcpListener, TcpStream};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use async_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use async_tungstenite::tungstenite::http::HeaderValue;
use async_tungstenite::tungstenite::{accept_hdr, Message, WebSocket};
use futures_lite::future;
use mq_smol::{ConnectOptions, Error, ProtocolVersion};

const WAIT: Duration = Duration::from_secs(10);

fn options(id: &str) -> ConnectOptions {
    let mut opts = ConnectOptions::new(id);
    opts.mqtt.protocol_version = ProtocolVersion::V311;
    opts.mqtt.protocol_fallback = false;
    opts.mqtt.connect_timeout = WAIT / 2;
    opts.auto_reconnect = false;
    opts
}

/// Blocks on `fut`, failing the test after [`WAIT`].
fn bounded<T>(fut: impl Future<Output = T>) -> T {
    future::block_on(future::or(fut, async {
        async_io::Timer::after(WAIT).await;
        panic!("the test took longer than {WAIT:?}")
    }))
}

type Reply = fn(Response) -> Result<Response, ErrorResponse>;

/// A one-connection WebSocket server on 127.0.0.1 that checks the client
/// asked for `/a/path` with subprotocol `mqtt`, answers with `reply`, and
/// hands the open WebSocket to `then`. Returns the URL to connect to.
fn server(
    reply: Reply,
    then: impl FnOnce(WebSocket<TcpStream>) + Send + 'static,
) -> (String, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("ws://{}/a/path", listener.local_addr().expect("addr"));
    let thread = thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        stream.set_read_timeout(Some(WAIT)).expect("timeout");
        let check = move |req: &Request, res: Response| {
            assert_eq!(req.uri().path(), "/a/path");
            assert_eq!(req.headers()["Sec-WebSocket-Protocol"], "mqtt");
            reply(res)
        };
        if let Ok(ws) = accept_hdr(stream, check) {
            then(ws);
        }
    });
    (url, thread)
}

fn choose_mqtt(mut res: Response) -> Result<Response, ErrorResponse> {
    let mqtt = HeaderValue::from_static("mqtt");
    res.headers_mut().insert("Sec-WebSocket-Protocol", mqtt);
    Ok(res)
}

fn read_binary(ws: &mut WebSocket<TcpStream>) -> Vec<u8> {
    match ws.read().expect("read a message") {
        Message::Binary(data) => data.to_vec(),
        other => panic!("expected a binary message, got {other:?}"),
    }
}

#[test]
fn mqtt_travels_in_binary_messages_on_the_url_path() {
    let (url, server) = server(choose_mqtt, |mut ws| {
        assert_eq!(read_binary(&mut ws)[0], 0x10, "CONNECT first");
        // The CONNACK split over two messages, a ping between them.
        for msg in [
            Message::binary(vec![0x20, 0x02]),
            Message::Ping(vec![1].into()),
            Message::binary(vec![0x00, 0x00]),
        ] {
            ws.send(msg).expect("send");
        }
        assert_eq!(ws.read().expect("pong"), Message::Pong(vec![1].into()));
        assert_eq!(read_binary(&mut ws), [0xe0, 0x00], "DISCONNECT");
        assert!(matches!(ws.read(), Ok(Message::Close(_))), "a close frame");
    });
    bounded(async {
        let client = mq_smol::connect(&url, options("ws"))
            .await
            .expect("connect");
        client.disconnect().await.expect("disconnect");
    });
    server.join().expect("the server checks passed");
}

#[test]
fn failed_handshakes_are_websocket_errors() {
    let refuse: Reply = |_| Err(Response::builder().status(404).body(None).expect("404"));
    for (reply, expected) in [(Ok as Reply, "no subprotocol"), (refuse, "404")] {
        let (url, server) = server(reply, drop);
        match bounded(mq_smol::connect(&url, options("ws-refused"))) {
            Err(Error::WebSocket { url: asked, reason }) => {
                assert_eq!(asked, url);
                assert!(reason.contains(expected), "{reason}");
            }
            Err(e) => panic!("expected Error::WebSocket, got {e:?}"),
            Ok(_) => panic!("the handshake should have failed"),
        }
        server.join().expect("the server checks passed");
    }
}
