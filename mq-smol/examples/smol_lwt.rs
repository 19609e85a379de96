//! Last Will and Testament: a device registers a will ("offline", retained)
//! when it connects; when its connection dies without a DISCONNECT, the
//! broker publishes the will for it. Here the "network failure" is the
//! device's socket being shut down under it.
//!
//! `cargo run -p mq-smol --example smol_lwt -- [mqtt://127.0.0.1:1883]`

use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mq_smol::{connect, connect_with, BrokerUrl, ConnectOptions, QoS, Subscription, Will};
use smol::future::FutureExt;
use smol::{Async, Timer};

const STATUS: &str = "mq-example/devices/sensor-7/status";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "mqtt://127.0.0.1:1883".into());
    smol::block_on(async {
        // Someone who watches device status.
        let watcher = connect(&url, ConnectOptions::new("mq-smol-lwt-watcher")).await?;
        let mut status = watcher
            .subscribe("mq-example/devices/+/status")
            .qos(QoS::AtLeastOnce)
            .await?;

        // The device: its will says "offline"; it announces "online" itself.
        let opts = ConnectOptions::new("mq-smol-lwt-sensor-7")
            .will(
                Will::new(STATUS, "offline")
                    .qos(QoS::AtLeastOnce)
                    .retain(true),
            )
            .auto_reconnect(false);
        // Keep a second handle on the device's socket, to break it later.
        let socket: Arc<Mutex<Option<TcpStream>>> = Arc::default();
        let broker = BrokerUrl::parse(&url)?;
        let addr = (broker.host.as_str(), broker.port)
            .to_socket_addrs()?
            .next()
            .ok_or("the broker's host has no address")?;
        let slot = socket.clone();
        let connector = move || {
            let slot = slot.clone();
            async move {
                let stream = Async::<TcpStream>::connect(addr).await?;
                *slot.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some(stream.get_ref().try_clone()?);
                Ok::<_, std::io::Error>(stream)
            }
        };
        let device = connect_with(connector, opts).await?;
        device
            .publish(STATUS, "online")
            .qos(QoS::AtLeastOnce)
            .retain(true)
            .await?;
        print_next(&mut status).await;

        println!("cutting the device's connection...");
        if let Some(s) = socket.lock().unwrap_or_else(|e| e.into_inner()).take() {
            s.shutdown(Shutdown::Both)?;
        }
        print_next(&mut status).await;

        // Clear the retained status so the next run starts clean.
        watcher.publish(STATUS, "").retain(true).await?;
        watcher.disconnect().await?;
        Ok(())
    })
}

async fn print_next(status: &mut Subscription) {
    let timeout = async {
        Timer::after(Duration::from_secs(5)).await;
        None
    };
    match status.recv().or(timeout).await {
        Some(msg) => println!("{} is {}", msg.topic, String::from_utf8_lossy(&msg.payload)),
        None => println!("no status change within 5 s"),
    }
}
