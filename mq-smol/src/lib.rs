//! # mq-smol
//!
//! An MQTT 3.1.1 and 5.0 client for [smol](https://docs.rs/smol) and
//! [async-std](https://docs.rs/async-std). All protocol decisions are made
//! by the sans-IO core [`mq_proto`], the client's life by mq-common's
//! engine; this crate runs mq-common's client on your executor, with
//! `futures-io` / `async-io` sockets and timers (no tokio).
//!
//! * [`connect`] starts the driver and returns a cheap-to-clone [`Client`].
//! * Publishes resolve when the broker acknowledges them (PUBACK / PUBCOMP).
//! * Subscriptions are streams (or callbacks on a thread of their own), so
//!   publishing from a handler never deadlocks; a slow consumer slows reading
//!   from the broker instead of growing memory.
//! * Reconnects with backoff, resubscribes and resends as the core decides.
//!
//! ```no_run
//! use mq_smol::{connect, ConnectOptions, QoS};
//!
//! # fn main() -> Result<(), mq_smol::Error> {
//! smol::block_on(async {
//!     let client = connect("mqtt://127.0.0.1:1883", ConnectOptions::new("demo")).await?;
//!     let mut sub = client.subscribe("greetings/#").qos(QoS::AtLeastOnce).await?;
//!     client.publish("greetings/world", "hello").qos(QoS::AtLeastOnce).await?;
//!     if let Some(msg) = sub.recv().await {
//!         println!("{}: {:?}", msg.topic, msg.payload);
//!     }
//!     client.disconnect().await
//! })
//! # }
//! ```
//!
//! The same code runs under `async_std::task::block_on` or inside
//! `async_std::main` (choose [`Executor::AsyncStd`] there, feature
//! `async-std`, so the client runs on async-std's executor).
//!
//! ## Where the client runs
//!
//! The client's work (one driver task per client, and the handlers of
//! [`Client::subscribe_callback`]) runs on an [`Executor`] of your choice:
//! [`connect`] and [`connect_with`] use [`Executor::default`], smol's global
//! executor (`smol::spawn`, feature `smol`, on by default); call
//! [`Executor::connect`] to choose `Executor::AsyncStd`
//! (`async_std::task::spawn`, feature `async-std`) or `Executor::Thread` (a
//! thread of its own per task, running it with `async_io::block_on`). smol
//! and async-std sit on the same `async-io` reactor, so sockets and timers
//! work under either. The client's futures wait on channels only, so any
//! executor may poll them.
//!
//! ## Transports and features
//!
//! | URL | transport | cargo feature |
//! | --- | --- | --- |
//! | `mqtt://`, `tcp://` | TCP ([`async_io::Async`]) | always |
//! | `mqtts://`, `ssl://`, `tls://` | TLS over TCP (futures-rustls, `tls::TlsOptions`) | `tls` (default) |
//! | `ws://host:port/path` | WebSocket (async-tungstenite), subprotocol `mqtt` | `websocket` |
//! | `wss://host:port/path` | WebSocket over TLS (`options.tls`) | `websocket` and `tls` |
//! | anything | your own stream ([`connect_with`]) | always |
//!
//! A URL whose feature is off fails with [`Error::FeatureDisabled`]. A
//! WebSocket path defaults to `/mqtt`. `scram` turns on SCRAM-SHA-256
//! enhanced authentication (the `scram` module: `ScramSha256`, and
//! `os_nonce` for its client nonces).
//!
//! ## Same API on every runtime
//!
//! [`Client`], [`Subscription`], the publish builder and [`Events`] are
//! mq-common's, shared with mq-tokio: a program moves between the two by
//! changing its `use` lines and its runtime.
//!
//! ```
//! use mq_smol::{connect, ClientEvent, ConnectOptions, Error, QoS};
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
//! #     // No broker here: the program fails to connect, and says so.
//! #     let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
//! #     let url = format!("mqtt://{}", listener.local_addr().unwrap());
//! #     drop(listener);
//! #     assert!(smol::block_on(run(&url)).is_err());
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
//! executor: `runtime.rs` gives the driver a spawner, an
//! [`async_io::Timer`] and a way to dial; `transport.rs` and `ws.rs` open
//! the byte stream (reads go straight into the engine's buffer).
//!
//! **Cancel safety.** Every future of the client can be dropped (for example
//! in a `select` or a timeout): a request that was still waiting for room in
//! the command queue is not sent, one already handed over goes on.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod runtime;
#[cfg(feature = "tls")]
pub mod tls {
    //! TLS settings (feature `tls`): mq-common's [`TlsOptions`], shared by
    //! every adapter, set in [`ConnectOptions::tls`](crate::ConnectOptions);
    //! the handshake runs with futures-rustls (ring provider, no process-wide
    //! default provider).
    pub use mq_common::tls::*;
}
mod transport;
#[cfg(feature = "websocket")]
mod ws;

pub use mq_common::api::handles::*;
pub use mq_common::api::*;
pub use runtime::Executor;
pub use transport::{BoxStream, ConnectFuture, Connector, Stream};

/// Connects to the broker at `url` and returns once the first CONNACK
/// accepted the connection; the first failure is returned, later ones are
/// retried (`options.auto_reconnect`). The client runs on
/// [`Executor::default`]. Dropping the future before it resolves stops the
/// client.
///
/// `url` is `mqtt://` or `tcp://`; `mqtts://`, `ssl://`, `tls://` with the
/// `tls` feature (settings in `options.tls`); `ws://` with `websocket`, and
/// `wss://` with both (see the transports table in the crate docs). For any
/// other transport, use [`connect_with`].
pub async fn connect(url: &str, options: ConnectOptions) -> Result<Client, Error> {
    Executor::default().connect(url, options).await
}

/// Connects over a transport of your own, opened by `connector` for the first
/// connection and every reconnect (see [`Connector`]); runs on [`Executor::default`].
pub async fn connect_with(
    connector: impl Connector,
    options: ConnectOptions,
) -> Result<Client, Error> {
    Executor::default().connect_with(connector, options).await
}

/// Starts a client that does not dial until [`Prepared::connect`]: register
/// the subscriptions and the default route a resumed session's messages need
/// first. Loads `options.session_store` if set. Runs on [`Executor::default`].
pub async fn prepare(url: &str, options: ConnectOptions) -> Result<Prepared, Error> {
    Executor::default().prepare(url, options).await
}

/// [`prepare`] over a transport of your own (see [`connect_with`]).
pub async fn prepare_with(
    connector: impl Connector,
    options: ConnectOptions,
) -> Result<Prepared, Error> {
    Executor::default().prepare_with(connector, options).await
}
