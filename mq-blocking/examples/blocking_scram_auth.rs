//! Enhanced authentication (MQTT 5.0 AUTH) with SCRAM-SHA-256, then a
//! re-authentication on the live connection, from plain threads.
//!
//! `cargo run -p mq-blocking --features scram --example blocking_scram_auth -- [URL] [USER] [PASSWORD]`
//!
//! The broker must offer SCRAM-SHA-256 (EMQX, HiveMQ, VerneMQ with a plugin...).
//! Mosquitto 2.0 has no SCRAM: it refuses the CONNECT with
//! 0x8C Bad authentication method, which this example reports as such.

use mq_blocking::scram::{os_nonce, ScramSha256};
use mq_blocking::{connect, AuthenticatorFactory, ConnectOptions, DisconnectReason, Error};

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "mqtt://127.0.0.1:1883".into());
    let user = args.next().unwrap_or_else(|| "user".into());
    let password = args.next().unwrap_or_else(|| "pencil".into());

    // A new authenticator for every connection (reconnects included).
    let options =
        ConnectOptions::new("mq-blocking-scram-example").authenticator(AuthenticatorFactory::new(
            move || Box::new(ScramSha256::new(user.clone(), password.clone(), os_nonce)),
        ));

    match connect(&url, options) {
        Ok(client) => {
            println!("authenticated with SCRAM-SHA-256 at {url}");
            client.reauthenticate()?;
            println!("re-authenticated on the same connection");
            client.disconnect()?;
        }
        Err(Error::Connect(reason)) => match *reason {
            DisconnectReason::Refused(connack) => {
                println!("the broker refused: {}", connack.reason_code);
                println!("(a broker without SCRAM-SHA-256 answers 0x8C Bad authentication method)");
            }
            other => println!("connection failed: {other:?}"),
        },
        Err(e) => return Err(e),
    }
    Ok(())
}
