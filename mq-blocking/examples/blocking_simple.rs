//! Subscribe, publish at QoS 0, 1 and 2 from plain threads, print what arrives.
//!
//! `cargo run -p mq-blocking --example blocking_simple -- [mqtt://127.0.0.1:1883]`

use std::time::Duration;

use mq_blocking::{connect, ConnectOptions, QoS};

fn main() -> Result<(), mq_blocking::Error> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "mqtt://127.0.0.1:1883".into());
    let client = connect(&url, ConnectOptions::new("mq-blocking-simple"))?;
    println!(
        "connected to {url} with MQTT {:?}",
        client.protocol_version()
    );

    let mut sub = client
        .subscribe("mq/blocking/#")
        .qos(QoS::ExactlyOnce)
        .send()?;
    for (qos, text) in [
        (QoS::AtMostOnce, "zero"),
        (QoS::AtLeastOnce, "one"),
        (QoS::ExactlyOnce, "two"),
    ] {
        let code = client
            .publish(format!("mq/blocking/{text}"), text)
            .qos(qos)
            .send()?
            .wait()?;
        println!("published {text:>4} at {qos:?}: broker said {code}");
    }
    for _ in 0..3 {
        let Some(msg) = sub.recv_timeout(Duration::from_secs(5)) else {
            eprintln!("a message did not arrive");
            std::process::exit(1);
        };
        println!(
            "received {} {:?} at {:?}",
            msg.topic,
            String::from_utf8_lossy(&msg.payload),
            msg.qos
        );
    }
    client.disconnect()?;
    println!("disconnected");
    Ok(())
}
