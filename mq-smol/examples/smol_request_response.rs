//! Request/response (MQTT 5.0) on async-std: a responder task answers on
//! each request's Response Topic, echoing its Correlation Data;
//! `Client::request` sends a request and waits for the matching reply.
//!
//! mq-smol runs on async-std as on smol: the same client, with its driver
//! put on async-std's executor by `Executor::AsyncStd` (feature `async-std`).
//!
//! `cargo run -p mq-smol --features async-std --example smol_request_response -- [mqtt://127.0.0.1:1883]`

use std::time::Duration;

use async_std::task;
use mq_smol::{ConnectOptions, Executor, QoS};

const SERVICE: &str = "mq-example/rpc/reverse";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "mqtt://127.0.0.1:1883".into());
    task::block_on(async {
        // The service: reverses the text it gets.
        let responder = Executor::AsyncStd
            .connect(&url, ConnectOptions::new("mq-smol-rpc-responder"))
            .await?;
        let mut requests = responder.subscribe(SERVICE).qos(QoS::AtLeastOnce).await?;
        task::spawn(async move {
            while let Some(req) = requests.recv().await {
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
                if let Err(e) = reply.await {
                    eprintln!("reply failed: {e}");
                }
            }
        });

        // The caller.
        let client = Executor::AsyncStd
            .connect(&url, ConnectOptions::new("mq-smol-rpc-caller"))
            .await?;
        for text in ["hello", "request/response", "MQTT 5"] {
            let reply = client
                .request(SERVICE, text, Duration::from_secs(5))
                .await?;
            println!("{text:?} -> {:?}", String::from_utf8_lossy(&reply.payload));
        }
        client.disconnect().await?;
        Ok(())
    })
}
