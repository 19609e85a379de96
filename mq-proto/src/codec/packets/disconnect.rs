//! DISCONNECT and AUTH (sections 3.14, 3.15): a reason code and properties,
//! both omitted in the short forms.

use super::{check_reason_code, read_reason_code, Body, DecodeBody};
use crate::codec::error::{DecodeError, EncodeError};
use crate::codec::properties::{Properties, PropertyContext};
use crate::codec::reason::ReasonCode;
use crate::codec::types::{PacketType, ProtocolVersion};
use crate::codec::wire::{Reader, Sink};

fn decode_reason_and_properties(
    r: &mut Reader<'_>,
    packet_type: PacketType,
    context: PropertyContext,
) -> Result<(ReasonCode, Properties), DecodeError> {
    if r.remaining() == 0 {
        return Ok((ReasonCode::Success, Properties::default()));
    }
    let code = read_reason_code(r, packet_type)?;
    if r.remaining() == 0 {
        return Ok((code, Properties::default()));
    }
    Ok((code, Properties::decode(r, context)?))
}

/// A DISCONNECT packet. On 3.1.1 it has no body.
///
/// ```
/// use mq_proto::{Disconnect, ProtocolVersion, ReasonCode};
/// let mut buf = Vec::new();
/// Disconnect::new(ReasonCode::DisconnectWithWillMessage).encode(ProtocolVersion::V5, &mut buf).unwrap();
/// assert_eq!(buf, [0xE0, 0x01, 0x04]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Disconnect {
    /// Disconnect Reason Code (5.0).
    pub reason_code: ReasonCode,
    /// DISCONNECT properties (5.0).
    pub properties: Properties,
}

impl Disconnect {
    /// A DISCONNECT with `reason_code` and no properties.
    pub fn new(reason_code: ReasonCode) -> Self {
        Disconnect {
            reason_code,
            properties: Properties::default(),
        }
    }
}

impl Body for Disconnect {
    const TYPE: PacketType = PacketType::Disconnect;

    fn encode_body<S: Sink>(&self, version: ProtocolVersion, s: &mut S) -> Result<(), EncodeError> {
        if version == ProtocolVersion::V311 {
            return Ok(());
        }
        if S::CHECKS {
            check_reason_code(self.reason_code, Self::TYPE)?;
        }
        let no_properties = self.properties.is_empty();
        if self.reason_code == ReasonCode::NORMAL_DISCONNECTION && no_properties {
            return Ok(());
        }
        s.put_u8(self.reason_code.value());
        if !no_properties {
            self.properties
                .encode(PropertyContext::Disconnect, None, s)?;
        }
        Ok(())
    }
}

impl DecodeBody for Disconnect {
    fn decode_body(
        r: &mut Reader<'_>,
        _: u8,
        version: ProtocolVersion,
    ) -> Result<Self, DecodeError> {
        if version == ProtocolVersion::V311 {
            return Ok(Disconnect::default());
        }
        let (reason_code, properties) =
            decode_reason_and_properties(r, Self::TYPE, PropertyContext::Disconnect)?;
        Ok(Disconnect {
            reason_code,
            properties,
        })
    }
}

/// An AUTH packet (5.0 only): a step of enhanced authentication.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Auth {
    /// Authenticate Reason Code: Success, Continue authentication or Re-authenticate.
    pub reason_code: ReasonCode,
    /// AUTH properties: Authentication Method and Data, Reason String, User Properties.
    pub properties: Properties,
}

impl Body for Auth {
    const TYPE: PacketType = PacketType::Auth;

    fn encode_body<S: Sink>(&self, version: ProtocolVersion, s: &mut S) -> Result<(), EncodeError> {
        if S::CHECKS {
            if version == ProtocolVersion::V311 {
                return Err(EncodeError::NotInV311("AUTH"));
            }
            check_reason_code(self.reason_code, Self::TYPE)?;
        }
        if self.reason_code == ReasonCode::Success && self.properties.is_empty() {
            return Ok(());
        }
        s.put_u8(self.reason_code.value());
        self.properties.encode(PropertyContext::Auth, None, s)
    }
}

impl DecodeBody for Auth {
    fn decode_body(r: &mut Reader<'_>, _: u8, _: ProtocolVersion) -> Result<Self, DecodeError> {
        let (reason_code, properties) =
            decode_reason_and_properties(r, Self::TYPE, PropertyContext::Auth)?;
        Ok(Auth {
            reason_code,
            properties,
        })
    }
}
