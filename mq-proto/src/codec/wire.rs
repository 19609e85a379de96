//! Primitive data types of the MQTT wire format (specification section 1.5):
//! bits, two- and four-byte integers, Variable Byte Integers, UTF-8 strings and
//! binary data. Reading is zero-copy over a [`Bytes`] frame; writing goes
//! through a [`Sink`] so one description of a packet both measures and writes it.

use bytes::{BufMut, Bytes};

use super::error::{DecodeError, EncodeError};
use super::properties::{PropertyContext, PropertyId, PropertyValues};
use super::string::{check_wire, check_wire_slow, not_plain_ascii, MqttString};
use crate::topic::check_name_chars;

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
#[inline]
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
    #[inline]
    pub(crate) fn new(frame: &'a Bytes, start: usize, end: usize) -> Self {
        Reader {
            frame,
            pos: start,
            end,
        }
    }

    /// Bytes not yet read.
    #[inline]
    pub(crate) fn remaining(&self) -> usize {
        self.end - self.pos
    }

    #[inline]
    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(DecodeError::Truncated(field));
        }
        let start = self.pos;
        self.pos += n;
        Ok(&self.frame[start..self.pos])
    }

    #[inline]
    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, field)?[0])
    }

    #[inline]
    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        let b = self.take(2, field)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    #[inline]
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
    #[inline]
    pub(crate) fn binary(&mut self, field: &'static str) -> Result<Bytes, DecodeError> {
        let len = usize::from(self.u16(field)?);
        self.slice(len, field)
    }

    /// `len` bytes as a slice of the frame.
    #[inline]
    pub(crate) fn slice(&mut self, len: usize, field: &'static str) -> Result<Bytes, DecodeError> {
        if self.remaining() < len {
            return Err(DecodeError::Truncated(field));
        }
        let start = self.pos;
        self.pos += len;
        Ok(self.frame.slice(start..self.pos))
    }

    /// The rest of the frame.
    #[inline]
    pub(crate) fn rest(&mut self) -> Bytes {
        let start = self.pos;
        self.pos = self.end;
        self.frame.slice(start..self.end)
    }

    /// Binary Data as a borrowed slice of the frame: no reference count.
    #[inline]
    pub(crate) fn binary_ref(&mut self, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let len = usize::from(self.u16(field)?);
        self.take(len, field)
    }

    /// A UTF-8 Encoded String, checked for well-formedness and U+0000.
    #[inline]
    pub(crate) fn string(&mut self, field: &'static str) -> Result<MqttString, DecodeError> {
        let len = usize::from(self.u16(field)?);
        let start = self.pos;
        check_wire(self.take(len, field)?, field)?;
        Ok(MqttString::from_checked(self.frame.slice(start..self.pos)))
    }

    /// A Topic Name: a UTF-8 Encoded String without wildcards (empty allowed,
    /// for a Topic Alias). One pass over the bytes when they are plain ASCII
    /// without `+`, `#` or U+0000; the full checks otherwise, which report
    /// what `string` and then the topic check would, in that order.
    #[inline]
    pub(crate) fn topic_name(&mut self, field: &'static str) -> Result<MqttString, DecodeError> {
        let len = usize::from(self.u16(field)?);
        let start = self.pos;
        let bytes = self.take(len, field)?;
        if any_byte(bytes, |w| not_plain_ascii(w) | word::wildcard(w)) {
            check_wire_slow(bytes, field)?;
            check_name_chars(bytes).map_err(DecodeError::InvalidTopicName)?;
        }
        Ok(MqttString::from_checked(self.frame.slice(start..self.pos)))
    }

    /// `frame[start..end]`, shared.
    #[inline]
    pub(crate) fn frame_slice(&self, start: usize, end: usize) -> Bytes {
        self.frame.slice(start..end)
    }

    /// Where the cursor is, as an offset into the frame.
    #[inline]
    pub(crate) fn position(&self) -> usize {
        self.pos
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

/// Byte-wise tests on eight bytes at a time, held in a `u64` (SWAR): each
/// returns a word whose high bit is set in some byte (not necessarily the one
/// that matched) exactly when some byte matches, and 0 otherwise.
pub(crate) mod word {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;

    /// A byte is 0. (The borrow may also mark bytes above a 0 byte, but
    /// never sets a bit when there is no 0 byte.)
    #[inline(always)]
    pub(crate) const fn nul(w: u64) -> u64 {
        w.wrapping_sub(ONES) & !w & HIGH
    }

    /// A byte is `b`.
    #[inline(always)]
    pub(crate) const fn eq(w: u64, b: u8) -> u64 {
        nul(w ^ (ONES * b as u64))
    }

    /// A byte is 0x80 or above (not ASCII).
    #[inline(always)]
    pub(crate) const fn high(w: u64) -> u64 {
        w & HIGH
    }

    /// A byte is a topic wildcard, `+` or `#`.
    #[inline(always)]
    pub(crate) const fn wildcard(w: u64) -> u64 {
        eq(w, b'+') | eq(w, b'#')
    }
}

/// Whether a byte of `bytes` matches `hit`, one of the [`word`] tests
/// (or an `|` of them), applied to eight bytes at a time.
///
/// Branch-free over the whole slice; the last word overlaps the one before
/// rather than falling back to a byte loop, and a slice under eight bytes is
/// tested as its first and last four bytes (or, under four, its first,
/// middle and last byte repeated) in one word. `hit` must test each byte on
/// its own: bytes of an overlap are tested twice.
#[inline(always)]
pub(crate) fn any_byte(bytes: &[u8], hit: impl Fn(u64) -> u64) -> bool {
    let len = bytes.len();
    if len < 8 {
        let w = match len {
            0 => return false,
            1..=3 => {
                let (a, m, z) = (bytes[0], bytes[len / 2], bytes[len - 1]);
                u64::from_le_bytes([a, m, z, a, a, a, a, a])
            }
            _ => u32_at(bytes, 0) | (u32_at(bytes, len - 4) << 32),
        };
        return hit(w) != 0;
    }
    let mut words = bytes.chunks_exact(8);
    let mut acc = 0;
    for w in &mut words {
        acc |= hit(u64_at(w, 0));
    }
    if !words.remainder().is_empty() {
        acc |= hit(u64_at(bytes, len - 8));
    }
    acc != 0
}

// The loads of `any_byte` are functions that must be inlined, not closures:
// in a build of one codegen unit the compiler called a closure per word.

/// The four bytes of `bytes` at `at`, little-endian, in the low half.
#[inline(always)]
fn u32_at(bytes: &[u8], at: usize) -> u64 {
    let b = &bytes[at..at + 4];
    u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// The eight bytes of `bytes` at `at`, little-endian.
#[inline(always)]
fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let c = &bytes[at..at + 8];
    u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])
}

/// Whether `bytes` contains U+0000 (the byte 0 in UTF-8).
#[inline]
pub(crate) fn contains_nul(bytes: &[u8]) -> bool {
    any_byte(bytes, word::nul)
}

/// Lengths of the property blocks of one packet, in the order they are
/// encoded: the measuring pass records them, the writing pass replays them,
/// so each block is measured once per encode.
#[derive(Clone, Copy, Default)]
pub(crate) struct PropertyLens {
    lens: [u32; 2],
    recorded: usize,
    replayed: usize,
}

impl PropertyLens {
    fn record(&mut self, len: u32) {
        if let Some(slot) = self.lens.get_mut(self.recorded) {
            *slot = len;
        }
        self.recorded += 1;
    }

    /// The next recorded length; `None` past the last one kept (more blocks
    /// than slots: the writer measures those itself).
    fn replay(&mut self) -> Option<u32> {
        let i = self.replayed;
        self.replayed += 1;
        if i < self.recorded {
            self.lens.get(i).copied()
        } else {
            None
        }
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

    /// A UTF-8 Encoded String given as its bytes (the bytes of a `str` or of
    /// an [`MqttString`], so UTF-8 is known); checked for length and U+0000
    /// when `CHECKS`. Always inlined, as is [`Self::put_id_str`]: a build of
    /// one codegen unit otherwise called them, 5 ns of a 5.0 PUBLISH encode.
    #[inline(always)]
    fn put_str(&mut self, s: &[u8], field: &'static str) -> Result<(), EncodeError> {
        if Self::CHECKS {
            check_string(s, field)?;
        }
        self.put_prefixed(s);
        Ok(())
    }

    /// A two-byte length and `b`, unchecked: the caller has validated `b`
    /// (and its length) already.
    #[inline]
    fn put_prefixed(&mut self, b: &[u8]) {
        self.put_u16(b.len() as u16);
        self.put_slice(b);
    }

    /// Binary Data; checked for length when `CHECKS`.
    #[inline]
    fn put_binary(&mut self, b: &[u8], field: &'static str) -> Result<(), EncodeError> {
        if Self::CHECKS && b.len() > LENGTH_PREFIXED_MAX {
            return Err(EncodeError::TooLong {
                field,
                len: b.len(),
            });
        }
        self.put_prefixed(b);
        Ok(())
    }

    /// A property identifier and a one-byte value, in one piece.
    #[inline]
    fn put_id_u8(&mut self, id: PropertyId, v: u8) {
        self.put_slice(&[id as u8, v]);
    }

    /// A property identifier and a Two Byte Integer, in one piece.
    #[inline]
    fn put_id_u16(&mut self, id: PropertyId, v: u16) {
        let [a, b] = v.to_be_bytes();
        self.put_slice(&[id as u8, a, b]);
    }

    /// A property identifier and a Four Byte Integer, in one piece.
    #[inline]
    fn put_id_u32(&mut self, id: PropertyId, v: u32) {
        let [a, b, c, d] = v.to_be_bytes();
        self.put_slice(&[id as u8, a, b, c, d]);
    }

    /// A property identifier and the two-byte length of `b` in one piece,
    /// then `b`, unchecked (as [`Self::put_prefixed`]).
    #[inline]
    fn put_id_prefixed(&mut self, id: PropertyId, b: &[u8]) {
        let [hi, lo] = (b.len() as u16).to_be_bytes();
        self.put_slice(&[id as u8, hi, lo]);
        self.put_slice(b);
    }

    /// A property identifier and its UTF-8 Encoded String value, checked as
    /// [`Self::put_str`] checks.
    #[inline(always)]
    fn put_id_str(&mut self, id: PropertyId, s: &[u8]) -> Result<(), EncodeError> {
        if Self::CHECKS {
            check_string(s, id.name())?;
        }
        self.put_id_prefixed(id, s);
        Ok(())
    }

    /// A property identifier and its Binary Data value, checked as
    /// [`Self::put_binary`] checks.
    #[inline]
    fn put_id_binary(&mut self, id: PropertyId, b: &[u8]) -> Result<(), EncodeError> {
        if Self::CHECKS && b.len() > LENGTH_PREFIXED_MAX {
            return Err(EncodeError::TooLong {
                field: id.name(),
                len: b.len(),
            });
        }
        self.put_id_prefixed(id, b);
        Ok(())
    }

    /// A non-empty property block: Property Length, then the properties.
    fn put_properties(
        &mut self,
        p: &PropertyValues,
        context: PropertyContext,
        topic_alias: Option<u16>,
    ) -> Result<(), EncodeError>;
}

/// Checks what a UTF-8 Encoded String must satisfy beyond being a `str`.
#[inline]
pub(crate) fn check_string(s: &[u8], field: &'static str) -> Result<(), EncodeError> {
    if s.len() > LENGTH_PREFIXED_MAX {
        return Err(EncodeError::TooLong {
            field,
            len: s.len(),
        });
    }
    if contains_nul(s) {
        return Err(EncodeError::NullCharacter(field));
    }
    Ok(())
}

/// Measures the property fields of `p`, validating them when `CHECKS`.
fn property_fields_len<const CHECKS: bool>(
    p: &PropertyValues,
    context: PropertyContext,
    topic_alias: Option<u16>,
) -> Result<u32, EncodeError> {
    let mut c = Counter::<CHECKS>::new();
    p.encode_fields(context, topic_alias, &mut c)?;
    if c.len > VARIABLE_BYTE_INTEGER_MAX as usize {
        return Err(EncodeError::PacketTooLarge(c.len));
    }
    Ok(c.len as u32)
}

/// Measures encoded length; `CHECKS` says whether it validates on the way.
pub(crate) struct Counter<const CHECKS: bool> {
    /// Bytes counted so far.
    pub(crate) len: usize,
    /// Lengths of the property blocks met, for the writing pass.
    pub(crate) properties: PropertyLens,
}

impl<const C: bool> Counter<C> {
    pub(crate) fn new() -> Self {
        Counter {
            len: 0,
            properties: PropertyLens::default(),
        }
    }
}

impl<const C: bool> Sink for Counter<C> {
    const CHECKS: bool = C;
    #[inline]
    fn put_u8(&mut self, _: u8) {
        self.len += 1;
    }
    #[inline]
    fn put_u16(&mut self, _: u16) {
        self.len += 2;
    }
    #[inline]
    fn put_slice(&mut self, v: &[u8]) {
        self.len += v.len();
    }
    #[inline]
    fn put_variable_byte_integer(&mut self, v: u32) {
        self.len += variable_byte_integer_len(v);
    }
    fn put_properties(
        &mut self,
        p: &PropertyValues,
        context: PropertyContext,
        topic_alias: Option<u16>,
    ) -> Result<(), EncodeError> {
        // One pass both validates (when `C`) and measures the fields.
        let len = property_fields_len::<C>(p, context, topic_alias)?;
        self.properties.record(len);
        self.put_variable_byte_integer(len);
        self.len += len as usize;
        Ok(())
    }
}

/// Writes into any [`BufMut`], without checks (a [`Counter`] pass ran first).
pub(crate) struct Writer<'a, B: BufMut> {
    buf: &'a mut B,
    /// Property block lengths recorded by the measuring pass.
    properties: PropertyLens,
}

impl<'a, B: BufMut> Writer<'a, B> {
    /// A writer replaying the property lengths `measured` recorded.
    pub(crate) fn new<const C: bool>(buf: &'a mut B, measured: &Counter<C>) -> Self {
        Writer {
            buf,
            properties: measured.properties,
        }
    }
}

impl<B: BufMut> Sink for Writer<'_, B> {
    const CHECKS: bool = false;
    #[inline]
    fn put_u8(&mut self, v: u8) {
        self.buf.put_u8(v);
    }
    #[inline]
    fn put_u16(&mut self, v: u16) {
        self.buf.put_u16(v);
    }
    #[inline]
    fn put_slice(&mut self, v: &[u8]) {
        self.buf.put_slice(v);
    }
    fn put_properties(
        &mut self,
        p: &PropertyValues,
        context: PropertyContext,
        topic_alias: Option<u16>,
    ) -> Result<(), EncodeError> {
        let len = match self.properties.replay() {
            Some(len) => len,
            None => property_fields_len::<false>(p, context, topic_alias)?,
        };
        self.put_variable_byte_integer(len);
        p.encode_fields(context, topic_alias, self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    /// Every length around the eight-byte words, a hit at every position: the
    /// word loop, the overlapping tail and the short-slice cases all see it.
    #[test]
    fn any_byte_finds_a_hit_anywhere() {
        type WordTest = fn(u64) -> u64;
        let tests: [(u8, WordTest); 5] = [
            (0, word::nul),
            (0xC3, word::high),
            (0x80, word::high),
            (b'+', word::wildcard),
            (b'#', word::wildcard),
        ];
        for len in 0..80 {
            let clean = vec![b'a'; len];
            assert!(!contains_nul(&clean));
            for (byte, test) in tests {
                assert!(!any_byte(&clean, test), "len {len}, {byte:#x}");
                for at in 0..len {
                    let mut v = clean.clone();
                    v[at] = byte;
                    assert!(any_byte(&v, test), "len {len}, {byte:#x} at {at}");
                }
            }
            // Bytes next to a hit (0x01 after 0, '*' and ',' around '+') do not hit.
            let near = [0x01, 0x7f, b'*', b',', b'"', b'$'];
            for (at, &b) in (0..len).zip(near.iter().cycle()) {
                let mut v = clean.clone();
                v[at] = b;
                for (_, test) in tests {
                    assert!(!any_byte(&v, test), "len {len}, {b:#x} at {at}");
                }
            }
        }
    }

    /// The one-pass check of a decoded string agrees with `from_utf8` plus a
    /// NUL search, for ASCII, multi-byte UTF-8, broken UTF-8 and NUL anywhere.
    #[test]
    fn wire_string_check_agrees_with_the_slow_one() {
        let slow = |b: &[u8]| -> Result<(), DecodeError> {
            if core::str::from_utf8(b).is_err() {
                return Err(DecodeError::InvalidUtf8("s"));
            }
            if b.contains(&0) {
                return Err(DecodeError::NullCharacter("s"));
            }
            Ok(())
        };
        for len in 0..40 {
            let clean = vec![b'x'; len];
            assert_eq!(check_wire(&clean, "s"), Ok(()));
            for at in 0..len {
                for byte in [0, 0x7f, 0x80, 0xff] {
                    let mut v = clean.clone();
                    v[at] = byte;
                    assert_eq!(check_wire(&v, "s"), slow(&v), "len {len}, {v:?}");
                }
                let mut v = clean.clone();
                v.splice(at..at, "é€😀".bytes());
                assert_eq!(check_wire(&v, "s"), Ok(()));
                v.truncate(at + 3); // "é" and the first byte of "€"
                assert_eq!(check_wire(&v, "s"), Err(DecodeError::InvalidUtf8("s")));
            }
        }
    }
}
