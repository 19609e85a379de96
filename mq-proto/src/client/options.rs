//! What the user asks of a connection, with the defaults an MQTT user expects.

use alloc::vec::Vec;
use core::time::Duration;

use super::backoff::Backoff;
use crate::codec::{MqttString, Password, ProtocolVersion, Will};

/// What to do when a QoS 2 message arrives beyond our Receive Maximum.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReceiveMaximumPolicy {
    /// Close with DISCONNECT 0x93 Receive Maximum exceeded, as the specification intends.
    #[default]
    Disconnect,
    /// Accept the message and count the violation in [`super::Stats`].
    Tolerate,
}

/// How outgoing PUBLISH topics are replaced by Topic Aliases (5.0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TopicAliasPolicy {
    /// Never send Topic Aliases.
    Off,
    /// Give each topic an alias while the broker's Topic Alias Maximum allows,
    /// then reassign the least recently used alias.
    #[default]
    LeastRecentlyUsed,
}

/// Connection and session options.
///
/// ```
/// use core::time::Duration;
/// use mq_proto::client::Options;
/// let mut o = Options::new("sensor-17");
/// o.keep_alive = 30;
/// o.session_expiry_interval = 3600;
/// assert!(o.clean_start);
/// ```
#[derive(Clone, Debug)]
pub struct Options {
    /// Protocol version of the first CONNECT. Default 5.0.
    pub protocol_version: ProtocolVersion,
    /// Retry once at 3.1.1 when the first 5.0 CONNECT is refused as unsupported
    /// or closed without CONNACK. A close may be the network's: a 3.1.1
    /// CONNACK after one is verified by leaving and asking in 5.0 once more,
    /// and 3.1.1 stays only if the broker refuses or closes 5.0 again.
    /// Default on.
    pub protocol_fallback: bool,
    /// Client Identifier; empty asks the broker to assign one, which is then
    /// kept for every later connect.
    pub client_id: MqttString,
    /// Clean Start / Clean Session for the first connect. Later connects resume
    /// the session whenever one can exist. Default true.
    pub clean_start: bool,
    /// Keep Alive in seconds; 0 turns keep alive off. Default 60.
    pub keep_alive: u16,
    /// How long to wait for PINGRESP before declaring the connection lost.
    /// `None`: half the keep alive interval, at least one second.
    pub ping_timeout: Option<Duration>,
    /// How long to wait for CONNACK (and any AUTH exchange). Default 30 s.
    pub connect_timeout: Duration,
    /// User Name.
    pub username: Option<MqttString>,
    /// Password (binary); redacted in `Debug`.
    pub password: Option<Password>,
    /// Will Message.
    pub will: Option<Will>,
    /// Session Expiry Interval in seconds (5.0); 0 ends the session with the connection.
    pub session_expiry_interval: u32,
    /// Our Receive Maximum: QoS 1 and 2 messages the broker may leave
    /// unacknowledged (5.0). Default 65535 (not sent). Checked when a QoS 2
    /// message arrives, counting QoS 2 messages the broker sent on this
    /// connection and has not released, and messages whose PUBACK or
    /// PUBREC has not been sent.
    pub receive_maximum: u16,
    /// QoS 1/2 publishes in flight at once on a 3.1.1 connection, whose
    /// broker announces no Receive Maximum but has a limit of its own
    /// (Mosquitto's `max_inflight_messages`, 20 by default, beyond which
    /// it drops QoS 2 messages on 3.1.1). Default 20; the rest wait in the
    /// queue. On 5.0 the broker's Receive Maximum rules.
    pub v311_receive_maximum: u16,
    /// Policy when the broker exceeds our Receive Maximum.
    pub receive_maximum_policy: ReceiveMaximumPolicy,
    /// Largest packet we accept, fixed header included; advertised in CONNECT when set.
    pub maximum_packet_size: Option<u32>,
    /// Topic Aliases we accept from the broker (5.0). Default 0.
    pub topic_alias_maximum: u16,
    /// How we alias outgoing topics.
    pub topic_alias_policy: TopicAliasPolicy,
    /// Request Problem Information (5.0); `None` leaves the broker's default (true).
    pub request_problem_information: Option<bool>,
    /// Request Response Information (5.0).
    pub request_response_information: bool,
    /// CONNECT User Properties (5.0).
    pub user_properties: Vec<(MqttString, MqttString)>,
    /// Messages waiting for a connection or for the broker's Receive Maximum; beyond it publish fails.
    pub max_queued_messages: usize,
    /// AUTH round trips allowed per authentication. Default 10.
    pub max_auth_exchanges: u16,
    /// Delay between reconnect attempts.
    pub backoff: Backoff,
    /// Report [`super::StoreUpdate`]s for a durable session store, to be
    /// drained with [`Client::poll_store_update`](super::Client::poll_store_update)
    /// (they pile up otherwise). Default off. The mq adapters set it
    /// themselves: on exactly when a session store is configured.
    pub report_store_updates: bool,
    /// Hold the PUBACK (QoS 1) or PUBREC (QoS 2) of a received message until
    /// the application calls [`Client::acknowledge`](super::Client::acknowledge),
    /// so that a crash before then leaves the message unacknowledged and the
    /// broker sends it again. Default off: acknowledged on receipt. The mq
    /// adapters always turn it on and acknowledge a message once it is handed
    /// to its subscription (or when the application does, with their own
    /// `manual_acks` option).
    pub manual_acks: bool,
    /// Whether [`Router::add_subscribe`](super::Router::add_subscribe) gives a
    /// SUBSCRIBE without a Subscription Identifier one of its own (5.0, when
    /// the broker supports them). Default on: a broker that sends one copy
    /// of a message per matching subscription (Mosquitto does) then has each
    /// copy go to its own subscription's handler. Off: SUBSCRIBE goes out as
    /// given and messages are routed by topic filter alone, so with
    /// overlapping filters such a broker's copies each reach every matching
    /// handler.
    pub assign_subscription_identifiers: bool,
}

impl Options {
    /// Default options with this client identifier.
    pub fn new(client_id: impl Into<MqttString>) -> Self {
        Options {
            protocol_version: ProtocolVersion::V5,
            protocol_fallback: true,
            client_id: client_id.into(),
            clean_start: true,
            keep_alive: 60,
            ping_timeout: None,
            connect_timeout: Duration::from_secs(30),
            username: None,
            password: None,
            will: None,
            session_expiry_interval: 0,
            receive_maximum: u16::MAX,
            receive_maximum_policy: ReceiveMaximumPolicy::default(),
            maximum_packet_size: None,
            topic_alias_maximum: 0,
            topic_alias_policy: TopicAliasPolicy::default(),
            request_problem_information: None,
            request_response_information: false,
            user_properties: Vec::new(),
            max_queued_messages: 1000,
            max_auth_exchanges: 10,
            backoff: Backoff::default(),
            report_store_updates: false,
            manual_acks: false,
            v311_receive_maximum: 20,
            assign_subscription_identifiers: true,
        }
    }
}

impl Default for Options {
    /// Default options with an empty client identifier.
    fn default() -> Self {
        Options::new(MqttString::new())
    }
}
