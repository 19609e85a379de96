//! The typed errors of the client, one by one: a bad URL, a refused TCP
//! connection, an invalid topic name and filter, a request on 3.1.1, a
//! request nobody answers, use after disconnect — and, when the broker
//! announces such limits, a packet too large and a QoS it does not support
//! (start Mosquitto with `max_packet_size 1024` and `max_qos 1` to see them).
//!
//! `cargo run -p mq-blocking --example blocking_errors -- [mqtt://127.0.0.1:1883]`

use std::time::Duration;

use mq_blocking::{connect, CommandError, ConnectOptions, Error, ProtocolVersion, QoS};

fn main() -> Result<(), Error> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "mqtt://127.0.0.1:1883".into());

    show(
        "bad URL",
        connect("foo://127.0.0.1", ConnectOptions::new("e")).map(drop),
    );
    show(
        "refused connection",
        connect("mqtt://127.0.0.1:1", ConnectOptions::new("e")).map(drop),
    );

    let client = connect(&url, ConnectOptions::new("mq-blocking-errors"))?;
    // A publish can fail when handed over (`send`) or later (`wait`).
    let publish = |topic: &str, payload: Vec<u8>, qos: QoS| {
        client
            .publish(topic, payload)
            .qos(qos)
            .send()
            .and_then(|handle| handle.wait())
            .map(drop)
    };
    show(
        "invalid topic name",
        publish("a/+/b", b"x".to_vec(), QoS::AtMostOnce),
    );
    show(
        "invalid topic filter",
        client
            .subscribe("a/#/b")
            .qos(QoS::AtMostOnce)
            .send()
            .map(drop),
    );

    let caps = client.server_capabilities();
    match caps.maximum_packet_size {
        Some(max) => {
            let payload = vec![0u8; max as usize + 1];
            show(
                "packet too large",
                publish("mq-example/big", payload, QoS::AtMostOnce),
            );
        }
        None => println!("{:>22}: this broker announces no limit", "packet too large"),
    }
    if caps.maximum_qos < QoS::ExactlyOnce {
        let result = publish("mq-example/q", b"x".to_vec(), QoS::ExactlyOnce);
        show("QoS not supported", result);
    } else {
        println!("{:>22}: this broker takes QoS 2", "QoS not supported");
    }
    show(
        "request nobody answers",
        client
            .request("mq-example/nobody", "?", Duration::from_millis(300))
            .map(drop),
    );
    client.disconnect()?;
    show(
        "after disconnect",
        publish("mq-example/t", b"x".to_vec(), QoS::AtMostOnce),
    );

    let old = ConnectOptions::new("mq-blocking-errors-311").protocol_version(ProtocolVersion::V311);
    let v311 = connect(&url, old)?;
    show(
        "request on 3.1.1",
        v311.request("mq-example/t", "?", Duration::from_secs(1))
            .map(drop),
    );
    v311.disconnect()?;
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
