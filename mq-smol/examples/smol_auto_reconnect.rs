//! Stays subscribed across broker restarts: prints every connection event,
//! publishes a counter once a second (queued while the broker is away, sent
//! after the reconnect) and prints what comes back. Stop the broker and start
//! it again to watch it reconnect and resubscribe; Ctrl-C to quit.
//!
//! `cargo run -p mq-smol --example smol_auto_reconnect -- [mqtt://127.0.0.1:1883]`

use std::time::Duration;

use mq_smol::{connect, ClientEvent, ConnectOptions, QoS};
use smol::Timer;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "mqtt://127.0.0.1:1883".into());
    let mut options = ConnectOptions::new("mq-smol-auto-reconnect");
    options.auto_reconnect = true;
    options.mqtt.keep_alive = 5;
    options.mqtt.backoff.initial = Duration::from_millis(500);
    options.mqtt.backoff.max = Duration::from_secs(10);

    smol::block_on(async {
        let client = connect(&url, options).await?;
        println!("connected to {url}");

        let mut events = client.events();
        smol::spawn(async move {
            while let Some(event) = events.recv().await {
                match event {
                    ClientEvent::Connected {
                        session_present, ..
                    } => {
                        println!("event: connected (session present: {session_present})")
                    }
                    ClientEvent::ConnectionLost(reason) => println!("event: lost ({reason:?})"),
                    ClientEvent::Reconnecting { delay } => {
                        println!("event: reconnecting in {delay:?}")
                    }
                    other => println!("event: {other:?}"),
                }
            }
        })
        .detach();

        let mut sub = client
            .subscribe("mq/smol-reconnect/#")
            .qos(QoS::AtLeastOnce)
            .await?;
        smol::spawn(async move {
            while let Some(msg) = sub.recv().await {
                println!(
                    "received {} {}",
                    msg.topic,
                    String::from_utf8_lossy(&msg.payload)
                );
            }
        })
        .detach();

        for n in 0u64.. {
            // try_send does not wait for the broker: while it is away the
            // message waits in the client's queue, and the token resolves
            // once it was delivered after the reconnect.
            let token = client
                .publish("mq/smol-reconnect/counter", n.to_string())
                .qos(QoS::AtLeastOnce)
                .try_send()?;
            smol::spawn(async move {
                if let Err(e) = token.await {
                    println!("publish {n} failed: {e}");
                }
            })
            .detach();
            println!(
                "published {n} (connected: {}, queued: {})",
                client.is_connected(),
                client.queued()
            );
            Timer::after(Duration::from_secs(1)).await;
        }
        Ok(())
    })
}
