//! UNSUBSCRIBE and UNSUBACK (sections 3.10, 3.11).

use alloc::vec::Vec;

use super::subscribe::{decode_reason_codes, encode_reason_codes};
use super::{put_packet_id, read_packet_id, Body, DecodeBody};
use crate::codec::error::{DecodeError, EncodeError};
use crate::codec::properties::{Properties, PropertyContext};
use crate::codec::reason::ReasonCode;
use crate::codec::string::MqttString;
use crate::codec::types::{PacketType, ProtocolVersion};
use crate::codec::wire::{Reader, Sink};
use crate::topic::check_topic_filter;

/// An UNSUBSCRIBE packet.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Unsubscribe {
    /// Packet Identifier.
    pub packet_id: u16,
    /// Topic filters to remove; at least one.
    pub filters: Vec<MqttString>,
    /// UNSUBSCRIBE properties (5.0): User Properties.
    pub properties: Properties,
}

impl Body for Unsubscribe {
    const TYPE: PacketType = PacketType::Unsubscribe;

    fn encode_body<S: Sink>(&self, version: ProtocolVersion, s: &mut S) -> Result<(), EncodeError> {
        if S::CHECKS && self.filters.is_empty() {
            return Err(EncodeError::EmptyPayload(Self::TYPE));
        }
        put_packet_id(s, self.packet_id, Self::TYPE)?;
        if version == ProtocolVersion::V5 {
            self.properties
                .encode(PropertyContext::Unsubscribe, None, s)?;
        }
        for filter in &self.filters {
            if S::CHECKS {
                // Length and U+0000 too: all `put_str` would check.
                check_topic_filter(filter.bytes()).map_err(EncodeError::InvalidTopicFilter)?;
            }
            s.put_prefixed(filter.bytes());
        }
        Ok(())
    }
}

impl DecodeBody for Unsubscribe {
    fn decode_body(
        r: &mut Reader<'_>,
        _: u8,
        version: ProtocolVersion,
    ) -> Result<Self, DecodeError> {
        let packet_id = read_packet_id(r, Self::TYPE)?;
        let properties = if version == ProtocolVersion::V5 {
            Properties::decode(r, PropertyContext::Unsubscribe)?
        } else {
            Properties::default()
        };
        let mut filters = Vec::new();
        while r.remaining() > 0 {
            let filter = r.string("topic filter")?;
            check_topic_filter(filter.bytes()).map_err(DecodeError::InvalidTopicFilter)?;
            filters.push(filter);
        }
        if filters.is_empty() {
            return Err(DecodeError::EmptyPayload(Self::TYPE));
        }
        Ok(Unsubscribe {
            packet_id,
            filters,
            properties,
        })
    }
}

/// An UNSUBACK packet. On 3.1.1 it carries only the packet identifier and
/// `reason_codes` is empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UnsubAck {
    /// Packet Identifier of the UNSUBSCRIBE.
    pub packet_id: u16,
    /// UNSUBACK properties (5.0).
    pub properties: Properties,
    /// One code per topic filter (5.0).
    pub reason_codes: Vec<ReasonCode>,
}

impl Body for UnsubAck {
    const TYPE: PacketType = PacketType::UnsubAck;

    fn encode_body<S: Sink>(&self, version: ProtocolVersion, s: &mut S) -> Result<(), EncodeError> {
        put_packet_id(s, self.packet_id, Self::TYPE)?;
        if version == ProtocolVersion::V5 {
            self.properties.encode(PropertyContext::UnsubAck, None, s)?;
            encode_reason_codes(
                &self.reason_codes,
                Self::TYPE,
                |c| c.is_valid_for(Self::TYPE),
                s,
            )?;
        }
        Ok(())
    }
}

impl DecodeBody for UnsubAck {
    fn decode_body(
        r: &mut Reader<'_>,
        _: u8,
        version: ProtocolVersion,
    ) -> Result<Self, DecodeError> {
        let packet_id = read_packet_id(r, Self::TYPE)?;
        if version == ProtocolVersion::V311 {
            return Ok(UnsubAck {
                packet_id,
                ..Default::default()
            });
        }
        let properties = Properties::decode(r, PropertyContext::UnsubAck)?;
        let reason_codes = decode_reason_codes(r, Self::TYPE, |c| c.is_valid_for(Self::TYPE))?;
        Ok(UnsubAck {
            packet_id,
            properties,
            reason_codes,
        })
    }
}
