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
//! | anything | your own stream ([`ConnectOptions::connector`]) | always |
//!
//! TLS is rustls with the *ring* provider, chosen per connection (no
//! process-wide default provider is installed). Build with
//! `default-features = false` to leave it out.
//!
//! ## How it is built
//!
//! `driver.rs` is the only place with a loop: it reads from the transport
//! into [`mq_proto::client::Client::handle_bytes`], takes commands from
//! handles, sleeps until `poll_timeout`, writes `poll_transmit`, and turns
//! core events into replies and stream items. Everything else is handle
//! plumbing (`client.rs`), transports (`transport.rs`) and request/response.
#![deny(missing_docs)]
#![forbid(unsafe_code)]
// `DisconnectReason` carries a whole CONNACK or DISCONNECT with its
// properties, which makes `Error::Connect` and `ClientEvent::ConnectionLost`
// large. Boxing it changes the driver and the handles; until that is done,
// the size is accepted here.
#![allow(clippy::result_large_err, clippy::large_enum_variant)]

mod client;
mod driver;
mod error;
mod options;
mod request;
mod state;
#[cfg(feature = "tls")]
pub mod tls;
mod transport;
#[cfg(feature = "websocket")]
mod ws;

use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use client::{subscribe_packet, Client, PublishBuilder, PublishToken, Subscription};
pub use error::Error;
pub use mq_proto::client::{DisconnectReason, ServerCapabilities, Stats};
pub use mq_proto::{
    Disconnect, MqttString, Properties, ProtocolVersion, QoS, ReasonCode, RetainHandling,
    Subscribe, SubscriptionOptions, Will,
};
pub use options::{ConnectOptions, QueuePolicy};
pub use transport::{BoxStream, ConnectFuture, Connector, Stream};

/// A received message: topic (with any Topic Alias resolved), payload, QoS,
/// flags and 5.0 properties.
pub type Message = mq_proto::Publish;

/// Something that happened to the connection.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientEvent {
    /// CONNACK accepted a connection.
    Connected {
        /// Whether the broker resumed the session.
        session_present: bool,
    },
    /// The connection ended, and why.
    ConnectionLost(DisconnectReason),
    /// A reconnect attempt follows after `delay`.
    Reconnecting {
        /// The backoff delay.
        delay: Duration,
    },
    /// Subscriptions made again after the broker lost the session, with its codes.
    Resubscribed(Vec<(MqttString, ReasonCode)>),
    /// The broker named another server (Server Reference in CONNACK or DISCONNECT).
    ServerRedirect(MqttString),
}

/// Connects to the broker at `url` and returns once the first CONNACK accepted
/// the connection; the first failure is returned, later ones are retried.
///
/// `url` is `mqtt://`, `tcp://`, `mqtts://`, `ssl://`, `tls://`, `ws://` or
/// `wss://` (TLS and WebSocket need the `tls` and `websocket` features), or
/// anything when `options.connector` supplies the transport.
pub async fn connect(url: &str, options: ConnectOptions) -> Result<Client, Error> {
    let url = mq_proto::url::BrokerUrl::parse(url)?;
    let (commands_tx, commands_rx) = tokio::sync::mpsc::channel(options.command_capacity.max(1));
    let (events, _) = tokio::sync::broadcast::channel(64);
    let (first_tx, first_rx) = tokio::sync::oneshot::channel();
    let shared = Arc::new(Mutex::new(state::Shared::new(
        &mq_proto::client::Client::new(options.mqtt.clone()),
    )));
    let subscription_capacity = options.subscription_capacity.max(1);
    let driver = driver::Driver::new(
        url,
        options,
        commands_rx,
        shared.clone(),
        events.clone(),
        first_tx,
    );
    tokio::spawn(driver.run());
    first_rx.await.map_err(|_| Error::Closed)??;
    Ok(Client {
        commands: commands_tx,
        shared,
        events,
        subscription_capacity,
        responder: Arc::default(),
    })
}
