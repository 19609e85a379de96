//! # mq-tokio
//!
//! An MQTT 3.1.1 and 5.0 client for tokio. All protocol decisions are made
//! by the sans-IO core [`mq_proto`]; this crate owns the socket, one driver
//! task, the timer for the core's next deadline, and the channels to your
//! handles.
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
//! let mut sub = client.subscribe("greetings/#", QoS::AtLeastOnce).await?;
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
//! `default-features = false` to leave it out.
//!
//! ## How it is built
//!
//! `driver.rs` is the only place with a loop: it reads from the transport
//! into [`mq_proto::client::Client::handle_bytes`], takes commands from
//! handles, sleeps until the next deadline, writes `poll_transmit`, and lets
//! [`mq_common::Engine`] (shared with mq-smol and mq-blocking) turn core
//! events into replies, routed messages and connection events.
//! `channels.rs` gives the engine tokio's channels; `client.rs` is handle
//! plumbing; `transport.rs`, `tls.rs` and `ws.rs` open the byte stream.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod channels;
mod client;
mod driver;
#[cfg(feature = "tls")]
pub mod tls;
mod transport;
#[cfg(feature = "websocket")]
mod ws;

use std::sync::{Arc, Mutex};

pub use client::{subscribe_packet, Client, PublishBuilder, PublishToken, Subscription};
pub use mq_common::{
    AuthenticatorFactory, ClientEvent, ConnectOptions, Error, Message, QueuePolicy,
};
pub use mq_proto::client::{DisconnectReason, ServerCapabilities, Stats};
pub use mq_proto::{
    Disconnect, MqttString, Properties, ProtocolVersion, QoS, ReasonCode, RetainHandling,
    Subscribe, SubscriptionOptions, Will,
};
pub use transport::{BoxStream, ConnectFuture, Connector, Stream};

/// Connects to the broker at `url` and returns once the first CONNACK accepted
/// the connection; the first failure is returned, later ones are retried.
///
/// `url` is `mqtt://`, `tcp://`, `mqtts://`, `ssl://`, `tls://`, `ws://` or
/// `wss://` (TLS and WebSocket need the `tls` and `websocket` features).
pub async fn connect(url: &str, options: ConnectOptions) -> Result<Client, Error> {
    start(url, options, None).await
}

/// Connects over a transport of the user's own (Unix socket, proxy, in-memory
/// pipe), opened by `connector` for the first connection and every reconnect.
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
    let (commands_tx, commands) = tokio::sync::mpsc::channel(options.command_capacity.max(1));
    let (events, _) = tokio::sync::broadcast::channel(64);
    let (first_tx, first_rx) = tokio::sync::oneshot::channel();
    let shared = Arc::new(Mutex::new(mq_common::Snapshot::new(&options.mqtt)));
    let mut engine = mq_common::legacy::Engine::new(
        &options,
        channels::Tokio {
            events: events.clone(),
        },
        channels::Once(first_tx),
    );
    engine.share_snapshot(shared.clone());
    let subscription_capacity = options.subscription_capacity.max(1);
    let driver = driver::Driver {
        engine,
        url: Arc::new(url),
        options: Arc::new(options),
        connector,
        commands,
        origin: tokio::time::Instant::now(),
        jitter: mq_common::Jitter::default(),
        read_buf: vec![0; 64 * 1024],
    };
    tokio::spawn(driver.run());
    first_rx.await.map_err(|_| Error::Closed)??;
    Ok(Client {
        commands: commands_tx,
        shared,
        events,
        subscription_capacity,
    })
}
