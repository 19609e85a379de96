//! [`MqttString`]: a UTF-8 Encoded String held as [`Bytes`], so decoded topics
//! and property strings share the read buffer instead of being copied.

use alloc::string::String;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::ops::Deref;

use bytes::Bytes;

use super::error::DecodeError;
use super::wire::{any_byte, word};

/// Whether a byte of the word `w` is 0 or 0x80 and above (see
/// [`word`]): a string with none of these is valid UTF-8 without U+0000.
#[inline(always)]
pub(crate) const fn not_plain_ascii(w: u64) -> u64 {
    word::nul(w) | word::high(w)
}

/// The checks of a UTF-8 Encoded String read from the wire: well-formed
/// UTF-8 without U+0000. One branch-free pass settles the common all-ASCII
/// case; anything else takes the full check.
#[inline]
pub(crate) fn check_wire(bytes: &[u8], field: &'static str) -> Result<(), DecodeError> {
    if !any_byte(bytes, not_plain_ascii) {
        return Ok(());
    }
    check_wire_slow(bytes, field)
}

/// [`check_wire`] for strings that are not all ASCII, or hold U+0000.
#[inline(never)]
pub(crate) fn check_wire_slow(bytes: &[u8], field: &'static str) -> Result<(), DecodeError> {
    if core::str::from_utf8(bytes).is_err() {
        return Err(DecodeError::InvalidUtf8(field));
    }
    if bytes.contains(&0) {
        return Err(DecodeError::NullCharacter(field));
    }
    Ok(())
}

/// A UTF-8 Encoded String (specification 1.5.4) backed by [`Bytes`].
///
/// Decoded strings are zero-copy slices of the packet and have been checked
/// to be well-formed UTF-8 without U+0000. Strings built by the user are
/// checked for U+0000 and length when a packet holding them is encoded.
///
/// ```
/// use mq_proto::MqttString;
/// let topic = MqttString::from("sensors/temp");
/// assert_eq!(topic, "sensors/temp");
/// assert_eq!(topic.len(), 12);
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct MqttString(Bytes);

impl MqttString {
    /// The empty string.
    pub const fn new() -> Self {
        MqttString(Bytes::new())
    }

    /// Wraps a static string without copying.
    pub const fn from_static(s: &'static str) -> Self {
        MqttString(Bytes::from_static(s.as_bytes()))
    }

    /// Checks `bytes` as a UTF-8 Encoded String read from the wire.
    #[inline]
    pub(crate) fn from_wire(bytes: Bytes, field: &'static str) -> Result<Self, DecodeError> {
        check_wire(&bytes, field)?;
        Ok(MqttString(bytes))
    }

    /// Wraps bytes the caller has checked as [`check_wire`] does.
    #[inline]
    pub(crate) fn from_checked(bytes: Bytes) -> Self {
        MqttString(bytes)
    }

    /// The bytes, for the codec: no UTF-8 check (unlike [`Self::as_str`]),
    /// as every constructor guarantees UTF-8.
    #[inline]
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// Takes `bytes` if they are well-formed UTF-8 without U+0000.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use mq_proto::MqttString;
    /// assert!(MqttString::try_from_bytes(Bytes::from_static(b"ok")).is_ok());
    /// assert!(MqttString::try_from_bytes(Bytes::from_static(b"\xff")).is_err());
    /// ```
    pub fn try_from_bytes(bytes: Bytes) -> Result<Self, DecodeError> {
        Self::from_wire(bytes, "string")
    }

    /// The string.
    pub fn as_str(&self) -> &str {
        // Every constructor guarantees UTF-8; the fallback is never taken.
        core::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The underlying bytes (shared, not copied).
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    /// Unwraps the underlying bytes.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }
}

impl Deref for MqttString {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for MqttString {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

/// Hash, order and equality agree with `str`'s, so maps keyed by `MqttString` can be queried with `&str`.
impl core::borrow::Borrow<str> for MqttString {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl Hash for MqttString {
    /// Hashes exactly as the `str` does (`Hasher::write_str`: the bytes, then
    /// `0xFF`), without checking the UTF-8 again.
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write(&self.0);
        state.write_u8(0xff);
    }
}

impl From<&str> for MqttString {
    fn from(s: &str) -> Self {
        MqttString(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl From<String> for MqttString {
    fn from(s: String) -> Self {
        MqttString(Bytes::from(s.into_bytes()))
    }
}

impl From<&String> for MqttString {
    fn from(s: &String) -> Self {
        MqttString::from(s.as_str())
    }
}

impl PartialEq<str> for MqttString {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for MqttString {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl fmt::Debug for MqttString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for MqttString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use core::hash::BuildHasher;
    use std::collections::hash_map::RandomState;
    use std::collections::HashMap;

    /// `Borrow<str>` requires equal hashes: the bytes-level `Hash` must match `str`'s.
    #[test]
    fn hash_matches_str() {
        let state = RandomState::new();
        for s in [
            "",
            "a",
            "sensors/room-1/temperature",
            "é€😀",
            "a/b/c/d/e/f/g/h/i/j/k",
        ] {
            let m = MqttString::from(s);
            assert_eq!(state.hash_one(&m), state.hash_one(s), "{s:?}");
        }
        let mut map = HashMap::new();
        map.insert(MqttString::from("a/b"), 1);
        assert_eq!(map.get("a/b"), Some(&1));
    }
}
