//! Connect over TLS (`mqtts://`), optionally with a private CA and a client
//! certificate, then publish and receive one message at QoS 1.
//!
//! ```text
//! cargo run -p mq-tokio --features tls --example tls -- URL [CA.pem [CLIENT.pem CLIENT.key]]
//! ```
//!
//! Without a CA file the broker's certificate must chain to Mozilla's roots.
//! To try it against a local Mosquitto, make a CA and a server certificate
//! for 127.0.0.1:
//!
//! ```text
//! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
//!     -days 30 -subj /CN=demo-ca -keyout ca.key -out ca.pem
//! openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
//!     -subj /CN=127.0.0.1 -keyout server.key -out server.csr
//! printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > san.ext
//! openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
//!     -days 30 -extfile san.ext -out server.pem
//! printf 'listener 8883 127.0.0.1\nallow_anonymous true\ncertfile server.pem\nkeyfile server.key\n' > tls.conf
//! mosquitto -c tls.conf
//! cargo run -p mq-tokio --features tls --example tls -- mqtts://127.0.0.1:8883 ca.pem
//! ```
//!
//! For mutual TLS, sign a client certificate with the same CA the same way,
//! add `cafile ca.pem` and `require_certificate true` to `tls.conf`, and pass
//! the client certificate and key after the CA file.

use std::time::Duration;

use mq_tokio::tls::TlsOptions;
use mq_tokio::{connect, ConnectOptions, QoS};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
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

    let mut options = ConnectOptions::new("mq-tls-example");
    options.tls = tls;
    let client = connect(&url, options).await?;
    println!("connected to {url} over TLS");

    let mut sub = client.subscribe("mq/tls/#").qos(QoS::AtLeastOnce).await?;
    let code = client
        .publish("mq/tls/hello", "hello over TLS")
        .qos(QoS::AtLeastOnce)
        .await?;
    println!("published: broker said {code}");
    match tokio::time::timeout(Duration::from_secs(5), sub.recv()).await {
        Ok(Some(msg)) => println!(
            "received {} {:?}",
            msg.topic,
            String::from_utf8_lossy(&msg.payload)
        ),
        _ => {
            eprintln!("the message did not come back");
            std::process::exit(1);
        }
    }
    client.disconnect().await?;
    Ok(())
}
