//! Last Will and Testament: a device registers a will ("offline", retained)
//! when it connects; when its connection dies without a DISCONNECT, the
//! broker publishes the will for it. Here the "network failure" is the
//! device's socket being shut down under it.
//!
//! `cargo run -p mq-blocking --example blocking_lwt -- [mqtt://127.0.0.1:1883]`

use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mq_blocking::{
    connect, connect_with, BrokerUrl, ConnectOptions, Duplex, QoS, Subscription, Will,
};

const STATUS: &str = "mq-example/devices/sensor-7/status";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "mqtt://127.0.0.1:1883".into());

    // Someone who watches device status.
    let watcher = connect(&url, ConnectOptions::new("mq-blocking-lwt-watcher"))?;
    let mut status = watcher
        .subscribe("mq-example/devices/+/status")
        .qos(QoS::AtLeastOnce)
        .send()?;

    // The device: its will says "offline"; it announces "online" itself.
    let opts = ConnectOptions::new("mq-blocking-lwt-sensor-7")
        .will(
            Will::new(STATUS, "offline")
                .qos(QoS::AtLeastOnce)
                .retain(true),
        )
        .auto_reconnect(false);
    // Keep a second handle on the device's socket, to break it later.
    let socket: Arc<Mutex<Option<TcpStream>>> = Arc::default();
    let broker = BrokerUrl::parse(&url)?;
    let slot = socket.clone();
    let connector = move || {
        let stream = TcpStream::connect((broker.host.as_str(), broker.port))?;
        *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(stream.try_clone()?);
        Duplex::tcp(stream)
    };
    let device = connect_with(connector, opts)?;
    device
        .publish(STATUS, "online")
        .qos(QoS::AtLeastOnce)
        .retain(true)
        .send()?
        .wait()?;
    print_next(&mut status);

    println!("cutting the device's connection...");
    if let Some(s) = socket.lock().unwrap_or_else(|e| e.into_inner()).take() {
        s.shutdown(Shutdown::Both)?;
    }
    print_next(&mut status);

    // Clear the retained status so the next run starts clean.
    watcher.publish(STATUS, "").retain(true).send()?.wait()?;
    watcher.disconnect()?;
    Ok(())
}

fn print_next(status: &mut Subscription) {
    match status.recv_timeout(Duration::from_secs(5)) {
        Some(msg) => println!("{} is {}", msg.topic, String::from_utf8_lossy(&msg.payload)),
        None => println!("no status change within 5 s"),
    }
}
