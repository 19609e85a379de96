//! A durable session on plain threads: what this program publishes at QoS 1
//! survives a crash, and what it receives is acknowledged only once handled.
//! See mq-tokio's `durable` example.
//!
//! `cargo run -p mq-blocking --example blocking_durable -- [mqtt://127.0.0.1:1883] [store dir]`

use std::sync::Arc;
use std::time::Duration;

use mq_blocking::store::FileStore;
use mq_blocking::{ConnectOptions, QoS};

const CLIENT_ID: &str = "mq-blocking-durable-example";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "mqtt://127.0.0.1:1883".into());
    let dir = args.next().map_or_else(
        || std::env::temp_dir().join("mq-blocking-durable"),
        Into::into,
    );

    let mut opts = ConnectOptions::new(CLIENT_ID);
    opts.mqtt.clean_start = false;
    opts.mqtt.session_expiry_interval = 3600;
    opts.session_store = Some(Arc::new(FileStore::open(&dir, CLIENT_ID)?));
    opts.manual_acks = true;

    let mut prepared = mq_blocking::prepare(&url, opts)?;
    let mut inbox = prepared.subscribe("mq-example/durable/#", QoS::AtLeastOnce)?;
    let mut restored = prepared.restored_outcomes();
    let client = prepared.connect()?;

    while let Some(outcome) = restored.recv_timeout(Duration::from_millis(500)) {
        let text = String::from_utf8_lossy(&outcome.publish.payload);
        println!("from an earlier run: {text:?}: {:?}", outcome.result);
    }
    for i in 1..=3 {
        let text = format!("message {i} of pid {}", std::process::id());
        client
            .publish("mq-example/durable/news", text)
            .qos(QoS::AtLeastOnce)
            .send()?
            .wait()?;
    }
    while let Some(msg) = inbox.recv_timeout(Duration::from_secs(1)) {
        println!("received {:?}", String::from_utf8_lossy(&msg.payload));
        client.ack(&msg)?;
    }
    client.disconnect()?;
    Ok(())
}
