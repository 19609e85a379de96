//! PUBLISH (section 3.3).

use bytes::{Buf, Bytes};

use super::{check_remaining_length, put_packet_id, read_packet_id, Body, DecodeBody, Packet};
use crate::codec::error::{DecodeError, EncodeError};
use crate::codec::frame::FixedHeader;
use crate::codec::properties::{Properties, PropertyContext};
use crate::codec::string::MqttString;
use crate::codec::types::{PacketType, ProtocolVersion, QoS};
use crate::codec::wire::{Counter, Reader, Sink};
use crate::topic::check_topic_name;

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

impl Publish {
    /// The PUBLISH flags nibble.
    #[inline]
    fn flag_bits(&self) -> u8 {
        (u8::from(self.dup) << 3) | ((self.qos as u8) << 1) | u8::from(self.retain)
    }

    /// Validates the packet and counts its Remaining Length, `topic_alias`
    /// standing in for its Topic Alias when given (5.0): the header fields
    /// are checked and added up directly, only a property block is measured.
    #[inline(always)]
    fn measure_with(
        &self,
        topic_alias: Option<u16>,
        version: ProtocolVersion,
    ) -> Result<Counter<true>, EncodeError> {
        let v5 = version == ProtocolVersion::V5;
        if self.dup && self.qos == QoS::AtMostOnce {
            return Err(EncodeError::DupWithQoS0);
        }
        let topic = self.topic.bytes();
        if topic.is_empty() {
            let aliased = topic_alias.is_some() || self.properties.topic_alias().is_some();
            if !(v5 && aliased) {
                return Err(EncodeError::MissingTopicName);
            }
        } else {
            // Length, U+0000 and wildcards: all `put_str` would check, and more.
            check_topic_name(topic).map_err(EncodeError::InvalidTopicName)?;
        }
        let mut c = Counter::<true>::new();
        if self.qos != QoS::AtMostOnce {
            put_packet_id(&mut c, self.packet_id, PacketType::Publish)?;
        }
        if v5 {
            self.properties
                .encode(PropertyContext::Publish, topic_alias, &mut c)?;
        }
        c.len += 2 + topic.len() + self.payload.len();
        check_remaining_length(c)
    }

    /// Describes the packet to `s`, with `topic_alias` written as its Topic
    /// Alias when given (5.0). Checks nothing: [`Self::measure_with`] did.
    #[inline]
    fn encode_with<S: Sink>(
        &self,
        topic_alias: Option<u16>,
        version: ProtocolVersion,
        s: &mut S,
    ) -> Result<(), EncodeError> {
        s.put_prefixed(self.topic.bytes());
        if self.qos != QoS::AtMostOnce {
            s.put_u16(self.packet_id);
        }
        if version == ProtocolVersion::V5 {
            self.properties
                .encode(PropertyContext::Publish, topic_alias, s)?;
        }
        s.put_slice(&self.payload);
        Ok(())
    }
}

impl Body for Publish {
    const TYPE: PacketType = PacketType::Publish;

    fn flags(&self) -> u8 {
        self.flag_bits()
    }

    /// Only ever given a writing sink: [`Body::measure`] is overridden.
    #[inline]
    fn encode_body<S: Sink>(&self, version: ProtocolVersion, s: &mut S) -> Result<(), EncodeError> {
        self.encode_with(None, version, s)
    }

    #[inline(always)]
    fn measure(&self, version: ProtocolVersion) -> Result<Counter<true>, EncodeError> {
        self.measure_with(None, version)
    }
}

impl DecodeBody for Publish {
    fn decode_body(
        r: &mut Reader<'_>,
        flags: u8,
        version: ProtocolVersion,
    ) -> Result<Self, DecodeError> {
        // `Decoder::decode` and `Packet::decode` take `Publish::decode_packet`;
        // this is the same decoding through the `DecodeBody` interface.
        let mut publish = Publish::decode_head(r, flags, version)?;
        publish.payload = r.rest();
        Ok(publish)
    }
}

/// A PUBLISH sent with a Topic Alias the client chose (5.0), encoded
/// without editing the message.
pub(crate) struct AliasedPublish<'a> {
    /// The message.
    pub(crate) publish: &'a Publish,
    /// Its Topic Alias on this connection.
    pub(crate) topic_alias: u16,
}

impl Body for AliasedPublish<'_> {
    const TYPE: PacketType = PacketType::Publish;

    fn flags(&self) -> u8 {
        self.publish.flag_bits()
    }

    #[inline]
    fn encode_body<S: Sink>(&self, version: ProtocolVersion, s: &mut S) -> Result<(), EncodeError> {
        self.publish.encode_with(Some(self.topic_alias), version, s)
    }

    #[inline]
    fn measure(&self, version: ProtocolVersion) -> Result<Counter<true>, EncodeError> {
        self.publish.measure_with(Some(self.topic_alias), version)
    }
}

impl AliasedPublish<'_> {
    /// Appends the packet to `buf` and returns its length; on error nothing is written.
    pub(crate) fn encode<B: bytes::BufMut>(
        &self,
        version: ProtocolVersion,
        buf: &mut B,
    ) -> Result<usize, EncodeError> {
        super::encode(self, version, buf)
    }
}

impl Publish {
    /// Every field but the payload (left empty), read up to where the
    /// payload starts; the caller takes the payload from there.
    #[inline(always)]
    fn decode_head(
        r: &mut Reader<'_>,
        flags: u8,
        version: ProtocolVersion,
    ) -> Result<Publish, DecodeError> {
        let qos = QoS::from_bits((flags >> 1) & 0x03).ok_or(DecodeError::InvalidQoS("PUBLISH"))?;
        let dup = flags & 0x08 != 0;
        if dup && qos == QoS::AtMostOnce {
            return Err(DecodeError::DupWithQoS0);
        }
        let topic = r.topic_name("topic name")?;
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
        // An empty topic name needs a Topic Alias to stand for it.
        if topic.bytes().is_empty() && properties.topic_alias().is_none() {
            return Err(DecodeError::MissingTopicName);
        }
        Ok(Publish {
            dup,
            qos,
            retain: flags & 0x01 != 0,
            topic,
            packet_id,
            payload: Bytes::new(),
            properties,
        })
    }
}

impl Publish {
    /// Decodes the PUBLISH `header` describes, as a [`Packet`] in the shape
    /// [`Decoder::decode`](crate::Decoder::decode) returns; always `Some` on
    /// success.
    ///
    /// The payload takes over `frame` itself (moved past the headers) rather
    /// than a new slice of it: one reference count fewer to take and to drop
    /// per message.
    #[inline]
    pub(crate) fn decode_packet(
        frame: Bytes,
        header: FixedHeader,
        version: ProtocolVersion,
    ) -> Result<Option<Packet>, DecodeError> {
        let end = header.packet_len();
        let mut r = Reader::new(&frame, header.header_len, end);
        let mut publish = Publish::decode_head(&mut r, header.flags, version)?;
        let start = r.position();
        publish.payload = take_payload(frame, start, end);
        Ok(Some(Packet::Publish(publish)))
    }
}

/// `frame[start..end]`, made from `frame` itself: no new reference count.
#[inline]
fn take_payload(mut frame: Bytes, start: usize, end: usize) -> Bytes {
    if frame.len() > end {
        frame.truncate(end);
    }
    frame.advance(start);
    frame
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::frame::check_frame;
    use crate::codec::frame::Frame;

    /// The client's Topic Alias goes on the wire in place of any the message
    /// holds, whether its properties were built or decoded.
    #[test]
    fn aliased_publish_writes_one_topic_alias() {
        let v5 = ProtocolVersion::V5;
        // Message Expiry 60; then the same with Topic Alias 3 as well.
        let plain = Bytes::from_static(b"\x30\x0d\x00\x03a/b\x05\x02\x00\x00\x00\x3chi");
        let aliased =
            Bytes::from_static(b"\x30\x10\x00\x03a/b\x08\x02\x00\x00\x00\x3c\x23\x00\x03hi");
        for wire in [plain, aliased] {
            let Ok(Packet::Publish(decoded)) = Packet::decode(&wire, v5) else {
                panic!("bad test frame {wire:?}");
            };
            let mut built = decoded.clone();
            built.properties.message_expiry_interval = Some(60);
            for publish in [&decoded, &built] {
                let mut out = bytes::BytesMut::new();
                let sent = AliasedPublish {
                    publish,
                    topic_alias: 5,
                };
                let n = sent.encode(v5, &mut out).unwrap();
                assert_eq!(n, out.len());
                let Ok(Packet::Publish(back)) = Packet::decode(&out.freeze(), v5) else {
                    panic!("aliased PUBLISH does not decode");
                };
                assert_eq!(back.properties.topic_alias(), Some(5));
                assert_eq!(back.properties.message_expiry_interval(), Some(60));
                assert_eq!(
                    (back.topic, back.payload),
                    (decoded.topic.clone(), decoded.payload.clone())
                );
            }
        }
    }

    /// The in-place decoding and the `Body` one agree, on good and bad input.
    #[test]
    fn decode_packet_agrees_with_decode_body() {
        let frames: &[&[u8]] = &[
            b"\x30\x07\x00\x03a/bhi",
            b"\x32\x09\x00\x03a/b\x00\x07hi",
            b"\x3b\x09\x00\x03a/b\x00\x07hi",
            b"\x30\x02\x00\x00",
            b"\x30\x03\x00\x01+",
            b"\x30\x03\x00\x01\xff",
            b"\x30\x03\x00\x01\x00",
            b"\x38\x05\x00\x03a/b",
            b"\x32\x05\x00\x03a/b",
            b"\x36\x05\x00\x03a/b",
            b"\x30\x05\x00\x03a\xc3\xa9",
            // 5.0 forms: properties, Topic Alias with an empty topic, a bad property.
            b"\x30\x08\x00\x03a/b\x00hi",
            b"\x30\x0d\x00\x03a/b\x05\x02\x00\x00\x00\x3chi",
            b"\x30\x07\x00\x00\x03\x23\x00\x05x",
            b"\x30\x05\x00\x00\x00hi",
            b"\x30\x08\x00\x03a/b\x02\x11\x00",
            b"\x30\x06\x00\x03a/b\x05",
        ];
        for version in [ProtocolVersion::V311, ProtocolVersion::V5] {
            for &wire in frames {
                let frame = Bytes::copy_from_slice(wire);
                let Ok(Frame::Complete(header)) = check_frame(&frame, version, u32::MAX) else {
                    panic!("bad test frame {wire:?}");
                };
                let in_place = Publish::decode_packet(frame.clone(), header, version);
                let mut r = Reader::new(&frame, header.header_len, header.packet_len());
                let body = Publish::decode_body(&mut r, header.flags, version);
                assert_eq!(
                    in_place,
                    body.map(|p| Some(Packet::Publish(p))),
                    "{version:?} {wire:?}"
                );
            }
        }
    }
}
