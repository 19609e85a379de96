//! PUBACK, PUBREC, PUBREL and PUBCOMP (sections 3.4 to 3.7): a packet
//! identifier, then on 5.0 an optional reason code and properties.

use super::{check_reason_code, put_packet_id, read_packet_id, read_reason_code, Body, DecodeBody};
use crate::codec::error::{DecodeError, EncodeError};
use crate::codec::properties::{Properties, PropertyContext};
use crate::codec::reason::ReasonCode;
use crate::codec::types::{PacketType, ProtocolVersion};
use crate::codec::wire::{Reader, Sink};

/// Encodes the shared body; the short forms are used whenever they say the same.
fn encode_ack<S: Sink>(
    packet_type: PacketType,
    context: PropertyContext,
    packet_id: u16,
    reason_code: ReasonCode,
    properties: &Properties,
    version: ProtocolVersion,
    s: &mut S,
) -> Result<(), EncodeError> {
    put_packet_id(s, packet_id, packet_type)?;
    if version == ProtocolVersion::V311 {
        return Ok(());
    }
    if S::CHECKS {
        check_reason_code(reason_code, packet_type)?;
    }
    let no_properties = properties.is_empty();
    if reason_code == ReasonCode::Success && no_properties {
        return Ok(());
    }
    s.put_u8(reason_code.value());
    if !no_properties {
        properties.encode(context, None, s)?;
    }
    Ok(())
}

/// Decodes the shared body, accepting the short forms (3.4.2.1, 3.4.2.2.1).
fn decode_ack(
    r: &mut Reader<'_>,
    packet_type: PacketType,
    context: PropertyContext,
    version: ProtocolVersion,
) -> Result<(u16, ReasonCode, Properties), DecodeError> {
    let packet_id = read_packet_id(r, packet_type)?;
    if version == ProtocolVersion::V311 || r.remaining() == 0 {
        return Ok((packet_id, ReasonCode::Success, Properties::default()));
    }
    let reason_code = read_reason_code(r, packet_type)?;
    let properties = if r.remaining() == 0 {
        Properties::default()
    } else {
        Properties::decode(r, context)?
    };
    Ok((packet_id, reason_code, properties))
}

macro_rules! ack_packet {
    ($(#[doc = $doc:literal])* $name:ident, $context:ident) => {
        $(#[doc = $doc])*
        #[derive(Clone, Debug, Default, PartialEq, Eq)]
        pub struct $name {
            /// Packet Identifier of the PUBLISH this answers.
            pub packet_id: u16,
            /// Reason Code (5.0); Success on 3.1.1.
            pub reason_code: ReasonCode,
            /// Properties (5.0): Reason String and User Properties.
            pub properties: Properties,
        }

        impl $name {
            /// A successful response for `packet_id`.
            pub fn new(packet_id: u16) -> Self {
                $name { packet_id, ..Default::default() }
            }
        }

        impl Body for $name {
            const TYPE: PacketType = PacketType::$name;

            fn encode_body<S: Sink>(&self, version: ProtocolVersion, s: &mut S) -> Result<(), EncodeError> {
                encode_ack(
                    Self::TYPE,
                    PropertyContext::$context,
                    self.packet_id,
                    self.reason_code,
                    &self.properties,
                    version,
                    s,
                )
            }

        }

        impl DecodeBody for $name {
            fn decode_body(r: &mut Reader<'_>, _: u8, version: ProtocolVersion) -> Result<Self, DecodeError> {
                let (packet_id, reason_code, properties) =
                    decode_ack(r, Self::TYPE, PropertyContext::$context, version)?;
                Ok($name { packet_id, reason_code, properties })
            }
        }
    };
}

ack_packet!(
    /// PUBACK: the response to a QoS 1 PUBLISH.
    ///
    /// ```
    /// use mq_proto::{PubAck, ProtocolVersion};
    /// let mut buf = Vec::new();
    /// PubAck::new(10).encode(ProtocolVersion::V5, &mut buf).unwrap();
    /// assert_eq!(buf, [0x40, 0x02, 0x00, 0x0A]);
    /// ```
    PubAck,
    PubAck
);
ack_packet!(
    /// PUBREC: the first response to a QoS 2 PUBLISH.
    PubRec,
    PubRec
);
ack_packet!(
    /// PUBREL: the answer to PUBREC.
    PubRel,
    PubRel
);
ack_packet!(
    /// PUBCOMP: the answer to PUBREL, completing QoS 2.
    PubComp,
    PubComp
);
