//! The typed errors of the client, one by one: a bad URL, a refused TCP
//! connection, an invalid topic name and filter, a request on 3.1.1, a
//! request nobody answers, use after disconnect — and, when the broker
//! announces such limits, a packet too large and a QoS it does not support
//! (start Mosquitto with `max_packet_size 1024` and `max_qos 1` to see them).
//!
//! `cargo run -p mq-tokio --example errors -- [mqtt://127.0.0.1:1883]`

use std::time::Duration;

use mq_tokio::{connect, CommandError, ConnectOptions, Error, ProtocolVersion, QoS};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "mqtt://127.0.0.1:1883".into());

    show(
        "bad URL",
        connect("foo://127.0.0.1", ConnectOptions::new("e"))
            .await
            .map(drop),
    );
    show(
        "refused connection",
        connect("mqtt://127.0.0.1:1", ConnectOptions::new("e"))
            .await
            .map(drop),
    );

    let client = connect(&url, ConnectOptions::new("mq-errors")).await?;
    show(
        "invalid topic name",
        client.publish("a/+/b", "x").await.map(drop),
    );
    show(
        "invalid topic filter",
        client
            .subscribe("a/#/b")
            .qos(QoS::AtMostOnce)
            .await
            .map(drop),
    );

    let caps = client.server_capabilities();
    match caps.maximum_packet_size {
        Some(max) => {
            let payload = vec![0u8; max as usize + 1];
            show(
                "packet too large",
                client.publish("mq-example/big", payload).await.map(drop),
            );
        }
        None => println!("{:>22}: this broker announces no limit", "packet too large"),
    }
    if caps.maximum_qos < QoS::ExactlyOnce {
        let result = client
            .publish("mq-example/q", "x")
            .qos(QoS::ExactlyOnce)
            .await;
        show("QoS not supported", result.map(drop));
    } else {
        println!("{:>22}: this broker takes QoS 2", "QoS not supported");
    }
    show(
        "request nobody answers",
        client
            .request("mq-example/nobody", "?", Duration::from_millis(300))
            .await
            .map(drop),
    );
    client.disconnect().await?;
    show(
        "after disconnect",
        client.publish("mq-example/t", "x").await.map(drop),
    );

    let mut old = ConnectOptions::new("mq-errors-311");
    old.mqtt.protocol_version = ProtocolVersion::V311;
    let v311 = connect(&url, old).await?;
    show(
        "request on 3.1.1",
        v311.request("mq-example/t", "?", Duration::from_secs(1))
            .await
            .map(drop),
    );
    v311.disconnect().await?;
    Ok(())
}

/// Prints what went wrong, naming the variant a program would match on.
fn show(what: &str, result: Result<(), Error>) {
    let kind = match &result {
        Ok(()) => "no error".to_string(),
        Err(Error::Url(_)) => "Error::Url".into(),
        Err(Error::Io(e)) => format!("Error::Io({:?})", e.kind()),
        Err(Error::Command(CommandError::InvalidTopic(_))) => "Error::Command(InvalidTopic)".into(),
        Err(Error::Command(CommandError::PacketTooLarge { .. })) => {
            "Error::Command(PacketTooLarge)".into()
        }
        Err(Error::Command(CommandError::QoSNotSupported { .. })) => {
            "Error::Command(QoSNotSupported)".into()
        }
        Err(Error::Command(CommandError::NeedsV5(_))) => "Error::Command(NeedsV5)".into(),
        Err(Error::Timeout) => "Error::Timeout".into(),
        Err(Error::Closed) => "Error::Closed".into(),
        Err(_) => "another error".into(),
    };
    match result {
        Ok(()) => println!("{what:>22}: {kind}"),
        Err(e) => println!("{what:>22}: {kind}: {e}"),
    }
}
