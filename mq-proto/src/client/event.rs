//! What the client tells its user: events, completion results and errors.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::codec::{
    ConnAck, DecodeError, Disconnect, EncodeError, MqttString, PacketType, Publish, QoS, ReasonCode,
};
use crate::topic::TopicError;

use super::auth::AuthError;

/// Names a command (publish, subscribe, unsubscribe) until its completion event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId(pub u64);

/// Something the user must learn, pulled with [`super::Client::poll_event`].
// `Message` is the hot variant: boxing it would allocate for every message.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// CONNACK accepted the connection.
    Connected {
        /// Whether the broker resumed an existing session.
        session_present: bool,
    },
    /// A message arrived. A Topic Alias has been resolved into `topic`;
    /// Subscription Identifiers are in `properties`. With
    /// [`Options::manual_acks`](super::Options::manual_acks), a QoS 1 or 2
    /// message waits for [`Client::acknowledge`](super::Client::acknowledge)
    /// with its [`AckToken`](super::AckToken).
    Message(Publish),
    /// A publish finished: QoS 0 once handed out for writing, QoS 1 on PUBACK,
    /// QoS 2 on PUBCOMP, or it failed.
    Published {
        /// The publish.
        id: RequestId,
        /// The broker's reason code, or why it failed.
        result: Result<ReasonCode, RequestError>,
    },
    /// A subscribe finished with one reason code per filter (granted QoS or failure).
    Subscribed {
        /// The subscribe.
        id: RequestId,
        /// Per-filter codes, or why it failed as a whole.
        result: Result<Vec<ReasonCode>, RequestError>,
    },
    /// An unsubscribe finished with one reason code per filter (empty on 3.1.1).
    Unsubscribed {
        /// The unsubscribe.
        id: RequestId,
        /// Per-filter codes, or why it failed as a whole.
        result: Result<Vec<ReasonCode>, RequestError>,
    },
    /// Subscriptions the client made again because the broker had lost the
    /// session, with the broker's code for each; failed ones are no longer active.
    Resubscribed(Vec<(MqttString, ReasonCode)>),
    /// Re-authentication (5.0 AUTH 0x19) succeeded.
    Reauthenticated,
    /// The connection ended. The transport should be closed once
    /// [`super::Client::poll_transmit`] is drained; see
    /// [`super::Client::reconnect_delay`] for what to do next.
    Disconnected(DisconnectReason),
}

/// Why a connection ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DisconnectReason {
    /// The user called [`super::Client::disconnect`].
    Local,
    /// The broker refused the CONNECT.
    Refused(Box<ConnAck>),
    /// The broker sent DISCONNECT (for example Session taken over 0x8E, Use another server 0x9C).
    Server(Box<Disconnect>),
    /// The broker broke the protocol; a DISCONNECT with `reason_code` was queued (5.0).
    ProtocolError {
        /// The code sent to the broker.
        reason_code: ReasonCode,
        /// What went wrong.
        violation: ProtocolViolation,
    },
    /// No PINGRESP within the ping timeout.
    KeepAliveTimeout,
    /// No CONNACK within the connect timeout.
    ConnectTimeout,
    /// The transport closed or failed.
    TransportClosed,
    /// The broker does not speak 5.0; the next connect uses 3.1.1.
    ProtocolFallback,
}

impl DisconnectReason {
    /// Whether reconnecting may help: network trouble yes; refused credentials,
    /// bans, or a session taken over by another client no.
    pub fn is_retryable(&self) -> bool {
        match self {
            DisconnectReason::Local => false,
            DisconnectReason::Refused(c) => !matches!(
                c.reason_code,
                ReasonCode::BadUserNameOrPassword
                    | ReasonCode::NotAuthorized
                    | ReasonCode::Banned
                    | ReasonCode::BadAuthenticationMethod
                    | ReasonCode::ClientIdentifierNotValid
                    | ReasonCode::UnsupportedProtocolVersion
            ),
            DisconnectReason::Server(d) => d.reason_code != ReasonCode::SessionTakenOver,
            DisconnectReason::ProtocolError { violation, .. } => {
                !matches!(violation, ProtocolViolation::Auth(_))
            }
            _ => true,
        }
    }
}

/// Readable, with the reason code and any Reason String the broker gave.
///
/// ```
/// use mq_proto::client::DisconnectReason;
/// assert_eq!(DisconnectReason::KeepAliveTimeout.to_string(), "no PINGRESP within the ping timeout");
/// ```
impl core::fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let reason_string = |p: &crate::codec::Properties| {
            p.reason_string()
                .map(|r| alloc::format!(" ({r})"))
                .unwrap_or_default()
        };
        match self {
            DisconnectReason::Local => f.write_str("disconnected by the client"),
            DisconnectReason::Refused(c) => write!(
                f,
                "the broker refused the connection: {}{}",
                c.reason_code,
                reason_string(&c.properties)
            ),
            DisconnectReason::Server(d) => write!(
                f,
                "the broker disconnected: {}{}",
                d.reason_code,
                reason_string(&d.properties)
            ),
            DisconnectReason::ProtocolError {
                reason_code,
                violation,
            } => write!(
                f,
                "protocol error by the broker: {violation}; sent DISCONNECT {reason_code}"
            ),
            DisconnectReason::KeepAliveTimeout => {
                f.write_str("no PINGRESP within the ping timeout")
            }
            DisconnectReason::ConnectTimeout => {
                f.write_str("no CONNACK within the connect timeout")
            }
            DisconnectReason::TransportClosed => f.write_str("the connection closed"),
            DisconnectReason::ProtocolFallback => {
                f.write_str("the broker does not speak MQTT 5.0; falling back to 3.1.1")
            }
        }
    }
}

/// A rule of the protocol the broker broke.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolViolation {
    /// A packet could not be decoded.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A packet a server must not send, or not in this state.
    #[error("unexpected {0} from the server")]
    UnexpectedPacket(PacketType),
    /// A Topic Alias above our Topic Alias Maximum.
    #[error("topic alias {alias} exceeds our maximum {maximum}")]
    TopicAliasInvalid {
        /// The alias received.
        alias: u16,
        /// Our Topic Alias Maximum.
        maximum: u16,
    },
    /// An empty topic with a Topic Alias we do not know.
    #[error("unknown topic alias {0}")]
    UnknownTopicAlias(u16),
    /// A QoS 2 message beyond our Receive Maximum of unacknowledged messages.
    #[error("more than {0} unacknowledged messages")]
    ReceiveMaximumExceeded(u16),
    /// A SUBACK or UNSUBACK whose code count differs from the request's filter count.
    #[error("{packet_type} has {got} reason codes for {expected} topic filters")]
    ReasonCodeCount {
        /// SUBACK or UNSUBACK.
        packet_type: PacketType,
        /// Filters requested.
        expected: usize,
        /// Codes received.
        got: usize,
    },
    /// CONNACK with Session Present set in answer to a Clean Start (MQTT-3.2.2-2).
    #[error("session present in answer to a clean start")]
    SessionPresentOnCleanStart,
    /// Enhanced authentication failed.
    #[error("authentication: {0}")]
    Auth(AuthFailure),
}

/// How an enhanced authentication exchange failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthFailure {
    /// The authenticator refused the server's data.
    #[error(transparent)]
    Authenticator(#[from] AuthError),
    /// AUTH without an authenticator, or with another method.
    #[error("server used authentication method {0:?}")]
    WrongMethod(Option<MqttString>),
    /// More round trips than allowed.
    #[error("more than {0} AUTH exchanges")]
    TooManyExchanges(u16),
}

/// Why an accepted command failed later.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The broker answered with an error reason code.
    #[error("rejected by the broker: {reason_code}{}", reason_string.as_ref().map(|s| alloc::format!(" ({s})")).unwrap_or_default())]
    Rejected {
        /// The code.
        reason_code: ReasonCode,
        /// The Reason String, if any.
        reason_string: Option<MqttString>,
    },
    /// The packet is larger than the broker's Maximum Packet Size; it was not sent.
    #[error("packet of {size} bytes exceeds the broker's maximum packet size {max}")]
    PacketTooLarge {
        /// Encoded size.
        size: usize,
        /// The broker's limit.
        max: u32,
    },
    /// The Message Expiry Interval passed while the message was queued.
    #[error("message expired before it could be sent")]
    Expired,
    /// A restored message cannot be encoded.
    #[error(transparent)]
    Invalid(#[from] EncodeError),
    /// The connection closed before a QoS 0 message was handed out for writing.
    #[error("connection closed before the message was sent")]
    NotSent,
}

/// Why a command was refused at once.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// An invalid topic name or filter.
    #[error("invalid topic: {0}")]
    InvalidTopic(#[from] TopicError),
    /// The packet cannot be encoded.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The broker's Maximum QoS is lower.
    #[error("QoS {requested:?} exceeds the broker's maximum {maximum:?}")]
    QoSNotSupported {
        /// QoS asked for.
        requested: QoS,
        /// The broker's Maximum QoS.
        maximum: QoS,
    },
    /// The broker does not support retained messages.
    #[error("the broker does not support retained messages")]
    RetainNotSupported,
    /// The broker does not support wildcard subscriptions.
    #[error("the broker does not support wildcard subscriptions")]
    WildcardSubscriptionsNotSupported,
    /// The broker does not support subscription identifiers.
    #[error("the broker does not support subscription identifiers")]
    SubscriptionIdentifiersNotSupported,
    /// The broker does not support shared subscriptions.
    #[error("the broker does not support shared subscriptions")]
    SharedSubscriptionsNotSupported,
    /// The packet is larger than the broker's Maximum Packet Size.
    #[error("packet of {size} bytes exceeds the broker's maximum packet size {max}")]
    PacketTooLarge {
        /// Encoded size.
        size: usize,
        /// The broker's limit.
        max: u32,
    },
    /// The outgoing queue is full.
    #[error("outgoing queue is full ({0} messages)")]
    QueueFull(usize),
    /// Topic Aliases are managed by the client; do not set one.
    #[error("topic aliases are assigned by the client")]
    TopicAliasManaged,
    /// SUBSCRIBE or UNSUBSCRIBE without filters.
    #[error("no topic filters given")]
    NoTopicFilters,
    /// All 65,535 packet identifiers are in use.
    #[error("all packet identifiers are in use")]
    PacketIdentifiersExhausted,
    /// The command needs a live connection.
    #[error("not connected")]
    NotConnected,
    /// `connect` on a connection that has not ended.
    #[error("a connection is already open or being opened")]
    AlreadyConnected,
    /// The command needs MQTT 5.0.
    #[error("{0} needs MQTT 5.0")]
    NeedsV5(&'static str),
    /// Re-authentication without an authenticator for the Authentication
    /// Method this connection's CONNECT carried (MQTT-4.12.0-7, MQTT-4.12.1-1).
    #[error("no authenticator for the connection's authentication method")]
    NoAuthenticator,
    /// The authenticator failed to start.
    #[error(transparent)]
    Auth(#[from] AuthError),
}

/// Counters of what went through the client.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Packets encoded for sending.
    pub packets_sent: u64,
    /// Packets decoded.
    pub packets_received: u64,
    /// Bytes handed out for writing.
    pub bytes_sent: u64,
    /// Bytes received.
    pub bytes_received: u64,
    /// Connects after the first.
    pub reconnects: u64,
    /// Queued messages dropped because their Message Expiry Interval passed.
    pub dropped_expired: u64,
    /// Publishes refused because the queue was full.
    pub dropped_queue_full: u64,
    /// Publishes failed because they exceeded the broker's Maximum Packet Size.
    pub dropped_too_large: u64,
    /// Incoming duplicates not delivered again: QoS 2 before PUBREL, QoS 1
    /// already acknowledged by the application.
    pub duplicates_suppressed: u64,
    /// Times the broker exceeded our Receive Maximum under the Tolerate policy.
    pub receive_maximum_violations: u64,
}
