//! Request/response (MQTT 5.0) on plain threads: a responder thread answers
//! on each request's Response Topic, echoing its Correlation Data;
//! `Client::request` sends a request and blocks for the matching reply.
//!
//! `cargo run -p mq-blocking --example blocking_request_response -- [mqtt://127.0.0.1:1883]`

use std::thread;
use std::time::Duration;

use mq_blocking::{connect, ConnectOptions, QoS};

const SERVICE: &str = "mq-example/rpc/reverse";

fn main() -> Result<(), mq_blocking::Error> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "mqtt://127.0.0.1:1883".into());

    // The service: reverses the text it gets.
    let responder = connect(&url, ConnectOptions::new("mq-blocking-rpc-responder"))?;
    let requests = responder.subscribe(SERVICE).qos(QoS::AtLeastOnce).send()?;
    thread::spawn(move || {
        for req in requests {
            let Some(reply_to) = req.properties.response_topic.clone() else {
                continue; // not a request
            };
            let answer: String = String::from_utf8_lossy(&req.payload)
                .chars()
                .rev()
                .collect();
            let mut reply = responder.publish(reply_to, answer).qos(QoS::AtLeastOnce);
            if let Some(data) = req.properties.correlation_data.clone() {
                reply = reply.correlation_data(data);
            }
            if let Err(e) = reply.send().and_then(|handle| handle.wait()) {
                eprintln!("reply failed: {e}");
            }
        }
    });

    // The caller.
    let client = connect(&url, ConnectOptions::new("mq-blocking-rpc-caller"))?;
    for text in ["hello", "request/response", "MQTT 5"] {
        let reply = client.request(SERVICE, text, Duration::from_secs(5))?;
        println!("{text:?} -> {:?}", String::from_utf8_lossy(&reply.payload));
    }
    client.disconnect()?;
    Ok(())
}
