//! SUBSCRIBE and SUBACK (sections 3.8, 3.9).

use alloc::vec::Vec;

use super::{put_packet_id, read_packet_id, Body, DecodeBody};
use crate::codec::error::{DecodeError, EncodeError};
use crate::codec::properties::{Properties, PropertyContext};
use crate::codec::reason::ReasonCode;
use crate::codec::string::MqttString;
use crate::codec::types::{PacketType, ProtocolVersion, QoS};
use crate::codec::wire::{Reader, Sink};
use crate::topic::{check_topic_filter, parse_shared_bytes};

/// Whether retained messages are sent when a subscription is made (3.8.3.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RetainHandling {
    /// 0: send retained messages at the time of the subscribe.
    #[default]
    SendAtSubscribe = 0,
    /// 1: send them only if the subscription did not already exist.
    SendAtSubscribeIfNew = 1,
    /// 2: do not send them.
    DoNotSend = 2,
}

/// Subscription Options (3.8.3.1); on 3.1.1 only the QoS is sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SubscriptionOptions {
    /// Maximum QoS.
    pub qos: QoS,
    /// No Local: do not receive our own publications.
    pub no_local: bool,
    /// Retain As Published.
    pub retain_as_published: bool,
    /// Retain Handling.
    pub retain_handling: RetainHandling,
}

impl SubscriptionOptions {
    fn to_byte(self, version: ProtocolVersion) -> u8 {
        let qos = self.qos as u8;
        if version == ProtocolVersion::V311 {
            return qos;
        }
        qos | (u8::from(self.no_local) << 2)
            | (u8::from(self.retain_as_published) << 3)
            | ((self.retain_handling as u8) << 4)
    }

    fn from_byte(b: u8, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let reserved = if version == ProtocolVersion::V311 {
            0xFC
        } else {
            0xC0
        };
        let retain_handling = match (b >> 4) & 0x03 {
            0 => RetainHandling::SendAtSubscribe,
            1 => RetainHandling::SendAtSubscribeIfNew,
            2 => RetainHandling::DoNotSend,
            _ => return Err(DecodeError::InvalidSubscriptionOptions(b)),
        };
        if b & reserved != 0 {
            return Err(DecodeError::InvalidSubscriptionOptions(b));
        }
        Ok(SubscriptionOptions {
            qos: QoS::from_bits(b & 0x03).ok_or(DecodeError::InvalidSubscriptionOptions(b))?,
            no_local: b & 0x04 != 0,
            retain_as_published: b & 0x08 != 0,
            retain_handling,
        })
    }
}

/// One topic filter of a SUBSCRIBE with its options.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct SubscribeFilter {
    /// Topic Filter, possibly `$share/{ShareName}/{filter}`.
    pub filter: MqttString,
    /// Subscription Options.
    pub options: SubscriptionOptions,
}

/// A SUBSCRIBE packet.
///
/// ```
/// use mq_proto::{ProtocolVersion, QoS, Subscribe, SubscribeFilter};
/// let mut s = Subscribe::new(1, "a/+", QoS::AtLeastOnce);
/// s.subscriptions.push(SubscribeFilter { filter: "b/#".into(), ..Default::default() });
/// assert_eq!(s.encoded_len(ProtocolVersion::V311).unwrap(), 2 + 2 + 6 + 6);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Subscribe {
    /// Packet Identifier.
    pub packet_id: u16,
    /// Topic filters and their options; at least one.
    pub subscriptions: Vec<SubscribeFilter>,
    /// SUBSCRIBE properties (5.0): Subscription Identifier, User Properties.
    pub properties: Properties,
}

impl Subscribe {
    /// A SUBSCRIBE for one filter at `qos` with default options.
    pub fn new(packet_id: u16, filter: impl Into<MqttString>, qos: QoS) -> Self {
        let options = SubscriptionOptions {
            qos,
            ..Default::default()
        };
        Subscribe {
            packet_id,
            subscriptions: alloc::vec![SubscribeFilter {
                filter: filter.into(),
                options,
            }],
            properties: Properties::default(),
        }
    }
}

fn is_shared(filter: &MqttString) -> bool {
    matches!(parse_shared_bytes(filter.bytes()), Ok(Some(_)))
}

impl Body for Subscribe {
    const TYPE: PacketType = PacketType::Subscribe;

    fn encode_body<S: Sink>(&self, version: ProtocolVersion, s: &mut S) -> Result<(), EncodeError> {
        if S::CHECKS && self.subscriptions.is_empty() {
            return Err(EncodeError::EmptyPayload(Self::TYPE));
        }
        put_packet_id(s, self.packet_id, Self::TYPE)?;
        if version == ProtocolVersion::V5 {
            self.properties
                .encode(PropertyContext::Subscribe, None, s)?;
        }
        for sub in &self.subscriptions {
            if S::CHECKS {
                // Length and U+0000 too: all `put_str` would check.
                check_topic_filter(sub.filter.bytes()).map_err(EncodeError::InvalidTopicFilter)?;
                if version == ProtocolVersion::V5 && sub.options.no_local && is_shared(&sub.filter)
                {
                    return Err(EncodeError::NoLocalOnSharedSubscription(sub.filter.clone()));
                }
            }
            s.put_prefixed(sub.filter.bytes());
            s.put_u8(sub.options.to_byte(version));
        }
        Ok(())
    }
}

impl DecodeBody for Subscribe {
    fn decode_body(
        r: &mut Reader<'_>,
        _: u8,
        version: ProtocolVersion,
    ) -> Result<Self, DecodeError> {
        let packet_id = read_packet_id(r, Self::TYPE)?;
        let properties = if version == ProtocolVersion::V5 {
            Properties::decode(r, PropertyContext::Subscribe)?
        } else {
            Properties::default()
        };
        let mut subscriptions = Vec::new();
        while r.remaining() > 0 {
            let filter = r.string("topic filter")?;
            check_topic_filter(filter.bytes()).map_err(DecodeError::InvalidTopicFilter)?;
            let options = SubscriptionOptions::from_byte(r.u8("subscription options")?, version)?;
            if options.no_local && is_shared(&filter) {
                return Err(DecodeError::NoLocalOnSharedSubscription(filter));
            }
            subscriptions.push(SubscribeFilter { filter, options });
        }
        if subscriptions.is_empty() {
            return Err(DecodeError::EmptyPayload(Self::TYPE));
        }
        Ok(Subscribe {
            packet_id,
            subscriptions,
            properties,
        })
    }
}

/// A SUBACK packet: one reason code per requested filter, in order.
///
/// On 3.1.1 the return codes 0x00, 0x01, 0x02 and 0x80 (Failure) are the
/// reason codes of the same value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubAck {
    /// Packet Identifier of the SUBSCRIBE.
    pub packet_id: u16,
    /// SUBACK properties (5.0).
    pub properties: Properties,
    /// One code per topic filter.
    pub reason_codes: Vec<ReasonCode>,
}

fn valid_v311_suback(code: ReasonCode) -> bool {
    matches!(
        code,
        ReasonCode::Success
            | ReasonCode::GrantedQoS1
            | ReasonCode::GrantedQoS2
            | ReasonCode::UnspecifiedError
    )
}

/// Encodes the reason-code list that ends SUBACK and UNSUBACK.
pub(super) fn encode_reason_codes<S: Sink>(
    codes: &[ReasonCode],
    packet_type: PacketType,
    valid: impl Fn(ReasonCode) -> bool,
    s: &mut S,
) -> Result<(), EncodeError> {
    if S::CHECKS && codes.is_empty() {
        return Err(EncodeError::EmptyPayload(packet_type));
    }
    for &code in codes {
        if S::CHECKS && !valid(code) {
            return Err(EncodeError::InvalidReasonCode { packet_type, code });
        }
        s.put_u8(code.value());
    }
    Ok(())
}

/// Decodes the reason-code list that ends SUBACK and UNSUBACK.
pub(super) fn decode_reason_codes(
    r: &mut Reader<'_>,
    packet_type: PacketType,
    valid: impl Fn(ReasonCode) -> bool,
) -> Result<Vec<ReasonCode>, DecodeError> {
    if r.remaining() == 0 {
        return Err(DecodeError::EmptyPayload(packet_type));
    }
    let mut codes = Vec::with_capacity(r.remaining());
    while r.remaining() > 0 {
        let code = r.u8("reason code")?;
        let rc = ReasonCode::try_from(code)
            .ok()
            .filter(|c| valid(*c))
            .ok_or(DecodeError::InvalidReasonCode { packet_type, code })?;
        codes.push(rc);
    }
    Ok(codes)
}

impl Body for SubAck {
    const TYPE: PacketType = PacketType::SubAck;

    fn encode_body<S: Sink>(&self, version: ProtocolVersion, s: &mut S) -> Result<(), EncodeError> {
        put_packet_id(s, self.packet_id, Self::TYPE)?;
        if version == ProtocolVersion::V5 {
            self.properties.encode(PropertyContext::SubAck, None, s)?;
            encode_reason_codes(
                &self.reason_codes,
                Self::TYPE,
                |c| c.is_valid_for(Self::TYPE),
                s,
            )
        } else {
            encode_reason_codes(&self.reason_codes, Self::TYPE, valid_v311_suback, s)
        }
    }
}

impl DecodeBody for SubAck {
    fn decode_body(
        r: &mut Reader<'_>,
        _: u8,
        version: ProtocolVersion,
    ) -> Result<Self, DecodeError> {
        let packet_id = read_packet_id(r, Self::TYPE)?;
        let (properties, reason_codes) = if version == ProtocolVersion::V5 {
            let p = Properties::decode(r, PropertyContext::SubAck)?;
            (
                p,
                decode_reason_codes(r, Self::TYPE, |c| c.is_valid_for(Self::TYPE))?,
            )
        } else {
            (
                Properties::default(),
                decode_reason_codes(r, Self::TYPE, valid_v311_suback)?,
            )
        };
        Ok(SubAck {
            packet_id,
            properties,
            reason_codes,
        })
    }
}
