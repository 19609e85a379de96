//! # mq-smol
//!
//! An MQTT 3.1.1 and 5.0 client for [smol](https://docs.rs/smol) and
//! [async-std](https://docs.rs/async-std) — or any executor, or none. All
//! protocol decisions are made by the sans-IO core [`mq_proto`]; the shared
//! [`mq_common::Engine`] does the bookkeeping; this crate adds a socket, a
//! timer, channels and one loop, on `futures-io` / `async-io` only (no tokio).
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
//!     let mut sub = client.subscribe("greetings/#", QoS::AtLeastOnce).await?;
//!     client.publish("greetings/world", "hello").qos(QoS::AtLeastOnce).await?;
//!     if let Some(msg) = sub.recv().await {
//!         println!("{}: {:?}", msg.topic, msg.payload);
//!     }
//!     client.disconnect().await
//! })
//! # }
//! ```
//!
//! The same code runs under `async_std::task::block_on`, inside
//! `async_std::main`, or under `futures_lite::future::block_on`.
//!
//! ## Transports and features
//!
//! | URL | transport | cargo feature |
//! | --- | --- | --- |
//! | `mqtt://`, `tcp://` | TCP ([`async_io::Async`]) | always |
//! | `mqtts://`, `ssl://`, `tls://` | TLS over TCP (futures-rustls, `tls::TlsOptions`) | `tls` |
//! | `ws://host:port/path` | WebSocket (async-tungstenite), subprotocol `mqtt` | `websocket` |
//! | `wss://host:port/path` | WebSocket over TLS (`options.tls`) | `websocket` and `tls` |
//! | anything | your own stream ([`connect_with`]) | always |
//!
//! No feature is on by default; a URL whose feature is off fails with
//! [`Error::FeatureDisabled`]. A WebSocket path defaults to `/mqtt`.
//!
//! ## How it is built
//!
//! `driver.rs` is the only loop: one future that writes what the core has to
//! send, lets the engine hand out replies, messages and events, then races a
//! read from the transport (only while no subscriber is full), a command from
//! the handles (only while the outgoing queue has room), the core's next
//! deadline (an [`async_io::Timer`]) and room in a full subscriber. It dials
//! TCP with [`async_io::Async`] (TLS over it with futures-rustls, feature
//! `tls`; WebSocket over either in `ws.rs`, feature `websocket`), or a
//! [`Connector`] of yours.
//!
//! **Where the driver runs.** Neither smol nor async-std offers a spawn the
//! other understands, and a library-chosen executor would be a third runtime
//! in your program. So [`connect`] starts one OS thread per client, named
//! `mq-smol-driver`, that runs the driver with [`async_io::block_on`].
//! smol and async-std (1.x) both sit on `async-io`'s reactor, so the driver's
//! socket and timers share the reactor your runtime already runs, and the
//! client works the same under either runtime, under another executor, or
//! with none. The client's futures wait on channels only, so they may be
//! polled by any executor. The cost: one thread (a small stack, idle while
//! the connection is) per client, and a cross-thread wake-up per command and
//! per delivered message; host names are resolved with the blocking resolver
//! on that thread. [`Client::subscribe_callback`] runs its handler on a
//! thread of its own too.
//!
//! **Cancel safety.** Every future of the client can be dropped (for example
//! in a `select` or a timeout): a request that was still waiting for room in
//! the command queue is not sent, one already handed over goes on.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod channels;
mod client;
mod driver;
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

use std::sync::{Arc, Mutex};

pub use client::{subscribe_packet, Client, Events, PublishBuilder, PublishToken, Subscription};
pub use mq_common::{ClientEvent, ConnectOptions, Error, Message, QueuePolicy};
pub use mq_proto::client::{DisconnectReason, ServerCapabilities, Stats};
pub use mq_proto::{
    Disconnect, MqttString, Properties, ProtocolVersion, QoS, ReasonCode, RetainHandling,
    Subscribe, SubscriptionOptions, Will,
};
pub use transport::{BoxStream, ConnectFuture, Connector, Stream};

/// Connects to the broker at `url` and returns once the first CONNACK
/// accepted the connection; the first failure is returned, later ones are
/// retried (`options.auto_reconnect`).
///
/// `url` is `mqtt://` or `tcp://`; `mqtts://`, `ssl://`, `tls://` with the
/// `tls` feature (settings in `options.tls`); `ws://` with `websocket`, and
/// `wss://` with both (see the transports table in the crate docs). For any
/// other transport, use [`connect_with`].
/// Dropping the future before it resolves stops the client.
pub async fn connect(url: &str, options: ConnectOptions) -> Result<Client, Error> {
    start(url, options, None).await
}

/// Connects over a transport of your own, opened by `connector` for the first
/// connection and every reconnect (see [`Connector`]).
pub async fn connect_with(
    connector: impl Connector,
    options: ConnectOptions,
) -> Result<Client, Error> {
    start(
        "mqtt://custom-transport",
        options,
        Some(Arc::new(connector)),
    )
    .await
}

async fn start(
    url: &str,
    options: ConnectOptions,
    connector: Option<Arc<dyn Connector>>,
) -> Result<Client, Error> {
    let url = mq_proto::url::BrokerUrl::parse(url)?;
    let (commands_tx, commands) = async_channel::bounded(options.command_capacity.max(1));
    let events = channels::Events::new();
    let shared = Arc::new(Mutex::new(mq_common::Snapshot::new(&options.mqtt)));
    let (first_reply, first_waiter) = channels::once();
    let mut engine = mq_common::legacy::Engine::new(
        &options,
        channels::Smol {
            events: events.clone(),
        },
        first_reply,
    );
    engine.share_snapshot(shared.clone());
    let subscription_capacity = options.subscription_capacity.max(1);
    driver::spawn(driver::Driver {
        engine,
        url,
        options,
        connector,
        commands,
        origin: std::time::Instant::now(),
        jitter: mq_common::Jitter::default(),
    })?;
    let client = Client {
        commands: commands_tx,
        shared,
        events,
        subscription_capacity,
    };
    channels::wait(&first_waiter).await?;
    Ok(client)
}
