//! PUBLISH (section 3.3).

use bytes::Bytes;

use super::{put_packet_id, read_packet_id, Body};
use crate::codec::error::{DecodeError, EncodeError};
use crate::codec::properties::{Properties, PropertyContext};
use crate::codec::string::MqttString;
use crate::codec::types::{PacketType, ProtocolVersion, QoS};
use crate::codec::wire::{Reader, Sink};
use crate::topic::{check_name_chars, check_topic_name};

/// A PUBLISH packet.
///
/// Decoded, `topic` and `payload` are slices of the read buffer. On 5.0 the
/// topic may be empty when a Topic Alias stands for it.
///
/// ```
/// use bytes::Bytes;
/// use mq_proto::{ProtocolVersion, Publish, QoS};
/// let mut p = Publish::new("sensors/1", Bytes::from_static(b"21.5"));
/// p.qos = QoS::AtLeastOnce;
/// p.packet_id = 7;
/// assert_eq!(p.encoded_len(ProtocolVersion::V5).unwrap(), 2 + 11 + 2 + 1 + 4);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Publish {
    /// DUP flag: a re-delivery of an earlier attempt.
    pub dup: bool,
    /// QoS level.
    pub qos: QoS,
    /// RETAIN flag.
    pub retain: bool,
    /// Topic Name.
    pub topic: MqttString,
    /// Packet Identifier; present when QoS is 1 or 2, ignored at QoS 0.
    pub packet_id: u16,
    /// Application Message.
    pub payload: Bytes,
    /// PUBLISH properties (5.0).
    pub properties: Properties,
}

impl Publish {
    /// A QoS 0 message without flags or properties.
    pub fn new(topic: impl Into<MqttString>, payload: impl Into<Bytes>) -> Self {
        Publish {
            dup: false,
            qos: QoS::AtMostOnce,
            retain: false,
            topic: topic.into(),
            packet_id: 0,
            payload: payload.into(),
            properties: Properties::default(),
        }
    }
}

impl Body for Publish {
    const TYPE: PacketType = PacketType::Publish;

    fn flags(&self) -> u8 {
        (u8::from(self.dup) << 3) | ((self.qos as u8) << 1) | u8::from(self.retain)
    }

    fn encode_body<S: Sink>(&self, version: ProtocolVersion, s: &mut S) -> Result<(), EncodeError> {
        if S::CHECKS {
            if self.dup && self.qos == QoS::AtMostOnce {
                return Err(EncodeError::DupWithQoS0);
            }
            let topic = self.topic.bytes();
            let aliased = version == ProtocolVersion::V5 && self.properties.topic_alias.is_some();
            if topic.is_empty() && !aliased {
                return Err(EncodeError::MissingTopicName);
            }
            if !topic.is_empty() {
                // Length, U+0000 and wildcards: all `put_str` would check, and more.
                check_topic_name(topic).map_err(EncodeError::InvalidTopicName)?;
            }
        }
        s.put_prefixed(self.topic.bytes());
        if self.qos != QoS::AtMostOnce {
            put_packet_id(s, self.packet_id, PacketType::Publish)?;
        }
        if version == ProtocolVersion::V5 {
            self.properties.encode(PropertyContext::Publish, s)?;
        }
        s.put_slice(&self.payload);
        Ok(())
    }

    fn decode_body(
        r: &mut Reader<'_>,
        flags: u8,
        version: ProtocolVersion,
    ) -> Result<Self, DecodeError> {
        let qos = QoS::from_bits((flags >> 1) & 0x03).ok_or(DecodeError::InvalidQoS("PUBLISH"))?;
        let dup = flags & 0x08 != 0;
        if dup && qos == QoS::AtMostOnce {
            return Err(DecodeError::DupWithQoS0);
        }
        let topic = r.string("topic name")?;
        check_name_chars(topic.as_bytes()).map_err(DecodeError::InvalidTopicName)?;
        let packet_id = if qos == QoS::AtMostOnce {
            0
        } else {
            read_packet_id(r, PacketType::Publish)?
        };
        let properties = if version == ProtocolVersion::V5 {
            Properties::decode(r, PropertyContext::Publish)?
        } else {
            Properties::default()
        };
        if topic.is_empty() && properties.topic_alias.is_none() {
            return Err(DecodeError::MissingTopicName);
        }
        Ok(Publish {
            dup,
            qos,
            retain: flags & 0x01 != 0,
            topic,
            packet_id,
            payload: r.rest(),
            properties,
        })
    }
}
