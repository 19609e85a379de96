//! Connect over WebSocket (`ws://`, or `wss://` with the `tls` feature too),
//! then publish and receive one message at QoS 1, from plain threads.
//!
//! ```text
//! cargo run -p mq-blocking --features websocket --example blocking_websocket -- [ws://127.0.0.1:9001/mqtt]
//! ```
//!
//! A local Mosquitto with a WebSocket listener:
//!
//! ```text
//! printf 'listener 9001 127.0.0.1\nprotocol websockets\nallow_anonymous true\n' > ws.conf
//! mosquitto -c ws.conf
//! ```
//!
//! The client asks for the `mqtt` subprotocol and uses the URL's path
//! (`/mqtt` when it has none).

use std::time::Duration;

use mq_blocking::{connect, ConnectOptions, QoS};

fn main() -> Result<(), mq_blocking::Error> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:9001/mqtt".into());
    let client = connect(&url, ConnectOptions::new("mq-blocking-ws-example"))?;
    println!("connected to {url}");

    let mut sub = client.subscribe("mq/ws/#").qos(QoS::AtLeastOnce).send()?;
    let code = client
        .publish("mq/ws/hello", "hello over WebSocket")
        .qos(QoS::AtLeastOnce)
        .send()?
        .wait()?;
    println!("published: broker said {code}");
    let Some(msg) = sub.recv_timeout(Duration::from_secs(5)) else {
        eprintln!("the message did not come back");
        std::process::exit(1);
    };
    println!(
        "received {} {:?}",
        msg.topic,
        String::from_utf8_lossy(&msg.payload)
    );
    client.disconnect()?;
    Ok(())
}
