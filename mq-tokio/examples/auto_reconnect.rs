//! Auto-reconnect: the client publishes a heartbeat every second and prints
//! every connection event. Stop and restart the broker while it runs:
//! the client backs off, reconnects, resubscribes, and the heartbeats
//! published meanwhile go out once it is back.
//!
//! `cargo run -p mq-tokio --example auto_reconnect -- [mqtt://127.0.0.1:1883] [seconds, default 60]`

use std::time::Duration;

use mq_tokio::{connect, ConnectOptions, QoS};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "mqtt://127.0.0.1:1883".into());
    let seconds: u64 = args.next().map_or(Ok(60), |s| s.parse())?;

    let mut opts = ConnectOptions::new("mq-auto-reconnect");
    opts.mqtt.keep_alive = 5; // notice a dead broker within about 8 s
    opts.mqtt.backoff.initial = Duration::from_millis(500);
    opts.mqtt.backoff.max = Duration::from_secs(5);
    let client = connect(&url, opts).await?;
    println!("connected to {url}; restart the broker now and then (running {seconds} s)");

    let mut events = client.events();
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            println!("event: {event:?}");
        }
    });
    let mut heartbeats = client
        .subscribe("mq-example/heartbeat")
        .qos(QoS::AtLeastOnce)
        .await?;
    tokio::spawn(async move {
        while let Some(msg) = heartbeats.recv().await {
            println!("received {}", String::from_utf8_lossy(&msg.payload));
        }
    });

    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    let mut publishes = Vec::new();
    for n in 0..seconds {
        ticks.tick().await;
        // Each publish completes when the broker acknowledges it, possibly
        // after a reconnect; spawn it so the heartbeat keeps its pace.
        let client = client.clone();
        publishes.push(tokio::spawn(async move {
            let result = client
                .publish("mq-example/heartbeat", format!("heartbeat {n}"))
                .qos(QoS::AtLeastOnce)
                .await;
            println!("heartbeat {n}: {result:?}");
        }));
    }
    for publish in publishes {
        publish.await?;
    }
    client.disconnect().await?;
    Ok(())
}
