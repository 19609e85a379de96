//! Topic wildcards: `+` matches exactly one level, `#` every level below
//! (and the level itself). Two subscriptions of one client, each a stream
//! of its own, see different parts of the same traffic.
//!
//! `cargo run -p mq-smol --example smol_wildcards -- [mqtt://127.0.0.1:1883]`

use std::time::Duration;

use mq_smol::{connect, ConnectOptions, QoS, Subscription};
use smol::future::FutureExt;
use smol::Timer;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "mqtt://127.0.0.1:1883".into());
    smol::block_on(async {
        let client = connect(&url, ConnectOptions::new("mq-smol-wildcards")).await?;

        let mut temperatures = client
            .subscribe("mq-example/home/+/temperature")
            .qos(QoS::AtLeastOnce)
            .await?;
        let mut everything = client
            .subscribe("mq-example/home/#")
            .qos(QoS::AtLeastOnce)
            .await?;

        for (topic, value) in [
            ("mq-example/home", "online"),
            ("mq-example/home/kitchen/temperature", "21.5"),
            ("mq-example/home/kitchen/humidity", "40"),
            ("mq-example/home/garage/temperature", "12.0"),
            ("mq-example/home/garage/door/state", "closed"),
        ] {
            client.publish(topic, value).qos(QoS::AtLeastOnce).await?;
        }

        print_arrivals("home/+/temperature", &mut temperatures).await;
        print_arrivals("home/#", &mut everything).await;
        client.disconnect().await?;
        Ok(())
    })
}

/// Prints what a subscription received, until nothing more comes for half a second.
async fn print_arrivals(name: &str, subscription: &mut Subscription) {
    println!("{name}:");
    let quiet = || async {
        Timer::after(Duration::from_millis(500)).await;
        None
    };
    while let Some(msg) = subscription.recv().or(quiet()).await {
        let payload = String::from_utf8_lossy(&msg.payload);
        println!("  {} = {payload}", msg.topic);
    }
}
