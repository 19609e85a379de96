//! MQTT 5.0 properties: what the broker announced in CONNACK, and a message
//! carrying User Properties (names may repeat; order is kept), Content
//! Type, Response Topic, Correlation Data, a Message Expiry Interval and
//! the UTF-8 payload flag, received on a subscription with a Subscription
//! Identifier.
//!
//! `cargo run -p mq-tokio --example v5_properties -- [mqtt://127.0.0.1:1883]`

use std::time::Duration;

use mq_tokio::{connect, subscribe_packet, ConnectOptions, QoS, SubscriptionOptions};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "mqtt://127.0.0.1:1883".into());

    let mut opts = ConnectOptions::new("mq-v5-properties");
    opts.mqtt.user_properties = vec![("app".into(), "mq example".into())];
    let client = connect(&url, opts).await?;
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

    let mut packet = subscribe_packet([(
        "mq-example/props/#",
        SubscriptionOptions {
            qos: QoS::AtLeastOnce,
            ..Default::default()
        },
    )]);
    packet.properties.subscription_identifiers = vec![42];
    let mut sub = client.subscribe_with(packet).await?;

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
        .await?;

    let msg = tokio::time::timeout(Duration::from_secs(5), sub.recv())
        .await?
        .ok_or("the subscription ended")?;
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

    client.disconnect().await?;
    Ok(())
}
