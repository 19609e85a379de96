//! Connect over TLS (`mqtts://`), optionally with a private CA and a client
//! certificate, then publish and receive one message at QoS 1, from plain
//! threads.
//!
//! ```text
//! cargo run -p mq-blocking --features tls --example blocking_tls -- URL [CA.pem [CLIENT.pem CLIENT.key]]
//! ```
//!
//! Without a CA file the broker's certificate must chain to Mozilla's roots.
//! mq-tokio's `tls` example shows how to make a CA and a server certificate
//! for a local Mosquitto; then:
//!
//! ```text
//! cargo run -p mq-blocking --features tls --example blocking_tls -- mqtts://127.0.0.1:8883 ca.pem
//! ```

use std::time::Duration;

use mq_blocking::tls::TlsOptions;
use mq_blocking::{connect, ConnectOptions, QoS};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "mqtts://127.0.0.1:8883".into());
    let mut tls = TlsOptions::new();
    if let Some(ca) = args.next() {
        tls = tls.ca_file(ca);
    }
    if let (Some(cert), Some(key)) = (args.next(), args.next()) {
        tls = tls.client_cert(cert, key);
    }
    // Building the configuration up front reports bad files before dialling.
    tls.client_config()?;

    let options = ConnectOptions::new("mq-blocking-tls-example").tls(tls);
    let client = connect(&url, options)?;
    println!("connected to {url} over TLS");

    let mut sub = client.subscribe("mq/tls/#").qos(QoS::AtLeastOnce).send()?;
    let code = client
        .publish("mq/tls/hello", "hello over TLS")
        .qos(QoS::AtLeastOnce)
        .send()?
        .wait()?;
    println!("published: broker said {code}");
    let Some(msg) = sub.recv_timeout(Duration::from_secs(5)) else {
        eprintln!("the message did not come back");
        std::process::exit(1);
    };
    println!(
        "received {} {:?}",
        msg.topic,
        String::from_utf8_lossy(&msg.payload)
    );
    client.disconnect()?;
    Ok(())
}
