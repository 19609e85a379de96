//! A persistent session: the broker keeps the subscription of a client that
//! went away and queues QoS 1 and 2 messages for it; the same client
//! identifier picks them up on its next run.
//!
//! Run it twice. Each run prints what was queued while it was away, then
//! (re)subscribes, leaves, and has a second client publish three messages
//! "while it is gone" — which the next run receives.
//!
//! `cargo run -p mq-smol --example smol_persistent -- [mqtt://127.0.0.1:1883]`

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mq_smol::{connect, ConnectOptions, QoS};
use smol::future::FutureExt;
use smol::Timer;

const TOPIC: &str = "mq-example/persistent/inbox";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "mqtt://127.0.0.1:1883".into());
    smol::block_on(async {
        // Resume whatever session the broker holds for this identifier, and
        // ask it to keep the session for an hour after we disconnect.
        let opts = ConnectOptions::new("mq-smol-persistent-example")
            .clean_start(false)
            .session_expiry(Duration::from_secs(3600));
        let client = connect(&url, opts).await?;

        // Messages of a resumed session arrive before any subscribe call of
        // this run: they come out of the unrouted stream.
        let mut queued = client.unrouted_messages().await?;
        let quiet = || async {
            Timer::after(Duration::from_secs(1)).await;
            None
        };
        let mut count = 0;
        while let Some(msg) = queued.recv().or(quiet()).await {
            count += 1;
            println!(
                "queued while away: {} at {:?}",
                String::from_utf8_lossy(&msg.payload),
                msg.qos
            );
        }
        if count == 0 {
            println!("nothing was queued (first run?)");
        }

        // Subscribing again to the same filter is harmless; it creates the
        // subscription on the first run.
        client.subscribe(TOPIC).qos(QoS::ExactlyOnce).await?;
        client.disconnect().await?;
        println!("left; the broker keeps the session");

        // Meanwhile, someone sends us mail.
        let sender = connect(&url, ConnectOptions::new("mq-smol-persistent-sender")).await?;
        let stamp = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
        for (i, qos) in [QoS::AtLeastOnce, QoS::ExactlyOnce, QoS::ExactlyOnce]
            .into_iter()
            .enumerate()
        {
            let text = format!("message {} sent at {stamp}", i + 1);
            sender.publish(TOPIC, text).qos(qos).await?;
        }
        sender.disconnect().await?;
        println!("3 messages wait for the next run");
        Ok(())
    })
}
