//! Topic wildcards: `+` matches exactly one level, `#` every level below
//! (and the level itself). Two subscriptions of one client, each an
//! iterator of its own, see different parts of the same traffic.
//!
//! `cargo run -p mq-blocking --example blocking_wildcards -- [mqtt://127.0.0.1:1883]`

use std::time::Duration;

use mq_blocking::{connect, ConnectOptions, QoS, Subscription};

fn main() -> Result<(), mq_blocking::Error> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "mqtt://127.0.0.1:1883".into());
    let client = connect(&url, ConnectOptions::new("mq-blocking-wildcards"))?;

    let mut temperatures = client
        .subscribe("mq-example/home/+/temperature")
        .qos(QoS::AtLeastOnce)
        .send()?;
    let mut everything = client
        .subscribe("mq-example/home/#")
        .qos(QoS::AtLeastOnce)
        .send()?;

    for (topic, value) in [
        ("mq-example/home", "online"),
        ("mq-example/home/kitchen/temperature", "21.5"),
        ("mq-example/home/kitchen/humidity", "40"),
        ("mq-example/home/garage/temperature", "12.0"),
        ("mq-example/home/garage/door/state", "closed"),
    ] {
        client
            .publish(topic, value)
            .qos(QoS::AtLeastOnce)
            .send()?
            .wait()?;
    }

    print_arrivals("home/+/temperature", &mut temperatures);
    print_arrivals("home/#", &mut everything);
    client.disconnect()?;
    Ok(())
}

/// Prints what a subscription received, until nothing more comes for half a second.
fn print_arrivals(name: &str, subscription: &mut Subscription) {
    println!("{name}:");
    while let Some(msg) = subscription.recv_timeout(Duration::from_millis(500)) {
        let payload = String::from_utf8_lossy(&msg.payload);
        println!("  {} = {payload}", msg.topic);
    }
}
