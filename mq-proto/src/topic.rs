//! Topic names, topic filters and shared subscriptions (section 4.7, 4.8.2):
//! validation and matching.

use crate::codec::{any_byte, word, LENGTH_PREFIXED_MAX};

/// Why a topic name or topic filter is not valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TopicError {
    /// Topic names and filters are at least one character long (MQTT-4.7.3-1).
    #[error("it is empty")]
    Empty,
    /// Longer than a UTF-8 string can be.
    #[error("it is {0} bytes long; the limit is 65535")]
    TooLong(usize),
    /// U+0000 (MQTT-4.7.3-2).
    #[error("it contains the null character U+0000")]
    NullCharacter,
    /// A wildcard in a topic name (MQTT-4.7.0-1) at this byte offset.
    #[error("wildcard at byte {0} in a topic name")]
    WildcardInTopicName(usize),
    /// `#` not alone in the last level, or `+` not alone in its level (MQTT-4.7.1-1, MQTT-4.7.1-2), at this byte offset.
    #[error("misplaced wildcard at byte {0}")]
    MisplacedWildcard(usize),
    /// A `$share/` filter without a valid share name (MQTT-4.8.2-1) or without a filter after it (MQTT-4.8.2-2).
    #[error("malformed shared subscription")]
    InvalidSharedSubscription,
}

fn check_common(s: &[u8]) -> Result<(), TopicError> {
    if s.is_empty() {
        return Err(TopicError::Empty);
    }
    if s.len() > LENGTH_PREFIXED_MAX {
        return Err(TopicError::TooLong(s.len()));
    }
    Ok(())
}

/// Whether a byte of the word `w` needs a closer look in a topic name or
/// filter: a wildcard or NUL.
#[inline(always)]
fn is_special(w: u64) -> u64 {
    word::wildcard(w) | word::nul(w)
}

/// Checks a Topic Name (as in PUBLISH): non-empty, no wildcards, no U+0000.
///
/// ```
/// use mq_proto::topic::{validate_topic_name, TopicError};
/// assert!(validate_topic_name("a/b").is_ok());
/// assert_eq!(validate_topic_name("a/+"), Err(TopicError::WildcardInTopicName(2)));
/// ```
pub fn validate_topic_name(name: &str) -> Result<(), TopicError> {
    check_topic_name(name.as_bytes())
}

/// [`validate_topic_name`] on the bytes of a string known to be UTF-8.
/// Always inlined: PUBLISH and CONNECT encoding call it once per packet, and
/// in a build of one codegen unit the compiler otherwise kept it a call.
#[inline(always)]
pub(crate) fn check_topic_name(name: &[u8]) -> Result<(), TopicError> {
    check_common(name)?;
    check_name_chars(name)
}

/// The character checks of a topic name, shared by the decoder (which allows
/// the empty name a Topic Alias stands for).
#[inline]
pub(crate) fn check_name_chars(bytes: &[u8]) -> Result<(), TopicError> {
    if !any_byte(bytes, is_special) {
        return Ok(());
    }
    name_char_error(bytes)
}

/// The first wildcard or NUL of a topic name, as an error.
#[inline(never)]
fn name_char_error(bytes: &[u8]) -> Result<(), TopicError> {
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'+' | b'#' => return Err(TopicError::WildcardInTopicName(i)),
            0 => return Err(TopicError::NullCharacter),
            _ => {}
        }
    }
    Ok(())
}

/// Checks a Topic Filter (as in SUBSCRIBE), including `$share/{ShareName}/{filter}`.
///
/// ```
/// use mq_proto::topic::validate_topic_filter;
/// assert!(validate_topic_filter("sport/+/player1/#").is_ok());
/// assert!(validate_topic_filter("$share/group/a/#").is_ok());
/// assert!(validate_topic_filter("sport+").is_err());
/// assert!(validate_topic_filter("$share/group").is_err());
/// ```
pub fn validate_topic_filter(filter: &str) -> Result<(), TopicError> {
    check_topic_filter(filter.as_bytes())
}

/// [`validate_topic_filter`] on the bytes of a string known to be UTF-8.
pub(crate) fn check_topic_filter(filter: &[u8]) -> Result<(), TopicError> {
    check_common(filter)?;
    let plain = match parse_shared_bytes(filter)? {
        // The share name is not scanned below: refuse U+0000 in it here.
        Some((group, _)) if group.contains(&0) => return Err(TopicError::NullCharacter),
        Some((_, inner)) => inner,
        None => filter,
    };
    if !any_byte(plain, is_special) {
        return Ok(());
    }
    let offset = filter.len() - plain.len();
    let bytes = plain;
    for (i, b) in bytes.iter().enumerate() {
        let at_level_start = i == 0 || bytes[i - 1] == b'/';
        let at_level_end = i + 1 == bytes.len() || bytes[i + 1] == b'/';
        match b {
            b'#' if !(at_level_start && i + 1 == bytes.len()) => {
                return Err(TopicError::MisplacedWildcard(offset + i))
            }
            b'+' if !(at_level_start && at_level_end) => {
                return Err(TopicError::MisplacedWildcard(offset + i))
            }
            0 => return Err(TopicError::NullCharacter),
            _ => {}
        }
    }
    Ok(())
}

/// A share name and the filter after it, as bytes.
type SharedParts<'a> = Option<(&'a [u8], &'a [u8])>;

/// [`parse_shared`] on bytes: the share name and the filter after it.
pub(crate) fn parse_shared_bytes(filter: &[u8]) -> Result<SharedParts<'_>, TopicError> {
    let Some(rest) = filter.strip_prefix(b"$share/") else {
        return Ok(None);
    };
    let Some(slash) = rest.iter().position(|&b| b == b'/') else {
        return Err(TopicError::InvalidSharedSubscription);
    };
    let (group, inner) = (&rest[..slash], &rest[slash + 1..]);
    if group.is_empty() || group.iter().any(|&b| b == b'+' || b == b'#') || inner.is_empty() {
        return Err(TopicError::InvalidSharedSubscription);
    }
    Ok(Some((group, inner)))
}

/// Splits `$share/{ShareName}/{filter}` into share name and filter.
///
/// `Ok(None)` for a filter that is not shared; an error for a `$share/`
/// filter without a share name or without a filter after it.
///
/// ```
/// use mq_proto::topic::parse_shared;
/// assert_eq!(parse_shared("$share/g1/a/b"), Ok(Some(("g1", "a/b"))));
/// assert_eq!(parse_shared("a/b"), Ok(None));
/// assert!(parse_shared("$share//a").is_err());
/// ```
pub fn parse_shared(filter: &str) -> Result<Option<(&str, &str)>, TopicError> {
    let Some(rest) = filter.strip_prefix("$share/") else {
        return Ok(None);
    };
    let Some((group, inner)) = rest.split_once('/') else {
        return Err(TopicError::InvalidSharedSubscription);
    };
    if group.is_empty() || group.contains(['+', '#']) || inner.is_empty() {
        return Err(TopicError::InvalidSharedSubscription);
    }
    Ok(Some((group, inner)))
}

/// Whether a topic name matches a topic filter (4.7.1, 4.7.2).
///
/// A `$share/{ShareName}/` prefix on the filter is ignored; wildcards at the
/// first level do not match topics starting with `$` (MQTT-4.7.2-1).
///
/// ```
/// use mq_proto::topic::matches;
/// assert!(matches("sport/tennis/+", "sport/tennis/player1"));
/// assert!(matches("sport/#", "sport"));
/// assert!(!matches("#", "$SYS/uptime"));
/// assert!(matches("$share/g/a/+", "a/b"));
/// ```
pub fn matches(filter: &str, topic: &str) -> bool {
    let filter = match parse_shared(filter) {
        Ok(Some((_, inner))) => inner,
        Ok(None) => filter,
        Err(_) => return false,
    };
    if topic.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#')) {
        return false;
    }
    let mut f = filter.split('/');
    let mut t = topic.split('/');
    loop {
        match (f.next(), t.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(_)) => {}
            (Some(fl), Some(tl)) if fl == tl => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    /// The byte-at-a-time checks the block scans stand in for.
    fn slow_name(bytes: &[u8]) -> Result<(), TopicError> {
        check_common(bytes)?;
        name_char_error(bytes)
    }

    #[test]
    fn name_and_filter_checks_find_every_position() {
        for len in 1..70 {
            let clean = vec![b'a'; len];
            assert_eq!(check_topic_name(&clean), Ok(()));
            assert_eq!(check_topic_filter(&clean), Ok(()));
            for at in 0..len {
                for special in [b'+', b'#', 0] {
                    let mut v = clean.clone();
                    v[at] = special;
                    let expected = if special == 0 {
                        TopicError::NullCharacter
                    } else {
                        TopicError::WildcardInTopicName(at)
                    };
                    assert_eq!(check_topic_name(&v), Err(expected), "{v:?}");
                    assert_eq!(check_topic_name(&v), slow_name(&v));
                    // In a filter, only a lone one-character level is allowed.
                    let lone = len == 1 && special != 0;
                    assert_eq!(check_topic_filter(&v).is_ok(), lone, "{v:?}");
                }
            }
        }
    }

    #[test]
    fn shared_parsing_on_bytes_matches_str() {
        let cases = [
            "$share/g/a/b",
            "$share/g",
            "$share//a",
            "$share/g+/a",
            "$share/g/",
            "$share/",
            "a/b",
            "$sharex/g/a",
        ];
        for f in cases {
            let on_str = parse_shared(f).map(|o| o.map(|(g, i)| (g.as_bytes(), i.as_bytes())));
            assert_eq!(parse_shared_bytes(f.as_bytes()), on_str, "{f}");
            assert_eq!(validate_topic_filter(f), check_topic_filter(f.as_bytes()));
        }
    }
}
