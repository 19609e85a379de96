//! CONNECT (section 3.1).

use bytes::Bytes;

use super::{Body, DecodeBody};
use crate::codec::error::{DecodeError, EncodeError};
use crate::codec::properties::{Properties, PropertyContext};
use crate::codec::string::MqttString;
use crate::codec::types::{PacketType, ProtocolVersion, QoS};
use crate::codec::wire::{Reader, Sink};
use crate::topic::check_topic_name;

/// The Will Message a CONNECT registers (3.1.2.5, 3.1.3.2).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Will {
    /// Will Topic.
    pub topic: MqttString,
    /// Will Payload.
    pub payload: Bytes,
    /// Will QoS.
    pub qos: QoS,
    /// Will Retain.
    pub retain: bool,
    /// Will Properties (5.0).
    pub properties: Properties,
}

impl Will {
    /// A Will Message of `payload` to `topic`, QoS 0, not retained.
    ///
    /// ```
    /// use core::time::Duration;
    /// use mq_proto::{QoS, Will};
    /// let will = Will::new("status/sensor-1", "offline")
    ///     .qos(QoS::AtLeastOnce)
    ///     .retain(true)
    ///     .delay(Duration::from_secs(5));
    /// assert_eq!(will.properties.will_delay_interval(), Some(5));
    /// ```
    pub fn new(topic: impl Into<MqttString>, payload: impl Into<Bytes>) -> Self {
        Will {
            topic: topic.into(),
            payload: payload.into(),
            ..Will::default()
        }
    }

    /// Will QoS.
    pub fn qos(mut self, qos: QoS) -> Self {
        self.qos = qos;
        self
    }

    /// Will Retain.
    pub fn retain(mut self, retain: bool) -> Self {
        self.retain = retain;
        self
    }

    /// Will Delay Interval (5.0): how long the broker waits before
    /// publishing it (whole seconds, rounded down, at most `u32::MAX`).
    pub fn delay(mut self, delay: core::time::Duration) -> Self {
        self.properties.will_delay_interval =
            Some(u32::try_from(delay.as_secs()).unwrap_or(u32::MAX));
        self
    }
}

/// A CONNECT Password: binary data whose `Debug` never shows it, so options
/// and packets can be logged.
///
/// ```
/// use mq_proto::Password;
/// let p = Password::from("s3cret");
/// assert_eq!(p.as_bytes(), b"s3cret");
/// assert_eq!(format!("{p:?}"), "Password(<redacted>)");
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Password(Bytes);

impl Password {
    /// The password's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl core::fmt::Debug for Password {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl From<Bytes> for Password {
    fn from(bytes: Bytes) -> Self {
        Password(bytes)
    }
}

impl From<&str> for Password {
    fn from(text: &str) -> Self {
        Password(Bytes::copy_from_slice(text.as_bytes()))
    }
}

impl From<&[u8]> for Password {
    fn from(bytes: &[u8]) -> Self {
        Password(Bytes::copy_from_slice(bytes))
    }
}

impl From<alloc::string::String> for Password {
    fn from(text: alloc::string::String) -> Self {
        Password(Bytes::from(text))
    }
}

impl From<alloc::vec::Vec<u8>> for Password {
    fn from(bytes: alloc::vec::Vec<u8>) -> Self {
        Password(Bytes::from(bytes))
    }
}

/// A CONNECT packet.
///
/// ```
/// use mq_proto::{Connect, ProtocolVersion};
/// let mut c = Connect::new(ProtocolVersion::V311, "client-1");
/// c.keep_alive = 30;
/// let mut buf = Vec::new();
/// c.encode(ProtocolVersion::V311, &mut buf).unwrap();
/// assert_eq!(&buf[..10], b"\x10\x14\x00\x04MQTT\x04\x02");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connect {
    /// Protocol level; the packet is encoded at this level whatever version the call names.
    pub protocol_version: ProtocolVersion,
    /// Clean Start (5.0) / Clean Session (3.1.1).
    pub clean_start: bool,
    /// Keep Alive in seconds; 0 turns it off.
    pub keep_alive: u16,
    /// Client Identifier; may be empty.
    pub client_id: MqttString,
    /// Will Message.
    pub will: Option<Will>,
    /// User Name.
    pub username: Option<MqttString>,
    /// Password (binary data); redacted in `Debug`.
    pub password: Option<Password>,
    /// CONNECT properties (5.0).
    pub properties: Properties,
}

impl Connect {
    /// A CONNECT with Clean Start set, no keep alive, and nothing else.
    pub fn new(protocol_version: ProtocolVersion, client_id: impl Into<MqttString>) -> Self {
        Connect {
            protocol_version,
            clean_start: true,
            keep_alive: 0,
            client_id: client_id.into(),
            will: None,
            username: None,
            password: None,
            properties: Properties::default(),
        }
    }
}

const USERNAME: u8 = 0x80;
const PASSWORD: u8 = 0x40;
const WILL_RETAIN: u8 = 0x20;
const WILL_FLAG: u8 = 0x04;
const CLEAN_START: u8 = 0x02;
const RESERVED: u8 = 0x01;

impl Body for Connect {
    const TYPE: PacketType = PacketType::Connect;

    #[inline]
    fn encode_body<S: Sink>(&self, _: ProtocolVersion, s: &mut S) -> Result<(), EncodeError> {
        let v5 = self.protocol_version == ProtocolVersion::V5;
        if S::CHECKS && !v5 && self.password.is_some() && self.username.is_none() {
            return Err(EncodeError::NotInV311("a password without a user name"));
        }
        let mut flags = 0;
        if self.clean_start {
            flags |= CLEAN_START;
        }
        if let Some(will) = &self.will {
            flags |= WILL_FLAG | ((will.qos as u8) << 3);
            if will.retain {
                flags |= WILL_RETAIN;
            }
        }
        if self.username.is_some() {
            flags |= USERNAME;
        }
        if self.password.is_some() {
            flags |= PASSWORD;
        }
        // Protocol Name, Protocol Level, Connect Flags and Keep Alive in one piece.
        let [alive_hi, alive_lo] = self.keep_alive.to_be_bytes();
        let level = self.protocol_version.level();
        s.put_slice(&[
            0, 4, b'M', b'Q', b'T', b'T', level, flags, alive_hi, alive_lo,
        ]);
        if v5 {
            self.properties.encode(PropertyContext::Connect, None, s)?;
        }
        s.put_str(self.client_id.bytes(), "client identifier")?;
        if let Some(will) = &self.will {
            if v5 {
                will.properties.encode(PropertyContext::Will, None, s)?;
            }
            if S::CHECKS {
                // Length and U+0000 too: all `put_str` would check.
                check_topic_name(will.topic.bytes()).map_err(EncodeError::InvalidTopicName)?;
            }
            s.put_prefixed(will.topic.bytes());
            s.put_binary(&will.payload, "will payload")?;
        }
        if let Some(username) = &self.username {
            s.put_str(username.bytes(), "user name")?;
        }
        if let Some(password) = &self.password {
            s.put_binary(password.as_bytes(), "password")?;
        }
        Ok(())
    }
}

impl DecodeBody for Connect {
    #[inline(always)]
    fn decode_body(r: &mut Reader<'_>, _: u8, _: ProtocolVersion) -> Result<Self, DecodeError> {
        let name = r.binary_ref("protocol name")?;
        if name != b"MQTT" {
            return Err(DecodeError::InvalidProtocolName(Bytes::copy_from_slice(
                name,
            )));
        }
        let level = r.u8("protocol level")?;
        let protocol_version = ProtocolVersion::from_level(level)
            .ok_or(DecodeError::UnsupportedProtocolLevel(level))?;
        let v5 = protocol_version == ProtocolVersion::V5;
        let flags = r.u8("connect flags")?;
        let will_qos_bits = (flags >> 3) & 0x03;
        let will_flag = flags & WILL_FLAG != 0;
        let bad_flags = flags & RESERVED != 0
            || will_qos_bits == 3
            || (!will_flag && (will_qos_bits != 0 || flags & WILL_RETAIN != 0))
            || (!v5 && flags & PASSWORD != 0 && flags & USERNAME == 0);
        if bad_flags {
            return Err(DecodeError::InvalidConnectFlags(flags));
        }
        let keep_alive = r.u16("keep alive")?;
        let properties = if v5 {
            Properties::decode(r, PropertyContext::Connect)?
        } else {
            Properties::default()
        };
        let client_id = r.string("client identifier")?;
        let will = if will_flag {
            let properties = if v5 {
                Properties::decode(r, PropertyContext::Will)?
            } else {
                Properties::default()
            };
            let topic = r.string("will topic")?;
            check_topic_name(topic.bytes()).map_err(DecodeError::InvalidTopicName)?;
            Some(Will {
                topic,
                payload: r.binary("will payload")?,
                qos: QoS::from_bits(will_qos_bits).unwrap_or_default(),
                retain: flags & WILL_RETAIN != 0,
                properties,
            })
        } else {
            None
        };
        let username = if flags & USERNAME != 0 {
            Some(r.string("user name")?)
        } else {
            None
        };
        let password = if flags & PASSWORD != 0 {
            Some(Password(r.binary("password")?))
        } else {
            None
        };
        Ok(Connect {
            protocol_version,
            clean_start: flags & CLEAN_START != 0,
            keep_alive,
            client_id,
            will,
            username,
            password,
            properties,
        })
    }
}
