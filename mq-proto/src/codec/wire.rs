//! Primitive data types of the MQTT wire format (specification section 1.5):
//! bits, two- and four-byte integers, Variable Byte Integers, UTF-8 strings and
//! binary data. Reading is zero-copy over a [`Bytes`] frame; writing goes
//! through a [`Sink`] so one description of a packet both measures and writes it.

use bytes::{BufMut, Bytes};

use super::error::{DecodeError, EncodeError};
use super::string::MqttString;

/// Largest value a Variable Byte Integer can hold (section 1.5.5).
pub const VARIABLE_BYTE_INTEGER_MAX: u32 = 268_435_455;

/// Largest length of a UTF-8 string or binary data field.
pub(crate) const LENGTH_PREFIXED_MAX: usize = u16::MAX as usize;

/// Number of bytes the Variable Byte Integer encoding of `value` takes.
pub(crate) const fn variable_byte_integer_len(value: u32) -> usize {
    match value {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}

/// Outcome of reading a Variable Byte Integer from the start of a slice.
pub(crate) enum VarInt {
    /// The value and the number of bytes it took.
    Value(u32, usize),
    /// The slice ends before the integer does.
    Incomplete,
}

/// Reads a Variable Byte Integer from the start of `buf`; more than four bytes is malformed.
pub(crate) fn read_variable_byte_integer(buf: &[u8]) -> Result<VarInt, DecodeError> {
    let mut value: u32 = 0;
    for (i, byte) in buf.iter().take(4).enumerate() {
        value |= u32::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            // A value encoded in more bytes than needed is not the minimal encoding (1.5.5).
            if i > 0 && *byte == 0 {
                return Err(DecodeError::MalformedVariableByteInteger);
            }
            return Ok(VarInt::Value(value, i + 1));
        }
    }
    if buf.len() >= 4 {
        Err(DecodeError::MalformedVariableByteInteger)
    } else {
        Ok(VarInt::Incomplete)
    }
}

/// A cursor over one packet's bytes that hands out zero-copy slices.
pub(crate) struct Reader<'a> {
    frame: &'a Bytes,
    pos: usize,
    end: usize,
}

impl<'a> Reader<'a> {
    /// Reads `frame[start..end]`.
    pub(crate) fn new(frame: &'a Bytes, start: usize, end: usize) -> Self {
        Reader {
            frame,
            pos: start,
            end,
        }
    }

    /// Bytes not yet read.
    pub(crate) fn remaining(&self) -> usize {
        self.end - self.pos
    }

    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(DecodeError::Truncated(field));
        }
        let start = self.pos;
        self.pos += n;
        Ok(&self.frame[start..self.pos])
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, field)?[0])
    }

    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        let b = self.take(2, field)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        let b = self.take(4, field)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn variable_byte_integer(
        &mut self,
        field: &'static str,
    ) -> Result<u32, DecodeError> {
        match read_variable_byte_integer(&self.frame[self.pos..self.end])? {
            VarInt::Value(v, n) => {
                self.pos += n;
                Ok(v)
            }
            VarInt::Incomplete => Err(DecodeError::Truncated(field)),
        }
    }

    /// Binary Data: a two-byte length and that many bytes, as a slice of the frame.
    pub(crate) fn binary(&mut self, field: &'static str) -> Result<Bytes, DecodeError> {
        let len = usize::from(self.u16(field)?);
        self.slice(len, field)
    }

    /// `len` bytes as a slice of the frame.
    pub(crate) fn slice(&mut self, len: usize, field: &'static str) -> Result<Bytes, DecodeError> {
        if self.remaining() < len {
            return Err(DecodeError::Truncated(field));
        }
        let start = self.pos;
        self.pos += len;
        Ok(self.frame.slice(start..self.pos))
    }

    /// The rest of the frame.
    pub(crate) fn rest(&mut self) -> Bytes {
        let start = self.pos;
        self.pos = self.end;
        self.frame.slice(start..self.end)
    }

    /// A UTF-8 Encoded String, checked for well-formedness and U+0000.
    pub(crate) fn string(&mut self, field: &'static str) -> Result<MqttString, DecodeError> {
        let bytes = self.binary(field)?;
        MqttString::from_wire(bytes, field)
    }

    /// A sub-reader over the next `len` bytes; the cursor moves past them.
    pub(crate) fn sub(
        &mut self,
        len: usize,
        field: &'static str,
    ) -> Result<Reader<'a>, DecodeError> {
        if self.remaining() < len {
            return Err(DecodeError::Truncated(field));
        }
        let start = self.pos;
        self.pos += len;
        Ok(Reader::new(self.frame, start, self.pos))
    }
}

/// Where encoded bytes go: a [`Counter`] measures, a [`Writer`] writes.
///
/// Each packet describes its bytes once, through a `Sink`; measuring first
/// (with checks) and writing second (without) keeps length and bytes in step.
pub(crate) trait Sink {
    /// Whether user input is validated while passing through this sink.
    const CHECKS: bool;
    fn put_u8(&mut self, v: u8);
    fn put_u16(&mut self, v: u16);
    fn put_u32(&mut self, v: u32);
    fn put_slice(&mut self, v: &[u8]);

    fn put_variable_byte_integer(&mut self, mut v: u32) {
        loop {
            let mut byte = (v % 128) as u8;
            v /= 128;
            if v > 0 {
                byte |= 0x80;
            }
            self.put_u8(byte);
            if v == 0 {
                break;
            }
        }
    }

    /// A UTF-8 Encoded String; checked for length and U+0000 when `CHECKS`.
    fn put_str(&mut self, s: &str, field: &'static str) -> Result<(), EncodeError> {
        if Self::CHECKS {
            check_string(s, field)?;
        }
        self.put_u16(s.len() as u16);
        self.put_slice(s.as_bytes());
        Ok(())
    }

    /// Binary Data; checked for length when `CHECKS`.
    fn put_binary(&mut self, b: &[u8], field: &'static str) -> Result<(), EncodeError> {
        if Self::CHECKS && b.len() > LENGTH_PREFIXED_MAX {
            return Err(EncodeError::TooLong {
                field,
                len: b.len(),
            });
        }
        self.put_u16(b.len() as u16);
        self.put_slice(b);
        Ok(())
    }
}

/// Checks what a UTF-8 Encoded String must satisfy beyond being a `str`.
pub(crate) fn check_string(s: &str, field: &'static str) -> Result<(), EncodeError> {
    if s.len() > LENGTH_PREFIXED_MAX {
        return Err(EncodeError::TooLong {
            field,
            len: s.len(),
        });
    }
    if s.as_bytes().contains(&0) {
        return Err(EncodeError::NullCharacter(field));
    }
    Ok(())
}

/// Measures encoded length; `CHECKS` says whether it validates on the way.
pub(crate) struct Counter<const CHECKS: bool>(pub(crate) usize);

impl<const C: bool> Sink for Counter<C> {
    const CHECKS: bool = C;
    fn put_u8(&mut self, _: u8) {
        self.0 += 1;
    }
    fn put_u16(&mut self, _: u16) {
        self.0 += 2;
    }
    fn put_u32(&mut self, _: u32) {
        self.0 += 4;
    }
    fn put_slice(&mut self, v: &[u8]) {
        self.0 += v.len();
    }
    fn put_variable_byte_integer(&mut self, v: u32) {
        self.0 += variable_byte_integer_len(v);
    }
}

/// Writes into any [`BufMut`], without checks (a [`Counter`] pass ran first).
pub(crate) struct Writer<'a, B: BufMut>(pub(crate) &'a mut B);

impl<B: BufMut> Sink for Writer<'_, B> {
    const CHECKS: bool = false;
    fn put_u8(&mut self, v: u8) {
        self.0.put_u8(v);
    }
    fn put_u16(&mut self, v: u16) {
        self.0.put_u16(v);
    }
    fn put_u32(&mut self, v: u32) {
        self.0.put_u32(v);
    }
    fn put_slice(&mut self, v: &[u8]) {
        self.0.put_slice(v);
    }
}
