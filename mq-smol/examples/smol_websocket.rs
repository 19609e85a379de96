//! Connect over WebSocket (`ws://`, or `wss://` with the `tls` feature too),
//! then publish and receive one message at QoS 1.
//!
//! ```text
//! cargo run -p mq-smol --features websocket --example smol_websocket -- [ws://127.0.0.1:9001/mqtt]
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

use mq_smol::{connect, ConnectOptions, QoS};
use smol::future::FutureExt;
use smol::Timer;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:9001/mqtt".into());
    smol::block_on(async {
        let client = connect(&url, ConnectOptions::new("mq-smol-ws-example")).await?;
        println!("connected to {url}");

        let mut sub = client.subscribe("mq/ws/#").qos(QoS::AtLeastOnce).await?;
        let code = client
            .publish("mq/ws/hello", "hello over WebSocket")
            .qos(QoS::AtLeastOnce)
            .await?;
        println!("published: broker said {code}");
        let timeout = async {
            Timer::after(Duration::from_secs(5)).await;
            None
        };
        match sub.recv().or(timeout).await {
            Some(msg) => println!(
                "received {} {:?}",
                msg.topic,
                String::from_utf8_lossy(&msg.payload)
            ),
            None => {
                eprintln!("the message did not come back");
                std::process::exit(1);
            }
        }
        client.disconnect().await?;
        Ok(())
    })
}
