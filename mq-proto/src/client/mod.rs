//! The sans-IO MQTT client: one deterministic state machine holding every
//! protocol decision, driven by the caller's I/O and clock.
//!
//! # The contract
//!
//! The client never reads a clock, touches a socket or draws a random number.
//! Every input carries the caller's time ([`Instant`]); randomness for the
//! reconnect jitter comes in as an argument. The same inputs give the same
//! outputs.
//!
//! * Commands: [`Client::connect`] (on a fresh transport), [`Client::publish`],
//!   [`Client::subscribe`], [`Client::unsubscribe`], [`Client::disconnect`],
//!   [`Client::reauthenticate`], [`Client::acknowledge`]. Publish, subscribe
//!   and unsubscribe return a [`RequestId`] that a later [`Event`] completes.
//! * Input: [`Client::handle_bytes`] (bytes read), [`Client::handle_timeout`]
//!   (the deadline passed), [`Client::handle_transport_closed`].
//! * Output, pulled after every input: [`Client::poll_transmit`] (bytes to
//!   write, in order), [`Client::poll_event`], [`Client::poll_store_update`],
//!   and [`Client::poll_timeout`] (when to call `handle_timeout` next).
//!
//! The session outlives the transport: after [`Event::Disconnected`], close
//! the transport, wait [`Client::reconnect_delay`], open a new one and call
//! [`Client::connect`] again; in-flight messages are resent as the
//! specification allows.
//!
//! # Acknowledging received messages
//!
//! By default a QoS 1 or 2 message is acknowledged (PUBACK, PUBREC) as soon
//! as it is decoded, before the application has seen it. With
//! [`Options::manual_acks`] the acknowledgment waits for
//! [`Client::acknowledge`] with the message's [`AckToken`], so a crash in
//! between leaves the message unacknowledged and the broker sends it again.
//! Acknowledgments go out in the order the messages arrived (MQTT-4.6.0-2,
//! MQTT-4.6.0-3; QoS 1 and 2 share one order): one acknowledged early waits
//! for those before it. A QoS 2 message counts as received, for duplicates and
//! for the durable store, once acknowledged. Unacknowledged messages survive
//! a reconnect that resumes the session (the broker resends them) and are
//! forgotten when the broker has lost it.
//!
//! ```
//! use mq_proto::client::{AckToken, Client, Event, Instant, Options};
//!
//! let mut options = Options::new("demo");
//! options.manual_acks = true;
//! let mut client = Client::new(options);
//! let now = Instant::ZERO;
//! client.connect(now).unwrap();
//! client.poll_transmit(); // CONNECT
//! client.handle_bytes(now, &[0x20, 0x03, 0x00, 0x00, 0x00]); // CONNACK
//!
//! // PUBLISH QoS 1, topic "t", packet identifier 7, payload "x".
//! client.handle_bytes(now, &[0x32, 0x07, 0x00, 0x01, b't', 0x00, 0x07, 0x00, b'x']);
//! assert_eq!(client.poll_transmit(), None); // no PUBACK yet
//! while let Some(event) = client.poll_event() {
//!     if let Event::Message(message) = event {
//!         // ... the application stores the message, then:
//!         let token = AckToken::of(&message).expect("QoS 1");
//!         client.acknowledge(now, token).unwrap();
//!     }
//! }
//! assert_eq!(client.poll_transmit().as_deref(), Some(&[0x40, 0x02, 0x00, 0x07][..])); // PUBACK 7
//! ```
//!
//! # Allocation
//!
//! Once warm, a message costs no allocation on either path: publishing
//! ([`Client::publish`], [`Client::poll_transmit`], the acknowledgments,
//! [`Event::Published`]) and receiving ([`Client::handle_bytes`],
//! [`Event::Message`], the acknowledgments), at QoS 0, 1 and 2, on 3.1.1 and
//! 5.0, with properties, Subscription Identifiers and User Properties
//! (`tests/alloc.rs` counts). Received messages are slices of the read
//! buffer and transmits slices of the write buffer, and each buffer is
//! reused once nothing refers to it any more. A caller that holds on to
//! received messages keeps their read buffer alive, so the next read
//! allocates a new one; to avoid that, copy what you keep
//! (`Bytes::copy_from_slice(&message.payload)`) and drop the message. Read
//! properties through the accessor methods of [`Properties`](crate::Properties)
//! (`message.properties.user_properties()`): reading a decoded message's
//! property fields (`message.properties.user_properties`) parses them into
//! owned values, which allocates.
//!
//! # A run loop
//!
//! ```
//! use mq_proto::client::{Client, Event, Instant, Options};
//! use mq_proto::QoS;
//!
//! /// Stand-in for a socket: what the client wrote, and what the "broker" sends.
//! struct Transport { written: Vec<u8>, incoming: Vec<u8> }
//!
//! let mut client = Client::new(Options::new("demo"));
//! let mut net = Transport { written: Vec::new(), incoming: Vec::new() };
//! let now = Instant::ZERO;
//!
//! client.connect(now).unwrap();
//! let publish = client.publish(now, mq_proto::Publish::new("hello", "world")).unwrap();
//!
//! // The broker accepts: CONNACK, 5.0, no session, no properties.
//! net.incoming.extend_from_slice(&[0x20, 0x03, 0x00, 0x00, 0x00]);
//!
//! let mut connected = false;
//! let mut published = false;
//! for _ in 0..4 {
//!     // 1. Feed input.
//!     let data = std::mem::take(&mut net.incoming);
//!     if !data.is_empty() {
//!         client.handle_bytes(now, &data);
//!     }
//!     if client.poll_timeout().is_some_and(|t| t <= now) {
//!         client.handle_timeout(now);
//!     }
//!     // 2. Write everything the client has to send.
//!     while let Some(bytes) = client.poll_transmit() {
//!         net.written.extend_from_slice(&bytes);
//!     }
//!     // 3. Hand events to the user.
//!     while let Some(event) = client.poll_event() {
//!         match event {
//!             Event::Connected { .. } => connected = true,
//!             Event::Published { id, result } => published = id == publish && result.is_ok(),
//!             _ => {}
//!         }
//!     }
//!     // 4. Sleep until input arrives or until client.poll_timeout().
//! }
//! assert!(connected && published);
//! assert_eq!(&net.written[..2], &[0x10, 0x11]); // CONNECT went out first
//! ```

mod ack;
mod alias;
mod auth;
mod backoff;
mod connection;
mod event;
mod incoming;
mod options;
mod outgoing;
mod packet_id;
mod router;
mod store;
mod subscriptions;
mod time;

#[cfg(feature = "scram")]
pub mod scram;

#[cfg(test)]
mod tests;

pub use ack::{AckError, AckToken};
pub use auth::{AuthError, Authenticator};
pub use backoff::Backoff;
pub use event::{
    AuthFailure, CommandError, DisconnectReason, Event, ProtocolViolation, RequestError, RequestId,
    Stats,
};
pub use options::{Options, ReceiveMaximumPolicy, TopicAliasPolicy};
pub use packet_id::PacketIds;
pub use router::{RouteId, Router};
pub use store::{SessionSnapshot, StoreUpdate, StoredPublish, UnknownRequest};
pub use subscriptions::{ActiveSubscription, Subscriptions};
pub use time::Instant;

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

use bytes::{Bytes, BytesMut};

use crate::codec::{ConnAck, Decoder, Packet, ProtocolVersion, QoS};
use ack::PendingAcks;
use alias::{InboundAliases, OutboundAliases};
use outgoing::{Outgoing, PendingRequest};

/// What the broker said it supports, with the specification's defaults for
/// what it did not say (3.2.2.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerCapabilities {
    /// Receive Maximum: our QoS 1/2 publishes in flight at once. Default 65535.
    pub receive_maximum: u16,
    /// Maximum QoS. Default 2.
    pub maximum_qos: QoS,
    /// Retain Available. Default true.
    pub retain_available: bool,
    /// Maximum Packet Size. Default none.
    pub maximum_packet_size: Option<u32>,
    /// Topic Alias Maximum. Default 0.
    pub topic_alias_maximum: u16,
    /// Wildcard Subscription Available. Default true.
    pub wildcard_subscription_available: bool,
    /// Subscription Identifiers Available. Default true (false on 3.1.1, which has none).
    pub subscription_identifier_available: bool,
    /// Shared Subscription Available. Default true.
    pub shared_subscription_available: bool,
}

impl ServerCapabilities {
    /// The defaults before or without a CONNACK that says otherwise.
    pub fn defaults(version: ProtocolVersion) -> Self {
        ServerCapabilities {
            receive_maximum: u16::MAX,
            maximum_qos: QoS::ExactlyOnce,
            retain_available: true,
            maximum_packet_size: None,
            topic_alias_maximum: 0,
            wildcard_subscription_available: true,
            subscription_identifier_available: version == ProtocolVersion::V5,
            shared_subscription_available: true,
        }
    }

    fn from_connack(version: ProtocolVersion, connack: &ConnAck) -> Self {
        let d = Self::defaults(version);
        let p = &connack.properties;
        ServerCapabilities {
            receive_maximum: p.receive_maximum.unwrap_or(d.receive_maximum),
            maximum_qos: p.maximum_qos.unwrap_or(d.maximum_qos),
            retain_available: p.retain_available.unwrap_or(d.retain_available),
            maximum_packet_size: p.maximum_packet_size,
            topic_alias_maximum: p.topic_alias_maximum.unwrap_or(0),
            wildcard_subscription_available: p
                .wildcard_subscription_available
                .unwrap_or(d.wildcard_subscription_available),
            subscription_identifier_available: p
                .subscription_identifier_available
                .unwrap_or(d.subscription_identifier_available),
            shared_subscription_available: p
                .shared_subscription_available
                .unwrap_or(d.shared_subscription_available),
        }
    }
}

/// Where the fallback to 3.1.1 stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fallback {
    /// Not tried: a 5.0 refusal may still fall back.
    Armed,
    /// Tried because a 5.0 CONNECT was closed without CONNACK, which a
    /// network failure also does: if the 3.1.1 CONNECT meets the same, the
    /// next attempt is 5.0 again.
    Tentative,
    /// The tentative 3.1.1 CONNECT was accepted, which proves only that the
    /// broker is up now: the client left that connection at once and asks
    /// in 5.0 again. Closed without CONNACK (or refused as unsupported) by
    /// the broker that just answered, 3.1.1 is confirmed; accepted, 5.0 stays.
    Verifying,
    /// The broker answered: the version stays.
    Done,
}

/// Where the connection stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionState {
    /// No transport: before the first connect or after a disconnect.
    Disconnected,
    /// CONNECT sent, waiting for CONNACK (or in an AUTH exchange).
    Connecting,
    /// CONNACK accepted.
    Connected,
}

/// The sans-IO MQTT client. See the [module documentation](self) for the contract and a run loop.
pub struct Client {
    options: Options,
    authenticator: Option<Box<dyn Authenticator>>,
    /// Version in use; falls back to 3.1.1 at most once.
    version: ProtocolVersion,
    fallback: Fallback,
    state: ConnectionState,
    /// Whether the user asked to stop: no reconnect.
    closed: bool,
    /// When the current connection attempt or connection began.
    since: Instant,
    connects: u64,
    /// Reconnect attempts since the last stable connection.
    attempts: u32,
    last_reason: Option<DisconnectReason>,
    /// Whether the broker may hold a session for us that a connect can resume.
    session_may_exist: bool,
    /// AUTH round trips in the current exchange; `None` when none is running.
    auth_exchanges: Option<u16>,
    /// Authentication Method the current connection's CONNECT carried (5.0).
    auth_method: Option<crate::codec::MqttString>,

    decoder: Decoder,
    rx: BytesMut,
    tx: BytesMut,
    /// QoS 0 publishes in `tx`, completed when `tx` is handed out.
    tx_qos0: Vec<RequestId>,
    events: VecDeque<Event>,
    store_updates: VecDeque<StoreUpdate>,
    next_request: u64,

    connack: Option<ConnAck>,
    server: ServerCapabilities,
    keep_alive: core::time::Duration,
    last_sent: Instant,
    last_received: Instant,
    ping_sent: Option<Instant>,

    packet_ids: PacketIds,
    outgoing: Outgoing,
    requests: BTreeMap<u16, PendingRequest>,
    /// Received QoS 2 messages awaiting PUBREL, each with the number of the
    /// connection (`connects`) on which the broker last sent its PUBLISH.
    incoming_qos2: BTreeMap<u16, u64>,
    /// Entries of `incoming_qos2` from this connection: only they count toward
    /// our Receive Maximum, as the broker's send quota starts afresh with
    /// each connection (4.9).
    incoming_qos2_current: usize,
    /// Received QoS 1/2 messages whose PUBACK or PUBREC has not been sent, oldest first.
    pending_acks: PendingAcks,
    subscriptions: Subscriptions,
    aliases_out: OutboundAliases,
    aliases_in: InboundAliases,
    stats: Stats,
}

impl core::fmt::Debug for Client {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Client")
            .field("client_id", &self.options.client_id)
            .field("version", &self.version)
            .field("state", &self.state)
            .field("in_flight", &self.outgoing.in_flight())
            .field("queued", &self.outgoing.queued())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A disconnected client with these options.
    pub fn new(options: Options) -> Self {
        let version = options.protocol_version;
        let mut decoder = Decoder::new(version);
        if let Some(max) = options.maximum_packet_size {
            decoder.set_max_packet_size(max);
        }
        Client {
            authenticator: None,
            version,
            fallback: Fallback::Armed,
            state: ConnectionState::Disconnected,
            closed: false,
            since: Instant::ZERO,
            connects: 0,
            attempts: 0,
            last_reason: None,
            session_may_exist: !options.clean_start,
            auth_exchanges: None,
            auth_method: None,
            decoder,
            rx: BytesMut::new(),
            tx: BytesMut::new(),
            tx_qos0: Vec::new(),
            events: VecDeque::new(),
            store_updates: VecDeque::new(),
            next_request: 1,
            connack: None,
            server: ServerCapabilities::defaults(version),
            keep_alive: core::time::Duration::ZERO,
            last_sent: Instant::ZERO,
            last_received: Instant::ZERO,
            ping_sent: None,
            packet_ids: PacketIds::new(),
            outgoing: Outgoing::default(),
            requests: BTreeMap::new(),
            incoming_qos2: BTreeMap::new(),
            incoming_qos2_current: 0,
            pending_acks: PendingAcks::default(),
            subscriptions: Subscriptions::default(),
            aliases_out: OutboundAliases::default(),
            aliases_in: InboundAliases::default(),
            stats: Stats::default(),
            options,
        }
    }

    /// Sets the enhanced authentication method (5.0) used by every connect.
    pub fn set_authenticator(&mut self, authenticator: Box<dyn Authenticator>) {
        self.authenticator = Some(authenticator);
    }

    /// The options in force.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The protocol version in use (after any fallback).
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.version
    }

    /// Where the connection stands.
    pub fn state(&self) -> ConnectionState {
        self.state
    }

    /// The broker's capabilities from the last CONNACK (defaults before one).
    pub fn server_capabilities(&self) -> &ServerCapabilities {
        &self.server
    }

    /// The last accepted CONNACK: assigned client identifier, server keep alive,
    /// response information, server reference, user properties.
    pub fn connack(&self) -> Option<&ConnAck> {
        self.connack.as_ref()
    }

    /// The client identifier in use (the broker-assigned one after it assigned one).
    pub fn client_id(&self) -> &crate::codec::MqttString {
        &self.options.client_id
    }

    /// Granted subscriptions.
    pub fn subscriptions(&self) -> &Subscriptions {
        &self.subscriptions
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// QoS 1/2 publishes sent and not yet finished.
    pub fn in_flight(&self) -> usize {
        self.outgoing.in_flight()
    }

    /// Publishes waiting for a connection or for the broker's Receive Maximum.
    pub fn queued(&self) -> usize {
        self.outgoing.queued()
    }

    /// Whether [`Client::poll_transmit`] has bytes to hand out.
    pub fn has_transmit(&self) -> bool {
        !self.tx.is_empty()
    }

    /// Bytes to write to the transport, in order; `None` when there are none.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        if self.tx.is_empty() {
            return None;
        }
        for id in self.tx_qos0.drain(..) {
            self.events.push_back(Event::Published {
                id,
                result: Ok(crate::codec::ReasonCode::Success),
            });
        }
        self.stats.bytes_sent += self.tx.len() as u64;
        Some(self.tx.split().freeze())
    }

    /// The next event for the user.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The next change a durable session store must record.
    pub fn poll_store_update(&mut self) -> Option<StoreUpdate> {
        self.store_updates.pop_front()
    }

    fn next_request_id(&mut self) -> RequestId {
        let id = RequestId(self.next_request);
        self.next_request += 1;
        id
    }

    /// Encodes `packet` for sending. Packets built by the client always encode;
    /// a failure here is reported as an error for the caller to map.
    fn send(&mut self, now: Instant, packet: &Packet) -> Result<(), crate::codec::EncodeError> {
        packet.encode(self.version, &mut self.tx)?;
        self.sent(now);
        Ok(())
    }

    fn sent(&mut self, now: Instant) {
        self.stats.packets_sent += 1;
        self.last_sent = now;
    }

    /// A copy of the session state a durable store would hold.
    pub fn snapshot(&self) -> SessionSnapshot {
        SessionSnapshot {
            outgoing: self.outgoing.snapshot(),
            incoming_qos2: self.incoming_qos2.keys().copied().collect(),
            subscriptions: self.subscriptions.iter().cloned().collect(),
        }
    }

    /// A disconnected client that resumes a stored session on its next connect.
    pub fn restore(options: Options, snapshot: SessionSnapshot) -> Self {
        let mut client = Client::new(options);
        client.session_may_exist = true;
        for sub in snapshot.subscriptions {
            client.subscriptions.insert(sub);
        }
        // Marked as connection 0's: none counts toward Receive Maximum once a connection starts.
        client.incoming_qos2 = snapshot.incoming_qos2.into_iter().map(|p| (p, 0)).collect();
        let mut last = 0;
        for stored in snapshot.outgoing {
            last = last.max(stored.id.0);
            client.outgoing.restore(stored, &mut client.packet_ids);
        }
        client.next_request = last + 1;
        client
    }
}
