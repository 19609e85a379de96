//! Typed errors for decoding what a peer sent and encoding what a user built.

use bytes::Bytes;

use super::properties::{PropertyContext, PropertyId};
use super::reason::ReasonCode;
use super::types::PacketType;
use crate::topic::TopicError;

/// A packet from the peer broke a rule of the specification.
///
/// Every variant names the rule and carries the offending value;
/// [`DecodeError::reason_code`] gives the code to send in DISCONNECT.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The packet type nibble is 0, or 15 (AUTH) on a 3.1.1 connection.
    #[error("packet type {0} is reserved")]
    ReservedPacketType(u8),
    /// Fixed header flags other than the ones the packet type requires (2.1.3).
    #[error("fixed header flags {flags:#06b} are not valid for {packet_type}")]
    InvalidFixedHeaderFlags {
        /// The packet type.
        packet_type: PacketType,
        /// The low nibble received.
        flags: u8,
    },
    /// A QoS field holds 3.
    #[error("QoS 3 in {0}")]
    InvalidQoS(&'static str),
    /// DUP set on a QoS 0 PUBLISH (MQTT-3.3.1-2).
    #[error("DUP flag set on a QoS 0 PUBLISH")]
    DupWithQoS0,
    /// A Variable Byte Integer longer than four bytes or not minimally encoded (MQTT-1.5.5-1).
    #[error("malformed Variable Byte Integer")]
    MalformedVariableByteInteger,
    /// The packet is larger than the Maximum Packet Size in force.
    #[error("packet of {size} bytes exceeds the maximum packet size of {max} bytes")]
    PacketTooLarge {
        /// Total size of the packet, fixed header included.
        size: usize,
        /// The limit.
        max: u32,
    },
    /// The packet ended in the middle of a field.
    #[error("packet ends inside {0}")]
    Truncated(&'static str),
    /// Bytes left over after the last field of the packet.
    #[error("{count} unexpected bytes at the end of {packet_type}")]
    TrailingBytes {
        /// The packet type.
        packet_type: PacketType,
        /// How many bytes were left.
        count: usize,
    },
    /// A string is not well-formed UTF-8 (MQTT-1.5.4-1).
    #[error("{0} is not well-formed UTF-8")]
    InvalidUtf8(&'static str),
    /// A string holds U+0000 (MQTT-1.5.4-2).
    #[error("{0} contains the null character U+0000")]
    NullCharacter(&'static str),
    /// A property identifier the specification does not define.
    #[error("unknown property identifier {0:#04x}")]
    UnknownProperty(u32),
    /// A property that this packet may not carry (2.2.2.2).
    #[error("property {property} is not allowed in {context}")]
    PropertyNotAllowed {
        /// The property.
        property: PropertyId,
        /// Where it appeared.
        context: PropertyContext,
    },
    /// A property that may appear only once appeared again.
    #[error("property {0} appears more than once")]
    DuplicateProperty(PropertyId),
    /// A property value outside its range (such as Receive Maximum 0).
    #[error("property {property} has the invalid value {value}")]
    InvalidPropertyValue {
        /// The property.
        property: PropertyId,
        /// The value received.
        value: u32,
    },
    /// A reason code that this packet type may not carry.
    #[error("reason code {code:#04x} is not valid in {packet_type}")]
    InvalidReasonCode {
        /// The packet type.
        packet_type: PacketType,
        /// The byte received.
        code: u8,
    },
    /// A CONNECT whose protocol name is not `MQTT`.
    #[error("protocol name {0:?} is not MQTT")]
    InvalidProtocolName(Bytes),
    /// A protocol level other than 4 or 5.
    #[error("protocol level {0} is not supported")]
    UnsupportedProtocolLevel(u8),
    /// CONNECT flags that break 3.1.2 (reserved bit, will flags, password without user name on 3.1.1).
    #[error("CONNECT flags {0:#010b} are invalid")]
    InvalidConnectFlags(u8),
    /// CONNACK acknowledge flags with reserved bits set (MQTT-3.2.2-1).
    #[error("CONNACK acknowledge flags {0:#010b} have reserved bits set")]
    InvalidConnAckFlags(u8),
    /// A packet identifier of 0 (MQTT-2.2.1-3).
    #[error("{0} has packet identifier 0")]
    ZeroPacketIdentifier(PacketType),
    /// A Topic Alias of 0 (3.3.2.3.4).
    #[error("topic alias 0 is not permitted")]
    TopicAliasZero,
    /// A Subscription Identifier of 0 (3.8.2.1.2).
    #[error("subscription identifier 0 is not permitted")]
    SubscriptionIdentifierZero,
    /// A SUBSCRIBE, UNSUBSCRIBE, SUBACK or UNSUBACK without entries (MQTT-3.8.3-2, MQTT-3.10.3-2).
    #[error("{0} carries no topic filters or reason codes")]
    EmptyPayload(PacketType),
    /// Subscription options with reserved bits set, Retain Handling 3 or Maximum QoS 3.
    #[error("subscription options {0:#010b} are invalid")]
    InvalidSubscriptionOptions(u8),
    /// No Local set on a shared subscription (MQTT-3.8.3-4).
    #[error("No Local set on shared subscription {0:?}")]
    NoLocalOnSharedSubscription(crate::MqttString),
    /// An invalid Topic Name.
    #[error("invalid topic name: {0}")]
    InvalidTopicName(TopicError),
    /// An invalid Topic Filter.
    #[error("invalid topic filter: {0}")]
    InvalidTopicFilter(TopicError),
    /// A PUBLISH with an empty Topic Name and no Topic Alias.
    #[error("PUBLISH has an empty topic name and no topic alias")]
    MissingTopicName,
}

impl DecodeError {
    /// The 5.0 reason code to send in the DISCONNECT that closes the connection.
    ///
    /// ```
    /// use mq_proto::{DecodeError, ReasonCode};
    /// let e = DecodeError::PacketTooLarge { size: 2000, max: 1024 };
    /// assert_eq!(e.reason_code(), ReasonCode::PacketTooLarge);
    /// ```
    pub fn reason_code(&self) -> ReasonCode {
        use DecodeError::*;
        match self {
            PacketTooLarge { .. } => ReasonCode::PacketTooLarge,
            TopicAliasZero => ReasonCode::TopicAliasInvalid,
            // Reserved bits are malformed (MQTT-3.8.3-5); Retain Handling 3 and
            // Maximum QoS 3 are Protocol Errors (3.8.3.1).
            InvalidSubscriptionOptions(options) if options & 0xC0 != 0 => {
                ReasonCode::MalformedPacket
            }
            DuplicateProperty(_)
            | InvalidPropertyValue { .. }
            | SubscriptionIdentifierZero
            | MissingTopicName
            | ZeroPacketIdentifier(_)
            | NoLocalOnSharedSubscription(_)
            | EmptyPayload(_)
            | InvalidSubscriptionOptions(_) => ReasonCode::ProtocolError,
            UnsupportedProtocolLevel(_) | InvalidProtocolName(_) => {
                ReasonCode::UnsupportedProtocolVersion
            }
            _ => ReasonCode::MalformedPacket,
        }
    }
}

/// A packet the user built cannot be encoded as a valid packet.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// A string or binary field longer than 65,535 bytes.
    #[error("{field} is {len} bytes long; the limit is 65535")]
    TooLong {
        /// The field.
        field: &'static str,
        /// Its length.
        len: usize,
    },
    /// A string holds U+0000.
    #[error("{0} contains the null character U+0000")]
    NullCharacter(&'static str),
    /// An invalid Topic Name (for example one with a wildcard).
    #[error("invalid topic name: {0}")]
    InvalidTopicName(TopicError),
    /// An invalid Topic Filter.
    #[error("invalid topic filter: {0}")]
    InvalidTopicFilter(TopicError),
    /// A property that this packet may not carry.
    #[error("property {property} is not allowed in {context}")]
    PropertyNotAllowed {
        /// The property.
        property: PropertyId,
        /// Where it was set.
        context: PropertyContext,
    },
    /// A property value outside its range.
    #[error("property {property} has the invalid value {value}")]
    InvalidPropertyValue {
        /// The property.
        property: PropertyId,
        /// The value set.
        value: u32,
    },
    /// The packet would exceed the largest Remaining Length, 268,435,455 bytes.
    #[error("remaining length {0} exceeds 268435455")]
    PacketTooLarge(usize),
    /// A packet that needs a packet identifier was given 0.
    #[error("{0} needs a non-zero packet identifier")]
    ZeroPacketIdentifier(PacketType),
    /// DUP set on a QoS 0 PUBLISH.
    #[error("DUP flag set on a QoS 0 PUBLISH")]
    DupWithQoS0,
    /// A reason code this packet type may not carry.
    #[error("reason code {code} is not valid in {packet_type}")]
    InvalidReasonCode {
        /// The packet type.
        packet_type: PacketType,
        /// The code.
        code: ReasonCode,
    },
    /// Something MQTT 3.1.1 cannot express (an AUTH packet, a password without a user name, a CONNACK code with no 3.1.1 equivalent).
    #[error("{0} cannot be expressed in MQTT 3.1.1")]
    NotInV311(&'static str),
    /// A SUBSCRIBE, UNSUBSCRIBE, SUBACK or UNSUBACK without entries.
    #[error("{0} needs at least one topic filter or reason code")]
    EmptyPayload(PacketType),
    /// A PUBLISH with an empty topic and no Topic Alias.
    #[error("PUBLISH needs a topic name or a topic alias")]
    MissingTopicName,
    /// No Local set on a shared subscription.
    #[error("No Local set on shared subscription {0:?}")]
    NoLocalOnSharedSubscription(crate::MqttString),
}
