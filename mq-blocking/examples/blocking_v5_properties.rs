//! MQTT 5.0 properties: what the broker announced in CONNACK, and a message
//! carrying User Properties (names may repeat; order is kept), Content
//! Type, Response Topic, Correlation Data, a Message Expiry Interval and
//! the UTF-8 payload flag, received on a subscription with a Subscription
//! Identifier.
//!
//! `cargo run -p mq-blocking --example blocking_v5_properties -- [mqtt://127.0.0.1:1883]`

use std::time::Duration;

use mq_blocking::{connect, ConnectOptions, QoS};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "mqtt://127.0.0.1:1883".into());

    let opts = ConnectOptions::new("mq-blocking-v5-properties").user_property("app", "mq example");
    let client = connect(&url, opts)?;
    let caps = client.server_capabilities();
    println!(
        "connected with MQTT {:?}; the broker announced:",
        client.protocol_version()
    );
    println!("  receive maximum      {}", caps.receive_maximum);
    println!("  maximum QoS          {:?}", caps.maximum_qos);
    println!("  retain available     {}", caps.retain_available);
    println!("  maximum packet size  {:?}", caps.maximum_packet_size);
    println!("  topic alias maximum  {}", caps.topic_alias_maximum);
    println!(
        "  shared subscriptions {}",
        caps.shared_subscription_available
    );

    let mut sub = client
        .subscribe("mq-example/props/#")
        .qos(QoS::AtLeastOnce)
        .identifier(42)
        .send()?;

    client
        .publish("mq-example/props/reading", r#"{"celsius": 21.5}"#)
        .qos(QoS::AtLeastOnce)
        .user_property("site", "lab")
        .user_property("tag", "indoor")
        .user_property("tag", "calibrated")
        .content_type("application/json")
        .response_topic("mq-example/props/ack")
        .correlation_data(&b"reading-0001"[..])
        .message_expiry(300)
        .utf8_payload()
        .send()?
        .wait()?;

    let msg = sub
        .recv_timeout(Duration::from_secs(5))
        .ok_or("no message within 5 s")?;
    let p = &msg.properties;
    println!(
        "received {} {}",
        msg.topic,
        String::from_utf8_lossy(&msg.payload)
    );
    for (name, value) in &p.user_properties {
        println!("  user property     {name} = {value}");
    }
    println!("  content type      {:?}", p.content_type);
    println!("  response topic    {:?}", p.response_topic);
    println!("  correlation data  {:?}", p.correlation_data);
    println!("  expires in        {:?} s", p.message_expiry_interval);
    println!("  payload format    {:?}", p.payload_format_indicator);
    println!("  subscription ids  {:?}", p.subscription_identifiers);

    client.disconnect()?;
    Ok(())
}
