//! # mq-common
//!
//! What the `mq` adapters (tokio, smol / async-std, blocking) share and that
//! is not protocol:
//!
//! * the [`Engine`]: a client's whole life, sans-IO (see its contract);
//! * the async handle, written once: [`Client`], [`Subscription`],
//!   [`PublishBuilder`], [`PublishToken`], [`Events`](channel::Events);
//! * the async [`driver`], written once over a small [`Runtime`](runtime::Runtime)
//!   trait (spawn, a timer, dial) that mq-tokio and mq-smol implement;
//! * the connection options beyond the core's, the error and event types,
//!   TLS configuration (`tls`), the WebSocket byte stream (`ws`) and
//!   SCRAM-SHA-256 with an operating-system nonce (`scram`).
//!
//! ## Guides
//!
//! [How mq is built][how mq is built] shows where this crate sits; the
//! other guides in the repository's `docs/` directory are for users of the
//! clients: [getting started], [running in production][running in
//! production], [troubleshooting], [durable sessions][durable sessions] and
//! [migrating from rumqttc][migrating from rumqttc].
//!
//! [getting started]: https://github.com/mq-rs/mq/blob/main/docs/getting-started.md
//! [running in production]: https://github.com/mq-rs/mq/blob/main/docs/production.md
//! [troubleshooting]: https://github.com/mq-rs/mq/blob/main/docs/troubleshooting.md
//! [durable sessions]: https://github.com/mq-rs/mq/blob/main/docs/persistence.md
//! [migrating from rumqttc]: https://github.com/mq-rs/mq/blob/main/docs/migrating-from-rumqttc.md
//! [how mq is built]: https://github.com/mq-rs/mq/blob/main/docs/internals.md
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod api;
pub mod channel;
mod client;
mod connector;
pub mod driver;
pub mod engine;
mod error;
mod intercept;
mod options;
mod options_builder;
mod publish;
pub mod runtime;
#[cfg(feature = "scram")]
pub mod scram;
mod snapshot;
pub mod store;
mod subscribe;
#[cfg(feature = "tls")]
pub mod tls;
#[cfg(feature = "websocket")]
pub mod ws;

pub use client::{
    subscribe_packet, Client, Prepared, PreparedSubscribe, PublishBuilder, PublishFuture,
    PublishToken, RestoredOutcomes, SubscribeBuilder, Subscription,
};
pub use engine::{Command, Engine, Subscribed};
pub use error::Error;
pub use intercept::Interceptor;
pub use mq_proto::client::Instant;
pub use options::{AuthenticatorFactory, ConnectOptions, QueuePolicy, DEFAULT_MAXIMUM_PACKET_SIZE};
pub use publish::IntoPayload;
pub use snapshot::Snapshot;

use std::time::Duration;

use mq_proto::client::DisconnectReason;
use mq_proto::{ConnAck, MqttString, ReasonCode};

/// What the exported macros name; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use bytes::Bytes;
    pub use mq_proto::{
        MqttString, PayloadFormat, Properties, QoS, RetainHandling, SubscribeFilter,
        SubscriptionOptions,
    };
}

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
        /// The CONNACK: Assigned Client Identifier, Server Keep Alive,
        /// Response Information, Reason String, User Properties, Server
        /// Reference and the broker's limits (5.0).
        connack: Box<ConnAck>,
    },
    /// The connection ended, and why.
    ConnectionLost(Box<DisconnectReason>),
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

/// What became of a publish restored from the session store: the old
/// process queued it, this one finished it.
#[derive(Debug)]
pub struct RestoredOutcome {
    /// The request identifier the old process gave it (kept across restarts).
    pub id: mq_proto::client::RequestId,
    /// The message as it was published (its properties included, so an
    /// identifier the application put in a User Property or in the payload
    /// tells which message it was).
    pub publish: mq_proto::Publish,
    /// Acknowledged (with the broker's reason code), refused or expired.
    pub result: Result<ReasonCode, Error>,
}

/// A small xorshift generator for reconnect jitter, seeded from the clock and
/// the process id: jitter only needs to differ between clients.
#[derive(Clone, Debug)]
pub struct Jitter(u64);

impl Default for Jitter {
    fn default() -> Self {
        let time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Jitter((time ^ (u64::from(std::process::id()) << 32)) | 1)
    }
}

impl Jitter {
    /// The next random number.
    pub fn next_u32(&mut self) -> u32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) as u32
    }
}
