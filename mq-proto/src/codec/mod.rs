//! The MQTT 3.1.1 / 5.0 codec: packets, properties, reason codes, framing.
//!
//! Decoding is strict and zero-copy: a [`Decoder`] splits whole packets off a
//! read buffer, checking the size limit from the fixed header, and decoded
//! payloads, strings and binary properties are slices of that buffer.
//! Encoding measures first ([`Packet::encoded_len`]) and refuses invalid user
//! input with an [`EncodeError`] before writing a byte.

mod error;
mod frame;
mod packets;
mod properties;
mod reason;
mod string;
mod types;
mod wire;

pub use error::{DecodeError, EncodeError};
pub use frame::{check_frame, Decoder, FixedHeader, Frame, MAX_PACKET_SIZE};
pub(crate) use packets::AliasedPublish;
pub use packets::{
    Auth, ConnAck, Connect, Disconnect, Packet, Password, PubAck, PubComp, PubRec, PubRel, Publish,
    RetainHandling, SubAck, Subscribe, SubscribeFilter, SubscriptionOptions, UnsubAck, Unsubscribe,
    Will,
};
pub use properties::{PayloadFormat, Properties, PropertyContext, PropertyId, PropertyValues};
pub use reason::{ConnectReturnCode, ReasonCode};
pub use string::MqttString;
pub use types::{PacketType, ProtocolVersion, QoS};
pub use wire::VARIABLE_BYTE_INTEGER_MAX;

pub(crate) use wire::{any_byte, word, LENGTH_PREFIXED_MAX};

#[cfg(test)]
mod tests;
