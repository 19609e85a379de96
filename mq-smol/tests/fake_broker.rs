//! mq-smol against a scripted broker on a loopback socket: byte-exact MQTT
//! 3.1.1 packets, no Mosquitto needed. Each test blocks on its futures with
//! `futures_lite::future::block_on` (no runtime at all) or `smol::block_on`.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use futures_lite::future::block_on;
use mq_smol::{ClientEvent, ConnectOptions, DisconnectReason, Error, ProtocolVersion, QoS};

const WAIT: Duration = Duration::from_secs(10);

/// CONNACK accepted, no session (3.1.1).
const CONNACK: [u8; 4] = [0x20, 0x02, 0x00, 0x00];

fn options(id: &str) -> ConnectOptions {
    let mut opts = ConnectOptions::new(id);
    opts.mqtt.protocol_version = ProtocolVersion::V311;
    opts.mqtt.protocol_fallback = false;
    opts.auto_reconnect = false;
    opts
}

/// A listener and the URL that reaches it.
fn listen() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("mqtt://{}", listener.local_addr().expect("addr"));
    (listener, url)
}

/// Accepts one connection, reads CONNECT and answers `connack`.
fn accept(listener: &TcpListener, connack: &[u8]) -> TcpStream {
    let (mut stream, _) = listener.accept().expect("accept");
    stream.set_read_timeout(Some(WAIT)).expect("timeout");
    let (header, _) = read_packet(&mut stream).expect("CONNECT");
    assert_eq!(header, 0x10, "CONNECT first");
    stream.write_all(connack).expect("CONNACK");
    stream
}

/// One packet: the first header byte and the body.
fn read_packet(stream: &mut TcpStream) -> io::Result<(u8, Vec<u8>)> {
    let mut byte = [0u8; 1];
    stream.read_exact(&mut byte)?;
    let header = byte[0];
    let (mut len, mut shift) = (0usize, 0);
    loop {
        stream.read_exact(&mut byte)?;
        len |= usize::from(byte[0] & 0x7f) << shift;
        shift += 7;
        if byte[0] & 0x80 == 0 {
            break;
        }
    }
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body)?;
    Ok((header, body))
}

#[test]
fn bad_url_and_refused_transport_are_typed_errors() {
    block_on(async {
        let err = mq_smol::connect("foo://x", options("e")).await.unwrap_err();
        assert!(matches!(err, Error::Url(_)), "{err:?}");
        let (listener, url) = listen();
        drop(listener);
        match mq_smol::connect(&url, options("e")).await {
            Err(Error::Io(e)) => assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused),
            other => panic!("expected a refused connection, got {other:?}"),
        }
        let (listener, url) = listen();
        drop(listener);
        let ws = url.replacen("mqtt://", "ws://", 1) + "/mqtt";
        let err = mq_smol::connect(&ws, options("e")).await.unwrap_err();
        #[cfg(feature = "websocket")]
        assert!(
            matches!(&err, Error::Io(e) if e.kind() == io::ErrorKind::ConnectionRefused),
            "{err:?}"
        );
        #[cfg(not(feature = "websocket"))]
        assert!(
            matches!(&err, Error::FeatureDisabled("WebSocket", "websocket")),
            "{err:?}"
        );
    });
}

#[test]
fn refused_connack_fails_connect() {
    let (listener, url) = listen();
    let broker = thread::spawn(move || {
        // 3.1.1 return code 5: not authorized.
        let _stream = accept(&listener, &[0x20, 0x02, 0x00, 0x05]);
        thread::sleep(Duration::from_millis(200));
    });
    let result = block_on(mq_smol::connect(&url, options("refused")));
    match result {
        Err(Error::Connect(reason)) => {
            assert!(
                matches!(*reason, DisconnectReason::Refused(_)),
                "{reason:?}"
            )
        }
        other => panic!("expected a refused CONNECT, got {other:?}"),
    }
    broker.join().expect("broker");
}

#[test]
fn publish_resolves_on_puback_and_state_is_fresh_after_connect() {
    let (listener, url) = listen();
    let broker = thread::spawn(move || {
        let mut stream = accept(&listener, &CONNACK);
        // PUBLISH QoS 1: 0x32, topic "a/b", packet id.
        let (header, body) = read_packet(&mut stream).expect("PUBLISH");
        assert_eq!(header, 0x32);
        assert_eq!(&body[..5], b"\x00\x03a/b");
        let id = &body[5..7];
        assert_eq!(&body[7..], b"hello");
        stream
            .write_all(&[0x40, 0x02, id[0], id[1]])
            .expect("PUBACK");
        let (header, _) = read_packet(&mut stream).expect("DISCONNECT");
        assert_eq!(header, 0xe0);
    });
    block_on(async {
        let client = mq_smol::connect(&url, options("pub"))
            .await
            .expect("connect");
        assert!(
            client.is_connected(),
            "connected as soon as connect returns"
        );
        assert_eq!(client.protocol_version(), ProtocolVersion::V311);
        let code = client
            .publish("a/b", "hello")
            .qos(QoS::AtLeastOnce)
            .await
            .expect("publish");
        assert!(!code.is_error());
        let mut events = client.events();
        client.disconnect().await.expect("disconnect");
        assert!(client.is_closed(), "closed as soon as disconnect returns");
        assert!(matches!(
            client.publish("a/b", "late").await,
            Err(Error::Closed)
        ));
        assert!(matches!(
            client.publish("a/b", "late").try_send(),
            Err(Error::Closed)
        ));
        // Closed: the event stream ends after the last events.
        while let Some(event) = events.recv().await {
            assert!(!matches!(event, ClientEvent::Connected { .. }));
        }
    });
    broker.join().expect("broker");
}

#[test]
fn dropping_every_handle_disconnects() {
    let (listener, url) = listen();
    let broker = thread::spawn(move || {
        let mut stream = accept(&listener, &CONNACK);
        let (header, _) = read_packet(&mut stream).expect("DISCONNECT");
        assert_eq!(header, 0xe0);
    });
    let client = smol::block_on(mq_smol::connect(&url, options("drop"))).expect("connect");
    let events = client.events();
    drop(client);
    broker.join().expect("broker");
    drop(events);
}

/// The broker stops reading while the client has megabytes to write: the
/// write blocks, and the keep-alive bound (keep alive + ping timeout) still
/// ends the connection.
#[test]
fn keep_alive_ends_a_connection_whose_writes_are_stuck() {
    let (listener, url) = listen();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let broker = thread::spawn(move || {
        let stream = accept(&listener, &CONNACK);
        // Never read again; keep the socket open until the test is done.
        let _ = done_rx.recv_timeout(WAIT);
        let _ = stream.shutdown(Shutdown::Both);
    });
    let mut opts = options("stuck");
    opts.mqtt.keep_alive = 1;
    block_on(async {
        let client = mq_smol::connect(&url, opts).await.expect("connect");
        let mut events = client.events();
        let payload = bytes::Bytes::from(vec![0u8; 256 * 1024]);
        for _ in 0..64 {
            drop(
                client
                    .publish("big", payload.clone())
                    .try_send()
                    .expect("try_send"),
            );
        }
        let start = Instant::now();
        let lost = loop {
            match events.recv().await {
                Some(ClientEvent::ConnectionLost(reason)) => break *reason,
                Some(_) => {}
                None => panic!("events ended without ConnectionLost"),
            }
        };
        // The engine bounds a stalled write by keep alive + ping timeout
        // (1 s + 1 s here) and reports the transport as dead.
        assert_eq!(lost, DisconnectReason::TransportClosed);
        assert!(start.elapsed() < WAIT, "{:?}", start.elapsed());
    });
    let _ = done_tx.send(());
    broker.join().expect("broker");
}

/// `disconnect` returns within about a second when the broker stopped
/// reading and a large write is stuck.
#[test]
fn disconnect_is_prompt_while_a_write_is_stuck() {
    let (listener, url) = listen();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let broker = thread::spawn(move || {
        let _stream = accept(&listener, &CONNACK);
        let _ = done_rx.recv_timeout(WAIT);
    });
    smol::block_on(async {
        let client = mq_smol::connect(&url, options("stuck-disconnect"))
            .await
            .expect("connect");
        let payload = bytes::Bytes::from(vec![0u8; 256 * 1024]);
        for _ in 0..64 {
            drop(
                client
                    .publish("big", payload.clone())
                    .try_send()
                    .expect("try_send"),
            );
        }
        smol::Timer::after(Duration::from_millis(200)).await;
        let start = Instant::now();
        client.disconnect().await.expect("disconnect");
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "{:?}",
            start.elapsed()
        );
        assert!(client.is_closed());
    });
    let _ = done_tx.send(());
    broker.join().expect("broker");
}
