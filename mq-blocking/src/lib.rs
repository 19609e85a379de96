//! # mq-blocking
//!
//! An MQTT 3.1.1 and 5.0 client for programs without an async runtime: plain
//! threads and blocking calls. It is the same client as `mq-tokio` and
//! `mq-smol` (the sans-IO core [`mq_proto`], mq-common's engine and driver),
//! run on one I/O thread per client. No tokio inside.
//!
//! ```no_run
//! use mq_blocking::{connect, ConnectOptions, QoS};
//!
//! # fn run() -> Result<(), mq_blocking::Error> {
//! let client = connect("mqtt://127.0.0.1:1883", ConnectOptions::new("demo"))?;
//! let mut sub = client.subscribe("greetings/#").qos(QoS::AtLeastOnce).send()?;
//! client.publish("greetings/world", "hello").qos(QoS::AtLeastOnce).send()?.wait()?;
//! if let Some(msg) = sub.next() {
//!     println!("{}: {:?}", msg.topic, msg.payload);
//! }
//! client.disconnect()?;
//! # Ok(()) }
//! ```
//!
//! ## Transports and features
//!
//! | URL | transport | cargo feature |
//! | --- | --- | --- |
//! | `mqtt://`, `tcp://` | TCP | always |
//! | `mqtts://`, `ssl://`, `tls://` | TLS over TCP (rustls, `tls::TlsOptions` in `options.tls`) | `tls` (default) |
//! | `ws://host:port/path` | WebSocket, subprotocol `mqtt` | `websocket` |
//! | `wss://host:port/path` | WebSocket over TLS (`options.tls`) | `websocket` and `tls` |
//! | anything | your own [`Duplex`] ([`connect_with`]) | always |
//!
//! A URL whose feature is off fails with [`Error::FeatureDisabled`]. A
//! WebSocket path defaults to `/mqtt`. `scram` turns on SCRAM-SHA-256
//! enhanced authentication (the `scram` module: `ScramSha256`, and
//! `os_nonce` for its client nonces).
//!
//! ## Guides
//!
//! In the repository's `docs/` directory: [getting started], [running in
//! production][running in production], [troubleshooting], [durable
//! sessions][durable sessions], [migrating from rumqttc][migrating from
//! rumqttc] and [how mq is built].
//!
//! [getting started]: https://github.com/mq-rs/mq/blob/main/docs/getting-started.md
//! [running in production]: https://github.com/mq-rs/mq/blob/main/docs/production.md
//! [troubleshooting]: https://github.com/mq-rs/mq/blob/main/docs/troubleshooting.md
//! [durable sessions]: https://github.com/mq-rs/mq/blob/main/docs/persistence.md
//! [migrating from rumqttc]: https://github.com/mq-rs/mq/blob/main/docs/migrating-from-rumqttc.md
//! [how mq is built]: https://github.com/mq-rs/mq/blob/main/docs/internals.md
//!
//! ## How it is built
//!
//! A thread executor of mq-common's client: [`connect`] starts mq-smol's
//! runtime with `mq_smol::Executor::Thread`, so mq-common's async driver
//! runs on one dedicated I/O thread per client (`async_io::block_on`:
//! sockets registered with async-io's reactor, reads straight into the
//! engine's buffer, one resettable timer; no reader thread, no polling).
//! The handles in `client.rs` wrap mq-common's [`Client`](mq_common::Client)
//! and block the calling thread on its channels (parked, woken by the
//! channel; a timeout is the park's own, so waiting never touches the I/O
//! thread's reactor); [`Client::events`] is
//! mq-common's [`Events`]. A user's [`Connector`] is blocking code, so it
//! runs on a blocking-pool thread, bounded by the connect timeout.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod client;
mod park;
#[cfg(feature = "tls")]
pub mod tls {
    //! TLS settings (feature `tls`): mq-common's [`TlsOptions`], shared by
    //! every adapter, set in [`ConnectOptions::tls`](crate::ConnectOptions).
    pub use mq_common::tls::*;
}
mod transport;

use std::sync::Arc;

pub use client::{Client, Prepared, PublishBuilder, PublishHandle, RestoredOutcomes, Subscription};
pub use mq_common::api::*;
pub use mq_smol::Stream;
pub use transport::{Connector, Duplex};

use mq_smol::Executor;
use park::block_on;

/// Connects to the broker at `url` and returns once the first CONNACK
/// accepted the connection; the first failure is returned, later ones are
/// retried (`options.auto_reconnect`).
///
/// `url` is `mqtt://` or `tcp://`; `mqtts://`, `ssl://`, `tls://` with the
/// `tls` feature (settings in `options.tls`); `ws://` with `websocket`, and
/// `wss://` with both.
pub fn connect(url: &str, options: ConnectOptions) -> Result<Client, Error> {
    block_on(Executor::Thread.connect(url, options)).map(Client::new)
}

/// Connects over a transport of your own, opened by `connector` for the
/// first connection and every reconnect (see [`Connector`]).
pub fn connect_with(connector: impl Connector, options: ConnectOptions) -> Result<Client, Error> {
    let connector = transport::OnPool(Arc::new(connector));
    block_on(Executor::Thread.connect_with(connector, options)).map(Client::new)
}

/// Starts a client that does not dial until [`Prepared::connect`]: register
/// the subscriptions and the default route a resumed session's messages need
/// first. Loads `options.session_store` if set.
pub fn prepare(url: &str, options: ConnectOptions) -> Result<Prepared, Error> {
    block_on(Executor::Thread.prepare(url, options)).map(Prepared::new)
}

/// [`prepare`] over a transport of your own (see [`connect_with`]).
pub fn prepare_with(connector: impl Connector, options: ConnectOptions) -> Result<Prepared, Error> {
    let connector = transport::OnPool(Arc::new(connector));
    block_on(Executor::Thread.prepare_with(connector, options)).map(Prepared::new)
}
