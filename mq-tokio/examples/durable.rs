//! A durable session: what this program publishes at QoS 1 survives a crash
//! (kill it with `kill -9` mid-run, run it again: the next run sends what
//! the first left, and says what became of it), and what it receives is
//! acknowledged only once handled.
//!
//! `cargo run -p mq-tokio --example durable -- [mqtt://127.0.0.1:1883] [store dir]`

use std::sync::Arc;
use std::time::Duration;

use mq_tokio::store::FileStore;
use mq_tokio::{ConnectOptions, QoS};
use tokio::time::timeout;

const CLIENT_ID: &str = "mq-durable-example";

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "mqtt://127.0.0.1:1883".into());
    let dir = args
        .next()
        .map_or_else(|| std::env::temp_dir().join("mq-durable"), Into::into);

    let mut opts = ConnectOptions::new(CLIENT_ID);
    // Resume the broker's session and ask it to keep it for an hour.
    opts.mqtt.clean_start = false;
    opts.mqtt.session_expiry_interval = 3600;
    // Our side of the session, on disk.
    opts.session_store = Some(Arc::new(FileStore::open(&dir, CLIENT_ID)?));
    // PUBACK only once a message is handled.
    opts.manual_acks = true;

    // Handlers before CONNECT: a resumed session's messages come right after CONNACK.
    let mut prepared = mq_tokio::prepare(&url, opts).await?;
    let mut inbox = prepared
        .subscribe("mq-example/durable/#", QoS::AtLeastOnce)
        .await?;
    let mut restored = prepared.client().restored_outcomes();
    let client = prepared.connect().await?;

    // Publishes an earlier run queued and did not see finish.
    while let Ok(Some(outcome)) = timeout(Duration::from_millis(500), restored.recv()).await {
        let text = String::from_utf8_lossy(&outcome.publish.payload);
        println!("from an earlier run: {text:?}: {:?}", outcome.result);
    }

    // Each is on disk before it goes out, and off it once the broker has it.
    for i in 1..=3 {
        let text = format!("message {i} of pid {}", std::process::id());
        client
            .publish("mq-example/durable/news", text)
            .qos(QoS::AtLeastOnce)
            .await?;
    }

    // Handle, then acknowledge.
    while let Ok(Some(msg)) = timeout(Duration::from_secs(1), inbox.recv()).await {
        println!("received {:?}", String::from_utf8_lossy(&msg.payload));
        client.ack(&msg).await?;
    }
    client.disconnect().await?;
    Ok(())
}
