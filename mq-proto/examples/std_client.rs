//! The sans-IO core driven by hand over a blocking `std::net::TcpStream`:
//! connect, subscribe, publish at QoS 0, 1 and 2 to ourselves, print what
//! arrives and what completes, then disconnect.
//!
//! ```sh
//! mosquitto -p 1883 &
//! cargo run -p mq-proto --example std_client            # 127.0.0.1:1883
//! cargo run -p mq-proto --example std_client -- host:port
//! ```
//!
//! The whole event loop is four steps: write what the client wants written,
//! hand its events to the application (until neither has anything left), wait
//! for bytes no longer than the client's next deadline, and feed back what
//! happened (bytes, the deadline, or a closed socket).

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use mq_proto::client::{Client, Event, Instant, Options};
use mq_proto::{Disconnect, Publish, QoS, ReasonCode, Subscribe};

const TOPIC: &str = "mq/std-example";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:1883".into());
    let mut socket = TcpStream::connect(&addr)?;
    println!("TCP connected to {addr}");

    // The core never reads a clock: every call gets the time since our start.
    let start = std::time::Instant::now();
    let now = || Instant::from_duration(start.elapsed());

    let mut options = Options::new("mq-std-example");
    options.keep_alive = 10; // the client will ask for PINGREQs through poll_timeout
    let mut client = Client::new(options);
    client.connect(now())?;
    // Queued until the CONNACK arrives, then sent.
    client.subscribe(now(), Subscribe::new(0, TOPIC, QoS::ExactlyOnce))?;

    let mut buf = vec![0u8; 16 * 1024];
    let (mut received, mut completed) = (0, 0);
    let mut disconnecting = false;
    loop {
        // 1. Write everything the client has to send, in order.
        let mut busy = false;
        while let Some(bytes) = client.poll_transmit() {
            socket.write_all(&bytes)?;
            busy = true;
        }

        // 2. Hand the events to the application.
        while let Some(event) = client.poll_event() {
            busy = true;
            match event {
                Event::Connected { session_present } => {
                    let version = client.protocol_version();
                    println!("MQTT connected ({version:?}, session present: {session_present})");
                }
                Event::Subscribed { result, .. } => {
                    println!("subscribed to {TOPIC}: {result:?}");
                    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
                        let mut message = Publish::new(TOPIC, format!("hello at {qos:?}"));
                        message.qos = qos;
                        let id = client.publish(now(), message)?;
                        println!("publish {id:?} at {qos:?}");
                    }
                }
                Event::Message(m) => {
                    let text = String::from_utf8_lossy(&m.payload);
                    println!("received on {} at {:?}: {text}", m.topic, m.qos);
                    received += 1;
                }
                // QoS 0 completes when handed out, QoS 1 on PUBACK, QoS 2 on PUBCOMP.
                Event::Published { id, result } => {
                    println!("publish {id:?} completed: {result:?}");
                    completed += 1;
                }
                Event::Disconnected(reason) if disconnecting => {
                    // DISCONNECT was written in step 1; closing the socket ends the session cleanly.
                    println!("disconnected: {reason:?}");
                    return Ok(());
                }
                // A long-running program would wait `client.reconnect_delay(random)`,
                // open a new socket and call `client.connect` again; we just stop.
                Event::Disconnected(reason) => {
                    return Err(format!("connection lost: {reason:?}").into())
                }
                other => println!("{other:?}"),
            }
        }
        if received == 3 && completed == 3 && !disconnecting {
            client.disconnect(now(), Disconnect::new(ReasonCode::Success))?;
            disconnecting = true;
            busy = true; // a DISCONNECT to write, then its event
        }
        if busy {
            continue; // handling events may have queued more to send, like our publishes
        }

        // 3. Wait for bytes, but no longer than the client's next deadline.
        let wait = client
            .poll_timeout()
            .map(|at| at.as_duration().saturating_sub(start.elapsed()));
        if wait == Some(Duration::ZERO) {
            client.handle_timeout(now());
            continue;
        }
        socket.set_read_timeout(wait)?; // None: nothing is timed, block until bytes arrive

        // 4. Feed back what happened.
        match socket.read(&mut buf) {
            Ok(0) => client.handle_transport_closed(now()),
            Ok(n) => client.handle_bytes(now(), &buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                client.handle_timeout(now())
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => {
                println!("socket error: {e}");
                client.handle_transport_closed(now());
            }
        }
    }
}
