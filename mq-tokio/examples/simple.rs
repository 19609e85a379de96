//! Subscribe, publish at QoS 0, 1 and 2, print what arrives, disconnect.
//!
//! `cargo run -p mq-tokio --example simple -- [mqtt://127.0.0.1:1883]`

use std::time::Duration;

use mq_tokio::{connect, ConnectOptions, QoS};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "mqtt://127.0.0.1:1883".into());
    let client = connect(&url, ConnectOptions::new("mq-simple")).await?;
    println!(
        "connected to {url} with MQTT {:?}",
        client.protocol_version()
    );

    let mut sub = client
        .subscribe("mq/simple/#")
        .qos(QoS::ExactlyOnce)
        .await?;
    for (qos, text) in [
        (QoS::AtMostOnce, "zero"),
        (QoS::AtLeastOnce, "one"),
        (QoS::ExactlyOnce, "two"),
    ] {
        let code = client
            .publish(format!("mq/simple/{text}"), text)
            .qos(qos)
            .await?;
        println!("published {text:>4} at {qos:?}: broker said {code}");
    }
    for _ in 0..3 {
        match tokio::time::timeout(Duration::from_secs(5), sub.recv()).await {
            Ok(Some(msg)) => println!(
                "received {} {:?} at {:?}",
                msg.topic,
                String::from_utf8_lossy(&msg.payload),
                msg.qos
            ),
            _ => {
                eprintln!("a message did not arrive");
                std::process::exit(1);
            }
        }
    }
    client.disconnect().await?;
    println!("disconnected");
    Ok(())
}
