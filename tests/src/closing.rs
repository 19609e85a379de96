//! After sending DISCONNECT the client closes the network connection
//! (MQTT 5.0 MQTT-3.14.4-2, 3.1.1 MQTT-3.14.4-1), through every adapter.
//!
//! A broker of the test's own on a loopback port accepts one connection,
//! answers the CONNECT with CONNACK, and then reads until the client closes
//! the socket: it must see exactly a DISCONNECT and then the end of the
//! stream, within [`WAIT`]. [`closing_tests!`](crate::closing_tests) turns the
//! scenario into one test per protocol version for an adapter.

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use mq_proto::{Decoder, Packet};

use crate::scenarios::{ClientOptions, ProtocolVersion, TestClient, V5, WAIT};

/// Expands to the DISCONNECT-closes-the-socket test, per protocol version,
/// for the client type `$client`.
#[macro_export]
macro_rules! closing_tests {
    ($client:ty) => {
        #[test]
        fn disconnect_closes_the_connection_v311() {
            $crate::closing::disconnect_closes_the_connection::<$client>($crate::scenarios::V311);
        }
        #[test]
        fn disconnect_closes_the_connection_v5() {
            $crate::closing::disconnect_closes_the_connection::<$client>($crate::scenarios::V5);
        }
    };
}

/// What the scripted broker saw after its CONNACK.
#[derive(Debug)]
struct AfterConnack {
    bytes: Vec<u8>,
    /// The client closed the stream (a read returned 0, or the connection was reset).
    closed: bool,
}

/// The client disconnects; the broker reads DISCONNECT (`E0 00`) and then
/// the end of the stream.
pub fn disconnect_closes_the_connection<C: TestClient>(version: ProtocolVersion) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a loopback port");
    let url = format!("mqtt://{}", listener.local_addr().expect("local address"));
    let broker = thread::spawn(move || serve_one(listener, version));
    let mut options = ClientOptions::new(version, "closer");
    options.auto_reconnect = false;
    let client = C::connect(&url, options).expect("connect to the scripted broker");
    client.disconnect().expect("disconnect");
    let seen = broker.join().expect("scripted broker thread");
    assert_eq!(
        seen.bytes,
        [0xE0, 0x00],
        "DISCONNECT and nothing else: {seen:?}"
    );
    assert!(
        seen.closed,
        "the client closed the connection within {WAIT:?}"
    );
}

/// Accepts one connection within [`WAIT`], reads its CONNECT, answers with
/// CONNACK (accepted, no session), and reads until the stream ends or
/// [`WAIT`] passes.
fn serve_one(listener: TcpListener, version: ProtocolVersion) -> AfterConnack {
    let mut stream = accept_within(&listener, WAIT);
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("read timeout");
    let deadline = Instant::now() + WAIT;
    let decoder = Decoder::new(version);
    let mut buf = BytesMut::new();
    let mut chunk = [0u8; 1024];
    loop {
        assert!(Instant::now() < deadline, "no CONNECT within {WAIT:?}");
        match decoder.decode(&mut buf) {
            Ok(Some(Packet::Connect(_))) => break,
            Ok(Some(other)) => panic!("expected CONNECT, got {other:?}"),
            Ok(None) => {}
            Err(e) => panic!("undecodable CONNECT: {e:?}"),
        }
        match stream.read(&mut chunk) {
            Ok(0) => panic!("closed before CONNECT"),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if timed_out(&e) => {}
            Err(e) => panic!("read CONNECT: {e}"),
        }
    }
    let connack: &[u8] = if version == V5 {
        &[0x20, 0x03, 0x00, 0x00, 0x00]
    } else {
        &[0x20, 0x02, 0x00, 0x00]
    };
    stream.write_all(connack).expect("write CONNACK");
    let mut seen = AfterConnack {
        bytes: buf.to_vec(),
        closed: false,
    };
    while Instant::now() < deadline {
        match stream.read(&mut chunk) {
            Ok(0) => {
                seen.closed = true;
                break;
            }
            Ok(n) => seen.bytes.extend_from_slice(&chunk[..n]),
            Err(e) if timed_out(&e) => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => {
                seen.closed = true;
                break;
            }
            Err(e) => panic!("read after CONNACK: {e}"),
        }
    }
    seen
}

/// The first connection to `listener` within `limit`.
fn accept_within(listener: &TcpListener, limit: Duration) -> TcpStream {
    listener
        .set_nonblocking(true)
        .expect("non-blocking listener");
    let deadline = Instant::now() + limit;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).expect("blocking stream");
                return stream;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("no connection within {limit:?}: {e}"),
        }
    }
}

fn timed_out(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}
