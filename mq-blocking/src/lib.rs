//! # mq-blocking
//!
//! An MQTT 3.1.1 and 5.0 client for programs without an async runtime: plain
//! `std::net` and threads driving the sans-IO core [`mq_proto`], with the same
//! behaviour as `mq-tokio` (the shared [`mq_common::Engine`] does the
//! bookkeeping). No tokio inside.
//!
//! ```no_run
//! use mq_blocking::{connect, ConnectOptions, QoS};
//!
//! # fn run() -> Result<(), mq_blocking::Error> {
//! let client = connect("mqtt://127.0.0.1:1883", ConnectOptions::new("demo"))?;
//! let mut sub = client.subscribe("greetings/#", QoS::AtLeastOnce)?;
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
//! | `mqtt://`, `tcp://` | TCP (`std::net`) | always |
//! | `mqtts://`, `ssl://`, `tls://` | TLS over TCP (rustls, `tls::TlsOptions` in `options.tls`) | `tls` |
//! | `ws://host:port/path` | WebSocket (tungstenite), subprotocol `mqtt` | `websocket` |
//! | `wss://host:port/path` | WebSocket over TLS (`options.tls`) | `websocket` and `tls` |
//! | anything | your own [`Duplex`] ([`connect_with`]) | always |
//!
//! No feature is on by default. TLS is rustls with the *ring* provider,
//! chosen per connection (no process-wide default provider is installed).
//! A WebSocket path defaults to `/mqtt`; each write of the driver goes out as
//! one binary message; a broker that sends text messages is dropped. The TCP
//! connect and the TLS and WebSocket handshakes together are bounded by
//! `options.mqtt.connect_timeout`. A URL whose feature is off fails with
//! [`Error::FeatureDisabled`].
//!
//! ## How it is built
//!
//! About 1,450 lines in `src/`, unit tests included. One driver thread
//! (`driver.rs`) owns the engine and writes to the transport; a reader
//! thread per connection reads into a two-chunk channel (when the driver
//! holds back for a full subscriber, the reader stops and TCP pushes back on
//! the broker); a coalescing doorbell wakes the driver for reads and
//! commands; the core's next deadline is the doorbell's wait timeout.
//! `channels.rs` gives the engine std channels, `client.rs` is handle
//! plumbing, `transport.rs` opens the [`Duplex`]: a reader, a writer and a
//! `close` that unblocks the reader.
//!
//! **TLS and WebSocket on two threads.** A TCP stream splits with
//! `try_clone`; a rustls connection or a tungstenite WebSocket cannot (one
//! state machine serves both directions). `shared.rs` puts it behind one
//! mutex for both threads under one rule: *nobody waits for the network
//! while holding the lock*. The reader thread waits with `TcpStream::peek` on
//! a clone of the socket, without the lock; then it locks, lets TLS
//! (`tls.rs`, a `rustls::ClientConnection` driven by hand) or WebSocket
//! (`ws.rs`) decode what one socket read brought (up to 64 KiB), and unlocks;
//! half a record or frame means peeking again. The driver locks per write;
//! the socket's 20 ms send timeout makes a writer facing a full socket let go
//! of the lock for a moment, so the reader can drain the broker meanwhile,
//! then retry; a write returns once all its bytes are on the socket. Pings
//! are answered by the reader thread. So neither direction waits for the
//! other, and QoS 1 throughput over TLS stays close to plain TCP. `close`
//! shuts the TCP socket down, which ends the reader's peek.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod channels;
mod client;
mod driver;
#[cfg(any(feature = "tls", feature = "websocket"))]
mod shared;
#[cfg(feature = "tls")]
pub mod tls;
mod transport;
#[cfg(feature = "websocket")]
mod ws;

use std::sync::{mpsc, Arc, Mutex};

pub use client::{Client, PublishBuilder, PublishHandle, Subscription};
pub use mq_common::{ClientEvent, ConnectOptions, Error, Message, QueuePolicy};
pub use mq_proto::client::{DisconnectReason, ServerCapabilities, Stats};
pub use mq_proto::{
    Disconnect, MqttString, Properties, ProtocolVersion, QoS, ReasonCode, RetainHandling,
    Subscribe, SubscriptionOptions, Will,
};
pub use transport::{Connector, Duplex};

/// Connects to the broker at `url` and returns once the first CONNACK
/// accepted the connection; later losses are retried.
///
/// `url` is `mqtt://` or `tcp://`; `mqtts://`, `ssl://`, `tls://` with the
/// `tls` feature (settings in `options.tls`); `ws://` with `websocket`, and
/// `wss://` with both.
pub fn connect(url: &str, options: ConnectOptions) -> Result<Client, Error> {
    start(url, options, None)
}

/// Connects over a transport of the user's own, opened by `connector` for every (re)connect.
pub fn connect_with(connector: impl Connector, options: ConnectOptions) -> Result<Client, Error> {
    start(
        "mqtt://custom-transport",
        options,
        Some(Arc::new(connector)),
    )
}

fn start(
    url: &str,
    options: ConnectOptions,
    connector: Option<Arc<dyn Connector>>,
) -> Result<Client, Error> {
    let url = mq_proto::url::BrokerUrl::parse(url)?;
    let (commands_tx, commands) = mpsc::sync_channel(options.command_capacity.max(1));
    let (bell, wake) = driver::doorbell();
    let events = channels::Events::default();
    let shared = Arc::new(Mutex::new(mq_common::Snapshot::new(&options.mqtt)));
    let (first_tx, first_rx) = channels::once();
    let mut engine = mq_common::legacy::Engine::new(
        &options,
        channels::Std {
            events: events.clone(),
        },
        first_tx,
    );
    engine.share_snapshot(shared.clone());
    let subscription_capacity = options.subscription_capacity.max(1);
    let driver = driver::Driver {
        engine,
        url,
        options,
        connector,
        commands,
        bell: bell.clone(),
        wake,
        origin: std::time::Instant::now(),
        jitter: mq_common::Jitter::default(),
    };
    std::thread::Builder::new()
        .name("mq-blocking-driver".into())
        .spawn(move || driver.run())?;
    first_rx.wait()?;
    Ok(Client {
        commands: commands_tx,
        bell,
        shared,
        events,
        subscription_capacity,
    })
}
