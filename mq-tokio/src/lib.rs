//! # mq-tokio
//!
//! An MQTT 3.1.1 and 5.0 client for tokio. All protocol decisions are made
//! by the sans-IO core [`mq_proto`], the client's life by mq-common's
//! engine; this crate runs mq-common's client on tokio: one driver task per
//! client, its timer, and the socket.
//!
//! * No event loop to poll: [`connect`] spawns the driver and returns a
//!   cheap-to-clone [`Client`].
//! * Publishes resolve when the broker acknowledges them (PUBACK / PUBCOMP).
//! * Subscriptions are streams (or callbacks on their own task), so
//!   publishing from a handler never deadlocks; a slow consumer slows reading
//!   from the broker instead of growing memory.
//! * Reconnects with backoff, resubscribes and resends as the core decides.
//!
//! ```no_run
//! use mq_tokio::{connect, ConnectOptions, QoS};
//!
//! # async fn run() -> Result<(), mq_tokio::Error> {
//! let client = connect("mqtt://127.0.0.1:1883", ConnectOptions::new("demo")).await?;
//! let mut sub = client.subscribe("greetings/#").qos(QoS::AtLeastOnce).await?;
//! client.publish("greetings/world", "hello").qos(QoS::AtLeastOnce).await?;
//! if let Some(msg) = sub.recv().await {
//!     println!("{}: {:?}", msg.topic, msg.payload);
//! }
//! client.disconnect().await?;
//! # Ok(()) }
//! ```
//!
//! ## Transports and features
//!
//! | URL | transport | cargo feature |
//! | --- | --- | --- |
//! | `mqtt://`, `tcp://` | TCP | always |
//! | `mqtts://`, `ssl://`, `tls://` | TLS over TCP (`tls::TlsOptions`) | `tls` (default) |
//! | `ws://` | WebSocket, subprotocol `mqtt` | `websocket` |
//! | `wss://` | WebSocket over TLS | `websocket` and `tls` |
//! | anything | your own stream ([`connect_with`]) | always |
//!
//! TLS is rustls with the *ring* provider, chosen per connection (no
//! process-wide default provider is installed). Build with
//! `default-features = false` to leave it out. `scram` turns on SCRAM-SHA-256
//! enhanced authentication (the `scram` module: `ScramSha256`, and
//! `os_nonce` for its client nonces).
//!
//! ## Same API on every runtime
//!
//! [`Client`], [`Subscription`], the publish builder and [`Events`] are
//! mq-common's, shared with mq-smol: a program moves between the two by
//! changing its `use` lines and its runtime.
//!
//! ```
//! use mq_tokio::{connect, ClientEvent, ConnectOptions, Error, QoS};
//!
//! async fn run(url: &str) -> Result<(), Error> {
//!     let client = connect(url, ConnectOptions::new("same-program")).await?;
//!     let mut events = client.events();
//!     let mut sub = client.subscribe("same/#").qos(QoS::AtLeastOnce).await?;
//!     client.publish("same/topic", "hi").qos(QoS::AtLeastOnce).await?;
//!     let msg = sub.recv().await.ok_or(Error::Closed)?;
//!     assert_eq!(&msg.payload[..], b"hi");
//!     client.disconnect().await?;
//!     // The listener was made after connect: it sees no Connected, and its
//!     // stream ends once the client has stopped.
//!     while let Some(event) = events.recv().await {
//!         assert!(!matches!(event, ClientEvent::Connected { .. }));
//!     }
//!     Ok(())
//! }
//! # fn main() {
//! #     let rt = tokio::runtime::Runtime::new().unwrap();
//! #     // No broker here: the program fails to connect, and says so.
//! #     let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
//! #     let url = format!("mqtt://{}", listener.local_addr().unwrap());
//! #     drop(listener);
//! #     assert!(rt.block_on(run(&url)).is_err());
//! # }
//! ```
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
//! mq-common holds the client: the sans-IO [`mq_common::Engine`] decides
//! everything, its async driver performs the engine's outputs, and the
//! handles talk to it through runtime-neutral channels. This crate is the
//! executor: `runtime.rs` gives the driver `tokio::spawn`, a
//! `tokio::time::Sleep` and a way to dial; `transport.rs`, `tls.rs` and
//! `ws.rs` open the byte stream (reads go straight into the engine's buffer).
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod runtime;
#[cfg(feature = "tls")]
pub mod tls;
mod transport;
#[cfg(feature = "websocket")]
mod ws;

pub use mq_common::api::handles::*;
pub use mq_common::api::*;
pub use transport::{BoxStream, ConnectFuture, Connector, Stream};

/// Connects to the broker at `url` and returns once the first CONNACK accepted
/// the connection; the first failure is returned, later ones are retried
/// (`options.auto_reconnect`). The client runs on the calling task's tokio
/// runtime. Dropping the future before it resolves stops the client.
///
/// `url` is `mqtt://`, `tcp://`, `mqtts://`, `ssl://`, `tls://`, `ws://` or
/// `wss://` (TLS and WebSocket need the `tls` and `websocket` features).
pub async fn connect(url: &str, options: ConnectOptions) -> Result<Client, Error> {
    mq_common::driver::connect(runtime::Tokio::current()?, url, options).await
}

/// Connects over a transport of the user's own (Unix socket, proxy, in-memory
/// pipe), opened by `connector` for the first connection and every reconnect.
pub async fn connect_with(
    connector: impl Connector,
    options: ConnectOptions,
) -> Result<Client, Error> {
    let connector = transport::open_connector(connector);
    mq_common::driver::connect_with(runtime::Tokio::current()?, connector, options).await
}

/// Starts a client that does not dial until [`Prepared::connect`]: register
/// the subscriptions and the default route a resumed session's messages need
/// first. Loads `options.session_store` if set.
///
/// ```no_run
/// # async fn run() -> Result<(), mq_tokio::Error> {
/// use mq_tokio::{ConnectOptions, QoS};
/// let mut prepared = mq_tokio::prepare("mqtt://127.0.0.1:1883", ConnectOptions::new("p")).await?;
/// let mut orders = prepared.subscribe("orders/#").qos(QoS::AtLeastOnce).await?;
/// let client = prepared.connect().await?;
/// while let Some(msg) = orders.recv().await { /* ... */ }
/// # drop(client); Ok(()) }
/// ```
pub async fn prepare(url: &str, options: ConnectOptions) -> Result<Prepared, Error> {
    mq_common::driver::prepare(runtime::Tokio::current()?, url, options).await
}

/// [`prepare`] over a transport of the user's own (see [`connect_with`]).
pub async fn prepare_with(
    connector: impl Connector,
    options: ConnectOptions,
) -> Result<Prepared, Error> {
    let connector = transport::open_connector(connector);
    mq_common::driver::prepare_with(runtime::Tokio::current()?, connector, options).await
}
