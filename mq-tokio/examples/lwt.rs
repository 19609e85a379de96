//! Last Will and Testament: a device registers a will ("offline", retained)
//! when it connects; when its connection dies without a DISCONNECT, the
//! broker publishes the will for it. Here the "network failure" is the
//! device's socket being shut down under it.
//!
//! `cargo run -p mq-tokio --example lwt -- [mqtt://127.0.0.1:1883]`

use std::net::Shutdown;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mq_tokio::{connect, connect_with, ConnectOptions, QoS, Will};

const STATUS: &str = "mq-example/devices/sensor-7/status";

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "mqtt://127.0.0.1:1883".into());

    // Someone who watches device status.
    let watcher = connect(&url, ConnectOptions::new("mq-lwt-watcher")).await?;
    let mut status = watcher
        .subscribe("mq-example/devices/+/status")
        .qos(QoS::AtLeastOnce)
        .await?;

    // The device: its will says "offline"; it announces "online" itself.
    let mut opts = ConnectOptions::new("mq-lwt-sensor-7");
    opts.mqtt.will = Some(Will {
        topic: STATUS.into(),
        payload: "offline".into(),
        qos: QoS::AtLeastOnce,
        retain: true,
        ..Default::default()
    });
    opts.auto_reconnect = false;
    // Keep a second handle on the device's socket, to break it later.
    let socket: Arc<Mutex<Option<std::net::TcpStream>>> = Arc::default();
    let addr = {
        let u = mq_tokio::BrokerUrl::parse(&url)?;
        format!("{}:{}", u.host, u.port)
    };
    let slot = socket.clone();
    let connector = move || {
        let (addr, slot) = (addr.clone(), slot.clone());
        async move {
            let std = tokio::net::TcpStream::connect(addr).await?.into_std()?;
            *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(std.try_clone()?);
            tokio::net::TcpStream::from_std(std)
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
}

async fn print_next(status: &mut mq_tokio::Subscription) {
    match tokio::time::timeout(Duration::from_secs(5), status.recv()).await {
        Ok(Some(msg)) => println!("{} is {}", msg.topic, String::from_utf8_lossy(&msg.payload)),
        _ => println!("no status change within 5 s"),
    }
}
