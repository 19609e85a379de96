//! Framing: the fixed header, and streaming decode from a read buffer that
//! may hold part of a packet, one packet or many.

use bytes::{Bytes, BytesMut};

use super::error::DecodeError;
use super::packets::Packet;
use super::types::{PacketType, ProtocolVersion};
use super::wire::{read_variable_byte_integer, VarInt, VARIABLE_BYTE_INTEGER_MAX};

/// The largest packet MQTT can express: 1 type byte, 4 length bytes, 268,435,455 body bytes.
pub const MAX_PACKET_SIZE: u32 = VARIABLE_BYTE_INTEGER_MAX + 5;

/// The fixed header at the start of every packet (section 2.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedHeader {
    /// The packet type.
    pub packet_type: PacketType,
    /// The low nibble of the first byte.
    pub flags: u8,
    /// The Remaining Length: bytes after the fixed header.
    pub remaining_length: u32,
    /// Bytes the fixed header itself takes (2 to 5).
    pub header_len: usize,
}

impl FixedHeader {
    /// Total size of the packet: fixed header plus Remaining Length.
    pub fn packet_len(&self) -> usize {
        self.header_len + self.remaining_length as usize
    }
}

/// What the start of a read buffer holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame {
    /// A whole packet of `header.packet_len()` bytes.
    Complete(FixedHeader),
    /// Part of a packet: at least `needed` more bytes must arrive.
    Incomplete {
        /// Bytes still missing (a lower bound while the header is incomplete).
        needed: usize,
    },
}

/// Looks at the start of `buf` and says whether a whole packet is there.
///
/// The packet type and the size limit are checked from the fixed header alone,
/// so an oversized packet is refused before its body is buffered.
/// AUTH (type 15) is reserved on 3.1.1 connections.
///
/// ```
/// use mq_proto::{check_frame, Frame, ProtocolVersion};
/// // A PINGRESP, then the first byte of another packet.
/// let f = check_frame(&[0xD0, 0x00, 0x30], ProtocolVersion::V5, 1024).unwrap();
/// assert!(matches!(f, Frame::Complete(h) if h.packet_len() == 2));
/// assert_eq!(check_frame(&[0x30], ProtocolVersion::V5, 1024), Ok(Frame::Incomplete { needed: 1 }));
/// ```
#[inline]
pub fn check_frame(
    buf: &[u8],
    version: ProtocolVersion,
    max_packet_size: u32,
) -> Result<Frame, DecodeError> {
    let Some(&first) = buf.first() else {
        return Ok(Frame::Incomplete { needed: 2 });
    };
    let nibble = first >> 4;
    let packet_type = match PacketType::from_nibble(nibble) {
        Some(PacketType::Auth) if version == ProtocolVersion::V311 => None,
        other => other,
    }
    .ok_or(DecodeError::ReservedPacketType(nibble))?;
    let (remaining_length, len_bytes) = match read_variable_byte_integer(&buf[1..])? {
        VarInt::Value(v, n) => (v, n),
        VarInt::Incomplete => return Ok(Frame::Incomplete { needed: 1 }),
    };
    let header = FixedHeader {
        packet_type,
        flags: first & 0x0F,
        remaining_length,
        header_len: 1 + len_bytes,
    };
    let size = header.packet_len();
    if size > max_packet_size as usize {
        return Err(DecodeError::PacketTooLarge {
            size,
            max: max_packet_size,
        });
    }
    if buf.len() < size {
        return Ok(Frame::Incomplete {
            needed: size - buf.len(),
        });
    }
    Ok(Frame::Complete(header))
}

/// Splits a byte stream into packets.
///
/// ```
/// use bytes::BytesMut;
/// use mq_proto::{Decoder, Packet, ProtocolVersion};
/// let mut dec = Decoder::new(ProtocolVersion::V311);
/// let mut buf = BytesMut::from(&[0xD0, 0x00, 0xD0][..]);
/// assert_eq!(dec.decode(&mut buf).unwrap(), Some(Packet::PingResp));
/// assert_eq!(dec.decode(&mut buf).unwrap(), None); // half a packet stays buffered
/// buf.extend_from_slice(&[0x00]);
/// assert_eq!(dec.decode(&mut buf).unwrap(), Some(Packet::PingResp));
/// ```
#[derive(Clone, Debug)]
pub struct Decoder {
    version: ProtocolVersion,
    max_packet_size: u32,
}

impl Decoder {
    /// A decoder for `version` with no size limit beyond the protocol's.
    pub fn new(version: ProtocolVersion) -> Self {
        Decoder {
            version,
            max_packet_size: MAX_PACKET_SIZE,
        }
    }

    /// Sets the largest packet accepted, fixed header included.
    pub fn set_max_packet_size(&mut self, max: u32) {
        self.max_packet_size = max;
    }

    /// Sets the protocol version the packets are read as.
    pub fn set_version(&mut self, version: ProtocolVersion) {
        self.version = version;
    }

    /// The protocol version in use.
    pub fn version(&self) -> ProtocolVersion {
        self.version
    }

    /// Takes one whole packet off the front of `buf`, or returns `None` and
    /// leaves `buf` as it is when more bytes are needed.
    ///
    /// Payloads and binary properties of the packet are slices of `buf`'s
    /// memory. After an error the connection cannot be resynchronised.
    #[inline]
    pub fn decode(&self, buf: &mut BytesMut) -> Result<Option<Packet>, DecodeError> {
        match check_frame(buf, self.version, self.max_packet_size)? {
            Frame::Incomplete { .. } => Ok(None),
            Frame::Complete(header) => {
                let frame = buf.split_to(header.packet_len()).freeze();
                Packet::decode_frame(frame, header, self.version)
            }
        }
    }
}

impl Packet {
    /// Decodes exactly one packet from `frame`; bytes after it are an error.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use mq_proto::{Packet, ProtocolVersion};
    /// let p = Packet::decode(&Bytes::from_static(&[0xC0, 0x00]), ProtocolVersion::V5).unwrap();
    /// assert_eq!(p, Packet::PingReq);
    /// ```
    pub fn decode(frame: &Bytes, version: ProtocolVersion) -> Result<Packet, DecodeError> {
        match check_frame(frame, version, MAX_PACKET_SIZE)? {
            Frame::Incomplete { .. } => Err(DecodeError::Truncated("packet")),
            Frame::Complete(header) if header.packet_len() < frame.len() => {
                Err(DecodeError::TrailingBytes {
                    packet_type: header.packet_type,
                    count: frame.len() - header.packet_len(),
                })
            }
            Frame::Complete(header) => Packet::decode_frame(frame.clone(), header, version)?
                // Never `None`: decode_frame returns a packet or an error.
                .ok_or(DecodeError::Truncated("packet")),
        }
    }
}
