//! The fifteen MQTT Control Packets and the dispatch between them.

mod ack;
mod connack;
mod connect;
mod disconnect;
mod publish;
mod subscribe;
mod unsubscribe;

pub use ack::{PubAck, PubComp, PubRec, PubRel};
pub use connack::ConnAck;
pub use connect::{Connect, Password, Will};
pub use disconnect::{Auth, Disconnect};
pub(crate) use publish::AliasedPublish;
pub use publish::Publish;
pub use subscribe::{RetainHandling, SubAck, Subscribe, SubscribeFilter, SubscriptionOptions};
pub use unsubscribe::{UnsubAck, Unsubscribe};

use alloc::boxed::Box;

use bytes::{BufMut, Bytes};

use super::error::{DecodeError, EncodeError};
use super::frame::FixedHeader;
use super::types::{PacketType, ProtocolVersion};
use super::wire::{
    variable_byte_integer_len, Counter, Reader, Sink, Writer, VARIABLE_BYTE_INTEGER_MAX,
};

/// What every packet type knows about its own bytes.
pub(crate) trait Body: Sized {
    const TYPE: PacketType;
    /// The low nibble of the first byte.
    fn flags(&self) -> u8 {
        Self::TYPE.fixed_flags().unwrap_or(0)
    }
    /// Describes the variable header and payload to `s`, validating when `S::CHECKS`.
    fn encode_body<S: Sink>(&self, version: ProtocolVersion, s: &mut S) -> Result<(), EncodeError>;
    /// The measuring pass: validates the packet and counts its Remaining
    /// Length, by describing it to a checking [`Counter`] unless the packet
    /// has a cheaper way.
    #[inline]
    fn measure(&self, version: ProtocolVersion) -> Result<Counter<true>, EncodeError> {
        let mut c = Counter::<true>::new();
        self.encode_body(version, &mut c)?;
        check_remaining_length(c)
    }
}

/// `c` if its count fits a Remaining Length.
#[inline]
pub(crate) fn check_remaining_length(c: Counter<true>) -> Result<Counter<true>, EncodeError> {
    if c.len > VARIABLE_BYTE_INTEGER_MAX as usize {
        return Err(EncodeError::PacketTooLarge(c.len));
    }
    Ok(c)
}

/// The decoding half of [`Body`].
pub(crate) trait DecodeBody: Body {
    /// Reads the variable header and payload; the reader spans exactly the Remaining Length.
    fn decode_body(
        r: &mut Reader<'_>,
        flags: u8,
        version: ProtocolVersion,
    ) -> Result<Self, DecodeError>;
}

pub(crate) fn encoded_len<T: Body>(p: &T, version: ProtocolVersion) -> Result<usize, EncodeError> {
    let rem = p.measure(version)?.len as u32;
    Ok(1 + variable_byte_integer_len(rem) + rem as usize)
}

#[inline]
pub(crate) fn encode<T: Body, B: BufMut>(
    p: &T,
    version: ProtocolVersion,
    buf: &mut B,
) -> Result<usize, EncodeError> {
    let measured = p.measure(version)?;
    let rem = measured.len as u32;
    put_fixed_header(buf, ((T::TYPE as u8) << 4) | p.flags(), rem);
    p.encode_body(version, &mut Writer::new(buf, &measured))?;
    Ok(1 + variable_byte_integer_len(rem) + rem as usize)
}

/// The first byte and the Remaining Length, handed to `buf` in one piece
/// of a fixed size (one capacity check, no copy loop).
#[inline(always)]
fn put_fixed_header<B: BufMut>(buf: &mut B, first: u8, rem: u32) {
    // Seven bits of `rem` from `shift`, with the continuation bit when `more`.
    let digit = |shift: u32, more: bool| (rem >> shift) as u8 & 0x7f | u8::from(more) << 7;
    match variable_byte_integer_len(rem) {
        1 => buf.put_slice(&[first, digit(0, false)]),
        2 => buf.put_slice(&[first, digit(0, true), digit(7, false)]),
        3 => buf.put_slice(&[first, digit(0, true), digit(7, true), digit(14, false)]),
        _ => buf.put_slice(&[
            first,
            digit(0, true),
            digit(7, true),
            digit(14, true),
            digit(21, false),
        ]),
    }
}

#[inline]
fn decode<T: DecodeBody>(
    frame: &Bytes,
    header: FixedHeader,
    version: ProtocolVersion,
) -> Result<T, DecodeError> {
    if let Some(required) = T::TYPE.fixed_flags() {
        if header.flags != required {
            return Err(DecodeError::InvalidFixedHeaderFlags {
                packet_type: T::TYPE,
                flags: header.flags,
            });
        }
    }
    let mut r = Reader::new(frame, header.header_len, header.packet_len());
    let p = T::decode_body(&mut r, header.flags, version)?;
    if r.remaining() > 0 {
        return Err(DecodeError::TrailingBytes {
            packet_type: T::TYPE,
            count: r.remaining(),
        });
    }
    Ok(p)
}

/// Adds `encode` and `encoded_len` to packet structs.
macro_rules! encoding_methods {
    ($($t:ty),*) => {$(
        impl $t {
            /// Bytes the encoded packet takes, fixed header included; validates like [`Self::encode`].
            pub fn encoded_len(&self, version: ProtocolVersion) -> Result<usize, EncodeError> {
                encoded_len(self, version)
            }

            /// Appends the packet to `buf` and returns its length; on error nothing is written.
            pub fn encode<B: BufMut>(&self, version: ProtocolVersion, buf: &mut B) -> Result<usize, EncodeError> {
                encode(self, version, buf)
            }
        }
    )*};
}

encoding_methods!(
    Connect,
    ConnAck,
    Publish,
    PubAck,
    PubRec,
    PubRel,
    PubComp,
    Subscribe,
    SubAck,
    Unsubscribe,
    UnsubAck,
    Disconnect,
    Auth
);

/// An MQTT Control Packet of either protocol version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Packet {
    /// CONNECT (boxed: it is large and rare).
    Connect(Box<Connect>),
    /// CONNACK.
    ConnAck(ConnAck),
    /// PUBLISH.
    Publish(Publish),
    /// PUBACK.
    PubAck(PubAck),
    /// PUBREC.
    PubRec(PubRec),
    /// PUBREL.
    PubRel(PubRel),
    /// PUBCOMP.
    PubComp(PubComp),
    /// SUBSCRIBE.
    Subscribe(Subscribe),
    /// SUBACK.
    SubAck(SubAck),
    /// UNSUBSCRIBE.
    Unsubscribe(Unsubscribe),
    /// UNSUBACK.
    UnsubAck(UnsubAck),
    /// PINGREQ.
    PingReq,
    /// PINGRESP.
    PingResp,
    /// DISCONNECT.
    Disconnect(Disconnect),
    /// AUTH (5.0 only).
    Auth(Auth),
}

impl Packet {
    /// The packet's type.
    pub fn packet_type(&self) -> PacketType {
        match self {
            Packet::Connect(_) => PacketType::Connect,
            Packet::ConnAck(_) => PacketType::ConnAck,
            Packet::Publish(_) => PacketType::Publish,
            Packet::PubAck(_) => PacketType::PubAck,
            Packet::PubRec(_) => PacketType::PubRec,
            Packet::PubRel(_) => PacketType::PubRel,
            Packet::PubComp(_) => PacketType::PubComp,
            Packet::Subscribe(_) => PacketType::Subscribe,
            Packet::SubAck(_) => PacketType::SubAck,
            Packet::Unsubscribe(_) => PacketType::Unsubscribe,
            Packet::UnsubAck(_) => PacketType::UnsubAck,
            Packet::PingReq => PacketType::PingReq,
            Packet::PingResp => PacketType::PingResp,
            Packet::Disconnect(_) => PacketType::Disconnect,
            Packet::Auth(_) => PacketType::Auth,
        }
    }

    /// Bytes the encoded packet takes, fixed header included; validates like [`Packet::encode`].
    pub fn encoded_len(&self, version: ProtocolVersion) -> Result<usize, EncodeError> {
        match self {
            Packet::Connect(p) => encoded_len(&**p, version),
            Packet::ConnAck(p) => encoded_len(p, version),
            Packet::Publish(p) => encoded_len(p, version),
            Packet::PubAck(p) => encoded_len(p, version),
            Packet::PubRec(p) => encoded_len(p, version),
            Packet::PubRel(p) => encoded_len(p, version),
            Packet::PubComp(p) => encoded_len(p, version),
            Packet::Subscribe(p) => encoded_len(p, version),
            Packet::SubAck(p) => encoded_len(p, version),
            Packet::Unsubscribe(p) => encoded_len(p, version),
            Packet::UnsubAck(p) => encoded_len(p, version),
            Packet::PingReq | Packet::PingResp => Ok(2),
            Packet::Disconnect(p) => encoded_len(p, version),
            Packet::Auth(p) => encoded_len(p, version),
        }
    }

    /// Appends the encoded packet to `buf` and returns its length.
    ///
    /// What the user got wrong (a wildcard in a PUBLISH topic, a property the
    /// packet may not carry, an over-long string) is an error, and nothing is
    /// written. On 3.1.1, 5.0-only fields (properties, reason codes other than
    /// success) are left out.
    ///
    /// ```
    /// use bytes::{Bytes, BytesMut};
    /// use mq_proto::{Packet, ProtocolVersion, Publish, QoS};
    /// let p = Packet::Publish(Publish::new("a/b", Bytes::from_static(b"hi")));
    /// let mut buf = BytesMut::new();
    /// let n = p.encode(ProtocolVersion::V311, &mut buf).unwrap();
    /// assert_eq!(&buf[..n], b"\x30\x07\x00\x03a/bhi");
    /// ```
    pub fn encode<B: BufMut>(
        &self,
        version: ProtocolVersion,
        buf: &mut B,
    ) -> Result<usize, EncodeError> {
        match self {
            Packet::Connect(p) => encode(&**p, version, buf),
            Packet::ConnAck(p) => encode(p, version, buf),
            Packet::Publish(p) => encode(p, version, buf),
            Packet::PubAck(p) => encode(p, version, buf),
            Packet::PubRec(p) => encode(p, version, buf),
            Packet::PubRel(p) => encode(p, version, buf),
            Packet::PubComp(p) => encode(p, version, buf),
            Packet::Subscribe(p) => encode(p, version, buf),
            Packet::SubAck(p) => encode(p, version, buf),
            Packet::Unsubscribe(p) => encode(p, version, buf),
            Packet::UnsubAck(p) => encode(p, version, buf),
            Packet::PingReq => {
                buf.put_slice(&[0xC0, 0x00]);
                Ok(2)
            }
            Packet::PingResp => {
                buf.put_slice(&[0xD0, 0x00]);
                Ok(2)
            }
            Packet::Disconnect(p) => encode(p, version, buf),
            Packet::Auth(p) => encode(p, version, buf),
        }
    }

    /// Decodes the packet `header` describes; `frame` starts with that header.
    ///
    /// Always `Some` on success: the result has the shape
    /// [`Decoder::decode`](crate::Decoder::decode) returns, and is inlined
    /// there, so a PUBLISH is built in the caller's result.
    #[inline]
    pub(crate) fn decode_frame(
        frame: Bytes,
        header: FixedHeader,
        version: ProtocolVersion,
    ) -> Result<Option<Packet>, DecodeError> {
        if header.packet_type == PacketType::Publish {
            return Publish::decode_packet(frame, header, version);
        }
        Packet::decode_other(&frame, header, version)
    }

    /// [`Self::decode_frame`] for every type but PUBLISH.
    fn decode_other(
        frame: &Bytes,
        header: FixedHeader,
        version: ProtocolVersion,
    ) -> Result<Option<Packet>, DecodeError> {
        Ok(Some(match header.packet_type {
            PacketType::Connect => Packet::Connect(Box::new(decode(frame, header, version)?)),
            PacketType::ConnAck => Packet::ConnAck(decode(frame, header, version)?),
            PacketType::Publish => Packet::Publish(decode(frame, header, version)?),
            PacketType::PubAck => Packet::PubAck(decode(frame, header, version)?),
            PacketType::PubRec => Packet::PubRec(decode(frame, header, version)?),
            PacketType::PubRel => Packet::PubRel(decode(frame, header, version)?),
            PacketType::PubComp => Packet::PubComp(decode(frame, header, version)?),
            PacketType::Subscribe => Packet::Subscribe(decode(frame, header, version)?),
            PacketType::SubAck => Packet::SubAck(decode(frame, header, version)?),
            PacketType::Unsubscribe => Packet::Unsubscribe(decode(frame, header, version)?),
            PacketType::UnsubAck => Packet::UnsubAck(decode(frame, header, version)?),
            PacketType::PingReq | PacketType::PingResp => {
                if header.flags != 0 {
                    return Err(DecodeError::InvalidFixedHeaderFlags {
                        packet_type: header.packet_type,
                        flags: header.flags,
                    });
                }
                if header.remaining_length != 0 {
                    return Err(DecodeError::TrailingBytes {
                        packet_type: header.packet_type,
                        count: header.remaining_length as usize,
                    });
                }
                if header.packet_type == PacketType::PingReq {
                    Packet::PingReq
                } else {
                    Packet::PingResp
                }
            }
            PacketType::Disconnect => Packet::Disconnect(decode(frame, header, version)?),
            PacketType::Auth => Packet::Auth(decode(frame, header, version)?),
        }))
    }
}

macro_rules! from_packets {
    ($($v:ident),*) => {$(
        impl From<$v> for Packet {
            fn from(p: $v) -> Packet { Packet::$v(p) }
        }
    )*};
}

impl From<Connect> for Packet {
    fn from(p: Connect) -> Packet {
        Packet::Connect(Box::new(p))
    }
}

from_packets!(
    ConnAck,
    Publish,
    PubAck,
    PubRec,
    PubRel,
    PubComp,
    Subscribe,
    SubAck,
    Unsubscribe,
    UnsubAck,
    Disconnect,
    Auth
);

/// Reads a packet identifier that must not be 0.
#[inline]
pub(crate) fn read_packet_id(
    r: &mut Reader<'_>,
    packet_type: PacketType,
) -> Result<u16, DecodeError> {
    match r.u16("packet identifier")? {
        0 => Err(DecodeError::ZeroPacketIdentifier(packet_type)),
        id => Ok(id),
    }
}

/// Writes a packet identifier, refusing 0.
pub(crate) fn put_packet_id<S: Sink>(
    s: &mut S,
    id: u16,
    packet_type: PacketType,
) -> Result<(), EncodeError> {
    if S::CHECKS && id == 0 {
        return Err(EncodeError::ZeroPacketIdentifier(packet_type));
    }
    s.put_u16(id);
    Ok(())
}

/// Reads a reason code and checks it is valid for `packet_type`.
pub(crate) fn read_reason_code(
    r: &mut Reader<'_>,
    packet_type: PacketType,
) -> Result<super::reason::ReasonCode, DecodeError> {
    let code = r.u8("reason code")?;
    super::reason::ReasonCode::try_from(code)
        .ok()
        .filter(|c| c.is_valid_for(packet_type))
        .ok_or(DecodeError::InvalidReasonCode { packet_type, code })
}

/// Refuses a reason code `packet_type` may not carry.
pub(crate) fn check_reason_code(
    code: super::reason::ReasonCode,
    packet_type: PacketType,
) -> Result<(), EncodeError> {
    if code.is_valid_for(packet_type) {
        Ok(())
    } else {
        Err(EncodeError::InvalidReasonCode { packet_type, code })
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;

    /// Packets move along the decode and event paths: they stay small.
    #[test]
    fn packets_are_small() {
        let publish = core::mem::size_of::<Publish>();
        let packet = core::mem::size_of::<Packet>();
        std::println!("Publish {publish} B, Packet {packet} B");
        assert!(publish <= 128, "Publish is {publish} bytes");
        assert!(packet <= 128, "Packet is {packet} bytes");
    }

    /// Decoded properties parse lazily behind a thread-safe cell: packets
    /// still cross and are shared between threads.
    #[test]
    fn packets_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Packet>();
        check::<crate::Properties>();
    }
}
