//! Topic aliases (MQTT 5.0): after the first message on a topic, the client
//! sends a two-byte alias instead of the topic name, within the broker's
//! Topic Alias Maximum. The same 100 messages on a long topic cost far
//! fewer bytes with aliases on (the default) than off; the receiver sees
//! full topic names either way.
//!
//! `cargo run -p mq-tokio --example topic_aliases -- [mqtt://127.0.0.1:1883]`

use std::time::Duration;

use mq_tokio::{connect, Client, ConnectOptions, QoS, TopicAliasPolicy};

const TOPIC: &str = "mq-example/factory/building-7/line-3/station-12/sensors/vibration/x-axis";

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "mqtt://127.0.0.1:1883".into());

    let mut sub_opts = ConnectOptions::new("mq-aliases-sub");
    sub_opts.mqtt.topic_alias_maximum = 16; // accept aliases from the broker too
    let subscriber = connect(&url, sub_opts).await?;
    let mut messages = subscriber.subscribe(TOPIC).qos(QoS::AtMostOnce).await?;

    let aliased = connect(&url, ConnectOptions::new("mq-aliases-on")).await?;
    let mut off = ConnectOptions::new("mq-aliases-off");
    off.mqtt.topic_alias_policy = TopicAliasPolicy::Off;
    let plain = connect(&url, off).await?;
    println!(
        "broker's Topic Alias Maximum: {}",
        aliased.server_capabilities().topic_alias_maximum
    );

    for (name, client) in [("aliases on", &aliased), ("aliases off", &plain)] {
        let bytes = send_100(client).await?;
        let mut received = 0;
        while let Ok(Some(msg)) =
            tokio::time::timeout(Duration::from_millis(500), messages.recv()).await
        {
            assert_eq!(msg.topic, TOPIC);
            received += 1;
        }
        println!(
            "{name:>11}: 100 messages in {bytes} bytes; {received} received with the full topic"
        );
    }

    for client in [&subscriber, &aliased, &plain] {
        client.disconnect().await?;
    }
    Ok(())
}

/// Publishes 100 small messages to [`TOPIC`]; returns the bytes it took.
async fn send_100(client: &Client) -> Result<u64, mq_tokio::Error> {
    let before = client.stats().bytes_sent;
    for i in 0..100 {
        client.publish(TOPIC, format!("{i}")).await?;
    }
    Ok(client.stats().bytes_sent - before)
}
